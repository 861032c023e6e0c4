package report

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/binary"
	"fmt"
	"html/template"
	"io/fs"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Emit receives one file of the site: its path relative to
// output-directory, slash-separated ("bookworm/source/g/graphite2.html"),
// and its content. data is valid only during the call (the renderer
// reuses its buffers): Emit copies what it keeps. renderSection calls it
// from two goroutines at once.
type Emit func(path string, data []byte) error

// DefaultPageSize is how many items a state page or a log list holds
// before the rest goes to STATE-2.html, STATE-3.html and so on.
const DefaultPageSize = 1000

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pageTemplates are the pages' templates, parsed once; executing them is
// safe for concurrent use.
var pageTemplates = template.Must(template.New("pages").ParseFS(templateFS, "templates/*.html"))

// renderer holds what every page of a run shares.
type renderer struct {
	site     *Site
	t        *template.Template
	pageSize int
	updated  string   // Site.Now as pages show it
	sections []string // the names of Site.Sections
	// current, when set, tells whether a page with an input key needs
	// no rendering (Writer.Current); salt goes into every input key (the
	// program that renders: see Generator.renderSalt).
	current func(rel string, key InputKey) bool
	salt    []byte
}

func newRenderer(site *Site, pageSize int) *renderer {
	r := &renderer{site: site, t: pageTemplates, pageSize: pageSize,
		updated: site.Now.UTC().Format("2006-01-02 15:04 UTC")}
	for _, s := range site.Sections {
		r.sections = append(r.sections, s.Name)
	}
	return r
}

// renderSection renders the pages of one section of site and hands each to
// emit: index.html with states.svg, the ten state pages, the six log
// lists, the source and maintainer pages, the known-problem pages and
// index.json (the section's search index). With current (a Writer's
// Current) it skips a source or maintainer page whose input key, salted
// with salt, current reports as current: that page is neither rendered
// nor emitted; with current nil it renders every page. It returns the
// first error of emit or of a template, wrapped with the page's path.
func renderSection(site *Site, s *Section, emit Emit, current func(string, InputKey) bool, salt []byte) error {
	r := newRenderer(site, DefaultPageSize)
	r.current, r.salt = current, salt
	return r.section(s, emit)
}

// sumKey returns the input key of data: the first half of its SHA-256.
func sumKey(data []byte) InputKey {
	sum := sha256.Sum256(data)
	return InputKey(sum[:len(InputKey{})])
}

// layoutKey returns the key of a layout and of the program that renders
// with it.
func (r *renderer) layoutKey(l *layout) InputKey {
	b := make([]byte, 0, len(r.salt)+len(l.pre)+len(l.post)+len(l.foot)+32)
	for _, part := range [][]byte{r.salt, l.pre, l.post, l.foot} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(part)))
		b = append(b, part...)
	}
	return sumKey(b)
}

// pageKey returns the input key of a page of layout lk with title whose
// body, each source block replaced by its key, is in kh (which it
// extends).
func (r *renderer) pageKey(kh *hbuf, lk InputKey, title string) InputKey {
	kh.b = append(kh.b, lk[:]...)
	kh.b = append(kh.b, title...)
	kh.b = binary.BigEndian.AppendUint64(kh.b, uint64(len(title)))
	return sumKey(kh.b)
}

// RenderSite renders what sits above the sections: the front page
// (index.html with history.svg), search.html and its index search.json,
// slaves.html and the shared assets under static/. It returns the first
// error of emit or of a template, wrapped with the page's path.
func RenderSite(site *Site, emit Emit) error {
	return newRenderer(site, DefaultPageSize).top(emit)
}

// exec executes the named template with data and emits the result as path.
func (r *renderer) exec(emit Emit, path, name string, data any) error {
	var b bytes.Buffer
	b.Grow(4096)
	if err := r.t.ExecuteTemplate(&b, name, data); err != nil {
		return fmt.Errorf("render %s: %w", path, err)
	}
	if err := emit(path, b.Bytes()); err != nil {
		return fmt.Errorf("emit %s: %w", path, err)
	}
	return nil
}

// static emits the embedded static/ files.
func (r *renderer) static(emit Emit) error {
	return fs.WalkDir(staticFS, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := staticFS.ReadFile(path)
		if err != nil {
			return err
		}
		if err := emit(path, data); err != nil {
			return fmt.Errorf("emit %s: %w", path, err)
		}
		return nil
	})
}

// head is what the layout of every page needs.
type head struct {
	Title    string
	DR       string   // doc-root, "" by default
	Section  string   // the page's section, "" above the sections
	Sections []string // every section, for the navigation
	Updated  string
	// Filter is set on pages with a long list: the layout shows the
	// filter box.
	Filter bool
	// Redirect is set on the first page of a paginated state page: its
	// script looks an unknown #anchor up in the section's index.json.
	Redirect string // the state
	Pages    []pageLink
	Prev     string // the previous page, "" on the first
	Next     string // the next page, "" on the last
}

// pageLink is one link of a paginated list's navigation.
type pageLink struct {
	N       int
	URL     string
	Current bool
}

// head is the frame of a page. It carries no date: a page that shows
// the time of the run changes at every run, and the report rewrites only
// pages that changed (the reference's "Last update" went stale instead).
func (r *renderer) head(section, title string) head {
	return head{Title: title, DR: r.site.DocRoot, Section: section, Sections: r.sections}
}

// dated is head with the run's time, for the pages that show it: the
// front page, the section pages and the slaves page.
func (r *renderer) dated(section, title string) head {
	h := r.head(section, title)
	h.Updated = r.updated
	return h
}

// PackageID returns the id attribute of a package's item on the state
// pages, which #anchors point to: its name with "+" replaced by "_"
// (piuparts-report's package2id).
func PackageID(name string) string {
	return strings.ReplaceAll(name, "+", "_")
}

// EmailAddress returns the address in a Maintainer or Uploaders entry,
// "Name <address>", as piuparts-report's get_email_address parses it
// with re.match(r"(.+)(<)(.+@.+)(>)"), and false for an entry that holds
// none. Its greedy groups make the address the text between the last "<"
// that has a name before it and the last ">" after it that leaves an "@"
// inside with a character on each side; nothing spans a newline.
func EmailAddress(maintainer string) (string, bool) {
	s, _, _ := strings.Cut(maintainer, "\n")
	for i := strings.LastIndexByte(s, '<'); i >= 1; i = strings.LastIndexByte(s[:i], '<') {
		rest := s[i+1:]
		for j := strings.LastIndexByte(rest, '>'); j >= 0; j = strings.LastIndexByte(rest[:j], '>') {
			if at := strings.IndexByte(rest[:j], '@'); at >= 0 && j >= 3 {
				// Some "@" must have a character on each side.
				for k := at; k >= 0 && k < j; k = indexFrom(rest[:j], '@', k+1) {
					if k >= 1 && k <= j-2 {
						return rest[:j], true
					}
				}
			}
		}
	}
	return "", false
}

// indexFrom returns the index of c in s at or after from, or -1.
func indexFrom(s string, c byte, from int) int {
	if from >= len(s) {
		return -1
	}
	if k := strings.IndexByte(s[from:], c); k >= 0 {
		return from + k
	}
	return -1
}

// MaintainerDir returns the directory of an address's page under
// SECTION/maintainer/: its first character, lowercased
// (piuparts-report's maintainer_subdir).
func MaintainerDir(email string) string {
	c, _ := utf8.DecodeRuneInString(email)
	if c == utf8.RuneError {
		return ""
	}
	return string(unicode.ToLower(c))
}

// pageName returns the file of page n (from 1) of a paginated list: the
// first keeps the reference's name, the others get "-N".
func pageName(base string, n int) string {
	if n <= 1 {
		return base + ".html"
	}
	return base + "-" + strconv.Itoa(n) + ".html"
}

// pageOf returns the page (from 1) that item i (from 0) falls on.
func (r *renderer) pageOf(i int) int { return i/r.pageSize + 1 }

// pages returns the navigation of a list of n items split into pages.
func (r *renderer) pages(base string, n, current int) []pageLink {
	count := (n + r.pageSize - 1) / r.pageSize
	if count <= 1 {
		return nil
	}
	out := make([]pageLink, count)
	for i := range out {
		out[i] = pageLink{N: i + 1, URL: pageName(base, i+1), Current: i+1 == current}
	}
	return out
}

// badStates are piuparts-report's is_bad_state: the states shown
// emphasized.
var badStates = map[string]bool{
	"failed-testing": true, "cannot-be-tested": true, "dependency-failed-testing": true,
	"dependency-cannot-be-tested": true, "dependency-does-not-exist": true,
	"circular-dependency": true, "unknown": true, "unknown-preferred-alternative": true,
	"no-dependency-from-alternatives-exists": true, "outdated": true, "does-not-exist": true,
}

// errorStates are piupartslib's get_error_states: their state pages show
// (rrdeps, blocked) and sort by the blocked count.
var errorStates = map[string]bool{
	"failed-testing": true, "cannot-be-tested": true, "dependency-failed-testing": true,
	"dependency-cannot-be-tested": true, "dependency-does-not-exist": true,
}

// stateOfDir is piuparts-report's state_by_dir: the state whose row of
// the section index links a log list.
var stateOfDir = map[string]string{
	"pass": "successfully-tested", "fail": "failed-testing", "bugged": "failed-testing",
	"affected": "failed-testing", "reserved": "waiting-to-be-tested", "untestable": "cannot-be-tested",
}

func (r *renderer) sectionURL(section string) string {
	return r.site.DocRoot + "/" + section + "/"
}

func (r *renderer) sourceURL(section, src string) string {
	return r.site.DocRoot + "/" + section + "/source/" + SourceDir(src) + "/" + src + ".html"
}

func (r *renderer) maintainerURL(section, email string) string {
	return r.site.DocRoot + "/" + section + "/maintainer/" + MaintainerDir(email) + "/" + email + ".html"
}

// percent formats a share of total with one decimal.
func percent(n, total int) string {
	if total == 0 {
		return "0.0%"
	}
	return strconv.FormatFloat(float64(n)*100/float64(total), 'f', 1, 64) + "%"
}
