package portserver

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// Defaults of a Server's Config.
const (
	// DefaultAddress is the reference's --portserver_address.
	DefaultAddress = "@unittest-portserver"
	// DefaultReadTimeout is how long a connection may take to send its
	// request; portpicker sends it at once.
	DefaultReadTimeout = 2 * time.Second
	// DefaultMaxConns is how many connections may be reading their request
	// at once; a new one beyond it closes the one that has waited longest.
	DefaultMaxConns = 128
	// noPidfdPoll is how often an owner is checked where the kernel has no
	// pidfd_open.
	noPidfdPoll = time.Second
)

// ErrPoolFull is the reason for a denial when no free port is left.
var ErrPoolFull = errors.New("all ports in use")

// Config is what a Server serves and how.
type Config struct {
	// Ports are the managed ports (see ParsePool); there must be one.
	Ports []int
	// TablePath is the owner table kept on disk so that grants survive a
	// restart; "" keeps none.
	TablePath string
	// ReadTimeout bounds the wait for a request; 0 means DefaultReadTimeout.
	ReadTimeout time.Duration
	// MaxConns caps the connections reading a request; 0 means
	// DefaultMaxConns.
	MaxConns int
	// Log receives one event per request at debug level, and the rest.
	Log zerolog.Logger
	// StatsSignal, when it delivers, makes Serve log the statistics (the
	// command connects SIGUSR1 to it); nil means never.
	StatsSignal <-chan os.Signal
}

// Stats are the reference's statistics, plus the state of the pool.
type Stats struct {
	ClientRequestErrors           int // client-request-errors
	DeniedAllocations             int // denied-allocations
	NumPortsManaged               int // num-ports-managed
	NumPortsCheckedForLastRequest int // num-ports-checked-for-last-request
	TotalAllocations              int // total-allocations
	FreePorts                     int // ports on the free list
	Owners                        int // processes holding ports
}

// Server hands out ports of its pool to live processes. Build it with New
// and run it with Serve.
type Server struct {
	cfg  Config
	log  zerolog.Logger
	boot string

	mu       sync.Mutex
	cond     *sync.Cond // broadcast (on mu) when a write of the table ends
	pool     *Pool
	watchers map[Process]*watcher
	pids     map[int]Process // the watched owner of each pid
	stats    Stats
	reading  *list.List // connections still reading their request, oldest first
	gen      uint64     // changes of the owner table so far
	savedGen uint64     // changes the file on disk holds
	saveErr  string     // the last error writing the table, logged once
	table    *table     // nil without TablePath
	pending  []byte     // change lines not yet in the table
	pendLns  int        // lines in pending
	saving   bool       // a goroutine is writing the table
	handlers sync.WaitGroup
	watching sync.WaitGroup // watcher goroutines
}

// watcher waits for one owner's exit.
type watcher struct {
	pidfd *os.File        // nil without pidfd_open
	rc    syscall.RawConn // pidfd's
	stop  chan struct{}   // closed to stop a watcher without pidfd
}

// New checks cfg, loads the owner table and returns a server for it,
// which already watches the owners the table holds; call Serve once. It
// returns an error when there are no ports, or the boot id or the owner
// table cannot be read.
func New(cfg Config) (*Server, error) {
	if len(cfg.Ports) == 0 {
		return nil, errors.New("portserver: no ports to serve")
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	boot, err := bootID()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, log: cfg.Log, boot: boot,
		watchers: make(map[Process]*watcher),
		pids:     make(map[int]Process),
		reading:  list.New(),
	}
	s.cond = sync.NewCond(&s.mu)
	s.pool = NewPool(cfg.Ports, nil)
	s.stats.NumPortsManaged = s.pool.Managed()
	if err := s.restore(); err != nil {
		return nil, err
	}
	return s, nil
}

// Serve answers requests on ln until ctx is done; it closes ln. On return
// every connection is closed, the owners are no longer watched and the
// owner table is written. It returns an error when ln fails for another
// reason than ctx ending.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	defer ln.Close()
	lf := listenerFile(ln)
	if lf != nil {
		defer lf.Close()
	}
	stopped, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			select {
			case <-ctx.Done():
				ln.Close()
				if lf != nil {
					lf.Close()
				}
				return
			case <-quit:
				return
			case <-s.cfg.StatsSignal:
				s.LogStats()
			}
		}
	}()
	err := s.accept(ctx, ln, lf)
	close(quit)
	<-stopped
	s.mu.Lock()
	for e := s.reading.Front(); e != nil; e = e.Next() {
		e.Value.(io.Closer).Close()
	}
	s.mu.Unlock()
	// Handlers first (they may still grant), then the watchers.
	s.handlers.Wait()
	s.mu.Lock()
	s.stopWatchers()
	s.mu.Unlock()
	s.watching.Wait()
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	s.flush(gen)
	if s.table != nil {
		s.table.close()
	}
	return err
}

// conn is what a handler needs of a connection: a net.Conn, or an
// *os.File around an accepted socket.
type conn interface {
	io.ReadWriteCloser
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// listenerFile returns a copy of a Unix listener's socket, on which
// accept accepts with plain system calls, or nil for another listener.
func listenerFile(ln net.Listener) *os.File {
	ul, ok := ln.(*net.UnixListener)
	if !ok {
		return nil
	}
	f, err := ul.File()
	if err != nil {
		return nil
	}
	if rc, err := f.SyscallConn(); err != nil || rc.Control(func(fd uintptr) { _ = unix.SetNonblock(int(fd), true) }) != nil {
		f.Close()
		return nil
	}
	return f
}

// accept accepts connections until ln (and lf, its copy from listenerFile,
// if not nil) is closed. On lf it accepts with plain system calls, and a
// request that has already arrived is answered right here, before the next
// accept (see handleFD): requests are answered in the order they
// connected, without a goroutine, a wakeup or a stack of their own.
func (s *Server) accept(ctx context.Context, ln net.Listener, lf *os.File) error {
	var rc syscall.RawConn
	if lf != nil {
		rc, _ = lf.SyscallConn()
	}
	var backoff time.Duration
	for {
		var c net.Conn
		nfd := -1
		var err error
		if rc != nil {
			var aerr error
			err = rc.Read(func(fd uintptr) bool {
				nfd, aerr = accept4(int(fd))
				return aerr != unix.EAGAIN
			})
			if err == nil && aerr != nil {
				err = os.NewSyscallError("accept4", aerr)
			}
		} else {
			c, err = ln.Accept()
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) || errors.Is(err, unix.ECONNABORTED) {
				// Out of file descriptors or the like: wait, as net/http does,
				// and say it once per pause rather than per attempt.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				if backoff == time.Second || backoff == 5*time.Millisecond {
					s.log.Warn().Err(err).Msg("accept")
				}
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		backoff = 0
		if c != nil {
			s.handlers.Add(1)
			go s.handle(c, nil)
		} else {
			s.handleFD(nfd)
		}
	}
}

// accept4 accepts a connection on the listening socket fd, non-blocking
// and close-on-exec, without asking for the peer's address.
func accept4(fd int) (int, error) {
	for {
		nfd, _, errno := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(fd), 0, 0,
			unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
		switch errno {
		case 0:
			return int(nfd), nil
		case unix.EINTR:
			continue
		}
		return -1, errno
	}
}

// isTemporary reports whether an accept error is worth retrying.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// handleFD answers the accepted socket fd (non-blocking) and closes it.
// When the whole request is already there, as it is from portpicker, it
// is answered at once with plain system calls; otherwise the socket
// becomes an *os.File, with a read deadline, and handle goes on with it
// in a goroutine of its own, so that a slow client holds up nobody.
func (s *Server) handleFD(fd int) {
	var buf [MaxRequest]byte
	n, err := rawRead(fd, buf[:])
	if err != nil || n <= 0 || bytes.IndexByte(buf[:n], '\n') < 0 {
		if err != nil || n < 0 {
			n = 0
		}
		if err == nil && n == 0 {
			// The client closed without a byte.
			rawClose(fd)
			s.answer(0, io.ErrUnexpectedEOF)
			return
		}
		s.handlers.Add(1)
		go s.handle(os.NewFile(uintptr(fd), "conn"), bytes.Clone(buf[:n]))
		return
	}
	defer rawClose(fd)
	line, _, _ := bytes.Cut(buf[:n], []byte{'\n'})
	pid, err := ParseRequest(line)
	if port, ok := s.answer(pid, err); ok {
		var out [8]byte
		_, _ = rawWrite(fd, append(strconv.AppendInt(out[:0], int64(port), 10), '\n'))
	}
}

// handle answers one connection, whose first bytes (prefix) may have been
// read already, and closes it.
func (s *Server) handle(c conn, prefix []byte) {
	defer s.handlers.Done()
	defer c.Close()
	s.mu.Lock()
	if s.reading.Len() >= s.cfg.MaxConns {
		// The connection that has waited longest for its request goes.
		old := s.reading.Front()
		s.reading.Remove(old)
		old.Value.(io.Closer).Close()
	}
	e := s.reading.PushBack(c)
	s.mu.Unlock()
	_ = c.SetReadDeadline(time.Now().Add(s.cfg.ReadTimeout))
	var r io.Reader = c
	if len(prefix) > 0 {
		r = io.MultiReader(bytes.NewReader(prefix), c)
	}
	pid, err := ReadRequest(r)
	s.mu.Lock()
	s.reading.Remove(e)
	s.mu.Unlock()
	if port, ok := s.answer(pid, err); ok {
		_ = c.SetWriteDeadline(time.Now().Add(s.cfg.ReadTimeout))
		_, _ = c.Write(append(strconv.AppendInt(make([]byte, 0, 8), int64(port), 10), '\n'))
	}
}

// answer allocates a port for a request read as pid, err, and counts the
// outcome; it returns the port to send, or false to close without one.
func (s *Server) answer(pid int, err error) (int, bool) {
	if err != nil {
		s.mu.Lock()
		s.stats.ClientRequestErrors++
		s.mu.Unlock()
		s.log.Debug().Err(err).Msg("bad request")
		return 0, false
	}
	port, checked, err := s.allocate(pid)
	s.mu.Lock()
	s.stats.NumPortsCheckedForLastRequest = checked
	if err != nil {
		s.stats.DeniedAllocations++
	} else {
		s.stats.TotalAllocations++
	}
	s.mu.Unlock()
	if err != nil {
		s.log.Debug().Int("pid", pid).Err(err).Msg("denied")
		return 0, false
	}
	s.log.Debug().Int("pid", pid).Int("port", port).Msg("granted")
	return port, true
}

// allocate gives pid a free port and returns it with the number of ports
// checked. It returns ErrNoProcess or ErrNotProcess for a pid that cannot
// own a port, ErrPoolFull when no port is free.
func (s *Server) allocate(pid int) (port, checked int, err error) {
	owner, pidfd, watched, err := s.identify(pid)
	if err != nil {
		return 0, 0, err
	}
	defer func() {
		if pidfd >= 0 {
			unix.Close(pidfd)
		}
	}()
	s.mu.Lock()
	n := s.pool.Free()
	s.mu.Unlock()
	// The bind test runs outside the lock, so that requests check ports in
	// parallel; each port popped is assigned or returned.
	for checked < n {
		s.mu.Lock()
		port, ok := s.pool.Pop()
		s.mu.Unlock()
		if !ok {
			break
		}
		checked++
		if !IsPortFree(port) {
			s.mu.Lock()
			s.pool.Return(port)
			s.mu.Unlock()
			s.log.Debug().Int("port", port).Msg("port unexpectedly in use")
			continue
		}
		s.mu.Lock()
		s.pool.Assign(port, owner)
		if s.watchers[owner] == nil {
			if watched {
				// Its watcher saw it exit since identify: no port for it.
				s.pool.Release(owner)
				s.mu.Unlock()
				return 0, checked, ErrNoProcess
			}
			s.startWatcher(owner, pidfd)
			pidfd = -1
		}
		if s.table != nil {
			s.pending = appendGrant(s.pending, owner, port)
			s.pendLns++
		}
		gen := s.changed()
		s.mu.Unlock()
		s.flush(gen)
		return port, checked, nil
	}
	return 0, checked, ErrPoolFull
}

// identify returns the live process pid with a pidfd for it (-1: none),
// or watched set when it already holds ports and is watched: then no new
// pidfd is opened and /proc is not read, as the watcher's pidfd not
// having signalled an exit proves that the pid still names that process
// (a pid is only reused after its process exited and was reaped). Without
// a pidfd, its stat (same start time, not a zombie) shows it. Its errors
// are lookup's.
func (s *Server) identify(pid int) (owner Process, pidfd int, watched bool, err error) {
	if pid <= 1 {
		return Process{}, -1, false, ErrNotProcess
	}
	s.mu.Lock()
	known, ok := s.pids[pid]
	var w *watcher
	if ok {
		w = s.watchers[known]
	}
	s.mu.Unlock()
	if w != nil && w.alive(known) {
		return known, -1, true, nil
	}
	owner, pidfd, err = lookup(pid)
	return owner, pidfd, false, err
}

// startWatcher watches owner's exit through pidfd (-1: by polling /proc),
// which it takes over, and reclaims its ports when it exits. Called with
// mu held.
func (s *Server) startWatcher(owner Process, pidfd int) {
	w := &watcher{stop: make(chan struct{})}
	if pidfd >= 0 {
		f, err := pidfdFile(pidfd, owner.Pid)
		if err != nil {
			s.log.Warn().Err(err).Msg("watching by polling /proc instead")
		}
		w.pidfd = f
		if f != nil {
			if w.rc, err = f.SyscallConn(); err != nil {
				w.rc = nil
			}
		}
	}
	s.watchers[owner] = w
	s.pids[owner.Pid] = owner
	s.watching.Add(1)
	go func() {
		defer s.watching.Done()
		if w.pidfd != nil {
			if waitExit(w.pidfd) != nil {
				return // closed: the server stops
			}
		} else {
			t := time.NewTicker(noPidfdPoll)
			defer t.Stop()
			for alive(owner) {
				select {
				case <-w.stop:
					return
				case <-t.C:
				}
			}
		}
		s.reclaim(owner, w)
	}()
}

// stopWatchers stops every watcher; called with mu held.
func (s *Server) stopWatchers() {
	for owner, w := range s.watchers {
		w.close()
		delete(s.watchers, owner)
	}
	clear(s.pids)
}

// alive reports whether owner, which w watches, has not exited: its pidfd
// is not readable yet, or, without one, its stat says so. A pidfd closed
// meanwhile (the watcher reclaimed owner) reports false.
func (w *watcher) alive(owner Process) bool {
	if w.rc == nil {
		return alive(owner)
	}
	live := false
	if w.rc.Control(func(fd uintptr) { live = running(fd) }) != nil {
		return false
	}
	return live
}

// close stops w's goroutine.
func (w *watcher) close() {
	if w.pidfd != nil {
		w.pidfd.Close()
	} else {
		close(w.stop)
	}
}

// reclaim puts the ports of owner, which exited, back on the free list.
func (s *Server) reclaim(owner Process, w *watcher) {
	s.mu.Lock()
	if s.watchers[owner] != w {
		s.mu.Unlock()
		return
	}
	delete(s.watchers, owner)
	if s.pids[owner.Pid] == owner {
		delete(s.pids, owner.Pid)
	}
	ports := s.pool.Release(owner)
	if s.table != nil {
		s.pending = appendExit(s.pending, owner)
		s.pendLns++
	}
	gen := s.changed()
	s.mu.Unlock()
	if w.pidfd != nil {
		w.pidfd.Close()
	}
	s.flush(gen)
	s.log.Debug().Int("pid", owner.Pid).Ints("ports", ports).Msg("reclaimed")
}

// restore loads the owner table and gives back the ports of owners that
// still run.
func (s *Server) restore() error {
	if s.cfg.TablePath == "" {
		return nil
	}
	// Where the directory is missing, the first write would fail.
	_ = os.MkdirAll(filepath.Dir(s.cfg.TablePath), 0o755)
	owners, otherBoot, err := loadTable(s.cfg.TablePath, s.boot)
	if err != nil {
		return err
	}
	if otherBoot {
		s.log.Info().Str("table", s.cfg.TablePath).Msg("owner table of another boot ignored")
	}
	held := make(map[int]Process)
	pidfds := make(map[Process]int)
	for owner, ports := range owners {
		p, pidfd, err := lookup(owner.Pid)
		if err != nil || p != owner {
			if pidfd >= 0 {
				unix.Close(pidfd)
			}
			continue
		}
		pidfds[owner] = pidfd
		for _, port := range ports {
			held[port] = owner
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pool = NewPool(s.cfg.Ports, held)
	for owner, pidfd := range pidfds {
		if s.pool.Holds(owner) {
			s.startWatcher(owner, pidfd)
		} else if pidfd >= 0 {
			unix.Close(pidfd)
		}
	}
	s.table, err = openTable(s.cfg.TablePath, s.boot, s.pool.Snapshot())
	if err != nil {
		s.stopWatchers()
		return fmt.Errorf("%w (--owner_table chooses another file, \"\" none)", err)
	}
	s.log.Info().Str("table", s.cfg.TablePath).Int("owners", s.pool.Owners()).
		Int("ports", s.pool.Managed()-s.pool.Free()).Msg("owner table restored")
	return nil
}

// changed notes a change of the owner table and returns its number;
// called with mu held.
func (s *Server) changed() uint64 {
	s.gen++
	return s.gen
}

// flush returns once the table on disk holds change gen (at once without
// a table, or once a write failed), so that a port is only answered once
// a restarted server would know about it. The first caller to find no
// write under way writes every pending change; the others wait for it, so
// concurrent grants share one write.
func (s *Server) flush(gen uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.table != nil && s.savedGen < gen {
		if s.saving {
			s.cond.Wait()
			continue
		}
		s.saving = true
		s.write()
		s.saving = false
		s.cond.Broadcast()
	}
}

// write writes the pending changes to the owner table: appended, or a
// rewrite of the whole table when it has grown to more than twice what it
// needs. Called with mu held, it releases it during the write.
func (s *Server) write() {
	gen := s.gen
	buf, n := s.pending, s.pendLns
	s.pending, s.pendLns = nil, 0
	var snap map[Process][]int
	if s.table.lines+n > 2*(s.pool.Managed()-s.pool.Free())+compactMin {
		snap = s.pool.Snapshot()
	}
	s.mu.Unlock()
	var err error
	if snap != nil {
		err = s.table.rewrite(snap)
	} else {
		err = s.table.append(buf, n)
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	s.mu.Lock()
	// A failed write still lets the grants go out: better a port that a
	// restart may forget than no port.
	s.savedGen = gen
	report := msg != s.saveErr
	s.saveErr = msg
	switch {
	case report && err != nil:
		s.log.Error().Err(err).Msg("grants will not survive a restart")
	case report:
		s.log.Info().Str("table", s.cfg.TablePath).Msg("owner table written again")
	}
}

// Stats returns the statistics so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.FreePorts = s.pool.Free()
	st.Owners = s.pool.Owners()
	return st
}

// LogStats logs the statistics at info level, under the reference's names.
func (s *Server) LogStats() {
	st := s.Stats()
	s.log.Info().
		Int("client-request-errors", st.ClientRequestErrors).
		Int("denied-allocations", st.DeniedAllocations).
		Int("num-ports-managed", st.NumPortsManaged).
		Int("num-ports-checked-for-last-request", st.NumPortsCheckedForLastRequest).
		Int("total-allocations", st.TotalAllocations).
		Int("free-ports", st.FreePorts).
		Int("owners", st.Owners).
		Msg("statistics")
}
