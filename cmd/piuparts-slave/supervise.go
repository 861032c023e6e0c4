package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"piuparts-server/internal/config"
	"piuparts-server/internal/fsutil"
	"piuparts-server/internal/logging"
	"piuparts-server/slave"
	"piuparts-server/slave/supervise"
)

// exitStatus is an error that only carries the exit status main ends
// with (status's LSB codes, the manager's exit-codes); its message, if
// any, has been printed.
type exitStatus int

func (e exitStatus) Error() string { return "exit status " + strconv.Itoa(int(e)) }

// LSB exit statuses of `status`.
const (
	lsbRunning    = 0
	lsbDead       = 1 // FAILED, or a stale socket: the manager died
	lsbNotRunning = 3
	lsbUnknown    = 4
)

// managerCommand is the hidden command `start` runs, detached, to be the manager.
const managerCommand = "__manager"

// commandHelp is `help`'s text per command.
var commandHelp = map[string]string{
	"run":               "run [--until-idle] [SECTION...]\n    the worker loop in the foreground (slave-count workers), without a manager",
	"start":             "start [OPTIONS]\n    start the manager (detached unless --daemon=false) and the program; returns once the program runs",
	"stop":              "stop [--stop-timeout D]\n    SIGINT to the program (it finishes its test, ships, unreserves), SIGTERM after stop-timeout,\n    SIGKILL after as long again; then the manager exits",
	"restart":           "restart [OPTIONS]\n    stop, then start (a new binary and new options are picked up)",
	"status":            "status [--json]\n    running or not, pid, uptime and each worker's section and package; exits 0 running,\n    1 FAILED or dead (stale socket), 3 not running, 4 unknown (no permission)",
	"fg":                "fg\n    run the program in the foreground, attached to the terminal, without a manager\n    (refused while the manager runs it)",
	"kill":              "kill [SIGNAL]\n    send SIGNAL (default TERM; HUP: ship finished logs, USR1: restart) to the program",
	"reopen-transcript": "reopen-transcript\n    reopen the transcript by name, after logrotate renamed it",
	"join":              "join [--lines N]\n    follow the program's output (the transcript) until ^C, as Debian's slave_join",
	"wait":              "wait [--exit] [--timeout D]\n    wait until the program runs (--exit: until the manager has exited)",
	"keygen": "keygen [--force] [--slave-id NAME]\n    make the slave's ed25519 key at the first section's ssh-identity, else ~/.ssh/id_ed25519\n" +
		"    (mode 0600, .pub 0644, the directory 0700), print its public key and the command that\n" +
		"    authorizes it on the master (piuparts-master authorize); --force replaces an existing key;\n" +
		"    the slave id is this host's name unless --slave-id NAME is given",
	"known-hosts": "known-hosts [--yes] [--file FILE] [HOST[:PORT]...]\n    record the master's ssh host key: connect to each HOST (default: every section's\n" +
		"    master-host and master-port but \"local\"), show the key's SHA256 fingerprint as ssh-keygen -l\n" +
		"    does, ask before adding it to FILE (default: ssh-known-hosts, else ~/.ssh/known_hosts;\n" +
		"    --yes: without asking, required when standard input is no terminal); a host known with\n" +
		"    another key is refused (possible man-in-the-middle; ssh-keygen -R removes the old line)",
	"help":    "help [COMMAND]\n    this text",
	"version": "version\n    print the version",
}

var commandOrder = []string{"start", "stop", "restart", "status", "fg", "kill", "reopen-transcript", "join", "wait", "run", "keygen", "known-hosts", "version", "help"}

func printHelp(w io.Writer, cmd string) error {
	if cmd != "" {
		h, ok := commandHelp[cmd]
		if !ok {
			return fmt.Errorf("help: unknown command %q: %w", cmd, errUsage)
		}
		fmt.Fprintf(w, "usage: piuparts-slave [-c FILE] %s\n", h)
		if cmd == "start" || cmd == "restart" {
			fmt.Fprint(w, supervisorFlagsHelp)
		}
		return nil
	}
	fmt.Fprint(w, "usage: piuparts-slave [-c FILE] COMMAND [OPTIONS]\n\ncommands:\n")
	for _, c := range commandOrder {
		fmt.Fprintf(w, "  %s\n", strings.ReplaceAll(commandHelp[c], "\n", "\n  "))
	}
	fmt.Fprint(w, "\nThe supervisor's options are the [supervisor] table of the config; flags win:\n", supervisorFlagsHelp)
	return nil
}

const supervisorFlagsHelp = `  --program CMD            the program to run (default: this binary's run with the same config)
  --socket-name PATH       the control socket (default slave-directory/supervise/control.sock)
  --daemon=BOOL            detach the manager (default true)
  --directory DIR          the program's working directory (default: the current one)
  --backoff-limit N        seconds: shorter runs add 1 s to the restart delay; N in a row: FAILED (default 10)
  --forever                never give up
  --exit-codes LIST        program exit statuses that stop the manager (default 0,2)
  --user NAME              run the program as NAME (root only)
  --umask OCTAL            umask (default 022)
  --transcript FILE        the program's output (default slave-directory/transcript.log)
  --stop-timeout D         SIGINT to SIGTERM, SIGTERM to SIGKILL (default 10m)
  --inactivity-timeout D   warn when the transcript is silent this long (default idle-sleep + 30m)
`

// svFlags are the command line's supervisor options; a flag given wins
// over the [supervisor] table.
type svFlags struct {
	fs                                      *flag.FlagSet
	configPath                              *string
	program, socket, directory, user, umask *string
	transcript, exitCodes                   *string
	daemon, forever                         *bool
	backoffLimit                            *int
	stopTimeout, inactivity                 *time.Duration
	json, exitWait                          *bool
	lines                                   *int
	timeout                                 *time.Duration
	set                                     map[string]bool
}

func newSVFlags(name string, stderr io.Writer) *svFlags {
	fs := flag.NewFlagSet("piuparts-slave "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	f := &svFlags{fs: fs}
	f.configPath = fs.String("c", "", "config `FILE` (as before the command)")
	f.program = fs.String("program", "", "program")
	f.socket = fs.String("socket-name", "", "control socket")
	f.directory = fs.String("directory", "", "working directory")
	f.user = fs.String("user", "", "user")
	f.umask = fs.String("umask", "", "umask")
	f.transcript = fs.String("transcript", "", "transcript")
	f.exitCodes = fs.String("exit-codes", "", "exit codes")
	f.daemon = fs.Bool("daemon", true, "detach")
	f.forever = fs.Bool("forever", false, "never give up")
	f.backoffLimit = fs.Int("backoff-limit", 0, "backoff limit")
	f.stopTimeout = fs.Duration("stop-timeout", 0, "stop timeout")
	f.inactivity = fs.Duration("inactivity-timeout", 0, "inactivity timeout")
	f.json = fs.Bool("json", false, "status as JSON")
	f.exitWait = fs.Bool("exit", false, "wait until the manager exits")
	f.lines = fs.Int("lines", 20, "lines of backlog")
	f.timeout = fs.Duration("timeout", time.Minute, "how long start and wait wait")
	fs.Usage = func() { printHelp(stderr, strings.TrimPrefix(name, managerCommand)) }
	return f
}

func (f *svFlags) parse(args []string) error {
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitStatus(0)
		}
		return errUsage
	}
	f.set = map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	return nil
}

// plan is everything the commands need: the resolved options.
type plan struct {
	cfgPath    string
	cfg        *config.Config
	slaveDir   string
	opts       supervise.Options
	transcript string
	daemon     bool
	umask      int
	user       string
}

// resolve merges defaults, the [supervisor] table and the flags.
// Only the commands that start the program (start, restart, fg and the
// manager) resolve user, which needs root.
func resolve(path, command string, f *svFlags, getenv func(string) string) (*plan, error) {
	if *f.configPath != "" {
		path = *f.configPath
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(abs)
	if err != nil {
		return nil, err
	}
	sv := cfg.Supervisor
	if cfg.Global.SlaveDirectory == "" {
		return nil, errors.New("slave-directory is not set in [global]")
	}
	slaveDir, err := filepath.Abs(cfg.Global.SlaveDirectory)
	if err != nil {
		return nil, fmt.Errorf("slave-directory: %w", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own binary: %w", err)
	}
	p := &plan{cfgPath: abs, cfg: cfg, slaveDir: slaveDir, daemon: sv.Daemon, umask: sv.Umask, user: sv.User}
	o := &p.opts
	o.Program = []string(sv.Program)
	if f.set["program"] {
		o.Program = strings.Fields(*f.program)
	}
	if len(o.Program) == 0 {
		o.Program = []string{exe, "-c", abs, "run"}
	}
	o.Socket = pick(f.set["socket-name"], *f.socket, sv.SocketName, filepath.Join(slaveDir, "supervise", "control.sock"))
	if o.Socket, err = filepath.Abs(o.Socket); err != nil {
		return nil, err
	}
	o.LockFile = filepath.Join(slaveDir, "supervise.lock")
	o.RunLock = filepath.Join(slaveDir, slave.RunLockFile)
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	if o.Directory, err = filepath.Abs(pick(f.set["directory"], *f.directory, sv.Directory, cwd)); err != nil {
		return nil, err
	}
	p.transcript = pick(f.set["transcript"], *f.transcript, sv.Transcript, filepath.Join(slaveDir, "transcript.log"))
	if p.transcript, err = filepath.Abs(p.transcript); err != nil {
		return nil, err
	}
	if f.set["daemon"] {
		p.daemon = *f.daemon
	}
	o.BackoffLimit = sv.BackoffLimit
	if f.set["backoff-limit"] {
		if *f.backoffLimit < 1 {
			return nil, fmt.Errorf("--backoff-limit %d: want at least 1: %w", *f.backoffLimit, errUsage)
		}
		o.BackoffLimit = *f.backoffLimit
	}
	o.Forever = sv.Forever || (f.set["forever"] && *f.forever)
	if f.set["forever"] && !*f.forever {
		o.Forever = false
	}
	o.ExitCodes = sv.ExitCodes
	if f.set["exit-codes"] {
		if o.ExitCodes, err = config.ParseExitCodes(*f.exitCodes); err != nil {
			return nil, fmt.Errorf("--exit-codes: %v: %w", err, errUsage)
		}
	}
	if f.set["user"] {
		p.user = *f.user
	}
	if f.set["umask"] {
		m, err := strconv.ParseUint(*f.umask, 8, 32)
		if err != nil || m > 0o777 {
			return nil, fmt.Errorf("--umask %q: want an octal umask such as 022: %w", *f.umask, errUsage)
		}
		p.umask = int(m)
	}
	o.StopTimeout = sv.StopTimeout
	if f.set["stop-timeout"] {
		o.StopTimeout = *f.stopTimeout
	}
	o.InactivityTimeout = sv.InactivityTimeout
	if f.set["inactivity-timeout"] {
		o.InactivityTimeout = *f.inactivity
	}
	if o.InactivityTimeout == 0 {
		o.InactivityTimeout = cfg.Global.IdleSleep + 1800*time.Second
	}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "NOTIFY_SOCKET=") || strings.HasPrefix(kv, "WATCHDOG_")
	})
	for _, k := range slices.Sorted(mapKeys(sv.Environment)) {
		env = append(env, k+"="+sv.Environment[k])
	}
	o.Env = env
	seen := map[string]bool{}
	for _, d := range append([]string{cfg.Global.Tmpdir}, tmpdirs(cfg)...) {
		if d != "" && filepath.IsAbs(d) && !seen[d] {
			seen[d] = true
			o.Tmpdirs = append(o.Tmpdirs, d)
		}
	}
	if p.user != "" && slices.Contains([]string{"start", "restart", "fg", managerCommand}, command) {
		cred, err := credential(p.user)
		if err != nil {
			return nil, err
		}
		o.Credential = cred
	}
	return p, nil
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func tmpdirs(cfg *config.Config) []string {
	var out []string
	for _, name := range cfg.SectionsByPrecedence() {
		if s, err := cfg.Section(name); err == nil {
			out = append(out, s.Tmpdir)
		}
	}
	return out
}

func pick(flagSet bool, flagVal, cfgVal, def string) string {
	switch {
	case flagSet:
		return flagVal
	case cfgVal != "":
		return cfgVal
	}
	return def
}

// credential is zdaemon's user: setuid and setgid, no supplementary groups.
func credential(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("user: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	if os.Geteuid() != 0 {
		if int(uid) == os.Geteuid() {
			return nil, nil
		}
		return nil, fmt.Errorf("user %s: only root can run the program as another user", name)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// supervisorCommand runs one of the supervisor's commands.
func supervisorCommand(ctx context.Context, name string, args []string, path string, stdout, stderr io.Writer, getenv func(string) string) error {
	f := newSVFlags(name, stderr)
	if err := f.parse(args); err != nil {
		return err
	}
	if name == "help" {
		return printHelp(stdout, f.fs.Arg(0))
	}
	rest := f.fs.Args()
	if name != "kill" && len(rest) > 0 {
		return fmt.Errorf("%s: unexpected argument %q: %w", name, rest[0], errUsage)
	}
	p, err := resolve(path, name, f, getenv)
	if err != nil {
		return err
	}
	switch name {
	case managerCommand:
		return p.manage(ctx, nil)
	case "start":
		return p.start(ctx, args, stdout, stderr, *f.timeout)
	case "stop":
		return p.stop(ctx, stdout)
	case "restart":
		if err := p.stop(ctx, stdout); err != nil {
			return err
		}
		return p.start(ctx, args, stdout, stderr, *f.timeout)
	case "status":
		return p.status(ctx, stdout, *f.json)
	case "fg":
		return p.fg(ctx)
	case "kill":
		sig := syscall.SIGTERM
		if len(rest) > 1 {
			return fmt.Errorf("kill: one signal: %w", errUsage)
		}
		if len(rest) == 1 {
			if sig, err = supervise.ParseSignal(rest[0]); err != nil {
				return fmt.Errorf("kill: %w", err)
			}
		}
		r, err := p.send(ctx, supervise.Request{Cmd: supervise.CmdKill, Sig: sig})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "signalled pid %d with %s\n", r.Status.PID, supervise.SignalName(sig))
		return nil
	case "reopen-transcript":
		if _, err := p.send(ctx, supervise.Request{Cmd: supervise.CmdReopen}); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "transcript %s reopened\n", p.transcript)
		return nil
	case "join":
		if _, err := p.send(ctx, supervise.Request{Cmd: supervise.CmdStatus}); err != nil {
			fmt.Fprintln(stderr, "piuparts-slave not running!")
			return exitStatus(1)
		}
		return supervise.Follow(ctx, p.transcript, stdout, *f.lines, 200*time.Millisecond)
	case "wait":
		return p.wait(ctx, stdout, *f.exitWait, *f.timeout)
	}
	return fmt.Errorf("unknown command %q: %w", name, errUsage)
}

// send sends a request; an error reply is an error.
func (p *plan) send(ctx context.Context, req supervise.Request) (supervise.Reply, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r, err := supervise.Send(ctx, p.opts.Socket, req)
	if err != nil {
		return r, err
	}
	if !r.OK {
		return r, fmt.Errorf("%s: %s", req.Cmd, r.Message)
	}
	return r, nil
}

// manage is the manager process: umask, signals, the transcript, Run.
func (p *plan) manage(ctx context.Context, echo io.Writer) error {
	syscall.Umask(p.umask)
	if err := p.makeSlaveDir(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// SIGHUP to the manager reopens the transcript, as logrotate's
	// postrotate scripts habitually send.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				supervise.Send(ctx, p.opts.Socket, supervise.Request{Cmd: supervise.CmdReopen})
			}
		}
	}()
	if err := os.MkdirAll(filepath.Dir(p.transcript), 0o755); err != nil {
		return fmt.Errorf("transcript: %w", err)
	}
	tr, err := supervise.OpenTranscript(p.transcript, echo, time.Now)
	if err != nil {
		return err
	}
	defer tr.Close()
	o := p.opts
	o.Transcript = tr
	o.Log = logging.New(tr, "piuparts-slave", p.cfg.Global.Level(), p.cfg.Global.LogFormat).With().Str("component", "supervisor").Logger()
	if echo != nil {
		o.Ready = func(pid int) { fmt.Fprintf(echo, "daemon process started, pid=%d\n", pid) }
	}
	code, err := supervise.Run(ctx, o)
	if err != nil {
		o.Log.Error().Err(err).Msg("manager")
		return err
	}
	if code != 0 {
		return exitStatus(code)
	}
	return nil
}

// makeSlaveDir creates slave-directory if it is missing; with user, it
// belongs to the user, who must write in it.
func (p *plan) makeSlaveDir() error {
	if _, err := os.Stat(p.slaveDir); !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := os.MkdirAll(p.slaveDir, 0o755); err != nil {
		return fmt.Errorf("slave-directory: %w", err)
	}
	if c := p.opts.Credential; c != nil {
		if err := os.Chown(p.slaveDir, int(c.Uid), int(c.Gid)); err != nil {
			return fmt.Errorf("slave-directory: %w", err)
		}
	}
	return nil
}

// start is zdaemon's start: with the manager running it starts the
// program again (after FAILED); else it starts the manager, detached
// unless daemon is off, and waits until the program runs.
func (p *plan) start(ctx context.Context, args []string, stdout, stderr io.Writer, timeout time.Duration) error {
	r, err := supervise.Send(ctx, p.opts.Socket, supervise.Request{Cmd: supervise.CmdStatus})
	switch {
	case err == nil && r.Status != nil && r.Status.State == supervise.StateRunning:
		fmt.Fprintf(stdout, "daemon process already running; pid=%d\n", r.Status.PID)
		return nil
	case err == nil:
		if _, err := p.send(ctx, supervise.Request{Cmd: supervise.CmdStart}); err != nil {
			return err
		}
		return p.wait(ctx, stdout, false, timeout)
	case errors.Is(err, supervise.ErrPermission):
		return err
	}
	if err := p.makeSlaveDir(); err != nil {
		return err
	}
	// A manager that is just exiting (restart) lets go of its lock.
	if err := p.lockFree(ctx); err != nil {
		return err
	}
	if !p.daemon {
		return p.manage(ctx, stderr)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p.transcript), 0o755); err != nil {
		return fmt.Errorf("transcript: %w", err)
	}
	out, err := os.OpenFile(p.transcript, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("transcript: %w", err)
	}
	defer out.Close()
	offset, _ := out.Seek(0, io.SeekEnd)
	cmd := exec.Command(exe, append([]string{"-c", p.cfgPath, managerCommand}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out // Stdin: /dev/null
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the manager: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	deadline := time.After(timeout)
	for {
		r, err := supervise.Send(ctx, p.opts.Socket, supervise.Request{Cmd: supervise.CmdStatus})
		if err == nil && r.Status != nil {
			switch r.Status.State {
			case supervise.StateRunning:
				fmt.Fprintf(stdout, "daemon process started, pid=%d\n", r.Status.PID)
				return nil
			case supervise.StateFailed:
				return fmt.Errorf("the program failed to start %d times in a row (last: %s); see %s", r.Status.Backoff, r.Status.LastExit, p.transcript)
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("the manager exited (%s): %s", cmd.ProcessState, lastError(p.transcript, offset))
		case <-deadline:
			return fmt.Errorf("the program does not run after %s; see %s", timeout, p.transcript)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// lockFree waits a few seconds for the manager lock; a manager holding it
// past that is named.
func (p *plan) lockFree(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Dir(p.opts.LockFile), 0o755); err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		f, err := fsutil.LockPID(p.opts.LockFile)
		if err == nil {
			f.Close()
			return nil
		}
		var le *fsutil.LockedError
		if !errors.As(err, &le) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w on %s: pid %d (it does not answer on %s)", supervise.ErrManagerRunning, p.slaveDir, le.PID, p.opts.Socket)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// lastError is the last line the manager wrote to the transcript after
// offset about why it exited.
func lastError(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < offset {
		return "see " + path
	}
	lines := strings.Split(strings.TrimSpace(string(b[offset:])), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := lines[i]; strings.Contains(l, "error") || strings.Contains(l, "piuparts-slave:") {
			return strings.TrimSpace(l)
		}
	}
	return "see " + path
}

// stop is zdaemon's stop, with piuparts' SIGINT first.
func (p *plan) stop(ctx context.Context, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, 2*p.opts.StopTimeout+time.Minute)
	defer cancel()
	r, err := supervise.Send(ctx, p.opts.Socket, supervise.Request{Cmd: supervise.CmdStop})
	switch {
	case errors.Is(err, supervise.ErrNotRunning), errors.Is(err, supervise.ErrStaleSocket):
		fmt.Fprintln(stdout, "daemon manager not running")
		return nil
	case err != nil:
		return err
	case !r.OK:
		return fmt.Errorf("stop: %s", r.Message)
	}
	// The reply comes when the program is gone; the manager follows.
	if err := p.lockFree(ctx); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "daemon process stopped")
	return nil
}

// statusJSON is `status --json`.
type statusJSON struct {
	Running bool   `json:"running"`
	Exit    int    `json:"lsb_exit"`
	Message string `json:"message"`
	*supervise.Status
	UptimeSeconds float64              `json:"uptime_seconds,omitempty"`
	Socket        string               `json:"socket"`
	Workers       []slave.WorkerStatus `json:"workers"`
}

// status prints the state and returns the LSB exit status.
func (p *plan) status(ctx context.Context, stdout io.Writer, asJSON bool) error {
	out := statusJSON{Socket: p.opts.Socket, Workers: []slave.WorkerStatus{}}
	r, err := supervise.Send(ctx, p.opts.Socket, supervise.Request{Cmd: supervise.CmdStatus})
	switch {
	case errors.Is(err, supervise.ErrNotRunning):
		out.Exit, out.Message = lsbNotRunning, "daemon manager not running"
	case errors.Is(err, supervise.ErrStaleSocket):
		out.Exit, out.Message = lsbDead, "daemon manager not running; its socket "+p.opts.Socket+" is left over (killed?)"
	case err != nil:
		out.Exit, out.Message = lsbUnknown, err.Error()
	default:
		st := r.Status
		out.Status = st
		now := time.Now()
		switch st.State {
		case supervise.StateRunning, supervise.StateStopping:
			out.Running, out.Exit = true, lsbRunning
			out.UptimeSeconds = now.Sub(st.Started).Seconds()
			out.Message = fmt.Sprintf("program running; pid=%d; uptime %s", st.PID, now.Sub(st.Started).Round(time.Second))
			if st.State == supervise.StateStopping {
				out.Message = fmt.Sprintf("program stopping; pid=%d", st.PID)
			}
			ws, err := slave.ReadStatus(p.slaveDir)
			if err != nil {
				return err
			}
			for _, w := range ws {
				if w.PID == st.PID {
					out.Workers = append(out.Workers, w)
				}
			}
		case supervise.StateFailed:
			out.Exit = lsbDead
			out.Message = fmt.Sprintf("daemon manager running; daemon process FAILED after %d short runs in a row (last: %s); start starts it again", st.Backoff, st.LastExit)
		default:
			out.Exit = lsbNotRunning
			out.Message = "daemon manager running; daemon process not running"
			if st.State == supervise.StateBackoff {
				out.Message += fmt.Sprintf(" (short run %d of %d, last: %s; restarts %s after it)", st.Backoff, st.BackoffLimit, st.LastExit, st.Delay)
			}
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(stdout, out.Message)
		if out.Status != nil {
			fmt.Fprintf(stdout, "manager pid=%d; runs=%d; transcript %s\n", out.ManagerPID, out.Runs, out.Transcript)
		}
		for _, w := range out.Workers {
			fmt.Fprintln(stdout, workerLine(w, time.Now()))
		}
	}
	if out.Exit != 0 {
		return exitStatus(out.Exit)
	}
	return nil
}

func workerLine(w slave.WorkerStatus, now time.Time) string {
	since := fmt.Sprintf("since %s (%s)", w.Since.Format("15:04:05"), now.Sub(w.Since).Round(time.Second))
	switch w.State {
	case slave.StateTesting:
		return fmt.Sprintf("worker %d: testing %s %s in %s %s, %d of %d (max-reserved %d)",
			w.Worker, w.Package, w.Version, w.Section, since, w.N, w.Batch, w.MaxReserved)
	case slave.StateSleeping:
		return fmt.Sprintf("worker %d: sleeping until %s", w.Worker, w.Until.Format("15:04:05"))
	case slave.StateWorking:
		return fmt.Sprintf("worker %d: working on %s %s", w.Worker, w.Section, since)
	}
	return fmt.Sprintf("worker %d: %s %s", w.Worker, w.State, since)
}

// wait waits until the program runs, or with untilExit until the manager
// has gone.
func (p *plan) wait(ctx context.Context, stdout io.Writer, untilExit bool, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		r, err := supervise.Send(ctx, p.opts.Socket, supervise.Request{Cmd: supervise.CmdStatus})
		switch {
		case untilExit && (errors.Is(err, supervise.ErrNotRunning) || errors.Is(err, supervise.ErrStaleSocket)):
			fmt.Fprintln(stdout, "daemon manager not running")
			return nil
		case untilExit:
		case errors.Is(err, supervise.ErrPermission):
			return err
		case err != nil:
			fmt.Fprintln(stdout, "daemon manager not running")
			return exitStatus(lsbNotRunning)
		case r.Status.State == supervise.StateRunning:
			fmt.Fprintf(stdout, "program running; pid=%d\n", r.Status.PID)
			return nil
		case r.Status.State == supervise.StateFailed:
			fmt.Fprintf(stdout, "daemon process FAILED (last: %s)\n", r.Status.LastExit)
			return exitStatus(lsbDead)
		}
		select {
		case <-deadline:
			return fmt.Errorf("wait: still waiting after %s", timeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// fg runs the program in the foreground in place of this process, unless
// the manager runs it.
func (p *plan) fg(ctx context.Context) error {
	r, err := supervise.Send(ctx, p.opts.Socket, supervise.Request{Cmd: supervise.CmdStatus})
	if err == nil && r.Status != nil && r.Status.PID > 0 {
		return fmt.Errorf("fg: the program already runs under its manager, pid %d (stop it first)", r.Status.PID)
	}
	if p.opts.Credential != nil {
		return errors.New("fg: user is set: use start --daemon=false to run as another user")
	}
	bin, err := exec.LookPath(p.opts.Program[0])
	if err != nil {
		return fmt.Errorf("fg: %w", err)
	}
	syscall.Umask(p.umask)
	if err := os.Chdir(p.opts.Directory); err != nil {
		return fmt.Errorf("fg: %w", err)
	}
	return fmt.Errorf("fg: %w", syscall.Exec(bin, p.opts.Program, p.opts.Env))
}
