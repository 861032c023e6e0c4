package state

import (
	"fmt"
	"time"

	"piuparts-server/internal/debian"
)

// Package is one binary package of a section, as the state algorithm sees it.
type Package struct {
	Name    string
	Version string
	// TestVersion is the version whose logs count (piupartslib's
	// test_versions): the version in the section's final distro, or "None"
	// when the final distro lacks the package. Empty means Version.
	TestVersion string
	// Depends and PreDepends hold, for each item of the field, the names
	// of its alternatives: piupartslib's states ignore versions and
	// architecture qualifiers.
	Depends    [][]string
	PreDepends [][]string
	// Provides holds the provided names, without versions or qualifiers.
	Provides []string
	// Ref is the caller's: [Result.Each] gives it back with the package's
	// state (for example its index in the caller's own list of packages).
	Ref int
}

// NewPackage converts a package of a Packages file, parsing its Depends,
// Pre-Depends and Provides fields as piupartslib's DependencyParser does
// (a name keeps no ":any" qualifier; only the first alternative of a
// Provides item counts). It returns the *debian.RelationError of a
// malformed field, wrapped with the package name.
// The fields come from p.Parsed when the loader parsed them.
func NewPackage(p *debian.Package) (Package, error) {
	rel := p.Parsed
	if rel == nil {
		rel = p.ParseRelations()
	}
	switch {
	case rel.DependsErr != nil:
		return Package{}, fmt.Errorf("parse Depends of %q: %w", cut(p.Name), rel.DependsErr)
	case rel.PreDependsErr != nil:
		return Package{}, fmt.Errorf("parse Pre-Depends of %q: %w", cut(p.Name), rel.PreDependsErr)
	case rel.ProvidesErr != nil:
		return Package{}, fmt.Errorf("parse Provides of %q: %w", cut(p.Name), rel.ProvidesErr)
	}
	// piupartslib parses Provides with the dependency parser and keeps the
	// first alternative of each item.
	return Package{Name: p.Name, Version: p.Version, Depends: rel.Depends, PreDepends: rel.PreDepends,
		Provides: rel.Provides}, nil
}

// testVersion is piupartslib's Package.test_versions.
func (p *Package) testVersion() string {
	if p.TestVersion != "" {
		return p.TestVersion
	}
	return p.Version
}

// Kind names a log directory of a section.
type Kind uint8

// The log directories of a section, as piupartslib's PackagesDB.set_subdirs
// names them.
const (
	Pass       Kind = iota // pass/
	Fail                   // fail/
	Untestable             // untestable/
	Reserved               // reserved/
	Bugged                 // bugged/
	Affected               // affected/
	Recycle                // recycle/
)

var kindNames = [...]string{"pass", "fail", "untestable", "reserved", "bugged", "affected", "recycle"}

// String returns the directory name of k ("pass", "recycle", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Logs records which logs exist in a section's directories. A log is known
// by package name and version, as its file name NAME_VERSION.log is. The
// zero Logs is empty and ready to use.
type Logs struct {
	m     map[string]uint8
	times map[string][2]int64
}

func logKey(name, version string) string { return string(appendLogKey(nil, name, version)) }

// appendLogKey appends the key of logKey to dst, for lookups that need not
// allocate it.
func appendLogKey(dst []byte, name, version string) []byte {
	return append(append(append(dst, name...), '_'), version...)
}

// Add records that dir holds the log of name at version.
func (l *Logs) Add(dir Kind, name, version string) {
	if l.m == nil {
		l.m = make(map[string]uint8)
	}
	l.m[logKey(name, version)] |= 1 << dir
}

// AddRecycle records a recycle/ marker of name at version with the change
// and modification times of its file, which order recycled candidates.
func (l *Logs) AddRecycle(name, version string, ctime, mtime time.Time) {
	l.Add(Recycle, name, version)
	if l.times == nil {
		l.times = make(map[string][2]int64)
	}
	l.times[logKey(name, version)] = [2]int64{ctime.Unix(), mtime.Unix()}
}

// Has reports whether dir holds the log of name at version.
func (l *Logs) Has(dir Kind, name, version string) bool {
	return l.m[logKey(name, version)]&(1<<dir) != 0
}

// Len returns the number of logs recorded in dir.
func (l *Logs) Len(dir Kind) int {
	n := 0
	for _, f := range l.m {
		if f&(1<<dir) != 0 {
			n++
		}
	}
	return n
}

// Section is the input of [Compute]: one piuparts section.
type Section struct {
	Name string
	// Packages lists the section's packages in the order of its Packages
	// files. A name may occur more than once: as piupartslib does, a later
	// entry replaces an earlier one only when its version is higher, and
	// keeps the earlier one's position.
	Packages []Package
	Logs     Logs
	// Recycle asks for recycle mode, which takes effect only when Logs
	// holds a recycle/ marker (piupartslib's enable_recycling). It counts
	// only for the section given to Compute, as in piuparts-master.
	Recycle bool
	// Depends are the depends-sections, in order. They may share sections
	// but must not form a cycle.
	Depends []*Section
	// Standalone, on a depends-section, computes it as the section given
	// to Compute is computed (its pass/ logs count only when its
	// dependencies exist), not trusting cached successes as piupartslib
	// does for a dependency database. piuparts-report needs it: it reuses
	// the states of a section it reported earlier in the same run as the
	// depends-section of a later one.
	Standalone bool
}

func cut(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}
