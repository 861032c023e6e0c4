package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"piuparts-server/internal/fsutil"
	"piuparts-server/master"
	"piuparts-server/protocol"
	"piuparts-server/store"
)

// The master server: one long-lived process per master directory and
// config that serves the connections the forced commands hand over (see
// master.Server). The first connection starts it; it exits after
// master-server-idle without a connection, and as soon as its config,
// its executable or its master directory is no longer the one it serves.

// serverStartWait bounds how long a forced command waits for the server
// it started to listen.
const serverStartWait = 10 * time.Second

// serverMemoryLimit is the server's soft heap limit: it keeps the
// archive of every section in memory.
const serverMemoryLimit = 1 << 30

// serverLock is the file, in the master directory, that one forced
// command at a time holds while it starts the server.
const serverLock = ".master-server.lock"

// serverName returns the abstract Unix socket name of the server for a
// master directory (by path and inode), a config file (by path and
// contents) and this executable (by path, size and time), so that a
// directory made anew, a changed config or an upgraded program gets a
// server of its own.
func serverName(dir, configPath, exe string) (string, error) {
	h := sha256.New()
	// The directory itself, not only its name: one removed and made
	// again is another master directory.
	di, err := os.Stat(dir)
	if err != nil {
		return "", err
	}
	var ino uint64
	if st, ok := di.Sys().(*syscall.Stat_t); ok {
		ino = st.Ino ^ st.Dev<<40
	}
	fmt.Fprintf(h, "piuparts-master server v1\n%s %d\n%s\n%d\n", dir, ino, configPath, os.Geteuid())
	data, err := os.ReadFile(configPath)
	if err != nil {
		return "", err
	}
	h.Write(data)
	st, err := os.Stat(exe)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "\n%s %d %d\n", exe, st.Size(), st.ModTime().UnixNano())
	return "@piuparts-master-" + hex.EncodeToString(h.Sum(nil))[:32], nil
}

// absConfig returns the config path made absolute.
func absConfig(e *env) string {
	p, err := filepath.Abs(e.configPath)
	if err != nil {
		return e.configPath
	}
	return p
}

// dialServer connects to the server of the master directory, starting it
// when none listens.
func dialServer(ctx context.Context, e *env, ms *masterSetup) (net.Conn, error) {
	conf := absConfig(e)
	name, err := serverName(ms.dir, conf, e.exe)
	if err != nil {
		return nil, fmt.Errorf("master server: %w", err)
	}
	if nc, err := dialChecked(name); err == nil || errors.Is(err, errForeignServer) {
		return nc, err
	}
	// One forced command starts it; the others wait for the lock and
	// then find it listening.
	lf, err := os.OpenFile(filepath.Join(ms.dir, serverLock), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("master server: %w", err)
	}
	defer lf.Close()
	if err := fsutil.Flock(lf, syscall.LOCK_EX); err != nil {
		return nil, fmt.Errorf("master server: lock: %w", err)
	}
	defer fsutil.Flock(lf, syscall.LOCK_UN) //nolint:errcheck // closing unlocks too
	if nc, err := dialChecked(name); err == nil || errors.Is(err, errForeignServer) {
		return nc, err
	}
	cmd := exec.Command(e.exe, "-c", conf, "server", "--socket", name)
	// The config's relative paths are relative to this directory.
	if cmd.Dir, err = os.Getwd(); err != nil {
		return nil, fmt.Errorf("master server: %w", err)
	}
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + e.getenv("HOME"), "LC_ALL=C.UTF-8"}
	// Its own session, and no stream of this connection: it outlives it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("master server: start: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(serverStartWait)
	for {
		nc, err := dialChecked(name)
		if err == nil || errors.Is(err, errForeignServer) {
			return nc, err
		}
		select {
		case werr := <-exited:
			// Another server may have won the name.
			if nc, err := dialChecked(name); err == nil || errors.Is(err, errForeignServer) {
				return nc, err
			}
			return nil, fmt.Errorf("master server exited at start (%v): see %s", werr, ms.cfg.Global.ErrorLogFile())
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("master server: not listening after %v: %w", serverStartWait, err)
		}
	}
}

// errForeignServer means the socket of the master server is held by a
// process of another user.
var errForeignServer = errors.New("master server socket held by another user")

// dialChecked connects to the server's socket and checks that the server
// runs as this user.
func dialChecked(name string) (net.Conn, error) {
	nc, err := net.Dial("unix", name)
	if err != nil {
		return nil, err
	}
	if err := master.CheckPeer(nc); err != nil {
		nc.Close()
		return nil, fmt.Errorf("%w (%s): %w", errForeignServer, name, err)
	}
	return nc, nil
}

// sessionError is how the server said a session ended.
type sessionError struct {
	msg, reason string
}

func (e *sessionError) Error() string { return e.msg }

// drainWait bounds how long the forced command waits for the server to
// end a session whose client is gone or timed out.
const drainWait = 30 * time.Second

// proxy hands the session on stdin and stdout to the server on nc, with
// the session's bounds kept here, and returns how it ended. When the
// client goes away or a bound ends the session, the server is told (the
// end of its input) and waited for, so that it ends the session before
// this process exits, as a master serving it alone would.
func proxy(ctx context.Context, ms *masterSetup, nc net.Conn, h master.SessionHeader, stdin io.Reader, stdout io.Writer) error {
	defer nc.Close()
	uc, _ := nc.(*net.UnixConn)
	sess := master.BoundSession(ctx, &ms.cfg.Global, time.Now(), stdin, stdout)
	defer sess.Close()
	if err := master.WriteSessionHeader(nc, h); err != nil {
		return fmt.Errorf("master server: %w", err)
	}
	var once sync.Once
	// endInput ends the server's input: it ends the session after the
	// command it is on. Past drainWait, reading its answers stops.
	endInput := func() {
		once.Do(func() {
			if uc != nil {
				uc.CloseWrite()
			}
			nc.SetReadDeadline(time.Now().Add(drainWait))
		})
	}
	inErr := make(chan error, 1)
	go func() {
		_, err := io.Copy(nc, sess.In)
		endInput()
		inErr <- err
	}()
	stop := context.AfterFunc(sess.Ctx, endInput)
	defer stop()
	end, outErr := copyOut(sess.Out, nc, endInput)
	var err error
	select {
	case ierr := <-inErr:
		err = ierr
	default:
	}
	switch {
	case sess.Ctx.Err() != nil:
		err = context.Cause(sess.Ctx)
		if errors.Is(err, protocol.ErrSessionTimeout) {
			err = fmt.Errorf("%w: %w", protocol.ErrSessionTimeout, sess.Ctx.Err())
		}
	case outErr != nil:
		err = outErr
	case err != nil:
		// The client's input failed (a timeout): that ended it.
	case end == nil:
		err = errors.New("master server ended the session without a word")
	case end.Err != "":
		err = &sessionError{msg: end.Err, reason: end.Reason}
	}
	return err
}

// copyOut copies the server's answers to out up to the NUL byte that
// starts the session's end, and returns the end (nil when the server
// closed without one). When writing to out fails, it calls failed and
// reads on, discarding, up to the end, and returns the write's error.
func copyOut(out io.Writer, nc net.Conn, failed func()) (*master.SessionEnd, error) {
	buf := make([]byte, 64<<10)
	var werr error
	write := func(p []byte) {
		if werr != nil || len(p) == 0 {
			return
		}
		if _, werr = out.Write(p); werr != nil {
			failed()
		}
	}
	for {
		n, rerr := nc.Read(buf)
		if i := bytes.IndexByte(buf[:n], 0); i >= 0 {
			write(buf[:i])
			rest, err := io.ReadAll(io.LimitReader(io.MultiReader(bytes.NewReader(buf[i+1:n]), nc), 1<<20))
			if werr != nil {
				return nil, werr
			}
			if err != nil {
				return nil, fmt.Errorf("master server: %w", err)
			}
			var end master.SessionEnd
			if err := json.Unmarshal(rest, &end); err != nil {
				return nil, fmt.Errorf("master server: session end: %w", err)
			}
			return &end, nil
		}
		write(buf[:n])
		if rerr == io.EOF {
			return nil, werr
		}
		if rerr != nil {
			if werr != nil {
				return nil, werr
			}
			return nil, fmt.Errorf("master server: %w", rerr)
		}
	}
}

// runServer is the server command.
func runServer(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "server", "[--socket NAME]",
		"Serve the slaves' connections of this config's master directory from one process, which\n"+
			"keeps the states in memory and commits logs in groups. The forced command starts it\n"+
			"when master-server is on (the default) and none runs; it exits after\n"+
			"master-server-idle without a connection, when its config or executable changed, or\n"+
			"when its master directory is gone. It listens on an abstract Unix socket that only its\n"+
			"own user may use.")
	socket := f.String("socket", "", "abstract socket `NAME` (default: the one the forced command looks for)")
	pos, err := f.parse(args)
	if err != nil {
		return done(err)
	}
	if len(pos) > 0 {
		return &usageError{msg: fmt.Sprintf("server: unexpected argument %q", pos[0])}
	}
	// Each computation of the states allocates tens of megabytes that
	// die at once: collect less often, within the memory limit.
	debug.SetMemoryLimit(serverMemoryLimit)
	debug.SetGCPercent(200)
	ms, err := setup(ctx, e)
	if err != nil {
		return err
	}
	defer ms.close()
	conf := absConfig(e)
	exe := e.exe
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return err
		}
	}
	name, err := serverName(ms.dir, conf, exe)
	if err != nil {
		return err
	}
	if *socket == "" {
		*socket = name
	}
	ln, err := net.Listen("unix", *socket)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil // another server serves it
	}
	if err != nil {
		return fmt.Errorf("master server: %w", err)
	}
	dirInfo, err := os.Stat(ms.dir)
	if err != nil {
		return err
	}
	db, err := store.OpenMaster(ctx, ms.dir, ms.cfg.Global.DB)
	if err != nil {
		ln.Close()
		ms.log.Error().Err(err).Msg("master server: ABORT")
		return err
	}
	defer db.Close()
	srv := &master.Server{
		Config: master.Config{
			Piuparts: ms.cfg,
			DB:       db,
			Log:      ms.log,
			OpenLog:  ms.openLog,
			Limits:   master.LimitsFor(&ms.cfg.Global),
		},
		Idle: ms.cfg.Global.MasterServerIdle,
		// It serves what the forced commands ask for: the same
		// directory, config and program.
		Alive: func() bool {
			st, err := os.Stat(ms.dir)
			if err != nil || !os.SameFile(st, dirInfo) {
				return false
			}
			now, err := serverName(ms.dir, conf, exe)
			return err == nil && now == name
		},
	}
	return srv.Serve(ctx, ln)
}
