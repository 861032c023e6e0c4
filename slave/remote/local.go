package remote

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// localTransport is the master command running here, over pipes.
type localTransport struct {
	cmd    *exec.Cmd
	stdin  *os.File // our end of its standard input
	stdout *os.File // our end of its standard output

	done    chan struct{} // closed when the process was waited for
	waitErr error         // valid after done
	killed  sync.Once
	mu      sync.Mutex
	wasKill bool // we killed it: its exit status is ours, not its
}

func (t *localTransport) Read(p []byte) (int, error)  { return t.stdout.Read(p) }
func (t *localTransport) Write(p []byte) (int, error) { return t.stdin.Write(p) }

func (t *localTransport) kill() {
	t.killed.Do(func() {
		t.mu.Lock()
		t.wasKill = true
		t.mu.Unlock()
		_ = t.cmd.Process.Kill()
		// Why: a grandchild may hold the pipes open; closing our ends
		// unblocks reads and writes anyway.
		_ = t.stdin.Close()
		_ = t.stdout.Close()
	})
}

func (t *localTransport) close(wait time.Duration) error {
	_ = t.stdin.Close()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-t.done:
	case <-timer.C:
		t.kill()
		<-t.done
		return fmt.Errorf("master did not exit within %v", wait)
	}
	_ = t.stdout.Close()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.wasKill || t.waitErr == nil {
		return nil
	}
	return fmt.Errorf("master exited: %w", t.waitErr)
}

// startLocal starts o.Command as a child process in its own process
// group (a Ctrl-C meant for the slave does not cut a log in half).
func startLocal(o *Options) (*localTransport, error) {
	args := strings.Fields(o.Command)
	if len(args) == 0 {
		return nil, ErrNoCommand
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", args[0], err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("start %s: %w", args[0], err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, o.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("start %s: %w", args[0], err)
	}
	t := &localTransport{cmd: cmd, stdin: inW, stdout: outR, done: make(chan struct{})}
	go func() {
		t.waitErr = cmd.Wait()
		close(t.done)
	}()
	return t, nil
}
