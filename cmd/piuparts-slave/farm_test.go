package main

// End-to-end tests: this slave, built as a binary, tests the demo archive
// (deploy/demo: a dependency-closed subset of bookworm and the piuparts
// simulator, which fails the packages in its fail-list and passes the rest)
// against a master, and the test checks what an operator would: every
// package ends in the state the simulator decided, the logs are in the
// master's pass/ and fail/ with the simulator's output in them, and the
// slave's spool is empty.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"piuparts-server/internal/testutil"
)

const (
	demoDir     = "../../deploy/demo"
	farmSection = "bookworm"
	farmDistro  = "bookworm"
)

// farm is a mirror, the simulator and the built binaries under one
// temporary root.
type farm struct {
	root      string
	master    string            // our piuparts-master
	slave     string            // our piuparts-slave
	mirror    string            // file:// URL of the mirror
	sim       string            // the simulator
	pkgs      map[string]string // the archive: name -> version
	fail      map[string]bool   // the simulator's fail-list
	masterDir string
	// lagging is a package whose version differs in the slaves' mirror
	// (slaveMirror): the one case in which a slave decides "untestable".
	lagging, slaveMirror string
}

// newFarm builds both programs and copies the demo archive and simulator.
func newFarm(t *testing.T) *farm {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the programs and runs a farm")
	}
	root := t.TempDir()
	bin := filepath.Join(root, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	f := &farm{
		root:      root,
		master:    testutil.Build(t, bin, "piuparts-server/cmd/piuparts-master"),
		slave:     testutil.Build(t, bin, "piuparts-server/cmd/piuparts-slave"),
		mirror:    "file://" + filepath.Join(root, "mirror"),
		masterDir: filepath.Join(root, "master"),
		fail:      map[string]bool{},
	}
	rel := filepath.Join("dists", farmDistro, "main", "binary-amd64")
	for _, name := range []string{"Packages", "Packages.xz"} {
		copyFile(t, filepath.Join(demoDir, "archive", rel, name), filepath.Join(root, "mirror", rel, name), 0o644)
	}
	f.sim = filepath.Join(root, "sim", "piuparts-simulator")
	copyFile(t, filepath.Join(demoDir, "piuparts-simulator"), f.sim, 0o755)
	copyFile(t, filepath.Join(demoDir, "fail-list"), filepath.Join(root, "sim", "fail-list"), 0o644)
	f.pkgs = readPackages(t, filepath.Join(root, "mirror", rel, "Packages"))
	failList, err := os.ReadFile(filepath.Join(root, "sim", "fail-list"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(failList), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line != "" {
			f.fail[line] = true
		}
	}
	if len(f.fail) == 0 || len(f.pkgs) < 100 {
		t.Fatalf("demo data: %d packages, %d in fail-list", len(f.pkgs), len(f.fail))
	}
	return f
}

// config writes a piuparts.toml for a program called name: the master's
// settings, and a slave working in root/name that reaches its master as
// masterKeys (TOML lines) say.
func (f *farm) config(t *testing.T, name, masterKeys string) string {
	t.Helper()
	path := filepath.Join(f.root, name+".toml")
	mirror := f.mirror
	if name != "master" && f.slaveMirror != "" {
		mirror = f.slaveMirror
	}
	body := fmt.Sprintf(`[global]
sections = [%q]
master-directory = %q
slave-directory = %q
idle-sleep = 1

[%s]
mirror = %q
distro = %q
area = "main"
arch = "amd64"
components = ["main"]
piuparts-command = [%q]
max-reserved = 7
idle-sleep = 1
connect-timeout = 30
unreachable-wait = 5
%s
`, farmSection, f.masterDir, filepath.Join(f.root, name), farmSection, mirror, farmDistro, f.sim, masterKeys)
	writeFile(t, path, body, 0o644)
	return path
}

// lag gives the slaves a mirror in which name has another version, as
// when a slave's mirror is behind the master's: the slave must submit an
// untestable log for it.
func (f *farm) lag(t *testing.T, name string) {
	t.Helper()
	rel := filepath.Join("dists", farmDistro, "main", "binary-amd64", "Packages")
	b, err := os.ReadFile(filepath.Join(f.root, "mirror", rel))
	if err != nil {
		t.Fatal(err)
	}
	from := "\nPackage: " + name + "\n"
	i := strings.Index(string(b), from)
	j := strings.Index(string(b[i+1:]), "\nVersion: ")
	if i < 0 || j < 0 {
		t.Fatalf("no %s in the archive", name)
	}
	at := i + 1 + j + len("\nVersion: ")
	lagged := string(b[:at]) + "0.1-1~old" + string(b[at+len(f.pkgs[name]):])
	writeFile(t, filepath.Join(f.root, "mirror-slave", rel), lagged, 0o644)
	f.lagging, f.slaveMirror = name, "file://"+filepath.Join(f.root, "mirror-slave")
}

// localKeys makes the slave start our master itself.
func (f *farm) localKeys(t *testing.T, slaveID string) string {
	return fmt.Sprintf("master-host = \"local\"\nmaster-command = %q\n",
		fmt.Sprintf("%s -c %s --slave-id=%s", f.master, f.config(t, "master", ""), slaveID))
}

// runSlave runs `piuparts-slave -c conf run --until-idle` to its end and
// returns its log; a non-zero exit fails the test.
func (f *farm) runSlave(t *testing.T, conf string, env ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), f.slave, "-c", conf, "run", "--until-idle")
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, tail(out.String(), 60))
	}
	return out.String()
}

// states asks a master for the state of every package in one session.
// masterCmd runs a master on stdin/stdout.
func (f *farm) states(t *testing.T, masterCmd ...string) map[string]string {
	t.Helper()
	names := sortedKeys(f.pkgs)
	var in strings.Builder
	// status first: Debian's master loads the archive for it, not for
	// _state (which then fails on every package).
	fmt.Fprintf(&in, "section %s\nstatus\n", farmSection)
	for _, n := range names {
		fmt.Fprintf(&in, "_state %s\n", n)
	}
	cmd := exec.CommandContext(t.Context(), masterCmd[0], masterCmd[1:]...)
	cmd.Stdin = strings.NewReader(in.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, tail(stderr.String(), 20))
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(names)+3 || lines[0] != "hello" || lines[1] != "ok" {
		t.Fatalf("master answered %d lines for %d packages: %q...", len(lines), len(names), lines[:min(len(lines), 3)])
	}
	states := map[string]string{}
	for i, n := range names {
		w := strings.Fields(lines[i+3])
		if len(w) < 2 || w[0] != "ok" {
			t.Fatalf("_state %s: %q", n, lines[i+3])
		}
		states[n] = w[1]
	}
	return states
}

// check is what an operator looks at after a run: every package tested
// once with the simulator's result, or not tested because a dependency
// failed; the logs hold the simulator's output; the slaves' spools are
// empty.
func (f *farm) check(t *testing.T, masterDir string, states map[string]string, slaveDirs ...string) {
	t.Helper()
	logs := map[string]string{} // name -> result
	for _, result := range []string{"pass", "fail", "untestable"} {
		dir := filepath.Join(masterDir, farmSection, result)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			base, ok := strings.CutSuffix(e.Name(), ".log")
			name, version, ok2 := strings.Cut(base, "_")
			if !ok || !ok2 {
				continue
			}
			if prev, dup := logs[name]; dup {
				t.Errorf("%s has logs in %s/ and %s/", name, prev, result)
			}
			logs[name] = result
			if f.pkgs[name] != version {
				t.Errorf("%s/%s: version %s, the archive has %q", result, e.Name(), version, f.pkgs[name])
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			log := string(b)
			wants := []string{"Start: ", "\nExecuting: ", "SIMULATED", "\nret=", "\nEnd: "}
			if result == "untestable" {
				wants = []string{"Start: ", " is available\n", "\nret=-10002\n", "\nEnd: "}
			}
			for _, want := range wants {
				if !strings.Contains(log, want) {
					t.Errorf("%s/%s lacks %q:\n%s", result, e.Name(), want, tail(log, 10))
				}
			}
		}
	}
	tested, skipped := 0, 0
	for _, name := range sortedKeys(f.pkgs) {
		want := "pass"
		switch {
		case name == f.lagging:
			want = "untestable"
		case f.fail[name]:
			want = "fail"
		}
		got, ok := logs[name]
		switch {
		case ok && got != want:
			t.Errorf("%s: %s log, the simulator decided %s", name, got, want)
		case ok && states[name] != map[string]string{"pass": "successfully-tested", "fail": "failed-testing", "untestable": "cannot-be-tested"}[want]:
			t.Errorf("%s: %s log but state %s", name, got, states[name])
		case ok:
			tested++
		case states[name] == "dependency-failed-testing":
			skipped++
		default:
			t.Errorf("%s: no log, state %s", name, states[name])
		}
	}
	if tested == 0 || skipped == 0 {
		t.Errorf("%d packages tested, %d skipped for a failed dependency: want some of both", tested, skipped)
	}
	for _, d := range slaveDirs {
		checkSpoolEmpty(t, d)
	}
	t.Logf("%d packages tested, %d not tested (a dependency failed)", tested, skipped)
}

// TestSlave_LocalMaster: two slaves, each starting our master over pipes
// (master-host = "local", the demo's setup), test the whole archive.
func TestSlave_LocalMaster(t *testing.T) {
	t.Parallel()
	f := newFarm(t)
	c1 := f.config(t, "slave1", f.localKeys(t, "slave1"))
	c2 := f.config(t, "slave2", f.localKeys(t, "slave2"))
	// slave2 runs two workers in one process (slave-count).
	b, err := os.ReadFile(c2)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, c2, strings.Replace(string(b), "[global]\n", "[global]\nslave-count = 2\n", 1), 0o644)
	done := make(chan string)
	go func() { done <- f.runSlave(t, c2) }()
	out1 := f.runSlave(t, c1)
	out2 := <-done
	// Both worked: each tested some packages.
	for i, out := range []string{out1, out2} {
		if !strings.Contains(out, `"tested"`) {
			t.Errorf("slave%d tested nothing:\n%s", i+1, tail(out, 20))
		}
	}
	states := f.states(t, f.master, "-c", filepath.Join(f.root, "master.toml"))
	f.check(t, f.masterDir, states, filepath.Join(f.root, "slave1"), filepath.Join(f.root, "slave2"))
	// Three workers each asked the master for work (slave2's two in their
	// own directories), and no package was tested twice. Whether each also
	// got a package is a race: on a loaded machine one worker can start
	// after the others have reserved the last ones.
	for i, out := range []string{out1, out2} {
		for w := 1; w <= i+1; w++ {
			if !workedBy(out, w) {
				t.Errorf("slave%d's worker %d never asked the master for work:\n%s", i+1, w, tail(out, 20))
			}
		}
	}
	for _, w := range []string{"slave1/1", "slave2/1", "slave2/2"} {
		if _, err := os.Stat(filepath.Join(f.root, w, farmSection, "slave.lock")); err != nil {
			t.Errorf("worker directory %s unused: %v", w, err)
		}
	}
	subs, err := os.ReadFile(filepath.Join(f.masterDir, farmSection, "submissions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(subs)), "\n") {
		if w := strings.Fields(line); len(w) == 4 {
			if seen[w[2]] {
				t.Errorf("%s was tested twice", w[2])
			}
			seen[w[2]] = true
		}
	}
	ship, err := os.ReadFile(filepath.Join(f.root, "slave1", "shipping.log"))
	if err != nil || len(bytes.TrimSpace(ship)) == 0 {
		t.Errorf("slave1's shipping log: %v, %d bytes", err, len(ship))
	}
}

// checkSpoolEmpty fails the test for every log left in a spool under a
// slave directory: nothing unsent, nothing reserved, nothing half-done.
func checkSpoolEmpty(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(p, ".log") {
			switch filepath.Base(filepath.Dir(p)) {
			case "pass", "fail", "untestable", "reserved", "new":
				t.Errorf("left in the slave's spool: %s", p)
			}
		}
		return nil
	})
}

func readPackages(t *testing.T, path string) map[string]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	pkgs := map[string]string{}
	var name string
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "Package: "); ok {
			name = v
		} else if v, ok := strings.CutPrefix(line, "Version: "); ok {
			pkgs[name] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// testedBy reports whether a slave's JSON log has a "tested" line of
// worker w.
// workedBy reports whether worker w's log shows it asking a master for
// work: a package tested, or a reservation the master refused.
func workedBy(out string, w int) bool {
	for line := range strings.SplitSeq(out, "\n") {
		if strings.Contains(line, fmt.Sprintf(`"worker":%d,`, w)) &&
			(strings.Contains(line, `"message":"tested"`) || strings.Contains(line, `"message":"master reserved nothing (more) for us"`)) {
			return true
		}
	}
	return false
}
