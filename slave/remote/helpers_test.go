package remote_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"piuparts-server/internal/config"
	"piuparts-server/master"
	"piuparts-server/protocol"
	"piuparts-server/store"
)

// TestMain lets the test binary play a fake master for the "local"
// transport: "remote.test fake-master MODE" (see fakeMaster).
func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == "fake-master" {
		os.Exit(fakeMaster(os.Args[2], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// fakeMaster answers like a master of one section holding one package,
// foo 1.0. Modes: "ok" as described; "silent" never greets; "exit3"
// exits 3 at the end of its input; "stderr" also writes to stderr.
func fakeMaster(mode string, in io.Reader, out, errOut io.Writer) int {
	if mode == "silent" {
		_, _ = io.Copy(io.Discard, in)
		return 0
	}
	if mode == "stderr" {
		fmt.Fprintln(errOut, "fake master on stderr")
	}
	r := protocol.NewReader(bufio.NewReader(in))
	w := protocol.NewWriter(bufio.NewWriter(out))
	if err := w.WriteHello(); err != nil {
		return 1
	}
	reserved := false
	for {
		cmd, err := r.ReadCommand()
		if err == io.EOF {
			if mode == "exit3" {
				return 3
			}
			return 0
		}
		if err != nil {
			fmt.Fprintln(errOut, err)
			return 1
		}
		switch cmd.Keyword {
		case "section", "unreserve":
			err = w.WriteOK()
		case "idle":
			err = w.WriteOK("42")
		case "recycle":
			err = w.WriteError()
		case "reserve":
			if reserved {
				err = w.WriteError()
			} else {
				reserved = true
				err = w.WriteOK("foo", "1.0")
			}
		case "status":
			err = w.WriteOK("waiting-to-be-tested=1", "total=1")
		case "pass", "fail", "untestable":
			b, rerr := r.ReadLongPart()
			if rerr != nil {
				fmt.Fprintln(errOut, rerr)
				return 1
			}
			fmt.Fprintf(errOut, "got %s %d bytes\n", cmd.String(), len(b))
			err = w.WriteOK()
		default:
			err = w.WriteError()
		}
		if err != nil {
			return 1
		}
	}
}

// sessionHandler serves one exec request: cmd is the command the client
// asked for, ch the channel (stdin/stdout; ch.Stderr() for stderr). It
// returns the exit status.
type sessionHandler func(ctx context.Context, cmd string, ch ssh.Channel) uint32

// sshServer is an in-process SSH server on 127.0.0.1 with public-key
// authentication.
type sshServer struct {
	t          testing.TB
	ln         net.Listener
	cfg        *ssh.ServerConfig
	hostKeys   []ssh.Signer
	handler    sessionHandler
	authorized []ssh.PublicKey
	// noGlobalReplies makes the server read global requests (keepalives)
	// without ever answering them, as a dead peer would.
	noGlobalReplies bool

	mu       sync.Mutex
	commands []string // exec commands received
	users    []string // users authenticated
}

func newSigner(t testing.TB) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newECDSASigner(t testing.TB) ssh.Signer {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newSSHServer starts a server with the given host keys (an ed25519 one
// when none) that accepts the given user keys.
func newSSHServer(t testing.TB, h sessionHandler, authorized []ssh.PublicKey, hostKeys ...ssh.Signer) *sshServer {
	t.Helper()
	if len(hostKeys) == 0 {
		hostKeys = []ssh.Signer{newSigner(t)}
	}
	s := &sshServer{t: t, hostKeys: hostKeys, handler: h, authorized: authorized}
	s.cfg = &ssh.ServerConfig{
		PublicKeyCallback: func(md ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			for _, k := range s.authorized {
				if string(k.Marshal()) == string(key.Marshal()) {
					s.mu.Lock()
					s.users = append(s.users, md.User())
					s.mu.Unlock()
					return nil, nil
				}
			}
			return nil, errors.New("key not authorized")
		},
	}
	for _, k := range hostKeys {
		s.cfg.AddHostKey(k)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				stop := context.AfterFunc(ctx, func() { conn.Close() })
				defer stop()
				s.serveConn(ctx, conn, &wg)
			})
		}
	})
	return s
}

func (s *sshServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *sshServer) serveConn(ctx context.Context, conn net.Conn, wg *sync.WaitGroup) {
	defer conn.Close()
	sc, chans, reqs, err := ssh.NewServerConn(conn, s.cfg)
	if err != nil {
		return
	}
	defer sc.Close()
	wg.Go(func() {
		if s.noGlobalReplies {
			for range reqs {
			}
			return
		}
		ssh.DiscardRequests(reqs)
	})
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "sessions only")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		wg.Go(func() { s.serveSession(ctx, ch, chReqs) })
	}
}

func (s *sshServer) serveSession(ctx context.Context, ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			_ = req.Reply(false, nil)
			continue
		}
		var payload struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &payload); err != nil {
			_ = req.Reply(false, nil)
			continue
		}
		_ = req.Reply(true, nil)
		s.mu.Lock()
		s.commands = append(s.commands, payload.Command)
		s.mu.Unlock()
		go func() {
			for r := range reqs {
				_ = r.Reply(false, nil)
			}
		}()
		status := s.handler(ctx, payload.Command, ch)
		_ = ch.CloseWrite()
		_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
		return
	}
}

func (s *sshServer) received() (commands, users []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...), append([]string(nil), s.users...)
}

// knownHosts writes a known_hosts file listing keys for the server's
// [127.0.0.1]:PORT and returns its path.
func (s *sshServer) knownHosts(t testing.TB, keys ...ssh.PublicKey) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("# a comment, then an unrelated host\n")
	b.WriteString(knownhosts.Line([]string{"192.0.2.1"}, newSigner(t).PublicKey()) + "\n")
	for _, k := range keys {
		b.WriteString(knownhosts.Line([]string{s.ln.Addr().String()}, k) + "\n")
	}
	path := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// userKey is a client key: its signer and its private key file.
type userKey struct {
	signer ssh.Signer
	path   string
}

// newUserKey writes an ed25519 private key in OpenSSH format, protected
// by passphrase when it is not empty.
func newUserKey(t testing.TB, dir, passphrase string) userKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "test key")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "test key", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return userKey{signer: s, path: path}
}

// getenv returns a Getenv that knows only vars.
func getenv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// masterEnv is a master directory with one section "sid" whose archive
// is testdata/Packages_nodeps_subset, and a database.
type masterEnv struct {
	dir    string // master directory
	mirror string
	conf   string // the TOML config
	pc     *config.Config
	db     *store.DB
}

const masterTOML = `[global]
sections = ["sid"]
master-directory = %q
mirror = %q
arch = "amd64"
reserved-expire = 3600

[sid]
distro = "sid"
`

// newMasterFiles writes the mirror and the config, without opening
// anything: the real master binary uses them.
func newMasterFiles(t testing.TB) *masterEnv {
	t.Helper()
	root := t.TempDir()
	e := &masterEnv{dir: filepath.Join(root, "master"), mirror: filepath.Join(root, "mirror"), conf: filepath.Join(root, "piuparts.toml")}
	pkgs, err := os.ReadFile(filepath.Join("testdata", "Packages_nodeps_subset"))
	if err != nil {
		t.Fatal(err)
	}
	dists := filepath.Join(e.mirror, "dists", "sid", "main", "binary-amd64")
	if err := os.MkdirAll(dists, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dists, "Packages"), pkgs, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(masterTOML, e.dir, "file://"+e.mirror)
	if err := os.WriteFile(e.conf, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// newMasterEnv also loads the config and opens the database, for
// master.Serve in-process.
func newMasterEnv(t testing.TB) *masterEnv {
	t.Helper()
	e := newMasterFiles(t)
	pc, err := config.Load(e.conf)
	if err != nil {
		t.Fatal(err)
	}
	e.pc = pc
	db, err := store.OpenMaster(t.Context(), e.dir, "piuparts-master.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	return e
}

// serve is a sessionHandler running our master.
func (e *masterEnv) serve(ctx context.Context, _ string, ch ssh.Channel) uint32 {
	cfg := master.Config{Piuparts: e.pc, DB: e.db, Log: zerolog.Nop(), Holder: "test-slave"}
	if err := master.Serve(ctx, cfg, ch, ch); err != nil {
		fmt.Fprintf(ch.Stderr(), "master: %v\n", err)
		return 1
	}
	return 0
}

// logPath is where the master stores a log.
func (e *masterEnv) logPath(kind, name, version string) string {
	return filepath.Join(e.dir, "sid", kind, name+"_"+version+".log")
}

// lockedBuffer is a bytes.Buffer safe for the writer goroutines of
// exec and ssh.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
