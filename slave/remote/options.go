package remote

import (
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"
)

// Defaults for Options. A zero field in Options means its default.
const (
	// LocalHost is the Host that runs Command on this machine over pipes,
	// without SSH.
	LocalHost = "local"
	// DefaultPort is the SSH port.
	DefaultPort = 22
	// DefaultKeepAlive is the interval of SSH keepalives.
	DefaultKeepAlive = 30 * time.Second
	// KeepAliveMax is how many intervals a keepalive may go unanswered
	// before the master counts as dead (OpenSSH's ServerAliveCountMax).
	KeepAliveMax = 3
	// DefaultCloseWait bounds how long Close waits for the master to end
	// the session after its input was closed, before it kills the
	// connection or the local process.
	DefaultCloseWait = 10 * time.Second
	// ForcedCommand is the command sent over SSH when Options.Command is
	// empty, as Debian's piuparts-slave does: the master's
	// authorized_keys entry sets the command that runs.
	ForcedCommand = "command-is-set-in-authorized_keys"
)

// Options say how to reach a master: the section's master-host,
// master-user, master-port, master-command, ssh-identity, ssh-known-hosts
// and connect-timeout keys.
type Options struct {
	// Host is the master's host name or address; LocalHost ("local")
	// runs Command here over pipes, without SSH.
	Host string
	// Port is the SSH port; 0 means DefaultPort.
	Port int
	// User is the SSH user; "" means the current user ($USER, $LOGNAME,
	// else the account's name).
	User string
	// Command is the command the SSH server runs; "" sends ForcedCommand.
	// With Host "local" it is required: it is split at white space (no
	// shell) and started as a child process, which inherits this
	// process's environment.
	Command string
	// Identities are private key files; nil means those of
	// ~/.ssh/id_ed25519, id_ecdsa and id_rsa that exist. Keys from
	// ssh-agent ($SSH_AUTH_SOCK) are offered too. Keys protected by a
	// passphrase are skipped (use ssh-agent for them).
	Identities []string
	// KnownHosts are the known_hosts files holding the master's host
	// key; nil means ~/.ssh/known_hosts.
	KnownHosts []string
	// ConnectTimeout bounds the TCP connect, the SSH handshake and
	// reading the master's "hello" (for "local": starting the command
	// and reading "hello"); 0 means no bound but the context.
	ConnectTimeout time.Duration
	// ReadTimeout bounds the wait for any one answer of the master, and
	// the wait for it to accept more of a log being sent; 0 means no
	// bound but the context and keepalives.
	ReadTimeout time.Duration
	// KeepAlive is the interval of SSH keepalives; 0 means
	// DefaultKeepAlive and a negative value none. After KeepAliveMax
	// intervals without an answer the connection is closed.
	KeepAlive time.Duration
	// Getenv looks up HOME, USER, LOGNAME and SSH_AUTH_SOCK; nil means
	// os.Getenv.
	Getenv func(string) string
	// Stderr receives the standard error of the master command; nil
	// discards it.
	Stderr io.Writer
}

func (o *Options) getenv(k string) string {
	if o.Getenv != nil {
		return o.Getenv(k)
	}
	return os.Getenv(k)
}

func (o *Options) port() int {
	if o.Port <= 0 {
		return DefaultPort
	}
	return o.Port
}

func (o *Options) user() string {
	if o.User != "" {
		return o.User
	}
	for _, k := range []string{"USER", "LOGNAME"} {
		if u := o.getenv(k); u != "" {
			return u
		}
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

func (o *Options) keepAlive() time.Duration {
	if o.KeepAlive == 0 {
		return DefaultKeepAlive
	}
	return o.KeepAlive
}

// sshDir returns ~/.ssh, or "" without HOME.
func (o *Options) sshDir() string {
	home := o.getenv("HOME")
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".ssh")
}

func (o *Options) identities() []string {
	if o.Identities != nil {
		return o.Identities
	}
	dir := o.sshDir()
	if dir == "" {
		return nil
	}
	var files []string
	for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		}
	}
	return files
}

func (o *Options) knownHosts() []string {
	if o.KnownHosts != nil {
		return o.KnownHosts
	}
	dir := o.sshDir()
	if dir == "" {
		return nil
	}
	return []string{filepath.Join(dir, "known_hosts")}
}

// address returns host:port for dialling.
func (o *Options) address() string {
	return net.JoinHostPort(o.Host, strconv.Itoa(o.port()))
}

// master names the master for logs and errors.
func (o *Options) master() string {
	if o.Host == LocalHost {
		return LocalHost
	}
	return o.user() + "@" + o.address()
}
