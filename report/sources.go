package report

import (
	"bufio"
	"io"

	"piuparts-server/internal/piuparts"
)

// The states of a source package in sources.txt and sources.yaml, and
// SourceUdeb for a source none of whose binaries is in Packages (it is
// listed nowhere).
const (
	SourcePass    = "pass"
	SourceFail    = "fail"
	SourceUnknown = "unknown"
	SourceUdeb    = "udeb"
)

// SourceState returns a source's summary state as create_source_summary
// decides it from the own states (Package.State) of those of its binaries
// that are in the section's Packages: "fail" when one is failed-testing,
// dependency-does-not-exist or cannot-be-tested; else "pass" when all are
// successfully-tested or essential-required; else "unknown"; and "udeb"
// when its Binary field names none. As in the reference, a source none of
// whose binaries is in Packages (udebs, packages of other architectures)
// is "pass": each of them is an "unknown package" row of its page, and
// none failed.
func SourceState(s *Section, src *Source) string {
	present, success, failed := len(src.Binaries) > 0, true, false
	for _, b := range src.Binaries {
		p, ok := s.Package(b)
		if !ok {
			continue // a udeb, or a package of another architecture
		}
		switch p.State {
		case piuparts.SuccessfullyTested, piuparts.EssentialRequired:
		case piuparts.FailedTesting, piuparts.DependencyDoesNotExist, piuparts.CannotBeTested:
			success, failed = false, true
		default:
			success = false
		}
	}
	switch {
	case !present:
		return SourceUdeb
	case failed:
		return SourceFail
	case success:
		return SourcePass
	}
	return SourceUnknown
}

// listedSources returns the section's sources that the summaries list
// (all but udeb ones), by name, with their states.
func listedSources(s *Section) ([]*Source, []string) {
	var srcs []*Source
	var states []string
	for _, src := range s.Sources {
		if st := SourceState(s, src); st != SourceUdeb {
			srcs = append(srcs, src)
			states = append(states, st)
		}
	}
	return srcs, states
}

// WriteSourcesTxt writes a section's sources.txt: one "SRC: STATE" line
// per source that is not udeb (see [SourceState]), by name. It returns
// w's error.
func WriteSourcesTxt(w io.Writer, s *Section) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	srcs, states := listedSources(s)
	for i, src := range srcs {
		bw.WriteString(src.Name)
		bw.WriteString(": ")
		bw.WriteString(states[i])
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// WriteSourcesYAML writes a section's sources.yaml as the reference's
// yaml.dump does: a list of {source, state, version} mappings for the
// sources sources.txt lists, in its order. It returns w's error.
func WriteSourcesYAML(w io.Writer, s *Section) error {
	srcs, states := listedSources(s)
	list := make([]YAMLMap, len(srcs))
	for i, src := range srcs {
		list[i] = YAMLMap{{"source", src.Name}, {"state", states[i]}, {"version", src.Version}}
	}
	return WriteYAMLMaps(w, list)
}

// WriteSectionsYAML writes the top-level sections.yaml: the config's
// section names (the sections key, in its order) as a YAML list. It
// returns w's error.
func WriteSectionsYAML(w io.Writer, site *Site) error {
	return WriteYAMLStrings(w, site.Config.Global.SectionNames)
}
