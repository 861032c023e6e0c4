package nspawn_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"piuparts-server/internal/nspawn"
)

// CacheDir is where the tests keep machine images between runs.
const cacheDir = "/var/cache/piuparts-server-test"

// needMachine skips the test unless this host can boot a machine, and
// returns the mirror to build images from.
func needMachine(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("boots a machine with systemd-nspawn (a minute on a fresh host): skipped under -short")
	}
	if why := nspawn.Missing(); why != "" {
		t.Skipf("SKIP: cannot boot a test machine: %s", why)
	}
	out, err := exec.Command("../../deploy/apt-mirror").Output()
	if err != nil {
		t.Skipf("SKIP: no Debian mirror in apt's sources (deploy/apt-mirror: %v)", err)
	}
	return strings.TrimSpace(string(out))
}

func TestBoot(t *testing.T) {
	mirror := needMachine(t)
	ctx := t.Context()
	image, err := nspawn.Image(ctx, cacheDir, "bookworm", mirror, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m, err := nspawn.Boot(ctx, image, dir, "nspawn-test", func(root string) error {
		return os.WriteFile(filepath.Join(root, "etc/motd"), []byte("set up before the boot\n"), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			m.Stop(t.Context())
		}
	})

	if out, err := m.Output(ctx, "systemctl", "is-system-running"); err != nil && !strings.Contains(out, "degraded") {
		t.Errorf("systemctl is-system-running = %q, %v; want running or degraded", out, err)
	}
	if out, _ := m.Output(ctx, "hostname"); strings.TrimSpace(out) != "nspawn-test" {
		t.Errorf("hostname in the machine = %q, want nspawn-test", out)
	}
	if out, _ := m.Output(ctx, "cat", "/etc/motd"); out != "set up before the boot\n" {
		t.Errorf("/etc/motd in the machine = %q, want what setup wrote", out)
	}
	if out, _ := m.Output(ctx, "sh", "-c", "echo $$"); strings.TrimSpace(out) == "" {
		t.Errorf("no pid from a shell in the machine")
	}
	// A unit started in the machine runs under the machine's systemd.
	if out, err := m.Output(ctx, "systemd-run", "--unit=probe", "--wait", "--quiet", "/bin/true"); err != nil {
		t.Errorf("systemd-run in the machine: %v\n%s", err, out)
	}

	if err := m.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if _, err := os.Stat(m.Root); !os.IsNotExist(err) {
		t.Errorf("machine root %s still there after Stop (%v)", m.Root, err)
	}
	if out, _ := exec.Command("pgrep", "-f", "systemd-nspawn.*nspawn-test").Output(); len(out) > 0 {
		t.Errorf("systemd-nspawn still running after Stop: pids %s", out)
	}
}
