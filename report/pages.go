package report

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"time"

	"piuparts-server/internal/piuparts"
	"piuparts-server/master/state"
)

// logDirs are the log lists of a section, in the reference's order.
var logDirs = []piuparts.Kind{piuparts.KindPass, piuparts.KindFail, piuparts.KindBugged,
	piuparts.KindAffected, piuparts.KindReserved, piuparts.KindUntestable}

// logListTitles and logListPrefaces are title_by_dir and desc_by_dir.
var logListTitles = map[piuparts.Kind]string{
	piuparts.KindPass:       "PASSED piuparts logs",
	piuparts.KindFail:       "Failed UNREPORTED piuparts logs",
	piuparts.KindBugged:     "Failed REPORTED piuparts logs",
	piuparts.KindAffected:   "Failed AFFECTED piuparts logs",
	piuparts.KindReserved:   "RESERVED packages",
	piuparts.KindUntestable: "UNTESTABLE packages",
}

var logListPrefaces = map[piuparts.Kind]string{
	piuparts.KindPass:       "Log files for packages that have PASSED testing.",
	piuparts.KindFail:       "Log files for packages that have FAILED testing. Bugs have not yet been reported.",
	piuparts.KindBugged:     "Log files for packages that have FAILED testing. Bugs have been reported, but not yet fixed.",
	piuparts.KindAffected:   "Log files for packages that have dependencies FAILED testing. Bugs have been reported, but not yet fixed.",
	piuparts.KindReserved:   "Packages that are RESERVED for testing on a node in a distributed piuparts network.",
	piuparts.KindUntestable: "Log files for packages that have are UNTESTABLE with piuparts at the current time.",
}

// sectionView is what the pages of one section share, computed once.
type sectionView struct {
	r   *renderer
	s   *Section
	pkg map[string]*Package
	// byState are the packages of each active state, in the order of
	// its state page; page is the page each package is listed on.
	// A package's page and link (its item on its state page) are
	// Package.page and Package.link.
	byState map[string][]*Package
	// byEmail are the sources of each address; emails are the
	// addresses, sorted.
	byEmail map[string][]*Source
	emails  []string
	subs    map[string][]Submission // by package, newest first
	// blocks are the rendered source blocks, which the source page and
	// the maintainer pages show; blockKeys the keys of every source's
	// block (see sumKey), of which the pages' input keys are made.
	blocks    map[string][]byte
	blockKeys map[string]InputKey
	// slab holds the kept blocks; scratch is where one is written
	// before it is kept.
	slab    slab
	scratch hbuf
	// deps are the items of dependencies without alternatives that the
	// state pages show (see plainDep), in depSlab, written in depScratch:
	// the state pages render on a goroutine of their own, so they share
	// none of the blocks' buffers.
	deps       map[string][]byte
	depSlab    slab
	depScratch hbuf
}

func (r *renderer) view(s *Section) *sectionView {
	v := &sectionView{r: r, s: s, pkg: s.byName, byState: make(map[string][]*Package),
		subs: make(map[string][]Submission), blocks: make(map[string][]byte, len(s.Sources)),
		blockKeys: make(map[string]InputKey, len(s.Sources))}
	if len(v.pkg) != len(s.Packages) {
		// A section built without NewSection.
		v.pkg = make(map[string]*Package, len(s.Packages))
		for _, p := range s.Packages {
			v.pkg[p.Name] = p
		}
	}
	for _, p := range s.Packages {
		v.byState[p.State] = append(v.byState[p.State], p)
	}
	for st, list := range v.byState {
		if errorStates[st] {
			slices.SortStableFunc(list, func(a, b *Package) int {
				if c := cmp.Compare(b.Block, a.Block); c != 0 {
					return c
				}
				return strings.Compare(a.Name, b.Name)
			})
		} else {
			slices.SortStableFunc(list, func(a, b *Package) int { return strings.Compare(a.Name, b.Name) })
		}
		for i, p := range list {
			p.page = r.pageOf(i)
			// Links go to the state's first page, as the reference's do:
			// its script takes the reader to the page that lists the
			// package. Linking the page itself would change every page
			// that links a package whenever a list grows by one.
			p.link = "state-" + st + ".html#" + PackageID(p.Name)
		}
	}
	v.byEmail, v.emails = v.maintainers()
	for i := len(s.Submissions) - 1; i >= 0; i-- {
		sub := s.Submissions[i]
		v.subs[sub.Package] = append(v.subs[sub.Package], sub)
	}
	return v
}

// stateLink returns the URL of a package's item on its state page, and
// "" for a name that is not a package of the section
// (link_to_state_page).
func (v *sectionView) stateLink(name string) string {
	if p, ok := v.pkg[name]; ok {
		return p.link
	}
	return ""
}

// absStateLink is stateLink from outside the section directory.
func (v *sectionView) absStateLink(name string) string {
	l := v.stateLink(name)
	if l == "" {
		return ""
	}
	return v.r.sectionURL(v.s.Name) + l
}

// stateOf returns get_package_state(name, resolve_virtual, recurse=True).
func (v *sectionView) stateOf(name string, resolveVirtual bool) string {
	if v.s.Result != nil {
		return v.s.Result.StateOf(name, resolveVirtual, true)
	}
	if p, ok := v.pkg[name]; ok {
		return p.StateRecursive
	}
	return piuparts.DoesNotExist
}

func (v *sectionView) providers(name string) []string {
	if v.s.Result == nil {
		return nil
	}
	return v.s.Result.Providers(name)
}

func (r *renderer) section(s *Section, emit Emit) error {
	v := r.view(s)
	// The source and maintainer pages (which repeat the source pages'
	// blocks) are most of the work; the other pages only read the view:
	// the two halves run side by side.
	other := make(chan error, 1)
	go func() {
		for _, step := range []func(Emit) error{v.statePages, v.logLists, v.problemPages, v.index, v.chart, v.searchIndex} {
			if err := step(emit); err != nil {
				other <- err
				return
			}
		}
		other <- nil
	}()
	err := v.sourcePages(emit)
	if err == nil {
		err = v.maintainerPages(emit)
	}
	if oerr := <-other; err == nil {
		err = oerr
	}
	return err
}

// --- section index ---

type indexPage struct {
	H           head
	Description string
	Rows        []indexRow
	Total       int
	URLs        []string
	ChartAlt    string
	ChartHeight int
}

type indexRow struct {
	State    string
	Count    int
	Share    string
	Bad      bool
	Problems []problemLink
	Dirs     []string
}

type problemLink struct {
	Page         string
	Text         string // the reference's link text under the state, else the HEADER
	Stats        string // "N bugged, N affected" or "N passed"
	NeedsBugging string // "N failed", shown emphasized
}

func (v *sectionView) description() string {
	conf := v.s.Conf
	if conf == nil {
		return ""
	}
	var d string
	if len(conf.Distros()) > 1 {
		d = "Debian " + conf.GetArea() + ": package installation in " + conf.StartDistro()
		for _, x := range conf.Distros()[1:] {
			d += ", dist-upgrade to " + x
		}
		d += ", removal, and purge test."
	} else {
		d = "Debian " + conf.GetDistro() + " / " + conf.GetArea() + ": package installation, removal, and purge test."
	}
	switch desc := conf.Description; {
	case strings.HasPrefix(desc, "+"):
		return d + " " + desc[1:]
	case strings.HasSuffix(desc, "+"):
		return desc[:len(desc)-1] + " " + d
	case desc != "":
		return desc
	}
	return d
}

func (v *sectionView) problemLinks(issue bool) []problemLink {
	var out []problemLink
	for _, p := range v.s.Problems {
		if p.Issue != issue || len(p.Logs) == 0 {
			continue
		}
		l := problemLink{Page: p.Page, Text: cmp.Or(p.Title, p.Header)}
		var stats []string
		n := map[piuparts.Kind]int{}
		for _, lg := range p.Logs {
			n[lg.Kind]++
		}
		if issue {
			if n[piuparts.KindPass] > 0 {
				stats = append(stats, strconv.Itoa(n[piuparts.KindPass])+" passed")
			}
		} else {
			if n[piuparts.KindBugged] > 0 {
				stats = append(stats, strconv.Itoa(n[piuparts.KindBugged])+" bugged")
			}
			if n[piuparts.KindAffected] > 0 {
				stats = append(stats, strconv.Itoa(n[piuparts.KindAffected])+" affected")
			}
			if n[piuparts.KindFail] > 0 {
				l.NeedsBugging = strconv.Itoa(n[piuparts.KindFail]) + " failed"
			}
		}
		l.Stats = strings.Join(stats, ", ")
		out = append(out, l)
	}
	return out
}

func (v *sectionView) index(emit Emit) error {
	p := indexPage{H: v.r.dated(v.s.Name, v.s.Name+" statistics"), Description: v.description(),
		Total: len(v.s.Packages), ChartAlt: "Binary packages per state in " + v.s.Name + " over time",
		ChartHeight: chartSize(v.s.History)}
	for _, st := range state.ActiveStates() {
		row := indexRow{State: st, Count: len(v.byState[st]), Share: percent(len(v.byState[st]), p.Total), Bad: badStates[st]}
		switch st {
		case piuparts.SuccessfullyTested:
			row.Problems = v.problemLinks(true)
		case piuparts.FailedTesting:
			row.Problems = v.problemLinks(false)
		}
		for _, d := range logDirs {
			if d != piuparts.KindReserved && stateOfDir[string(d)] == st {
				row.Dirs = append(row.Dirs, string(d))
			}
		}
		if row.Count > 0 || len(row.Problems) > 0 {
			p.Rows = append(p.Rows, row)
		}
	}
	if c := v.r.site.Config; c != nil && v.s.Conf != nil {
		p.URLs = c.Distros.PackagesURLs(v.s.Conf.GetDistro(), v.s.Conf.GetArea(), v.s.Conf.Arch, v.s.Conf.Mirror)
	}
	return v.r.exec(emit, v.s.Name+"/index.html", "section.html", p)
}

// --- state pages ---

type statePage struct {
	H         head
	State     string
	Aside     bool // error state: (rrdeps, blocked)
	Count     int
	PageN     int
	PageCount int
}

func (v *sectionView) statePages(emit Emit) error {
	var h hbuf // one buffer for every page: emit copies what it keeps
	for _, st := range state.ActiveStates() {
		list := v.byState[st]
		base := "state-" + st
		n := max(1, (len(list)+v.r.pageSize-1)/v.r.pageSize)
		for pg := 1; pg <= n; pg++ {
			p := statePage{H: v.r.head(v.s.Name, "Packages in state "+st+" in "+v.s.Name),
				State: st, Aside: errorStates[st], Count: len(list), PageN: pg, PageCount: n}
			p.H.Filter = len(list) > 0
			p.H.Pages = v.r.pages(base, len(list), pg)
			if pg == 1 && n > 1 {
				p.H.Redirect = st
			}
			if pg > 1 {
				p.H.Prev = pageName(base, pg-1)
				p.H.Title += " (page " + strconv.Itoa(pg) + " of " + strconv.Itoa(n) + ")"
			}
			if pg < n {
				p.H.Next = pageName(base, pg+1)
			}
			lo, hi := (pg-1)*v.r.pageSize, min(pg*v.r.pageSize, len(list))
			h.b = slices.Grow(h.b[:0], 8192+600*(hi-lo))
			path := v.s.Name + "/" + pageName(base, pg)
			if err := v.r.t.ExecuteTemplate(&h, "state-top", p); err != nil {
				return fmt.Errorf("render %s: %w", path, err)
			}
			for _, pk := range list[lo:hi] {
				v.stateItem(&h, pk, errorStates[st])
			}
			if err := v.r.t.ExecuteTemplate(&h, "state-bottom", p); err != nil {
				return fmt.Errorf("render %s: %w", path, err)
			}
			if err := emit(path, h.b); err != nil {
				return fmt.Errorf("emit %s: %w", path, err)
			}
		}
	}
	return nil
}

// --- log lists ---

type logListPage struct {
	H         head
	Dir       string
	Heading   string
	Preface   string
	Alert     bool
	Count     int // packages
	PageN     int
	PageCount int
}

type logRow struct {
	ID, Package string
	Logs        []logLink
}

type logLink struct {
	URL, Version string
	Cruft        bool
}

func (v *sectionView) logLists(emit Emit) error {
	var h hbuf // one buffer for every page: emit copies what it keeps
	for _, d := range logDirs {
		// One row per package, as write_log_list_page groups them.
		var rows []logRow
		for _, l := range v.s.Logs[d] {
			cruft := false
			if p, ok := v.pkg[l.Package]; ok {
				cruft = p.Cruft
			}
			link := logLink{URL: l.Path(), Version: l.Version, Cruft: cruft}
			if n := len(rows); n > 0 && rows[n-1].Package == l.Package {
				rows[n-1].Logs = append(rows[n-1].Logs, link)
				continue
			}
			rows = append(rows, logRow{ID: PackageID(l.Package), Package: l.Package, Logs: []logLink{link}})
		}
		base := string(d)
		n := max(1, (len(rows)+v.r.pageSize-1)/v.r.pageSize)
		for pg := 1; pg <= n; pg++ {
			p := logListPage{H: v.r.head(v.s.Name, logListTitles[d]+" in "+v.s.Name), Dir: base,
				Heading: logListTitles[d], Preface: logListPrefaces[d], Alert: strings.Contains(logListPrefaces[d], "FAIL"),
				Count: len(rows), PageN: pg, PageCount: n}
			p.H.Filter = len(rows) > 0
			p.H.Pages = v.r.pages(base, len(rows), pg)
			if pg > 1 {
				p.H.Prev = pageName(base, pg-1)
				p.H.Title += " (page " + strconv.Itoa(pg) + " of " + strconv.Itoa(n) + ")"
			}
			if pg < n {
				p.H.Next = pageName(base, pg+1)
			}
			lo, hi := (pg-1)*v.r.pageSize, min(pg*v.r.pageSize, len(rows))
			h.b = slices.Grow(h.b[:0], 8192+160*(hi-lo))
			path := v.s.Name + "/" + pageName(base, pg)
			if err := v.r.t.ExecuteTemplate(&h, "loglist-top", p); err != nil {
				return fmt.Errorf("render %s: %w", path, err)
			}
			for _, row := range rows[lo:hi] {
				h.logRow(row)
			}
			if err := v.r.t.ExecuteTemplate(&h, "loglist-bottom", p); err != nil {
				return fmt.Errorf("render %s: %w", path, err)
			}
			if err := emit(path, h.b); err != nil {
				return fmt.Errorf("emit %s: %w", path, err)
			}
		}
	}
	return nil
}

// --- source pages ---

type sourceBlock struct {
	ID, Name, Section string
	Version           string
	State             string // pass, fail, unknown
	Maintainer        personLink
	Uploaders         []personLink
	Binaries          []binaryRow
}

// appendKey appends to k what the block shows, each string with its
// length: the block's HTML is a function of it (writeSourceBlock reads
// nothing else), so its hash keys the block without rendering it.
func (b *sourceBlock) appendKey(k []byte) []byte {
	str := func(s string) {
		k = binary.AppendUvarint(k, uint64(len(s)))
		k = append(k, s...)
	}
	flag := func(f bool) {
		if f {
			k = append(k, 1)
		} else {
			k = append(k, 0)
		}
	}
	str(b.ID)
	str(b.Name)
	str(b.Section)
	str(b.Version)
	str(b.State)
	person := func(p personLink) {
		str(p.Name)
		str(p.URL)
	}
	person(b.Maintainer)
	k = binary.AppendUvarint(k, uint64(len(b.Uploaders)))
	for _, u := range b.Uploaders {
		person(u)
	}
	k = binary.AppendUvarint(k, uint64(len(b.Binaries)))
	for i := range b.Binaries {
		r := &b.Binaries[i]
		str(r.Name)
		flag(r.Known)
		flag(r.All)
		str(r.State)
		flag(r.Bad)
		str(r.StateURL)
		k = binary.AppendUvarint(k, uint64(len(r.Logs)))
		for _, l := range r.Logs {
			str(l.URL)
			str(l.Version)
			flag(l.Cruft)
		}
		flag(r.BugFiled)
		str(r.Version)
		flag(r.Cruft)
		str(r.LastTest)
		str(r.LastBy)
		str(r.LastKind)
		flag(r.WithLinks)
	}
	return k
}

type personLink struct {
	Name, URL string // URL is "" for an entry without a valid address
}

type binaryRow struct {
	Name      string
	Known     bool
	All       bool
	State     string
	Bad       bool
	StateURL  string
	Logs      []logLink
	BugFiled  bool
	Version   string
	Cruft     bool
	LastTest  string // when the last result arrived, from Submissions
	LastBy    string
	LastKind  string
	WithLinks bool // the state has log directories (links_to_logs' N/A otherwise)
}

type sourcePage struct {
	H       head
	Name    string
	History []historyRow
}

type historyRow struct {
	At, Result, Package, Version, By string
	Bad                              bool
}

func (v *sectionView) person(entry string) personLink {
	entry = strings.TrimSpace(entry)
	if email, ok := EmailAddress(entry); ok && validEmailPath(email) {
		return personLink{Name: entry, URL: v.r.maintainerURL(v.s.Name, email)}
	}
	return personLink{Name: entry}
}

// validEmailPath reports whether an address can name a page file.
func validEmailPath(email string) bool {
	return email != "" && !strings.ContainsAny(email, "/\x00") && email != "." && email != ".."
}

// logDirsOf is links_to_logs: the directories whose logs a binary's row
// links, by its own state.
func logDirsOf(st string) []piuparts.Kind {
	switch st {
	case piuparts.SuccessfullyTested:
		return []piuparts.Kind{piuparts.KindPass}
	case piuparts.FailedTesting:
		return []piuparts.Kind{piuparts.KindFail, piuparts.KindBugged, piuparts.KindAffected}
	case piuparts.CannotBeTested:
		return []piuparts.Kind{piuparts.KindUntestable}
	}
	return nil
}

func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func (v *sectionView) sourceBlock(src *Source) sourceBlock {
	b := sourceBlock{ID: PackageID(src.Name), Name: src.Name, Section: v.s.Name, Version: src.Version,
		State: src.State, Maintainer: v.person(src.Maintainer), Binaries: make([]binaryRow, 0, len(src.Binaries))}
	if strings.TrimSpace(src.Uploaders) != "" {
		for _, u := range strings.Split(src.Uploaders, ",") {
			b.Uploaders = append(b.Uploaders, v.person(u))
		}
	}
	for _, name := range src.Binaries {
		p, ok := v.pkg[name]
		if !ok {
			b.Binaries = append(b.Binaries, binaryRow{Name: name})
			continue
		}
		row := binaryRow{Name: name, Known: true, All: p.Architecture == "all", State: p.State,
			Bad: badStates[p.State], StateURL: v.absStateLink(name), Version: p.TestVersion, Cruft: p.Cruft}
		dirs := logDirsOf(p.State)
		row.WithLinks = dirs != nil
		for _, d := range dirs {
			for _, l := range p.Logs {
				if l.Kind == d {
					row.Logs = append(row.Logs, logLink{URL: v.r.sectionURL(v.s.Name) + l.Path(), Version: l.Version})
					if d == piuparts.KindBugged || d == piuparts.KindAffected {
						row.BugFiled = true
					}
				}
			}
		}
		if subs := v.subs[name]; len(subs) > 0 {
			row.LastTest, row.LastBy, row.LastKind = formatTime(subs[0].At), subs[0].By, string(subs[0].Result)
		}
		b.Binaries = append(b.Binaries, row)
	}
	return b
}

func (v *sectionView) sourcePages(emit Emit) error {
	lay, err := v.r.layout(v.s.Name)
	if err != nil {
		return err
	}
	lk := v.r.layoutKey(lay)
	// One buffer for every page: emit copies what it keeps; kh holds
	// what the page's key is taken of.
	h := hbuf{b: make([]byte, 0, 64<<10)}
	var kh hbuf
	var kb []byte
	for _, src := range v.s.Sources {
		if src.State == "udeb" {
			continue
		}
		p := sourcePage{Name: src.Name}
		for _, bin := range src.Binaries {
			for _, sub := range v.subs[bin] {
				p.History = append(p.History, historyRow{At: formatTime(sub.At), Result: string(sub.Result),
					Package: sub.Package, Version: sub.Version, By: sub.By, Bad: sub.Result != piuparts.KindPass})
			}
		}
		slices.SortStableFunc(p.History, func(a, b historyRow) int { return -strings.Compare(a.At, b.At) })
		// A block's key is that of the data it shows: a block whose
		// page is current is not rendered (a maintainer page that
		// changed renders those it shows and did not get here).
		sb := v.sourceBlock(src)
		kb = sb.appendKey(kb[:0])
		bk := sumKey(kb)
		v.blockKeys[src.Name] = bk
		title := "Status of source package " + src.Name + " in " + v.s.Name
		path := v.s.Name + "/source/" + SourceDir(src.Name) + "/" + src.Name + ".html"
		if v.r.current != nil {
			kh.b = kh.b[:0]
			v.sourceBody(&kh, &p, src, bk[:])
			if v.r.current(path, v.r.pageKey(&kh, lk, title)) {
				continue
			}
		}
		// The block is kept for the maintainer pages, in the slab rather
		// than as a slice of the page, so that the page's buffer is reused.
		v.scratch.b = v.scratch.b[:0]
		v.writeSourceBlock(&v.scratch, sb)
		block := v.slab.keep(v.scratch.b)
		v.blocks[src.Name] = block
		h.b = h.b[:0]
		lay.start(&h, title)
		v.sourceBody(&h, &p, src, block)
		h.b = append(h.b, lay.foot...)
		if err := emit(path, h.b); err != nil {
			return fmt.Errorf("emit %s: %w", path, err)
		}
	}
	return nil
}

// block returns a source's rendered block: the one sourcePages kept, or
// one rendered now (for a maintainer page that changed, of a source whose
// page did not), kept for the next maintainer page that shows it.
func (v *sectionView) block(name string) []byte {
	if b, ok := v.blocks[name]; ok {
		return b
	}
	i, ok := slices.BinarySearchFunc(v.s.Sources, name, func(s *Source, n string) int { return strings.Compare(s.Name, n) })
	if !ok {
		return nil
	}
	v.scratch.b = v.scratch.b[:0]
	v.writeSourceBlock(&v.scratch, v.sourceBlock(v.s.Sources[i]))
	b := v.slab.keep(v.scratch.b)
	v.blocks[name] = b
	return b
}

// --- maintainer pages ---

type maintainerPage struct {
	H      head
	Email  string
	Others []otherLink
	Counts []maintCount
}

type otherLink struct{ Section, URL string }

type maintCount struct {
	State   string
	Sources []maintSource
}

type maintSource struct{ Name, ID string }

// maintainers returns, by address, the sources each address maintains or
// uploads, in the order of Section.Sources (create_package_summaries).
func (v *sectionView) maintainers() (map[string][]*Source, []string) {
	by := make(map[string][]*Source)
	for _, src := range v.s.Sources {
		if src.State == "udeb" {
			continue
		}
		entries := append([]string{src.Maintainer}, strings.Split(src.Uploaders, ",")...)
		for _, e := range entries {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			email, ok := EmailAddress(e)
			if !ok || !validEmailPath(email) {
				continue
			}
			// A source appears once per page even when its address
			// is both maintainer and uploader.
			if l := by[email]; len(l) > 0 && l[len(l)-1] == src {
				continue
			}
			by[email] = append(by[email], src)
		}
	}
	emails := make([]string, 0, len(by))
	for e := range by {
		emails = append(emails, e)
	}
	slices.Sort(emails)
	return by, emails
}

func (v *sectionView) maintainerPages(emit Emit) error {
	var h, kh hbuf // one buffer for every page: emit copies what it keeps
	lay, err := v.r.layout(v.s.Name)
	if err != nil {
		return err
	}
	lk := v.r.layoutKey(lay)
	by, emails := v.byEmail, v.emails
	for _, email := range emails {
		p := maintainerPage{Email: email}
		for _, sec := range v.r.sections {
			if sec != v.s.Name {
				p.Others = append(p.Others, otherLink{Section: sec, URL: v.r.maintainerURL(sec, email)})
			}
		}
		for _, st := range []string{"fail", "unknown", "pass"} {
			c := maintCount{State: st}
			for _, src := range by[email] {
				if src.State == st {
					c.Sources = append(c.Sources, maintSource{Name: src.Name, ID: PackageID(src.Name)})
				}
			}
			p.Counts = append(p.Counts, c)
		}
		path := v.s.Name + "/maintainer/" + MaintainerDir(email) + "/" + email + ".html"
		title := "Status of " + email + " packages in " + v.s.Name
		if v.r.current != nil {
			kh.b = kh.b[:0]
			v.maintainerBody(&kh, &p, func(h *hbuf, src string) {
				k := v.blockKeys[src]
				h.b = append(h.b, k[:]...)
			})
			if v.r.current(path, v.r.pageKey(&kh, lk, title)) {
				continue
			}
		}
		size := 4096
		for _, c := range p.Counts {
			for _, s := range c.Sources {
				size += len(v.block(s.Name))
			}
		}
		h.b = slices.Grow(h.b[:0], size)
		lay.start(&h, title)
		v.maintainerBody(&h, &p, func(h *hbuf, src string) { h.b = append(h.b, v.block(src)...) })
		h.b = append(h.b, lay.foot...)
		if err := emit(path, h.b); err != nil {
			return fmt.Errorf("emit %s: %w", path, err)
		}
	}
	return nil
}

// --- known-problem pages ---

type problemPage struct {
	H        head
	Header   string
	Helptext template.HTML
	Command  string
	Failed   []problemItem
	Reported []problemItem
	Count    int
}

type problemItem struct {
	RDeps      int
	Log        string
	All, Cruft bool
	SourceURL  string
	Source     string
	Package    string
	Bug        template.HTML
}

func (v *sectionView) problemPages(emit Emit) error {
	for _, pr := range v.s.Problems {
		if len(pr.Logs) == 0 {
			continue
		}
		p := problemPage{H: v.r.head(v.s.Name, pr.Header+" in "+v.s.Name), Header: pr.Header,
			// HELPTEXT is HTML from the known-problem directory, which
			// the operator installs; the reference shows it as is.
			Helptext: template.HTML(pr.Helptext), Command: pr.Command, Count: len(pr.Logs)}
		p.H.Filter = len(pr.Logs) > 20
		for _, l := range pr.Logs {
			it := problemItem{Log: l.Path(), Package: l.Package, Source: l.Package,
				// The .bug file is piuparts-analyze's HTML links.
				Bug: template.HTML(l.Bug)}
			if pk, ok := v.pkg[l.Package]; ok {
				it.RDeps, it.All, it.Cruft, it.Source = pk.RRDeps, pk.Architecture == "all", pk.Cruft, pk.Source
			}
			it.SourceURL = v.r.sourceURL(v.s.Name, it.Source)
			if l.Kind == piuparts.KindFail {
				p.Failed = append(p.Failed, it)
			} else {
				p.Reported = append(p.Reported, it)
			}
		}
		if err := v.r.exec(emit, v.s.Name+"/"+pr.Page, "problem.html", p); err != nil {
			return err
		}
	}
	return nil
}
