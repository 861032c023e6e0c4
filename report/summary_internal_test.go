package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"piuparts-server/internal/config"
)

// referencePython is the interpreter whose dist-packages hold piupartslib,
// python3-yaml and python3-distro-info (the reference's own).
const referencePython = "/usr/bin/python3"

// runReference runs a Python script with the reference's interpreter,
// feeding it input, and returns its output. It skips the test, saying why,
// when the interpreter or one of the modules is missing.
func runReference(t *testing.T, script string, input []byte, modules ...string) []byte {
	t.Helper()
	if _, err := os.Stat(referencePython); err != nil {
		t.Skipf("SKIP: reference interpreter %s absent: %v", referencePython, err)
	}
	for _, m := range modules {
		if out, err := exec.Command(referencePython, "-c", "import "+m).CombinedOutput(); err != nil {
			t.Skipf("SKIP: reference module %s not importable: %v\n%s", m, err, out)
		}
	}
	cmd := exec.Command(referencePython, "-c", script)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reference script: %v\n%s", err, stderr.String())
	}
	return out
}

// summaryTestSection builds a section of binary packages (name, source,
// recursive state, block count) with the given config.
func summaryTestSection(name string, conf *config.Section, pkgs [][4]any) *Section {
	s := &Section{Name: name, Conf: conf, byName: map[string]*Package{}, bySource: map[string]*Source{}}
	for _, p := range pkgs {
		pkg := &Package{Name: p[0].(string), Source: p[1].(string), StateRecursive: p[2].(string), Block: p[3].(int)}
		s.Packages = append(s.Packages, pkg)
		s.byName[pkg.Name] = pkg
	}
	return s
}

func TestFlag(t *testing.T) {
	tests := []struct {
		state, want string
		wantErr     bool
	}{
		{"failed-testing", "F", false},
		{"cannot-be-tested", "X", false},
		{"dependency-failed-testing", "X", false},
		{"dependency-cannot-be-tested", "X", false},
		{"dependency-does-not-exist", "X", false},
		{"waiting-to-be-tested", "W", false},
		{"waiting-for-dependency-to-be-tested", "W", false},
		{"essential-required", "P", false},
		{"successfully-tested", "P", false},
		{"unknown", "-", false},
		{"does-not-exist", "-", false},
		{"outdated", "", true},
		{"circular-dependency", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			got, err := Flag(tt.state)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("Flag(%q) = %q, %v, want %q (error %v)", tt.state, got, err, tt.want, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidSummary) {
				t.Errorf("Flag(%q) error %v does not wrap ErrInvalidSummary", tt.state, err)
			}
		})
	}
}

func TestSummaryDate(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2014, 2, 26, 1, 48, 43, 0, time.UTC), "Wed Feb 26 01:48:43 UTC 2014"},
		{time.Date(2026, 12, 1, 19, 47, 6, 999, time.UTC), "Tue Dec 1 19:47:06 UTC 2026"},
		{time.Date(2026, 12, 2, 1, 0, 0, 0, time.FixedZone("X", 3*3600)), "Tue Dec 1 22:00:00 UTC 2026"},
	}
	for _, tt := range tests {
		if got := SummaryDate(tt.in); got != tt.want {
			t.Errorf("SummaryDate(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// summaryScript computes the same summaries with pkgsummary.py: each
// section's rows for each of its json-sections, then the global merge in
// the order given; it prints a JSON object of file name to content.
const summaryScript = `
import json, sys
from piupartslib import pkgsummary
inp = json.load(sys.stdin)
out = {}
gbl = pkgsummary.new_summary()
gbl["_date"] = inp["date"]
for sec in inp["sections"]:
    s = pkgsummary.new_summary()
    s["_date"] = inp["date"]
    for js in sec["json"]:
        for src, state, block, url in sec["rows"]:
            flag = pkgsummary.get_flag(state)
            pkgsummary.add_summary(s, js, src, flag, block if flag == "F" else 0, url)
    text = json.dumps(s, sort_keys=True, indent=1)
    out[sec["name"]] = text
    gbl = pkgsummary.merge_summary(gbl, json.loads(text))
out["global"] = json.dumps(gbl, sort_keys=True, indent=1)
json.dump(out, sys.stdout)
`

func TestSummary_MatchesPkgsummary(t *testing.T) {
	now := time.Date(2026, 3, 7, 4, 5, 6, 0, time.UTC)
	di, err := ParseDistroInfo(strings.NewReader(testDistroCSV))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{
		Global: config.Global{SectionNames: []string{"sid", "trixie", "bookworm", "none", "experimental"},
			WebHost: "piuparts.example.org"},
		Sections: map[string]*config.Section{
			"sid":          {Name: "sid", Distro: "sid", JSONSections: []string{"default"}, Precedence: 2},
			"trixie":       {Name: "trixie", Distro: "trixie", JSONSections: []string{"testing", "trixie-dup"}, Precedence: 1},
			"bookworm":     {Name: "bookworm", UpgradeTestDistros: []string{"bullseye", "bookworm"}, Precedence: 1},
			"none":         {Name: "none", Distro: "sid", JSONSections: []string{"none"}, Precedence: 0},
			"experimental": {Name: "experimental", Distro: "experimental", JSONSections: []string{"default", "ignored"}, Precedence: 3},
		},
	}
	site := &Site{Config: cfg, Now: now, DocRoot: "/piuparts", DistroInfo: di}
	// Sources with odd names exercise the JSON escapes; real ones are ASCII.
	rows := map[string][][4]any{
		"sid": {
			{"a1", "alpha", "failed-testing", 7}, {"a2", "alpha", "successfully-tested", 3},
			{"a3", "alpha", "failed-testing", 9}, {"b1", "beta", "waiting-to-be-tested", 4},
			{"b2", "beta", "dependency-failed-testing", 0}, {"l1", "libfoo", "unknown", 0},
			{"u1", "ünïcödé", "essential-required", 0}, {"e1", "emoji😀", "does-not-exist", 0},
			{"q1", "q\"uo\\te\t\x01\x7f", "cannot-be-tested", 2}, {"l2", "lib", "successfully-tested", 0},
		},
		"trixie": {
			{"a1", "alpha", "dependency-cannot-be-tested", 5}, {"b1", "beta", "failed-testing", 1},
			{"g1", "gamma", "waiting-for-dependency-to-be-tested", 0}, {"l1", "libfoo", "failed-testing", 11},
		},
		"bookworm": {
			{"a1", "alpha", "failed-testing", 2}, {"g1", "gamma", "successfully-tested", 0},
			{"d1", "delta", "dependency-does-not-exist", 8},
		},
		"none":         {{"a1", "alpha", "failed-testing", 100}},
		"experimental": {{"x1", "xeno", "unknown", 0}, {"a1", "alpha", "successfully-tested", 0}},
	}
	type refSection struct {
		Name string   `json:"name"`
		JSON []string `json:"json"`
		Rows [][4]any `json:"rows"`
	}
	var input struct {
		Date     string       `json:"date"`
		Sections []refSection `json:"sections"`
	}
	input.Date = SummaryDate(now)
	got := map[string]string{}
	sums := map[string]*Summary{}
	for _, name := range []string{"trixie", "bookworm", "sid", "experimental", "none"} {
		sec := summaryTestSection(name, cfg.Sections[name], rows[name])
		sum, ok, err := SectionSummary(site, sec)
		if err != nil {
			t.Fatalf("SectionSummary(%s): %v", name, err)
		}
		if name == "none" {
			if ok {
				t.Errorf("SectionSummary(none) = true, want false for json-sections none")
			}
			continue
		}
		js, _, _ := JSONSections(site, sec)
		ref := refSection{Name: name, JSON: js}
		for _, r := range rows[name] {
			ref.Rows = append(ref.Rows, [4]any{r[1], r[2], r[3], SourceURL(site, name, r[1].(string))})
		}
		input.Sections = append(input.Sections, ref)
		var buf bytes.Buffer
		if err := sum.Write(&buf); err != nil {
			t.Fatal(err)
		}
		got[name] = buf.String()
		sums[name] = sum
	}
	g, err := GlobalSummary(site, sums)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := g.Write(&buf); err != nil {
		t.Fatal(err)
	}
	got["global"] = buf.String()
	if js, _, _ := JSONSections(site, summaryTestSection("sid", cfg.Sections["sid"], nil)); !reflect.DeepEqual(js, []string{"unstable"}) {
		t.Errorf("JSONSections(sid) = %q, want [unstable]", js)
	}

	in, _ := json.Marshal(input)
	var want map[string]string
	if err := json.Unmarshal(runReference(t, summaryScript, in, "piupartslib.pkgsummary"), &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(got) {
		t.Errorf("files %d, reference %d", len(got), len(want))
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: summary.json differs from pkgsummary's:\n--- got\n%s\n--- want\n%s", name, got[name], w)
		}
	}
	if !strings.Contains(got["global"], `"\u00fcn\u00efc\u00f6d\u00e9"`) || !strings.Contains(got["global"], `"emoji\ud83d\ude00"`) {
		t.Errorf("global summary lacks the escaped names:\n%s", got["global"])
	}

	t.Run("ReadBack", func(t *testing.T) {
		back, err := ReadSummary(strings.NewReader(got["global"]))
		if err != nil {
			t.Fatal(err)
		}
		var again bytes.Buffer
		if err := back.Write(&again); err != nil {
			t.Fatal(err)
		}
		if again.String() != got["global"] {
			t.Errorf("Write(ReadSummary(global)) differs:\n%s\nwant\n%s", again.String(), got["global"])
		}
	})
}

func TestSummary_Add(t *testing.T) {
	s := NewSummary(time.Unix(0, 0))
	steps := []struct {
		flag  string
		block int
		url   string
		want  SummaryEntry
	}{
		{"P", -3, "http://a", SummaryEntry{"P", 0, "http://a"}},
		{"P", 2, "http://b", SummaryEntry{"P", 2, "http://a"}},
		{"W", 1, "http://c", SummaryEntry{"W", 2, "http://c"}},
		{"-", 5, "http://d", SummaryEntry{"W", 5, "http://c"}},
		{"F", 0, "https://e", SummaryEntry{"F", 5, "https://e"}},
		{"X", 9, "http://f", SummaryEntry{"F", 9, "https://e"}},
	}
	for i, st := range steps {
		if err := s.Add("unstable", "src", st.flag, st.block, st.url); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := s.Packages["src"]["unstable"]; got != st.want {
			t.Errorf("step %d: Add(%q, %d, %q) = %+v, want %+v", i, st.flag, st.block, st.url, got, st.want)
		}
	}
	for _, bad := range [][2]string{{"Q", "http://x"}, {"F", "ftp://x"}, {"", "http://x"}} {
		if err := s.Add("unstable", "src", bad[0], 0, bad[1]); !errors.Is(err, ErrInvalidSummary) {
			t.Errorf("Add(%q, %q) = %v, want ErrInvalidSummary", bad[0], bad[1], err)
		}
	}
}

func TestSectionSummary_Outdated(t *testing.T) {
	cfg := &config.Config{Global: config.Global{WebHost: "h"}, Sections: map[string]*config.Section{}}
	site := &Site{Config: cfg, Now: time.Now()}
	sec := summaryTestSection("s", &config.Section{JSONSections: []string{"unstable"}},
		[][4]any{{"p", "p", "outdated", 0}})
	if _, _, err := SectionSummary(site, sec); !errors.Is(err, ErrInvalidSummary) {
		t.Errorf("SectionSummary with an outdated package = %v, want ErrInvalidSummary", err)
	}
	sec.Conf.JSONSections = []string{"default"}
	if _, _, err := SectionSummary(site, sec); err == nil {
		t.Errorf("SectionSummary with json-sections default and no DistroInfo succeeded")
	}
}

func TestReadSummary_Errors(t *testing.T) {
	tests := []struct{ name, in string }{
		{"Empty", ""},
		{"NotJSON", "{"},
		{"WrongID", `{"_id": "x", "_version": "1.0", "packages": {}}`},
		{"WrongVersion", `{"_id": "Piuparts Package Test Results Summary", "_version": "2", "packages": {}}`},
		{"ShortEntry", `{"_id": "Piuparts Package Test Results Summary", "_version": "1.0", "packages": {"a": {"b": ["F", 1]}}}`},
		{"BadCount", `{"_id": "Piuparts Package Test Results Summary", "_version": "1.0", "packages": {"a": {"b": ["F", "1", "u"]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := ReadSummary(strings.NewReader(tt.in)); err == nil {
				t.Errorf("ReadSummary(%q) = %+v, want an error", tt.in, s)
			}
		})
	}
}

func FuzzReadSummary(f *testing.F) {
	f.Add(`{"_id": "Piuparts Package Test Results Summary", "_version": "1.0", "_date": "d", "packages": {"a": {"overall": ["F", 3, "https://h/s/source/a/a.html"]}}}`)
	f.Add(`{"_id": "Piuparts Package Test Results Summary", "_version": "1.0", "packages": {}}`)
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ReadSummary(strings.NewReader(in))
		if err != nil {
			return
		}
		// What was read writes and reads back the same.
		var buf bytes.Buffer
		if err := s.Write(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := ReadSummary(&buf)
		if err != nil {
			t.Fatalf("ReadSummary(Write(%+v)): %v\n%s", s, err, buf.String())
		}
		if !reflect.DeepEqual(back, s) && validStrings(s) {
			t.Errorf("round trip = %+v, want %+v", back, s)
		}
	})
}

// validStrings reports whether every string of s is valid UTF-8 (Write
// turns invalid bytes into U+FFFD, so only those round-trip exactly).
func validStrings(s *Summary) bool {
	ok := func(x string) bool { return strings.ToValidUTF8(x, "\uFFFD") == x }
	if !ok(s.Date) {
		return false
	}
	for src, m := range s.Packages {
		if !ok(src) {
			return false
		}
		for js, e := range m {
			if !ok(js) || !ok(e.Flag) || !ok(e.URL) {
				return false
			}
		}
	}
	return true
}
