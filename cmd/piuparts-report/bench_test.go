package main

// The cost of our piuparts-report on all of bookworm main, side by side
// with Debian's on a copy of the same master directory, in one run
// (make bench). It is a test, not a Benchmark: each case runs a whole
// process, and it asserts nothing about time.

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"piuparts-server/internal/testutil"
)

var (
	benchWall = regexp.MustCompile(`Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)`)
	benchRSS  = regexp.MustCompile(`Maximum resident set size \(kbytes\): (\d+)`)
	benchUser = regexp.MustCompile(`User time \(seconds\): (\S+)`)
	benchSys  = regexp.MustCompile(`System time \(seconds\): (\S+)`)
)

// benchCPU returns the user and system CPU seconds /usr/bin/time -v
// reports: on a machine others share, they vary less than the wall time.
func benchCPU(out string) string {
	var u, s float64
	if m := benchUser.FindStringSubmatch(out); m != nil {
		u, _ = strconv.ParseFloat(m[1], 64)
	}
	if m := benchSys.FindStringSubmatch(out); m != nil {
		s, _ = strconv.ParseFloat(m[1], 64)
	}
	return fmt.Sprintf("%.2f s", u+s)
}

// loadAvg returns the 1-minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// newerFiles counts the files under dir modified at or after since.
func newerFiles(dir string, since time.Time) (html, all int) {
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err == nil && !info.ModTime().Before(since) {
			all++
			if strings.HasSuffix(p, ".html") {
				html++
			}
		}
		return nil
	})
	return html, all
}

// TestReport_Bench runs Debian's piuparts-report and ours on two copies of
// a master directory of all of bookworm main (~70% pass, 3% fail with
// known-problem lines, 1% untestable, 0.5% reserved, 250 bugged, 60
// affected, 3000 days of counts.txt): a cold run (empty output, no .kpr),
// a rerun with nothing new, and a rerun after 100 new pass logs. It
// prints wall time, peak RSS and the files each run wrote.
// PIUPARTS_BENCH=1 enables it; PIUPARTS_BENCH_DEBIAN=0 times ours only;
// PIUPARTS_BENCH_CPUPROFILE=FILE profiles our last rerun after new logs.
func TestReport_Bench(t *testing.T) {
	if os.Getenv("PIUPARTS_BENCH") != "1" {
		t.Skip("set PIUPARTS_BENCH=1 (make bench) to time the report on all of bookworm main (minutes)")
	}
	debian := os.Getenv("PIUPARTS_BENCH_DEBIAN") != "0"
	if debian {
		testutil.NeedDebianReport(t)
	}
	if _, err := os.Stat("/usr/bin/time"); err != nil {
		t.Skip("SKIPPED: no /usr/bin/time (package time) to measure peak RSS")
	}
	dir := t.TempDir()
	if keep := os.Getenv("PIUPARTS_BENCH_DIR"); keep != "" {
		// Kept for profiling: the directories and ours.toml stay there.
		dir = keep
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
	}
	pkgs := testutil.AptList(t, "*_debian_dists_bookworm_main_binary-amd64_Packages*")
	srcs := testutil.AptList(t, "*_debian_dists_bookworm_main_source_Sources*")
	start := time.Now()
	md := testutil.MasterDirFixture(t, testutil.MasterDirOptions{
		Dir: filepath.Join(dir, "debian", "master"), Packages: pkgs, Mix: testutil.BenchLogMix, Seed: 5,
		BuggedCount: 250, AffectedCount: 60, CountsDays: 3000,
	})
	secs := testutil.WriteMirror(t, filepath.Join(dir, "mirror"),
		[]testutil.ReportSection{{Name: "bookworm", Packages: pkgs, Sources: srcs}})
	oursMaster := filepath.Join(dir, "ours", "master")
	testutil.CopyTree(t, md.Dir, oursMaster)
	t.Logf("master directory of %d packages with a file (%v) built in %v", len(md.Logs), md.Counts,
		time.Since(start).Round(time.Millisecond))

	bin := testutil.Build(t, dir, "piuparts-server/cmd/piuparts-report")
	conf := filepath.Join(dir, "ours.toml")
	writeTOML(t, conf, oursMaster, filepath.Join(dir, "ours", "out"), secs)

	var rows []string
	row := func(run, who, wall, cpu string, rss int64, html, all int, load string) {
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %d MiB | %d | %d | %s |", run, who, wall, cpu, rss/1024, html, all, load))
	}
	runDebian := func(name string) {
		if !debian {
			return
		}
		var st testutil.ReportStats
		load := loadAvg()
		begin := time.Now()
		testutil.RunDebianReport(t, testutil.ReportOptions{MasterDir: md.Dir, OutDir: filepath.Join(dir, "debian", "out"),
			Sections: secs, Stats: &st, Prefix: []string{"/usr/bin/time", "-v"}, Timeout: 20 * time.Minute})
		wall := st.Wall.Round(10 * time.Millisecond).String()
		if m := benchWall.FindStringSubmatch(st.Log); m != nil {
			wall = m[1]
		}
		rss := st.MaxRSS
		if m := benchRSS.FindStringSubmatch(st.Log); m != nil {
			rss, _ = strconv.ParseInt(m[1], 10, 64)
		}
		html, all := newerFiles(filepath.Join(dir, "debian", "out"), begin.Truncate(time.Second))
		row(name, "Debian", wall, benchCPU(st.Log), rss, html, all, load+" → "+loadAvg())
	}
	runOurs := func(name string, args ...string) {
		load := loadAvg()
		begin := time.Now()
		cmd := exec.Command("/usr/bin/time", append([]string{"-v", bin, "-c", conf}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("our piuparts-report: %v\n%s", err, stderr.String())
		}
		wall := time.Since(begin).Round(10 * time.Millisecond).String()
		if m := benchWall.FindStringSubmatch(stderr.String()); m != nil {
			wall = m[1]
		}
		var rss int64
		if m := benchRSS.FindStringSubmatch(stderr.String()); m != nil {
			rss, _ = strconv.ParseInt(m[1], 10, 64)
		}
		html, all := newerFiles(filepath.Join(dir, "ours", "out"), begin.Truncate(time.Second))
		row(name, "ours", wall, benchCPU(stderr.String()), rss, html, all, load+" → "+loadAvg())
	}
	runDebian("cold (empty output, no .kpr)")
	runOurs("cold (empty output, no .kpr)")
	runDebian("rerun, nothing new")
	runOurs("rerun, nothing new")
	// Our first rerun of a day goes through the .kpr files and counts.txt
	// line the cold run wrote; the second finds nothing to do.
	runOurs("second rerun, nothing new")
	addLogs := func() []string {
		added := md.AddPassLogs(t, 100)
		for _, rel := range added {
			data, err := os.ReadFile(filepath.Join(md.Dir, "bookworm", rel))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(oursMaster, "bookworm", rel), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return added
	}
	added := addLogs()
	runDebian(fmt.Sprintf("rerun after %d new logs", len(added)))
	runOurs(fmt.Sprintf("rerun after %d new logs", len(added)))
	// A second batch gives a second figure of the rerun that matters
	// most, and its CPU profile when $PIUPARTS_BENCH_CPUPROFILE names a
	// file.
	added = addLogs()
	var prof []string
	if p := os.Getenv("PIUPARTS_BENCH_CPUPROFILE"); p != "" {
		prof = []string{"-cpuprofile", p}
	}
	runOurs(fmt.Sprintf("rerun after %d more new logs", len(added)), prof...)
	t.Logf("piuparts-report on all of bookworm main (files: written or touched by the run, .html and all)\n"+
		"| run | program | wall | CPU (user+sys) | peak RSS | .html files | all files | load average before → after |\n|---|---|---|---|---|---|---|---|\n%s",
		strings.Join(rows, "\n"))
}
