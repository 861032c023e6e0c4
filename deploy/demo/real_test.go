package demo_test

// TestDemo_RealPiuparts runs `make demo PIUPARTS=real` as a user would
// (deploy/demo/run with PIUPARTS=real: our master and a slave, Debian's
// real piuparts, five packages of bookworm from this machine's apt lists,
// the mirror of its apt sources) and checks what that user would look at.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"piuparts-server/internal/testutil"
)

// section is the demo's one section.
const section = "bookworm"

func TestDemo_RealPiuparts(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED under -short: runs Debian's piuparts on five packages (about 2 minutes, 40 s more without a cached base tarball)")
	}
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: not root; real piuparts needs root (run make test as root)")
	}
	path := os.Getenv("PATH") + ":/usr/sbin:/sbin"
	for _, tool := range []string{"piuparts", "debootstrap"} {
		if _, err := lookPath(tool, path); err != nil {
			t.Skipf("SKIPPED: no %s (apt-get install piuparts debootstrap; make test-deps installs both)", tool)
		}
	}

	// The archive first, alone: it says when this machine has no mirror
	// or no apt list, which is a reason to skip, not a failure.
	root := t.TempDir()
	probe := exec.Command("./real-archive", filepath.Join(root, "probe"))
	var stderr bytes.Buffer
	probe.Stderr = &stderr
	if err := probe.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "no 'deb' entry") || strings.Contains(msg, "no apt list") || strings.Contains(msg, "no lz4") {
			t.Skipf("SKIPPED: %s", msg)
		}
		t.Fatalf("real-archive: %v: %s", err, msg)
	}
	want := readPackages(t, filepath.Join(root, "probe/dists/bookworm/main/binary-amd64/Packages"))
	if len(want) != 5 {
		t.Fatalf("real-archive listed %d packages, want 5: %v", len(want), want)
	}

	bin := filepath.Join(root, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	master := testutil.Build(t, bin, "piuparts-server/cmd/piuparts-master")
	testutil.Build(t, bin, "piuparts-server/cmd/piuparts-slave")
	testutil.Build(t, bin, "piuparts-server/cmd/piuparts-report")

	// The demo, with the base tarball cached where make demo keeps it.
	state := filepath.Join(root, "demo")
	run := exec.CommandContext(t.Context(), "./run", bin, state)
	run.Env = append(os.Environ(), "PIUPARTS=real", "PATH="+path)
	start := time.Now()
	out, err := run.CombinedOutput()
	t.Logf("deploy/demo/run with PIUPARTS=real took %s:\n%s", time.Since(start).Round(time.Second), out)
	if err != nil {
		t.Fatalf("deploy/demo/run: %v", err)
	}
	t.Cleanup(func() { stopMasterServer(t, state) })

	// Every package's log is in pass/, holding piuparts' own output.
	dir := filepath.Join(state, "master", section)
	for name, version := range want {
		log := filepath.Join(dir, "pass", name+"_"+version+".log")
		data, err := os.ReadFile(log)
		if err != nil {
			t.Errorf("%s %s: no log in pass/: %v", name, version, err)
			continue
		}
		text := string(data)
		for _, marker := range []string{
			"\nExecuting: ",
			" --apt " + name + "=" + version + "\n",
			"INFO: PASS: Installation and purging test.\n",
			"INFO: PASS: All tests.\n",
			"INFO: piuparts run ends.\n\nret=0\nEnd: ",
		} {
			if !strings.Contains(text, marker) {
				t.Errorf("%s: no %q", log, marker)
			}
		}
		if strings.Contains(text, "SIMULATED") {
			t.Errorf("%s: written by the simulator, not by piuparts", log)
		}
	}

	// piuparts-master status shows them successfully tested.
	var status struct {
		Sections []struct {
			Section string         `json:"section"`
			States  map[string]int `json:"states"`
		} `json:"sections"`
	}
	js, err := exec.Command(master, "-c", filepath.Join(state, "master.toml"), "status", "--json").Output()
	if err != nil {
		t.Fatalf("piuparts-master status --json: %v", err)
	}
	if err := json.Unmarshal(js, &status); err != nil {
		t.Fatalf("piuparts-master status --json: %v\n%s", err, js)
	}
	if len(status.Sections) != 1 || status.Sections[0].Section != section {
		t.Fatalf("piuparts-master status --json: sections %+v, want only %s", status.Sections, section)
	}
	if got := status.Sections[0].States; len(got) != 1 || got["successfully-tested"] != len(want) {
		t.Errorf("piuparts-master status: states %v, want successfully-tested=%d and nothing else", got, len(want))
	}

	// submissions.txt has one pass line for each.
	subs, err := os.ReadFile(filepath.Join(dir, "submissions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSuffix(string(subs), "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) != 4 {
			t.Errorf("submissions.txt: line %q, want EPOCH RESULT NAME VERSION", line)
			continue
		}
		got = append(got, f[1]+" "+f[2]+" "+f[3])
	}
	var wantSubs []string
	for name, version := range want {
		wantSubs = append(wantSubs, "pass "+name+" "+version)
	}
	slices.Sort(got)
	slices.Sort(wantSubs)
	if !slices.Equal(got, wantSubs) {
		t.Errorf("submissions.txt = %q, want %q", got, wantSubs)
	}

	// The report is written.
	if _, err := os.Stat(filepath.Join(state, "html", "index.html")); err != nil {
		t.Errorf("no report: %v", err)
	}
}

// readPackages returns name -> version of a Packages file.
func readPackages(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	name := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Package: "); ok {
			name = v
		} else if v, ok := strings.CutPrefix(sc.Text(), "Version: "); ok {
			out[name] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// lookPath finds an executable in path.
func lookPath(name, path string) (string, error) {
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errors.New("not found")
}

// stopMasterServer ends the master server that the demo's first
// connection started (it would linger master-server-idle), so that it
// writes nothing into the state directory while the test removes it.
func stopMasterServer(t *testing.T, state string) {
	t.Helper()
	conf := filepath.Join(state, "master.toml")
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		args := strings.Split(string(data), "\x00")
		if len(args) < 4 || args[1] != "-c" || args[2] != conf || args[3] != "server" {
			continue
		}
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil {
			continue
		}
		if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
			continue
		}
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
			if err != nil || strings.Contains(string(stat), ") Z ") {
				break // gone, or a zombie its parent reaps
			}
		}
	}
}
