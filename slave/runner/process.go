package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
	"unsafe"
)

// Defaults of the stop sequence's grace periods (the reference's).
const (
	// DefaultIntGrace is how long piuparts has to clean up after SIGINT.
	DefaultIntGrace = 30 * time.Second
	// DefaultTermGrace is how long piuparts has after SIGTERM, before
	// SIGKILL.
	DefaultTermGrace = 5 * time.Second
	// DefaultDrainWait is how long the output pipe is still read after
	// the process group is gone, in case a process that left the group
	// keeps it open.
	DefaultDrainWait = 5 * time.Second
)

// Grace holds the waits of the stop sequence; zero fields take the
// defaults.
type Grace struct {
	Int   time.Duration // after SIGINT to the group; DefaultIntGrace
	Term  time.Duration // after SIGTERM to piuparts; DefaultTermGrace
	Drain time.Duration // reading leftover output at the end; DefaultDrainWait
}

func (g Grace) withDefaults() Grace {
	if g.Int <= 0 {
		g.Int = DefaultIntGrace
	}
	if g.Term <= 0 {
		g.Term = DefaultTermGrace
	}
	if g.Drain <= 0 {
		g.Drain = DefaultDrainWait
	}
	return g
}

// process is one command to run in its own process group.
type process struct {
	args    []string
	dir     string
	env     []string
	out     io.Writer // stdout and stderr, in the order written
	timeout time.Duration
	grace   Grace
}

// outcome is how a process ended.
type outcome struct {
	ret      int  // exit status, -signal if killed by one (Python's returncode)
	timedOut bool // the timeout stopped it
}

// run starts p, copies its output to p.out while it runs and waits for it.
// When the timeout passes or ctx ends it stops the process group: SIGINT
// to the group, after grace.Int SIGTERM to the process, after grace.Term
// SIGKILL to the group. Whenever the process ends, what is left of its
// group is killed, so no background process survives it. run returns
// ctx.Err() when ctx ended (after stopping the group), or the error of
// starting the process.
func (p *process) run(ctx context.Context) (outcome, error) {
	g := p.grace.withDefaults()
	r, w, err := os.Pipe()
	if err != nil {
		return outcome{}, fmt.Errorf("run %s: %w", quote(p.args[0]), err)
	}
	defer r.Close()
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Dir = p.dir
	cmd.Env = p.env
	cmd.Stdout = w
	cmd.Stderr = w
	// Its own group, so that a timeout stops all of it; and killed if
	// the slave itself is killed (SIGKILL), which cannot stop it then.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return outcome{}, fmt.Errorf("run %s: %w", quote(p.args[0]), err)
	}
	pid := cmd.Process.Pid

	copied := make(chan struct{})
	go func() {
		defer close(copied)
		// p.out never fails (filter, sink), so the copy goes on until
		// the pipe is closed or the drain deadline passes, and the child
		// never blocks on a full pipe.
		io.CopyBuffer(p.out, r, make([]byte, 32<<10))
	}()
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		waitExited(pid)
	}()

	var timer <-chan time.Time
	if p.timeout > 0 {
		t := time.NewTimer(p.timeout)
		defer t.Stop()
		timer = t.C
	}
	var o outcome
	var ctxErr error
	select {
	case <-exited:
	case <-timer:
		o.timedOut = true
		stopGroup(pid, exited, g)
	case <-ctx.Done():
		ctxErr = ctx.Err()
		stopGroup(pid, exited, g)
	}
	// The leader is a zombie now and keeps the group's id reserved: kill
	// what is left of the group before reaping it.
	syscall.Kill(-pid, syscall.SIGKILL)
	cmd.Wait()
	// Read what is still in the pipe; a process that left the group may
	// hold it open, so give up after a while.
	r.SetReadDeadline(time.Now().Add(g.Drain))
	<-copied

	st := cmd.ProcessState
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		o.ret = -int(ws.Signal())
	} else {
		o.ret = st.ExitCode()
	}
	return o, ctxErr
}

// stopGroup runs the stop sequence until the process has exited.
func stopGroup(pid int, exited <-chan struct{}, g Grace) {
	syscall.Kill(-pid, syscall.SIGINT)
	if waitFor(exited, g.Int) {
		return
	}
	// As the reference (Popen.terminate), SIGTERM goes to piuparts
	// alone, which then cleans up its children.
	syscall.Kill(pid, syscall.SIGTERM)
	if waitFor(exited, g.Term) {
		return
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	<-exited
}

// waitFor reports whether ch is closed within d.
func waitFor(ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// waitExited blocks until process pid has exited, without reaping it
// (waitid with WNOWAIT), so its pid, and the group id, stay reserved.
func waitExited(pid int) {
	const pPID = 1     // P_PID
	var info [128]byte // siginfo_t
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info[0])), syscall.WEXITED|syscall.WNOWAIT, 0, 0)
		if e != syscall.EINTR {
			return
		}
	}
}

// sink is a writer that never fails: it keeps the first error of w and
// drops what comes after it.
type sink struct {
	w   io.Writer
	err error
}

func (s *sink) Write(p []byte) (int, error) {
	if s.err == nil {
		_, s.err = s.w.Write(p)
	}
	return len(p), nil
}

// lookupEnv returns a lookup function over an environment list, the last
// setting winning as in os/exec.
func lookupEnv(env []string) func(string) string {
	return func(key string) string {
		v := ""
		for _, kv := range env {
			if len(kv) > len(key) && kv[len(key)] == '=' && kv[:len(key)] == key {
				v = kv[len(key)+1:]
			}
		}
		return v
	}
}
