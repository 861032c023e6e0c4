package report

import (
	"bytes"
	"testing"

	"piuparts-server/internal/config"
)

// sourcesTestSection builds a section of binaries (name, own state) and
// sources (name, version, binaries).
func sourcesTestSection(bins map[string]string, srcs []*Source) *Section {
	s := &Section{Name: "sid", byName: map[string]*Package{}, bySource: map[string]*Source{}}
	for n, st := range bins {
		p := &Package{Name: n, State: st}
		s.Packages = append(s.Packages, p)
		s.byName[n] = p
	}
	for _, src := range srcs {
		s.Sources = append(s.Sources, src)
		s.bySource[src.Name] = src
	}
	return s
}

func TestSourceState(t *testing.T) {
	bins := map[string]string{
		"ok1": "successfully-tested", "ok2": "essential-required", "fail": "failed-testing",
		"dne": "dependency-does-not-exist", "cbt": "cannot-be-tested", "wait": "waiting-to-be-tested",
		"dft": "dependency-failed-testing", "unk": "unknown", "old": "outdated",
	}
	tests := []struct {
		name     string
		binaries []string
		want     string
	}{
		{"AllPass", []string{"ok1", "ok2"}, "pass"},
		{"PassWithUdeb", []string{"ok1", "ok1-udeb"}, "pass"},
		{"Fail", []string{"ok1", "fail"}, "fail"},
		{"DependencyDoesNotExist", []string{"dne"}, "fail"},
		{"CannotBeTested", []string{"cbt", "ok1"}, "fail"},
		{"FailBeatsWaiting", []string{"wait", "fail"}, "fail"},
		{"Waiting", []string{"ok1", "wait"}, "unknown"},
		{"DependencyFailed", []string{"dft"}, "unknown"},
		{"Unknown", []string{"unk"}, "unknown"},
		{"Outdated", []string{"old"}, "unknown"},
		// As the reference: each is an "unknown package" row, none failed.
		{"OnlyUdebs", []string{"x-udeb", "y-udeb"}, "pass"},
		{"NoBinaries", nil, "udeb"},
		{"NoBinaries", nil, "udeb"},
	}
	s := sourcesTestSection(bins, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SourceState(s, &Source{Name: "x", Binaries: tt.binaries}); got != tt.want {
				t.Errorf("SourceState(%q) = %q, want %q", tt.binaries, got, tt.want)
			}
		})
	}
}

func TestWriteSources(t *testing.T) {
	s := sourcesTestSection(map[string]string{"a": "successfully-tested", "b": "failed-testing", "c": "unknown"},
		[]*Source{
			{Name: "asrc", Version: "1.0", Binaries: []string{"a"}},
			{Name: "bsrc", Version: "2:1.2-3", Binaries: []string{"a", "b"}},
			{Name: "csrc", Version: "0.10", Binaries: []string{"c"}},
			// Only a udeb: "pass", as the reference has it (no binary failed).
			{Name: "dsrc", Version: "1", Binaries: []string{"d-udeb"}},
			// No binaries at all: not listed.
			{Name: "esrc", Version: "1"},
			{Name: "yes", Version: "1e5", Binaries: []string{"a"}},
		})
	var txt, yml bytes.Buffer
	if err := WriteSourcesTxt(&txt, s); err != nil {
		t.Fatal(err)
	}
	if want := "asrc: pass\nbsrc: fail\ncsrc: unknown\ndsrc: pass\nyes: pass\n"; txt.String() != want {
		t.Errorf("sources.txt = %q, want %q", txt.String(), want)
	}
	if err := WriteSourcesYAML(&yml, s); err != nil {
		t.Fatal(err)
	}
	want := `- source: asrc
  state: pass
  version: '1.0'
- source: bsrc
  state: fail
  version: 2:1.2-3
- source: csrc
  state: unknown
  version: '0.10'
- source: dsrc
  state: pass
  version: '1'
- source: 'yes'
  state: pass
  version: 1e5
`
	if yml.String() != want {
		t.Errorf("sources.yaml = %q, want %q", yml.String(), want)
	}
	var sec bytes.Buffer
	site := &Site{Config: &config.Config{Global: config.Global{SectionNames: []string{"sid", "1.0", "no"}}}}
	if err := WriteSectionsYAML(&sec, site); err != nil {
		t.Fatal(err)
	}
	if want := "- sid\n- '1.0'\n- 'no'\n"; sec.String() != want {
		t.Errorf("sections.yaml = %q, want %q", sec.String(), want)
	}
}
