package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"piuparts-server/internal/testutil"
)

// writeTOML writes our config for the same sections as Debian's
// piuparts.conf.
func writeTOML(t *testing.T, path, master, out string, secs []testutil.ReportSection) {
	t.Helper()
	var b strings.Builder
	var names []string
	for _, s := range secs {
		names = append(names, fmt.Sprintf("%q", s.Name))
	}
	fmt.Fprintf(&b, "[global]\nsections = [%s]\nmaster-directory = %q\noutput-directory = %q\n"+
		"web-host = %q\ndoc-root = \"/\"\nknown-problem-directory = %q\n\n",
		strings.Join(names, ", "), master, out, testutil.DefaultWebHost, testutil.DebianKnownProblems)
	for _, s := range secs {
		distro := s.Distro
		if distro == "" {
			distro = "bookworm"
		}
		fmt.Fprintf(&b, "[%s]\nmirror = %q\ndistro = %q\narea = \"main\"\narch = \"amd64\"\nmax-reserved = 50\n",
			s.Name, "file://"+s.Mirror, distro)
		if s.Description != "" {
			fmt.Fprintf(&b, "description = %q\n", s.Description)
		}
		if len(s.DependsSections) > 0 {
			fmt.Fprintf(&b, "depends-sections = [%q]\n", strings.Join(s.DependsSections, `", "`))
		}
		if s.JSONSections != "" {
			fmt.Fprintf(&b, "json-sections = [%q]\n", s.JSONSections)
		}
		if s.Precedence != "" {
			fmt.Fprintf(&b, "precedence = %s\n", s.Precedence)
		}
		b.WriteString("\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runOurs runs our piuparts-report with the config at path.
func runOurs(t *testing.T, path string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-c", path}, &stdout, &stderr, func(string) string { return "" }, false); err != nil {
		t.Fatalf("piuparts-report: %v\n%s", err, stderr.String())
	}
	return stderr.String()
}

// TestCompat_DebianReport runs Debian's piuparts-report and ours on two
// copies of one master directory (real bookworm subsets, logs with known
// problems, stale logs, bugged and affected logs, counts.txt) and compares
// what other programs read: sources.txt, summary.json, the source and
// maintainer page paths, the packages of every state page, the .kpr files,
// what moved to archive/ and counts.txt.
func TestCompat_DebianReport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Debian's piuparts-report; skipped under -short")
	}
	testutil.NeedDebianReport(t)
	root := t.TempDir()
	secs := testutil.WriteMirror(t, filepath.Join(root, "mirror"), testutil.FixtureReportSections(t))
	md := testutil.MasterDirFixture(t, testutil.MasterDirOptions{
		Packages: testutil.Fixture(t, "Packages_bookworm_closure"), Seed: 7})
	testutil.MasterDirFixture(t, testutil.MasterDirOptions{Dir: md.Dir, Section: "bookworm-security",
		Distro: "bookworm-security", Packages: testutil.Fixture(t, "Packages_bookworm-security_for_closure"), Seed: 7})

	theirs := testutil.ReportTree{Name: "Debian", MasterDir: filepath.Join(root, "debian", "master"),
		OutDir: filepath.Join(root, "debian", "out")}
	ours := testutil.ReportTree{Name: "ours", MasterDir: filepath.Join(root, "ours", "master"),
		OutDir: filepath.Join(root, "ours", "out"), StateItems: OurStateItems}
	testutil.CopyTree(t, md.Dir, theirs.MasterDir)
	testutil.CopyTree(t, md.Dir, ours.MasterDir)

	start := time.Now()
	testutil.RunDebianReport(t, testutil.ReportOptions{MasterDir: theirs.MasterDir, OutDir: theirs.OutDir,
		Sections: secs, DocRoot: "/"})
	debianTook := time.Since(start)
	conf := filepath.Join(root, "ours.toml")
	writeTOML(t, conf, ours.MasterDir, ours.OutDir, secs)
	start = time.Now()
	runOurs(t, conf)
	t.Logf("fixture: Debian's piuparts-report %v, ours %v", debianTook.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	testutil.CompareReports(t, theirs, ours, testutil.CompareOptions{})
}

// OurStateItems returns the package ids our report lists in a state: the
// items of state-STATE.html and of the pages after it
// (state-STATE-2.html, ...), in order.
func OurStateItems(outDir, section, st string) ([]string, error) {
	out, err := testutil.DebianStateItems(outDir, section, st)
	if err != nil {
		return nil, err
	}
	for n := 2; ; n++ {
		page := fmt.Sprintf("%s-%d", st, n)
		if _, err := os.Stat(filepath.Join(outDir, section, "state-"+page+".html")); err != nil {
			return out, nil
		}
		items, err := testutil.DebianStateItems(outDir, section, page)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
	}
}

// TestCompat_DebianReportFull is TestCompat_DebianReport on all of
// bookworm main (this machine's apt lists, Sources included) with the
// benchmark's master directory: make compat-full.
func TestCompat_DebianReportFull(t *testing.T) {
	if os.Getenv("PIUPARTS_COMPAT_FULL") != "1" {
		t.Skip("set PIUPARTS_COMPAT_FULL=1 (make compat-full) to compare the reports on all of bookworm main (minutes)")
	}
	testutil.NeedDebianReport(t)
	root := t.TempDir()
	pkgs := testutil.AptList(t, "*_debian_dists_bookworm_main_binary-amd64_Packages*")
	srcs := testutil.AptList(t, "*_debian_dists_bookworm_main_source_Sources*")
	md := testutil.MasterDirFixture(t, testutil.MasterDirOptions{
		Dir: filepath.Join(root, "template"), Packages: pkgs, Mix: testutil.BenchLogMix, Seed: 5,
		BuggedCount: 250, AffectedCount: 60, CountsDays: 30,
	})
	secs := testutil.WriteMirror(t, filepath.Join(root, "mirror"),
		[]testutil.ReportSection{{Name: "bookworm", Packages: pkgs, Sources: srcs}})
	theirs := testutil.ReportTree{Name: "Debian", MasterDir: filepath.Join(root, "debian", "master"),
		OutDir: filepath.Join(root, "debian", "out")}
	ours := testutil.ReportTree{Name: "ours", MasterDir: filepath.Join(root, "ours", "master"),
		OutDir: filepath.Join(root, "ours", "out"), StateItems: OurStateItems}
	testutil.CopyTree(t, md.Dir, theirs.MasterDir)
	testutil.CopyTree(t, md.Dir, ours.MasterDir)
	testutil.RunDebianReport(t, testutil.ReportOptions{MasterDir: theirs.MasterDir, OutDir: theirs.OutDir,
		Sections: secs, DocRoot: "/", Timeout: 30 * time.Minute})
	conf := filepath.Join(root, "ours.toml")
	writeTOML(t, conf, ours.MasterDir, ours.OutDir, secs)
	runOurs(t, conf)
	testutil.CompareReports(t, theirs, ours, testutil.CompareOptions{})
}
