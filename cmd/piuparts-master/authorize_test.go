package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// writeKeyPair writes an ed25519 key pair as ssh-keygen does, dir/NAME and
// dir/NAME.pub, and returns the public key line.
func writeKeyPair(t *testing.T, dir, name string) string {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "slave@test")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))) + " slave@test"
	if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pub"), []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return line
}

func TestRun_Authorize(t *testing.T) {
	dir := t.TempDir()
	pub := writeKeyPair(t, dir, "id_ed25519")
	pubFile := filepath.Join(dir, "id_ed25519.pub")
	withOpts := filepath.Join(dir, "opts.pub")
	if err := os.WriteFile(withOpts, []byte("no-pty "+pub+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	two := filepath.Join(dir, "two.pub")
	if err := os.WriteFile(two, []byte(pub+"\n"+pub+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.pub")
	if err := os.WriteFile(garbage, []byte("hello world\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const opts = ",no-pty,no-port-forwarding,no-X11-forwarding,no-agent-forwarding "
	tests := []struct {
		name    string
		args    []string
		want    string // the line printed
		wantErr string // a part of the error
		usage   bool
	}{
		{name: "GoodKey", args: []string{"authorize", "--slave-id", "slave1", "--command", "/usr/bin/piuparts-master", pubFile},
			want: `command="/usr/bin/piuparts-master --slave-id=slave1"` + opts + pub},
		{name: "ConfigPassedOn", args: []string{"-c", "/etc/piuparts/farm.toml", "authorize", "--slave-id=h.example.org", "--command=/usr/local/bin/piuparts-master", pubFile},
			want: `command="/usr/local/bin/piuparts-master -c /etc/piuparts/farm.toml --slave-id=h.example.org"` + opts + pub},
		{name: "ShellQuoted", args: []string{"authorize", "--slave-id", "s1", "--command", "/opt/my farm/piuparts-master", pubFile},
			want: `command="'/opt/my farm/piuparts-master' --slave-id=s1"` + opts + pub},
		{name: "BadName", args: []string{"authorize", "--slave-id", "a;rm -rf /", pubFile}, wantErr: "slave id", usage: true},
		{name: "NameWithQuote", args: []string{"authorize", "--slave-id", `a"b`, pubFile}, wantErr: "slave id", usage: true},
		{name: "NoName", args: []string{"authorize", pubFile}, wantErr: "--slave-id NAME is required", usage: true},
		{name: "NoKey", args: []string{"authorize", "--slave-id", "s1"}, wantErr: "want one KEYFILE.pub", usage: true},
		{name: "RelativeCommand", args: []string{"authorize", "--slave-id", "s1", "--command", "piuparts-master", pubFile}, wantErr: "absolute path", usage: true},
		{name: "CommandWithDoubleQuote", args: []string{"authorize", "--slave-id", "s1", "--command", `/x"/m`, pubFile}, wantErr: "cannot be put in an authorized_keys command"},
		{name: "PrivateKey", args: []string{"authorize", "--slave-id", "s1", filepath.Join(dir, "id_ed25519")}, wantErr: "is a private key"},
		{name: "OptionsPresent", args: []string{"authorize", "--slave-id", "s1", withOpts}, wantErr: "has options already"},
		{name: "TwoKeys", args: []string{"authorize", "--slave-id", "s1", two}, wantErr: "more than one key"},
		{name: "NotAKey", args: []string{"authorize", "--slave-id", "s1", garbage}, wantErr: "not an OpenSSH public key"},
		{name: "Missing", args: []string{"authorize", "--slave-id", "s1", filepath.Join(dir, "nope.pub")}, wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tt.args, nil, &stdout, &stderr, noEnv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("run(%q) = %v, want an error with %q", tt.args, err, tt.wantErr)
				}
				if got := errors.Is(err, errUsage); got != tt.usage {
					t.Errorf("run(%q): usage error = %v, want %v (%v)", tt.args, got, tt.usage, err)
				}
				if stdout.Len() > 0 {
					t.Errorf("run(%q) printed %q with its error", tt.args, stdout.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("run(%q) = %v", tt.args, err)
			}
			if got := stdout.String(); got != tt.want+"\n" {
				t.Errorf("run(%q) printed\n%q, want\n%q", tt.args, got, tt.want+"\n")
			}
			// sshd reads the line back as one key with these options.
			key, _, options, _, err := ssh.ParseAuthorizedKey(stdout.Bytes())
			if err != nil {
				t.Fatalf("the printed line does not parse: %v", err)
			}
			if len(options) != 5 || !strings.HasPrefix(options[0], "command=") {
				t.Errorf("options = %q, want command= and four restrictions", options)
			}
			if got := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))); !strings.HasPrefix(pub, got) {
				t.Errorf("key = %q, want the one of %s", got, pubFile)
			}
		})
	}
}

func TestRun_AuthorizeDefaultCommand(t *testing.T) {
	dir := t.TempDir()
	writeKeyPair(t, dir, "k")
	var stdout bytes.Buffer
	if err := run(t.Context(), []string{"authorize", "--slave-id", "s1", filepath.Join(dir, "k.pub")}, nil, &stdout, &bytes.Buffer{}, noEnv); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if want := `command="` + exe + ` --slave-id=s1"`; !strings.HasPrefix(stdout.String(), want) {
		t.Errorf("authorize printed %q, want it to start with %q (the running executable)", stdout.String(), want)
	}
}

func TestRun_AuthorizeAppend(t *testing.T) {
	dir := t.TempDir()
	pub := writeKeyPair(t, dir, "a")
	other := writeKeyPair(t, dir, "b")
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	ak := filepath.Join(home, ".ssh", "authorized_keys")
	// An operator's existing line without a final newline stays intact.
	if err := os.Mkdir(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	authorize := func(id, name string) error {
		var stdout bytes.Buffer
		return run(t.Context(), []string{"authorize", "--slave-id", id, "--command", "/usr/bin/piuparts-master", "--append", ak, filepath.Join(dir, name+".pub")}, nil, &stdout, &bytes.Buffer{}, noEnv)
	}
	t.Run("CreatesFile0600", func(t *testing.T) {
		sub := filepath.Join(dir, "fresh")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(sub, ".ssh", "authorized_keys")
		if err := run(t.Context(), []string{"authorize", "--slave-id", "s1", "--append", f, filepath.Join(dir, "a.pub")}, nil, &bytes.Buffer{}, &bytes.Buffer{}, noEnv); err != nil {
			t.Fatal(err)
		}
		for p, want := range map[string]os.FileMode{f: 0o600, filepath.Dir(f): 0o700 | os.ModeDir} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode() != want {
				t.Errorf("mode of %s = %v, want %v", p, st.Mode(), want)
			}
		}
	})
	if err := os.WriteFile(ak, []byte("# the operator's own\n"+other), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := authorize("slave1", "a"); err != nil {
		t.Fatal(err)
	}
	if err := authorize("slave1", "a"); err != nil {
		t.Fatalf("authorize --append again: %v", err)
	}
	err := authorize("slave2", "a")
	if err == nil || !strings.Contains(err.Error(), "authorized_keys:3 authorizes this key already") {
		t.Errorf("the same key as another slave: %v, want a refusal naming line 3", err)
	}
	b, err := os.ReadFile(ak)
	if err != nil {
		t.Fatal(err)
	}
	want := "# the operator's own\n" + other + "\n" +
		`command="/usr/bin/piuparts-master --slave-id=slave1",no-pty,no-port-forwarding,no-X11-forwarding,no-agent-forwarding ` + pub + "\n"
	if string(b) != want {
		t.Errorf("authorized_keys after appending twice =\n%s\nwant\n%s", b, want)
	}
}

func TestRun_SlaveIDRule(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"--slave-id", "a b"}, strings.NewReader(""), &stdout, &stderr, noEnv)
	if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "slave id") {
		t.Errorf("serving with --slave-id %q: %v, want a usage error about the slave id", "a b", err)
	}
	if stdout.Len() > 0 {
		t.Errorf("serving with a bad --slave-id wrote %q to the protocol", stdout.String())
	}
}
