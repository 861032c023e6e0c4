package report

import (
	"time"

	"piuparts-server/internal/config"
	"piuparts-server/internal/piuparts"
	"piuparts-server/master/state"
)

// Site is everything one run of the report shows.
type Site struct {
	// Config is the loaded configuration.
	Config *config.Config
	// Sections are the sections the run covers, in the order of the
	// config's sections key (disabled sections, max-reserved = 0, are
	// left out as the reference does).
	Sections []*Section
	// Now is the time the run shows as its date (injected for golden
	// files).
	Now time.Time
	// DocRoot is doc-root as the reference normalizes it: a leading "/"
	// added, a trailing "/" removed, so that the default is "".
	DocRoot string
	// DistroInfo is Debian's release table (LoadDistroInfo of
	// DefaultDistroInfoPath), which json-sections = default needs.
	DistroInfo *DistroInfo
}

// Section is what the report knows of one section.
type Section struct {
	Name string
	Conf *config.Section
	// Result holds the package states, computed as the reference's
	// report computes them (no recycle mode).
	Result *state.Result
	// Packages are the section's binary packages, one per name (the
	// stanza the states counted), sorted by name.
	Packages []*Package
	// Sources are the source packages of the section's Sources file,
	// sorted by name.
	Sources []*Source
	// Logs lists the logs in each log directory the report shows
	// (pass, fail, bugged, affected, reserved, untestable), sorted by
	// package name then version, after logs of removed or outdated
	// packages were archived.
	Logs map[piuparts.Kind][]*Log
	// History is counts.txt: its header and its rows.
	History *History
	// Problems are the known problems the section checks (the
	// known-problem directory less exclude-known-problems), each with
	// the logs it matches.
	Problems []*Problem
	// Reservations are the section's reservations, by package name.
	Reservations []Reservation
	// Submissions are the section's submissions (submissions.txt as the
	// store indexes it), oldest first.
	Submissions []Submission

	byName   map[string]*Package
	bySource map[string]*Source
	// countsData is counts.txt as read; countsChanged says this run
	// appended its line.
	countsData    []byte
	countsChanged bool
}

// Package is one binary package of a section.
type Package struct {
	Name         string
	Version      string // Version of the stanza
	TestVersion  string // the version whose logs count (piupartslib's test_versions)
	Architecture string // "all" is shown as ":all"
	// Source and SourceVersion come from the Source field, defaulting to
	// the package's own name and version.
	Source        string
	SourceVersion string
	Maintainer    string // of the binary stanza
	// State is the package's own state (get_package_state with
	// recurse off): the state pages list it there, the section's counts
	// and the source pages show it. StateRecursive is the state with the
	// depends-sections asked (an outdated package takes the state it has
	// there): what summary.json and the "dependency D is" lines show.
	State          string
	StateRecursive string
	// Deps are the package's Depends then Pre-Depends items, each the
	// names of its alternatives, consecutive duplicates removed
	// (piuparts-report's unique(all_dependencies())).
	Deps [][]string
	// RRDeps is the number of recursive reverse dependencies; Block,
	// for a package in an error state, how many of those are in an error
	// state (piupartslib's rrdep_count and block_count). NewSection sets
	// them for the packages in error states and failed ones; the
	// known-problem lists, for the packages they show.
	RRDeps, Block int
	counted       bool
	// page and link are the package's page of its state's list and its
	// item there, set by the section's view.
	page int
	link string
	// Cruft is set when the source's version in Sources differs from
	// SourceVersion ("[cruft]").
	Cruft bool
	// Logs are the package's logs in the log directories the report
	// shows.
	Logs []*Log
}

// Source is one source package of the Sources file.
type Source struct {
	Name    string
	Version string // in the section's distro
	// TestVersion is the version the reference shows: the version in
	// the final distro of an upgrade test ("None" when it has none),
	// else Version.
	TestVersion string
	Maintainer  string
	Uploaders   string   // as in the field: comma-separated
	Binaries    []string // the Binary field's names, sorted
	// State is what sources.txt says: "pass", "fail" or "unknown"; "udeb"
	// for a source none of whose binaries are in Packages (no page, not
	// listed).
	State string
}

// Log is one log file of a section's log tree.
type Log struct {
	Kind    piuparts.Kind
	Package string
	Version string
	// ModTime is the log's modification time.
	ModTime time.Time
	// Problems are the known-problem files that match the log, by file
	// name ("dependency_error.conf"), as its .kpr file lists them.
	Problems []string
	// Bug is the .bug file's content (HTML links to the BTS), if any.
	Bug string
	// dev and ino identify the file as listed, 0 when unknown.
	dev, ino uint64
}

// Path returns the log's path relative to its section directory, as the
// reference links it: "fail/NAME_VERSION.log".
func (l *Log) Path() string {
	return string(l.Kind) + "/" + piuparts.LogName(l.Package, l.Version)
}

// Problem is one known problem (a .conf file of the known-problem
// directory) and the logs of a section it matches.
type Problem struct {
	Name     string // the file name: "dependency_error.conf"
	Page     string // the page's name in the section: "dependency_error.html"
	Title    string // the section page's link text: "due to unsatisfied dependencies"
	Issue    bool   // an _issue (shown under successfully-tested), not an _error
	Header   string // HEADER: the page's title
	Helptext string // HELPTEXT: HTML
	Command  string // the grep -E command line that finds it
	// Logs are the matching logs: fail/ first, then bugged/ and
	// affected/, each part sorted as the reference sorts them.
	Logs []*Log
}

// Reservation is a package reserved for a slave.
type Reservation struct {
	Package, Version string
	Holder           string // the slave's identity, or "unknown"
	Since, Expires   time.Time
}

// Submission is one log a slave submitted.
type Submission struct {
	At               time.Time
	Result           piuparts.Kind
	Package, Version string
	By               string // the slave, when known
}

// History is a section's counts.txt: a header naming the states and one
// row per day.
type History struct {
	States []string // the columns after "date", in the file's order
	Rows   []HistoryRow
}

// HistoryRow is one day of counts.txt.
type HistoryRow struct {
	Date   string // YYYYMMDD
	Counts []int  // one per History.States
}

// Package returns the section's binary package of that name.
func (s *Section) Package(name string) (*Package, bool) {
	p, ok := s.byName[name]
	return p, ok
}

// Source returns the section's source package of that name.
func (s *Section) Source(name string) (*Source, bool) {
	src, ok := s.bySource[name]
	return src, ok
}

// SourceDir returns the directory of a source's page under
// SECTION/source/: "lib" and the next character for a lib* source, else
// the first character (piuparts-report's source_subdir).
func SourceDir(source string) string {
	if len(source) >= 3 && source[:3] == "lib" {
		return source[:min(4, len(source))]
	}
	return source[:min(1, len(source))]
}
