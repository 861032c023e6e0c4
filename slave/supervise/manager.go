package supervise

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"piuparts-server/internal/fsutil"
)

// Options configure a manager: the [supervisor] table and its flags,
// resolved to absolute paths by the caller.
type Options struct {
	// Program is the command to run and restart (argv; Program[0] is
	// looked up in PATH).
	Program []string
	// Socket is the control socket's path. Its directory is created with
	// mode 0700; the socket gets mode 0600.
	Socket string
	// LockFile is taken by the manager (one manager per slave-directory);
	// "" means Socket + ".lock".
	LockFile string
	// Directory is the program's working directory; "" means the manager's.
	Directory string
	// BackoffLimit is backoff-limit: a run shorter than BackoffLimit
	// units is short; BackoffLimit short runs in a row and the manager
	// gives up (unless Forever). 0 means 10.
	BackoffLimit int
	// Unit is the backoff's unit, a second; tests shorten it.
	Unit time.Duration
	// Forever: never give up; the delay stays at BackoffLimit units.
	Forever bool
	// ExitCodes are the program's exit statuses that stop the manager,
	// which then returns the same status.
	ExitCodes []int
	// Env is the program's environment (KEY=VALUE); nil means the
	// manager's, without systemd's NOTIFY_SOCKET and WATCHDOG_*.
	Env []string
	// Credential, when set, runs the program as another user (root only).
	Credential *syscall.Credential
	// Transcript receives the program's output and the manager's log.
	Transcript *Transcript
	// StopTimeout is the wait after SIGINT before SIGTERM, and after
	// SIGTERM before SIGKILL; it is also the keeper's grace when the
	// manager dies. 0 means 10 minutes.
	StopTimeout time.Duration
	// InactivityTimeout: when the program has written nothing to the
	// transcript for this long, the manager logs a warning (once per
	// silence). 0 disables it.
	InactivityTimeout time.Duration
	// Tmpdirs are cleaned at start as Debian's slave_cleanup does (see
	// [Cleanup]); skipped while RunLock is held by someone else.
	Tmpdirs []string
	// RunLock is the slave's own lock file (slave-directory/run.lock);
	// "" means none.
	RunLock string
	// Self is the binary started as the keeper ([Keeper]); "" means
	// os.Executable().
	Self string
	// Log receives the manager's events (the caller points it at the
	// transcript).
	Log zerolog.Logger
	// Getenv reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID; nil
	// means os.Getenv.
	Getenv func(string) string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// After is the timer of backoff delays; nil means time.After. Tests
	// use it to see the delays the manager asks for.
	After func(time.Duration) <-chan time.Time
	// Ready, when set, is called once the program runs the first time.
	Ready func(pid int)
}

// ErrManagerRunning is wrapped by Run's error when another manager holds
// the lock.
var ErrManagerRunning = errors.New("another manager is running")

// ErrSocketInUse is wrapped by Run's error when some other process
// answers on the control socket.
var ErrSocketInUse = errors.New("control socket in use")

// manager is the state of one Run.
type manager struct {
	o        Options
	log      zerolog.Logger
	notify   notifier
	self     string
	st       Status
	proc     *child
	exited   chan exitInfo
	reqs     chan request
	ready    bool
	warnedAt time.Time // the LastOutput the last inactivity warning was about
	conns    sync.WaitGroup
	gone     chan struct{} // closed when the loop returns
}

type request struct {
	req   Request
	reply chan string
}

// child is a running keeper and its program.
type child struct {
	pid   int // the program's, also its process group; 0 if it could not start
	start time.Time
}

type exitInfo struct {
	c      *child
	status syscall.WaitStatus
	err    error
}

func (e exitInfo) String() string {
	switch {
	case e.err != nil:
		return e.err.Error()
	case e.status.Signaled():
		return "killed by " + SignalName(e.status.Signal())
	}
	return "exit status " + strconv.Itoa(e.status.ExitStatus())
}

// Run is the manager: it takes the lock, listens on the control socket,
// cleans the tmpdirs, starts the program and restarts it with zdaemon's
// backoff until it is stopped (a stop request or ctx, which the caller
// cancels on SIGINT and SIGTERM), the program exits with a status in
// ExitCodes, or an error. It returns the exit status the manager should
// end with: 0 after a stop, the program's status when it is in ExitCodes.
//
// The backoff, as zdaemon's (measured): a run shorter than BackoffLimit
// seconds is short, and each short run in a row adds a second to the
// restart delay: with the default limit 10, runs 1 to 9 are followed by
// delays of 1 to 9 s, and the 10th short run in a row makes the manager
// give up: the state becomes FAILED, the manager stays (status shows it,
// start starts the program again), until stopped. With Forever it never
// gives up and the delay stays at BackoffLimit seconds. A run of at least
// BackoffLimit seconds resets the count and the program restarts at once.
// Death by a signal is a run like any other: never in ExitCodes.
func Run(ctx context.Context, o Options) (int, error) {
	if len(o.Program) == 0 {
		return 1, errors.New("supervise: no program")
	}
	if o.Transcript == nil {
		return 1, errors.New("supervise: no transcript")
	}
	if o.BackoffLimit <= 0 {
		o.BackoffLimit = 10
	}
	if o.Unit <= 0 {
		o.Unit = time.Second
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = 10 * time.Minute
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.After == nil {
		o.After = time.After
	}
	if o.LockFile == "" {
		o.LockFile = o.Socket + ".lock"
	}
	if o.Env == nil {
		o.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
			return strings.HasPrefix(kv, "NOTIFY_SOCKET=") || strings.HasPrefix(kv, "WATCHDOG_")
		})
	}
	self := o.Self
	if self == "" {
		exe, err := os.Executable()
		if err != nil {
			return 1, fmt.Errorf("supervise: find own binary: %w", err)
		}
		self = exe
	}
	if err := os.MkdirAll(filepath.Dir(o.Socket), 0o700); err != nil {
		return 1, fmt.Errorf("control socket: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(o.LockFile), 0o755); err != nil {
		return 1, fmt.Errorf("lock: %w", err)
	}
	lock, err := fsutil.LockPID(o.LockFile)
	if err != nil {
		var le *fsutil.LockedError
		if errors.As(err, &le) {
			return 1, fmt.Errorf("%w on %s: pid %d", ErrManagerRunning, filepath.Dir(o.Socket), le.PID)
		}
		return 1, err
	}
	defer lock.Close()
	ln, err := listen(o.Socket, o.Log)
	if err != nil {
		return 1, err
	}
	defer os.Remove(o.Socket)
	defer ln.Close()

	m := &manager{
		o: o, log: o.Log, self: self,
		notify: newNotifier(o.Getenv, os.Getpid()),
		exited: make(chan exitInfo, 1),
		reqs:   make(chan request),
		gone:   make(chan struct{}),
	}
	m.st = Status{State: StateStarting, ManagerPID: os.Getpid(), ManagerStarted: o.Now(),
		BackoffLimit: o.BackoffLimit, Program: strings.Join(o.Program, " "), Transcript: o.Transcript.Path()}
	go m.accept(ln)
	m.cleanup()
	code, err := m.loop(ctx)
	close(m.gone)
	// Let the replies of the last requests (stop's) reach their clients.
	ln.Close()
	waitTimeout(&m.conns, 5*time.Second)
	return code, err
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// listen opens the control socket, removing a stale one (the caller holds
// the lock, so no other manager serves it).
func listen(path string, log zerolog.Logger) (net.Listener, error) {
	if _, err := os.Lstat(path); err == nil {
		c, derr := net.DialTimeout("unix", path, time.Second)
		if derr == nil {
			c.Close()
			return nil, fmt.Errorf("%w: %s answers, but not as a manager of this slave-directory", ErrSocketInUse, path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove stale control socket: %w", err)
		}
		log.Warn().Str("socket", path).Msg("removed a stale control socket (its manager was killed)")
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return ln, nil
}

func (m *manager) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		m.conns.Add(1)
		go func() {
			defer m.conns.Done()
			serveConn(c, func(req Request, err error) string {
				if err != nil {
					return "error " + oneLine(err.Error()) + "\n"
				}
				r := request{req: req, reply: make(chan string, 1)}
				select {
				case m.reqs <- r:
					return <-r.reply
				case <-m.gone:
					return "error the manager is exiting\n"
				}
			})
		}()
	}
}

// cleanup is slave_cleanup's work, unless a slave runs on the directory.
func (m *manager) cleanup() {
	if len(m.o.Tmpdirs) == 0 {
		return
	}
	if m.o.RunLock != "" {
		f, err := fsutil.LockPID(m.o.RunLock)
		if err != nil {
			m.log.Warn().Err(err).Msg("a slave is running: tmpdir left alone")
			return
		}
		f.Close()
	}
	for _, dir := range m.o.Tmpdirs {
		done, err := Cleanup(dir, "")
		for _, d := range done {
			m.log.Info().Str("tmpdir", dir).Msg("cleanup: " + d)
		}
		if err != nil {
			m.log.Error().Err(err).Msg("cleanup")
		}
	}
}

// loop is the manager's event loop; only it touches m.st and m.proc.
func (m *manager) loop(ctx context.Context) (int, error) {
	var (
		retry    <-chan time.Time
		escalate <-chan time.Time
		step     int // 0 SIGINT sent, 1 SIGTERM sent, 2 SIGKILL sent
		stoppers []chan string
		tick     <-chan time.Time
		done     = ctx.Done()
	)
	period := time.Minute
	if m.notify.watchdog > 0 {
		period = min(period, m.notify.watchdog/2)
	}
	if it := m.o.InactivityTimeout; it > 0 {
		period = min(period, max(it/4, 10*time.Millisecond))
	}
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	tick = ticker.C

	beginStop := func() {
		if m.st.State == StateStopping {
			return
		}
		m.notify.send("STOPPING=1")
		m.st.State = StateStopping
		retry = nil
		if m.proc == nil {
			return
		}
		m.log.Info().Int("pid", m.proc.pid).Msg("stopping: SIGINT (finish the running test, ship, unreserve)")
		syscall.Kill(-m.proc.pid, syscall.SIGINT)
		step = 0
		escalate = time.After(m.o.StopTimeout)
	}
	finish := func(code int) (int, error) {
		reply := "ok stopped\n"
		for _, s := range stoppers {
			s <- reply
		}
		m.log.Info().Int("status", code).Msg("manager exits")
		return code, nil
	}
	m.start()
	for {
		if m.st.State == StateStopping && m.proc == nil {
			return finish(0)
		}
		select {
		case <-done:
			done = nil
			beginStop()
		case e := <-m.exited:
			if e.c != m.proc {
				continue
			}
			retry = m.exit(e)
			escalate = nil
			if code, ok := m.stopCode(e); ok && m.st.State != StateStopping {
				m.log.Info().Int("status", code).Msg("exit status in exit-codes: the manager stops")
				m.st.State = StateStopping
				return finish(code)
			}
		case <-retry:
			retry = nil
			m.start()
		case <-escalate:
			if m.proc == nil {
				escalate = nil
				continue
			}
			step++
			sig := syscall.SIGTERM
			if step >= 2 {
				sig = syscall.SIGKILL
			}
			m.log.Warn().Int("pid", m.proc.pid).Str("signal", SignalName(sig)).Dur("after", m.o.StopTimeout).Msg("still running: escalating")
			syscall.Kill(-m.proc.pid, sig)
			escalate = nil
			if step < 2 {
				escalate = time.After(m.o.StopTimeout)
			}
		case r := <-m.reqs:
			switch r.req.Cmd {
			case CmdStop:
				stoppers = append(stoppers, r.reply)
				beginStop()
				continue
			case CmdStart:
				if m.st.State == StateStopping {
					r.reply <- "error stopping\n"
					continue
				}
				if m.proc == nil {
					m.st.Backoff, m.st.Delay = 0, 0
					retry = nil
					m.start()
				}
			case CmdKill:
				if m.proc == nil {
					r.reply <- "error program not running\n"
					continue
				}
				if err := syscall.Kill(m.proc.pid, r.req.Sig); err != nil {
					r.reply <- "error kill " + strconv.Itoa(m.proc.pid) + ": " + err.Error() + "\n"
					continue
				}
				m.log.Info().Int("pid", m.proc.pid).Str("signal", SignalName(r.req.Sig)).Msg("signalled the program")
			case CmdReopen:
				if err := m.o.Transcript.Reopen(); err != nil {
					r.reply <- "error " + oneLine(err.Error()) + "\n"
					continue
				}
				m.log.Info().Str("transcript", m.o.Transcript.Path()).Msg("transcript reopened")
			}
			r.reply <- m.statusReply("ok")
		case <-tick:
			if m.notify.watchdog > 0 {
				m.notify.send("WATCHDOG=1")
			}
			m.checkInactivity()
		}
	}
}

func (m *manager) statusReply(first string) string {
	st := m.st
	st.LastOutput = m.o.Transcript.LastOutput()
	var b strings.Builder
	b.WriteString(first + "\n")
	st.encode(&b)
	return b.String()
}

// stopCode reports whether the exit is a status in ExitCodes.
func (m *manager) stopCode(e exitInfo) (int, bool) {
	if e.err != nil || !e.status.Exited() {
		return 0, false
	}
	code := e.status.ExitStatus()
	return code, slices.Contains(m.o.ExitCodes, code)
}

// exit records the program's end and decides about the restart: it
// returns the backoff timer, or nil (FAILED, stopping, or exit-codes).
func (m *manager) exit(e exitInfo) <-chan time.Time {
	c := m.proc
	m.proc = nil
	ran := m.o.Now().Sub(c.start)
	m.st.PID, m.st.Started, m.st.LastExit = 0, time.Time{}, e.String()
	m.log.Info().Int("pid", c.pid).Str("exit", e.String()).Dur("ran", ran.Round(time.Millisecond)).Msg("program exited")
	if m.st.State == StateStopping {
		return nil
	}
	if _, ok := m.stopCode(e); ok {
		return nil
	}
	limit := time.Duration(m.o.BackoffLimit) * m.o.Unit
	if ran >= limit {
		m.st.Backoff, m.st.Delay = 0, 0
		m.log.Info().Msg("restarting")
		return m.o.After(0)
	}
	m.st.Backoff++
	if m.st.Backoff >= m.o.BackoffLimit && !m.o.Forever {
		m.st.State, m.st.Delay = StateFailed, 0
		m.log.Error().Int("short_runs", m.st.Backoff).Msg("restarting too frequently: FAILED, not restarting (start starts it again)")
		m.notify.send("STATUS=FAILED: restarting too frequently")
		return nil
	}
	m.st.State = StateBackoff
	m.st.Delay = time.Duration(min(m.st.Backoff, m.o.BackoffLimit)) * m.o.Unit
	m.log.Info().Int("short_runs", m.st.Backoff).Dur("delay", m.st.Delay).Msg("short run: restarting after a delay")
	return m.o.After(m.st.Delay)
}

// start starts the keeper and the program; a failure is an exit.
func (m *manager) start() {
	m.st.State = StateStarting
	m.st.Runs++
	c, err := m.spawn()
	if err != nil {
		m.log.Error().Err(err).Msg("start program")
		now := m.o.Now()
		m.proc = &child{start: now}
		m.exited <- exitInfo{c: m.proc, err: err}
		return
	}
	m.proc = c
	if c.pid == 0 {
		return // the keeper could not start it: its exit follows
	}
	m.st.State, m.st.PID, m.st.Started = StateRunning, c.pid, c.start
	m.log.Info().Int("pid", c.pid).Str("program", m.st.Program).Msg("program started")
	if !m.ready {
		m.ready = true
		if m.o.Ready != nil {
			m.o.Ready(c.pid)
		}
	}
	m.notify.send("READY=1\nSTATUS=program running, pid " + strconv.Itoa(c.pid) + "\nMAINPID=" + strconv.Itoa(os.Getpid()))
}

func (m *manager) spawn() (*child, error) {
	deathR, deathW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	pidR, pidW, err := os.Pipe()
	if err != nil {
		deathR.Close()
		deathW.Close()
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		deathR.Close()
		deathW.Close()
		pidR.Close()
		pidW.Close()
		return nil, err
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(m.self, m.o.Program...)
	cmd.Env = append(slices.Clone(m.o.Env), KeeperEnv+"="+strconv.FormatInt(int64(m.o.StopTimeout), 10),
		keeperTranscriptEnv+"="+m.o.Transcript.Path())
	if c := m.o.Credential; c != nil {
		cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d:%d", keeperCredentialEnv, c.Uid, c.Gid))
	}
	cmd.Dir = m.o.Directory
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, outW, outW
	cmd.ExtraFiles = []*os.File{deathR, pidW, outR}
	err = cmd.Start()
	devnull.Close()
	deathR.Close()
	pidW.Close()
	outW.Close()
	if err != nil {
		deathW.Close()
		pidR.Close()
		outR.Close()
		return nil, fmt.Errorf("start keeper %s: %w", m.self, err)
	}
	copied := make(chan struct{})
	go func() {
		m.o.Transcript.copyFrom(outR)
		outR.Close()
		close(copied)
	}()
	line, rerr := bufio.NewReader(pidR).ReadString('\n')
	pidR.Close()
	c := &child{start: m.o.Now()}
	pid, perr := strconv.Atoi(strings.TrimSpace(line))
	if rerr != nil || perr != nil || pid <= 0 {
		msg := strings.TrimPrefix(strings.TrimSpace(line), "error ")
		if msg == "" {
			msg = "the keeper died before starting it"
		}
		// The keeper exits; its exit arrives on m.exited as a short run.
		m.log.Error().Str("program", m.st.Program).Msg("cannot start program: " + msg)
		pid = 0
	}
	c.pid = pid
	go func() {
		err := cmd.Wait()
		// The program's last words first (a process that left the group
		// may hold the pipe: do not wait for it long).
		select {
		case <-copied:
		case <-time.After(time.Second):
		}
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		// A keeper killed by SIGKILL could not take its group along.
		if ws.Signaled() && ws.Signal() == syscall.SIGKILL && pid > 0 {
			syscall.Kill(-pid, syscall.SIGKILL)
		}
		deathW.Close()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			m.exited <- exitInfo{c: c, err: err}
			return
		}
		m.exited <- exitInfo{c: c, status: ws}
	}()
	return c, nil
}

// checkInactivity warns once per silence longer than InactivityTimeout,
// what Debian's detect_slave_problems mails about.
func (m *manager) checkInactivity() {
	it := m.o.InactivityTimeout
	if it <= 0 || m.proc == nil || m.st.State != StateRunning {
		return
	}
	last := m.o.Transcript.LastOutput()
	if last.Before(m.proc.start) {
		last = m.proc.start
	}
	if m.o.Now().Sub(last) < it || last.Equal(m.warnedAt) {
		return
	}
	m.warnedAt = last
	m.log.Warn().Int("pid", m.proc.pid).Dur("silent", m.o.Now().Sub(last).Round(time.Second)).
		Msg("no output from the program for longer than inactivity-timeout: either a test runs for a very long time, or the slave hangs")
}
