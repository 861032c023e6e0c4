package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startMaster starts the built master on the config conf with stdin and
// stdout as given, and returns the command; the test's own bound (a
// minute) kills it if it hangs.
func startMaster(t *testing.T, bin, root, conf string, stdin, stdout *os.File) *exec.Cmd {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = []string{"PIUPARTS_CONFIG=" + conf, "HOME=" + root, "PATH=/usr/bin:/bin"}
	cmd.Dir = root
	cmd.Stdin, cmd.Stdout = stdin, stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// pipe returns both ends of an os.Pipe, closed at the end of the test.
func pipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(); _ = w.Close() })
	return r, w
}

// waitExit waits for the master and checks that it exited with status 1
// by itself: not killed by a signal (SIGPIPE) or by the test's bound.
func waitExit(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("master exited with %v, want exit status 1", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("master was killed by signal %v, want exit status 1", ws.Signal())
	}
	if code := ee.ExitCode(); code != 1 {
		t.Fatalf("master exit status %d, want 1", code)
	}
}

// globalLog returns master-error.log.
func globalLog(t *testing.T, root string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "master", "master-error.log"))
	if err != nil {
		t.Fatalf("master-error.log: %v", err)
	}
	return string(data)
}

// wantEnd checks that the global log has exactly one "connection ended"
// line, giving reason.
func wantEnd(t *testing.T, log, reason string) {
	t.Helper()
	if n := strings.Count(log, `"message":"connection ended"`); n != 1 {
		t.Errorf("master-error.log has %d \"connection ended\" lines, want 1:\n%s", n, log)
	}
	if !strings.Contains(log, `"reason":"`+reason+`"`) {
		t.Errorf("master-error.log does not give the reason %q:\n%s", reason, log)
	}
}

// TestBinary_ClientGoneAway: a client that closed its end before the
// master wrote makes the write fail with EPIPE (SIGPIPE is ignored); the
// master logs why and exits 1.
func TestBinary_ClientGoneAway(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildMaster(t)
	root, conf := forcedEnv(t)
	inR, inW := pipe(t)
	outR, outW := pipe(t)
	if _, err := io.WriteString(inW, "section sid\nstatus\n"); err != nil {
		t.Fatal(err)
	}
	inW.Close()
	outR.Close() // gone before the master says hello
	cmd := startMaster(t, bin, root, conf, inR, outW)
	waitExit(t, cmd)
	wantEnd(t, globalLog(t, root), "client went away")
}

// TestBinary_SessionTimeout: a client that trickles a byte now and then
// keeps the idle timer going, but session-timeout cuts it off; the
// half-sent log is not stored.
func TestBinary_SessionTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildMaster(t)
	root, conf := forcedEnvWith(t, `session-timeout = "2s"`)
	inR, inW := pipe(t)
	outR, outW := pipe(t)
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	cmd := startMaster(t, bin, root, conf, inR, outW)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := io.WriteString(inW, "section sid\npass trickle 1.0\n "); err != nil {
			return
		}
		tick := time.NewTicker(300 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-t.Context().Done():
				return
			case <-tick.C:
				if _, err := io.WriteString(inW, "x"); err != nil {
					return // the master hung up
				}
			}
		}
	}()
	waitExit(t, cmd)
	inW.Close()
	<-done
	wantEnd(t, globalLog(t, root), "session timeout")
	matches, err := filepath.Glob(filepath.Join(root, "master", "sid", "*", "trickle_*"))
	if err != nil || len(matches) > 0 {
		t.Errorf("the half-sent log was stored: %q (%v)", matches, err)
	}
}

// TestBinary_WriteTimeout: a client that sends commands and never reads
// fills the pipe; write-timeout ends the session.
func TestBinary_WriteTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildMaster(t)
	root, conf := forcedEnvWith(t, `write-timeout = "1s"`)
	inR, inW := pipe(t)
	_, outW := pipe(t) // never read
	cmd := startMaster(t, bin, root, conf, inR, outW)
	go func() {
		if _, err := io.WriteString(inW, "section sid\n"); err != nil {
			return
		}
		cmds := strings.Repeat("status\n", 1000)
		for range 1000 {
			if _, err := io.WriteString(inW, cmds); err != nil {
				return // the master hung up
			}
		}
	}()
	waitExit(t, cmd)
	inW.Close()
	wantEnd(t, globalLog(t, root), "write timeout")
}
