package testutil

import (
	"errors"
	"testing"

	"piuparts-server/internal/sshd"
)

// SSHDPath is the OpenSSH server StartSSHD runs (sshd.Path).
const SSHDPath = sshd.Path

// SSHPath is the OpenSSH client the wrapper in SSHD.BinDir runs (sshd.SSHPath).
const SSHPath = sshd.SSHPath

// SSHDConfig says what StartSSHD's server lets in; see sshd.Config.
type SSHDConfig = sshd.Config

// SSHD is an OpenSSH server started by StartSSHD; see sshd.Server.
type SSHD = sshd.Server

// SyncBuffer collects what goroutines write for readers in others; see
// sshd.SyncBuffer.
type SyncBuffer = sshd.SyncBuffer

// StartSSHD runs sshd.Start in a temporary directory and stops sshd in
// t.Cleanup, logging sshd's output when the test failed.
//
// It skips the test, saying why, when sshd.Available says sshd cannot run
// here (not root, sshd, ssh or ssh-keygen missing, a locked account). Other
// failures (key generation, sshd exiting or not listening) fail the test
// with sshd's output.
func StartSSHD(t testing.TB, cfg SSHDConfig) *SSHD {
	t.Helper()
	s, err := sshd.Start(t.TempDir(), cfg)
	if errors.Is(err, sshd.ErrUnavailable) {
		t.Skipf("SKIP: %v", err)
	}
	if err != nil {
		t.Fatalf("StartSSHD: %v", err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.Log())
		}
	})
	return s
}

// ShellQuote quotes s as one word for a POSIX shell (sshd.ShellQuote).
func ShellQuote(s string) string { return sshd.ShellQuote(s) }

// cut shortens outside input for messages.
func cut(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}
