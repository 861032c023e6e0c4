package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// KnownHostsFiles returns the known_hosts files Dial checks the master's
// host key against: Options.KnownHosts, else ~/.ssh/known_hosts (nil
// without HOME).
func (o *Options) KnownHostsFiles() []string { return o.knownHosts() }

// DefaultIdentity returns the key file a slave makes when its config names
// none: ~/.ssh/id_ed25519, the first of the files Dial tries; "" without
// HOME.
func (o *Options) DefaultIdentity() string {
	if dir := o.sshDir(); dir != "" {
		return filepath.Join(dir, "id_ed25519")
	}
	return ""
}

// Addr returns the master's address as known_hosts names it: "host" for
// port 22, else "[host]:port".
func (o *Options) Addr() string { return knownhosts.Normalize(o.address()) }

// ExpandHome expands a leading "~/" of p as ssh does, with getenv's HOME;
// p is returned unchanged without one.
func ExpandHome(p string, getenv func(string) string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home := getenv("HOME"); home != "" {
			return filepath.Join(home, rest)
		}
	}
	return p
}

// errGotHostKey ends the handshake of ScanHostKey once the key is known.
var errGotHostKey = errors.New("host key recorded")

// ScanHostKey connects to the SSH server of o.Host and o.Port and returns
// its host key, ending the handshake before authentication, as ssh-keyscan
// does. It offers host key algorithms as Dial does, so that the key it
// returns is one Dial accepts once it is in known_hosts. ctx and
// o.ConnectTimeout bound the whole; the error says what failed.
func ScanHostKey(ctx context.Context, o Options) (ssh.PublicKey, error) {
	if o.Host == "" || o.Host == LocalHost {
		return nil, fmt.Errorf("scan host key: %q is no ssh host", o.Host)
	}
	if o.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.ConnectTimeout)
		defer cancel()
	}
	addr := o.address()
	hk, err := newHostKeys(o.knownHosts())
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("scan host key of %s: connect: %w", addr, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var key ssh.PublicKey
	cfg := &ssh.ClientConfig{
		User: o.user(),
		HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error {
			key = k
			return errGotHostKey
		},
		HostKeyAlgorithms: hk.algorithms(addr, conn.RemoteAddr()),
	}
	_, _, _, err = ssh.NewClientConn(conn, addr, cfg)
	if key != nil {
		return key, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("scan host key of %s: %w", addr, ctx.Err())
	}
	return nil, fmt.Errorf("scan host key of %s: ssh handshake: %w", addr, err)
}

// CheckHostKey checks key as the master's host key against the known_hosts
// files as Dial does: nil when a file has it for o's host, else the
// *HostKeyError Dial would return (ErrUnknownHost, ErrChangedHostKey or
// ErrRevokedHostKey), or an error reading the files.
func CheckHostKey(o Options, key ssh.PublicKey) error {
	hk, err := newHostKeys(o.knownHosts())
	if err != nil {
		return err
	}
	addr := o.address()
	tcp, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		tcp = &net.TCPAddr{}
	}
	return hk.check(addr, tcp, key)
}

// AddKnownHost appends a known_hosts line for o's host ("[host]:port" for
// a port other than 22) with key to file, which is created mode 0644 (its
// directory 0700) when missing. It does not check what file holds: call
// CheckHostKey first.
func AddKnownHost(file string, o Options, key ssh.PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return fmt.Errorf("add known host: %w", err)
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("add known host: %w", err)
	}
	line := knownhosts.Line([]string{o.Addr()}, key) + "\n"
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		r, rerr := os.Open(file)
		if rerr == nil {
			b := make([]byte, 1)
			if _, err := r.ReadAt(b, st.Size()-1); err == nil && b[0] != '\n' {
				line = "\n" + line
			}
			r.Close()
		}
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return fmt.Errorf("add known host to %s: %w", file, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("add known host to %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("add known host to %s: %w", file, err)
	}
	return nil
}
