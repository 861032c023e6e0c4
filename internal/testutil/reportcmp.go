package testutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// ReportStates are the states piuparts-report writes a state-STATE.html
// page for, in its order (piupartslib's active states).
var ReportStates = []string{
	"successfully-tested", "failed-testing", "cannot-be-tested", "waiting-to-be-tested",
	"waiting-for-dependency-to-be-tested", "dependency-failed-testing", "dependency-cannot-be-tested",
	"dependency-does-not-exist", "unknown", "outdated",
}

// ReportTree is one report to compare: its output directory, the copy of
// the master directory its run used (where it wrote .kpr files, moved logs
// to archive/ and appended to counts.txt), and how to read the packages of
// its state pages.
type ReportTree struct {
	Name      string // "Debian", "ours": for the messages
	OutDir    string
	MasterDir string
	// StateItems returns the names of the packages the report lists in the
	// state STATE of SECTION, in any order. nil means [DebianStateItems];
	// ours may read its pages or a JSON index instead.
	StateItems func(outDir, section, state string) ([]string, error)
}

// CompareOptions say what [CompareReports] and [DiffReports] compare.
type CompareOptions struct {
	// Sections are the section directories to compare; nil compares those
	// of want's summary (its OUT/SECTION/summary.json files).
	Sections []string
	// MaxDiffs is how many differences each aspect prints; default 10.
	MaxDiffs int
	// Skip names aspects not to compare: "sources.txt", "summary.json",
	// "pages" (source and maintainer page paths), "state-pages", "kpr",
	// "archive", "counts.txt".
	Skip map[string]bool
}

// ReportDiff is the difference of two reports in one aspect.
type ReportDiff struct {
	Aspect  string   // as in CompareOptions.Skip, with the section: "bookworm/summary.json"
	Lines   []string // the first differences, one a line
	Omitted int      // differences left out past MaxDiffs
}

// String formats d as its aspect followed by its lines, indented.
func (d ReportDiff) String() string { return d.Aspect + ":\n  " + d.body() }

func (d ReportDiff) body() string {
	s := strings.Join(d.Lines, "\n  ")
	if d.Omitted > 0 {
		s += fmt.Sprintf("\n  ... and %d more", d.Omitted)
	}
	return s
}

// CompareReports compares the reports want (Debian's) and got (ours) with
// [DiffReports] and reports each aspect that differs, with its first
// differences, as an error of t; an aspect it cannot read is fatal.
func CompareReports(t testing.TB, want, got ReportTree, opts CompareOptions) {
	t.Helper()
	diffs, err := DiffReports(want, got, opts)
	if err != nil {
		t.Fatalf("compare reports %s and %s: %v", want.Name, got.Name, err)
	}
	for _, d := range diffs {
		t.Errorf("%s differs (- %s, + %s)\n  %s", d.Aspect, want.Name, got.Name, d.body())
	}
}

// DiffReports compares the reports want and got in what must be the same
// for piuparts-report's users, section by section:
//
//   - sources.txt, byte for byte;
//   - SECTION/summary.json and the global summary.json: for every source
//     and json-section, the flag, the block count and the URL, and the
//     header keys but "_date";
//   - the set of SECTION/source/X/SRC.html and SECTION/maintainer/x/EMAIL.html paths;
//   - the packages of each state (see [ReportTree.StateItems]);
//   - the .kpr file of every log in the master directories;
//   - the files the runs moved to SECTION/archive/, and counts.txt.
//
// It returns the aspects that differ, in that order, and an error when a
// file that must exist in both cannot be read.
func DiffReports(want, got ReportTree, opts CompareOptions) ([]ReportDiff, error) {
	if opts.MaxDiffs == 0 {
		opts.MaxDiffs = 10
	}
	sections := opts.Sections
	if sections == nil {
		m, _ := filepath.Glob(filepath.Join(want.OutDir, "*", "summary.json"))
		for _, p := range m {
			sections = append(sections, filepath.Base(filepath.Dir(p)))
		}
		if len(sections) == 0 {
			return nil, fmt.Errorf("no SECTION/summary.json in %s", want.OutDir)
		}
	}
	var diffs []ReportDiff
	add := func(aspect string, lines []string) {
		if len(lines) == 0 {
			return
		}
		d := ReportDiff{Aspect: aspect, Lines: lines}
		if len(lines) > opts.MaxDiffs {
			d.Lines, d.Omitted = lines[:opts.MaxDiffs], len(lines)-opts.MaxDiffs
		}
		diffs = append(diffs, d)
	}
	for _, s := range sections {
		if !opts.Skip["sources.txt"] {
			w, err := os.ReadFile(filepath.Join(want.OutDir, s, "sources.txt"))
			if err != nil {
				return nil, err
			}
			g, err := os.ReadFile(filepath.Join(got.OutDir, s, "sources.txt"))
			if err != nil {
				add(s+"/sources.txt", []string{err.Error()})
			} else {
				add(s+"/sources.txt", diffLines(w, g))
			}
		}
		if !opts.Skip["summary.json"] {
			lines, err := diffSummary(filepath.Join(want.OutDir, s, "summary.json"), filepath.Join(got.OutDir, s, "summary.json"))
			if err != nil {
				return nil, err
			}
			add(s+"/summary.json", lines)
		}
		if !opts.Skip["pages"] {
			for _, sub := range []string{"source", "maintainer"} {
				w, err := listFiles(filepath.Join(want.OutDir, s, sub), ".html")
				if err != nil {
					return nil, err
				}
				g, _ := listFiles(filepath.Join(got.OutDir, s, sub), ".html")
				add(s+"/"+sub+"/", diffSets(w, g))
			}
		}
		if !opts.Skip["state-pages"] {
			for _, st := range ReportStates {
				w, err := stateItems(want, s, st)
				if err != nil {
					return nil, err
				}
				g, err := stateItems(got, s, st)
				if err != nil {
					add(s+"/state-"+st, []string{err.Error()})
					continue
				}
				add(s+"/state-"+st, diffSets(w, g))
			}
		}
		if !opts.Skip["kpr"] {
			lines, err := diffKPR(filepath.Join(want.MasterDir, s), filepath.Join(got.MasterDir, s))
			if err != nil {
				return nil, err
			}
			add(s+" .kpr", lines)
		}
		if !opts.Skip["archive"] {
			w, _ := listFiles(filepath.Join(want.MasterDir, s, "archive"), "")
			g, _ := listFiles(filepath.Join(got.MasterDir, s, "archive"), "")
			add(s+"/archive/", diffSets(w, g))
		}
		if !opts.Skip["counts.txt"] {
			w, err := os.ReadFile(filepath.Join(want.MasterDir, s, "counts.txt"))
			if err != nil {
				return nil, err
			}
			g, err := os.ReadFile(filepath.Join(got.MasterDir, s, "counts.txt"))
			if err != nil {
				add(s+"/counts.txt", []string{err.Error()})
			} else {
				add(s+"/counts.txt", diffLines(w, g))
			}
		}
	}
	if !opts.Skip["summary.json"] {
		lines, err := diffSummary(filepath.Join(want.OutDir, "summary.json"), filepath.Join(got.OutDir, "summary.json"))
		if err != nil {
			return nil, err
		}
		add("summary.json", lines)
	}
	return diffs, nil
}

func stateItems(r ReportTree, section, state string) ([]string, error) {
	f := r.StateItems
	if f == nil {
		f = DebianStateItems
	}
	items, err := f(r.OutDir, section, state)
	if err != nil {
		return nil, fmt.Errorf("%s: state %s of %s: %w", r.Name, state, section, err)
	}
	slices.Sort(items)
	return items, nil
}

var liID = regexp.MustCompile(`<li id="([^"]*)"`)

// DebianStateItems returns the package names of Debian's
// OUT/SECTION/state-STATE.html: the ids of its `<li id=NAME>` items. It
// returns the error of reading the page.
func DebianStateItems(outDir, section, state string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(outDir, section, "state-"+state+".html"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range liID.FindAllSubmatch(data, -1) {
		out = append(out, string(m[1]))
	}
	return out, nil
}

// diffLines compares two texts line by line: the first lines that differ
// with their line numbers, then the lines that only one of them has.
func diffLines(want, got []byte) []string {
	if bytes.Equal(want, got) {
		return nil
	}
	w := strings.Split(string(want), "\n")
	g := strings.Split(string(got), "\n")
	var out []string
	for i := 0; i < max(len(w), len(g)); i++ {
		switch {
		case i >= len(w):
			out = append(out, fmt.Sprintf("line %d: + %q", i+1, cut(g[i])))
		case i >= len(g):
			out = append(out, fmt.Sprintf("line %d: - %q", i+1, cut(w[i])))
		case w[i] != g[i]:
			out = append(out, fmt.Sprintf("line %d: - %q + %q", i+1, cut(w[i]), cut(g[i])))
		}
	}
	return out
}

// diffSets compares two sorted lists: "- x" for what only want has, "+ x"
// for what only got has.
func diffSets(want, got []string) []string {
	var out []string
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j >= len(got) || (i < len(want) && want[i] < got[j]):
			out = append(out, "- "+want[i])
			i++
		case i >= len(want) || got[j] < want[i]:
			out = append(out, "+ "+got[j])
			j++
		default:
			i++
			j++
		}
	}
	return out
}

// listFiles returns the sorted paths, relative to dir, of the regular
// files under dir whose names end in suffix. A missing dir has none.
func listFiles(dir, suffix string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && os.IsNotExist(err) {
				return fs.SkipDir
			}
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, suffix) {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

// summary is pkgsummary's summary.json.
type summary struct {
	Comment  string                                  `json:"_comment"`
	ID       string                                  `json:"_id"`
	Type     string                                  `json:"_type"`
	Version  string                                  `json:"_version"`
	Packages map[string]map[string][]json.RawMessage `json:"packages"`
}

func readSummary(path string) (*summary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s summary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// diffSummary compares two summary.json files: their header (not _date)
// and, for every source and json-section, the flag, block count and URL.
// A got file that is missing or malformed is one difference.
func diffSummary(wantPath, gotPath string) ([]string, error) {
	w, err := readSummary(wantPath)
	if err != nil {
		return nil, err
	}
	g, err := readSummary(gotPath)
	if err != nil {
		return []string{err.Error()}, nil
	}
	var out []string
	for _, h := range [][3]string{{"_comment", w.Comment, g.Comment}, {"_id", w.ID, g.ID},
		{"_type", w.Type, g.Type}, {"_version", w.Version, g.Version}} {
		if h[1] != h[2] {
			out = append(out, fmt.Sprintf("%s: - %q + %q", h[0], h[1], h[2]))
		}
	}
	var srcs []string
	for s := range w.Packages {
		srcs = append(srcs, s)
	}
	for s := range g.Packages {
		if _, ok := w.Packages[s]; !ok {
			srcs = append(srcs, s)
		}
	}
	slices.Sort(srcs)
	for _, src := range srcs {
		ws, gs := w.Packages[src], g.Packages[src]
		var keys []string
		for k := range ws {
			keys = append(keys, k)
		}
		for k := range gs {
			if _, ok := ws[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			wv, wok := ws[k]
			gv, gok := gs[k]
			switch {
			case !gok:
				out = append(out, fmt.Sprintf("%s %s: - %s", src, k, joinRaw(wv)))
			case !wok:
				out = append(out, fmt.Sprintf("%s %s: + %s", src, k, joinRaw(gv)))
			case joinRaw(wv) != joinRaw(gv):
				out = append(out, fmt.Sprintf("%s %s: - %s + %s", src, k, joinRaw(wv), joinRaw(gv)))
			}
		}
	}
	return out, nil
}

// joinRaw formats [flag, count, url] in one canonical form.
func joinRaw(v []json.RawMessage) string {
	parts := make([]string, len(v))
	for i, r := range v {
		var x any
		if json.Unmarshal(r, &x) == nil {
			b, _ := json.Marshal(x)
			parts[i] = string(b)
		} else {
			parts[i] = string(r)
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// diffKPR compares the .kpr files of two section directories: the same
// paths, and for each the same lines.
func diffKPR(want, got string) ([]string, error) {
	w, err := listFiles(want, ".kpr")
	if err != nil {
		return nil, err
	}
	g, err := listFiles(got, ".kpr")
	if err != nil {
		return nil, err
	}
	out := diffSets(w, g)
	for _, p := range w {
		if _, ok := slices.BinarySearch(g, p); !ok {
			continue
		}
		wd, err := os.ReadFile(filepath.Join(want, p))
		if err != nil {
			return nil, err
		}
		gd, err := os.ReadFile(filepath.Join(got, p))
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(wd, gd) {
			out = append(out, fmt.Sprintf("%s: - %q + %q", p, cutN(string(wd), 300), cutN(string(gd), 300)))
		}
	}
	return out, nil
}

// cutN shortens s to its first n bytes for a message.
func cutN(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
