package testutil

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SSHDPath is the OpenSSH server StartSSHD runs; it must be absolute, as sshd
// re-executes itself for each connection.
const SSHDPath = "/usr/sbin/sshd"

// SSHPath is the OpenSSH client the wrapper in SSHD.BinDir runs.
const SSHPath = "/usr/bin/ssh"

// sshKeygenPath generates the host and client keys.
const sshKeygenPath = "/usr/bin/ssh-keygen"

// sshdStartTimeout bounds the wait for sshd to listen, so a broken sshd fails
// the test instead of hanging it; it is no assertion on speed.
const sshdStartTimeout = 30 * time.Second

// SSHDConfig says what StartSSHD's server lets in.
type SSHDConfig struct {
	// ForcedCommand is the command= option of the one authorized key: sshd
	// runs it through the user's shell for every connection, whatever the
	// client asked (that request is in $SSH_ORIGINAL_COMMAND). It must not
	// hold a newline. Quote its words with ShellQuote.
	ForcedCommand string
	// ForcedCommands are the forced commands of further authorized keys,
	// one key each, as a farm gives each slave a key whose command names
	// it (--slave-id=NAME); SSHD.Identities[i] is the private key of
	// ForcedCommands[i]. The same rules as for ForcedCommand apply.
	ForcedCommands []string
	// MaxStartups is sshd's MaxStartups ("START:RATE:FULL" or a number);
	// empty keeps sshd's default, 10:30:100, under which sshd drops new
	// connections at random while more than 10 are unauthenticated.
	MaxStartups string
	// SetEnv are sshd's SetEnv: NAME=VALUE pairs (no blanks or quotes) set
	// in every session, e.g. SHLVL=1, which keeps bash, the login shell
	// that runs the forced command, from reading ~/.bashrc as it does for
	// a command from sshd.
	SetEnv []string
	// AuthorizedKeys is a further authorized_keys file that sshd reads,
	// after its own, at every connection: a test may write it after the
	// start (as piuparts-master authorize --append does). Empty: none.
	AuthorizedKeys string
}

// SSHD is an OpenSSH server started by StartSSHD, and the files a client
// needs to reach it with the host key verified.
type SSHD struct {
	// Host is the address sshd listens on: always 127.0.0.1.
	Host string
	// Port is the TCP port sshd listens on.
	Port int
	// User is the account clients log in as: the current user (root).
	User string
	// KnownHosts is a known_hosts file holding the server's host key for
	// [Host]:Port, and nothing else.
	KnownHosts string
	// Identity is the client's private key (no passphrase); its public half
	// is the server's first authorized key, restricted to the forced command.
	Identity string
	// Identities are the private keys of SSHDConfig.ForcedCommands, in
	// their order.
	Identities []string
	// ClientConfig is an ssh_config for "ssh -F": Host 127.0.0.1 with the
	// Port, User, Identity and KnownHosts above, StrictHostKeyChecking yes
	// and BatchMode yes, so an unknown or changed host key is refused.
	ClientConfig string
	// BinDir holds "ssh", a script that runs SSHPath -F ClientConfig with its
	// arguments. Put it first in the PATH of a program that runs plain
	// "ssh HOST COMMAND" (as Debian's piuparts-slave does).
	BinDir string

	log *SyncBuffer
}

// Addr returns "127.0.0.1:PORT".
func (s *SSHD) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Log returns what sshd has written to its standard error so far (it runs
// with -e and LogLevel VERBOSE): connections, authentications, refusals.
func (s *SSHD) Log() string { return s.log.String() }

// StartSSHD runs SSHDPath -D -e on 127.0.0.1 with a free port, a generated
// ed25519 host key and a config in a temporary directory (PermitRootLogin
// forced-commands-only, UsePAM no, StrictModes no, public keys only), waits
// until it listens, and stops it with SIGTERM in t.Cleanup. It creates sshd's
// privilege separation directory /run/sshd when that is missing.
//
// It skips the test, saying why, when not run as root, when sshd, ssh or
// ssh-keygen is not installed, or when the current user's password field
// starts with "!" (sshd without PAM refuses such locked accounts). Other
// failures (key generation, sshd exiting or not listening) fail the test
// with sshd's output.
func StartSSHD(t testing.TB, cfg SSHDConfig) *SSHD {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIP: sshd tests run as root (as CI does); not root, so no sshd is started")
	}
	for _, p := range []string{SSHDPath, SSHPath, sshKeygenPath} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("SKIP: %s is missing (make test-deps installs openssh-server and openssh-client): %v", p, err)
		}
	}
	for _, c := range append([]string{cfg.ForcedCommand}, cfg.ForcedCommands...) {
		if strings.ContainsAny(c, "\n\r") {
			t.Fatalf("StartSSHD: forced command %q holds a line break", cut(c))
		}
	}
	for _, v := range append([]string{cfg.MaxStartups, cfg.AuthorizedKeys}, cfg.SetEnv...) {
		if strings.ContainsAny(v, " \t\n\r\"'\\") {
			t.Fatalf("StartSSHD: sshd_config value %q holds a blank or a quote", cut(v))
		}
	}
	u, err := user.Current()
	if err != nil {
		t.Fatalf("StartSSHD: current user: %v", err)
	}
	if locked, err := passwordLocked(u.Username); err == nil && locked {
		t.Skipf("SKIP: the password field of %s in /etc/shadow starts with \"!\"; sshd without PAM refuses locked accounts (use \"*\")", u.Username)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatalf("StartSSHD: privilege separation directory: %v", err)
	}

	dir := t.TempDir()
	s := &SSHD{
		Host:         "127.0.0.1",
		User:         u.Username,
		KnownHosts:   filepath.Join(dir, "known_hosts"),
		Identity:     filepath.Join(dir, "id_ed25519"),
		ClientConfig: filepath.Join(dir, "ssh_config"),
		BinDir:       filepath.Join(dir, "bin"),
		log:          &SyncBuffer{},
	}
	hostKey := filepath.Join(dir, "ssh_host_ed25519_key")
	keygen(t, hostKey, "testutil-sshd-host")
	var authorized strings.Builder
	authorize := func(identity, comment, command string) {
		keygen(t, identity, comment)
		clientPub, err := os.ReadFile(identity + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&authorized, "command=\"%s\",no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty %s",
			strings.ReplaceAll(command, `"`, `\"`), clientPub)
	}
	authorize(s.Identity, "testutil-sshd-client", cfg.ForcedCommand)
	for i, c := range cfg.ForcedCommands {
		id := filepath.Join(dir, fmt.Sprintf("id_ed25519_%d", i))
		authorize(id, fmt.Sprintf("testutil-sshd-client-%d", i), c)
		s.Identities = append(s.Identities, id)
	}
	authKeys := filepath.Join(dir, "authorized_keys")
	writeFile(t, authKeys, authorized.String(), 0o600)

	// A port taken between picking and binding makes sshd exit; pick again.
	var cmd *exec.Cmd
	for attempt := 1; ; attempt++ {
		s.Port = freePort(t)
		sshdConfig := filepath.Join(dir, "sshd_config")
		var extra []string
		if cfg.MaxStartups != "" {
			extra = append(extra, "MaxStartups "+cfg.MaxStartups)
		}
		if len(cfg.SetEnv) > 0 {
			extra = append(extra, "SetEnv "+strings.Join(cfg.SetEnv, " "))
		}
		writeFile(t, sshdConfig, strings.Join(append([]string{
			"ListenAddress " + s.Host,
			"Port " + strconv.Itoa(s.Port),
			"HostKey " + hostKey,
			"PidFile " + filepath.Join(dir, "sshd.pid"),
			strings.TrimSpace("AuthorizedKeysFile " + authKeys + " " + cfg.AuthorizedKeys),
			"AuthorizedPrincipalsFile none",
			"PermitRootLogin forced-commands-only",
			"AllowUsers " + s.User,
			"PubkeyAuthentication yes",
			"PasswordAuthentication no",
			"KbdInteractiveAuthentication no",
			"HostbasedAuthentication no",
			"UsePAM no",
			"StrictModes no",
			"AllowTcpForwarding no",
			"AllowAgentForwarding no",
			"X11Forwarding no",
			"PermitTTY no",
			"PermitUserEnvironment no",
			"PrintMotd no",
			"PrintLastLog no",
			"UseDNS no",
			"LogLevel VERBOSE",
		}, append(extra, "")...), "\n"), 0o600)
		var ready bool
		cmd, ready = runSSHD(t, sshdConfig, s.log)
		if ready {
			break
		}
		if attempt < 3 && strings.Contains(s.Log(), "Address already in use") {
			continue
		}
		t.Fatalf("StartSSHD: sshd did not start listening on %s:\n%s", s.Addr(), s.Log())
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.Log())
		}
	})

	// The client side: the host key as known_hosts, and ssh wrapped to use it.
	hostPub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(hostPub))
	if len(f) < 2 {
		t.Fatalf("StartSSHD: host public key %q", cut(string(hostPub)))
	}
	writeFile(t, s.KnownHosts, fmt.Sprintf("[%s]:%d %s %s\n", s.Host, s.Port, f[0], f[1]), 0o644)
	writeFile(t, s.ClientConfig, strings.Join([]string{
		"Host " + s.Host,
		"  HostName " + s.Host,
		"  Port " + strconv.Itoa(s.Port),
		"  User " + s.User,
		"  IdentityFile " + s.Identity,
		"  IdentitiesOnly yes",
		"  UserKnownHostsFile " + s.KnownHosts,
		"  GlobalKnownHostsFile /dev/null",
		"  StrictHostKeyChecking yes",
		"  UpdateHostKeys no",
		"  BatchMode yes",
		"  LogLevel ERROR",
		"",
	}, "\n"), 0o644)
	if err := os.Mkdir(s.BinDir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(s.BinDir, "ssh"),
		"#!/bin/sh\nexec "+SSHPath+" -F "+ShellQuote(s.ClientConfig)+" \"$@\"\n", 0o755)
	return s
}

// runSSHD starts sshd and waits until it says it listens (ready) or exits
// (not ready); its standard error goes to log.
func runSSHD(t testing.TB, config string, log *SyncBuffer) (*exec.Cmd, bool) {
	t.Helper()
	// An os.Pipe rather than StderrPipe: sshd's per-connection children
	// inherit its standard error, and Wait must not cut their last lines.
	stderr, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(SSHDPath, "-D", "-e", "-f", config)
	cmd.Stderr = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		stderr.Close()
		t.Fatalf("StartSSHD: %v", err)
	}
	listening := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		defer stderr.Close()
		sc := bufio.NewScanner(stderr)
		signaled := false
		for sc.Scan() {
			log.WriteLine(sc.Text())
			if !signaled && strings.HasPrefix(sc.Text(), "Server listening on ") {
				signaled = true
				close(listening)
			}
		}
		// Drain whatever is left so sshd never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, stderr)
	}()
	timer := time.NewTimer(sshdStartTimeout)
	defer timer.Stop()
	select {
	case <-listening:
		return cmd, true
	case <-exited:
		_ = cmd.Wait()
		return cmd, false
	case <-timer.C:
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return cmd, false
	}
}

// ShellQuote quotes s as one word for a POSIX shell (as sshd runs a forced
// command through the user's shell).
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// keygen writes an ed25519 key pair without passphrase to path and path.pub.
func keygen(t testing.TB, path, comment string) {
	t.Helper()
	out, err := exec.Command(sshKeygenPath, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ssh-keygen %s: %v\n%s", path, err, out)
	}
}

// passwordLocked reports whether name's password field in /etc/shadow
// starts with "!".
func passwordLocked(name string) (bool, error) {
	b, err := os.ReadFile("/etc/shadow")
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) >= 2 && f[0] == name {
			return strings.HasPrefix(f[1], "!"), nil
		}
	}
	return false, errors.New("no shadow entry")
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeFile(t testing.TB, path, body string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
}

// cut shortens outside input for messages.
func cut(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}

// SyncBuffer collects what goroutines write (a process's standard error,
// sshd's log) for readers in others. The zero value is ready to use.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p; it never fails.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// WriteLine appends s and a newline.
func (b *SyncBuffer) WriteLine(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(s)
	b.buf.WriteByte('\n')
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
