package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBinary_LogLevels: after a normal session (section, status, reserve,
// pass with a log) the global log is empty or absent and the section log
// has the info lines; per-command lines appear only at log-level debug.
func TestBinary_LogLevels(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildMaster(t)
	tests := []struct {
		name      string
		global    string
		wantDebug bool
	}{
		{"Default", "", false},
		{"Info", `log-level = "info"`, false},
		{"Debug", `log-level = "debug"`, true},
		{"DebugKey", "debug = true", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, conf := forcedEnvWith(t, tt.global)
			session := func(input string) []string {
				t.Helper()
				cmd := exec.CommandContext(t.Context(), bin)
				cmd.Env = []string{"PIUPARTS_CONFIG=" + conf, "SSH_ORIGINAL_COMMAND=piuparts-master",
					"SSH_CONNECTION=192.0.2.7 51234 192.0.2.1 22", "HOME=" + root, "PATH=/usr/bin:/bin"}
				cmd.Dir = root
				cmd.Stdin = strings.NewReader(input)
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Run(); err != nil {
					t.Fatalf("master exited with %v; stdout %q, stderr %q", err, stdout.String(), stderr.String())
				}
				return strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
			}
			out := session("section sid\nstatus\nreserve\n")
			res := strings.Fields(out[len(out)-1])
			if len(res) != 3 || res[0] != "ok" {
				t.Fatalf("reserve answered %q, want ok NAME VERSION", out[len(out)-1])
			}
			out = session("section sid\npass " + res[1] + " " + res[2] + "\n a log line\n.\n")
			if out[len(out)-1] != "ok" {
				t.Fatalf("pass answered %q, want ok", out)
			}

			if errLog, err := os.ReadFile(filepath.Join(root, "master", "master-error.log")); len(errLog) > 0 {
				t.Errorf("master-error.log is not empty after normal sessions (%v):\n%s", err, errLog)
			}
			secLog, err := os.ReadFile(filepath.Join(root, "master", "sid", "master.log"))
			if err != nil {
				t.Fatalf("section log: %v", err)
			}
			text := string(secLog)
			for _, want := range []string{`"message":"reserved"`, `"package":"` + res[1] + `"`, `"result":"pass"`} {
				if !strings.Contains(text, want) {
					t.Errorf("section log lacks %s:\n%s", want, text)
				}
			}
			for _, debug := range []string{`"message":">>"`, `"message":"<< ok"`, "ignoring the client's command"} {
				if got := strings.Contains(text, debug); got != tt.wantDebug {
					t.Errorf("section log has %s: %v, want %v:\n%s", debug, got, tt.wantDebug, text)
				}
			}
		})
	}
}
