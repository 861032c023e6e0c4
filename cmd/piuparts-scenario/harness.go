package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"piuparts-server/internal/sshd"
)

// stopWait is how long the harness waits after each signal of the stop
// sequence (SIGINT, SIGINT, SIGTERM, SIGKILL), as debtorrent's test.py.
const stopWait = 2 * time.Second

// programs are the binaries the scenarios run.
var programs = []string{"piuparts-master", "piuparts-slave", "piuparts-portserver", "piuparts-report"}

// options are the command-line flags.
type options struct {
	bin, demo string
	keep      bool
}

// outcome is a scenario's result.
type outcome string

const (
	outcomePass outcome = "pass"
	outcomeFail outcome = "FAIL"
	outcomeSkip outcome = "skip"
)

// result is one row of the final table.
type result struct {
	name    string
	outcome outcome
	reason  string
	dur     time.Duration
	figures []string
}

// skipError is what H.Skip returns: the scenario cannot run here.
type skipError struct{ reason string }

func (e *skipError) Error() string { return "skipped: " + e.reason }

// env is what every scenario of one run shares.
type env struct {
	master, slave, portserver string // binaries
	demo                      string // deploy/demo
	portAddr                  string // the port server's socket
	keep                      bool
	out                       io.Writer
	getenv                    func(string) string
}

// runScenarios finds or builds the binaries, starts the port server, runs
// each scenario and returns the table's rows.
func runScenarios(ctx context.Context, opt options, chosen []scenario, out io.Writer, getenv func(string) string) ([]result, error) {
	e := &env{keep: opt.keep, out: out, getenv: getenv}
	var err error
	if e.demo, err = findDemo(opt.demo); err != nil {
		return nil, err
	}
	binDir, cleanup, err := findBinaries(ctx, opt.bin, out)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	e.master = filepath.Join(binDir, "piuparts-master")
	e.slave = filepath.Join(binDir, "piuparts-slave")
	e.portserver = filepath.Join(binDir, "piuparts-portserver")

	// One port server for the whole run; every port comes from it.
	e.portAddr = fmt.Sprintf("@piuparts-scenario-%d", os.Getpid())
	ps := exec.Command(e.portserver, "--portserver_address", e.portAddr, "--owner_table", "")
	ps.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	psLog := &strings.Builder{}
	ps.Stdout, ps.Stderr = psLog, psLog
	if err := ps.Start(); err != nil {
		return nil, fmt.Errorf("start the port server: %w", err)
	}
	psDone := make(chan struct{})
	go func() { _ = ps.Wait(); close(psDone) }()
	defer func() {
		how := stopGroup(ps.Process.Pid, func() bool { return closed(psDone) })
		fmt.Fprintf(out, "port server %s stopped (%s)\n", e.portAddr, how)
	}()
	if err := waitFor(ctx, 10*time.Second, func() bool {
		c, err := net.Dial("unix", e.portAddr)
		if err == nil {
			c.Close()
		}
		return err == nil || closed(psDone)
	}); err != nil || closed(psDone) {
		return nil, fmt.Errorf("the port server %s did not start: %s", e.portAddr, psLog.String())
	}
	fmt.Fprintf(out, "piuparts-scenario: binaries in %s, demo data in %s, port server %s\n", binDir, e.demo, e.portAddr)

	var results []result
	for _, s := range chosen {
		if ctx.Err() != nil {
			results = append(results, result{name: s.name, outcome: outcomeSkip, reason: "interrupted"})
			continue
		}
		results = append(results, e.runOne(ctx, s))
	}
	return results, nil
}

// runOne runs one scenario and its teardown.
func (e *env) runOne(ctx context.Context, s scenario) result {
	root, err := os.MkdirTemp("", "piuparts-scenario-"+s.name+"-")
	if err != nil {
		return result{name: s.name, outcome: outcomeFail, reason: err.Error()}
	}
	h := &H{env: e, name: s.name, root: root, start: time.Now()}
	fmt.Fprintf(e.out, "\n=== %s: %s\n    directory %s\n", s.name, s.doc, root)
	err = s.run(ctx, h)
	if terr := h.teardown(); terr != nil && err == nil {
		err = terr
	}
	r := result{name: s.name, outcome: outcomePass, dur: time.Since(h.start), figures: h.figures}
	var skip *skipError
	switch {
	case errors.As(err, &skip):
		r.outcome, r.reason = outcomeSkip, skip.reason
	case err != nil:
		r.outcome, r.reason = outcomeFail, err.Error()
	}
	fmt.Fprintf(e.out, "=== %s: %s in %.1fs", s.name, r.outcome, r.dur.Seconds())
	if r.reason != "" {
		fmt.Fprintf(e.out, ": %s", r.reason)
	}
	fmt.Fprintln(e.out)
	if r.outcome == outcomeFail || e.keep {
		fmt.Fprintf(e.out, "    kept %s (logs/ holds each process's output)\n", root)
	} else {
		_ = os.RemoveAll(root)
	}
	return r
}

// H is one scenario's run: its directory, steps, processes and figures.
type H struct {
	*env
	name    string
	root    string
	start   time.Time
	figures []string
	procs   []*proc
	servers []*sshd.Server
}

// Step runs f as a named step, printing when it starts and how it ended
// with the elapsed time since the scenario's start and its own duration.
// It returns f's error, wrapped with the step's name.
func (h *H) Step(name string, f func() error) error {
	t := time.Now()
	fmt.Fprintf(h.out, "  [%6.1fs] %s ...\n", t.Sub(h.start).Seconds(), name)
	err := f()
	res := "ok"
	if err != nil {
		res = "FAILED: " + err.Error()
	}
	fmt.Fprintf(h.out, "  [%6.1fs] %s: %s (%.2fs)\n", time.Since(h.start).Seconds(), name, res, time.Since(t).Seconds())
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Logf prints a detail of the current step.
func (h *H) Logf(format string, args ...any) {
	fmt.Fprintf(h.out, "             %s\n", fmt.Sprintf(format, args...))
}

// Figure records a key figure for the final table ("logs/s=41.2").
func (h *H) Figure(format string, args ...any) {
	h.figures = append(h.figures, fmt.Sprintf(format, args...))
}

// Skip returns the error that makes the scenario a skip, saying why.
func (h *H) Skip(format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	fmt.Fprintf(h.out, "  SKIP: %s\n", reason)
	return &skipError{reason}
}

// NeedSSHD returns a skip error when sshd cannot run here.
func (h *H) NeedSSHD() error {
	if err := sshd.Available(); err != nil {
		return h.Skip("%v", err)
	}
	return nil
}

// Port asks the port server for a free port (its wire protocol: our pid
// and a newline out, a port and a newline back).
func (h *H) Port() (int, error) {
	c, err := net.DialTimeout("unix", h.portAddr, 5*time.Second)
	if err != nil {
		return 0, fmt.Errorf("port server %s: %w", h.portAddr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "%d\n", os.Getpid()); err != nil {
		return 0, fmt.Errorf("port server %s: %w", h.portAddr, err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("port server %s gave no port (pool exhausted?): %w", h.portAddr, err)
	}
	port, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("port server %s answered %q", h.portAddr, cut(line))
	}
	return port, nil
}

// SSHD starts sshd in the scenario's directory on a port from the port
// server; teardown stops it and checks that its port is closed.
func (h *H) SSHD(cfg sshd.Config) (*sshd.Server, error) {
	dir, err := os.MkdirTemp(h.root, "sshd-")
	if err != nil {
		return nil, err
	}
	cfg.Port = h.Port
	s, err := sshd.Start(dir, cfg)
	if err != nil {
		return nil, err
	}
	h.servers = append(h.servers, s)
	return s, nil
}

// proc is a process a scenario started, leading a process group of its own.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string // its standard output and error
	done chan struct{}
	err  error // Wait's, once done is closed
}

// Start starts args as name (its output in logs/NAME.log), in a process
// group of its own, with the harness's environment plus env.
func (h *H) Start(name string, env []string, args ...string) (*proc, error) {
	return h.StartIn("", name, env, args...)
}

// StartIn is Start with the working directory dir ("": the harness's).
func (h *H) StartIn(dir, name string, env []string, args ...string) (*proc, error) {
	if err := os.MkdirAll(filepath.Join(h.root, "logs"), 0o755); err != nil {
		return nil, err
	}
	p := &proc{name: name, log: filepath.Join(h.root, "logs", name+".log"), done: make(chan struct{})}
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	p.cmd = exec.Command(args[0], args[1:]...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = p.cmd.Start()
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	h.procs = append(h.procs, p)
	return p, nil
}

// Wait waits for p to exit, at most guard (a bound against a hang, no
// speed check); it returns p's exit error with the end of its output.
func (h *H) Wait(ctx context.Context, p *proc, guard time.Duration) error {
	select {
	case <-p.done:
	case <-time.After(guard):
		return fmt.Errorf("%s did not end within %v (a guard, not a speed check):\n%s", p.name, guard, tailFile(p.log, 15))
	case <-ctx.Done():
		return ctx.Err()
	}
	if p.err != nil {
		return fmt.Errorf("%s: %w:\n%s", p.name, p.err, tailFile(p.log, 15))
	}
	return nil
}

// Stop stops p's process group as debtorrent's test.py does and says how
// it ended.
func (h *H) Stop(p *proc) string {
	return stopGroup(p.cmd.Process.Pid, func() bool { return closed(p.done) })
}

// sigName names the stop sequence's signals.
var sigName = map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM", syscall.SIGKILL: "SIGKILL"}

// stopGroup sends SIGINT, SIGINT, SIGTERM and SIGKILL to process group
// pgid, waiting stopWait after each until leaderGone reports true and no
// live process is left in the group, and returns which signal ended it
// ("already gone" when none was needed).
func stopGroup(pgid int, leaderGone func() bool) string {
	gone := func() bool { return leaderGone() && groupGone(pgid) }
	if gone() {
		return "already gone"
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		if err := syscall.Kill(-pgid, sig); errors.Is(err, syscall.ESRCH) {
			return "gone before " + sigName[sig]
		}
		deadline := time.Now().Add(stopWait)
		for time.Now().Before(deadline) || sig == syscall.SIGKILL {
			if gone() {
				return "stopped by " + sigName[sig]
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return "stopped by SIGKILL"
}

// teardown stops every process the scenario started (newest first), its
// sshd servers and processes that outlived them (the master server the
// forced command started), then checks that nothing is left: no child
// process, no process naming the scenario's directory, no sshd port open.
func (h *H) teardown() error {
	fmt.Fprintf(h.out, "  [%6.1fs] teardown ...\n", time.Since(h.start).Seconds())
	for i := len(h.procs) - 1; i >= 0; i-- {
		p := h.procs[i]
		if how := h.Stop(p); how != "already gone" {
			h.Logf("%s (pid %d): %s", p.name, p.cmd.Process.Pid, how)
		}
	}
	for _, s := range h.servers {
		how := stopGroup(s.Pid, func() bool { return closed(s.Exited()) })
		h.Logf("sshd on %s (pid %d): %s", s.Addr(), s.Pid, how)
	}
	var problems []string
	// Processes started on our behalf but not our children: the master
	// server (a session of its own), a tester a killed slave left.
	for _, lp := range h.lingering() {
		how := stopGroup(lp.pid, func() bool { return !alive(lp.pid) })
		h.Logf("still running: pid %d %s: %s", lp.pid, cutEnd(lp.cmdline), how)
		if !strings.Contains(lp.cmdline, " server ") {
			problems = append(problems, fmt.Sprintf("pid %d %q outlived its scenario", lp.pid, cut(lp.cmdline)))
		}
	}
	for _, lp := range h.lingering() {
		problems = append(problems, fmt.Sprintf("pid %d %q still runs after SIGKILL", lp.pid, cut(lp.cmdline)))
	}
	for _, pid := range children() {
		problems = append(problems, fmt.Sprintf("child process %d still runs", pid))
	}
	for _, s := range h.servers {
		if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
			c.Close()
			problems = append(problems, fmt.Sprintf("%s still accepts connections after sshd stopped", s.Addr()))
		}
	}
	res := "ok: no child process, nothing naming the scenario's directory, no sshd port open"
	if len(problems) > 0 {
		res = "FAILED: " + strings.Join(problems, "; ")
	}
	fmt.Fprintf(h.out, "  [%6.1fs] teardown: %s\n", time.Since(h.start).Seconds(), res)
	if len(problems) > 0 {
		return fmt.Errorf("teardown: %s", strings.Join(problems, "; "))
	}
	return nil
}

// cutEnd shortens a command line to its last 100 bytes.
func cutEnd(s string) string {
	if len(s) > 100 {
		return "..." + s[len(s)-100:]
	}
	return s
}

// lingerer is a process whose command line names the scenario's directory.
type lingerer struct {
	pid     int
	cmdline string
}

// lingering lists the live processes other than this one whose command
// line names the scenario's directory.
func (h *H) lingering() []lingerer {
	var out []lingerer
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !alive(pid) {
			continue
		}
		cmdline := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		if strings.Contains(cmdline, h.root) {
			out = append(out, lingerer{pid, cmdline})
		}
	}
	return out
}

// procStat returns the state letter and parent pid of pid from /proc.
func procStat(pid int) (state byte, ppid int, ok bool) {
	state, ppid, _, ok = procStat3(pid)
	return state, ppid, ok
}

// groupGone reports whether no live (non-zombie) process is in process
// group pgid.
func groupGone(pgid int) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if state, _, pgrp, ok := procStat3(pid); ok && pgrp == pgid && state != 'Z' && state != 'X' {
			return false
		}
	}
	return true
}

// procStat3 returns the state letter, parent pid and process group of pid
// from /proc.
func procStat3(pid int) (state byte, ppid, pgrp int, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, 0, false
	}
	// pid (comm) state ppid ...; comm may hold blanks and parentheses.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 3 {
		return 0, 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	pgrp, _ = strconv.Atoi(f[2])
	return f[0][0], ppid, pgrp, true
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X'
}

// children lists this process's live child processes other than the port
// server's group (which lives for the whole run).
func children() []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, ppid, ok := procStat(pid)
		if !ok || ppid != os.Getpid() || state == 'Z' {
			continue
		}
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && strings.Contains(string(b), "piuparts-portserver") {
			continue
		}
		out = append(out, pid)
	}
	return out
}

// closed reports whether c is closed.
func closed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// waitFor polls cond every 20 ms until it holds, for at most guard (a
// bound against a hang, no speed check).
func waitFor(ctx context.Context, guard time.Duration, cond func() bool) error {
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v (a guard, not a speed check)", guard)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// tailFile returns the last n lines of a file, indented.
func tailFile(path string, n int) string {
	b, _ := os.ReadFile(path)
	return "    | " + strings.ReplaceAll(tailLines(string(b), n), "\n", "\n    | ")
}

// findDemo returns dir, or deploy/demo above the current directory or
// this program's, checked to hold the simulator, fail list and archive.
func findDemo(dir string) (string, error) {
	check := func(d string) bool {
		for _, f := range []string{"piuparts-simulator", "fail-list", "archive/dists/bookworm/main/binary-amd64/Packages"} {
			if _, err := os.Stat(filepath.Join(d, f)); err != nil {
				return false
			}
		}
		return true
	}
	if dir != "" {
		if !check(dir) {
			return "", fmt.Errorf("--demo %s: want the piuparts simulator, fail-list and archive/ of deploy/demo there", dir)
		}
		return filepath.Abs(dir)
	}
	for _, d := range searchRoots() {
		for ; ; d = filepath.Dir(d) {
			if c := filepath.Join(d, "deploy", "demo"); check(c) {
				return c, nil
			}
			if d == filepath.Dir(d) {
				break
			}
		}
	}
	return "", errors.New("no deploy/demo found above the current directory or this program's; say where with --demo DIR")
}

// searchRoots are the current directory and this program's.
func searchRoots() []string {
	var roots []string
	if wd, err := os.Getwd(); err == nil {
		roots = append(roots, wd)
	}
	if exe, err := os.Executable(); err == nil {
		roots = append(roots, filepath.Dir(exe))
	}
	return roots
}

// findBinaries returns dir (checked), else this program's directory if it
// holds the programs, else a temporary directory they were built into with
// go build from the module above the current directory (cleanup removes it).
func findBinaries(ctx context.Context, dir string, out io.Writer) (string, func(), error) {
	has := func(d string) error {
		for _, p := range programs {
			if st, err := os.Stat(filepath.Join(d, p)); err != nil || st.Mode()&0o111 == 0 {
				return fmt.Errorf("no executable %s in %s", p, d)
			}
		}
		return nil
	}
	none := func() {}
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err == nil {
			err = has(abs)
		}
		if err != nil {
			return "", none, fmt.Errorf("--bin: %w", err)
		}
		return abs, none, nil
	}
	if exe, err := os.Executable(); err == nil && has(filepath.Dir(exe)) == nil {
		return filepath.Dir(exe), none, nil
	}
	var mod string
	for _, d := range searchRoots() {
		for ; mod == ""; d = filepath.Dir(d) {
			if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.HasPrefix(string(b), "module piuparts-server\n") {
				mod = d
			}
			if d == filepath.Dir(d) {
				break
			}
		}
	}
	if mod == "" {
		return "", none, errors.New("the programs are not beside this one and no piuparts-server module is above the current directory to build them; say where they are with --bin DIR")
	}
	tmp, err := os.MkdirTemp("", "piuparts-scenario-bin-")
	if err != nil {
		return "", none, err
	}
	cleanup := func() { _ = os.RemoveAll(tmp) }
	goCmd, err := exec.LookPath("go")
	if err != nil {
		cleanup()
		return "", none, fmt.Errorf("the programs are not beside this one and there is no go command to build them (%v); say where they are with --bin DIR", err)
	}
	for _, p := range programs {
		fmt.Fprintf(out, "piuparts-scenario: go build -o %s ./cmd/%s\n", filepath.Join(tmp, p), p)
		cmd := exec.CommandContext(ctx, goCmd, "build", "-o", filepath.Join(tmp, p), "./cmd/"+p)
		cmd.Dir = mod
		if b, err := cmd.CombinedOutput(); err != nil {
			cleanup()
			return "", none, fmt.Errorf("go build ./cmd/%s: %w\n%s", p, err, b)
		}
	}
	return tmp, cleanup, nil
}

// printTable writes the final table.
func printTable(w io.Writer, results []result) {
	fmt.Fprintf(w, "\n%-14s %-6s %8s  %s\n", "scenario", "result", "time", "key figures")
	for _, r := range results {
		fig := strings.Join(r.figures, " ")
		fmt.Fprintf(w, "%-14s %-6s %7.1fs  %s\n", r.name, r.outcome, r.dur.Seconds(), fig)
		if r.reason != "" {
			reason := strings.Join(strings.Fields(r.reason), " ")
			if len(reason) > 300 {
				reason = reason[:300] + "..."
			}
			fmt.Fprintf(w, "%-14s %-6s %8s  %s\n", "", "", "", "reason: "+reason)
		}
	}
}
