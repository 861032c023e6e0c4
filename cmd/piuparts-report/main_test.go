package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"piuparts-server/internal/testutil"
)

// fixtureConfig writes a master directory of the bookworm fixture and our
// config for it, and returns the config's path and the output directory.
func fixtureConfig(t *testing.T) (conf, master, out string) {
	t.Helper()
	conf, md, out := fixtureMaster(t)
	return conf, md.Dir, out
}

// fixtureMaster is fixtureConfig with the master directory's handle.
func fixtureMaster(t *testing.T) (conf string, md *testutil.MasterDir, out string) {
	t.Helper()
	root := t.TempDir()
	secs := testutil.WriteMirror(t, filepath.Join(root, "mirror"), testutil.FixtureReportSections(t)[:1])
	md = testutil.MasterDirFixture(t, testutil.MasterDirOptions{Dir: filepath.Join(root, "master"),
		Packages: testutil.Fixture(t, "Packages_bookworm_closure"), Seed: 3})
	conf, out = filepath.Join(root, "piuparts.toml"), filepath.Join(root, "out")
	writeTOML(t, conf, md.Dir, out, secs)
	return conf, md, out
}

func TestRun_Help(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"--help"}, &stdout, &stderr, func(string) string { return "" }, false); err != nil {
		t.Fatalf("--help: %v", err)
	}
	if !strings.Contains(stderr.String(), "usage: piuparts-report") || !strings.Contains(stderr.String(), "report.lock") {
		t.Errorf("--help printed %q, want the usage and the lock rule", stderr.String())
	}
	if err := run(t.Context(), []string{"--no-such-flag"}, &stdout, &stderr, func(string) string { return "" }, false); err == nil {
		t.Error("an unknown flag was accepted")
	}
}

func TestRun_BadConfig(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(conf, []byte("[global]\nsections = [\"sid\"]\n[sid]\nmax-reserved = \"x\"\n"), 0o644)
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"-c", conf}, &stdout, &stderr, func(string) string { return "" }, false)
	if err == nil || !strings.Contains(err.Error(), "bad.toml:4") || !strings.Contains(err.Error(), "max-reserved") {
		t.Errorf("a malformed config gave %v, want an error naming the file, line 4 and the key", err)
	}
}

// TestRun_Lock: while another report holds report.lock, a run says so,
// writes nothing and succeeds (cron runs may overlap).
func TestRun_Lock(t *testing.T) {
	conf, master, out := fixtureConfig(t)
	f, err := os.OpenFile(filepath.Join(master, "report.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-c", conf}, &stdout, &stderr, func(string) string { return "" }, false); err != nil {
		t.Fatalf("a run while the lock is held: %v", err)
	}
	if !strings.Contains(stderr.String(), "another piuparts-report is running") {
		t.Errorf("stderr = %q, want the line saying another report runs", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(out, "index.html")); !os.IsNotExist(err) {
		t.Errorf("the locked-out run wrote the report: %v", err)
	}
	f.Close()
	if err := run(t.Context(), []string{"-c", conf}, &stdout, &stderr, func(string) string { return "" }, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, "index.html")); err != nil {
		t.Errorf("after the lock was released the run wrote no front page: %v", err)
	}
}

// TestRun_Rerun: a rerun with nothing new writes no file; a new log
// changes its package's pages and leaves the others as they were.
func TestRun_Rerun(t *testing.T) {
	conf, md, out := fixtureMaster(t)
	var stdout, stderr bytes.Buffer
	runIt := func() {
		t.Helper()
		stderr.Reset()
		if err := run(t.Context(), []string{"-c", conf}, &stdout, &stderr, func(string) string { return "" }, false); err != nil {
			t.Fatalf("run: %v\n%s", err, stderr.String())
		}
	}
	runIt() // also writes .kpr files and counts.txt: its own inputs
	stamp := func() map[string]int64 {
		m := map[string]int64{}
		filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() {
				m[p] = fi.ModTime().UnixNano()
			}
			return nil
		})
		return m
	}
	before := stamp()
	runIt()
	after := stamp()
	for p, t0 := range before {
		if after[p] != t0 {
			t.Errorf("a rerun with nothing new rewrote %s", p)
		}
	}
	if len(after) != len(before) {
		t.Errorf("a rerun with nothing new changed the number of files: %d -> %d", len(before), len(after))
	}

	added := md.AddPassLogs(t, 1)
	if len(added) != 1 {
		t.Fatalf("AddPassLogs = %v", added)
	}
	pkg := strings.SplitN(filepath.Base(added[0]), "_", 2)[0]
	runIt()
	changed := map[string]bool{}
	for p, t1 := range stamp() {
		if before[p] != t1 {
			rel, _ := filepath.Rel(out, p)
			changed[rel] = true
		}
	}
	for _, want := range []string{"bookworm/pass.html", "bookworm/pass/" + filepath.Base(added[0])} {
		if !changed[want] {
			t.Errorf("after a new log of %s, %s did not change (changed: %d files)", pkg, want, len(changed))
		}
	}
	// Far fewer than all pages change.
	if len(changed) > len(after)/3 {
		t.Errorf("a new log of %s changed %d of %d files", pkg, len(changed), len(after))
	}
	t.Logf("a new log of %s changed %d of %d files", pkg, len(changed), len(after))
}

// TestRun_NoSources: a mirror without Sources still gets its state pages
// and summary; the run says what is missing and succeeds.
func TestRun_NoSources(t *testing.T) {
	conf, _, out := fixtureConfig(t)
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	mirror := ""
	for _, line := range strings.Split(string(b), "\n") {
		if m, ok := strings.CutPrefix(line, "mirror = \"file://"); ok {
			mirror = strings.TrimSuffix(m, "\"")
		}
	}
	if err := os.RemoveAll(filepath.Join(mirror, "dists", "bookworm", "main", "source")); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"-c", conf}, &stdout, &stderr, func(string) string { return "" }, false); err != nil {
		t.Fatalf("run without Sources: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "no Sources") {
		t.Errorf("stderr = %q, want a line saying the Sources are missing", stderr.String())
	}
	for _, p := range []string{"bookworm/state-successfully-tested.html", "bookworm/summary.json", "index.html"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Errorf("without Sources: %v", err)
		}
	}
}

// TestRun_RerunSameAsCold: a rerun after new logs (which renders only the
// pages whose inputs changed) leaves exactly the files a cold run into an
// empty directory writes, byte for byte.
func TestRun_RerunSameAsCold(t *testing.T) {
	conf, md, out := fixtureMaster(t)
	runConf := func(c string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(t.Context(), []string{"-c", c}, &stdout, &stderr, func(string) string { return "" }, false); err != nil {
			t.Fatalf("run: %v\n%s", err, stderr.String())
		}
	}
	runConf(conf)
	runConf(conf)
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	for round := 1; round <= 3; round++ {
		if added := md.AddPassLogs(t, 3); len(added) == 0 {
			t.Fatal("AddPassLogs added nothing")
		}
		// Pages show the run's minute: the two runs are compared only
		// when they ran in the same one.
		for {
			minute := time.Now().Truncate(time.Minute)
			runConf(conf)
			cold := filepath.Join(t.TempDir(), "cold")
			coldConf := filepath.Join(t.TempDir(), "cold.toml")
			data := strings.Replace(string(b), fmt.Sprintf("output-directory = %q", out), fmt.Sprintf("output-directory = %q", cold), 1)
			if err := os.WriteFile(coldConf, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
			runConf(coldConf)
			if time.Now().Truncate(time.Minute).Equal(minute) {
				if diff := diffTrees(t, out, cold); len(diff) > 0 {
					t.Fatalf("round %d: the rerun's output differs from a cold run's in %d files: %q; first: %s",
						round, len(diff), diff[:min(10, len(diff))], firstDiff(filepath.Join(out, diff[0]), filepath.Join(cold, diff[0])))
				}
				break
			}
		}
	}
}

var summaryDate = regexp.MustCompile(`"_date": "[^"]*"`)

// diffTrees returns the files (the run's own state files left out) that
// are in one tree and not the other, or differ.
func diffTrees(t *testing.T, a, b string) []string {
	t.Helper()
	read := func(root string) map[string]string {
		m := map[string]string{}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if strings.HasPrefix(rel, ".piuparts-report.") {
				return nil
			}
			data, err := os.ReadFile(p)
			if filepath.Base(rel) == "summary.json" {
				// Its _date has the run's second.
				data = summaryDate.ReplaceAll(data, []byte(`"_date": ""`))
			}
			m[rel] = string(data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ma, mb := read(a), read(b)
	var out []string
	for p, da := range ma {
		if db, ok := mb[p]; !ok || db != da {
			out = append(out, p)
		}
	}
	for p := range mb {
		if _, ok := ma[p]; !ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// firstDiff returns the first line where files a and b differ.
func firstDiff(a, b string) string {
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	la, lb := strings.Split(string(da), "\n"), strings.Split(string(db), "\n")
	for i := range max(len(la), len(lb)) {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("line %d: %q != %q", i+1, x, y)
		}
	}
	return "no line differs"
}
