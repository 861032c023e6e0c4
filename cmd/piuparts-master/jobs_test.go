package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// jobsScripts is where Debian's piuparts-master keeps its cron jobs.
const jobsScripts = "/usr/share/piuparts/master"

// jobsFile is a file of a master directory and its age; its content is
// body when hasBody is set, else its path.
type jobsFile struct {
	rel     string
	age     time.Duration
	body    string
	hasBody bool
}

const day = 24 * time.Hour

// jobsTree writes the files into dir, each back-dated by its age.
func jobsTree(t *testing.T, dir string, files []jobsFile) {
	t.Helper()
	now := time.Now()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		body := f.rel + "\n"
		if f.hasBody {
			body = f.body
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		at := now.Add(-f.age)
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
}

// jobsListing is every file under the sections of dir (not the database,
// nor what the jobs publish), as "REL" or "REL = FIRST" for a second name
// of the file FIRST, sorted.
func jobsListing(t *testing.T, dir string, sections ...string) []string {
	t.Helper()
	var out []string
	for _, s := range sections {
		out = append(out, jobsFiles(t, dir, s)...)
	}
	slices.Sort(out)
	// Recycle markers are second names of their logs (ln -f).
	first := make(map[uint64]string)
	for i, rel := range out {
		fi, err := os.Stat(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		ino := fi.Sys().(*syscall.Stat_t).Ino
		if f, ok := first[ino]; ok {
			out[i] += " = " + f
		} else {
			first[ino] = rel
		}
	}
	return out
}

// jobsConfigs writes the same settings as Debian's INI piuparts.conf and
// as our TOML, each naming its own master directory.
func jobsConfigs(t *testing.T, root, debianDir, oursDir string, global map[string]string, sections map[string]map[string]string) (ini, toml string) {
	t.Helper()
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range sections {
			if !yield(n) {
				return
			}
		}
	})
	var ib, tb strings.Builder
	fmt.Fprintf(&ib, "[global]\nsections = %s\nmaster-directory = %s\noutput-directory = %s\ntesting-suite = trixie\n", strings.Join(names, " "), debianDir, filepath.Join(root, "debian-out"))
	fmt.Fprintf(&tb, "[global]\nsections = [\"%s\"]\nmaster-directory = %q\noutput-directory = %q\nmirror = \"file:///nonexistent\"\narch = \"amd64\"\ntesting-suite = \"trixie\"\n",
		strings.Join(names, `", "`), oursDir, filepath.Join(root, "ours-out"))
	for k, v := range global {
		fmt.Fprintf(&ib, "%s = %s\n", k, v)
		fmt.Fprintf(&tb, "%s = %s\n", k, tomlValue(v))
	}
	for _, n := range names {
		fmt.Fprintf(&ib, "\n[%s]\ndistro = %s\n", n, n)
		fmt.Fprintf(&tb, "\n[%s]\ndistro = %q\n", n, n)
		for k, v := range sections[n] {
			fmt.Fprintf(&ib, "%s = %s\n", k, v)
			fmt.Fprintf(&tb, "%s = %s\n", k, tomlValue(v))
		}
	}
	ini, toml = filepath.Join(root, "piuparts.conf"), filepath.Join(root, "piuparts.toml")
	if err := os.WriteFile(ini, []byte(ib.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(toml, []byte(tb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return ini, toml
}

// tomlValue writes an INI value as TOML: integers and yes/no as they
// are, "+N" and words as strings.
func tomlValue(v string) string {
	switch v {
	case "yes":
		return "true"
	case "no":
		return "false"
	}
	if _, err := fmt.Sscanf(v, "%d", new(int)); err == nil && !strings.HasPrefix(v, "+") {
		return v
	}
	return fmt.Sprintf("%q", v)
}

// jobsCompare runs Debian's script and our job on two copies of one
// master directory and checks that the same files end in the same
// places, and that our index agrees with our files.
func jobsCompare(t *testing.T, script, job string, files []jobsFile, global map[string]string, sections map[string]map[string]string, args ...string) (root string, listing []string, debianOut, oursOut string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(jobsScripts, script)); err != nil {
		t.Skipf("SKIPPED: no %s/%s (apt-get install piuparts-master, or make test-deps)", jobsScripts, script)
	}
	root = t.TempDir()
	debianDir, oursDir := filepath.Join(root, "debian"), filepath.Join(root, "ours")
	jobsTree(t, debianDir, files)
	jobsTree(t, oursDir, files)
	ini, toml := jobsConfigs(t, root, debianDir, oursDir, global, sections)
	ctx := t.Context()
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"-c", toml, "import"}, nil, &out, &errOut, noEnv); err != nil {
		t.Fatalf("import: %v\n%s%s", err, out.String(), errOut.String())
	}

	if global["backup-directory"] != "" {
		// Each its own backup directory.
		b, err := os.ReadFile(ini)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.Replace(b, []byte("backup-directory = "+global["backup-directory"]), []byte("backup-directory = "+global["backup-directory"]+"-debian"), 1)
		if err := os.WriteFile(ini, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(ctx, filepath.Join(jobsScripts, script), args...)
	cmd.Env = append(os.Environ(), "PIUPARTS_CONF="+ini, "LC_ALL=C")
	cmd.Dir = root
	dout, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("Debian's %s: %v\n%s", script, err, dout)
	}
	out.Reset()
	errOut.Reset()
	if err := run(ctx, append([]string{"-c", toml, job}, args...), nil, &out, &errOut, noEnv); err != nil {
		t.Fatalf("our %s: %v\n%s", job, err, errOut.String())
	}
	names := slices.Collect(func(yield func(string) bool) {
		for n := range sections {
			if !yield(n) {
				return
			}
		}
	})
	want, got := jobsListing(t, debianDir, names...), jobsListing(t, oursDir, names...)
	if !slices.Equal(want, got) {
		t.Errorf("after %s the trees differ\nDebian's:\n  %s\nours:\n  %s", job,
			strings.Join(want, "\n  "), strings.Join(got, "\n  "))
	}
	t.Logf("after %s:\n  %s", job, strings.Join(got, "\n  "))
	var fsck bytes.Buffer
	if err := run(ctx, []string{"-c", toml, "fsck"}, nil, &fsck, &errOut, noEnv); err != nil || strings.TrimSpace(fsck.String()) != "clean" {
		t.Errorf("fsck after our %s: %v\n%s", job, err, fsck.String())
	}
	return root, got, string(dout), out.String()
}

// jobsPublished returns what a job published today under out.
func jobsPublished(t *testing.T, out, name string) string {
	t.Helper()
	now := time.Now().UTC()
	b, err := os.ReadFile(filepath.Join(out, "logs", now.Format("2006"), now.Format("01"), now.Format("02"), name+".txt"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func TestJobs_RescheduleAsDebian(t *testing.T) {
	files := []jobsFile{
		// sid is idle: its old passed logs are rescheduled too.
		{rel: "sid/idle.stamp", age: time.Hour},
		{rel: "sid/pass/old-a_1.log", age: 200 * day},
		{rel: "sid/pass/old-b_1.log", age: 190 * day},
		{rel: "sid/pass/old-c_1.log", age: 185 * day},
		{rel: "sid/pass/young_1.log", age: 10 * day},
		{rel: "sid/fail/f-old_1.log", age: 40 * day},
		{rel: "sid/fail/f-older_1.log", age: 45 * day},
		{rel: "sid/fail/f-young_1.log", age: 5 * day},
		{rel: "sid/affected/a-old_1.log", age: 50 * day},
		// Marked for retesting long ago and old enough to expire.
		{rel: "sid/fail/f-expire_1.log", age: 100 * day},
		{rel: "sid/recycle/f-expire_1.log", age: 20 * day},
		// A marker whose log is gone.
		{rel: "sid/recycle/gone_2.log", age: 3 * day},
		// bookworm is not idle and reschedules nothing itself.
		{rel: "bookworm/pass/b-old_1.log", age: 400 * day},
		{rel: "bookworm/fail/b-fail_1.log", age: 400 * day},
		{rel: "bookworm/recycle/b-gone_1.log", age: 1 * day},
	}
	global := map[string]string{"reschedule-old-count": "2", "reschedule-fail-count": "2", "expire-fail-days": "+30"}
	sections := map[string]map[string]string{
		"sid":      {"reschedule-old-days": "180", "reschedule-fail-days": "30"},
		"bookworm": {"auto-reschedule": "no"},
	}
	root, got, _, _ := jobsCompare(t, "reschedule_oldest_logs", "reschedule", files, global, sections)
	// What the script's rules give, worked out by hand: the two oldest
	// passed logs over 180 days, the two oldest failed ones over 30 days
	// not yet marked, the marked failed log over 60 days expired, both
	// markers without a log removed.
	for _, want := range []string{
		"sid/recycle/old-a_1.log = sid/pass/old-a_1.log",
		"sid/recycle/old-b_1.log = sid/pass/old-b_1.log",
		"sid/recycle/a-old_1.log = sid/affected/a-old_1.log",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("after reschedule, no %q", want)
		}
	}
	for _, gone := range []string{"sid/fail/f-expire_1.log", "sid/recycle/gone_2.log", "bookworm/recycle/b-gone_1.log", "sid/recycle/old-c_1.log = sid/pass/old-c_1.log"} {
		if slices.Contains(got, gone) {
			t.Errorf("after reschedule, still %q", gone)
		}
	}
	// Both published the same counts.
	for _, line := range []string{"Rescheduled 3 logs.", "Deleted 1 expired logs.", "Cancelled 2 outdated rescheduling requests.",
		"sid: 3 rescheduled, 1 expired, 1 obsolete", "bookworm: 0 rescheduled, 0 expired, 1 obsolete"} {
		for _, who := range []string{"debian-out", "ours-out"} {
			if pub := jobsPublished(t, filepath.Join(root, who), "reschedule_oldest_logs"); !strings.Contains(pub, line) {
				t.Errorf("%s's published report lacks %q:\n%s", who, line, pub)
			}
		}
	}
}

func TestJobs_RescheduleUntestableAsDebian(t *testing.T) {
	files := []jobsFile{
		{rel: "sid/untestable/old_1.log", age: 9 * day},
		{rel: "sid/untestable/young_1.log", age: 7*day + time.Hour}, // 7 whole days: not more than 7
		{rel: "sid/pass/p_1.log", age: 30 * day},
		{rel: "experimental/untestable/exp_1.log", age: 30 * day}, // precedence 100: left alone
	}
	sections := map[string]map[string]string{"sid": {}, "experimental": {"precedence": "100"}}
	root, got, _, out := jobsCompare(t, "report_untestable_packages", "reschedule-untestable", files,
		map[string]string{"reschedule-untestable-days": "7"}, sections)
	if slices.Contains(got, "sid/untestable/old_1.log") || !slices.Contains(got, "sid/untestable/young_1.log") ||
		!slices.Contains(got, "experimental/untestable/exp_1.log") {
		t.Errorf("after reschedule-untestable:\n%s\nwant only sid's 9-day-old log gone", strings.Join(got, "\n"))
	}
	if out != "" {
		t.Errorf("reschedule-untestable printed %q; it publishes instead", out)
	}
	pub := jobsPublished(t, filepath.Join(root, "ours-out"), "report_untestable_packages")
	if !strings.HasPrefix(pub, "Untestable packages detected, which have been tested more than 7 days ago!") ||
		!strings.Contains(pub, "sid/untestable/old_1.log") {
		t.Errorf("published report:\n%s", pub)
	}
}

func TestJobs_ArchiveLogsAsDebian(t *testing.T) {
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("SKIPPED: no xz (apt-get install xz-utils)")
	}
	files := []jobsFile{
		{rel: "sid/pass/hello_1.log", age: 30 * day},
		{rel: "sid/fail/hello_2.log", age: 20 * day},
		{rel: "sid/pass/hello_3.log", age: 10 * day}, // the newest stays
		{rel: "sid/bugged/bash_1.log", age: 5 * day},
		{rel: "sid/pass/bash_2.log", age: 6 * day}, // older than the bugged one: archived
		{rel: "sid/pass/single_1.log", age: 50 * day},
		{rel: "sid/archive/fail/older_1.log", age: 100 * day}, // the report archived it: compressed
	}
	_, got, dout, out := jobsCompare(t, "archive_old_logs", "archive-logs", files, nil, map[string]map[string]string{"sid": {}})
	for _, want := range []string{"sid/archive/pass/hello_1.log.xz", "sid/archive/fail/hello_2.log.xz", "sid/pass/hello_3.log",
		"sid/archive/pass/bash_2.log.xz", "sid/bugged/bash_1.log", "sid/pass/single_1.log", "sid/archive/fail/older_1.log.xz", "sid/archive/stamp"} {
		if !slices.Contains(got, want) {
			t.Errorf("after archive-logs, no %s:\n%s", want, strings.Join(got, "\n"))
		}
	}
	if !strings.Contains(dout, "Archived 3 old logfiles.") || !strings.Contains(out, "Archived 3 old logfiles.") {
		t.Errorf("output, Debian's:\n%s\nours:\n%s\nwant both to say 3 archived", dout, out)
	}
}

// A job with nothing to do prints and publishes nothing (cron mails
// what a job prints).
func TestJobs_QuietWhenNothingToDo(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "master")
	jobsTree(t, dir, []jobsFile{{rel: "sid/pass/young_1.log", age: day}})
	_, toml := jobsConfigs(t, root, dir, dir, nil, map[string]map[string]string{"sid": {}})
	ctx := t.Context()
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"-c", toml, "import"}, nil, &out, &errOut, noEnv); err != nil {
		t.Fatal(err)
	}
	for _, job := range []string{"reschedule", "reschedule-untestable", "archive-logs"} {
		out.Reset()
		errOut.Reset()
		if err := run(ctx, []string{"-c", toml, job}, nil, &out, &errOut, noEnv); err != nil || out.Len() > 0 || errOut.Len() > 0 {
			t.Errorf("%s with nothing to do: %v, printed %q %q", job, err, out.String(), errOut.String())
		}
	}
	if _, err := os.Stat(filepath.Join(root, "ours-out", "logs")); !os.IsNotExist(err) {
		t.Errorf("a job with nothing to do published something: %v", err)
	}
	out.Reset()
	if err := run(ctx, []string{"-c", toml, "reschedule", "--help"}, nil, &out, &errOut, noEnv); err != nil ||
		!strings.Contains(out.String(), "reschedule_oldest_logs") {
		t.Errorf("reschedule --help: %v, %q", err, out.String())
	}
	if err := run(ctx, []string{"-c", toml, "archive-logs", "extra"}, nil, &out, &errOut, noEnv); err == nil ||
		!strings.Contains(err.Error(), `archive-logs: takes no arguments, have "extra"`) {
		t.Errorf("archive-logs extra: %v", err)
	}
}

// Debian's own cron scripts, run unchanged on a master directory that our
// master serves: our master notices what they did (a log removed, a
// recycle/ marker made) and hands the packages out again.
func TestJobs_MasterNoticesDebianScripts(t *testing.T) {
	for _, s := range []string{"reschedule_oldest_logs", "report_untestable_packages"} {
		if _, err := os.Stat(filepath.Join(jobsScripts, s)); err != nil {
			t.Skipf("SKIPPED: no %s/%s (apt-get install piuparts-master, or make test-deps)", jobsScripts, s)
		}
	}
	root := t.TempDir()
	dir := filepath.Join(root, "master")
	jobsTree(t, dir, []jobsFile{
		{rel: "sid/idle.stamp", age: time.Hour},
		{rel: "sid/pass/old-a_1.log", age: 200 * day},
		{rel: "sid/untestable/u_1.log", age: 30 * day},
	})
	pkgs := "Package: old-a\nVersion: 1\nArchitecture: amd64\n\nPackage: u\nVersion: 1\nArchitecture: amd64\n"
	mirror := filepath.Join(root, "mirror")
	p := filepath.Join(mirror, "dists", "sid", "main", "binary-amd64", "Packages")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(pkgs), 0o644); err != nil {
		t.Fatal(err)
	}
	ini, toml := jobsConfigs(t, root, dir, dir, nil, map[string]map[string]string{"sid": {}})
	conf, err := os.ReadFile(toml)
	if err != nil {
		t.Fatal(err)
	}
	conf = bytes.Replace(conf, []byte(`mirror = "file:///nonexistent"`), []byte(fmt.Sprintf("mirror = %q", "file://"+mirror)), 1)
	if err := os.WriteFile(toml, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	// Each session is another slave (one reservation each by default).
	sessions := 0
	session := func(cmds string) string {
		t.Helper()
		sessions++
		var out, errOut bytes.Buffer
		if err := run(ctx, []string{"-c", toml, fmt.Sprintf("--slave-id=slave%d", sessions)}, strings.NewReader(cmds), &out, &errOut, noEnv); err != nil {
			t.Fatalf("session %q: %v\n%s", cmds, err, errOut.String())
		}
		return out.String()
	}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"-c", toml, "import"}, nil, &out, &errOut, noEnv); err != nil {
		t.Fatal(err)
	}
	// Our master serves the directory: nothing to hand out.
	if got := session("section sid\nreserve\n"); strings.Contains(got, "ok u ") || strings.Contains(got, "ok old-a ") {
		t.Fatalf("before the scripts, reserve: %q", got)
	}
	for _, s := range []string{"reschedule_oldest_logs", "report_untestable_packages"} {
		cmd := exec.CommandContext(ctx, filepath.Join(jobsScripts, s))
		cmd.Env = append(os.Environ(), "PIUPARTS_CONF="+ini, "LC_ALL=C")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("Debian's %s: %v\n%s", s, err, out)
		}
	}
	// status brings the states up to date, as a connection would.
	out.Reset()
	errOut.Reset()
	if err := run(ctx, []string{"-c", toml, "status", "--json"}, nil, &out, &errOut, noEnv); err != nil || errOut.Len() > 0 {
		t.Fatalf("status: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), `"waiting-to-be-tested": 1`) {
		t.Errorf("status after the scripts, want u waiting to be tested:\n%s", out.String())
	}
	if got := session("section sid\nreserve\n"); !strings.Contains(got, "ok u 1") {
		t.Errorf("after report_untestable_packages removed u's log, reserve: %q; want u", got)
	}
	if got := session("section sid\nrecycle\nreserve\n"); !strings.Contains(got, "ok old-a 1") {
		ml, _ := os.ReadFile(filepath.Join(dir, "sid", "master.log"))
		el, _ := os.ReadFile(filepath.Join(dir, "master-error.log"))
		t.Errorf("after reschedule_oldest_logs marked old-a, recycle + reserve: %q; want old-a\n%s\n%s", got, ml, el)
	}
	out.Reset()
	if err := run(ctx, []string{"-c", toml, "fsck"}, nil, &out, &errOut, noEnv); err != nil || strings.TrimSpace(out.String()) != "clean" {
		t.Errorf("fsck after the sessions: %v\n%s", err, out.String())
	}
}

// jobsDetect runs a detector against its Debian script on logs with the
// given contents.
func jobsDetect(t *testing.T, script, job string, logs map[string]string, extra []jobsFile) (root string, got []string) {
	t.Helper()
	var files []jobsFile
	for _, rel := range slices.Sorted(func(yield func(string) bool) {
		for r := range logs {
			if !yield(r) {
				return
			}
		}
	}) {
		files = append(files, jobsFile{rel: rel, age: 3 * day, body: logs[rel], hasBody: true})
	}
	files = append(files, extra...)
	root, got, _, _ = jobsCompare(t, script, job, files, nil, map[string]map[string]string{"sid": {}})
	return root, got
}

func TestJobs_DetectNetworkIssuesAsDebian(t *testing.T) {
	root, got := jobsDetect(t, "detect_network_issues", "detect-network-issues", map[string]string{
		"sid/fail/net_1.log":        "Setting up\nW: Failed to fetch http://x/y  Could not resolve 'x'\nend\n",
		"sid/untestable/hash_1.log": "E: Hash Sum mismatch\n",
		"sid/fail/real_1.log":       "dpkg: error processing package real (--configure)\n",
		"sid/pass/net_2.log":        "Hash Sum mismatch\n", // pass/ is not looked at
	}, nil)
	for _, want := range []string{"sid/fail/real_1.log", "sid/pass/net_2.log"} {
		if !slices.Contains(got, want) {
			t.Errorf("after detect-network-issues, %s is gone:\n%s", want, strings.Join(got, "\n"))
		}
	}
	for _, gone := range []string{"sid/fail/net_1.log", "sid/untestable/hash_1.log"} {
		if slices.Contains(got, gone) {
			t.Errorf("after detect-network-issues, %s is still there", gone)
		}
	}
	pub := jobsPublished(t, filepath.Join(root, "ours-out"), "network_issues")
	if !strings.HasPrefix(pub, "Network problems detected!") || !strings.Contains(pub, "sid/fail/net_1.log\n\tW: Failed to fetch") {
		t.Errorf("published:\n%s", pub)
	}
}

func TestJobs_DetectPiupartsIssuesAsDebian(t *testing.T) {
	_, got := jobsDetect(t, "detect_piuparts_issues", "detect-piuparts-issues", map[string]string{
		"sid/fail/trace_1.log":  "Traceback (most recent call last):\n",
		"sid/fail/indent_1.log": "  Traceback in a maintainer script, indented: not piuparts'\n",
		"sid/bugged/disk_1.log": "tar: x: Wrote only 512 of 10240 bytes\n",
		"sid/pass/empty_1.log":  "",
		"sid/pass/fine_1.log":   "ok\n",
	}, []jobsFile{{rel: "sid/pass/tmpabc123", age: 3 * day}, {rel: "sid/pass/tmpnew456", age: time.Hour}})
	for _, want := range []string{"sid/fail/indent_1.log", "sid/pass/fine_1.log", "sid/pass/tmpnew456"} {
		if !slices.Contains(got, want) {
			t.Errorf("after detect-piuparts-issues, %s is gone:\n%s", want, strings.Join(got, "\n"))
		}
	}
	for _, gone := range []string{"sid/fail/trace_1.log", "sid/bugged/disk_1.log", "sid/pass/empty_1.log", "sid/pass/tmpabc123"} {
		if slices.Contains(got, gone) {
			t.Errorf("after detect-piuparts-issues, %s is still there", gone)
		}
	}
}

func TestJobs_DetectArchiveIssuesAsDebian(t *testing.T) {
	root, got := jobsDetect(t, "detect_archive_issues", "detect-archive-issues", map[string]string{
		"sid/fail/broken_1.log": "E: Unable to correct problems, you have held broken packages.\n",
		"sid/fail/other_1.log":  "dpkg: error\n",
	}, []jobsFile{{rel: "sid/fail/fresh_1.log", age: time.Hour}})
	for _, want := range []string{"sid/recycle/broken_1.log", "sid/untestable/broken_1.log = sid/recycle/broken_1.log",
		"sid/fail/other_1.log", "sid/fail/fresh_1.log"} {
		if !slices.Contains(got, want) {
			t.Errorf("after detect-archive-issues, no %s:\n%s", want, strings.Join(got, "\n"))
		}
	}
	issues, err := os.ReadFile(filepath.Join(root, "ours", "archive_issues.txt"))
	if err != nil || !strings.Contains(string(issues), "https://piuparts.debian.org/sid/untestable/broken_1.log") {
		t.Errorf("archive_issues.txt = %q, %v", issues, err)
	}
}

func TestJobs_RescheduleTestsAsDebian(t *testing.T) {
	kpr := func(rel, problem string) jobsFile {
		name := strings.TrimSuffix(rel, ".log") + ".kpr"
		kind := strings.Split(rel, "/")[1]
		return jobsFile{rel: name, age: day, body: kind + "/" + filepath.Base(rel) + " " + problem + ".conf\n", hasBody: true}
	}
	files := []jobsFile{
		{rel: "sid/fail/a_1.log", age: 3 * day}, kpr("sid/fail/a_1.log", "dependency_error"),
		{rel: "sid/untestable/b_1.log", age: 3 * day}, kpr("sid/untestable/b_1.log", "command_not_found_error"),
		{rel: "sid/pass/c_1.log", age: 3 * day}, kpr("sid/pass/c_1.log", "dependency_error"),
		{rel: "sid/fail/d_1.log", age: 3 * day}, kpr("sid/fail/d_1.log", "other_error"),
		{rel: "sid/fail/e_1.log", age: 3 * day}, kpr("sid/fail/e_1.log", "dependency_error"),
		{rel: "sid/recycle/e_1.log", age: 3 * day}, // already marked
	}
	_, got, dout, out := jobsCompare(t, "reschedule_piuparts_tests", "reschedule-tests", files, nil,
		map[string]map[string]string{"sid": {}}, "dependency_error|command_not_found_error")
	for _, want := range []string{"sid/recycle/a_1.log", "sid/recycle/b_1.log"} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("after reschedule-tests, no %s:\n%s", want, strings.Join(got, "\n"))
		}
	}
	if slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "sid/recycle/c_1.log") }) {
		t.Error("reschedule-tests marked a pass/ log without --pass")
	}
	if !strings.Contains(dout, "Marked 2 logfiles for recycling.") || !strings.Contains(out, "Marked 2 logfiles for recycling.") {
		t.Errorf("output, Debian's:\n%s\nours:\n%s", dout, out)
	}
}

func TestJobs_RescheduleTestsLogFilesAsDebian(t *testing.T) {
	files := []jobsFile{{rel: "sid/fail/a_1.log", age: 3 * day}, {rel: "sid/pass/b_1.log", age: 3 * day}}
	// The script takes paths relative to where it runs: the test runs
	// both in the directory above the two master directories, so each
	// names the log under its own directory.
	_, got, _, _ := jobsCompareLogFiles(t, files, "sid/fail/a_1.log", "sid/pass/b_1.log")
	for _, want := range []string{"sid/recycle/a_1.log", "sid/recycle/b_1.log"} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("after reschedule-tests --logfiles, no %s:\n%s", want, strings.Join(got, "\n"))
		}
	}
}

// jobsCompareLogFiles runs reschedule_piuparts_tests --logfiles and ours
// on the same logs of two copies of a master directory.
func jobsCompareLogFiles(t *testing.T, files []jobsFile, logs ...string) (string, []string, string, string) {
	t.Helper()
	script := filepath.Join(jobsScripts, "reschedule_piuparts_tests")
	if _, err := os.Stat(script); err != nil {
		t.Skipf("SKIPPED: no %s (apt-get install piuparts-master, or make test-deps)", script)
	}
	root := t.TempDir()
	debianDir, oursDir := filepath.Join(root, "debian"), filepath.Join(root, "ours")
	jobsTree(t, debianDir, files)
	jobsTree(t, oursDir, files)
	// A master directory has its recycle/ (the script does not make it).
	for _, d := range []string{debianDir, oursDir} {
		if err := os.MkdirAll(filepath.Join(d, "sid", "recycle"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ini, toml := jobsConfigs(t, root, debianDir, oursDir, nil, map[string]map[string]string{"sid": {}})
	ctx := t.Context()
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"-c", toml, "import"}, nil, &out, &errOut, noEnv); err != nil {
		t.Fatal(err)
	}
	var dargs, oargs []string
	for _, l := range logs {
		dargs = append(dargs, filepath.Join(debianDir, l))
		oargs = append(oargs, filepath.Join(oursDir, l))
	}
	cmd := exec.CommandContext(ctx, script, append([]string{"--logfiles"}, dargs...)...)
	cmd.Env = append(os.Environ(), "PIUPARTS_CONF="+ini, "LC_ALL=C")
	dout, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("Debian's reschedule_piuparts_tests: %v\n%s", err, dout)
	}
	out.Reset()
	if err := run(ctx, append([]string{"-c", toml, "reschedule-tests", "--logfiles"}, oargs...), nil, &out, &errOut, noEnv); err != nil {
		t.Fatalf("our reschedule-tests: %v\n%s", err, errOut.String())
	}
	want, got := jobsListing(t, debianDir, "sid"), jobsListing(t, oursDir, "sid")
	if !slices.Equal(want, got) {
		t.Errorf("the trees differ\nDebian's:\n  %s\nours:\n  %s", strings.Join(want, "\n  "), strings.Join(got, "\n  "))
	}
	// A path outside the master directory is refused.
	if err := run(ctx, []string{"-c", toml, "reschedule-tests", "--logfiles", filepath.Join(debianDir, "sid/fail/a_1.log")}, nil, &out, &errOut, noEnv); err == nil ||
		!strings.Contains(err.Error(), "not a log of the master directory") {
		t.Errorf("reschedule-tests --logfiles on another directory's log: %v", err)
	}
	return root, got, string(dout), out.String()
}

func TestJobs_RotateLogsAsDebian(t *testing.T) {
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("SKIPPED: no xz (apt-get install xz-utils)")
	}
	big := strings.Repeat("x", 1<<20+1)
	files := []jobsFile{
		{rel: "sid/master.log", age: time.Hour, body: big, hasBody: true},
		{rel: "sid/master.20260101.log", age: 10 * day},
		{rel: "bookworm/master.log", age: time.Hour, body: "small\n", hasBody: true},
	}
	for i := range 6 {
		files = append(files, jobsFile{rel: fmt.Sprintf("sid/master.2025010%d.log.xz", i+1), age: time.Duration(100+i) * day})
	}
	_, got, _, _ := jobsCompare(t, "rotate_master_logs", "rotate-logs", files, nil,
		map[string]map[string]string{"sid": {}, "bookworm": {}})
	today := time.Now().Format("20060102")
	// The four newest compressed logs stay, however old.
	for _, want := range []string{"sid/master." + today + ".log", "sid/master.20260101.log.xz", "bookworm/master.log",
		"sid/master.20250101.log.xz", "sid/master.20250103.log.xz"} {
		if !slices.Contains(got, want) {
			t.Errorf("after rotate-logs, no %s:\n%s", want, strings.Join(got, "\n"))
		}
	}
	for _, gone := range []string{"sid/master.log", "sid/master.20250104.log.xz", "sid/master.20250106.log.xz"} {
		if slices.Contains(got, gone) {
			t.Errorf("after rotate-logs, still %s", gone)
		}
	}
}

func TestJobs_BackupAsDebian(t *testing.T) {
	files := []jobsFile{
		{rel: "archive_issues.txt", age: day},
		{rel: "sid/submissions.txt", age: day},
		{rel: "sid/counts.txt", age: day},
		{rel: "bookworm/counts.txt", age: day},
	}
	backup := filepath.Join(t.TempDir(), "backup")
	// The script expects its backup-directory to exist.
	if err := os.MkdirAll(backup+"-debian", 0o755); err != nil {
		t.Fatal(err)
	}
	_, _, dout, out := jobsCompare(t, "prepare_backup", "backup", files, map[string]string{"backup-directory": backup},
		map[string]map[string]string{"sid": {}, "bookworm": {}})
	want, got := jobsBackupFiles(t, backup+"-debian"), jobsBackupFiles(t, backup)
	got = slices.DeleteFunc(got, func(s string) bool { return s == "piuparts-master.db" })
	if !slices.Equal(want, got) {
		t.Errorf("backup directories differ\nDebian's: %q\nours:     %q", want, got)
	}
	for _, w := range []string{"bts_stats.txt does not exist.", "bookworm/submissions.txt does not exist."} {
		if !strings.Contains(dout, w) || !strings.Contains(out, w) {
			t.Errorf("warnings, Debian's:\n%s\nours:\n%s\nwant %q in both", dout, out, w)
		}
	}
	if fi, err := os.Stat(filepath.Join(backup, "piuparts-master.db")); err != nil || fi.Size() == 0 {
		t.Errorf("no copy of the database in the backup: %v", err)
	}
}

// jobsBackupFiles lists the files under dir.
func jobsBackupFiles(t *testing.T, dir string) []string {
	t.Helper()
	out := jobsFiles(t, dir, ".")
	slices.Sort(out)
	return out
}

// jobsFiles lists the files under dir/sub, relative to dir.
func jobsFiles(t *testing.T, dir, sub string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
