package remote

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshTransport is a session running the master command over SSH.
type sshTransport struct {
	client *ssh.Client
	sess   *ssh.Session
	stdin  io.WriteCloser
	stdout io.Reader

	done    chan struct{} // closed when the session ended
	waitErr error         // the session's end, valid after done
	stopped chan struct{} // closed to stop the keepalives
	once    sync.Once     // closes stopped
	killed  sync.Once
}

func (t *sshTransport) Read(p []byte) (int, error)  { return t.stdout.Read(p) }
func (t *sshTransport) Write(p []byte) (int, error) { return t.stdin.Write(p) }

func (t *sshTransport) kill() {
	t.killed.Do(func() {
		t.stopKeepAlive()
		_ = t.client.Close()
	})
}

func (t *sshTransport) stopKeepAlive() { t.once.Do(func() { close(t.stopped) }) }

func (t *sshTransport) close(wait time.Duration) error {
	t.stopKeepAlive()
	// Why: EOF on its input ends the master's session cleanly.
	_ = t.stdin.Close()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-t.done:
	case <-timer.C:
		t.kill()
		<-t.done
		return fmt.Errorf("master did not end the session within %v", wait)
	}
	t.kill()
	return t.waitErr
}

// keepAlive sends a keepalive every interval and calls dead when one
// goes unanswered for KeepAliveMax intervals or fails.
func (t *sshTransport) keepAlive(every time.Duration, dead func(error)) {
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-t.stopped:
				return
			case <-tick.C:
			}
			res := make(chan error, 1)
			go func() {
				_, _, err := t.client.SendRequest("keepalive@openssh.com", true, nil)
				res <- err
			}()
			limit := time.NewTimer(every * KeepAliveMax)
			select {
			case err := <-res:
				limit.Stop()
				if err != nil {
					dead(fmt.Errorf("%w: %w", ErrKeepAlive, err))
					return
				}
			case <-limit.C:
				dead(fmt.Errorf("%w for %v", ErrKeepAlive, every*KeepAliveMax))
				return
			case <-t.stopped:
				limit.Stop()
				return
			}
		}
	}()
}

// dialSSH connects to the master's SSH server and starts the master
// command. ctx bounds the whole; the caller turns its expiry into the
// error to return.
func dialSSH(ctx context.Context, o *Options) (*sshTransport, error) {
	addr := o.address()
	hk, err := newHostKeys(o.knownHosts())
	if err != nil {
		return nil, err
	}
	auth := newAuth(ctx, o)
	defer auth.close()

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	// Why: ssh.NewClientConn takes no context; closing the connection
	// interrupts the handshake.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	user := o.user()
	cfg := &ssh.ClientConfig{
		User:              user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeysCallback(auth.signers)},
		HostKeyCallback:   hk.check,
		HostKeyAlgorithms: hk.algorithms(addr, conn.RemoteAddr()),
	}
	sc, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		conn.Close()
		accepted, refusal := hk.result()
		switch {
		case refusal != nil:
			return nil, refusal
		case accepted && strings.Contains(err.Error(), "unable to authenticate"):
			return nil, fmt.Errorf("%w as %q: %w%s", ErrAuth, user, err, auth.notes())
		}
		return nil, fmt.Errorf("ssh handshake: %w", err)
	}
	client := ssh.NewClient(sc, chans, reqs)
	t, err := startSession(client, o)
	if err != nil {
		client.Close()
		return nil, err
	}
	return t, nil
}

// startSession runs the master command in a new session of client.
func startSession(client *ssh.Client, o *Options) (*sshTransport, error) {
	sess, err := client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("open session: %w", err)
	}
	stdin, err := sess.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("open session: %w", err)
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("open session: %w", err)
	}
	sess.Stderr = o.Stderr
	cmd := o.Command
	if cmd == "" {
		cmd = ForcedCommand
	}
	if err := sess.Start(cmd); err != nil {
		return nil, fmt.Errorf("start %q: %w", cut(cmd), err)
	}
	t := &sshTransport{
		client: client, sess: sess, stdin: stdin, stdout: stdout,
		done: make(chan struct{}), stopped: make(chan struct{}),
	}
	go func() {
		t.waitErr = sess.Wait()
		close(t.done)
	}()
	return t, nil
}

// hostKeys checks host keys against known_hosts files.
type hostKeys struct {
	cb    ssh.HostKeyCallback
	files []string

	mu  sync.Mutex    // check runs in the handshake's goroutine
	ok  bool          // a host key was accepted
	err *HostKeyError // the refusal, if any
}

// result returns whether a host key was accepted, and the refusal.
func (h *hostKeys) result() (bool, *HostKeyError) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ok, h.err
}

// newHostKeys reads the known_hosts files that exist; the others count as
// empty, but are named in errors.
func newHostKeys(files []string) (*hostKeys, error) {
	var existing []string
	for _, f := range files {
		_, err := os.Stat(f)
		switch {
		case err == nil:
			existing = append(existing, f)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("read known_hosts: %w", err)
		}
	}
	cb, err := knownhosts.New(existing...)
	if err != nil {
		return nil, fmt.Errorf("read known_hosts: %w", err)
	}
	return &hostKeys{cb: cb, files: files}, nil
}

// check is the ssh.HostKeyCallback: it refuses unknown hosts and changed
// or revoked keys with a *HostKeyError.
func (h *hostKeys) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	err := h.cb(hostname, remote, key)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		h.ok = true
		return nil
	}
	hke := &HostKeyError{
		Host:        knownhosts.Normalize(hostname),
		KeyType:     key.Type(),
		Fingerprint: ssh.FingerprintSHA256(key),
		Files:       h.files,
	}
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &ke) && len(ke.Want) == 0:
		hke.Err = ErrUnknownHost
	case errors.As(err, &ke):
		hke.Err = ErrChangedHostKey
		for _, w := range ke.Want {
			hke.Known = append(hke.Known, fmt.Sprintf("%s:%d %s %s", w.Filename, w.Line, w.Key.Type(), ssh.FingerprintSHA256(w.Key)))
		}
	case errors.As(err, &re):
		hke.Err = ErrRevokedHostKey
	default:
		return fmt.Errorf("check host key of %s: %w", hostname, err)
	}
	h.err = hke
	return hke
}

// algorithms returns the host key algorithms to offer: first those of the
// keys known for the host, then every other supported one. Without it,
// the server may pick an algorithm whose key is not in known_hosts (say
// RSA when ed25519 is known) and the check would fail; keeping the others
// lets a server that lost the known key be reported as changed rather
// than as "no common algorithm". nil means the default list.
func (h *hostKeys) algorithms(hostname string, remote net.Addr) []string {
	// Why: knownhosts has no lookup; checking a key that matches nothing
	// returns the known keys for the host.
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil
	}
	probe, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if !errors.As(h.cb(hostname, remote, probe), &ke) || len(ke.Want) == 0 {
		return nil
	}
	var algos []string
	add := func(a string) {
		if !slices.Contains(algos, a) {
			algos = append(algos, a)
		}
	}
	for _, w := range ke.Want {
		if t := w.Key.Type(); t == ssh.KeyAlgoRSA {
			add(ssh.KeyAlgoRSASHA512)
			add(ssh.KeyAlgoRSASHA256)
		} else {
			add(t)
		}
	}
	for _, a := range ssh.SupportedAlgorithms().HostKeys {
		add(a)
	}
	return algos
}

// auth offers the identity files' keys, then ssh-agent's.
type auth struct {
	files []ssh.Signer
	agent agent.ExtendedAgent
	conn  net.Conn // to the agent
	skip  []string // why keys were not offered
}

// newAuth loads the identities and connects to the agent. Unreadable or
// passphrase-protected keys and an unreachable agent are noted, not
// errors: they matter only if authentication fails.
func newAuth(ctx context.Context, o *Options) *auth {
	a := &auth{}
	for _, f := range o.identities() {
		b, err := os.ReadFile(f)
		if err != nil {
			a.skip = append(a.skip, err.Error())
			continue
		}
		s, err := ssh.ParsePrivateKey(b)
		var pm *ssh.PassphraseMissingError
		switch {
		case errors.As(err, &pm):
			a.skip = append(a.skip, f+": protected by a passphrase (add it to ssh-agent)")
			continue
		case err != nil:
			a.skip = append(a.skip, fmt.Sprintf("%s: %v", f, err))
			continue
		}
		a.files = append(a.files, s)
	}
	if sock := o.getenv("SSH_AUTH_SOCK"); sock != "" {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "unix", sock)
		if err != nil {
			a.skip = append(a.skip, fmt.Sprintf("ssh-agent: %v", err))
		} else {
			a.conn, a.agent = conn, agent.NewClient(conn)
		}
	}
	return a
}

func (a *auth) close() {
	if a.conn != nil {
		a.conn.Close()
	}
}

// signers returns the keys to offer, without duplicates.
func (a *auth) signers() ([]ssh.Signer, error) {
	all := slices.Clone(a.files)
	if a.agent != nil {
		as, err := a.agent.Signers()
		if err != nil {
			a.skip = append(a.skip, fmt.Sprintf("ssh-agent: %v", err))
		}
		for _, s := range as {
			blob := s.PublicKey().Marshal()
			if !slices.ContainsFunc(all, func(o ssh.Signer) bool { return bytes.Equal(o.PublicKey().Marshal(), blob) }) {
				all = append(all, s)
			}
		}
	}
	if len(all) == 0 {
		a.skip = append(a.skip, "no key to offer: no identity file and no ssh-agent key")
	}
	return all, nil
}

// notes says why keys were not offered, for the error.
func (a *auth) notes() string {
	if len(a.skip) == 0 {
		return ""
	}
	return " (skipped: " + strings.Join(a.skip, "; ") + ")"
}
