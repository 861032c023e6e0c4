package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
	"piuparts-server/internal/debian"
	"piuparts-server/internal/fsutil"
	"piuparts-server/internal/piuparts"
	"piuparts-server/master/state"
	"piuparts-server/report/known"
	"piuparts-server/store"
)

// ShownKinds are the log directories the report lists and copies, in
// the reference's order.
var shownKinds = []piuparts.Kind{piuparts.KindPass, piuparts.KindFail, piuparts.KindBugged,
	piuparts.KindAffected, piuparts.KindReserved, piuparts.KindUntestable}

// Snapshotter returns a section's states computed in memory with the
// archive data they come from (master.Cache.Snapshot without recycle
// mode), the depends-sections named in standalone computed as sections
// on their own are.
type Snapshotter func(ctx context.Context, section string, standalone []string) (*state.Result, []*debian.Package, error)

// logKey names a log of a section: its directory and package version.
type logKey struct {
	kind         piuparts.Kind
	pkg, version string
}

// baseCache follows piuparts-report's packagedb_cache, which decides how
// the states of a depends-section are computed: the report keeps the
// database of the last section without depends-sections it loaded, and
// a later section depending on it reuses its states, computed then as
// the states of a section on its own (when it was reported itself) or as
// those of a depends-section (when it was loaded as one). The two
// differ: piupartslib trusts a dependency database's pass/ logs.
type baseCache struct {
	name string
	own  bool // its states were computed as its own report's
}

// load returns the depends-sections of conf whose states are to be
// computed as a section's own, and records what the reference's cache
// holds after loading conf.
func (c *baseCache) load(pc *config.Config, conf *config.Section) []string {
	var out []string
	loaded := make(map[string]bool)
	var load func(s *config.Section, root bool)
	load = func(s *config.Section, root bool) {
		if loaded[s.Name] {
			return
		}
		loaded[s.Name] = true
		if c.name == s.Name {
			if c.own && !root {
				out = append(out, s.Name)
			}
			return
		}
		if len(s.DependsSections) == 0 {
			c.name, c.own = s.Name, root
		}
		for _, d := range s.DependsSections {
			if ds, err := pc.Section(d); err == nil {
				load(ds, false)
			}
		}
	}
	load(conf, true)
	return out
}

// Generator writes the report. The caller sets every field but Progress,
// which may be nil.
type Generator struct {
	Config *config.Config
	DB     *store.DB // opened with its master directory
	// Snapshot gives the states of a section.
	Snapshot Snapshotter
	// StatesKey returns a key of a section's states' inputs
	// (master.Cache.StatesKey): a run whose inputs did not change
	// writes nothing.
	StatesKey func(ctx context.Context, section string) (string, error)
	// Version is the program's version: a new one writes every file.
	Version string
	// Out is output-directory.
	Out string
	Log zerolog.Logger
	// Progress, when set (a terminal), gets a line per step.
	Progress io.Writer
	Now      func() time.Time
}

// Stats is what a run did.
type Stats struct {
	Sections  int
	Written   int // files written
	Unchanged int // files already up to date
	Archived  int // logs moved to SECTION/archive/
	Linked    int // log copies (re)made
	Removed   int // log copies removed
	// TreeChanged says the run changed the master directory: archived
	// logs, wrote .kpr files or a counts.txt line.
	TreeChanged bool
	Busy        bool
	// Current is set when nothing changed since the last run, which was
	// complete: nothing was read or written.
	Current bool
}

// ErrBusy is returned by Run when another report holds the lock.
var ErrBusy = errors.New("report: another piuparts-report is running")

// step reports on the terminal how long a step took, from start.
func (g *Generator) step(start *time.Time, what string) {
	if g.Progress != nil {
		fmt.Fprintf(g.Progress, "  %6.2fs  %s\n", time.Since(*start).Seconds(), what)
	}
	*start = time.Now()
}

func (g *Generator) progress(format string, args ...any) {
	if g.Progress != nil {
		fmt.Fprintf(g.Progress, format+"\n", args...)
	}
}

// Run writes the report of the named sections (all of the config's when
// none is named) and the top-level files. It returns ErrBusy, without
// doing anything, when another report runs.
func (g *Generator) Run(ctx context.Context, only []string) (Stats, error) {
	var st Stats
	unlock, ok, err := g.DB.Tree().TryLockReport()
	if err != nil {
		return st, err
	}
	if !ok {
		return st, ErrBusy
	}
	defer unlock()
	site := &Site{Config: g.Config, Now: g.now(), DocRoot: NormalizeDocRoot(g.Config.Global.DocRoot)}
	// json-sections = default needs Debian's release table; without it
	// such a section's summary is an error that names the file.
	if di, err := LoadDistroInfo(DefaultDistroInfoPath); err == nil {
		site.DistroInfo = di
	}
	names := g.Config.Global.SectionNames
	if len(only) > 0 {
		names = only
	}
	var confs []*config.Section
	for _, n := range names {
		conf, err := g.Config.Section(n)
		if err != nil {
			return st, err
		}
		if !conf.Disabled() {
			confs = append(confs, conf)
		}
	}
	// Only a run over every section records its key, and only such a
	// run is skipped.
	var key, other string
	if len(only) == 0 && g.StatesKey != nil {
		if other, err = g.otherKey(ctx, confs); err != nil {
			return st, err
		}
		if key, err = g.withStates(ctx, other, confs); err != nil {
			return st, err
		}
		if key == readKey(g.Out) {
			st.Current = true
			return st, nil
		}
	}
	problems, perrs := loadProblems(g.Config.Global.KnownProblemDirectory)
	for _, e := range perrs {
		g.Log.Error().Err(e).Msg("known problem skipped")
	}
	var bc baseCache
	kc := readKPRCache(g.Out)
	for _, conf := range confs {
		start := time.Now()
		s, err := g.section(ctx, site, conf, bc.load(g.Config, conf), problems, kc, &st)
		if err != nil {
			return st, fmt.Errorf("section %s: %w", conf.Name, err)
		}
		site.Sections = append(site.Sections, s)
		st.Sections++
		g.progress("%s: %d packages, %d sources (%.1fs)", conf.Name, len(s.Packages), len(s.Sources), time.Since(start).Seconds())
	}
	// The manifest is read once the sections are loaded: it is not
	// needed before, and the loading is when the heap is largest.
	w, err := OpenWriter(g.Out)
	if err != nil {
		return st, err
	}
	for _, s := range site.Sections {
		if s.countsChanged {
			st.TreeChanged = true
		}
	}
	// The sections' pages render on another goroutine while this one
	// makes the data files, the global summary and the site's own pages:
	// all of them only read the model.
	t := time.Now()
	pages := make(chan error, 1)
	go func() { pages <- g.writePages(site, w, g.renderSalt()) }()
	derr := g.writeData(ctx, site, w)
	g.step(&t, "data files, front page, search, slaves, global summary")
	if err := <-pages; err != nil {
		return st, err
	}
	if derr != nil {
		return st, derr
	}
	g.step(&t, "pages")
	// A run over every section prunes what no run makes any more; a run
	// over some keeps the other sections' files.
	var prune func(string) bool
	if len(only) == 0 {
		prune = func(string) bool { return true }
	} else {
		prune = func(rel string) bool {
			for _, n := range only {
				if strings.HasPrefix(rel, n+"/") {
					return true
				}
			}
			return false
		}
	}
	if err := w.Close(prune); err != nil {
		return st, err
	}
	g.step(&t, "files written")
	inRun := make(map[string]bool, len(confs))
	for _, c := range confs {
		inRun[c.Name] = true
	}
	if err := kc.write(g.Out, func(s string) bool { return inRun[s] }); err != nil {
		return st, fmt.Errorf("write known-problem cache: %w", err)
	}
	g.step(&t, "known-problem cache written")
	st.Written, st.Unchanged = w.Stats()
	// A run that changed the master directory itself (archived logs, new
	// .kpr files, a counts.txt line) changed its own inputs. The key of
	// the inputs as they are now is recorded only when nothing else
	// changed meanwhile: the other inputs are the same, and every log
	// directory holds the logs this run showed. Otherwise the next run
	// goes through them again.
	if key != "" && st.TreeChanged {
		key, err = g.keyAfter(ctx, other, confs, site)
		if err != nil {
			return st, err
		}
		g.step(&t, "inputs looked at again")
	}
	if key != "" {
		if err := writeKey(g.Out, key); err != nil {
			return st, fmt.Errorf("write run key: %w", err)
		}
	}
	return st, nil
}

// keyAfter returns the key of the inputs after a run that changed the
// master directory, or "" when something else changed during the run.
func (g *Generator) keyAfter(ctx context.Context, other string, confs []*config.Section, site *Site) (string, error) {
	if o, err := g.otherKey(ctx, confs); err != nil || o != other {
		return "", err
	}
	// The states' key first, then the listing: a log that arrives after
	// the listing changes the next run's key.
	key, err := g.withStates(ctx, other, confs)
	if err != nil {
		return "", err
	}
	// Names only: a log whose name is there is the one shown (a new
	// log of a package version replaces its file by a rename, which
	// changes the states' key).
	for _, s := range site.Sections {
		for _, k := range shownKinds {
			names, err := g.DB.Tree().List(s.Name, k)
			if errors.Is(err, fs.ErrNotExist) {
				names = nil
			} else if err != nil {
				return "", err
			}
			shown := make(map[string]bool, len(s.Logs[k]))
			for _, l := range s.Logs[k] {
				shown[piuparts.LogName(l.Package, l.Version)] = true
			}
			n := 0
			for _, name := range names {
				if _, _, ok := piuparts.ParseLogName(name); !ok {
					continue
				}
				if !shown[name] {
					return "", nil
				}
				n++
			}
			if n != len(s.Logs[k]) {
				return "", nil
			}
		}
	}
	return key, nil
}

func (g *Generator) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// NormalizeDocRoot returns doc-root as piuparts-report uses it: a
// leading "/" added and a trailing one removed, so that "" and "/" are
// "".
func NormalizeDocRoot(dr string) string {
	dr = strings.TrimSpace(dr)
	if !strings.HasPrefix(dr, "/") {
		dr = "/" + dr
	}
	return strings.TrimSuffix(dr, "/")
}

// section loads one section's model, archives the logs of packages gone
// from the archive, and brings the log copies and known-problem reports
// up to date.
func (g *Generator) section(ctx context.Context, site *Site, conf *config.Section, standalone []string, problems []*known.Problem, kc *kprCache, st *Stats) (*Section, error) {
	// The Sources load while the states are computed: each keeps a core
	// busy for about half a second on a whole release.
	type sourcesLoad struct {
		srcs map[string]*debian.Source
		tv   map[string]string
		err  error
	}
	loaded := make(chan sourcesLoad, 1)
	go func() {
		var l sourcesLoad
		l.srcs, l.tv, l.err = loadSources(ctx, g.Config, conf, g.Out)
		loaded <- l
	}()
	// So does the one listing of the log directories, which serves the
	// pages and the known-problem reports (it waits on the file system).
	type listing struct {
		logs, kprs []store.TreeEntry
		err        error
	}
	tree := g.DB.Tree()
	listedc := make(chan listing, 1)
	go func() {
		var l listing
		l.logs, l.kprs, l.err = tree.ListLogsAndKPRs(conf.Name, shownKinds...)
		listedc <- l
	}()
	t := time.Now()
	res, pkgs, err := g.Snapshot(ctx, conf.Name, standalone)
	sl := <-loaded
	lst := <-listedc
	g.step(&t, conf.Name+": states, Sources and log listing")
	if err != nil {
		return nil, err
	}
	if lst.err != nil {
		return nil, lst.err
	}
	switch {
	case errors.Is(sl.err, debian.ErrIndexNotFound):
		// A mirror without Sources: the binaries' pages and data still
		// tell their states; the reference skips such a section.
		g.Log.Error().Err(sl.err).Str("section", conf.Name).
			Msg("no Sources: the section gets no source or maintainer pages and an empty sources.txt")
		sl.srcs, sl.tv = nil, nil
	case sl.err != nil:
		return nil, sl.err
	}
	srcs, testVersions := sl.srcs, sl.tv
	// The model is built while the logs are archived, linked and read for
	// their known problems, which need only the states: each keeps a core
	// busy for about half a second on a whole release.
	modelc := make(chan *Section, 1)
	go func() {
		modelc <- NewSection(SectionInput{Conf: conf, Result: res, Packages: pkgs, Sources: srcs, SourceTestVersions: testVersions})
	}()
	// The version of each package whose logs count, as the model has it.
	tested := make(map[string]string, len(pkgs))
	res.Each(func(e state.Entry) {
		v := e.TestVersion
		if v == "" {
			v = pkgs[e.Ref].Version
		}
		tested[e.Name] = v
	})
	ls := &Section{Name: conf.Name, Conf: conf, Result: res}
	listed, kprs := lst.logs, lst.kprs
	byKind := groupByKind(listed)
	archived := make(map[logKey]bool)
	ls.Logs = make(map[piuparts.Kind][]*Log)
	for _, k := range shownKinds {
		// The reference lists a directory by modification time.
		infos := slices.Clone(byKind[k])
		slices.SortStableFunc(infos, func(a, b store.TreeEntry) int { return a.ModTime.Compare(b.ModTime) })
		ls.Logs[k] = make([]*Log, 0, len(infos))
		for _, li := range infos {
			if k != piuparts.KindReserved && obsolete(res, tested, li) {
				if err := g.DB.ArchiveLog(ctx, conf.Name, k, li.Package, li.Version); err != nil {
					<-modelc
					return nil, err
				}
				g.Log.Debug().Str("section", conf.Name).Str("log", string(k)+"/"+piuparts.LogName(li.Package, li.Version)).Msg("archived")
				archived[logKey{k, li.Package, li.Version}] = true
				st.Archived++
				st.TreeChanged = true
				continue
			}
			ls.Logs[k] = append(ls.Logs[k], &Log{Kind: k, Package: li.Package, Version: li.Version, ModTime: li.ModTime,
				dev: li.Dev, ino: li.Ino})
		}
	}
	// The known-problem reports' listing: their directories in their
	// order, each as read, without the logs just archived.
	kprBy := groupByKind(kprs)
	kprLogs, kprFiles := make([]store.TreeEntry, 0, len(listed)), make([]store.TreeEntry, 0, len(kprs))
	for _, k := range store.KPRKinds() {
		for _, e := range byKind[k] {
			if !archived[logKey{k, e.Package, e.Version}] {
				kprLogs = append(kprLogs, e)
			}
		}
		kprFiles = append(kprFiles, kprBy[k]...)
	}
	g.step(&t, conf.Name+": obsolete logs archived")
	// Linking the logs into the output and reading their known problems
	// touch different files: they run side by side.
	linked := make(chan error, 1)
	go func() { linked <- g.linkLogs(ls, st) }()
	ps, kerr := g.knownProblems(ctx, ls, problems, kprLogs, kprFiles, kc, st)
	lerr := <-linked
	s := <-modelc
	if lerr != nil {
		return nil, lerr
	}
	if kerr != nil {
		return nil, kerr
	}
	g.step(&t, conf.Name+": model; logs linked, known problems")
	s.Logs = ls.Logs
	for _, k := range shownKinds {
		for _, l := range s.Logs[k] {
			if p, ok := s.byName[l.Package]; ok {
				p.Logs = append(p.Logs, l)
			}
		}
	}
	s.Problems = buildProblems(s, ps)
	for _, k := range shownKinds {
		sort.Slice(s.Logs[k], func(i, j int) bool {
			a, b := s.Logs[k][i], s.Logs[k][j]
			if a.Package != b.Package {
				return a.Package < b.Package
			}
			return a.Version < b.Version
		})
	}
	if s.Reservations, err = g.reservations(ctx, conf.Name); err != nil {
		return nil, err
	}
	if s.Submissions, err = g.submissions(ctx, conf.Name); err != nil {
		return nil, err
	}
	if s.History, err = g.history(ctx, site, s); err != nil {
		return nil, err
	}
	for _, src := range s.Sources {
		src.State = SourceState(s, src)
	}
	return s, nil
}

// groupByKind returns the entries of each kind, in their order.
func groupByKind(entries []store.TreeEntry) map[piuparts.Kind][]store.TreeEntry {
	n := make(map[piuparts.Kind]int)
	for _, e := range entries {
		n[e.Kind]++
	}
	out := make(map[piuparts.Kind][]store.TreeEntry, len(n))
	for k, c := range n {
		out[k] = make([]store.TreeEntry, 0, c)
	}
	for _, e := range entries {
		out[e.Kind] = append(out[e.Kind], e)
	}
	return out
}

// obsolete reports whether a log is of a package gone from the archive,
// of another version than the one tested (tested maps each package of the
// section to that version), or of an outdated package: piuparts-report's
// cleanup_removed_packages archives those.
func obsolete(res *state.Result, tested map[string]string, li store.TreeEntry) bool {
	v, ok := tested[li.Package]
	if !ok || li.Version != v {
		return true
	}
	return res.StateOf(li.Package, false, false) == state.Outdated
}

// linkLogs makes OUT/SECTION/KIND/NAME_VER.log the same file as each log
// (copy_logs) and removes the copies of logs that are gone
// (remove_old_logs).
func (g *Generator) linkLogs(s *Section, st *Stats) error {
	tree := g.DB.Tree()
	for _, k := range shownKinds {
		dir := filepath.Join(g.Out, s.Name, string(k))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("copy logs: %w", err)
		}
		keep := make(map[string]bool, len(s.Logs[k]))
		for _, l := range s.Logs[k] {
			keep[piuparts.LogName(l.Package, l.Version)] = true
		}
		// One listing of the copies with their inode numbers tells which
		// logs are linked already, without a stat of each log and copy.
		copies, dev, err := fsutil.ReadDirInodes(dir)
		if err != nil && !errors.Is(err, errors.ErrUnsupported) {
			return fmt.Errorf("copy logs: %w", err)
		}
		var logs []*Log
		for _, l := range s.Logs[k] {
			if ino, ok := copies[piuparts.LogName(l.Package, l.Version)]; !ok || l.ino == 0 || ino != l.ino || dev != l.dev {
				logs = append(logs, l)
			}
		}
		// Linking is file-system work that overlaps well: a few
		// goroutines share the logs.
		var (
			mu       sync.Mutex
			firstErr error
			next     atomic.Int64
			wg       sync.WaitGroup
		)
		for range min(8, len(logs)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= len(logs) {
						return
					}
					name := piuparts.LogName(logs[i].Package, logs[i].Version)
					made, err := tree.LinkLog(s.Name, k, name, filepath.Join(dir, name))
					if errors.Is(err, os.ErrNotExist) {
						continue // removed meanwhile
					}
					mu.Lock()
					if err != nil && firstErr == nil {
						firstErr = err
					}
					if made {
						st.Linked++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
		if copies == nil {
			entries, err := os.ReadDir(dir)
			if err != nil {
				return fmt.Errorf("copy logs: %w", err)
			}
			copies = make(map[string]uint64, len(entries))
			for _, e := range entries {
				copies[e.Name()] = 0
			}
		}
		for name := range copies {
			if !keep[name] {
				if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("remove old log copy: %w", err)
				}
				st.Removed++
			}
		}
	}
	return nil
}

func (g *Generator) reservations(ctx context.Context, section string) ([]Reservation, error) {
	rs, err := g.DB.Reservations(ctx, section)
	if err != nil {
		return nil, err
	}
	out := make([]Reservation, 0, len(rs))
	for _, r := range rs {
		out = append(out, Reservation{Package: r.Package, Version: r.Version, Holder: r.Holder,
			Since: r.ReservedAt, Expires: r.ExpiresAt})
	}
	return out, nil
}

func (g *Generator) submissions(ctx context.Context, section string) ([]Submission, error) {
	ss, err := g.DB.SectionSubmissions(ctx, section)
	if err != nil {
		return nil, err
	}
	out := make([]Submission, 0, len(ss))
	for _, s := range ss {
		out = append(out, Submission{At: s.At, Result: s.Result, Package: s.Package, Version: s.Version, By: s.By})
	}
	return out, nil
}

// compactSource keeps of a source stanza what the report shows, in
// strings of their own: the parsed file (50 MB for a release) can go.
func compactSource(src *debian.Source) *debian.Source {
	bins := make([]string, len(src.Binary))
	for i, b := range src.Binary {
		bins[i] = strings.Clone(b)
	}
	return &debian.Source{Name: strings.Clone(src.Name), Version: strings.Clone(src.Version), Binary: bins,
		Maintainer: strings.Clone(src.Maintainer), Uploaders: strings.Clone(src.Uploaders)}
}

// loadSources loads a section's Sources (the distro's Sources files;
// the final distro's versions when it tests an upgrade). A section whose
// Sources cannot be found has none: its pages show no sources, and the
// reference would fail.
func loadSources(ctx context.Context, pc *config.Config, s *config.Section, cacheDir string) (map[string]*debian.Source, map[string]string, error) {
	if s.Mirror == "" {
		return nil, nil, nil
	}
	load := func(distro string) (map[string]*debian.Source, error) {
		urls := pc.Distros.SourcesURLs(distro, s.GetArea(), s.Mirror)
		key := sourcesKey(urls)
		if cached, ok := readSourcesCache(cacheDir, urls, key); ok {
			return cached, nil
		}
		out := make(map[string]*debian.Source)
		for _, u := range urls {
			srcs, err := debian.LoadSources(ctx, u)
			if err != nil {
				return nil, err
			}
			for name, src := range srcs {
				if old, ok := out[name]; !ok || debian.CompareVersions(src.Version, old.Version) > 0 {
					out[name] = compactSource(src)
				}
			}
		}
		writeSourcesCache(cacheDir, urls, key, out)
		return out, nil
	}
	srcs, err := load(s.GetDistro())
	if err != nil {
		return nil, nil, err
	}
	var tv map[string]string
	if fd := s.FinalDistro(); fd != s.GetDistro() {
		final, err := load(fd)
		if err != nil {
			return nil, nil, err
		}
		tv = make(map[string]string, len(final))
		for name, src := range final {
			tv[name] = src.Version
		}
	}
	return srcs, tv, nil
}
