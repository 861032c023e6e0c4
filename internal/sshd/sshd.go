package sshd

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
	"time"
)

// Path is the OpenSSH server Start runs; it must be absolute, as sshd
// re-executes itself for each connection.
const Path = "/usr/sbin/sshd"

// SSHPath is the OpenSSH client the wrapper in Server.BinDir runs.
const SSHPath = "/usr/bin/ssh"

// KeygenPath generates the host and client keys.
const KeygenPath = "/usr/bin/ssh-keygen"

// StartTimeout bounds the wait for sshd to listen, so a broken sshd is an
// error instead of a hang; it is no assertion on speed.
const StartTimeout = 30 * time.Second

// ErrUnavailable is wrapped by Available's error: sshd cannot run here (not
// root, a program missing, a locked account). Callers skip rather than fail.
var ErrUnavailable = errors.New("sshd unavailable")

// Config says what Start's server lets in.
type Config struct {
	// ForcedCommand is the command= option of the one authorized key: sshd
	// runs it through the user's shell for every connection, whatever the
	// client asked (that request is in $SSH_ORIGINAL_COMMAND). It must not
	// hold a newline. Quote its words with ShellQuote.
	ForcedCommand string
	// ForcedCommands are the forced commands of further authorized keys,
	// one key each, as a farm gives each slave a key whose command names
	// it (--slave-id=NAME); Server.Identities[i] is the private key of
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
	// Port picks the TCP port to listen on; nil: a port the kernel had free
	// a moment ago. It is asked again when sshd finds the port taken.
	Port func() (int, error)
}

// Server is an OpenSSH server started by Start, and the files a client
// needs to reach it with the host key verified.
type Server struct {
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
	// Identities are the private keys of Config.ForcedCommands, in
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
	// Pid is sshd's process id; sshd leads a process group of its own.
	Pid int

	log    *SyncBuffer
	cmd    *exec.Cmd
	exited chan struct{}
}

// Addr returns "127.0.0.1:PORT".
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Log returns what sshd has written to its standard error so far (it runs
// with -e and LogLevel VERBOSE): connections, authentications, refusals.
func (s *Server) Log() string { return s.log.String() }

// Exited is closed once sshd has exited and been waited for.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// Signal sends sig to sshd's process group. It returns the kill(2) error,
// e.g. syscall.ESRCH once the group is gone.
func (s *Server) Signal(sig syscall.Signal) error { return syscall.Kill(-s.Pid, sig) }

// Close stops sshd with SIGTERM (SIGKILL after 5 s) and waits for it. It
// returns nil also when sshd had already exited.
func (s *Server) Close() error {
	_ = s.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(5 * time.Second):
	}
	_ = s.Signal(syscall.SIGKILL)
	<-s.exited
	return nil
}

// Available returns nil when Start can work here, and an error wrapping
// ErrUnavailable that says why not: not root, sshd, ssh or ssh-keygen not
// installed, or the current user's password field starts with "!" (sshd
// without PAM refuses such locked accounts).
func Available() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: sshd runs as root (as CI does); not root", ErrUnavailable)
	}
	for _, p := range []string{Path, SSHPath, KeygenPath} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w: %s is missing (make test-deps installs openssh-server and openssh-client): %v", ErrUnavailable, p, err)
		}
	}
	u, err := user.Current()
	if err != nil {
		return fmt.Errorf("%w: current user: %v", ErrUnavailable, err)
	}
	if locked, err := passwordLocked(u.Username); err == nil && locked {
		return fmt.Errorf("%w: the password field of %s in /etc/shadow starts with \"!\"; sshd without PAM refuses locked accounts (use \"*\")", ErrUnavailable, u.Username)
	}
	return nil
}

// Start runs Path -D -e on 127.0.0.1 with a port from cfg.Port, a generated
// ed25519 host key and a config in dir (an existing directory it may fill:
// PermitRootLogin forced-commands-only, UsePAM no, StrictModes no, public
// keys only), in a process group of its own, and waits until it listens. It
// creates sshd's privilege separation directory /run/sshd when that is
// missing. The caller stops it with Close (or Signal and Exited).
//
// It returns Available's error when sshd cannot run here, and otherwise an
// error saying what failed (a bad config value, key generation, sshd
// exiting or not listening, with sshd's output).
func Start(dir string, cfg Config) (*Server, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	for _, c := range append([]string{cfg.ForcedCommand}, cfg.ForcedCommands...) {
		if strings.ContainsAny(c, "\n\r") {
			return nil, fmt.Errorf("start sshd: forced command %q holds a line break", cut(c))
		}
	}
	for _, v := range append([]string{cfg.MaxStartups, cfg.AuthorizedKeys}, cfg.SetEnv...) {
		if strings.ContainsAny(v, " \t\n\r\"'\\") {
			return nil, fmt.Errorf("start sshd: sshd_config value %q holds a blank or a quote", cut(v))
		}
	}
	u, err := user.Current()
	if err != nil {
		return nil, fmt.Errorf("start sshd: current user: %w", err)
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return nil, fmt.Errorf("start sshd: privilege separation directory: %w", err)
	}
	pickPort := cfg.Port
	if pickPort == nil {
		pickPort = freePort
	}

	s := &Server{
		Host:         "127.0.0.1",
		User:         u.Username,
		KnownHosts:   filepath.Join(dir, "known_hosts"),
		Identity:     filepath.Join(dir, "id_ed25519"),
		ClientConfig: filepath.Join(dir, "ssh_config"),
		BinDir:       filepath.Join(dir, "bin"),
		log:          &SyncBuffer{},
	}
	hostKey := filepath.Join(dir, "ssh_host_ed25519_key")
	if err := keygen(hostKey, "piuparts-sshd-host"); err != nil {
		return nil, err
	}
	var authorized strings.Builder
	authorize := func(identity, comment, command string) error {
		if err := keygen(identity, comment); err != nil {
			return err
		}
		clientPub, err := os.ReadFile(identity + ".pub")
		if err != nil {
			return fmt.Errorf("start sshd: %w", err)
		}
		fmt.Fprintf(&authorized, "command=\"%s\",no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty %s",
			strings.ReplaceAll(command, `"`, `\"`), clientPub)
		return nil
	}
	if err := authorize(s.Identity, "piuparts-sshd-client", cfg.ForcedCommand); err != nil {
		return nil, err
	}
	for i, c := range cfg.ForcedCommands {
		id := filepath.Join(dir, fmt.Sprintf("id_ed25519_%d", i))
		if err := authorize(id, fmt.Sprintf("piuparts-sshd-client-%d", i), c); err != nil {
			return nil, err
		}
		s.Identities = append(s.Identities, id)
	}
	authKeys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authKeys, []byte(authorized.String()), 0o600); err != nil {
		return nil, fmt.Errorf("start sshd: %w", err)
	}

	// A port taken between picking and binding makes sshd exit; pick again.
	for attempt := 1; ; attempt++ {
		if s.Port, err = pickPort(); err != nil {
			return nil, fmt.Errorf("start sshd: pick a port: %w", err)
		}
		sshdConfig := filepath.Join(dir, "sshd_config")
		var extra []string
		if cfg.MaxStartups != "" {
			extra = append(extra, "MaxStartups "+cfg.MaxStartups)
		}
		if len(cfg.SetEnv) > 0 {
			extra = append(extra, "SetEnv "+strings.Join(cfg.SetEnv, " "))
		}
		body := strings.Join(append([]string{
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
		}, append(extra, "")...), "\n")
		if err := os.WriteFile(sshdConfig, []byte(body), 0o600); err != nil {
			return nil, fmt.Errorf("start sshd: %w", err)
		}
		ready, err := s.run(sshdConfig)
		if err != nil {
			return nil, err
		}
		if ready {
			break
		}
		if attempt < 3 && strings.Contains(s.Log(), "Address already in use") {
			continue
		}
		return nil, fmt.Errorf("start sshd: sshd did not start listening on %s:\n%s", s.Addr(), s.Log())
	}

	// The client side: the host key as known_hosts, and ssh wrapped to use it.
	if err := s.writeClientFiles(hostKey); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// writeClientFiles writes KnownHosts, ClientConfig and BinDir/ssh.
func (s *Server) writeClientFiles(hostKey string) error {
	hostPub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		return fmt.Errorf("start sshd: %w", err)
	}
	f := strings.Fields(string(hostPub))
	if len(f) < 2 {
		return fmt.Errorf("start sshd: host public key %q", cut(string(hostPub)))
	}
	if err := os.WriteFile(s.KnownHosts, fmt.Appendf(nil, "[%s]:%d %s %s\n", s.Host, s.Port, f[0], f[1]), 0o644); err != nil {
		return fmt.Errorf("start sshd: %w", err)
	}
	client := strings.Join([]string{
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
	}, "\n")
	if err := os.WriteFile(s.ClientConfig, []byte(client), 0o644); err != nil {
		return fmt.Errorf("start sshd: %w", err)
	}
	if err := os.MkdirAll(s.BinDir, 0o755); err != nil {
		return fmt.Errorf("start sshd: %w", err)
	}
	wrapper := "#!/bin/sh\nexec " + SSHPath + " -F " + ShellQuote(s.ClientConfig) + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(s.BinDir, "ssh"), []byte(wrapper), 0o755); err != nil {
		return fmt.Errorf("start sshd: %w", err)
	}
	return nil
}

// run starts sshd and waits until it says it listens (ready) or exits
// (not ready); its standard error goes to s.log.
func (s *Server) run(config string) (ready bool, err error) {
	// An os.Pipe rather than StderrPipe: sshd's per-connection children
	// inherit its standard error, and Wait must not cut their last lines.
	stderr, w, err := os.Pipe()
	if err != nil {
		return false, fmt.Errorf("start sshd: %w", err)
	}
	cmd := exec.Command(Path, "-D", "-e", "-f", config)
	cmd.Stderr = w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = cmd.Start()
	w.Close()
	if err != nil {
		stderr.Close()
		return false, fmt.Errorf("start sshd: %w", err)
	}
	s.cmd, s.Pid, s.exited = cmd, cmd.Process.Pid, make(chan struct{})
	listening := make(chan struct{})
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		defer stderr.Close()
		sc := bufio.NewScanner(stderr)
		signaled := false
		for sc.Scan() {
			s.log.WriteLine(sc.Text())
			if !signaled && strings.HasPrefix(sc.Text(), "Server listening on ") {
				signaled = true
				close(listening)
			}
		}
		// Drain whatever is left so sshd never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, stderr)
	}()
	exited := s.exited
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	timer := time.NewTimer(StartTimeout)
	defer timer.Stop()
	select {
	case <-listening:
		return true, nil
	case <-exited:
		<-logDone
		return false, nil
	case <-timer.C:
		_ = syscall.Kill(-s.Pid, syscall.SIGKILL)
		<-exited
		return false, nil
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
func keygen(path, comment string) error {
	out, err := exec.Command(KeygenPath, "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ssh-keygen %s: %w\n%s", path, err, out)
	}
	return nil
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
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
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
