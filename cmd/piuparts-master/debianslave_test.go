package main

// Compatibility at the far end: Debian's piuparts-slave, unchanged, tests a
// fixture archive against this master through a real OpenSSH sshd with a
// forced command, as in a Debian farm.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"piuparts-server/internal/debianref"
	"piuparts-server/internal/testutil"
)

const debianSlave = debianref.Slave

// debianSlaveIdle is what Debian's slave logs before it sleeps (at least 60 s,
// whatever idle-sleep says): it has closed its connection and sent every log.
const debianSlaveIdle = "Nothing to do, sleeping for"

// debianSlaveGuard bounds the whole run so that a hung slave fails the test
// with its transcript instead of hanging `go test`; it is no assertion on
// speed (the run takes seconds).
const debianSlaveGuard = 5 * time.Minute

// TestDebianSlave_OverSSH is the "done when": Debian's piuparts-slave,
// pointed at this master over OpenSSH with a forced command, tests a fixture
// archive (208 real bookworm packages) to the end. A fake piuparts
// (testdata/fake-piuparts) passes every package except those in
// testdata/fake-piuparts.fail; the slave's mirror has another version of one
// package, which the slave therefore submits as untestable. The test then
// checks what an operator would: the master's states (and that Debian's
// master computes the same ones from the directory ours filled), the pass/,
// fail/ and untestable/ logs, the tester's output in them byte for byte,
// submissions.txt, and nothing left reserved or unsent.
//
// Ending the run: Debian's slave has no one-shot mode; when it finds nothing
// to do it logs "Nothing to do, sleeping for N seconds." and sleeps at least
// 60 s. The test reads the slave's log as it comes; at the first such line it
// asks the master for its status, and if nothing is waiting any more it stops
// the slave with SIGTERM (the slave is asleep between connections then, with
// nothing reserved and nothing unsent, so there is nothing to clean up;
// SIGINT would do as well, but a `go test` started as a background job of a
// script inherits SIGINT ignored). The first idle line before the work is done
// fails the test: with one slave and max-reserved >= 1 there is always a
// package to reserve until the end.
func TestDebianSlave_OverSSH(t *testing.T) {
	if testing.Short() {
		t.Skip("runs sshd and Debian's piuparts-slave")
	}
	for _, p := range []string{refPython, debianSlave} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("SKIPPED, NOTHING TESTED: Debian's piuparts-slave is not installed (%v); "+
				"make test-deps installs piuparts-slave", err)
		}
	}
	bin := buildMaster(t)
	root := t.TempDir()
	const section, distro = "bookworm", "bookworm"

	// The archive: one file:// mirror that master and slave both read.
	pkgs, err := os.ReadFile(testutil.Fixture(t, "Packages_bookworm_closure"))
	if err != nil {
		t.Fatal(err)
	}
	stanzas := refStanzas(t, pkgs)
	fixture := refVersions(stanzas) // name -> version
	mirror := filepath.Join(root, "mirror")
	refWriteXZ(t, mirror, distro, bytes.NewReader(pkgs))
	// The slave's mirror lags behind for one package: its own view of the
	// archive disagrees with the master's, the one case in which Debian's
	// slave submits an untestable log.
	const lagging, laggingTo = "daemon", "0.8-1"
	laggingFrom := fixture[lagging]
	if laggingFrom == "" {
		t.Fatalf("fixture lacks %s", lagging)
	}
	for i, st := range stanzas {
		if st.name == lagging {
			stanzas[i].text = strings.Replace(st.text, "\nVersion: "+laggingFrom+"\n", "\nVersion: "+laggingTo+"\n", 1)
		}
	}
	slaveMirror := filepath.Join(root, "mirror-slave")
	refWriteXZ(t, slaveMirror, distro, bytes.NewReader(refJoin(stanzas)))

	// The tester and what it decides.
	fake := filepath.Join(root, "fake-piuparts")
	for _, name := range []string{"fake-piuparts", "fake-piuparts.fail"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		refWrite(t, filepath.Join(root, name), b)
	}
	if err := os.Chmod(fake, 0o755); err != nil {
		t.Fatal(err)
	}
	failList := dsFailList(t, filepath.Join(root, "fake-piuparts.fail"))
	fakeOut := filepath.Join(root, "fake-out")
	slaveDir := filepath.Join(root, "slave")
	for _, d := range []string{fakeOut, slaveDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A base tarball that exists and, with max-tgz-age = 0 ("disables
	// recreation"), is never rebuilt: the fake never opens it.
	tgz := filepath.Join(slaveDir, "bookworm_amd64.tar.gz")
	refWrite(t, tgz, nil)

	// The farm's piuparts.conf; our master reads it converted with
	// `piuparts-master config import`, as an operator would. The slave's
	// copy differs in the mirror only.
	masterDir := filepath.Join(root, "master")
	ini := filepath.Join(root, "piuparts.conf")
	farmConf := func(mirror string) []byte {
		return []byte(fmt.Sprintf(`[global]
sections = %[1]s
master-directory = %[2]s
mirror = file://%[3]s
master-host = 127.0.0.1
master-user = root
idle-sleep = 300

[%[1]s]
distro = %[4]s
area = main
arch = amd64
piuparts-command = %[5]s
max-reserved = 50
chroot-tgz = %[6]s
max-tgz-age = 0
debug = yes
`, section, masterDir, mirror, distro, fake, tgz))
	}
	refWrite(t, ini, farmConf(mirror))
	slaveINI := filepath.Join(root, "piuparts-slave.conf")
	refWrite(t, slaveINI, farmConf(slaveMirror))
	toml := filepath.Join(root, "piuparts.toml")
	out, err := exec.Command(bin, "config", "import", ini).Output()
	if err != nil {
		t.Fatalf("config import: %v: %s", err, refStderr(err))
	}
	refWrite(t, toml, out)

	sshd := testutil.StartSSHD(t, testutil.SSHDConfig{
		ForcedCommand: testutil.ShellQuote(bin) + " -c " + testutil.ShellQuote(toml) + " --slave-id=debian-slave",
	})
	if sshd.User != "root" {
		t.Fatalf("sshd user %q, want root (master-user in the config)", sshd.User)
	}

	// Debian's slave, in its slave directory, with the ssh wrapper first in
	// PATH: it runs `ssh -x -l root 127.0.0.1 command-is-set-in-authorized_keys`.
	transcript := &dsTranscript{}
	argv := debianref.Args(debianSlave, slaveINI, filepath.Join(root, "distros.conf"))
	slave := exec.Command(argv[0], argv[1:]...)
	slave.Dir = slaveDir
	slave.Env = []string{
		"PATH=" + sshd.BinDir + ":/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + root,
		"LANG=C.UTF-8",
		"FAKE_PIUPARTS_OUT=" + fakeOut,
	}
	slave.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	slave.Stdout, slave.Stderr = w, w
	if err := slave.Start(); err != nil {
		t.Fatalf("start Debian's slave: %v", err)
	}
	w.Close()
	idle := make(chan struct{}, 1)
	go transcript.read(r, idle)
	exited := make(chan error, 1)
	go func() { exited <- slave.Wait() }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			// The slave's process group: the slave and any ssh or fake it runs.
			_ = syscall.Kill(-slave.Process.Pid, syscall.SIGTERM)
			<-exited
		}
	}
	t.Cleanup(stop)
	dump := func() {
		t.Helper()
		t.Logf("Debian slave transcript (its end):\n%s", refTail(transcript.String(), 20000))
		t.Logf("sshd log:\n%s", refTail(sshd.Log(), 5000))
		if b, err := os.ReadFile(filepath.Join(masterDir, "master-error.log")); err == nil {
			t.Logf("master-error.log:\n%s", refTail(string(b), 5000))
		}
		if b, err := os.ReadFile(filepath.Join(masterDir, section, "master.log")); err == nil {
			t.Logf("%s/master.log:\n%s", section, refTail(string(b), 5000))
		}
	}

	guard := time.NewTimer(debianSlaveGuard)
	defer guard.Stop()
	var status map[string]int
wait:
	for {
		select {
		case <-idle:
			status, err = dsStatus(t, bin, toml, section)
			if err != nil {
				dump()
				t.Fatalf("master status after the slave went idle: %v", err)
			}
			if status["waiting-to-be-tested"] != 0 || status["waiting-for-dependency-to-be-tested"] != 0 {
				dump()
				t.Fatalf("Debian's slave went idle with work left: master status %v", status)
			}
			break wait
		case err := <-exited:
			stopped = true
			dump()
			t.Fatalf("Debian's slave exited before the archive was tested: %v", err)
		case <-guard.C:
			dump()
			t.Fatalf("Debian's slave did not finish within %v", debianSlaveGuard)
		}
	}
	stop()
	if t.Failed() {
		return
	}
	defer func() {
		if t.Failed() {
			dump()
		}
	}()

	// What the fake tester ran and decided.
	runs := dsRuns(t, filepath.Join(fakeOut, "runs"))
	for name, r := range runs {
		if want := fixture[name]; r.version != want {
			t.Errorf("fake-piuparts tested %s %s, want the archive's version %q", name, r.version, want)
		}
		if wantFail := failList[name]; (r.result == "fail") != wantFail {
			t.Errorf("fake-piuparts decided %s for %s; its fail list says fail=%v", r.result, name, wantFail)
		}
	}
	for name := range failList {
		if _, ok := runs[name]; !ok {
			t.Errorf("%s (in fake-piuparts.fail) was never tested", name)
		}
	}

	// The master's view: every package tested is in the state the tester
	// decided; every other one waits for nothing and was not tested
	// because of a dependency: one that failed, or one missing from this
	// closure (libcurl4 needs libgssapi-krb5-2, which it lacks).
	if got, want := status["total"], len(fixture); got != want {
		t.Errorf("status total=%d, want %d (the fixture's packages)", got, want)
	}
	untestedStates := []string{"dependency-failed-testing", "dependency-cannot-be-tested", "dependency-does-not-exist"}
	lists := dsLists(t, bin, toml, section, append([]string{"successfully-tested", "failed-testing", "cannot-be-tested"}, untestedStates...)...)
	var wantPass, wantFail []string
	for name, r := range runs {
		if r.result == "pass" {
			wantPass = append(wantPass, name)
		} else {
			wantFail = append(wantFail, name)
		}
	}
	sort.Strings(wantPass)
	sort.Strings(wantFail)
	if got := lists["successfully-tested"]; !slices.Equal(got, wantPass) {
		t.Errorf("successfully-tested = %s\nwant what the fake passed: %s", refCutList(got), refCutList(wantPass))
	}
	if got := lists["failed-testing"]; !slices.Equal(got, wantFail) {
		t.Errorf("failed-testing = %v, want what the fake failed: %v", got, wantFail)
	}
	if got, want := lists["cannot-be-tested"], []string{lagging}; !slices.Equal(got, want) {
		t.Errorf("cannot-be-tested = %v, want %v (the slave's mirror has another version)", got, want)
	}
	if _, ok := runs[lagging]; ok {
		t.Errorf("fake-piuparts tested %s, which the slave should have found untestable", lagging)
	}
	untested := 1 // lagging
	for _, st := range untestedStates {
		untested += len(lists[st])
	}
	for name := range fixture {
		if _, ok := runs[name]; ok || name == lagging {
			continue
		}
		if !slices.ContainsFunc(untestedStates, func(st string) bool { return slices.Contains(lists[st], name) }) {
			t.Errorf("%s was never tested, yet is in none of %v", name, untestedStates)
		}
	}
	if got, want := len(runs)+untested, len(fixture); got != want {
		t.Errorf("tested %d + untested %d = %d packages, want %d", len(runs), untested, got, want)
	}
	// What piupartslib computes for this archive with these two failures.
	for name, want := range map[string]string{
		"acl":             "successfully-tested",
		"courier-authlib": "failed-testing",
		"courier-mta":     "dependency-failed-testing", // Depends: courier-authlib
		"courier-base":    "dependency-failed-testing",
		"git-man":         "failed-testing",
		"libcurl4":        "dependency-does-not-exist",
		"daemon":          "cannot-be-tested",
		"bcron":           "dependency-cannot-be-tested", // Depends: daemon
	} {
		if !slices.Contains(lists[want], name) {
			t.Errorf("%s is not %s", name, want)
		}
	}
	dsCompareReference(t, bin, ini, toml, masterDir, section)

	// The log tree: one log per test, in pass/ or fail/, holding the
	// tester's output byte for byte inside the slave's frame.
	secDir := filepath.Join(masterDir, section)
	for name, r := range runs {
		base := name + "_" + r.version + ".log"
		other := map[string]string{"pass": "fail", "fail": "pass"}[r.result]
		log, err := os.ReadFile(filepath.Join(secDir, r.result, base))
		if err != nil {
			t.Errorf("%s: %v", r.result, err)
			continue
		}
		if _, err := os.Stat(filepath.Join(secDir, other, base)); err == nil {
			t.Errorf("%s is in both pass/ and fail/", base)
		}
		fakeLog, err := os.ReadFile(filepath.Join(fakeOut, name+"_"+r.version+".out"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(log, fakeLog) {
			t.Errorf("%s/%s does not hold fake-piuparts' output byte for byte:\n%s", r.result, base, refCut(string(log)))
		}
		wantFrame := []string{"Start: ", "\nPackage: " + name + "\n", "\nExecuting: ", " --apt " + name + "=" + r.version + "\n", "\nEnd: "}
		if r.result == "pass" {
			wantFrame = append(wantFrame, "\nret=0\n")
		} else {
			wantFrame = append(wantFrame, "\n *** PIUPARTS OUTPUT INCOMPLETE ***\n", "\nret=1025\n")
		}
		for _, s := range wantFrame {
			if !bytes.Contains(log, []byte(s)) {
				t.Errorf("%s/%s lacks %q", r.result, base, s)
			}
		}
	}
	if left := dsLogs(t, filepath.Join(secDir, "reserved")); len(left) != 0 {
		t.Errorf("master %s/reserved/ holds %v, want nothing", section, left)
	}
	untestableLog := lagging + "_" + laggingFrom + ".log"
	if got := dsLogs(t, filepath.Join(secDir, "untestable")); !slices.Equal(got, []string{untestableLog}) {
		t.Errorf("master %s/untestable/ holds %v, want %s", section, got, untestableLog)
	}
	if log, err := os.ReadFile(filepath.Join(secDir, "untestable", untestableLog)); err != nil {
		t.Error(err)
	} else {
		for _, want := range []string{
			fmt.Sprintf("Package %s %s not found in %s, %s is available\n", lagging, laggingFrom, distro, laggingTo),
			"\nPackage: " + lagging + "\n", "\nret=-10002\n",
		} {
			if !bytes.Contains(log, []byte(want)) {
				t.Errorf("untestable/%s lacks %q:\n%s", untestableLog, want, refCut(string(log)))
			}
		}
	}
	for _, d := range []string{"pass", "fail"} {
		if got, want := len(dsLogs(t, filepath.Join(secDir, d))), dsCount(runs, d); got != want {
			t.Errorf("master %s/%s/ holds %d logs, want %d", section, d, got, want)
		}
	}

	// submissions.txt: one "EPOCH RESULT NAME VERSION" line per log.
	subs, err := os.ReadFile(filepath.Join(secDir, "submissions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	lines := strings.Split(strings.TrimSuffix(string(subs), "\n"), "\n")
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) != 4 {
			t.Errorf("submissions.txt line %q, want EPOCH RESULT NAME VERSION", line)
			continue
		}
		if _, err := strconv.ParseInt(f[0], 10, 64); err != nil {
			t.Errorf("submissions.txt line %q: epoch: %v", line, err)
		}
		r, ok := runs[f[2]]
		if f[2] == lagging {
			r, ok = dsRun{version: laggingFrom, result: "untestable"}, true
		}
		if !ok || r.result != f[1] || r.version != f[3] || seen[f[2]] {
			t.Errorf("submissions.txt line %q: not one of the tests run (or seen twice)", line)
		}
		seen[f[2]] = true
	}
	if len(lines) != len(runs)+1 {
		t.Errorf("submissions.txt has %d lines, want %d (one per log)", len(lines), len(runs)+1)
	}

	t.Logf("Debian's slave tested %d packages (%d passed, %d failed) over %d ssh connections; master status: %v",
		len(runs), len(wantPass), len(wantFail), strings.Count(sshd.Log(), "Starting session: forced-command"), status)

	// The slave's side: nothing reserved, nothing waiting to be sent.
	for _, d := range []string{"new", "pass", "fail", "untestable", "reserved"} {
		if left := dsLogs(t, filepath.Join(slaveDir, section, d)); len(left) != 0 {
			t.Errorf("slave %s/%s/ still holds %v", section, d, left)
		}
	}
}

// dsTranscript collects the slave's output while the test reads it.
type dsTranscript struct {
	mu  sync.Mutex
	buf strings.Builder
}

// read copies lines from r and signals idle (without blocking) at each line
// saying the slave has nothing to do.
func (tr *dsTranscript) read(r io.ReadCloser, idle chan<- struct{}) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for sc.Scan() {
		tr.mu.Lock()
		tr.buf.WriteString(sc.Text())
		tr.buf.WriteByte('\n')
		tr.mu.Unlock()
		if strings.Contains(sc.Text(), debianSlaveIdle) {
			select {
			case idle <- struct{}{}:
			default:
			}
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

func (tr *dsTranscript) String() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.buf.String()
}

// dsAsk runs our master locally with commands for section and returns its
// answer lines after hello and the section's ok.
func dsAsk(t *testing.T, bin, conf, section string, cmds ...string) ([]string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, "-c", conf)
	cmd.Stdin = strings.NewReader("section " + section + "\n" + strings.Join(cmds, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("master %q: %w: %s", cmds, err, refStderr(err))
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 2+len(cmds) || lines[0] != "hello" || lines[1] != "ok" {
		return nil, fmt.Errorf("master answered %q to %q", refCut(string(out)), cmds)
	}
	return lines[2:], nil
}

// dsStatus returns the master's status counts ("total" included).
func dsStatus(t *testing.T, bin, conf, section string) (map[string]int, error) {
	t.Helper()
	lines, err := dsAsk(t, bin, conf, section, "status")
	if err != nil {
		return nil, err
	}
	f := strings.Fields(lines[0])
	if len(f) < 2 || f[0] != "ok" {
		return nil, fmt.Errorf("status answer %q", lines[0])
	}
	m := map[string]int{}
	for _, kv := range f[1:] {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			return nil, fmt.Errorf("status answer %q: field %q", lines[0], kv)
		}
		m[k] = n
	}
	return m, nil
}

// dsLists returns the sorted names the master lists in each state.
func dsLists(t *testing.T, bin, conf, section string, states ...string) map[string][]string {
	t.Helper()
	var cmds []string
	for _, s := range states {
		cmds = append(cmds, "_list "+s)
	}
	m := map[string][]string{}
	lines, err := dsAsk(t, bin, conf, section, cmds...)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range lines {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "ok" {
			t.Fatalf("_list %s answer %q", states[i], refCut(line))
		}
		names := f[1:]
		sort.Strings(names)
		m[states[i]] = names
	}
	return m
}

// dsRun is one test fake-piuparts ran.
type dsRun struct{ version, result string }

// dsRuns reads fake-piuparts' runs file; a package tested twice fails the test.
func dsRuns(t *testing.T, path string) map[string]dsRun {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("fake-piuparts never ran: %v", err)
	}
	runs := map[string]dsRun{}
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("runs line %q", line)
		}
		if _, dup := runs[f[0]]; dup {
			t.Errorf("fake-piuparts tested %s twice", f[0])
		}
		runs[f[0]] = dsRun{version: f[1], result: f[2]}
	}
	return runs
}

// dsFailList reads fake-piuparts.fail: names, one a line, # comments.
func dsFailList(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
}

// dsLogs lists the *.log files in dir (none when it does not exist).
func dsLogs(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

func dsCount(runs map[string]dsRun, result string) int {
	n := 0
	for _, r := range runs {
		if r.result == result {
			n++
		}
	}
	return n
}

// dsCompareReference gives Debian's piuparts-master-backend a copy of the
// master directory our master filled and checks that it answers status and
// every _list as ours does. Without the reference it says so loudly and
// compares nothing.
func dsCompareReference(t *testing.T, bin, ini, toml, masterDir, section string) {
	t.Helper()
	if _, err := os.Stat(refBackend); err != nil {
		t.Logf("NOT COMPARED with Debian's master: %v (make test-deps installs piuparts-master)", err)
		return
	}
	// A copy, so the reference's own log and stamps stay out of ours.
	dir := t.TempDir()
	copyDir := filepath.Join(dir, "master")
	refCopyTree(t, masterDir, copyDir)
	conf, err := os.ReadFile(ini)
	if err != nil {
		t.Fatal(err)
	}
	from, to := []byte("master-directory = "+masterDir+"\n"), []byte("master-directory = "+copyDir+"\n")
	if !bytes.Contains(conf, from) {
		t.Fatalf("%s lacks %q", ini, from)
	}
	copyINI := filepath.Join(dir, "piuparts.conf")
	refWrite(t, copyINI, bytes.Replace(conf, from, to, 1))
	cmds := refSession(section, false, nil)
	deb, err := refProgram{name: "Debian", argv: debianref.Args(refBackend, copyINI, filepath.Join(dir, "distros.conf"))}.run(t.Context(), dir, cmds)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := refProgram{name: "ours", argv: []string{bin, "-c", toml}}.run(t.Context(), dir, cmds)
	if err != nil {
		t.Fatal(err)
	}
	if diff, _ := refCompare(cmds, deb.lines, ours.lines); diff != "" {
		t.Errorf("after the run, Debian's master and ours disagree on the same directory:\n%s", diff)
	}
}
