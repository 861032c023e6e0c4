package report

import (
	"slices"
	"sort"
	"strings"

	"piuparts-server/internal/config"
	"piuparts-server/internal/debian"
	"piuparts-server/master/state"
)

// SectionInput is what a section is built from: its states with the
// archive data they were computed from (master.Cache.Snapshot), and its
// Sources.
type SectionInput struct {
	Conf *config.Section
	// Result holds the states (computed without recycle mode, as the
	// reference's report computes them); each Entry's Ref indexes
	// Packages.
	Result   *state.Result
	Packages []*debian.Package
	// Sources are the section's source packages (of its distro's Sources
	// files, the highest version of a name winning); nil when the section
	// has none.
	Sources map[string]*debian.Source
	// SourceTestVersions, when the section tests an upgrade, maps a
	// source to its version in the final distro ("None" when it has
	// none there); nil otherwise.
	SourceTestVersions map[string]string
}

// NewSection builds a section's model from its input: one Package per
// name (the stanza the states counted), sorted by name, with its states,
// dependencies, counts and cruft flag, and its Sources. Logs, problems,
// history, reservations and submissions are set by the caller.
func NewSection(in SectionInput) *Section {
	s := &Section{Name: in.Conf.Name, Conf: in.Conf, Result: in.Result,
		byName: make(map[string]*Package), bySource: make(map[string]*Source)}
	for name, src := range in.Sources {
		bins := slices.Clone(src.Binary)
		sort.Strings(bins)
		version := src.Version
		if in.SourceTestVersions != nil {
			if v, ok := in.SourceTestVersions[name]; ok {
				version = v
			} else {
				version = "None"
			}
		}
		ms := &Source{Name: name, Version: src.Version, TestVersion: version, Maintainer: src.Maintainer,
			Uploaders: src.Uploaders, Binaries: bins}
		s.bySource[name] = ms
		s.Sources = append(s.Sources, ms)
	}
	sort.Slice(s.Sources, func(i, j int) bool { return s.Sources[i].Name < s.Sources[j].Name })

	// The packages' strings are copies, shared where they repeat: the
	// archive's stanzas (their text, their parsed relations) can go once
	// the model is built.
	str := make(interner)
	for _, src := range s.Sources {
		str[src.Name] = src.Name
	}
	var deps depSlab
	in.Result.Each(func(e state.Entry) {
		dp := in.Packages[e.Ref]
		str[e.Name] = e.Name
		p := &Package{Name: e.Name, Version: str.get(dp.Version), TestVersion: e.TestVersion,
			Architecture: str.get(dp.Architecture), Source: str.get(dp.Source),
			SourceVersion: str.get(dp.SourceVersion), Maintainer: str.get(dp.Maintainer),
			// The entry's state is its own; only an outdated package's
			// recursive state is another (that of a depends-section).
			State: e.State, StateRecursive: e.State}
		if e.State == state.Outdated {
			p.StateRecursive = in.Result.StateOf(e.Name, true, true)
		}
		if p.Source == "" {
			p.Source = p.Name
		}
		if p.SourceVersion == "" {
			p.SourceVersion = p.Version
		}
		if p.TestVersion == "" {
			p.TestVersion = p.Version
		}
		rel := dp.Parsed
		if rel == nil {
			rel = dp.ParseRelations()
		}
		p.Deps = deps.add(str, uniqueDeps(slices.Concat(rel.Depends, rel.PreDepends)))
		// The counts are costly (a walk of the reverse dependencies) and
		// shown only for packages in error states, in summary.json for
		// failed ones, and on known-problem pages (see Section.counts).
		if errorStates[p.State] || p.StateRecursive == state.FailedTesting {
			s.counts(p)
		}
		// The reference compares with the source's version in Sources
		// (None when the source is not there: then every binary is cruft).
		if src, ok := s.bySource[p.Source]; !ok || src.Version != p.SourceVersion {
			p.Cruft = in.Sources != nil || ok
		}
		s.byName[p.Name] = p
		s.Packages = append(s.Packages, p)
	})
	sort.Slice(s.Packages, func(i, j int) bool { return s.Packages[i].Name < s.Packages[j].Name })
	return s
}

// counts sets the package's RRDeps and Block from the states, once.
func (s *Section) counts(p *Package) {
	if p.counted || s.Result == nil {
		return
	}
	p.counted = true
	if c, ok := s.Result.Counts(p.Name); ok {
		p.RRDeps, p.Block = c.RRDeps, c.Block
	}
}

// uniqueDeps drops consecutive duplicate items, as piuparts-report's
// unique() does.
// It works in place: deps is the package's own copy (63,000 of them
// for a release, kept for the whole run).
func uniqueDeps(deps [][]string) [][]string {
	out := slices.CompactFunc(deps, slices.Equal[[]string])
	if len(out) == 0 {
		return nil
	}
	return out
}

// interner returns one copy of each string it is given.
type interner map[string]string

func (m interner) get(s string) string {
	if c, ok := m[s]; ok {
		return c
	}
	c := strings.Clone(s)
	m[c] = c
	return c
}

// depSlab holds the model's dependency lists in a few large arrays
// instead of two small ones per package.
type depSlab struct {
	items [][]string
	names []string
}

// slabChunk is how many items or names a new array of a depSlab holds.
const slabChunk = 8192

// add returns a copy of deps in the slab, its names interned.
func (d *depSlab) add(str interner, deps [][]string) [][]string {
	if len(deps) == 0 {
		return nil
	}
	if cap(d.items)-len(d.items) < len(deps) {
		d.items = make([][]string, 0, max(slabChunk, len(deps)))
	}
	out := d.items[len(d.items) : len(d.items)+len(deps) : len(d.items)+len(deps)]
	d.items = d.items[:len(d.items)+len(deps)]
	for i, alts := range deps {
		if cap(d.names)-len(d.names) < len(alts) {
			d.names = make([]string, 0, max(slabChunk, len(alts)))
		}
		names := d.names[len(d.names) : len(d.names)+len(alts) : len(d.names)+len(alts)]
		d.names = d.names[:len(d.names)+len(alts)]
		for k, n := range alts {
			names[k] = str.get(n)
		}
		out[i] = names
	}
	return out
}
