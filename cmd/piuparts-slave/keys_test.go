package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"piuparts-server/internal/testutil"
	"piuparts-server/slave/remote"
)

// homeEnv is a getenv with HOME set to home and no config.
func homeEnv(home string) func(string) string {
	return func(k string) string {
		switch k {
		case "HOME":
			return home
		case "PIUPARTS_CONFIG":
			return filepath.Join(home, "no-such-config.toml")
		case "USER":
			return "tester"
		}
		return ""
	}
}

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode()
}

func TestKeygen(t *testing.T) {
	home := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"keygen", "--slave-id", "slave7"}, &stdout, &stderr, homeEnv(home)); err != nil {
		t.Fatalf("keygen: %v (stderr %q)", err, stderr.String())
	}
	key := filepath.Join(home, ".ssh", "id_ed25519")
	for p, want := range map[string]os.FileMode{key: 0o600, key + ".pub": 0o644, filepath.Dir(key): 0o700 | os.ModeDir} {
		if got := mode(t, p); got != want {
			t.Errorf("mode of %s = %v, want %v", p, got, want)
		}
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(pub), "ssh-ed25519 ") || !strings.HasSuffix(string(pub), " tester@slave7\n") {
		t.Errorf("%s.pub = %q, want an ssh-ed25519 key with the comment tester@slave7", key, pub)
	}
	for _, want := range []string{string(pub), "sudo -u piupartsm piuparts-master authorize --slave-id slave7 --append ~piupartsm/.ssh/authorized_keys id_ed25519.pub"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("keygen printed\n%s\nwithout %q", stdout.String(), want)
		}
	}
	// OpenSSH reads the private key: it derives the same public key.
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Log("SKIP part: ssh-keygen is missing (openssh-client): the key is not checked with OpenSSH")
	} else {
		out, err := exec.Command("ssh-keygen", "-y", "-f", key).Output()
		if err != nil {
			t.Fatalf("ssh-keygen -y -f %s: %v", key, err)
		}
		if got, want := strings.Fields(string(out)), strings.Fields(string(pub)); len(got) < 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("ssh-keygen -y = %q, want the key of %s.pub %q", out, key, pub)
		}
	}

	t.Run("RefusesOverwrite", func(t *testing.T) {
		err := run(t.Context(), []string{"keygen"}, &bytes.Buffer{}, &bytes.Buffer{}, homeEnv(home))
		if err == nil || !strings.Contains(err.Error(), "exists") || !strings.Contains(err.Error(), "--force") {
			t.Errorf("keygen over an existing key: %v, want a refusal that names --force", err)
		}
		if again, _ := os.ReadFile(key + ".pub"); !bytes.Equal(again, pub) {
			t.Errorf("the refused keygen changed %s.pub", key)
		}
	})
	t.Run("Force", func(t *testing.T) {
		if err := run(t.Context(), []string{"keygen", "--force", "--slave-id", "slave7"}, &bytes.Buffer{}, &bytes.Buffer{}, homeEnv(home)); err != nil {
			t.Fatal(err)
		}
		if again, _ := os.ReadFile(key + ".pub"); bytes.Equal(again, pub) {
			t.Errorf("keygen --force left the old key")
		}
		if got := mode(t, key); got != 0o600 {
			t.Errorf("mode of the replaced key = %v, want 0600", got)
		}
	})
	t.Run("ConfigIdentity", func(t *testing.T) {
		conf := filepath.Join(home, "slave.toml")
		writeFile(t, conf, "[global]\nsections = [\"sid\"]\n\n[sid]\ndistro = \"sid\"\nmaster-host = \"master.example.org\"\nmaster-user = \"pm\"\nssh-identity = \"~/keys/farm_key\"\n", 0o644)
		var stdout bytes.Buffer
		if err := run(t.Context(), []string{"-c", conf, "keygen", "--slave-id", "s1"}, &stdout, &bytes.Buffer{}, homeEnv(home)); err != nil {
			t.Fatal(err)
		}
		if got := mode(t, filepath.Join(home, "keys", "farm_key")); got != 0o600 {
			t.Errorf("mode of ssh-identity's key = %v, want 0600", got)
		}
		if want := "sudo -u pm piuparts-master authorize --slave-id s1 --append ~pm/.ssh/authorized_keys farm_key.pub"; !strings.Contains(stdout.String(), want) {
			t.Errorf("keygen printed\n%s\nwithout %q", stdout.String(), want)
		}
	})
	t.Run("BadSlaveID", func(t *testing.T) {
		err := run(t.Context(), []string{"keygen", "--slave-id", "a b"}, &bytes.Buffer{}, &bytes.Buffer{}, homeEnv(t.TempDir()))
		if !errors.Is(err, errUsage) {
			t.Errorf("keygen --slave-id %q: %v, want a usage error", "a b", err)
		}
	})
}

// echoMaster is a forced command that greets as a master and waits for
// the end of its input: enough for remote.Dial.
const echoMaster = "echo hello; cat >/dev/null"

func TestKnownHosts_SSHD(t *testing.T) {
	sshd := testutil.StartSSHD(t, testutil.SSHDConfig{ForcedCommand: echoMaster})
	home := t.TempDir()
	known := filepath.Join(home, "farm", "known_hosts")
	target := fmt.Sprintf("%s:%d", sshd.Host, sshd.Port)
	// Standard input is a pipe, no terminal.
	knownHosts := func(args ...string) (string, error) {
		var stdout bytes.Buffer
		err := runIn(t.Context(), append([]string{"known-hosts", "--file", known}, append(args, target)...), strings.NewReader("y\n"), &stdout, &bytes.Buffer{}, homeEnv(home))
		return stdout.String(), err
	}

	// Not on a terminal and without --yes: refused, nothing written.
	if _, err := knownHosts(); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Errorf("known-hosts without a terminal or --yes: %v, want an error that names --yes", err)
	}
	if _, err := os.Stat(known); err == nil {
		t.Errorf("known-hosts without --yes wrote %s", known)
	}

	out, err := knownHosts("--yes")
	if err != nil {
		t.Fatalf("known-hosts --yes: %v", err)
	}
	t.Logf("known-hosts --yes printed:\n%s", out)
	// The line is what ssh-keygen -l shows for the server's key.
	hostPub, err := os.ReadFile(sshd.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	want, err := exec.Command("ssh-keygen", "-l", "-f", sshd.KnownHosts).Output()
	if err != nil {
		t.Fatalf("ssh-keygen -l -f %s: %v", sshd.KnownHosts, err)
	}
	if !strings.Contains(out, strings.TrimSpace(string(want))+"\n") {
		t.Errorf("known-hosts printed\n%s\nwithout ssh-keygen -l's line %q", out, want)
	}
	b, err := os.ReadFile(known)
	if err != nil {
		t.Fatal(err)
	}
	if f, g := strings.Fields(string(hostPub)), strings.Fields(string(b)); len(g) != 3 || g[0] != f[0] || g[2] != f[2] {
		t.Errorf("%s = %q, want the server's key for %s (as %q)", known, b, f[0], hostPub)
	}
	if got := mode(t, filepath.Dir(known)); got != 0o700|os.ModeDir {
		t.Errorf("mode of the new directory %s = %v, want 0700", filepath.Dir(known), got)
	}

	// The slave's own client reaches the server with the line written.
	c, err := remote.Dial(t.Context(), remote.Options{Host: sshd.Host, Port: sshd.Port, User: sshd.User,
		Identities: []string{sshd.Identity}, KnownHosts: []string{known}, Getenv: homeEnv(home)})
	if err != nil {
		t.Fatalf("remote.Dial with the known_hosts line written: %v", err)
	}
	c.Close()

	// Again: known, unchanged.
	out, err = knownHosts()
	if err != nil || !strings.Contains(out, "known with this key already") {
		t.Errorf("known-hosts on a known host: %v, printed %q; want success and \"known with this key already\"", err, out)
	}
	if again, _ := os.ReadFile(known); !bytes.Equal(again, b) {
		t.Errorf("known-hosts on a known host changed %s:\n%s", known, again)
	}

	// Another key under the server's name: refused loudly, nothing changed.
	other := filepath.Join(home, "other")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	otherPub, err := os.ReadFile(other + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	changed := fmt.Sprintf("[%s]:%d %s", sshd.Host, sshd.Port, otherPub)
	writeFile(t, known, changed, 0o644)
	_, err = knownHosts("--yes")
	t.Logf("the refusal of a changed key: %v", err)
	if !errors.Is(err, remote.ErrChangedHostKey) {
		t.Fatalf("known-hosts --yes on a changed key: %v, want a refusal wrapping ErrChangedHostKey", err)
	}
	for _, want := range []string{"MAN-IN-THE-MIDDLE", "ssh-keygen -R", known, fmt.Sprintf("[%s]:%d", sshd.Host, sshd.Port)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not name %q", err, want)
		}
	}
	if again, _ := os.ReadFile(known); string(again) != changed {
		t.Errorf("the refused known-hosts changed %s:\n%s", known, again)
	}
}

func TestKnownHosts_Usage(t *testing.T) {
	tests := []struct{ name, arg, want string }{
		{"Local", "local", "no master host"},
		{"BadPort", "host:99999", "bad port"},
		{"Slash", "a/b", "no master host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(t.Context(), []string{"known-hosts", "--yes", tt.arg}, &bytes.Buffer{}, &bytes.Buffer{}, homeEnv(t.TempDir()))
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("known-hosts %q: %v, want a usage error with %q", tt.arg, err, tt.want)
			}
		})
	}
	// No config and no host: says what to give.
	err := run(t.Context(), []string{"known-hosts"}, &bytes.Buffer{}, &bytes.Buffer{}, homeEnv(t.TempDir()))
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "HOST[:PORT]") {
		t.Errorf("known-hosts without config or host: %v, want a usage error naming HOST[:PORT]", err)
	}
}

// TestKeys_EndToEnd: a two-machine farm set up as the README says, on one
// machine: keygen on the slave, authorize --append on the master into the
// authorized_keys sshd reads, known-hosts --yes on the slave, and the
// slave's client reaches the master with ssh's defaults (~/.ssh/id_ed25519,
// ~/.ssh/known_hosts), chooses the section and asks for its status.
func TestKeys_EndToEnd(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("SKIP: runs sshd, which needs root (as CI is)")
	}
	f := newFarm(t)
	home := filepath.Join(f.root, "home")
	env := append(os.Environ(), "HOME="+home, "PIUPARTS_CONFIG="+filepath.Join(home, "none.toml"), "SSH_AUTH_SOCK=")
	runBin := func(bin string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, out)
		}
		return string(out)
	}
	runBin(f.slave, "keygen", "--slave-id", "slave1")
	masterConf := f.config(t, "master", "")
	authKeys := filepath.Join(f.root, "piupartsm", ".ssh", "authorized_keys")
	runBin(f.master, "-c", masterConf, "authorize", "--slave-id", "slave1", "--append", authKeys, filepath.Join(home, ".ssh", "id_ed25519.pub"))
	sshd := testutil.StartSSHD(t, testutil.SSHDConfig{ForcedCommand: "false", AuthorizedKeys: authKeys})
	conf := f.config(t, "slave1", fmt.Sprintf("master-host = %q\nmaster-port = %d\nmaster-user = %q\n", sshd.Host, sshd.Port, sshd.User))
	out := runBin(f.slave, "-c", conf, "known-hosts", "--yes")
	if !strings.Contains(out, "added ["+sshd.Host) {
		t.Errorf("known-hosts --yes printed %q, want it to add the master", out)
	}
	getenv := func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
	c, err := remote.Dial(t.Context(), remote.Options{Host: sshd.Host, Port: sshd.Port, User: sshd.User, Getenv: getenv})
	if err != nil {
		t.Fatalf("the slave's client with ~/.ssh of keygen and known-hosts: %v", err)
	}
	defer c.Close()
	if err := c.Section(t.Context(), farmSection); err != nil {
		t.Fatalf("section %s: %v", farmSection, err)
	}
	status, err := c.Status(t.Context())
	if err != nil || !strings.Contains(status, "waiting-to-be-tested=") {
		t.Errorf("status = %q, %v; want the section's counts", status, err)
	}
	if !strings.Contains(sshd.Log(), "Accepted publickey") {
		t.Errorf("sshd did not log the slave's key login:\n%s", tail(sshd.Log(), 20))
	}
}
