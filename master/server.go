package master

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// Server serves the connections of one master directory from one
// long-lived process: the forced command hands its session over (see
// SessionHeader), so that the state cache stays in memory between
// connections (Cache.Live) and the logs of all of them commit in groups
// (Committer). Only processes of the server's own user may connect.
type Server struct {
	// Config is what every connection shares: Piuparts, DB, Log,
	// OpenLog, Limits, Now. Its Cache and Committer are the server's;
	// Holder and Identified come with each connection.
	Config Config
	// Idle ends Serve after this long without a connection; zero means
	// never.
	Idle time.Duration
	// Alive, when set, is asked every AliveInterval whether the server
	// should go on (its master directory and config are still the
	// ones it serves); Serve ends when it says no.
	Alive func() bool
	// AliveInterval is how often Alive is asked; zero means a second.
	AliveInterval time.Duration
}

// SessionHeader is the line the forced command writes first on a
// connection to the server, as JSON: who the slave is. What follows is the
// protocol as the slave sends it; the server answers with the protocol
// and, after the session, a NUL byte and a SessionEnd as JSON.
type SessionHeader struct {
	// Holder names the slave (Config.Holder).
	Holder string `json:"holder"`
	// Identified says Holder is the slave's identity (Config.Identified).
	Identified bool `json:"identified"`
	// OriginalCommand is SSH_ORIGINAL_COMMAND, logged only.
	OriginalCommand string `json:"original_command,omitempty"`
}

// SessionEnd is how a session on the server ended: Err is the text of the
// error Serve returned ("" when the input ended cleanly) and Reason its
// kind, for the forced command's exit status and log.
type SessionEnd struct {
	Err    string `json:"error,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// maxHeader bounds the header line.
const maxHeader = 4096

// Serve accepts connections on ln until ctx ends, Idle passes without a
// connection or Alive says no, then waits for the open sessions to end
// and returns. It returns the listener's error when accepting fails.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.Config.Piuparts == nil || s.Config.DB == nil || s.Config.DB.Tree() == nil {
		return errors.New("serve: config needs Piuparts and a DB opened with its master directory")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cfg := s.Config
	if cfg.Cache == nil {
		cfg.Cache = &Cache{Piuparts: cfg.Piuparts, DB: cfg.DB, Log: cfg.Log, Now: cfg.Now, Live: true}
	}
	if cfg.Committer == nil {
		cfg.Committer = NewCommitter(cfg.DB, cfg.Cache)
	}
	var wg sync.WaitGroup
	committed := make(chan struct{})
	go func() {
		defer close(committed)
		cfg.Committer.Run(ctx)
	}()

	var (
		mu     sync.Mutex
		active int
		last   = time.Now()
	)
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop); ln.Close() }) }
	go func() {
		interval := s.AliveInterval
		if interval <= 0 {
			interval = time.Second
		}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				halt()
				return
			case <-stop:
				return
			case <-tick.C:
			}
			mu.Lock()
			idle := active == 0 && s.Idle > 0 && time.Since(last) >= s.Idle
			mu.Unlock()
			if idle || (s.Alive != nil && !s.Alive()) {
				cfg.Log.Info().Bool("idle", idle).Msg("master server stops")
				halt()
				return
			}
		}
	}()
	var err error
	for {
		nc, aerr := ln.Accept()
		if aerr != nil {
			select {
			case <-stop:
			default:
				err = fmt.Errorf("accept: %w", aerr)
				halt()
			}
			break
		}
		if perr := CheckPeer(nc); perr != nil {
			cfg.Log.Warn().Err(perr).Msg("refused a connection")
			nc.Close()
			continue
		}
		mu.Lock()
		active++
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.session(ctx, cfg, nc)
			mu.Lock()
			active--
			last = time.Now()
			mu.Unlock()
		}()
	}
	wg.Wait()
	cancel()
	<-committed
	return err
}

// session serves one connection: the header, the protocol, the end.
func (s *Server) session(ctx context.Context, cfg Config, nc net.Conn) {
	defer nc.Close()
	br := bufio.NewReaderSize(nc, 64<<10)
	h, err := readHeader(br)
	if err != nil {
		cfg.Log.Warn().Err(err).Msg("refused a connection")
		return
	}
	cfg.Holder, cfg.Identified = h.Holder, h.Identified
	// A forced command runs whatever the client asked; the request is
	// only recorded, at debug level in the first section log.
	if open, orig := cfg.OpenLog, h.OriginalCommand; open != nil && orig != "" {
		cfg.OpenLog = func(path string) (zerolog.Logger, io.Closer, error) {
			l, c, err := open(path)
			if err == nil && orig != "" {
				l.Debug().Str("slave", h.Holder).Str("ssh_original_command", orig).Msg("ignoring the client's command")
				orig = ""
			}
			return l, c, err
		}
	}
	serr := Serve(ctx, cfg, br, nc)
	var end SessionEnd
	if serr != nil {
		end = SessionEnd{Err: serr.Error(), Reason: EndReason(serr)}
	}
	b, _ := json.Marshal(end)
	_, _ = nc.Write(append([]byte{0}, b...))
}

// readHeader reads and checks the SessionHeader line.
func readHeader(br *bufio.Reader) (SessionHeader, error) {
	var h SessionHeader
	line, err := br.ReadSlice('\n')
	if err != nil {
		return h, fmt.Errorf("read session header: %w", err)
	}
	if len(line) > maxHeader {
		return h, errors.New("read session header: too long")
	}
	if err := json.Unmarshal(line, &h); err != nil {
		return h, fmt.Errorf("read session header: %w", err)
	}
	if h.Holder == "" {
		h.Holder = DefaultHolder
	}
	return h, nil
}

// WriteSessionHeader writes h as the first line of a connection to the
// server.
func WriteSessionHeader(w io.Writer, h SessionHeader) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// CheckPeer checks that the process at the other end of a Unix connection
// runs as this process's user: the server checks its clients, and a
// forced command the server it found (an abstract socket name has no
// owner: another user could have taken it first).
func CheckPeer(nc net.Conn) error {
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		return errors.New("not a unix connection")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return err
	}
	var cred *syscall.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return err
	}
	if cerr != nil {
		return fmt.Errorf("peer credentials: %w", cerr)
	}
	if int(cred.Uid) != os.Geteuid() {
		return fmt.Errorf("peer uid %d is not this server's %d", cred.Uid, os.Geteuid())
	}
	return nil
}
