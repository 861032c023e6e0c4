package deploy_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestInstall_DestDir runs `make install` into a staging directory, as a
// packager would, and checks what lands where: every program of cmd/,
// the configuration, units that start the installed programs, and that a
// second install keeps a changed configuration.
func TestInstall_DestDir(t *testing.T) {
	if testing.Short() {
		t.Skip("################ builds every program (make install): skipped under -short")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("################ no make on this machine: skipped")
	}
	dest := t.TempDir()
	install := func() string {
		cmd := exec.CommandContext(t.Context(), "make", "-s", "-C", "..", "install", "DESTDIR="+dest, "PREFIX=/opt/pps")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make install: %v\n%s", err, out)
		}
		return string(out)
	}
	install()

	cmds, err := os.ReadDir("../cmd")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cmds {
		if c.Name() == "piuparts-scenario" {
			// Runs from a checkout; not installed.
			if _, err := os.Stat(filepath.Join(dest, "opt/pps/bin", c.Name())); err == nil {
				t.Errorf("make install installed %s, which needs a checkout", c.Name())
			}
			continue
		}
		b := filepath.Join(dest, "opt/pps/bin", c.Name())
		out, err := exec.CommandContext(t.Context(), b, "--version").Output()
		if err != nil || !strings.HasPrefix(string(out), c.Name()+" ") {
			t.Errorf("%s --version = %q, %v; want %q and a version", b, out, err, c.Name())
		}
	}
	conf := filepath.Join(dest, "etc/piuparts/piuparts.toml")
	shipped, err := os.ReadFile("piuparts.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(conf); err != nil || !bytes.Equal(got, shipped) {
		t.Errorf("%s is not deploy/piuparts.toml (%v)", conf, err)
	}
	units, _ := filepath.Glob(filepath.Join(dest, "opt/pps/lib/systemd/system/piuparts-*"))
	if len(units) == 0 {
		t.Fatal("no units installed under PREFIX/lib/systemd/system")
	}
	exe := regexp.MustCompile(`(?m)^Exec[A-Za-z]*=(\S+)`)
	for _, u := range units {
		data, _ := os.ReadFile(u)
		for _, m := range exe.FindAllSubmatch(data, -1) {
			if fi, err := os.Stat(filepath.Join(dest, string(m[1]))); err != nil || !fi.Mode().IsRegular() {
				t.Errorf("%s starts %s, which make install did not install (%v)", filepath.Base(u), m[1], err)
			}
		}
	}
	for _, f := range []string{"etc/logrotate.d/piuparts-server", "etc/apache2/conf-available/piuparts-server.conf",
		"etc/nginx/snippets/piuparts-server.conf", "opt/pps/share/doc/piuparts-server/examples/cron.d/piuparts-master",
		"opt/pps/share/doc/piuparts-server/examples/piuparts-slave.sudoers",
		"opt/pps/share/doc/piuparts-server/examples/piuparts.toml", "opt/pps/lib/piuparts-server/apt-mirror",
		"opt/pps/share/man/man8/piuparts-master.8", "opt/pps/share/man/man5/piuparts.toml.5"} {
		if _, err := os.Stat(filepath.Join(dest, f)); err != nil {
			t.Errorf("make install did not install /%s: %v", f, err)
		}
	}

	// A changed configuration stays; the shipped one goes beside it.
	changed := append(shipped, "# changed by the admin\n"...)
	if err := os.WriteFile(conf, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	if out := install(); !strings.Contains(out, "piuparts.toml.new") {
		t.Errorf("second make install did not say where the new configuration went:\n%s", out)
	}
	if got, _ := os.ReadFile(conf); !bytes.Equal(got, changed) {
		t.Error("second make install replaced the changed piuparts.toml")
	}
	if got, _ := os.ReadFile(conf + ".new"); !bytes.Equal(got, shipped) {
		t.Error("piuparts.toml.new is not deploy/piuparts.toml")
	}
}
