package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serverPIDs returns the pids of the master servers of a config file.
func serverPIDs(t *testing.T, conf string) []int {
	t.Helper()
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 3 && args[1] == "-c" && args[2] == conf && args[3] == "server" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// session runs one forced-command session of bin and returns its answers.
func forcedSession(t *testing.T, bin, root, conf, input string) string {
	t.Helper()
	cmd := exec.Command(bin, "-c", conf, "--slave-id=s1")
	cmd.Dir = root
	cmd.Env = []string{"HOME=" + root, "PATH=/usr/bin:/bin"}
	cmd.Stdin = strings.NewReader(input)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", input, err, stderr.String())
	}
	return out.String()
}

// waitGone waits (a bounded time) until pid no longer runs.
func waitGone(t *testing.T, pid int, within time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); err != nil {
			return true
		}
		// The server looks each second whether it should go on.
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// TestBinary_MasterServer: the first forced command starts the master
// server, later ones hand their sessions to the same one, a changed config
// gets a server of its own, and a server exits once its master directory
// is gone; with master-server = false no server runs.
func TestBinary_MasterServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildMaster(t)
	root, conf := forcedEnv(t)
	first := forcedSession(t, bin, root, conf, "section sid\nreserve\n")
	if !strings.HasPrefix(first, "hello\nok\nok ") {
		t.Fatalf("first session answered %q", first)
	}
	pids := serverPIDs(t, conf)
	if len(pids) != 1 {
		t.Fatalf("after the first session %d master servers run, want 1", len(pids))
	}
	for range 3 {
		if out := forcedSession(t, bin, root, conf, "section sid\nstatus\n"); !strings.Contains(out, "total=208") {
			t.Fatalf("status answered %q", out)
		}
	}
	if now := serverPIDs(t, conf); len(now) != 1 || now[0] != pids[0] {
		t.Fatalf("later sessions: master servers %v, want the first one %v", now, pids)
	}
	// A changed config: a server of its own; the old one gets no more
	// connections and exits.
	data, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, append(data, "\n# changed\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	forcedSession(t, bin, root, conf, "section sid\nstatus\n")
	if !waitGone(t, pids[0], 10*time.Second) {
		t.Errorf("the server of the old config (pid %d) still runs", pids[0])
	}
	now := serverPIDs(t, conf)
	if len(now) != 1 || now[0] == pids[0] {
		t.Fatalf("after the config changed: master servers %v, want one new one", now)
	}
	// Its master directory gone, it exits.
	if err := os.Rename(filepath.Join(root, "master"), filepath.Join(root, "master.gone")); err != nil {
		t.Fatal(err)
	}
	if !waitGone(t, now[0], 10*time.Second) {
		t.Errorf("the server (pid %d) still runs after its master directory went", now[0])
	}

	// Serving alone.
	root2, conf2 := forcedEnvWith(t, "master-server = false")
	if out := forcedSession(t, bin, root2, conf2, "section sid\nstatus\n"); !strings.Contains(out, "total=208") {
		t.Fatalf("status without the server answered %q", out)
	}
	if pids := serverPIDs(t, conf2); len(pids) != 0 {
		t.Errorf("with master-server = false, master servers %v run", pids)
	}
}
