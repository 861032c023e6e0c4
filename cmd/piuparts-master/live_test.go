package main

// The proof of equality of issue 13: a master directory served by our
// master server (master-server on, its states kept live in memory) goes
// through random sequences of sessions, recycle marks, files moved by
// hand and maintenance jobs; every few steps its answers to status, every
// _list and every _state are compared with a computation from scratch on
// a copy (a connection of its own, master-server off) and with Debian's
// master on another copy.

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// liveLogDirs are the directories whose logs make a package tested (the
// reference's _most without reserved/ and recycle/).
var liveLogDirs = []string{"pass", "fail", "untestable", "bugged", "affected"}

// liveRun is one random sequence on one run directory.
type liveRun struct {
	f      *refFarm
	bin    string
	rng    *rand.Rand
	seed   uint64
	run    string     // the run directory, holding master/
	live   refProgram // our master in its default server mode
	fresh  refProgram // our master with master-server = false
	backup string     // backup-directory of the live config
	debian bool       // Debian's master is installed
	step   int
	// touched are the sections changed since the last comparison.
	touched map[string]bool
	checks  int
	final   bool // the comparisons at the end
}

// liveConfig writes the farm's TOML config with extra lines at the top of
// [global] to path.
func liveConfig(t *testing.T, f *refFarm, path string, extra ...string) {
	t.Helper()
	data, err := os.ReadFile(f.toml)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.Contains(s, "[global]\n") {
		t.Fatalf("%s has no [global] table", f.toml)
	}
	s = strings.Replace(s, "[global]\n", "[global]\n"+strings.Join(extra, "\n")+"\n", 1)
	refWrite(t, path, []byte(s))
}

// liveServers returns the pids of the master servers that bin started.
func liveServers(t *testing.T, bin string) []int {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // gone meanwhile
		}
		argv := strings.Split(string(data), "\x00")
		if len(argv) > 0 && argv[0] == bin && slices.Contains(argv, "server") {
			pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			if err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// TestLive_RandomSequences applies random sequences of sessions
// (reserve, then pass/fail/untestable/unreserve), recycle marks, logs
// moved, added or removed by hand, reserved/ markers made and removed by
// hand and maintenance jobs to one master directory that our master
// server serves, checks every reserve answer (never a package with a log
// of its test version or a reserved/ marker), and every few steps compares
// the server's status, _list and _state answers with our master computing
// from scratch on copies (the database's consistent copy with a log
// directory's mtime changed, the copy as it is, the tree without the
// database) and with Debian's master.
func TestLive_RandomSequences(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, starts master servers and runs Debian's master")
	}
	lf := newLiveFarm(t)
	start := time.Now()
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			r := lf.newRun(t, seed)
			r.sequence(t, 40+r.rng.IntN(21))
		})
	}
	t.Logf("%v in all", time.Since(start).Round(time.Millisecond))
}

// liveFarm is the binary and the farm that the runs of a test share.
type liveFarm struct {
	f      *refFarm
	bin    string
	fresh  string // the config with master-server = false
	debian bool   // Debian's master is installed
}

// newLiveFarm builds the binary and the small farm, and makes sure at the
// test's end that no master server it started is left.
func newLiveFarm(t *testing.T) *liveFarm {
	t.Helper()
	bin := buildMaster(t)
	f := refSmallFarm(t, bin)
	debian := true
	for _, p := range []string{refPython, refBackend} {
		if _, err := os.Stat(p); err != nil {
			debian = false
			t.Logf("Debian's master is not installed (%v): comparing with our computation from scratch only; "+
				"install the piuparts-master package (make test-deps) to compare with it too", err)
		}
	}
	freshConf := filepath.Join(f.root, "fresh.toml")
	liveConfig(t, f, freshConf, "master-server = false")
	// The servers exit when their master directory is gone (checked each
	// second): remove the runs before the farm's TempDir cleanup and wait
	// for that, so that no server outlives the test.
	t.Cleanup(func() {
		runs, _ := filepath.Glob(filepath.Join(f.root, "run-*"))
		for _, r := range runs {
			os.RemoveAll(r)
		}
		// Poll: the servers look at their directory once a second, and
		// nothing tells this process when they exit.
		deadline := time.Now().Add(15 * time.Second)
		for {
			pids := liveServers(t, bin)
			if len(pids) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("master servers %v still run 15 s after their directories were removed: killing them", pids)
				for _, pid := range pids {
					syscall.Kill(pid, syscall.SIGKILL)
				}
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return &liveFarm{f: f, bin: bin, fresh: freshConf, debian: debian}
}

// newRun makes a run directory, a copy of the farm's template, with a
// config of its own for a server of its own, and the generator of seed.
func (lf *liveFarm) newRun(t *testing.T, seed uint64) *liveRun {
	t.Helper()
	r := &liveRun{f: lf.f, bin: lf.bin, seed: seed, rng: rand.New(rand.NewPCG(seed, 13)), run: lf.f.refCopy(t), debian: lf.debian,
		fresh: refProgram{name: "ours (from scratch)", argv: []string{lf.bin, "-c", lf.fresh}}, touched: map[string]bool{}}
	r.backup = filepath.Join(lf.f.root, fmt.Sprintf("backup-%d", seed))
	liveConf := filepath.Join(lf.f.root, fmt.Sprintf("live-%d.toml", seed))
	liveConfig(t, lf.f, liveConf, `master-server-idle = "1m"`, fmt.Sprintf("backup-directory = %q", r.backup))
	r.live = refProgram{name: "ours (server)", argv: []string{lf.bin, "-c", liveConf}}
	return r
}

// TestLive_ReservedByHand is the smallest case of the random sequences
// that found the server answering from states that a change of reserved/
// made stale: an operator removes the markers of a dead slave (rm
// SECTION/reserved/*), then reserves some packages by hand; a package
// reserved without a log is waiting-to-be-tested in piupartslib, whatever
// its dependencies' states, and only then.
func TestLive_ReservedByHand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary, starts a master server and runs Debian's master")
	}
	r := newLiveFarm(t).newRun(t, 1)
	// bookworm-outdated depends on bookworm-security, which depends on
	// bookworm: its states change with their reserved/ too.
	outdated := refFindSection(r.f, "bookworm-outdated")
	r.compare(t, outdated)
	for _, name := range []string{"bookworm-security", "bookworm"} {
		s := refFindSection(r.f, name)
		r.compare(t, s)
		r.step++
		markers := slices.Sorted(maps.Keys(r.snapshot(t, s.name)["reserved"]))
		for _, base := range markers {
			if err := os.Remove(filepath.Join(r.dir(s.name, "reserved"), base)); err != nil {
				t.Fatal(err)
			}
		}
		r.logf(t, "%s: removed %d reserved/ markers by hand", s.name, len(markers))
		r.compare(t, s)
		r.step++
		snap := r.snapshot(t, s.name)
		var made []string
		for _, n := range slices.Sorted(maps.Keys(s.pkgs)) {
			if base := n + "_" + s.pkgs[n] + ".log"; len(snap.logsOf(base)) == 0 && len(made) < 10 {
				refWrite(t, filepath.Join(r.dir(s.name, "reserved"), base), nil)
				made = append(made, base)
			}
		}
		r.logf(t, "%s: reserved/ markers made by hand: %v", s.name, made)
		r.compare(t, s)
		r.compare(t, outdated)
	}
}

// sequence applies n random steps, comparing every few steps and at the
// end.
func (r *liveRun) sequence(t *testing.T, n int) {
	t.Helper()
	t0 := time.Now()
	// The first session loads the archive into the server.
	r.compare(t, r.f.sections[0])
	for r.step = 1; r.step <= n; r.step++ {
		s := r.f.sections[r.rng.IntN(len(r.f.sections))]
		switch x := r.rng.IntN(20); {
		case x < 8:
			r.session(t, s)
		case x < 11:
			r.recycleMark(t, s)
		case x < 15:
			r.moveByHand(t, s)
		case x < 17:
			r.addByHand(t, s)
		case x < 19:
			r.reservedByHand(t, s)
		default:
			r.job(t, s)
		}
		if t.Failed() {
			t.FailNow()
		}
		if r.step%6 == 0 {
			// Two of the sections changed since the last comparison,
			// and at every other comparison one at random (the sections
			// that depend on a changed one).
			touched := slices.Sorted(maps.Keys(r.touched))
			r.rng.Shuffle(len(touched), func(i, j int) { touched[i], touched[j] = touched[j], touched[i] })
			for _, name := range touched[:min(2, len(touched))] {
				r.compare(t, refFindSection(r.f, name))
			}
			if r.step%12 == 0 {
				r.compare(t, r.f.sections[r.rng.IntN(len(r.f.sections))])
			}
			clear(r.touched)
		}
	}
	r.final = true
	for _, s := range r.f.sections {
		r.compare(t, s)
	}
	t.Logf("%d steps, %d comparisons in %v", n, r.checks, time.Since(t0).Round(time.Millisecond))
}

// dir returns the path of a directory of a section in the run.
func (r *liveRun) dir(section, kind string) string {
	return filepath.Join(r.run, "master", section, kind)
}

// liveSnapshot is the log names (NAME_VERSION.log) of each directory of a
// section.
type liveSnapshot map[string]map[string]bool

func (r *liveRun) snapshot(t *testing.T, section string) liveSnapshot {
	t.Helper()
	snap := liveSnapshot{}
	for _, kind := range append(slices.Clone(liveLogDirs), "reserved", "recycle") {
		snap[kind] = map[string]bool{}
		ents, err := os.ReadDir(r.dir(section, kind))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".log") {
				snap[kind][e.Name()] = true
			}
		}
	}
	return snap
}

// logsOf returns the directories of liveLogDirs holding the log base.
func (snap liveSnapshot) logsOf(base string) []string {
	var in []string
	for _, kind := range liveLogDirs {
		if snap[kind][base] {
			in = append(in, kind)
		}
	}
	return in
}

// logs returns every log of liveLogDirs as KIND/NAME_VERSION.log, sorted.
func (snap liveSnapshot) logs() []string {
	var out []string
	for _, kind := range liveLogDirs {
		for base := range snap[kind] {
			out = append(out, kind+"/"+base)
		}
	}
	slices.Sort(out)
	return out
}

func (r *liveRun) logf(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Logf("step %d: "+format, append([]any{r.step}, args...)...)
}

// session is a slave's work on a section: a session that reserves (in
// recycle mode at times), whose every answer is checked, then one that
// submits a log for some of the packages and unreserves some of the
// others, as Debian's slave does in two connections.
func (r *liveRun) session(t *testing.T, s refSection) {
	t.Helper()
	before := r.snapshot(t, s.name)
	cmds := []string{"section " + s.name}
	recycle := len(before["recycle"]) > 0 && r.rng.IntN(4) == 0
	if recycle {
		cmds = append(cmds, "recycle")
	}
	k := 1 + r.rng.IntN(4)
	for range k {
		cmds = append(cmds, "reserve")
	}
	res, err := r.live.run(t.Context(), r.run, cmds)
	if err != nil {
		t.Fatalf("step %d: reserve session: %v\n%s", r.step, err, refOurLogs(r.run, s.name))
	}
	if res.lines[1] != "ok" {
		t.Fatalf("step %d: section %s = %q, want ok", r.step, s.name, res.lines[1])
	}
	recycling := recycle && res.lines[2] == "ok"
	after := r.snapshot(t, s.name)
	type reserved struct{ name, version string }
	var got []reserved
	seen := map[string]bool{}
	for _, a := range res.lines[len(res.lines)-k:] {
		if a == "error" {
			continue // nothing (more) to reserve
		}
		w := strings.Fields(a)
		if len(w) != 3 || w[0] != "ok" {
			t.Errorf("step %d: reserve in %s = %q, want ok NAME VERSION or error", r.step, s.name, a)
			continue
		}
		name, version := w[1], w[2]
		base := name + "_" + version + ".log"
		switch tv, ok := s.pkgs[name]; {
		case !ok:
			t.Errorf("step %d: reserve in %s = %q, a package the section lacks", r.step, s.name, a)
		case version != tv:
			t.Errorf("step %d: reserve in %s = %q, want the test version %s", r.step, s.name, a, tv)
		case seen[name]:
			t.Errorf("step %d: reserve in %s handed out %s twice in one session", r.step, s.name, name)
		case before["reserved"][base]:
			t.Errorf("step %d: reserve in %s = %q, which was reserved (reserved/%s)", r.step, s.name, a, base)
		}
		seen[name] = true
		if in := before.logsOf(base); len(in) > 0 && !(recycling && before["recycle"][base]) {
			t.Errorf("step %d: reserve in %s (recycle mode %v) = %q, which has a log in %v and no recycle/ marker",
				r.step, s.name, recycling, a, in)
		}
		if !after["reserved"][base] {
			t.Errorf("step %d: reserve in %s = %q left no reserved/%s", r.step, s.name, a, base)
		}
		if recycling && before["recycle"][base] {
			// The reference's reserve_package in recycle mode: the marker
			// and every log but the pass log go.
			if in := after.logsOf(base); len(in) > 0 && !slices.Equal(in, []string{"pass"}) || after["recycle"][base] {
				t.Errorf("step %d: reserve in %s (recycle mode) = %q left logs in %v and recycle marker %v, want only a pass log and no marker",
					r.step, s.name, a, in, after["recycle"][base])
			}
		}
		got = append(got, reserved{name, version})
	}
	if t.Failed() {
		t.FailNow()
	}
	r.logf(t, "%s: reserved %v (recycle mode %v)", s.name, got, recycling)
	if len(got) == 0 {
		return
	}
	r.touched[s.name] = true

	// What the slave reports.
	cmds = []string{"section " + s.name}
	type report struct{ result, name, version string }
	var reports []report
	for _, p := range got {
		result := "leave" // a slave that died: the lease expires later
		switch x := r.rng.IntN(20); {
		case x < 7:
			result = "pass"
		case x < 10:
			result = "fail"
		case x < 12:
			result = "untestable"
		case x < 17:
			result = "unreserve"
		}
		if result == "leave" {
			continue
		}
		reports = append(reports, report{result, p.name, p.version})
		if result == "unreserve" {
			cmds = append(cmds, fmt.Sprintf("unreserve %s %s", p.name, p.version))
			continue
		}
		// The long part travels on the following lines.
		cmds = append(cmds, fmt.Sprintf("%s %s %s\n Start: seed %d step %d\n %s %s\n ret=0\n End: now\n.",
			result, p.name, p.version, r.seed, r.step, p.name, p.version))
	}
	if len(reports) == 0 {
		return
	}
	before = r.snapshot(t, s.name)
	res, err = r.live.run(t.Context(), r.run, cmds)
	if err != nil {
		t.Fatalf("step %d: submit session: %v\n%s", r.step, err, refOurLogs(r.run, s.name))
	}
	after = r.snapshot(t, s.name)
	for i, rp := range reports {
		if a := res.lines[i+2]; a != "ok" {
			t.Errorf("step %d: %s %s %s in %s = %q, want ok\n%s", r.step, rp.result, rp.name, rp.version, s.name, a, refOurLogs(r.run, s.name))
			continue
		}
		base := rp.name + "_" + rp.version + ".log"
		if after["reserved"][base] {
			t.Errorf("step %d: %s %s %s left reserved/%s", r.step, rp.result, rp.name, rp.version, base)
		}
		if rp.result == "unreserve" {
			// The reference restores a recycle marker for a package
			// with a log.
			if len(before.logsOf(base)) > 0 && !after["recycle"][base] {
				t.Errorf("step %d: unreserve %s %s: it has logs in %v, and no recycle/ marker was restored",
					r.step, rp.name, rp.version, before.logsOf(base))
			}
			continue
		}
		if in := after.logsOf(base); !slices.Equal(in, []string{rp.result}) {
			t.Errorf("step %d: %s %s %s: logs in %v after it, want only in %s/", r.step, rp.result, rp.name, rp.version, in, rp.result)
		}
	}
	r.logf(t, "%s: %v", s.name, reports)
}

// recycleMark marks a log of the section for retesting by hand, as
// Debian's reschedule_oldest_logs does: an empty recycle/NAME_VERSION.log.
func (r *liveRun) recycleMark(t *testing.T, s refSection) {
	t.Helper()
	snap := r.snapshot(t, s.name)
	logs := snap.logs()
	if len(logs) == 0 {
		return
	}
	base := filepath.Base(logs[r.rng.IntN(len(logs))])
	if snap["recycle"][base] {
		return
	}
	refWrite(t, filepath.Join(r.dir(s.name, "recycle"), base), nil)
	r.touched[s.name] = true
	r.logf(t, "%s: recycle/%s by hand", s.name, base)
}

// moveByHand moves a log to another directory or removes it, as an
// operator or Debian's cron scripts (detect_archive_issues, the bug
// scripts) do, with its .kpr when it moves.
func (r *liveRun) moveByHand(t *testing.T, s refSection) {
	t.Helper()
	snap := r.snapshot(t, s.name)
	logs := snap.logs()
	if len(logs) == 0 {
		return
	}
	from := logs[r.rng.IntN(len(logs))]
	kind, base := filepath.Split(from)
	kind = filepath.Clean(kind)
	src := filepath.Join(r.dir(s.name, kind), base)
	to := liveLogDirs[r.rng.IntN(len(liveLogDirs))]
	if to == kind || r.rng.IntN(4) == 0 {
		if err := os.Remove(src); err != nil {
			t.Fatal(err)
		}
		os.Remove(strings.TrimSuffix(src, ".log") + ".kpr")
		r.logf(t, "%s: removed %s by hand", s.name, from)
	} else {
		if snap[to][base] {
			return
		}
		if err := os.Rename(src, filepath.Join(r.dir(s.name, to), base)); err != nil {
			t.Fatal(err)
		}
		r.logf(t, "%s: moved %s to %s/ by hand", s.name, from, to)
	}
	r.touched[s.name] = true
}

// addByHand puts a log of its test version for a package without one into
// pass/ or fail/, as an operator restoring a log would.
func (r *liveRun) addByHand(t *testing.T, s refSection) {
	t.Helper()
	snap := r.snapshot(t, s.name)
	names := slices.Sorted(maps.Keys(s.pkgs))
	name := names[r.rng.IntN(len(names))]
	base := name + "_" + s.pkgs[name] + ".log"
	if len(snap.logsOf(base)) > 0 || snap["reserved"][base] {
		return
	}
	kind := []string{"pass", "fail"}[r.rng.IntN(2)]
	refWrite(t, filepath.Join(r.dir(s.name, kind), base), []byte("restored by hand\n"))
	r.touched[s.name] = true
	r.logf(t, "%s: %s/%s by hand", s.name, kind, base)
}

// reservedByHand makes or removes a reserved/ marker by hand: a package
// an operator keeps from being tested, or one released after a slave died.
func (r *liveRun) reservedByHand(t *testing.T, s refSection) {
	t.Helper()
	snap := r.snapshot(t, s.name)
	if markers := slices.Sorted(maps.Keys(snap["reserved"])); len(markers) > 0 && r.rng.IntN(2) == 0 {
		base := markers[r.rng.IntN(len(markers))]
		if err := os.Remove(filepath.Join(r.dir(s.name, "reserved"), base)); err != nil {
			t.Fatal(err)
		}
		r.touched[s.name] = true
		r.logf(t, "%s: removed reserved/%s by hand", s.name, base)
		return
	}
	names := slices.Sorted(maps.Keys(s.pkgs))
	name := names[r.rng.IntN(len(names))]
	base := name + "_" + s.pkgs[name] + ".log"
	if snap["reserved"][base] {
		return
	}
	refWrite(t, filepath.Join(r.dir(s.name, "reserved"), base), nil)
	r.touched[s.name] = true
	r.logf(t, "%s: reserved/%s by hand", s.name, base)
}

// job runs one of our maintenance jobs on the run directory: archive-logs
// (older logs of a package to archive/) or reschedule-tests --logfiles (a
// log marked for retesting through the store).
func (r *liveRun) job(t *testing.T, s refSection) {
	t.Helper()
	argv := []string{"archive-logs"}
	if r.rng.IntN(2) == 0 {
		logs := r.snapshot(t, s.name).logs()
		if len(logs) == 0 {
			return
		}
		argv = []string{"reschedule-tests", "--logfiles", filepath.Join("master", s.name, logs[r.rng.IntN(len(logs))])}
	}
	out := r.ours(t, argv...)
	for _, s := range r.f.sections {
		r.touched[s.name] = true
	}
	r.logf(t, "piuparts-master %s: %s", strings.Join(argv, " "), refCut(strings.ReplaceAll(strings.TrimSpace(out), "\n", "; ")))
}

// ours runs our program with the live config and args in the run
// directory, as cron runs a maintenance job, and returns its output.
func (r *liveRun) ours(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), r.bin, append(r.live.argv[1:], args...)...)
	cmd.Dir = r.run
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + r.run, "LC_ALL=C.UTF-8"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("step %d: piuparts-master %s: %v\n%s", r.step, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// compare asks the server for status, every _list and every _state of the
// section, and compares the answers with our master's from scratch and
// Debian's, in normal mode and, when the section has recycle/ markers, at
// the first, every third and the final comparisons, in recycle mode.
func (r *liveRun) compare(t *testing.T, s refSection) {
	t.Helper()
	r.checks++
	names := slices.Sorted(maps.Keys(s.pkgs))
	modes := []bool{false}
	// Recycle mode goes through the server's path of a connection on
	// its own: at every third comparison and at the end.
	if len(r.snapshot(t, s.name)["recycle"]) > 0 && (r.checks%3 == 1 || r.final) {
		modes = append(modes, true)
	}
	for _, recycle := range modes {
		cmds := refSession(s.name, recycle, names)
		live, err := r.live.run(t.Context(), r.run, cmds)
		if err != nil {
			t.Fatalf("step %d: %v\n%s", r.step, err, refOurLogs(r.run, s.name))
		}
		// The database as the server left it, consistently (VACUUM
		// INTO): our backup job.
		r.ours(t, "backup")
		type other struct {
			what string
			p    refProgram
			dir  string
		}
		// 1. Our master on a copy with the database, one of the
		// section's log directories dated anew: the inputs' key
		// differs from the stored one, the states are computed again.
		withDB := r.copyRun(t, true)
		later := time.Now().Add(time.Hour)
		if err := os.Chtimes(filepath.Join(withDB, "master", s.name, "pass"), later, later); err != nil {
			t.Fatal(err)
		}
		others := []other{{"ours from scratch (database kept, pass/ dated anew)", r.fresh, withDB}}
		if !recycle {
			// 2. The copy as it is: the states the server stored.
			others = append(others, other{"ours on the stored states", r.fresh, r.copyRun(t, true)})
		}
		// 3. The tree alone.
		others = append(others, other{"ours from scratch (no database)", r.fresh, r.copyRun(t, false)})
		if r.debian {
			others = append(others, other{"Debian's master", r.f.debianProgram(), r.copyRun(t, false)})
		}
		agree := true
		for _, o := range others {
			res, err := o.p.run(t.Context(), o.dir, cmds)
			if err != nil {
				t.Fatalf("step %d: %s: %v\n%s", r.step, o.what, err, refOurLogs(o.dir, s.name))
			}
			// refCompare calls the first answers Debian's.
			if diff, odd := refCompare(cmds, res.lines, live.lines); diff != "" {
				agree = false
				t.Errorf("step %d: section %s (recycle %v): the server and %s (first) disagree:\n%s%s\nnames in question: %s",
					r.step, s.name, recycle, o.what, diff, refOurLogs(r.run, s.name), refCutList(odd))
			}
		}
		if !agree {
			continue
		}
		i := slices.Index(cmds, "status")
		r.logf(t, "%s (recycle %v): %d programs agree: %s", s.name, recycle, len(others)+1, live.lines[i+1])
	}
	if t.Failed() {
		t.FailNow()
	}
}

// copyRun copies the run directory into a new directory and returns it.
// With db the copy holds the consistent copy of the database the backup
// job made, else no database (the live one may be torn by a copy).
func (r *liveRun) copyRun(t *testing.T, db bool) string {
	t.Helper()
	dir, err := os.MkdirTemp(r.f.root, "copy-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	liveCopyTree(t, r.run, dir)
	if db {
		data, err := os.ReadFile(filepath.Join(r.backup, "piuparts-master.db"))
		if err != nil {
			t.Fatalf("reading the backup job's copy of the database: %v", err)
		}
		refWrite(t, filepath.Join(dir, "master", "piuparts-master.db"), data)
	}
	return dir
}

// liveLinked are the directories whose files a copy links instead of
// copying: creating inodes is slow on some disks (a millisecond each),
// and no master writes into a log or a marker in place, it creates,
// renames and removes them.
var liveLinked = append(slices.Clone(liveLogDirs), "reserved", "recycle", "archive")

// liveCopyTree copies the tree src into the existing directory dst as
// refCopyTree does, keeping the modification times of files and
// directories, but linking the files of the log directories and leaving
// out the database.
func liveCopyTree(t *testing.T, src, dst string) {
	t.Helper()
	refCopyTreeWith(t, src, dst, func(path string) copyHow {
		switch {
		case strings.HasPrefix(filepath.Base(path), "piuparts-master.db"):
			return skipFile
		case slices.Contains(liveLinked, filepath.Base(filepath.Dir(path))):
			return linkFile
		}
		return copyFile
	})
}
