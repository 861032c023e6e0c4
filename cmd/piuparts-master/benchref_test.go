package main

// The side-by-side timing of Debian's master and ours on all of bookworm
// main (make bench). It is a test, not a Benchmark: each case runs whole
// processes, and it asserts nothing about time.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchCase is one row of the table: the commands of one connection and
// how the master directory is prepared before each run.
type benchCase struct {
	name     string
	cmds     []string
	cold     bool // change the Packages file first (one package more or less)
	touch    bool // touch the Packages file first: its mtime changes, not its contents
	mutates  bool // run in a fresh copy of the master directory
	empty    bool // run in an empty master directory
	oursOnly bool // Debian reads everything anyway: a row of cold
}

// benchRow is what one case measured for one program.
type benchRow struct {
	walls  []time.Duration
	cpus   []time.Duration // user+system time of each run
	maxRSS int64           // KiB, the highest of the runs
	err    error
}

func (r benchRow) min() time.Duration { return slices.Min(r.walls) }

func (r benchRow) median() time.Duration { return benchMedian(r.walls) }

func benchMedian(ds []time.Duration) time.Duration {
	w := slices.Clone(ds)
	slices.Sort(w)
	return w[len(w)/2]
}

// benchChildCPU returns the user+system time of the waited-for children of
// this process so far: the difference around a run is the run's CPU time,
// which other work on the machine disturbs less than its wall time.
func benchChildCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchRuns(env string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(env)); err == nil && n > 0 {
		return n
	}
	return def
}

func benchLoad() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// TestReference_Bench prints, for all of bookworm main with a master
// directory of ~70% pass, 3% fail and 1% untestable logs, the wall time
// (min/median) and peak RSS of Debian's master and ours, and our median
// CPU time (user+system, less disturbed by other work on the machine),
// for section+status and section+10×reserve, cold (first connection after
// the Packages file changed) and warm. It runs with PIUPARTS_BENCH=1 (make bench);
// PIUPARTS_BENCH_RUNS_DEBIAN and PIUPARTS_BENCH_RUNS_OURS set the number
// of runs (3 and 5); PIUPARTS_BENCH_RUNS_DEBIAN=0 leaves Debian's side out.
func TestReference_Bench(t *testing.T) {
	if os.Getenv("PIUPARTS_BENCH") != "1" {
		t.Skip("set PIUPARTS_BENCH=1 to time Debian's master against ours on all of bookworm main (minutes)")
	}
	bin := buildMaster(t)
	f := refArchiveFarm(t, bin, refArchiveMix, true)
	loadBefore := benchLoad()

	type prog struct {
		p      refProgram
		runs   int
		dir    string // a long-lived copy of the template, its cache kept
		cached int    // the version of the Packages file dir's cache is for, -1: none
	}
	progs := []*prog{}
	debian := os.Getenv("PIUPARTS_BENCH_RUNS_DEBIAN") != "0" // 0: time ours only
	for _, p := range []string{refPython, refBackend} {
		if _, err := os.Stat(p); err != nil {
			debian = false
			t.Logf("SKIPPING Debian's side: %v (install piuparts-master)", err)
		}
	}
	if debian {
		progs = append(progs, &prog{p: f.debianProgram(), runs: benchRuns("PIUPARTS_BENCH_RUNS_DEBIAN", 3)})
	}
	progs = append(progs, &prog{p: f.oursProgram(bin), runs: benchRuns("PIUPARTS_BENCH_RUNS_OURS", 5)})
	for _, p := range progs {
		p.dir, p.cached = f.refCopy(t), -1
	}

	section := "section " + f.sections[0].name
	reserve := []string{section}
	for range 10 {
		reserve = append(reserve, "reserve")
	}
	cases := []benchCase{
		{name: "section+status, cold", cmds: []string{section, "status"}, cold: true},
		{name: "section+status, Packages touched", cmds: []string{section, "status"}, touch: true, oursOnly: true},
		{name: "section+status, warm", cmds: []string{section, "status"}},
		{name: "section+10×reserve, cold", cmds: reserve, cold: true, mutates: true},
		{name: "section+10×reserve, warm", cmds: reserve, mutates: true},
		{name: "section+status, empty master dir", cmds: []string{section, "status"}, empty: true},
	}
	touch := func() {
		now := time.Now()
		if err := os.Chtimes(f.indexes[0], now, now); err != nil {
			t.Fatal(err)
		}
	}
	// change swaps in the other version of the Packages file, as a mirror
	// update does.
	live := 0
	change := func() {
		live = 1 - live
		cur, tmp := f.indexes[0], f.indexes[0]+".swap"
		for _, mv := range [][2]string{{cur, tmp}, {f.alt, cur}, {tmp, f.alt}} {
			if err := os.Rename(mv[0], mv[1]); err != nil {
				t.Fatal(err)
			}
		}
		touch()
	}
	results := make([][]benchRow, len(cases))
	for ci, c := range cases {
		results[ci] = make([]benchRow, len(progs))
		for pi, p := range progs {
			row := &results[ci][pi]
			if c.oursOnly && p.p.name != "ours" {
				row.err = errNotRun
				continue
			}
			if !c.empty {
				// The cache (ours) is up to date with the Packages file
				// before the first run: warm stays so, cold changes it.
				if _, err := p.p.run(t.Context(), p.dir, []string{section, "status"}); err != nil {
					row.err = err
					continue
				}
				p.cached = live
			}
			for range p.runs {
				dir := p.dir
				switch {
				case c.empty:
					var err error
					if dir, err = os.MkdirTemp(f.root, "empty-"); err != nil {
						t.Fatal(err)
					}
				case c.mutates:
					dir = benchCopy(t, p.dir)
				}
				switch {
				case c.cold && p.cached == live:
					// The Packages file must differ from the one the
					// cache (copied or not) was computed for.
					change()
				case c.cold, c.touch:
					touch()
				}
				computed := benchComputed(dir, f.sections[0].name)
				cpu0 := benchChildCPU()
				res, err := p.p.run(t.Context(), dir, c.cmds)
				cpu := benchChildCPU() - cpu0
				if err != nil {
					row.err = err
					break
				}
				if bad := benchCheck(c, res.lines); bad != "" {
					row.err = fmt.Errorf("%s: %s", p.p.name, bad)
					break
				}
				// Cold must have computed the states, warm must not.
				if p.p.name == "ours" {
					again := benchComputed(dir, f.sections[0].name) > computed
					if again != (c.cold || c.empty) {
						row.err = fmt.Errorf("ours: states computed %v in this run, want %v (see %s)",
							again, c.cold || c.empty, filepath.Join(dir, "master", f.sections[0].name, "master.log"))
						break
					}
				}
				if dir == p.dir {
					p.cached = live
				}
				row.walls = append(row.walls, res.wall)
				row.cpus = append(row.cpus, cpu)
				row.maxRSS = max(row.maxRSS, res.maxRSS)
				if dir != p.dir {
					os.RemoveAll(dir)
				}
			}
			if row.err != nil && !errors.Is(row.err, errNotRun) {
				t.Errorf("%s, %s: %v", c.name, p.p.name, row.err)
			}
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "\nbookworm main: %d packages; master directory: ~70%% pass, 3%% fail, 1%% untestable logs\n",
		len(f.sections[0].pkgs))
	var runs []string
	for _, p := range progs {
		runs = append(runs, fmt.Sprintf("%s %d", p.p.name, p.runs))
	}
	fmt.Fprintf(&b, "runs per case: %s; load average before %s, after %s; %d CPUs\n\n",
		strings.Join(runs, ", "), loadBefore, benchLoad(), runtime.NumCPU())
	benchTable(&b, cases, progs[0].p.name == "Debian", results)
	fmt.Fprint(os.Stdout, b.String())
	t.Log(b.String())
}

// errNotRun marks a case that a program does not run.
var errNotRun = errors.New("not run")

// errNotTimed marks Debian's column when only ours is timed.
var errNotTimed = errors.New("not timed")

// benchComputed counts the times our master logged that it computed the
// section's states in dir.
func benchComputed(dir, section string) int {
	data, _ := os.ReadFile(filepath.Join(dir, "master", section, "master.log"))
	return bytes.Count(data, []byte(`"message":"states computed"`))
}

// benchCheck reports an answer that shows the run did not do the work.
func benchCheck(c benchCase, lines []string) string {
	if lines[1] != "ok" {
		return fmt.Sprintf("section answered %q", lines[1])
	}
	for _, l := range lines[2:] {
		if l != "error" && !strings.HasPrefix(l, "ok ") {
			return fmt.Sprintf("answered %q", refCut(l))
		}
	}
	if c.cmds[1] == "status" && !strings.Contains(lines[2], "total=") {
		return fmt.Sprintf("status answered %q", lines[2])
	}
	return ""
}

// benchTable writes the table; with only ours measured, Debian's columns
// say so.
func benchTable(w io.Writer, cases []benchCase, withDebian bool, results [][]benchRow) {
	cell := func(r benchRow) string {
		switch {
		case errors.Is(r.err, errNotRun):
			return "(as cold)"
		case errors.Is(r.err, errNotTimed):
			return "(not timed)"
		}
		if r.err != nil || len(r.walls) == 0 {
			return "failed"
		}
		return fmt.Sprintf("%s / %s", benchDur(r.min()), benchDur(r.median()))
	}
	fmt.Fprintf(w, "%-34s | %-21s | %-21s | %8s | %11s | %11s | %10s\n",
		"case", "Debian min / median", "ours min / median", "ratio", "RSS Debian", "RSS ours", "CPU ours")
	fmt.Fprintf(w, "%s\n", strings.Repeat("-", 34+21+21+8+11+11+10+18))
	for ci, c := range cases {
		var deb, ours benchRow
		if withDebian {
			deb, ours = results[ci][0], results[ci][1]
		} else {
			deb, ours = benchRow{err: errNotTimed}, results[ci][0]
		}
		ratio, rssD := "-", "-"
		if deb.err == nil && len(deb.walls) > 0 {
			rssD = benchRSS(deb.maxRSS)
			if ours.err == nil && len(ours.walls) > 0 && ours.median() > 0 {
				ratio = fmt.Sprintf("%.0f×", float64(deb.median())/float64(ours.median()))
			}
		}
		rssO, cpuO := "-", "-"
		if ours.err == nil && len(ours.walls) > 0 {
			rssO = benchRSS(ours.maxRSS)
			cpuO = benchDur(benchMedian(ours.cpus)) // user+system, median
		}
		fmt.Fprintf(w, "%-34s | %-21s | %-21s | %8s | %11s | %11s | %10s\n", c.name, cell(deb), cell(ours), ratio, rssD, rssO, cpuO)
	}
}

func benchDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	default:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
}

func benchRSS(kib int64) string { return fmt.Sprintf("%.0f MiB", float64(kib)/1024) }

// benchCopy copies a program's master directory (logs and, for ours, its
// database) so that a reserve run starts from the same state; it is not
// timed, nor is writing the copy back to disk: without the sync, the
// first fsync of the timed run (ours syncs every reservation, Debian's
// master nothing) waited for the ~50,000 copied files' journal commit.
func benchCopy(t testing.TB, src string) string {
	t.Helper()
	dir, err := os.MkdirTemp(filepath.Dir(src), "copy-")
	if err != nil {
		t.Fatal(err)
	}
	refCopyTree(t, src, dir)
	syscall.Sync()
	return dir
}
