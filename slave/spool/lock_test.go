package spool_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"piuparts-server/slave/spool"
)

func TestSpool_Lock(t *testing.T) {
	s := openSpool(t, spool.Options{})
	other := reopen(t, s)
	release, err := s.Lock()
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "slave.lock")); err != nil {
		t.Errorf("lock file: %v", err)
	}
	if _, err := other.Lock(); !errors.Is(err, spool.ErrBusy) {
		t.Errorf("Lock of a second Spool = %v, want %v", err, spool.ErrBusy)
	}
	if _, err := s.Lock(); !errors.Is(err, spool.ErrBusy) {
		t.Errorf("second Lock of the same Spool = %v, want %v", err, spool.ErrBusy)
	}
	if err := release(); err != nil {
		t.Fatalf("release: %v", err)
	}
	if err := release(); err != nil {
		t.Errorf("second release: %v", err)
	}
	release2, err := other.Lock()
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	if err := release2(); err != nil {
		t.Errorf("release: %v", err)
	}
}

// lockHelperEnv names the spool directory to the helper process.
const lockHelperEnv = "SPOOL_TEST_LOCK_HELPER"

// TestLockHelperProcess is not a test: run by TestSpool_Lock_Process in a
// child process, it tries Lock, prints "locked" or "busy", and keeps a lock
// it got until its stdin closes.
func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv(lockHelperEnv)
	if dir == "" {
		t.Skip("helper process for TestSpool_Lock_Process")
	}
	s, err := spool.Open(dir, spool.Options{})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	release, err := s.Lock()
	switch {
	case errors.Is(err, spool.ErrBusy):
		fmt.Println("busy")
		os.Exit(0)
	case err != nil:
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	release()
	os.Exit(0)
}

// holder is a process holding a lock until stop is called.
type holder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startLocker starts cmd, which prints one line, "locked" or "busy", and
// then holds the lock it got until its stdin closes.
func startLocker(t *testing.T, cmd *exec.Cmd) (string, *holder) {
	t.Helper()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &holder{cmd: cmd, stdin: stdin}
	t.Cleanup(func() { h.stop(t) })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading from %s: %v", cmd.Path, err)
	}
	return strings.TrimSpace(line), h
}

func (h *holder) stop(t *testing.T) {
	if h.cmd.ProcessState != nil {
		return
	}
	h.stdin.Close()
	if err := h.cmd.Wait(); err != nil {
		t.Errorf("%s: %v", h.cmd.Path, err)
	}
}

func helperCmd(t *testing.T, dir string) *exec.Cmd {
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestLockHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+dir)
	return cmd
}

func TestSpool_Lock_Process(t *testing.T) {
	s := openSpool(t, spool.Options{})

	// Another process holds the lock: refused until it lets go.
	got, h := startLocker(t, helperCmd(t, s.Dir()))
	if got != "locked" {
		t.Fatalf("helper process said %q, want locked", got)
	}
	if _, err := s.Lock(); !errors.Is(err, spool.ErrBusy) {
		t.Errorf("Lock while another process holds it = %v, want %v", err, spool.ErrBusy)
	}
	h.stop(t)
	release, err := s.Lock()
	if err != nil {
		t.Fatalf("Lock after the other process let go: %v", err)
	}

	// We hold it: the other process is refused.
	got, h = startLocker(t, helperCmd(t, s.Dir()))
	h.stop(t)
	if got != "busy" {
		t.Errorf("helper process while we hold the lock said %q, want busy", got)
	}
	release()
}

// TestSpool_Lock_Debian takes the lock as Debian's piuparts-slave does
// (open slave.lock for writing, flock LOCK_EX|LOCK_NB) and checks that the
// two exclude each other.
func TestSpool_Lock_Debian(t *testing.T) {
	python, err := exec.LookPath("/usr/bin/python3") // Debian's, which runs piuparts-slave
	if err != nil {
		python, err = exec.LookPath("python3")
	}
	if err != nil {
		t.Skip("no python3 to lock as piuparts-slave does")
	}
	const script = `import fcntl, sys
lock = open(sys.argv[1], "w")
try:
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
except IOError:
    print("busy", flush=True)
    sys.exit(0)
print("locked", flush=True)
sys.stdin.read()
`
	s := openSpool(t, spool.Options{})
	lockPath := filepath.Join(s.Dir(), "slave.lock")
	got, h := startLocker(t, exec.CommandContext(t.Context(), python, "-c", script, lockPath))
	if got != "locked" {
		t.Fatalf("python said %q, want locked", got)
	}
	if _, err := s.Lock(); !errors.Is(err, spool.ErrBusy) {
		t.Errorf("Lock while piuparts-slave's lock is held = %v, want %v", err, spool.ErrBusy)
	}
	h.stop(t)

	release, err := s.Lock()
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer release()
	got, h = startLocker(t, exec.CommandContext(t.Context(), python, "-c", script, lockPath))
	h.stop(t)
	if got != "busy" {
		t.Errorf("python while we hold the lock said %q, want busy", got)
	}
}
