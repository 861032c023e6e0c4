package jobs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"piuparts-server/internal/config"
)

// Cleanup removes a stale daily.lock, and keeps it while a report runs
// (read from a /proc of our own: the machine's has whatever else runs).
func TestCleanup(t *testing.T) {
	out := t.TempDir()
	lock := filepath.Join(out, "daily.lock")
	e := &Env{Config: &config.Config{Global: config.Global{OutputDirectory: out}}}
	proc := t.TempDir()
	process := func(pid, cmdline string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(proc, pid), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(proc, pid, "cmdline"), []byte(cmdline), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	process("1", "/sbin/init\x00")
	process("200", "/usr/bin/piuparts-report\x00-q\x00")
	if err := os.WriteFile(lock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := Cleanup(e, proc); err != nil || got != "daily processing is running\n" {
		t.Errorf("Cleanup with a report running = %q, %v", got, err)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Errorf("the lock of a running report was removed: %v", err)
	}
	if err := os.RemoveAll(filepath.Join(proc, "200")); err != nil {
		t.Fatal(err)
	}
	if got, err := Cleanup(e, proc); err != nil || !strings.HasPrefix(got, "removed ") {
		t.Errorf("Cleanup with nothing running = %q, %v", got, err)
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Errorf("the stale lock is still there: %v", err)
	}
	if got, err := Cleanup(e, proc); err != nil || got != "" {
		t.Errorf("Cleanup with no lock = %q, %v; want nothing", got, err)
	}
}
