package main

// The supervisor as an operator uses it: the built binary's start, status,
// stop, ... on a real manager process, with shell scripts as programs, and
// the slave itself under it against our master.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"piuparts-server/internal/fsutil"
	"piuparts-server/internal/testutil"
)

// sv is one slave-directory with a config whose [supervisor] runs program.
type sv struct {
	t    *testing.T
	bin  string
	dir  string // root
	conf string
	sdir string // slave-directory
}

func newSV(t *testing.T, program string, extra string) *sv {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary and runs a manager")
	}
	root := t.TempDir()
	s := &sv{t: t, bin: testutil.Build(t, root, "piuparts-server/cmd/piuparts-slave"), dir: root, sdir: filepath.Join(root, "slave")}
	s.conf = filepath.Join(root, "p.toml")
	body := fmt.Sprintf("[global]\nsections = [\"sid\"]\nslave-directory = %q\n[sid]\n[supervisor]\nprogram = [\"/bin/sh\", \"-c\", %q]\nstop-timeout = 5\n%s", s.sdir, program, extra)
	if err := os.WriteFile(s.conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command(s.bin, "-c", s.conf, "stop").Run()
	})
	return s
}

// run runs the binary and returns stdout, stderr and the exit status.
func (s *sv) run(args ...string) (string, string, int) {
	s.t.Helper()
	cmd := exec.CommandContext(s.t.Context(), s.bin, append([]string{"-c", s.conf}, args...)...)
	cmd.Dir = s.dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("%s: %v", cmd, err)
	}
	return out.String(), errOut.String(), code
}

// must runs a command that must succeed and returns its output.
func (s *sv) must(args ...string) string {
	s.t.Helper()
	out, errOut, code := s.run(args...)
	if code != 0 {
		s.t.Fatalf("piuparts-slave %s: exit %d\n%s%s\ntranscript:\n%s", strings.Join(args, " "), code, out, errOut, s.transcript())
	}
	return out
}

func (s *sv) transcript() string {
	b, _ := os.ReadFile(filepath.Join(s.sdir, "transcript.log"))
	return string(b)
}

type jsonStatus struct {
	Running    bool   `json:"running"`
	Exit       int    `json:"lsb_exit"`
	Message    string `json:"message"`
	State      string `json:"state"`
	PID        int    `json:"pid"`
	ManagerPID int    `json:"manager_pid"`
	Workers    []struct {
		Worker      int    `json:"worker"`
		State       string `json:"state"`
		Section     string `json:"section"`
		Package     string `json:"package"`
		N           int    `json:"n"`
		Batch       int    `json:"batch"`
		MaxReserved int    `json:"max_reserved"`
	} `json:"workers"`
}

func (s *sv) status() jsonStatus {
	s.t.Helper()
	out, errOut, code := s.run("status", "--json")
	var st jsonStatus
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		s.t.Fatalf("status --json: %v\n%s%s", err, out, errOut)
	}
	if st.Exit != code {
		s.t.Errorf("status --json says lsb_exit %d, exits %d", st.Exit, code)
	}
	return st
}

// eventually polls cond for up to 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// alive reports whether pid is a process that has not exited (a zombie
// counts as gone).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

func readInt(t *testing.T, path string) int {
	t.Helper()
	var n int
	eventually(t, path, func() bool {
		b, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		n, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	})
	return n
}

// ticker is a program that prints a line every 50 ms, reacts to HUP and
// INT, and has a child of its own (a sleep whose pid it writes to child.pid).
const ticker = `trap 'echo got" "HUP' HUP
trap 'echo got" "INT; kill $c; exit 0' INT
sleep 300 & c=$!; echo $c > child.pid
i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.05; done`

func TestSupervisor_Commands(t *testing.T) {
	t.Parallel()
	s := newSV(t, ticker, "")
	// Nothing runs yet: each command says so in one line.
	if out, _, code := s.run("status"); code != 3 || out != "daemon manager not running\n" {
		t.Errorf("status before start: exit %d, %q; want 3, daemon manager not running", code, out)
	}
	if _, errOut, code := s.run("kill", "HUP"); code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "daemon manager not running") {
		t.Errorf("kill before start: exit %d, %q; want 1 and one line", code, errOut)
	}
	if _, errOut, code := s.run("join"); code != 1 || errOut != "piuparts-slave not running!\n" {
		t.Errorf("join before start: exit %d, %q", code, errOut)
	}
	if out, _, code := s.run("wait", "--timeout", "1s"); code != 3 {
		t.Errorf("wait before start: exit %d, %q; want 3", code, out)
	}

	out := s.must("start")
	pid, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(out), "daemon process started, pid="))
	if err != nil {
		t.Fatalf("start said %q", out)
	}
	if out := s.must("start"); out != fmt.Sprintf("daemon process already running; pid=%d\n", pid) {
		t.Errorf("second start: %q", out)
	}
	if out := s.must("status"); !strings.HasPrefix(out, fmt.Sprintf("program running; pid=%d; uptime ", pid)) {
		t.Errorf("status: %q", out)
	}
	st := s.status()
	if !st.Running || st.PID != pid || st.State != "running" || st.ManagerPID == 0 {
		t.Errorf("status --json: %+v", st)
	}
	if out := s.must("wait"); out != fmt.Sprintf("program running; pid=%d\n", pid) {
		t.Errorf("wait: %q", out)
	}
	if _, errOut, code := s.run("fg"); code != 1 || !strings.Contains(errOut, "already runs under its manager") {
		t.Errorf("fg while running: exit %d, %q", code, errOut)
	}
	// A second manager on the same slave-directory is refused, naming the first.
	if _, errOut, code := s.run("start", "--socket-name", filepath.Join(s.dir, "other.sock")); code != 1 ||
		!strings.Contains(errOut, fmt.Sprintf("another manager is running on %s: pid %d", s.sdir, st.ManagerPID)) {
		t.Errorf("second manager: exit %d, %q", code, errOut)
	}
	// kill signals the program.
	if out := s.must("kill", "HUP"); out != fmt.Sprintf("signalled pid %d with SIGHUP\n", pid) {
		t.Errorf("kill HUP: %q", out)
	}
	eventually(t, "got HUP in the transcript", func() bool { return strings.Contains(s.transcript(), "got HUP") })
	if _, errOut, code := s.run("kill", "SIGFOO"); code != 1 || !strings.Contains(errOut, "unknown signal") {
		t.Errorf("kill SIGFOO: exit %d, %q", code, errOut)
	}

	// logrotate without copytruncate: rename, reopen-transcript.
	tr := filepath.Join(s.sdir, "transcript.log")
	if err := os.Rename(tr, tr+".1"); err != nil {
		t.Fatal(err)
	}
	s.must("reopen-transcript")
	eventually(t, "ticks in the new transcript", func() bool { return strings.Contains(s.transcript(), "tick ") })
	old, _ := os.ReadFile(tr + ".1")
	time.Sleep(100 * time.Millisecond)
	old2, _ := os.ReadFile(tr + ".1")
	if !bytes.Equal(old, old2) || !strings.Contains(string(old), "tick ") {
		t.Errorf("the renamed transcript still grows, or never had ticks")
	}

	// SIGHUP to the manager does the same (logrotate's postrotate habit).
	if err := os.Rename(tr, tr+".2"); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(st.ManagerPID, syscall.SIGHUP)
	eventually(t, "ticks in the transcript after SIGHUP", func() bool { return strings.Contains(s.transcript(), "tick ") })

	// join follows the live output.
	join := exec.Command(s.bin, "-c", s.conf, "join")
	jout, _ := join.StdoutPipe()
	if err := join.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	var seen strings.Builder
	for !strings.Contains(seen.String(), "tick ") {
		n, err := jout.Read(buf)
		if err != nil {
			t.Fatalf("join: %v after %q", err, seen.String())
		}
		seen.Write(buf[:n])
	}
	join.Process.Signal(os.Interrupt)
	join.Wait()

	// restart: a new manager and program.
	os.Remove(filepath.Join(s.dir, "child.pid"))
	out = s.must("restart")
	if !strings.HasPrefix(out, "daemon process stopped\ndaemon process started, pid=") || strings.Contains(out, fmt.Sprintf("pid=%d\n", pid)) {
		t.Errorf("restart: %q", out)
	}
	pid = s.status().PID
	child := readInt(t, filepath.Join(s.dir, "child.pid"))
	if out := s.must("stop"); out != "daemon process stopped\n" {
		t.Errorf("stop: %q", out)
	}
	if !strings.Contains(s.transcript(), "got INT") {
		t.Errorf("the program did not get SIGINT first:\n%s", s.transcript())
	}
	if alive(pid) || alive(child) {
		t.Errorf("after stop: program alive %v, its child alive %v", alive(pid), alive(child))
	}
	if out, _, code := s.run("status"); code != 3 {
		t.Errorf("status after stop: exit %d, %q", code, out)
	}
	if out := s.must("stop"); out != "daemon manager not running\n" {
		t.Errorf("second stop: %q", out)
	}
	if out, _, code := s.run("help", "stop"); code != 0 || !strings.Contains(out, "SIGINT") {
		t.Errorf("help stop: exit %d, %q", code, out)
	}
}

// A SIGKILLed manager takes its program and the program's children along,
// and leaves a stale socket that status reports (exit 1) and start replaces.
func TestSupervisor_SIGKILLedManager(t *testing.T) {
	t.Parallel()
	s := newSV(t, ticker, "")
	s.must("start")
	st := s.status()
	child := readInt(t, filepath.Join(s.dir, "child.pid"))
	if err := syscall.Kill(st.ManagerPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the program and its child to go", func() bool { return !alive(st.PID) && !alive(child) })
	if out, _, code := s.run("status"); code != 1 || !strings.Contains(out, "left over (killed?)") {
		t.Errorf("status after SIGKILL: exit %d, %q; want 1 and the stale socket", code, out)
	}
	s.must("start")
	if !strings.Contains(s.transcript(), "removed a stale control socket") {
		t.Errorf("start did not say it removed the stale socket")
	}
	s.must("stop")
}

// Backoff and exit codes through the command line: FAILED is status 1 and
// start starts the program again; an exit status in exit-codes ends the
// manager.
func TestSupervisor_FailedAndExitCodes(t *testing.T) {
	t.Parallel()
	s := newSV(t, `echo run >> runs; exit 3`, "")
	// start returns once the program runs (as zdaemon's, it does not
	// wait to see it fail), or with an error when it saw it fail.
	if _, errOut, code := s.run("start", "--backoff-limit", "2"); code != 0 && !strings.Contains(errOut, "failed to start 2 times in a row (last: exit status 3)") {
		t.Errorf("start of a failing program: exit %d, %q", code, errOut)
	}
	failed := func() bool {
		out, _, code := s.run("status")
		return code == 1 && strings.Contains(out, "FAILED after 2 short runs in a row (last: exit status 3)")
	}
	eventually(t, "status FAILED, exit 1", failed)
	if n := lines(s.dir, "runs"); n != 2 {
		t.Errorf("the program ran %d times, want 2 (backoff-limit)", n)
	}
	// start on a FAILED manager starts the program again, with a fresh count.
	s.run("start")
	eventually(t, "FAILED again", func() bool { return lines(s.dir, "runs") == 4 && failed() })
	s.must("stop")

	s2 := newSV(t, `echo run >> runs; sleep 0.2; exit 7`, "exit-codes = [7]\n")
	s2.must("start")
	s2.must("wait", "--exit")
	b, _ := os.ReadFile(filepath.Join(s2.dir, "runs"))
	if string(b) != "run\n" {
		t.Errorf("runs %q, want one: exit status 7 stops the manager", b)
	}
	if !strings.Contains(s2.transcript(), `"status":7`) {
		t.Errorf("the manager did not exit with the program's status 7:\n%s", s2.transcript())
	}
}

func lines(dir, name string) int {
	b, _ := os.ReadFile(filepath.Join(dir, name))
	return strings.Count(string(b), "\n")
}

// daemon = false: start stays in the foreground and returns the manager's
// status, as under systemd.
func TestSupervisor_Foreground(t *testing.T) {
	t.Parallel()
	s := newSV(t, `echo hello; exit 2`, "daemon = false\n")
	out, errOut, code := s.run("start")
	if code != 2 || !strings.Contains(errOut, "daemon process started, pid=") || !strings.Contains(errOut, "hello") {
		t.Errorf("start --daemon=false: exit %d, %q %q; want 2 (exit-codes), the pid and the program's output", code, out, errOut)
	}
}

// A second `run` on a slave-directory is refused at once, naming the pid
// that holds it.
func TestRun_SecondRunRefused(t *testing.T) {
	t.Parallel()
	s := newSV(t, "true", "")
	if err := os.MkdirAll(s.sdir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := fsutil.LockPID(filepath.Join(s.sdir, "run.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	conf := filepath.Join(s.dir, "run.toml")
	os.WriteFile(conf, []byte(fmt.Sprintf("[global]\nsections = [\"sid\"]\nslave-directory = %q\narch = \"amd64\"\nmirror = \"file:///nonexistent\"\n[sid]\n", s.sdir)), 0o644)
	cmd := exec.CommandContext(t.Context(), s.bin, "-c", conf, "run")
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	err = cmd.Run()
	want := fmt.Sprintf("is in use by piuparts-slave run, pid %d\n", os.Getpid())
	if err == nil || strings.Count(errOut.String(), "\n") != 1 || !strings.HasSuffix(errOut.String(), want) {
		t.Errorf("second run: %v, %q; want one line ending %q", err, errOut.String(), want)
	}
}

// The slave under its supervisor against our master finishes the demo
// archive: start, watch status until every package is decided, stop.
func TestSupervisor_Farm(t *testing.T) {
	t.Parallel()
	f := newFarm(t)
	conf := f.config(t, "slave", f.localKeys(t, "slave"))
	b, _ := os.ReadFile(conf)
	writeFile(t, conf, strings.Replace(string(b), "[global]\n", "[global]\nslave-count = 2\n", 1), 0o644)
	s := &sv{t: t, bin: f.slave, dir: f.root, conf: conf, sdir: filepath.Join(f.root, "slave")}
	t.Cleanup(func() { exec.Command(s.bin, "-c", s.conf, "stop").Run() })
	t0 := time.Now()
	s.must("start")
	t.Logf("start returned after %s", time.Since(t0).Round(time.Millisecond))
	sawWorkers := false
	pending := map[string]bool{"waiting-to-be-tested": true, "waiting-for-dependency-to-be-tested": true, "unknown": true}
	var states map[string]string
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the archive is not done after 5 minutes\n%s", tail(s.transcript(), 40))
		}
		st := s.status()
		if !st.Running {
			t.Fatalf("status: %+v\n%s", st, tail(s.transcript(), 40))
		}
		if len(st.Workers) == 2 && st.Workers[0].Worker == 1 && st.Workers[1].Worker == 2 {
			sawWorkers = true
		}
		states = f.states(t, f.master, "-c", filepath.Join(f.root, "master.toml"))
		left := 0
		for _, s := range states {
			if pending[s] {
				left++
			}
		}
		if left == 0 {
			break
		}
	}
	if !sawWorkers {
		t.Errorf("status never showed the two workers")
	}
	if out := s.must("status"); !strings.Contains(out, "worker 1: ") || !strings.Contains(out, "worker 2: ") {
		t.Errorf("status lacks the workers:\n%s", out)
	}
	t0 = time.Now()
	if out := s.must("stop"); out != "daemon process stopped\n" {
		t.Errorf("stop: %q", out)
	}
	t.Logf("stop of an idle slave returned after %s", time.Since(t0).Round(time.Millisecond))
	f.check(t, f.masterDir, states, s.sdir)
	if !strings.Contains(s.transcript(), `"tested"`) {
		t.Errorf("the transcript lacks the slave's log")
	}
}

// A manager SIGKILLed while the slave tests a package leaves nothing
// behind: not the slave, not piuparts (here the simulator) nor its
// children; the package goes back to the master.
func TestSupervisor_SIGKILLedManagerMidTest(t *testing.T) {
	t.Parallel()
	f := newFarm(t)
	conf := f.config(t, "slave1", f.localKeys(t, "slave1")+"\n[supervisor.environment]\nPIUPARTS_SIMULATOR_DELAY = \"5\"\n")
	s := &sv{t: t, bin: f.slave, dir: f.root, conf: conf, sdir: filepath.Join(f.root, "slave1")}
	t.Cleanup(func() { exec.Command(s.bin, "-c", s.conf, "stop").Run() })
	s.must("start")
	var st jsonStatus
	eventually(t, "status to show a test", func() bool {
		st = s.status()
		return len(st.Workers) == 1 && st.Workers[0].State == "testing"
	})
	// The worker says "testing" before it has started piuparts (here the
	// simulator): wait for the process too.
	var sim int
	eventually(t, "the simulator to run", func() bool {
		sim = findProcess(f.sim)
		return sim != 0
	})
	if err := syscall.Kill(st.ManagerPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the slave, the simulator and its group to go", func() bool {
		return !alive(st.PID) && syscall.Kill(-sim, 0) == syscall.ESRCH
	})
	eventually(t, "the package to be unreserved", func() bool {
		_, reserved := f.masterLogs(t)
		return len(reserved) == 0
	})
}

// findProcess returns the pid of a live process whose command line holds
// s, or 0.
func findProcess(s string) int {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte(s)) && alive(pid) {
			return pid
		}
	}
	return 0
}

// user, umask, directory and [supervisor.environment] reach the program.
func TestSupervisor_ProgramOptions(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("user needs root")
	}
	s := newSV(t, `echo "uid $(id -u)"; echo "umask $(umask)"; echo "pwd $(pwd)"; echo "FOO=$FOO"; : > "$FOO/x" && echo wr''ote; sleep 30`,
		"user = \"nobody\"\numask = \"027\"\ndirectory = \"/\"\n[supervisor.environment]\n")
	// The program writes in slave-directory, which the manager creates for it.
	os.Chmod(filepath.Dir(s.dir), 0o755) // t.TempDir's directories are 0700
	os.Chmod(s.dir, 0o755)
	b, _ := os.ReadFile(s.conf)
	os.WriteFile(s.conf, append(b, fmt.Sprintf("FOO = %q\n", s.sdir)...), 0o644)
	s.must("start")
	for _, want := range []string{"uid 65534\n", "umask 0027\n", "pwd /\n", "FOO=" + s.sdir + "\n", "wrote\n"} {
		eventually(t, want, func() bool { return strings.Contains(s.transcript(), want) })
	}
	s.must("stop")
}

// stop in the middle of a test: the test finishes, its log reaches the
// master, nothing stays reserved; status showed what was under test.
func TestSupervisor_StopMidTest(t *testing.T) {
	t.Parallel()
	f := newFarm(t)
	conf := f.config(t, "slave1", f.localKeys(t, "slave1")+"\n[supervisor.environment]\nPIUPARTS_SIMULATOR_DELAY = \"2\"\n")
	s := &sv{t: t, bin: f.slave, dir: f.root, conf: conf, sdir: filepath.Join(f.root, "slave1")}
	t.Cleanup(func() { exec.Command(s.bin, "-c", s.conf, "stop").Run() })
	s.must("start")
	var st jsonStatus
	eventually(t, "status to show a test", func() bool {
		st = s.status()
		return len(st.Workers) == 1 && st.Workers[0].State == "testing"
	})
	w := st.Workers[0]
	if w.Section != farmSection || w.Package == "" || w.N < 1 || w.N > w.Batch || w.MaxReserved != 7 {
		t.Errorf("worker status %+v, want section %s, a package, n of the batch, max-reserved 7", w, farmSection)
	}
	if out := s.must("status"); !strings.Contains(out, "worker 1: testing "+w.Package+" ") || !strings.Contains(out, "(max-reserved 7)") {
		t.Errorf("status lacks the package under test:\n%s", out)
	}
	t0 := time.Now()
	s.must("stop")
	t.Logf("stop during a test returned after %s (the test sleeps 2 s)", time.Since(t0).Round(time.Millisecond))
	logged, reserved := f.masterLogs(t)
	if !logged[w.Package] {
		t.Errorf("%s was under test at stop: no log at the master\n%s", w.Package, tail(s.transcript(), 30))
	}
	if len(reserved) > 0 {
		t.Errorf("still reserved at the master after stop: %v", sortedKeys(reserved))
	}
	checkSpoolEmpty(t, s.sdir)
}

// --forever on the command line: the manager never gives up.
func TestSupervisor_Forever(t *testing.T) {
	t.Parallel()
	s := newSV(t, `echo run >> runs; exit 3`, "")
	s.run("start", "--forever", "--backoff-limit", "1")
	eventually(t, "three runs", func() bool { return lines(s.dir, "runs") >= 3 })
	if out, _, code := s.run("status"); code == 1 || strings.Contains(out, "FAILED") {
		t.Errorf("status with --forever after %d short runs: exit %d, %q", lines(s.dir, "runs"), code, out)
	}
	s.must("stop")
}
