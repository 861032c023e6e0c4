package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"piuparts-server/internal/debianref"
	"piuparts-server/internal/testutil"
)

// sshKeys makes the slave reach sshd as an operator would configure it:
// the forced command chooses the program, the slave sends no command, the
// host key must be in the known_hosts file.
func sshKeys(s *testutil.SSHD) string {
	return fmt.Sprintf("master-host = %q\nmaster-port = %d\nmaster-user = %q\nssh-identity = %q\nssh-known-hosts = %q\n",
		s.Host, s.Port, s.User, s.Identity, s.KnownHosts)
}

// TestSlave_OverSSHD: our slave against our master through OpenSSH's sshd
// with a forced command and a checked host key. The slave's mirror has
// another version of bc, which it must therefore submit as untestable.
func TestSlave_OverSSHD(t *testing.T) {
	t.Parallel()
	f := newFarm(t)
	f.lag(t, "bc")
	masterConf := f.config(t, "master", "")
	sshd := testutil.StartSSHD(t, testutil.SSHDConfig{
		ForcedCommand: testutil.ShellQuote(f.master) + " -c " + testutil.ShellQuote(masterConf) + " --slave-id=slave1",
	})
	conf := f.config(t, "slave1", sshKeys(sshd))
	f.runSlave(t, conf)
	f.check(t, f.masterDir, f.states(t, f.master, "-c", masterConf), filepath.Join(f.root, "slave1"))
	if !strings.Contains(sshd.Log(), "Accepted publickey") {
		t.Errorf("sshd did not log the slave's key login:\n%s", tail(sshd.Log(), 20))
	}
}

// TestSlave_OverSSHD_WrongHostKey: a known_hosts file with another key for
// the master is refused with the host, the fingerprint and the file named,
// and nothing is tested.
func TestSlave_OverSSHD_WrongHostKey(t *testing.T) {
	t.Parallel()
	f := newFarm(t)
	masterConf := f.config(t, "master", "")
	sshd := testutil.StartSSHD(t, testutil.SSHDConfig{
		ForcedCommand: testutil.ShellQuote(f.master) + " -c " + testutil.ShellQuote(masterConf),
	})
	// Another server's key under the master's name.
	other := filepath.Join(f.root, "other_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(other + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	known := filepath.Join(f.root, "known_hosts")
	writeFile(t, known, fmt.Sprintf("[%s]:%d %s", sshd.Host, sshd.Port, pub), 0o644)
	keys := strings.Replace(sshKeys(sshd), fmt.Sprintf("ssh-known-hosts = %q", sshd.KnownHosts), fmt.Sprintf("ssh-known-hosts = %q", known), 1)
	conf := f.config(t, "slave1", keys)
	cmd := exec.CommandContext(t.Context(), f.slave, "-c", conf, "run", "--until-idle")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the slave accepted a changed host key:\n%s", tail(string(out), 20))
	}
	for _, want := range []string{sshd.Host, "SHA256:", known} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the error does not name %q:\n%s", want, tail(string(out), 20))
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(f.masterDir, farmSection, "pass")); len(entries) > 0 {
		t.Errorf("%d logs reached the master through a refused host key", len(entries))
	}
}

// TestSlave_DebianMaster: our slave against Debian's Python
// piuparts-master, unchanged, through sshd with a forced command.
func TestSlave_DebianMaster(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"/usr/bin/python3", "/usr/share/piuparts/piuparts-master-backend"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("SKIPPED, NOTHING TESTED: Debian's piuparts-master is not installed (%v); make test-deps installs piuparts-master", err)
		}
	}
	f := newFarm(t)
	dmaster := filepath.Join(f.root, "debian-master")
	ini := filepath.Join(f.root, "piuparts.conf")
	writeFile(t, ini, fmt.Sprintf("[global]\nsections = %s\nmaster-directory = %s\n\n[%s]\nmirror = %s\ndistro = %s\narea = main\narch = amd64\n",
		farmSection, dmaster, farmSection, f.mirror, farmDistro), 0o644)
	distros := filepath.Join(f.root, "distros.conf")
	writeFile(t, distros, "", 0o644)
	script := filepath.Join(f.root, "debian-master.py")
	writeFile(t, script, debianref.Script, 0o644)
	if err := os.MkdirAll(filepath.Join(dmaster, farmSection), 0o755); err != nil {
		t.Fatal(err)
	}
	masterCmd := []string{debianref.Python, script, ini, distros, debianref.MasterBackend}
	quoted := make([]string, len(masterCmd))
	for i, w := range masterCmd {
		quoted[i] = testutil.ShellQuote(w)
	}
	sshd := testutil.StartSSHD(t, testutil.SSHDConfig{ForcedCommand: strings.Join(quoted, " ")})
	conf := f.config(t, "slave1", sshKeys(sshd))
	f.runSlave(t, conf)
	f.check(t, dmaster, f.states(t, masterCmd...), filepath.Join(f.root, "slave1"))
}

// TestSlave_KilledAndRestarted: SIGKILL in the middle of a test, then a
// new run: nothing is lost, and no package reaches the master twice with
// different results.
func TestSlave_KilledAndRestarted(t *testing.T) {
	t.Parallel()
	f := newFarm(t)
	conf := f.config(t, "slave1", f.localKeys(t, "slave1"))
	cmd := exec.CommandContext(t.Context(), f.slave, "-c", conf, "run")
	cmd.Env = append(os.Environ(), "PIUPARTS_SIMULATOR_DELAY=0.3")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once some logs reached the master and a test is running.
	spoolNew := filepath.Join(f.root, "slave1", "1", farmSection, "new")
	pass := filepath.Join(f.masterDir, farmSection, "pass")
	deadline := time.Now().Add(2 * time.Minute) // a guard against a hang, not a speed check
	for {
		shipped, _ := os.ReadDir(pass)
		running, _ := os.ReadDir(spoolNew)
		if len(shipped) >= 3 && len(running) > 0 {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("no test running after logs were shipped:\n%s", tail(out.String(), 30))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	f.runSlave(t, conf)
	f.check(t, f.masterDir, f.states(t, f.master, "-c", filepath.Join(f.root, "master.toml")), filepath.Join(f.root, "slave1"))

	// submissions.txt: "EPOCH RESULT NAME VERSION", one line per log.
	subs, err := os.ReadFile(filepath.Join(f.masterDir, farmSection, "submissions.txt"))
	if err != nil {
		t.Fatal(err)
	}
	results := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(subs)), "\n") {
		w := strings.Fields(line)
		if len(w) != 4 {
			t.Fatalf("submissions.txt line %q", line)
		}
		if prev, ok := results[w[2]]; ok && prev != w[1] {
			t.Errorf("%s submitted as %s and as %s", w[2], prev, w[1])
		}
		results[w[2]] = w[1]
	}
}

// startSlow starts `piuparts-slave run` with a slow simulator and waits
// until a test is running; it returns the command, its output and the
// name of the package under test.
func (f *farm) startSlow(t *testing.T, conf string) (*exec.Cmd, *strings.Builder, string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), f.slave, "-c", conf, "run")
	cmd.Env = append(os.Environ(), "PIUPARTS_SIMULATOR_DELAY=1")
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	spoolNew := filepath.Join(f.root, "slave1", "1", farmSection, "new")
	deadline := time.Now().Add(2 * time.Minute) // a guard against a hang, not a speed check
	for {
		running, _ := os.ReadDir(spoolNew)
		if len(running) > 0 {
			name, _, _ := strings.Cut(running[0].Name(), "_")
			return cmd, out, name
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("no test started:\n%s", tail(out.String(), 30))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// masterLogs lists the packages the master has a log for, and those it
// holds reserved.
func (f *farm) masterLogs(t *testing.T) (logged, reserved map[string]bool) {
	t.Helper()
	logged, reserved = map[string]bool{}, map[string]bool{}
	for dir, set := range map[string]map[string]bool{"pass": logged, "fail": logged, "untestable": logged, "reserved": reserved} {
		entries, _ := os.ReadDir(filepath.Join(f.masterDir, farmSection, dir))
		for _, e := range entries {
			if name, _, ok := strings.Cut(e.Name(), "_"); ok {
				set[name] = true
			}
		}
	}
	return logged, reserved
}

// TestSlave_SIGINT: the reference's Ctrl-C. The first SIGINT lets the
// running test finish and be sent, and gives back the packages not tested;
// a second SIGINT stops the running test too, and gives its package back.
func TestSlave_SIGINT(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		signals int
	}{{"Once", 1}, {"Twice", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFarm(t)
			conf := f.config(t, "slave1", f.localKeys(t, "slave1"))
			cmd, out, running := f.startSlow(t, conf)
			for range tc.signals {
				if err := cmd.Process.Signal(os.Interrupt); err != nil {
					t.Fatal(err)
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err := cmd.Wait(); err != nil {
				t.Fatalf("after SIGINT: %v\n%s", err, tail(out.String(), 30))
			}
			logged, reserved := f.masterLogs(t)
			if len(reserved) > 0 {
				t.Errorf("still reserved at the master: %v\n%s", sortedKeys(reserved), tail(out.String(), 30))
			}
			if want := tc.signals == 1; logged[running] != want {
				t.Errorf("%s was running at SIGINT: log at the master = %v, want %v\n%s", running, logged[running], want, tail(out.String(), 30))
			}
			checkSpoolEmpty(t, filepath.Join(f.root, "slave1"))
			// The farm goes on where it stopped.
			f.runSlave(t, conf)
			f.check(t, f.masterDir, f.states(t, f.master, "-c", filepath.Join(f.root, "master.toml")), filepath.Join(f.root, "slave1"))
		})
	}
}

// TestSlave_SIGHUP: SIGHUP sends the finished logs now, in the middle of a
// batch, and the slave goes on with the rest.
func TestSlave_SIGHUP(t *testing.T) {
	t.Parallel()
	f := newFarm(t)
	conf := f.config(t, "slave1", f.localKeys(t, "slave1"))
	cmd, out, running := f.startSlow(t, conf)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	reservedDir := filepath.Join(f.root, "slave1", "1", farmSection, "reserved")
	deadline := time.Now().Add(2 * time.Minute) // a guard against a hang, not a speed check
	for {
		logged, _ := f.masterLogs(t)
		if len(logged) > 0 {
			// The batch (max-reserved = 7, a second per test) is not done:
			// the log came because of SIGHUP, not at the end of the batch.
			if held, _ := os.ReadDir(reservedDir); len(held) == 0 {
				t.Errorf("the first log reached the master only after the whole batch")
			}
			if !logged[running] {
				t.Errorf("the master got %v, not %s, which was running at SIGHUP", sortedKeys(logged), running)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log reached the master after SIGHUP:\n%s", tail(out.String(), 30))
		}
		time.Sleep(10 * time.Millisecond)
	}
	// It goes on testing after the flush.
	for {
		logged, _ := f.masterLogs(t)
		if len(logged) > 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slave stopped after SIGHUP:\n%s", tail(out.String(), 30))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("after SIGTERM: %v\n%s", err, tail(out.String(), 30))
	}
	if _, reserved := f.masterLogs(t); len(reserved) > 0 {
		t.Errorf("still reserved at the master after SIGTERM: %v", sortedKeys(reserved))
	}
}
