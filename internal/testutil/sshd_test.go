package testutil_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"piuparts-server/internal/testutil"
)

// TestStartSSHD connects as a program running plain "ssh" would (through the
// wrapper in BinDir) and checks that the forced command runs instead of the
// requested one, and that an unknown or changed host key is refused.
func TestStartSSHD(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sshd")
	}
	s := testutil.StartSSHD(t, testutil.SSHDConfig{
		ForcedCommand: `echo "forced, asked for: $SSH_ORIGINAL_COMMAND"`,
	})

	// Another host's key under the same name: what a changed key looks like.
	other := filepath.Join(t.TempDir(), "other")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", other).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	otherPub, err := os.ReadFile(other + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(otherPub))
	changed := filepath.Join(t.TempDir(), "changed_known_hosts")
	if err := os.WriteFile(changed, []byte("[127.0.0.1]:"+strconv.Itoa(s.Port)+" "+f[0]+" "+f[1]+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	unknown := filepath.Join(t.TempDir(), "empty_known_hosts")
	if err := os.WriteFile(unknown, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		extra      []string // options before the host
		wantOut    string
		wantStderr string // for a refused connection
	}{
		{"ForcedCommandRuns", nil, "forced, asked for: rm -rf /\n", ""},
		{"UnknownHostRefused", []string{"-o", "UserKnownHostsFile=" + unknown}, "", "Host key verification failed"},
		{"ChangedHostKeyRefused", []string{"-o", "UserKnownHostsFile=" + changed, "-o", "LogLevel=ERROR"}, "", "Host key verification failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-x", "-l", s.User}, tt.extra...)
			args = append(args, s.Host, "rm -rf /")
			cmd := exec.CommandContext(t.Context(), filepath.Join(s.BinDir, "ssh"), args...)
			cmd.Env = []string{"PATH=" + s.BinDir + ":/usr/bin:/bin", "HOME=" + t.TempDir()}
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if tt.wantStderr == "" {
				if err != nil || stdout.String() != tt.wantOut {
					t.Errorf("ssh = %q, %v (stderr %q), want %q", stdout.String(), err, stderr.String(), tt.wantOut)
				}
				return
			}
			if err == nil || !strings.Contains(stderr.String(), tt.wantStderr) || stdout.Len() != 0 {
				t.Errorf("ssh = %q, %v (stderr %q), want a refusal saying %q", stdout.String(), err, stderr.String(), tt.wantStderr)
			}
		})
	}
	if !strings.Contains(s.Log(), "Accepted publickey for "+s.User) {
		t.Errorf("sshd log lacks the accepted key:\n%s", s.Log())
	}
}

// TestStartSSHD_ForcedCommands: each further key runs its own forced
// command, as each slave of a farm is named by its key, with SetEnv's
// variables.
func TestStartSSHD_ForcedCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts sshd")
	}
	s := testutil.StartSSHD(t, testutil.SSHDConfig{
		ForcedCommand:  "echo first $PIUPARTS_TESTUTIL",
		ForcedCommands: []string{"echo slave0", "echo slave1"},
		MaxStartups:    "64",
		SetEnv:         []string{"PIUPARTS_TESTUTIL=set"},
	})
	if len(s.Identities) != 2 {
		t.Fatalf("%d identities, want 2", len(s.Identities))
	}
	for i, id := range append([]string{s.Identity}, s.Identities...) {
		want := "first set\n"
		if i > 0 {
			want = "slave" + strconv.Itoa(i-1) + "\n"
		}
		cmd := exec.CommandContext(t.Context(), filepath.Join(s.BinDir, "ssh"), "-i", id, s.Host)
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
		out, err := cmd.Output()
		if err != nil || string(out) != want {
			t.Errorf("ssh -i %s = %q, %v, want %q", filepath.Base(id), out, err, want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/usr/bin/piuparts-master", "/usr/bin/piuparts-master"},
		{"--slave-id=slave1", "--slave-id=slave1"},
		{"", "''"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"$(rm -rf /)", "'$(rm -rf /)'"},
	}
	for _, tt := range tests {
		if got := testutil.ShellQuote(tt.in); got != tt.want {
			t.Errorf("ShellQuote(%q) = %q, want %q", tt.in, got, tt.want)
		}
		// What the shell makes of it is the input again.
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+testutil.ShellQuote(tt.in)).Output()
		if err != nil || string(out) != tt.in {
			t.Errorf("sh printf %s = %q, %v, want %q", testutil.ShellQuote(tt.in), out, err, tt.in)
		}
	}
}
