package testutil_test

// The cost of Debian's piuparts-report on all of bookworm main, as
// reference/report.md section 5 measured it (make bench runs it). It is a
// test, not a Benchmark: each case runs a whole process, and it asserts
// nothing about time.

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"piuparts-server/internal/testutil"
)

// BenchMasterDir builds the benchmark's master directory under dir: every
// package of bookworm main (this machine's apt lists) with
// testutil.BenchLogMix (~70% pass, 3% fail with known-problem lines, 1%
// untestable, 0.5% reserved), 250 failures moved to bugged/ and 60 to
// affected/ with a .bug each, and 3000 days of counts.txt. It returns the
// master directory, the report's section and the master directory's
// handle (to add logs).
func benchMasterDir(t *testing.T, dir string) (*testutil.MasterDir, testutil.ReportSection) {
	t.Helper()
	pkgs := testutil.AptList(t, "*_debian_dists_bookworm_main_binary-amd64_Packages*")
	srcs := testutil.AptList(t, "*_debian_dists_bookworm_main_source_Sources*")
	md := testutil.MasterDirFixture(t, testutil.MasterDirOptions{
		Dir: filepath.Join(dir, "master"), Packages: pkgs, Mix: testutil.BenchLogMix, Seed: 5,
		BuggedCount: 250, AffectedCount: 60, CountsDays: 3000,
	})
	secs := testutil.WriteMirror(t, filepath.Join(dir, "mirror"),
		[]testutil.ReportSection{{Name: "bookworm", Packages: pkgs, Sources: srcs}})
	return md, secs[0]
}

// slowest returns the n longest steps of a piuparts-report log (its
// lines start with HH:MM:SS): each line with the time until the next one.
func slowest(log string, n int) []string {
	type step struct {
		d    time.Duration
		line string
	}
	var steps []step
	var prev time.Time
	var prevLine string
	for _, line := range strings.Split(log, "\n") {
		if len(line) < 9 || line[2] != ':' || line[5] != ':' {
			continue
		}
		at, err := time.Parse("15:04:05", line[:8])
		if err != nil {
			continue
		}
		if !prev.IsZero() {
			steps = append(steps, step{at.Sub(prev), prevLine})
		}
		prev, prevLine = at, line
	}
	slices.SortStableFunc(steps, func(a, b step) int { return int(b.d - a.d) })
	var out []string
	for _, s := range steps[:min(n, len(steps))] {
		out = append(out, fmt.Sprintf("%4ds after %q", int(s.d.Seconds()), s.line))
	}
	return out
}

var (
	timeWall = regexp.MustCompile(`Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)`)
	timeRSS  = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)
	wrote    = regexp.MustCompile(`Wrote (\d+) out of (\d+) html files`)
)

// TestDebianReport_Bench times Debian's piuparts-report on all of bookworm
// main: a cold run (empty OUT, no .kpr), a rerun with nothing changed, and
// a rerun after 100 new pass logs. PIUPARTS_BENCH=1 enables it.
func TestDebianReport_Bench(t *testing.T) {
	if os.Getenv("PIUPARTS_BENCH") != "1" {
		t.Skip("set PIUPARTS_BENCH=1 (make bench) to time Debian's piuparts-report on all of bookworm main (minutes)")
	}
	testutil.NeedDebianReport(t)
	dir := t.TempDir()
	start := time.Now()
	md, sec := benchMasterDir(t, dir)
	t.Logf("master directory of %d packages with a file (%v) built in %v", len(md.Logs), md.Counts, time.Since(start).Round(time.Millisecond))

	out := filepath.Join(dir, "out")
	prefix := []string{}
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		prefix = []string{"/usr/bin/time", "-v"}
	}
	run := func(name string) {
		var st testutil.ReportStats
		begin := time.Now()
		testutil.RunDebianReport(t, testutil.ReportOptions{MasterDir: md.Dir, OutDir: out,
			Sections: []testutil.ReportSection{sec}, Stats: &st, Prefix: prefix, Timeout: 20 * time.Minute})
		wall, rss := st.Wall.String(), strconv.FormatInt(st.MaxRSS, 10)
		if m := timeWall.FindStringSubmatch(st.Log); m != nil {
			wall = m[1]
		}
		if m := timeRSS.FindStringSubmatch(st.Log); m != nil {
			rss = m[1]
		}
		written, total := 0, 0
		for _, m := range wrote.FindAllStringSubmatch(st.Log, -1) {
			w, _ := strconv.Atoi(m[1])
			n, _ := strconv.Atoi(m[2])
			written, total = written+w, total+n
		}
		newer := 0
		_ = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && strings.HasSuffix(p, ".html") {
				if info, err := d.Info(); err == nil && !info.ModTime().Before(begin) {
					newer++
				}
			}
			return nil
		})
		t.Logf("%-28s wall %s, peak RSS %s KiB, html written %d of %d (%d .html files newer than the run's start)\n"+
			"    slowest steps:\n      %s", name, wall, rss, written, total, newer, strings.Join(slowest(st.Log, 6), "\n      "))
	}
	run("cold (empty OUT, no .kpr)")
	run("rerun, nothing changed")
	added := md.AddPassLogs(t, 100)
	run("rerun after " + strconv.Itoa(len(added)) + " new logs")
}
