package testutil_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"piuparts-server/internal/testutil"
)

// fixtureMasterDir lays out the master directory of fixtureSections.
func fixtureMasterDir(t *testing.T, seed uint64) *testutil.MasterDir {
	t.Helper()
	md := testutil.MasterDirFixture(t, testutil.MasterDirOptions{
		Packages: testutil.Fixture(t, "Packages_bookworm_closure"), Seed: seed})
	testutil.MasterDirFixture(t, testutil.MasterDirOptions{Dir: md.Dir, Section: "bookworm-security",
		Distro: "bookworm-security", Packages: testutil.Fixture(t, "Packages_bookworm-security_for_closure"), Seed: seed})
	return md
}

// runOnCopy runs Debian's report on a copy of the master directory
// template and returns the report's tree.
func runOnCopy(t *testing.T, template, name string) (testutil.ReportTree, testutil.ReportStats) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	testutil.CopyTree(t, template, filepath.Join(dir, "master"))
	var st testutil.ReportStats
	out := testutil.RunDebianReport(t, testutil.ReportOptions{
		MasterDir: filepath.Join(dir, "master"), OutDir: filepath.Join(dir, "out"),
		Sections: testutil.FixtureReportSections(t), Stats: &st,
	})
	return testutil.ReportTree{Name: name, OutDir: out, MasterDir: filepath.Join(dir, "master")}, st
}

// TestRunDebianReport_Fixture checks the harness: Debian's report on the
// fixture master directory writes what the comparison reads.
func TestRunDebianReport_Fixture(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Debian's piuparts-report (about a second); skipped under -short")
	}
	testutil.NeedDebianReport(t)
	md := fixtureMasterDir(t, 1)
	tree, st := runOnCopy(t, md.Dir, "debian")
	t.Logf("Debian's piuparts-report on the fixture (bookworm: %d packages with a file, %v; and bookworm-security): %v wall, %d KiB peak RSS",
		len(md.Logs), md.Counts, st.Wall, st.MaxRSS)

	out := filepath.Join(tree.OutDir, "bookworm")
	for _, p := range []string{"sources.txt", "summary.json", "../summary.json", "index.html", "counts.txt",
		"source/a/apt.html", "dependency_error.html", "unclassified_failures.html",
		"../bookworm-security/sources.txt", "../bookworm-security/summary.json"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Error(err)
		}
	}
	// The global summary merges the sections' json-sections and adds overall.
	global, err := os.ReadFile(filepath.Join(tree.OutDir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"stable-security": [`, `"overall": [`} {
		if !bytes.Contains(global, []byte(key)) {
			t.Errorf("summary.json has no %s", key)
		}
	}
	for _, s := range testutil.ReportStates {
		items, err := testutil.DebianStateItems(tree.OutDir, "bookworm", s)
		if err != nil {
			t.Error(err)
		}
		if s == "successfully-tested" && len(items) < 50 {
			t.Errorf("state-%s.html lists %d packages, want most of the pass logs", s, len(items))
		}
	}
	// Every fail, bugged, affected and pass log got its .kpr; the fail
	// ones each a known problem or unclassified_failures.conf.
	base := filepath.Join(tree.MasterDir, "bookworm")
	kinds := map[string]int{}
	for _, dir := range []string{"pass", "fail", "bugged", "affected"} {
		logs, _ := filepath.Glob(filepath.Join(base, dir, "*.log"))
		for _, l := range logs {
			kpr, err := os.ReadFile(strings.TrimSuffix(l, ".log") + ".kpr")
			if err != nil {
				t.Errorf("no .kpr for %s: %v", l, err)
				continue
			}
			if dir != "pass" && len(kpr) == 0 {
				t.Errorf("%s: empty .kpr for a failure", l)
			}
			for _, line := range strings.Split(strings.TrimSpace(string(kpr)), "\n") {
				if f := strings.Fields(line); len(f) == 2 {
					kinds[f[1]]++
				}
			}
		}
	}
	if kinds["unclassified_failures.conf"] == 0 || kinds["dependency_error.conf"] == 0 || kinds["broken_symlinks_issue.conf"] == 0 {
		t.Errorf("known problems found: %v; want unclassified, dependency_error and broken_symlinks_issue among them", kinds)
	}
	if arch, _ := filepath.Glob(filepath.Join(base, "archive", "*", "*.log")); len(arch) == 0 {
		t.Error("no log moved to archive/: the stale logs should be")
	}
}

// fakeTB records the errors CompareReports reports.
type fakeTB struct {
	testing.TB
	errs []string
}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.errs = append(f.errs, "FATAL "+fmt.Sprintf(format, args...))
}

// TestCompareReports runs Debian's report twice on copies of the fixture:
// the two must compare equal, and a mutated copy must not, in each aspect.
func TestCompareReports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Debian's piuparts-report twice; skipped under -short")
	}
	testutil.NeedDebianReport(t)
	md := fixtureMasterDir(t, 2)
	a, _ := runOnCopy(t, md.Dir, "debian-a")
	b, _ := runOnCopy(t, md.Dir, "debian-b")

	t.Run("Same", func(t *testing.T) {
		testutil.CompareReports(t, a, b, testutil.CompareOptions{})
	})

	t.Run("Mutated", func(t *testing.T) {
		m := testutil.ReportTree{Name: "mutated", OutDir: filepath.Join(t.TempDir(), "out"),
			MasterDir: filepath.Join(t.TempDir(), "master")}
		testutil.CopyTree(t, b.OutDir, m.OutDir)
		testutil.CopyTree(t, b.MasterDir, m.MasterDir)
		sec := filepath.Join(m.OutDir, "bookworm")
		edit(t, filepath.Join(sec, "sources.txt"), regexp.MustCompile(`(?m)^apt: \w+$`), "apt: unknown-ish")
		edit(t, filepath.Join(sec, "summary.json"), regexp.MustCompile(`"[FPWX-]",\n\s*\d+,\n(\s*"https://[^"]*/source/a/apt.html")`),
			"\"Q\",\n 99,\n$1")
		edit(t, filepath.Join(m.OutDir, "summary.json"), regexp.MustCompile(`"_id": "[^"]*"`), `"_id": "other"`)
		if err := os.Remove(filepath.Join(sec, "source", "a", "apt.html")); err != nil {
			t.Fatal(err)
		}
		// Every item renamed: more differences than MaxDiffs prints.
		page := filepath.Join(sec, "state-successfully-tested.html")
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(page, bytes.ReplaceAll(data, []byte(`<li id="`), []byte(`<li id="x-`)), 0o644); err != nil {
			t.Fatal(err)
		}
		kprs, _ := filepath.Glob(filepath.Join(m.MasterDir, "bookworm", "fail", "*.kpr"))
		if len(kprs) == 0 {
			t.Fatal("no fail/*.kpr to mutate")
		}
		if err := os.WriteFile(kprs[0], []byte("fail/x_1.log made_up.conf\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		ft := &fakeTB{TB: t}
		testutil.CompareReports(ft, a, m, testutil.CompareOptions{MaxDiffs: 3})
		all := strings.Join(ft.errs, "\n")
		t.Logf("what the comparison printed:\n%s", all)
		for _, want := range []string{"bookworm/sources.txt differs", "line 5: - \"apt: pass\"",
			"bookworm/summary.json differs", "apt oldstable: - [\"P\",0,", "\nsummary.json differs", "_id: -",
			"bookworm/source/ differs", "- a/apt.html", "bookworm/state-successfully-tested differs", "- adduser",
			"bookworm .kpr differs", "made_up.conf", "... and "} {
			if !strings.Contains("\n"+all, want) {
				t.Errorf("the comparison did not report %q", want)
			}
		}
		if strings.Contains(all, "FATAL") {
			t.Error("a mutation of ours made the comparison fatal; it must report differences")
		}
	})
}

// edit replaces the first match of re in the file at path.
func edit(t *testing.T, path string, re *regexp.Regexp, repl string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	loc := re.FindSubmatchIndex(data)
	if loc == nil {
		t.Fatalf("%s: no match for %s", path, re)
	}
	var dst []byte
	dst = re.Expand(dst, []byte(repl), data, loc)
	data = bytes.Join([][]byte{data[:loc[0]], dst, data[loc[1]:]}, nil)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRunDebianReport_DemoArchive runs Debian's report on the demo's
// archive (deploy/demo/archive, with its Sources), as a report of `make
// demo` would: every source package of the archive gets a line in
// sources.txt.
func TestRunDebianReport_DemoArchive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Debian's piuparts-report (about a second); skipped under -short")
	}
	testutil.NeedDebianReport(t)
	archive, err := filepath.Abs(filepath.Join(filepath.Dir(testutil.Fixture(t, "README.md")), "..", "..", "..", "deploy", "demo", "archive"))
	if err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(archive, "dists", "bookworm", "main")
	md := testutil.MasterDirFixture(t, testutil.MasterDirOptions{Packages: filepath.Join(main, "binary-amd64", "Packages"), Seed: 3})
	out := testutil.RunDebianReport(t, testutil.ReportOptions{MasterDir: md.Dir,
		Sections: []testutil.ReportSection{{Name: "bookworm", Mirror: archive}}})
	srcs, err := os.ReadFile(filepath.Join(main, "source", "Sources"))
	if err != nil {
		t.Fatal(err)
	}
	txt, err := os.ReadFile(filepath.Join(out, "bookworm", "sources.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Count(srcs, []byte("\nPackage: ")) + 1
	if got := bytes.Count(txt, []byte("\n")); got != want {
		t.Errorf("sources.txt has %d lines, want one for each of the %d stanzas of the demo's Sources", got, want)
	}
}
