package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"piuparts-server/internal/testutil"
)

// forcedEnv builds a master directory and a file:// mirror with the master
// package's fixture, and returns the config path.
func forcedEnv(t *testing.T) (root, conf string) {
	t.Helper()
	return forcedEnvWith(t, "")
}

// forcedEnvWith is forcedEnv with extra [global] lines.
func forcedEnvWith(t *testing.T, global string) (root, conf string) {
	t.Helper()
	root = t.TempDir()
	pkgs, err := os.ReadFile(testutil.Fixture(t, "Packages_bookworm_closure"))
	if err != nil {
		t.Fatal(err)
	}
	dists := filepath.Join(root, "mirror", "dists", "sid", "main", "binary-amd64")
	if err := os.MkdirAll(dists, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dists, "Packages"), pkgs, 0o644); err != nil {
		t.Fatal(err)
	}
	conf = filepath.Join(root, "piuparts.toml")
	body := fmt.Sprintf("[global]\nsections = [\"sid\"]\nmaster-directory = %q\nmirror = %q\narch = \"amd64\"\n%s\n[sid]\ndistro = \"sid\"\n",
		filepath.Join(root, "master"), "file://"+filepath.Join(root, "mirror"), global)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return root, conf
}

// buildMaster builds this program into a temporary directory.
func buildMaster(t *testing.T) string {
	t.Helper()
	return testutil.Build(t, t.TempDir(), "piuparts-server/cmd/piuparts-master")
}

// TestBinary_ForcedCommand runs the built program as sshd runs a forced
// command: a minimal environment, the home directory as working directory,
// SSH_ORIGINAL_COMMAND holding what the client asked for, pipes for
// stdin/stdout.
func TestBinary_ForcedCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildMaster(t)
	root, conf := forcedEnv(t)
	pwned := filepath.Join(root, "pwned")
	env := []string{
		"PIUPARTS_CONFIG=" + conf,
		"SSH_ORIGINAL_COMMAND=touch " + pwned + "; rm -rf " + root,
		"SSH_CONNECTION=192.0.2.7 51234 192.0.2.1 22",
		"HOME=" + root, "PATH=/usr/bin:/bin",
	}
	run := func(input string) (string, error) {
		cmd := exec.CommandContext(t.Context(), bin)
		cmd.Env = env
		cmd.Dir = root
		cmd.Stdin = strings.NewReader(input)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), err
	}
	out, err := run("section sid\nstatus\nreserve\n")
	if err != nil {
		t.Fatalf("master exited with %v; output %q", err, out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 || lines[0] != "hello" || lines[1] != "ok" ||
		!strings.HasPrefix(lines[2], "ok successfully-tested=") || !strings.HasPrefix(lines[3], "ok ") {
		t.Errorf("stdout = %q, want hello, ok, the status and a reservation, nothing else", out)
	}
	if _, err := os.Stat(pwned); err == nil {
		t.Fatalf("the master ran SSH_ORIGINAL_COMMAND")
	}
	res := strings.Fields(lines[3])
	if len(res) == 3 {
		marker := filepath.Join(root, "master", "sid", "reserved", res[1]+"_"+res[2]+".log")
		if _, err := os.Stat(marker); err != nil {
			t.Errorf("no reserved marker: %v", err)
		}
	}
	secLog, err := os.ReadFile(filepath.Join(root, "master", "sid", "master.log"))
	if err != nil {
		t.Fatalf("section log: %v", err)
	}
	if !strings.Contains(string(secLog), `"slave":"192.0.2.7"`) || !strings.Contains(string(secLog), "reserved") {
		t.Errorf("section log lacks the reservation by 192.0.2.7:\n%s", secLog)
	}
	// The ignored command is a debug line of the section log, so at the
	// default level the global log stays empty.
	if errLog, err := os.ReadFile(filepath.Join(root, "master", "master-error.log")); len(errLog) > 0 {
		t.Errorf("master-error.log is not empty after a normal connection (%v):\n%s", err, errLog)
	}

	// Garbage ends the connection with a non-zero status and a line in the log.
	out, err = run("section sid\nrm -rf /\n")
	if err == nil {
		t.Errorf("master exited 0 on garbage")
	}
	if out != "hello\nok\n" {
		t.Errorf("stdout on garbage = %q, want only hello and ok", out)
	}
	secLog, _ = os.ReadFile(filepath.Join(root, "master", "sid", "master.log"))
	if !strings.Contains(string(secLog), "ABORT") {
		t.Errorf("section log has no ABORT line after garbage")
	}
}

func TestHolderFrom(t *testing.T) {
	tests := []struct {
		name, flag, conn, want string
	}{
		{"Flag", "slave1", "192.0.2.7 1 192.0.2.1 22", "slave1"},
		{"SSHConnection", "", "192.0.2.7 1 192.0.2.1 22", "192.0.2.7"},
		{"Unknown", "", "", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := holderFrom(tt.flag, func(k string) string {
				if k == "SSH_CONNECTION" {
					return tt.conn
				}
				return ""
			})
			if got != tt.want {
				t.Errorf("holderFrom(%q, %q) = %q, want %q", tt.flag, tt.conn, got, tt.want)
			}
		})
	}
}
