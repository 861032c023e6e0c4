package master_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
	"piuparts-server/internal/testutil"
	"piuparts-server/master"
	"piuparts-server/protocol"
	"piuparts-server/store"
)

// env is a master directory with a file:// mirror built from the fixtures:
// dists/sid holds the bookworm closure, dists/bookworm the bookworm-security
// subset.
type env struct {
	t      testing.TB
	dir    string // master directory
	mirror string
	pc     *config.Config
	db     *store.DB
	mu     sync.Mutex
	logBuf bytes.Buffer
	now    func() time.Time
}

const testConfig = `[global]
sections = ["sid", "up", "dep"]
master-directory = %q
mirror = %q
arch = "amd64"
reserved-expire = 3600

[sid]
distro = "sid"

[up]
distro = "bookworm"
upgrade-test-distros = ["bookworm", "sid"]

[dep]
distro = "bookworm"
depends-sections = ["sid"]
`

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// packagesPath returns the Packages file of a distro in the test mirror.
func (e *env) packagesPath(distro string) string {
	return filepath.Join(e.mirror, "dists", distro, "main", "binary-amd64", "Packages")
}

func newEnv(t testing.TB) *env {
	t.Helper()
	root := t.TempDir()
	e := &env{t: t, dir: filepath.Join(root, "master"), mirror: filepath.Join(root, "mirror")}
	copyFile(t, testutil.Fixture(t, "Packages_bookworm_closure"), e.packagesPath("sid"))
	copyFile(t, testutil.Fixture(t, "Packages_bookworm-security_for_closure"), e.packagesPath("bookworm"))
	conf := filepath.Join(root, "piuparts.toml")
	if err := os.WriteFile(conf, fmt.Appendf(nil, testConfig, e.dir, "file://"+e.mirror), 0o644); err != nil {
		t.Fatal(err)
	}
	pc, err := config.Load(conf)
	if err != nil {
		t.Fatal(err)
	}
	e.pc = pc
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenMaster(t.Context(), e.dir, "piuparts-master.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	return e
}

// logs returns what the masters of this env logged so far.
func (e *env) logs() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logBuf.String()
}

type lockedWriter struct{ e *env }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.e.mu.Lock()
	defer w.e.mu.Unlock()
	return w.e.logBuf.Write(p)
}

func (e *env) config(holder string) master.Config {
	return master.Config{
		Piuparts: e.pc, DB: e.db,
		Log:    zerolog.New(lockedWriter{e}).Level(zerolog.DebugLevel),
		Holder: holder, Now: e.now,
		Limits: protocol.Limits{MaxLine: 4096, MaxLongPart: 1 << 20},
	}
}

// session is a client connected to master.Serve over pipes.
type session struct {
	t    testing.TB
	in   *io.PipeWriter
	w    *protocol.Writer
	r    *protocol.Reader
	done chan error
	raw  *bytes.Buffer // everything the master wrote
}

// teeReader keeps a copy of the master's output.
type teeReader struct {
	r   io.Reader
	buf *bytes.Buffer
	mu  *sync.Mutex
}

func (t teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.mu.Lock()
	t.buf.Write(p[:n])
	t.mu.Unlock()
	return n, err
}

func (e *env) start(holder string) *session {
	return e.startConfig(e.config(holder))
}

func (e *env) startConfig(cfg master.Config) *session {
	e.t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	s := &session{t: e.t, in: inW, done: make(chan error, 1), raw: new(bytes.Buffer)}
	go func() {
		err := master.Serve(context.Background(), cfg, inR, outW)
		inR.CloseWithError(io.ErrClosedPipe)
		outW.Close()
		s.done <- err
	}()
	s.w = protocol.NewWriter(bufio.NewWriter(inW))
	s.r = protocol.NewReader(bufio.NewReader(teeReader{outR, s.raw, new(sync.Mutex)}))
	s.r.Limits.MaxLine = 1 << 20
	if err := s.r.ReadHello(); err != nil {
		e.t.Fatalf("ReadHello: %v", err)
	}
	return s
}

// do sends a command line and returns the answer.
func (s *session) do(line string) protocol.Response {
	s.t.Helper()
	f := strings.Fields(line)
	var args []string
	if len(f) > 1 {
		args = f[1:]
	}
	if err := s.w.WriteCommand(protocol.Command{Keyword: f[0], Args: args}); err != nil {
		s.t.Fatalf("send %q: %v", line, err)
	}
	resp, err := s.r.ReadResponse()
	if err != nil {
		s.t.Fatalf("answer to %q: %v", line, err)
	}
	return resp
}

// submit sends a result with its log and returns the answer.
func (s *session) submit(kind, pkg, version, log string) protocol.Response {
	s.t.Helper()
	if err := s.w.WriteCommand(protocol.Command{Keyword: kind, Args: []string{pkg, version}}); err != nil {
		s.t.Fatal(err)
	}
	lp := s.w.LongPartWriter()
	if _, err := io.WriteString(lp, log); err != nil {
		s.t.Fatal(err)
	}
	if err := lp.Close(); err != nil {
		s.t.Fatal(err)
	}
	resp, err := s.r.ReadResponse()
	if err != nil {
		s.t.Fatalf("answer to %s %s %s: %v", kind, pkg, version, err)
	}
	return resp
}

// end closes the input and returns Serve's result.
func (s *session) end() error {
	s.in.Close()
	return s.wait()
}

func (s *session) wait() error {
	select {
	case err := <-s.done:
		return err
	case <-time.After(30 * time.Second):
		s.t.Fatal("Serve did not return")
		return nil
	}
}

func mustOK(t testing.TB, what string, r protocol.Response) []string {
	t.Helper()
	if !r.OK() {
		t.Fatalf("%s = %q, want ok", what, r.String())
	}
	return r.Args
}
