package remote_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"piuparts-server/protocol"
	"piuparts-server/slave/remote"
)

// sshOptions returns Options for the server with key as identity and a
// known_hosts file holding the server's first host key.
func sshOptions(t *testing.T, s *sshServer, key userKey) remote.Options {
	return remote.Options{
		Host:           "127.0.0.1",
		Port:           s.port(),
		User:           "piupartsm",
		Identities:     []string{key.path},
		KnownHosts:     []string{s.knownHosts(t, s.hostKeys[0].PublicKey())},
		ConnectTimeout: 10 * time.Second,
		ReadTimeout:    30 * time.Second,
		Getenv:         getenv(nil),
	}
}

// awkwardLogs are logs whose lines could be taken for protocol framing
// or be mangled by a careless transport.
var awkwardLogs = []string{
	"Start: piuparts\n.\n..\n. \n\tleading tab\ntrailing spaces   \n\n\nEnd\n",
	" leading space\nUTF-8: größe ✓ 日本\n\r\ncarriage\rreturn\n",
	"\n",
	"",
	".\n",
}

func TestDial_SSHFullCycle(t *testing.T) {
	e := newMasterEnv(t)
	key := newUserKey(t, "", "")
	s := newSSHServer(t, e.serve, []ssh.PublicKey{key.signer.PublicKey()})
	o := sshOptions(t, s, key)
	var stderr lockedBuffer
	o.Stderr = &stderr
	ctx := t.Context()

	c, err := remote.Dial(ctx, o)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	if got, want := c.Master(), fmt.Sprintf("piupartsm@127.0.0.1:%d", s.port()); got != want {
		t.Errorf("Master() = %q, want %q", got, want)
	}
	if err := c.Section(ctx, "sid"); err != nil {
		t.Fatalf("Section: %v", err)
	}
	if d, err := c.Idle(ctx); err != nil || d != 0 {
		t.Errorf("Idle on a fresh section = %v, %v; want 0, nil", d, err)
	}
	st, err := c.Status(ctx)
	if err != nil || !strings.Contains(st, "total=5") {
		t.Errorf("Status = %q, %v; want the 5 packages of the fixture", st, err)
	}

	type pkg struct{ name, version string }
	var reserved []pkg
	for {
		name, version, ok, err := c.Reserve(ctx)
		if err != nil {
			t.Fatalf("Reserve: %v", err)
		}
		if !ok {
			break
		}
		if len(reserved) > 10 {
			t.Fatalf("Reserve keeps answering, last %s %s", name, version)
		}
		reserved = append(reserved, pkg{name, version})
	}
	if len(reserved) != 5 {
		t.Fatalf("reserved %v, want the fixture's 5 packages", reserved)
	}
	if _, err := c.Idle(ctx); err != nil {
		t.Errorf("Idle after reserving everything: %v", err)
	}

	// All but the last get a result, with the awkward logs; the last is
	// given back.
	for i, p := range reserved[:len(reserved)-1] {
		kind := []string{"pass", "fail"}[i%2]
		log := awkwardLogs[i%len(awkwardLogs)]
		if err := c.Submit(ctx, kind, p.name, p.version, strings.NewReader(log)); err != nil {
			t.Fatalf("Submit %s %s %s: %v", kind, p.name, p.version, err)
		}
		got, err := os.ReadFile(e.logPath(kind, p.name, p.version))
		if err != nil {
			t.Fatalf("stored log: %v", err)
		}
		if string(got) != log {
			t.Errorf("stored %s log of %s = %q, want %q", kind, p.name, got, log)
		}
	}
	last := reserved[len(reserved)-1]
	marker := e.logPath("reserved", last.name, last.version)
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("no reserved marker before unreserve: %v", err)
	}
	if err := c.Unreserve(ctx, last.name, last.version); err != nil {
		t.Fatalf("Unreserve: %v", err)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reserved marker after unreserve: %v, want it gone", err)
	}
	st, err = c.Status(ctx)
	if err != nil || !strings.HasPrefix(st, "successfully-tested=") || !strings.HasSuffix(st, " total=5") {
		t.Errorf("Status at the end = %q, %v; want the counts of 5 packages", st, err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v (master stderr %q)", err, stderr.String())
	}
	cmds, users := s.received()
	if len(cmds) != 1 || cmds[0] != remote.ForcedCommand {
		t.Errorf("server ran %q, want %q", cmds, remote.ForcedCommand)
	}
	if len(users) != 1 || users[0] != "piupartsm" {
		t.Errorf("server authenticated %q, want piupartsm", users)
	}
	if err := c.Section(ctx, "sid"); !errors.Is(err, remote.ErrClosed) {
		t.Errorf("Section after Close = %v, want ErrClosed", err)
	}
}

// patternLog yields n bytes of numbered lines without holding them.
type patternLog struct{ n, off int64 }

func (p *patternLog) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	i := 0
	for i < len(b) && p.off < p.n {
		if p.off%100 == 99 {
			b[i] = '\n'
		} else {
			b[i] = "0123456789 ."[p.off%12]
		}
		i++
		p.off++
	}
	return i, nil
}

func TestClient_SubmitLargeLog(t *testing.T) {
	e := newMasterEnv(t)
	key := newUserKey(t, "", "")
	s := newSSHServer(t, e.serve, []ssh.PublicKey{key.signer.PublicKey()})
	ctx := t.Context()
	c, err := remote.Dial(ctx, sshOptions(t, s, key))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Section(ctx, "sid"); err != nil {
		t.Fatal(err)
	}
	name, version, ok, err := c.Reserve(ctx)
	if err != nil || !ok {
		t.Fatalf("Reserve = %v, %v", ok, err)
	}
	const size = 3_000_000 // whole lines of 100 bytes: stored unchanged
	if err := c.Submit(ctx, "untestable", name, version, &patternLog{n: size}); err != nil {
		t.Fatalf("Submit: %v", err)
	}
	want := sha256.New()
	_, _ = io.Copy(want, &patternLog{n: size})
	got, err := os.ReadFile(e.logPath("untestable", name, version))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != size || fmt.Sprintf("%x", sha256.Sum256(got)) != fmt.Sprintf("%x", want.Sum(nil)) {
		t.Errorf("stored log has %d bytes, differs from the %d sent", len(got), size)
	}
}

// failingReader fails after some bytes, like a log on a dying disk.
type failingReader struct{ n int }

var errDisk = errors.New("disk on fire")

func (f *failingReader) Read(b []byte) (int, error) {
	if f.n <= 0 {
		return 0, errDisk
	}
	n := min(len(b), f.n)
	for i := range n {
		b[i] = 'x'
	}
	f.n -= n
	return n, nil
}

func TestClient_SubmitUnreadableLog(t *testing.T) {
	e := newMasterEnv(t)
	key := newUserKey(t, "", "")
	s := newSSHServer(t, e.serve, []ssh.PublicKey{key.signer.PublicKey()})
	ctx := t.Context()
	c, err := remote.Dial(ctx, sshOptions(t, s, key))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Section(ctx, "sid"); err != nil {
		t.Fatal(err)
	}
	name, version, ok, err := c.Reserve(ctx)
	if err != nil || !ok {
		t.Fatalf("Reserve = %v, %v", ok, err)
	}
	err = c.Submit(ctx, "pass", name, version, &failingReader{n: 100 << 10})
	if !errors.Is(err, errDisk) {
		t.Fatalf("Submit with a failing log = %v, want the log's error", err)
	}
	if _, err := os.Stat(e.logPath("pass", name, version)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("master stored a truncated log: %v", err)
	}
	if err := c.Unreserve(ctx, name, version); !errors.Is(err, remote.ErrClosed) {
		t.Errorf("Unreserve after the broken submit = %v, want ErrClosed", err)
	}
}

func TestClient_InvalidArguments(t *testing.T) {
	e := newMasterEnv(t)
	key := newUserKey(t, "", "")
	s := newSSHServer(t, e.serve, []ssh.PublicKey{key.signer.PublicKey()})
	ctx := t.Context()
	c, err := remote.Dial(ctx, sshOptions(t, s, key))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		name    string
		call    func() error
		wantErr error
	}{
		{"SectionDotDot", func() error { return c.Section(ctx, "../etc") }, protocol.ErrInvalidToken},
		{"SectionSpace", func() error { return c.Section(ctx, "s id") }, protocol.ErrInvalidToken},
		{"UnreserveSlash", func() error { return c.Unreserve(ctx, "a/b", "1") }, protocol.ErrInvalidPackage},
		{"SubmitBadVersion", func() error { return c.Submit(ctx, "pass", "foo", "1 2", strings.NewReader("")) }, protocol.ErrInvalidVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
	if err := c.Submit(ctx, "maybe", "foo", "1", strings.NewReader("")); err == nil {
		t.Errorf("Submit with result maybe: no error")
	}
	// Nothing was sent: the connection still works.
	if err := c.Section(ctx, "sid"); err != nil {
		t.Errorf("Section after refused arguments: %v", err)
	}
	// The master has no section "nosuch": a well-formed refusal.
	var ae *remote.AnswerError
	if err := c.Section(ctx, "nosuch"); !errors.As(err, &ae) || ae.Answer != "error" || ae.Command != "section nosuch" {
		t.Errorf("Section(nosuch) = %v, want an *AnswerError for error", err)
	}
}

func TestDial_HostKey(t *testing.T) {
	key := newUserKey(t, "", "")
	handler := func(ctx context.Context, _ string, ch ssh.Channel) uint32 {
		return uint32(fakeMaster("ok", ch, ch, ch.Stderr()))
	}
	s := newSSHServer(t, handler, []ssh.PublicKey{key.signer.PublicKey()})
	hostFP := ssh.FingerprintSHA256(s.hostKeys[0].PublicKey())
	missing := filepath.Join(t.TempDir(), "missing_known_hosts")
	empty := filepath.Join(t.TempDir(), "empty_known_hosts")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	other := s.knownHosts(t, newSigner(t).PublicKey())
	tests := []struct {
		name    string
		files   []string
		wantErr error
	}{
		{"Unknown", []string{empty, missing}, remote.ErrUnknownHost},
		{"UnknownNoFile", []string{missing}, remote.ErrUnknownHost},
		{"Changed", []string{other}, remote.ErrChangedHostKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := sshOptions(t, s, key)
			o.KnownHosts = tt.files
			c, err := remote.Dial(t.Context(), o)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			var hke *remote.HostKeyError
			if !errors.Is(err, tt.wantErr) || !errors.As(err, &hke) {
				t.Fatalf("Dial = %v, want a *HostKeyError wrapping %v", err, tt.wantErr)
			}
			msg := err.Error()
			host := fmt.Sprintf("[127.0.0.1]:%d", s.port())
			for _, want := range append([]string{host, hostFP}, tt.files...) {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not name %q", msg, want)
				}
			}
			if hke.Host != host || hke.Fingerprint != hostFP || hke.KeyType != ssh.KeyAlgoED25519 {
				t.Errorf("HostKeyError = %+v, want host %s, fingerprint %s", hke, host, hostFP)
			}
			if tt.wantErr == remote.ErrChangedHostKey && (len(hke.Known) != 1 || !strings.HasPrefix(hke.Known[0], other+":3 ")) {
				t.Errorf("Known = %q, want line 3 of %s", hke.Known, other)
			}
		})
	}
}

// TestDial_HostKeyAlgorithms: the server has an ECDSA and an ed25519 key,
// and Go's client prefers ECDSA; known_hosts has only the ed25519 one.
func TestDial_HostKeyAlgorithms(t *testing.T) {
	key := newUserKey(t, "", "")
	handler := func(ctx context.Context, _ string, ch ssh.Channel) uint32 {
		return uint32(fakeMaster("ok", ch, ch, ch.Stderr()))
	}
	ecKey, edKey := newECDSASigner(t), newSigner(t)
	s := newSSHServer(t, handler, []ssh.PublicKey{key.signer.PublicKey()}, ecKey, edKey)
	for _, known := range []ssh.Signer{edKey, ecKey} {
		t.Run(known.PublicKey().Type(), func(t *testing.T) {
			o := sshOptions(t, s, key)
			o.KnownHosts = []string{s.knownHosts(t, known.PublicKey())}
			c, err := remote.Dial(t.Context(), o)
			if err != nil {
				t.Fatalf("Dial with only the %s key known: %v", known.PublicKey().Type(), err)
			}
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

func TestDial_Auth(t *testing.T) {
	dir := t.TempDir()
	good := newUserKey(t, filepath.Join(mkdir(t, dir, "good")), "")
	wrong := newUserKey(t, filepath.Join(mkdir(t, dir, "wrong")), "")
	locked := newUserKey(t, filepath.Join(mkdir(t, dir, "locked")), "secret")
	handler := func(ctx context.Context, _ string, ch ssh.Channel) uint32 {
		return uint32(fakeMaster("ok", ch, ch, ch.Stderr()))
	}
	s := newSSHServer(t, handler, []ssh.PublicKey{good.signer.PublicKey(), locked.signer.PublicKey()})
	tests := []struct {
		name       string
		identities []string
		wantIn     string // in the error
	}{
		{"WrongKey", []string{wrong.path}, "unable to authenticate"},
		{"Passphrase", []string{locked.path}, "passphrase"},
		{"MissingFile", []string{filepath.Join(dir, "nope")}, "nope"},
		{"NoKeys", []string{}, "no key to offer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := sshOptions(t, s, good)
			o.Identities = tt.identities
			c, err := remote.Dial(t.Context(), o)
			if err == nil {
				c.Close()
				t.Fatal("Dial succeeded")
			}
			if !errors.Is(err, remote.ErrAuth) || !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("Dial = %v, want ErrAuth mentioning %q", err, tt.wantIn)
			}
		})
	}
	t.Run("SecondKeyWorks", func(t *testing.T) {
		o := sshOptions(t, s, good)
		o.Identities = []string{locked.path, wrong.path, good.path}
		c, err := remote.Dial(t.Context(), o)
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		c.Close()
	})
}

func mkdir(t *testing.T, parts ...string) string {
	t.Helper()
	p := filepath.Join(parts...)
	if err := os.MkdirAll(p, 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDial_Defaults: with Identities, KnownHosts and User unset, the keys
// and known_hosts come from $HOME/.ssh and the user from $USER.
func TestDial_Defaults(t *testing.T) {
	home := t.TempDir()
	sshDir := mkdir(t, home, ".ssh")
	key := newUserKey(t, sshDir, "")
	handler := func(ctx context.Context, _ string, ch ssh.Channel) uint32 {
		return uint32(fakeMaster("ok", ch, ch, ch.Stderr()))
	}
	s := newSSHServer(t, handler, []ssh.PublicKey{key.signer.PublicKey()})
	kh := s.knownHosts(t, s.hostKeys[0].PublicKey())
	b, err := os.ReadFile(kh)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sshDir, "known_hosts"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	o := remote.Options{
		Host: "127.0.0.1", Port: s.port(), Command: "piuparts-master --slave-id=x",
		Getenv: getenv(map[string]string{"HOME": home, "USER": "slaveuser"}),
	}
	c, err := remote.Dial(t.Context(), o)
	if err != nil {
		t.Fatalf("Dial with defaults: %v", err)
	}
	if d, err := c.Idle(t.Context()); err != nil || d != 42*time.Second {
		t.Errorf("Idle = %v, %v; want 42s", d, err)
	}
	c.Close()
	cmds, users := s.received()
	if len(cmds) != 1 || cmds[0] != o.Command || len(users) != 1 || users[0] != "slaveuser" {
		t.Errorf("server saw commands %q, users %q; want %q as slaveuser", cmds, users, o.Command)
	}
}

// startAgent serves an ssh-agent holding key on a socket and returns the
// socket's path.
func startAgent(t *testing.T, key any) string {
	t.Helper()
	kr := agent.NewKeyring()
	if err := kr.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = agent.ServeAgent(kr, conn)
			}()
		}
	}()
	return sock
}

func TestDial_Agent(t *testing.T) {
	// The agent holds the unlocked copy of a passphrase-protected key, as
	// after ssh-add.
	locked := newUserKey(t, "", "secret")
	raw, err := os.ReadFile(locked.path)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := ssh.ParseRawPrivateKeyWithPassphrase(raw, []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	sock := startAgent(t, priv)
	handler := func(ctx context.Context, _ string, ch ssh.Channel) uint32 {
		return uint32(fakeMaster("ok", ch, ch, ch.Stderr()))
	}
	s := newSSHServer(t, handler, []ssh.PublicKey{locked.signer.PublicKey()})
	o := sshOptions(t, s, locked)
	o.Getenv = getenv(map[string]string{"SSH_AUTH_SOCK": sock})
	c, err := remote.Dial(t.Context(), o)
	if err != nil {
		t.Fatalf("Dial with the key in the agent: %v", err)
	}
	if err := c.Section(t.Context(), "sid"); err != nil {
		t.Errorf("Section: %v", err)
	}
	c.Close()

	// Without the agent, the locked key alone does not do.
	o.Getenv = getenv(nil)
	if c, err := remote.Dial(t.Context(), o); !errors.Is(err, remote.ErrAuth) {
		if c != nil {
			c.Close()
		}
		t.Errorf("Dial without agent = %v, want ErrAuth", err)
	}
}

// silentAfter is a handler that greets, answers n commands with ok, then
// reads on without answering. got receives each command line read after
// that.
func silentAfter(n int, got chan<- string) sessionHandler {
	return func(ctx context.Context, _ string, ch ssh.Channel) uint32 {
		if _, err := io.WriteString(ch, "hello\n"); err != nil {
			return 1
		}
		buf := make([]byte, 4096)
		for {
			k, err := ch.Read(buf)
			if err != nil {
				return 0
			}
			if n > 0 {
				n--
				_, _ = io.WriteString(ch, "ok\n")
				continue
			}
			select {
			case got <- string(buf[:k]):
			default:
			}
		}
	}
}

func TestDial_ConnectTimeout(t *testing.T) {
	key := newUserKey(t, "", "")
	t.Run("NoHello", func(t *testing.T) {
		s := newSSHServer(t, func(ctx context.Context, _ string, ch ssh.Channel) uint32 {
			_, _ = io.Copy(io.Discard, ch)
			return 0
		}, []ssh.PublicKey{key.signer.PublicKey()})
		o := sshOptions(t, s, key)
		o.ConnectTimeout = 300 * time.Millisecond
		c, err := remote.Dial(t.Context(), o)
		if !errors.Is(err, remote.ErrConnectTimeout) {
			if c != nil {
				c.Close()
			}
			t.Fatalf("Dial to a master that never greets = %v, want ErrConnectTimeout", err)
		}
	})
	t.Run("NoHandshake", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		accepted := make(chan net.Conn, 1)
		go func() {
			conn, err := ln.Accept()
			if err == nil {
				accepted <- conn
			}
			close(accepted)
		}()
		t.Cleanup(func() {
			ln.Close()
			for c := range accepted {
				c.Close()
			}
		})
		o := remote.Options{
			Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port,
			Identities: []string{key.path}, KnownHosts: []string{},
			ConnectTimeout: 300 * time.Millisecond, Getenv: getenv(nil),
		}
		c, err := remote.Dial(t.Context(), o)
		if !errors.Is(err, remote.ErrConnectTimeout) {
			if c != nil {
				c.Close()
			}
			t.Fatalf("Dial to a server that never speaks SSH = %v, want ErrConnectTimeout", err)
		}
	})
}

func TestClient_ReadTimeout(t *testing.T) {
	key := newUserKey(t, "", "")
	got := make(chan string, 1)
	s := newSSHServer(t, silentAfter(1, got), []ssh.PublicKey{key.signer.PublicKey()})
	o := sshOptions(t, s, key)
	o.ReadTimeout = 300 * time.Millisecond
	c, err := remote.Dial(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Section(t.Context(), "sid"); err != nil {
		t.Fatalf("Section: %v", err)
	}
	if _, err := c.Idle(t.Context()); !errors.Is(err, remote.ErrReadTimeout) {
		t.Fatalf("Idle to a silent master = %v, want ErrReadTimeout", err)
	}
	if _, err := c.Status(t.Context()); !errors.Is(err, remote.ErrClosed) {
		t.Errorf("Status after the timeout = %v, want ErrClosed", err)
	}
}

func TestClient_KeepAlive(t *testing.T) {
	key := newUserKey(t, "", "")
	s := newSSHServer(t, silentAfter(0, make(chan string, 1)), []ssh.PublicKey{key.signer.PublicKey()})
	s.noGlobalReplies = true
	o := sshOptions(t, s, key)
	o.ReadTimeout = 0
	o.KeepAlive = 50 * time.Millisecond
	c, err := remote.Dial(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Section(t.Context(), "sid"); !errors.Is(err, remote.ErrKeepAlive) {
		t.Fatalf("Section to a dead master = %v, want ErrKeepAlive", err)
	}
}

func TestClient_CancelUnblocks(t *testing.T) {
	key := newUserKey(t, "", "")
	got := make(chan string, 1)
	s := newSSHServer(t, silentAfter(0, got), []ssh.PublicKey{key.signer.PublicKey()})
	o := sshOptions(t, s, key)
	o.ReadTimeout = 0
	c, err := remote.Dial(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-got // the master has the command and will never answer
		cancel()
	}()
	if err := c.Section(ctx, "sid"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Section cancelled = %v, want context.Canceled", err)
	}
	if err := c.Section(t.Context(), "sid"); !errors.Is(err, remote.ErrClosed) {
		t.Errorf("Section after cancel = %v, want ErrClosed", err)
	}
}

func TestClient_Stderr(t *testing.T) {
	key := newUserKey(t, "", "")
	s := newSSHServer(t, func(ctx context.Context, _ string, ch ssh.Channel) uint32 {
		return uint32(fakeMaster("stderr", ch, ch, ch.Stderr()))
	}, []ssh.PublicKey{key.signer.PublicKey()})
	o := sshOptions(t, s, key)
	var stderr lockedBuffer
	o.Stderr = &stderr
	c, err := remote.Dial(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if !strings.Contains(stderr.String(), "fake master on stderr") {
		t.Errorf("Stderr got %q, want the master's stderr", stderr.String())
	}
}
