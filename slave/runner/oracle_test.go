package runner_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"piuparts-server/internal/config"
	"piuparts-server/slave/runner"
)

const referenceSlave = "/usr/share/piuparts/piuparts-slave"

// stampRE matches the Start and End lines, whose times differ between the
// reference's run and ours.
var stampRE = regexp.MustCompile(`(?m)^(Start|End): \d{4}-\d\d-\d\d \d\d:\d\d:\d\d (?:UTC|GMT)$`)

// TestTest_Oracle runs the same test with Debian's piuparts-slave
// (testdata/oracle.py) and with Test, on the same configuration, archive
// and fake piuparts, and compares the logs byte for byte (the times of the
// Start and End lines aside) and the result directories.
func TestTest_Oracle(t *testing.T) {
	if _, err := os.Stat(referenceSlave); err != nil {
		t.Skipf("Debian's piuparts-slave is not installed: %v", err)
	}
	if _, err := exec.LookPath("/usr/bin/python3"); err != nil {
		t.Skipf("no python3: %v", err)
	}
	mirror := writeMirror(t, "bookworm", "bookworm-updates")
	const ends = `echo "0m1.0s INFO: piuparts run ends."` + "\n"
	tests := []struct {
		name          string
		ini           string // lines of [s]
		pkg, version  string
		script        string // the fake piuparts
		proxy         string // http_proxy in the environment
		before, after func(t *testing.T, secDir string)
	}{
		{name: "Pass", ini: "distro = bookworm", pkg: "hello", version: "2.10-3",
			script: `echo "0m0.0s INFO: args: $*"` + "\n" + ends},
		{name: "AllOptions", pkg: "hello", version: "2.10-3", proxy: "http://proxy.invalid:3128/",
			ini: "distro = bookworm\nsetarch = linux64 -R\npiuparts-flags = --warn-on-others --merged-usr --scriptsdir /etc/piuparts/scripts\n" +
				"tmpdir = /tmp\ncomponents = main contrib\nkeep-sources-list = yes\nbasetgz-directory = /srv/piuparts basetgz",
			script: `printf '%s\n' "$@"` + "\n" + ends},
		{name: "ChrootTgz", ini: "distro = bookworm\nchroot-tgz = sid.tar.gz\nbasetgz-directory = tgz/", pkg: "hello", version: "2.10-3",
			script: ends},
		{name: "Fail", ini: "distro = bookworm", pkg: "hello", version: "2.10-3",
			script: "echo 'ERROR: it broke'\n" + ends + "exit 1\n"},
		{name: "Incomplete", ini: "distro = bookworm", pkg: "hello", version: "2.10-3",
			script: "echo 'half a run'\n"},
		{name: "EmptyOutput", ini: "distro = bookworm", pkg: "hello", version: "2.10-3", script: "exit 0\n"},
		{name: "EscAndCR", ini: "distro = bookworm", pkg: "hello", version: "2.10-3",
			script: `printf 'progress 10%%\rprogress 100%%\r\n\033[1mbold\033[0m\r\r\n\n0m1.0s INFO: piuparts run ends.'` + "\n"},
		{name: "Exit124", ini: "distro = bookworm", pkg: "hello", version: "2.10-3",
			script: ends + "exit 124\n"},
		{name: "KilledBySignal", ini: "distro = bookworm", pkg: "hello", version: "2.10-3",
			script: ends + "kill -TERM $$\n"},
		{name: "NotFound", ini: "distro = bookworm", pkg: "nosuchpackage", version: "1.0", script: ends},
		{name: "VersionMismatch", ini: "distro = bookworm", pkg: "hello", version: "2.10-2", script: ends},
		{name: "OneUpgradeDistro", ini: "upgrade-test-distros = bookworm", pkg: "hello", version: "2.10-3", script: ends},
		{name: "UpgradePass", ini: "upgrade-test-distros = bookworm-updates bookworm", pkg: "libssl3",
			version: "3.0.20-1~deb12u2", script: ends},
		{name: "UpgradeDowngrade", ini: "upgrade-test-distros = bookworm bookworm-updates", pkg: "libssl3",
			version: "3.0.17-1~deb12u2", script: ends},
		{name: "UpgradeMissingInFinal", ini: "upgrade-test-distros = bookworm bookworm-updates", pkg: "hello",
			version: "2.10-3", script: ends},
		{name: "UpgradeVersionNone", ini: "upgrade-test-distros = bookworm bookworm-updates", pkg: "hello",
			version: "None", script: ends},
		{name: "UpgradeNowhere", ini: "upgrade-test-distros = bookworm bookworm-updates", pkg: "nosuchpackage",
			version: "1.0", script: ends},
		{name: "UpgradeFinalMismatch", ini: "upgrade-test-distros = bookworm bookworm-updates", pkg: "ca-certificates",
			version: "1.0", script: ends},
		{name: "UpgradeMetaSave", pkg: "ca-certificates", version: "20230311+deb12u1", script: ends,
			ini: "upgrade-test-distros = bookworm bookworm-updates\nchroot-meta-auto = ref.dat\nchroot-meta-directory = meta",
			after: func(t *testing.T, secDir string) {
				if fi, err := os.Stat(filepath.Join(secDir, "meta", "s")); err != nil || !fi.IsDir() {
					t.Errorf("chroot-meta-directory/SECTION not created: %v", err)
				}
			}},
		{name: "UpgradeMetaLoadOutdated", pkg: "ca-certificates", version: "20230311+deb12u1",
			script: "echo 'History of available packages does not match - reference chroot may be outdated'\n" + ends,
			ini:    "upgrade-test-distros = bookworm bookworm-updates\nchroot-meta-auto = ref.dat",
			before: func(t *testing.T, secDir string) {
				if err := os.WriteFile(filepath.Join(secDir, "ref.dat"), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			after: func(t *testing.T, secDir string) {
				if _, err := os.Stat(filepath.Join(secDir, "ref.dat")); err == nil {
					t.Errorf("outdated chroot-meta-auto file kept")
				}
			}},
		{name: "UpgradeMetaLoadKept", pkg: "ca-certificates", version: "20230311+deb12u1", script: ends,
			ini: "upgrade-test-distros = bookworm bookworm-updates\nchroot-meta-auto = ref.dat",
			before: func(t *testing.T, secDir string) {
				if err := os.WriteFile(filepath.Join(secDir, "ref.dat"), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			after: func(t *testing.T, secDir string) {
				if _, err := os.Stat(filepath.Join(secDir, "ref.dat")); err != nil {
					t.Errorf("chroot-meta-auto file removed after a good run: %v", err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			fake := script(t, dir, "fake-piuparts", tt.script)
			ini := "[global]\nsections = s\nmax-tgz-age = -1\n\n[s]\narch = amd64\nmirror = " + mirror +
				"\npiuparts-command = /bin/sh " + fake + "\n" + tt.ini + "\n"
			confPath := filepath.Join(dir, "piuparts.conf")
			distrosPath := filepath.Join(dir, "distros.conf")
			if err := os.WriteFile(confPath, []byte(ini), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(distrosPath, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8"}
			if tt.proxy != "" {
				env = append(env, "http_proxy="+tt.proxy)
			}
			pyDir := filepath.Join(dir, "py")
			goDir := filepath.Join(dir, "go", "s")
			for _, d := range []string{filepath.Join(pyDir, "s"), goDir} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				if tt.before != nil {
					tt.before(t, d)
				}
			}

			// The reference.
			py := exec.CommandContext(t.Context(), "/usr/bin/python3", "testdata/oracle.py",
				confPath, distrosPath, pyDir, "s", tt.pkg, tt.version)
			py.Env = env
			var stderr bytes.Buffer
			py.Stderr = &stderr
			out, err := py.Output()
			if err != nil {
				t.Fatalf("reference: %v\n%s", err, stderr.String())
			}
			wantKind, wantLog, _ := strings.Cut(string(out), "\n")

			// Ours, on the same configuration.
			var toml bytes.Buffer
			if err := config.ImportINI(strings.NewReader(ini), "piuparts.conf", &toml); err != nil {
				t.Fatal(err)
			}
			c := parseConfig(t, toml.String())
			sec := section(t, c, "s")
			a, err := runner.LoadArchive(t.Context(), c, sec, []string{tt.pkg})
			if err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			res, err := runner.Test(t.Context(), runner.Job{
				Config: c, Section: sec, Archive: a, Name: tt.pkg, Version: tt.version,
				Dir: goDir, Out: &log, Env: env, Now: now,
			})
			if err != nil {
				t.Fatalf("Test: %v", err)
			}
			got := stampRE.ReplaceAllString(log.String(), "$1: T")
			want := stampRE.ReplaceAllString(wantLog, "$1: T")
			if got != want {
				t.Errorf("log differs from the reference's\n--- got:\n%s\n--- want:\n%s", got, want)
			}
			if res.Kind != wantKind {
				t.Errorf("Kind = %q, want %q", res.Kind, wantKind)
			}
			if !strings.Contains(want, "\nret="+strconv.Itoa(res.Ret)+"\n") {
				t.Errorf("Ret = %d, not the reference's", res.Ret)
			}
			if tt.after != nil {
				tt.after(t, filepath.Join(pyDir, "s"))
				tt.after(t, goDir)
			}
		})
	}
}
