package remote_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"piuparts-server/slave/remote"
)

// fakeCommand runs this test binary as a fake master in mode.
func fakeCommand(t *testing.T, mode string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(exe, " \t\n") {
		t.Skipf("test binary path %q holds white space", exe)
	}
	return exe + " fake-master " + mode
}

func TestDial_Local(t *testing.T) {
	ctx := t.Context()
	var stderr lockedBuffer
	o := remote.Options{Host: remote.LocalHost, Command: fakeCommand(t, "stderr"), Stderr: &stderr, ConnectTimeout: 30 * time.Second}
	c, err := remote.Dial(ctx, o)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if c.Master() != "local" {
		t.Errorf("Master() = %q, want local", c.Master())
	}
	if err := c.Section(ctx, "sid"); err != nil {
		t.Fatalf("Section: %v", err)
	}
	if d, err := c.Idle(ctx); err != nil || d != 42*time.Second {
		t.Errorf("Idle = %v, %v; want 42s", d, err)
	}
	if err := c.Recycle(ctx); !errors.Is(err, remote.ErrCantRecycle) {
		t.Errorf("Recycle = %v, want ErrCantRecycle", err)
	}
	name, version, ok, err := c.Reserve(ctx)
	if err != nil || !ok || name != "foo" || version != "1.0" {
		t.Fatalf("Reserve = %q %q %v %v, want foo 1.0", name, version, ok, err)
	}
	if _, _, ok, err := c.Reserve(ctx); err != nil || ok {
		t.Errorf("second Reserve = %v, %v; want nothing, no error", ok, err)
	}
	if err := c.Submit(ctx, "fail", name, version, strings.NewReader(awkwardLogs[0])); err != nil {
		t.Errorf("Submit: %v", err)
	}
	if st, err := c.Status(ctx); err != nil || st != "waiting-to-be-tested=1 total=1" {
		t.Errorf("Status = %q, %v", st, err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// Close waited for the process, so its stderr is all there.
	want := "fake master on stderr\ngot fail foo 1.0 " + strconv.Itoa(len(awkwardLogs[0])) + " bytes\n"
	if stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
}

func TestDial_LocalErrors(t *testing.T) {
	t.Run("NoCommand", func(t *testing.T) {
		if _, err := remote.Dial(t.Context(), remote.Options{Host: remote.LocalHost}); !errors.Is(err, remote.ErrNoCommand) {
			t.Errorf("Dial = %v, want ErrNoCommand", err)
		}
	})
	t.Run("NoSuchProgram", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "no-such-master")
		_, err := remote.Dial(t.Context(), remote.Options{Host: remote.LocalHost, Command: missing})
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
			t.Errorf("Dial = %v, want a not-exist error naming %s", err, missing)
		}
	})
	t.Run("NeverGreets", func(t *testing.T) {
		o := remote.Options{Host: remote.LocalHost, Command: fakeCommand(t, "silent"), ConnectTimeout: 300 * time.Millisecond}
		if _, err := remote.Dial(t.Context(), o); !errors.Is(err, remote.ErrConnectTimeout) {
			t.Errorf("Dial = %v, want ErrConnectTimeout", err)
		}
	})
	t.Run("NotAMaster", func(t *testing.T) {
		o := remote.Options{Host: remote.LocalHost, Command: "echo hi there", ConnectTimeout: 10 * time.Second}
		if _, err := remote.Dial(t.Context(), o); err == nil || !strings.Contains(err.Error(), "hi there") {
			t.Errorf("Dial = %v, want an error quoting the greeting", err)
		}
	})
	t.Run("ExitStatus", func(t *testing.T) {
		c, err := remote.Dial(t.Context(), remote.Options{Host: remote.LocalHost, Command: fakeCommand(t, "exit3")})
		if err != nil {
			t.Fatal(err)
		}
		var ee *exec.ExitError
		if err := c.Close(); !errors.As(err, &ee) || ee.ExitCode() != 3 {
			t.Errorf("Close = %v, want exit status 3", err)
		}
	})
	t.Run("Cancel", func(t *testing.T) {
		c, err := remote.Dial(t.Context(), remote.Options{Host: remote.LocalHost, Command: fakeCommand(t, "ok")})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := c.Section(ctx, "sid"); err == nil {
			t.Errorf("Section with a cancelled context succeeded")
		}
		// A context done before the call breaks nothing.
		if err := c.Section(t.Context(), "sid"); err != nil {
			t.Errorf("Section after: %v", err)
		}
	})
}

// buildMaster builds cmd/piuparts-master into a temporary directory, or
// skips the test.
func buildMaster(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "piuparts-master")
	src := filepath.Join("..", "..", "cmd", "piuparts-master")
	goBin := "go"
	if _, err := exec.LookPath(goBin); err != nil {
		goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	if out, err := exec.Command(goBin, "build", "-o", bin, "./"+src).CombinedOutput(); err != nil {
		t.Skipf("cannot build the master from %s: %v\n%s", src, err, out)
	}
	return bin
}

// TestDial_LocalRealMaster runs the master binary over pipes, as a slave
// with master-host "local" does.
func TestDial_LocalRealMaster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the master binary")
	}
	bin := buildMaster(t)
	e := newMasterFiles(t)
	ctx := t.Context()
	var stderr lockedBuffer
	o := remote.Options{
		Host: remote.LocalHost, Command: bin + " -c " + e.conf + " --slave-id=local-test",
		Stderr: &stderr, ConnectTimeout: 30 * time.Second, ReadTimeout: time.Minute,
	}
	c, err := remote.Dial(ctx, o)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if err := c.Section(ctx, "sid"); err != nil {
		t.Fatalf("Section: %v (stderr %q)", err, stderr.String())
	}
	name, version, ok, err := c.Reserve(ctx)
	if err != nil || !ok {
		t.Fatalf("Reserve = %v, %v", ok, err)
	}
	for i, log := range awkwardLogs[:2] {
		if i == 1 {
			// The second log goes under the next package.
			if name, version, ok, err = c.Reserve(ctx); err != nil || !ok {
				t.Fatalf("Reserve = %v, %v", ok, err)
			}
		}
		if err := c.Submit(ctx, "pass", name, version, strings.NewReader(log)); err != nil {
			t.Fatalf("Submit: %v", err)
		}
		got, err := os.ReadFile(e.logPath("pass", name, version))
		if err != nil || string(got) != log {
			t.Errorf("stored log of %s = %q, %v; want %q", name, got, err, log)
		}
	}
	if st, err := c.Status(ctx); err != nil || !strings.HasSuffix(st, " total=5") {
		t.Errorf("Status = %q, %v", st, err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v (stderr %q)", err, stderr.String())
	}
}
