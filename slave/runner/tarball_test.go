package runner_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"piuparts-server/internal/config"
	"piuparts-server/slave/runner"
)

// fakeCreator is a piuparts that writes the -s tarball and notes each run
// in the file "ran" of its working directory.
const fakeCreator = `echo run >> ran
while [ $# -gt 0 ]; do
	if [ "$1" = -s ]; then echo tarball > "$2"; fi
	shift
done
echo "0m1.0s INFO: piuparts run ends."
`

// tarballJob returns a TarballJob for a section "s" with the given keys
// and fake piuparts, in a new section directory.
func tarballJob(t *testing.T, body string, keys ...string) runner.TarballJob {
	t.Helper()
	dir := t.TempDir()
	fake := script(t, dir, "fake-piuparts", body)
	c := parseConfig(t, sectionTOML("http://mirror.invalid/debian", fake, append([]string{`distro = "bookworm"`}, keys...)...))
	return runner.TarballJob{Config: c, Section: section(t, c, "s"), Dir: dir,
		Env: []string{"PATH=/usr/bin:/bin"}, Now: now,
		Grace: runner.Grace{Int: 200 * time.Millisecond, Term: 200 * time.Millisecond, Drain: time.Second}}
}

// runs returns how often the fake piuparts ran in dir.
func runs(t *testing.T, dir string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "ran"))
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "run\n")
}

func TestEnsureTarball_Ages(t *testing.T) {
	const missing = -1
	tests := []struct {
		name          string
		maxAge, retry int
		tgzAge        time.Duration // missing: no tarball
		logAge        time.Duration // missing: no log
		wantRuns      int
		wantNext      time.Duration // after fixedNow; -1: zero Time
	}{
		{"NeverChecked", -1, 60, missing, missing, 0, -1},
		{"ZeroAgeExists", 0, 60, 1000 * time.Hour, missing, 0, 86400 * time.Second},
		{"ZeroAgeMissing", 0, 60, missing, missing, 1, 60 * time.Second},
		{"Young", 100, 60, 50 * time.Second, missing, 0, 50 * time.Second},
		{"OldRecentAttempt", 100, 60, 200 * time.Second, 10 * time.Second, 0, 50 * time.Second},
		{"OldLastAttemptLongAgo", 100, 60, 200 * time.Second, 100 * time.Second, 1, 60 * time.Second},
		// Without a log, the tarball's own age counts against the delay.
		{"OldNoLogRetryLater", 100, 300, 200 * time.Second, missing, 0, 100 * time.Second},
		{"OldNoLog", 100, 150, 200 * time.Second, missing, 1, 150 * time.Second},
		{"MissingPositiveAge", 100, 60, missing, 5 * time.Second, 1, 60 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := tarballJob(t, fakeCreator, "max-tgz-age = "+strconv.Itoa(tt.maxAge), "min-tgz-retry-delay = "+strconv.Itoa(tt.retry))
			tgz := filepath.Join(j.Dir, "bookworm_amd64.tar.gz")
			for _, f := range []struct {
				path string
				age  time.Duration
			}{{tgz, tt.tgzAge}, {tgz + ".log", tt.logAge}} {
				if f.age == missing {
					continue
				}
				if err := os.WriteFile(f.path, []byte("old\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(f.path, fixedNow.Add(-f.age), fixedNow.Add(-f.age)); err != nil {
					t.Fatal(err)
				}
			}
			next, err := runner.EnsureTarball(t.Context(), j)
			if err != nil {
				t.Fatal(err)
			}
			want := fixedNow.Add(tt.wantNext)
			if tt.wantNext == -1 {
				want = time.Time{}
			}
			if !next.Equal(want) {
				t.Errorf("next = %v, want %v", next, want)
			}
			if got := runs(t, j.Dir); got != tt.wantRuns {
				t.Errorf("piuparts ran %d times, want %d", got, tt.wantRuns)
			}
			if tt.wantRuns > 0 {
				data, err := os.ReadFile(tgz)
				if err != nil || string(data) != "tarball\n" {
					t.Errorf("tarball = %q, %v; want the new one", data, err)
				}
				if _, err := os.Stat(tgz + ".new"); err == nil {
					t.Errorf("TARBALL.new left behind")
				}
			}
		})
	}
}

func TestEnsureTarball_Busy(t *testing.T) {
	j := tarballJob(t, fakeCreator, "max-tgz-age = 0")
	logPath := filepath.Join(j.Dir, "bookworm_amd64.tar.gz.log")
	if err := os.WriteFile(logPath, []byte("creating...\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	next, err := runner.EnsureTarball(t.Context(), j)
	if !errors.Is(err, runner.ErrTarballBusy) {
		t.Errorf("EnsureTarball error = %v, want ErrTarballBusy", err)
	}
	if want := fixedNow.Add(j.Section.MinTgzRetryDelay); !next.Equal(want) {
		t.Errorf("next = %v, want %v", next, want)
	}
	if n := runs(t, j.Dir); n != 0 {
		t.Errorf("piuparts ran %d times while another creation held the lock", n)
	}
	if data, _ := os.ReadFile(logPath); string(data) != "creating...\n" {
		t.Errorf("the other creation's log was changed to %q", data)
	}
}

func TestEnsureTarball_NotCreated(t *testing.T) {
	j := tarballJob(t, "echo 'E: debootstrap failed'\nexit 1\n", "max-tgz-age = 0")
	_, err := runner.EnsureTarball(t.Context(), j)
	if !errors.Is(err, runner.ErrTarballNotCreated) {
		t.Errorf("EnsureTarball error = %v, want ErrTarballNotCreated", err)
	}
	log, _ := os.ReadFile(filepath.Join(j.Dir, "bookworm_amd64.tar.gz.log"))
	if !strings.Contains(string(log), "\nE: debootstrap failed\n\nEnd: 2024-05-01 12:00:00 GMT\n") {
		t.Errorf("log lacks the output and End line:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(j.Dir, "bookworm_amd64.tar.gz")); err == nil {
		t.Errorf("tarball exists")
	}
}

func TestEnsureTarball_Cancel(t *testing.T) {
	j := tarballJob(t, "echo ready\nexec sleep 1000\n", "max-tgz-age = 0")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// Cancel once the creation has started: its log says so.
	go func() {
		logPath := filepath.Join(j.Dir, "bookworm_amd64.tar.gz.log")
		for ctx.Err() == nil {
			if data, _ := os.ReadFile(logPath); strings.Contains(string(data), "ready\n") {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	_, err := runner.EnsureTarball(ctx, j)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("EnsureTarball error = %v, want context.Canceled", err)
	}
}

// TestEnsureTarball_Oracle lets Debian's piuparts-slave and EnsureTarball
// create the same missing tarball with the same fake piuparts and compares
// the logs.
func TestEnsureTarball_Oracle(t *testing.T) {
	if _, err := os.Stat(referenceSlave); err != nil {
		t.Skipf("Debian's piuparts-slave is not installed: %v", err)
	}
	dir := t.TempDir()
	fake := script(t, dir, "fake-piuparts", fakeCreator+"printf 'args:'; printf ' [%s]' \"$@\"; echo\n")
	ini := "[global]\nsections = s\nmax-tgz-age = 0\n\n[s]\narch = amd64\nmirror = http://mirror.invalid/debian\n" +
		"components = main non-free\nsetarch = linux64\npiuparts-command = /bin/sh " + fake +
		"\npiuparts-flags = --merged-usr -v\ntmpdir = /tmp\ndistro = bookworm\nbasetgz-directory = tgz\n"
	confPath, distrosPath := filepath.Join(dir, "piuparts.conf"), filepath.Join(dir, "distros.conf")
	if err := os.WriteFile(confPath, []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(distrosPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8", "http_proxy=http://proxy.invalid:3128"}
	pyDir, goDir := filepath.Join(dir, "py"), filepath.Join(dir, "go", "s")
	for _, d := range []string{filepath.Join(pyDir, "s", "tgz"), filepath.Join(goDir, "tgz")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	py := exec.CommandContext(t.Context(), "/usr/bin/python3", "testdata/oracle_tarball.py", confPath, distrosPath, pyDir, "s")
	py.Env = env
	var stderr bytes.Buffer
	py.Stderr = &stderr
	want, err := py.Output()
	if err != nil {
		t.Fatalf("reference: %v\n%s", err, stderr.String())
	}

	var toml bytes.Buffer
	if err := config.ImportINI(strings.NewReader(ini), "piuparts.conf", &toml); err != nil {
		t.Fatal(err)
	}
	c := parseConfig(t, toml.String())
	if _, err := runner.EnsureTarball(t.Context(), runner.TarballJob{Config: c, Section: section(t, c, "s"),
		Dir: goDir, Env: env, Now: now}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(goDir, "tgz", "bookworm-merged-usr_amd64.tar.gz.log"))
	if err != nil {
		t.Fatal(err)
	}
	if g, w := stampRE.ReplaceAllString(string(got), "$1: T"), stampRE.ReplaceAllString(string(want), "$1: T"); g != w {
		t.Errorf("log differs from the reference's\n--- got:\n%s\n--- want:\n%s", g, w)
	}
	for _, d := range []string{filepath.Join(pyDir, "s"), goDir} {
		if data, err := os.ReadFile(filepath.Join(d, "tgz", "bookworm-merged-usr_amd64.tar.gz")); err != nil || string(data) != "tarball\n" {
			t.Errorf("%s: tarball = %q, %v", d, data, err)
		}
	}
}
