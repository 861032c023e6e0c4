// Command piuparts-slave is a slave of a piuparts test farm: it reserves
// packages from a piuparts master, tests them with piuparts and sends the
// logs back. It works with Debian's piuparts-master as with ours.
//
//	piuparts-slave [-c FILE] run [-c FILE] [--until-idle] [SECTION...]   the worker loop, in the foreground
//	piuparts-slave [-c FILE] start|stop|restart|status|fg|kill [SIGNAL]|reopen-transcript|join|wait [OPTIONS]
//	piuparts-slave [-c FILE] keygen [--force] [--slave-id NAME]             make the slave's ssh key
//	piuparts-slave [-c FILE] known-hosts [--yes] [--file F] [HOST[:PORT]]   record the master's host key
//	piuparts-slave help [COMMAND]                               the commands and options
//	piuparts-slave version                                      print the version
//
// start runs the worker loop under a manager (package slave/supervise, after
// zdaemon) that restarts it with zdaemon's backoff, keeps its output in a
// transcript and answers on a control socket; the other commands talk to it.
// Its options are the config's [supervisor] table and the same names as
// flags. status exits as an LSB init script: 0 running, 1 FAILED or dead,
// 3 not running, 4 unknown.
//
// The config is -c FILE, else $PIUPARTS_CONFIG, else
// /etc/piuparts/piuparts.toml; without SECTION arguments the slave works
// on [global]'s sections and basetgz-sections. It keeps its files in
// slave-directory (relative: to the working directory), one directory per
// worker (slave-count) as Debian's slave_run does, and logs to stderr.
//
// Signals, as the reference's: SIGINT lets the running test finish, sends
// the finished logs, unreserves what was not tested and exits; a second
// SIGINT, or SIGTERM, also stops the running test (its package is
// unreserved too). SIGHUP sends finished logs now. SIGUSR1 sends them and
// restarts the program (exec), picking up a new binary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"piuparts-server/internal/config"
	"piuparts-server/internal/logging"
	"piuparts-server/slave"
	"piuparts-server/slave/supervise"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errUsage marks a command line that could not be understood; main exits 2 on it.
var errUsage = errors.New("usage")

func main() {
	if supervise.IsKeeper() {
		os.Exit(supervise.Keeper(os.Args[1:]))
	}
	err := runIn(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	switch {
	case err == nil:
	case errors.Is(err, slave.ErrRestart):
		exe, xerr := os.Executable()
		if xerr == nil {
			xerr = syscall.Exec(exe, os.Args, os.Environ())
		}
		fmt.Fprintf(os.Stderr, "piuparts-slave: restart: %v\n", xerr)
		os.Exit(1)
	case errors.As(err, new(exitStatus)):
		var st exitStatus
		errors.As(err, &st)
		os.Exit(int(st))
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "piuparts-slave: %v\n", err)
		os.Exit(1)
	}
}

// run is main without the process and without standard input: arguments,
// streams and environment come in, so tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	return runIn(ctx, args, nil, stdout, stderr, getenv)
}

// runIn is run with standard input (nil: none), which known-hosts asks on.
func runIn(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("piuparts-slave", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("c", "", "config `FILE` (default $PIUPARTS_CONFIG, else "+config.DefaultPath+")")
	showVersion := fs.Bool("version", false, "print the version (as the version command)")
	fs.Usage = func() {
		printHelp(stderr, "")
		fmt.Fprint(stderr, "\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	path := config.ResolvePath(*configPath, getenv)
	rest := fs.Args()
	if *showVersion {
		rest = []string{"version"}
	}
	if len(rest) == 0 {
		fs.Usage()
		return errUsage
	}
	switch rest[0] {
	case "version":
		fmt.Fprintf(stdout, "piuparts-slave %s\n", version)
		return nil
	case "run":
		return runWorkers(ctx, rest[1:], path, stderr, getenv)
	case "keygen":
		return runKeygen(ctx, rest[1:], path, stdout, stderr, getenv)
	case "known-hosts":
		return runKnownHosts(ctx, rest[1:], path, stdin, stdout, stderr, getenv)
	case "start", "stop", "restart", "status", "fg", "kill", "reopen-transcript", "join", "wait", "help", managerCommand:
		return supervisorCommand(ctx, rest[0], rest[1:], path, stdout, stderr, getenv)
	default:
		fs.Usage()
		return fmt.Errorf("unknown command %q: %w", rest[0], errUsage)
	}
}

// runWorkers is `piuparts-slave run`.
func runWorkers(ctx context.Context, args []string, path string, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("piuparts-slave run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	untilIdle := fs.Bool("until-idle", false, "exit once no section has work and the spools are empty")
	configPath := fs.String("c", "", "config `FILE` (as before the command)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if *configPath != "" {
		path = *configPath
	}
	// The config is read again every round (as the reference does); the
	// machine's arch and mirror are detected once.
	detect := sync.OnceValues(func() (config.Host, error) { return config.DetectHost(ctx, "/etc/apt") })
	load := func() (*config.Config, error) {
		cfg, err := config.Load(path)
		if err != nil || !cfg.NeedsHost() {
			return cfg, err
		}
		host, err := detect()
		if err != nil {
			return nil, fmt.Errorf("detect arch and mirror (set them in the config): %w", err)
		}
		cfg.ApplyHost(host)
		return cfg, nil
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	for _, name := range fs.Args() {
		if _, err := cfg.Section(name); err != nil {
			return err
		}
	}
	dir, err := filepath.Abs(cfg.Global.SlaveDirectory)
	if err != nil {
		return fmt.Errorf("slave-directory: %w", err)
	}
	// One logger for the run, at [global]'s log-level (debug = true: debug).
	log := logging.New(stderr, "piuparts-slave", cfg.Global.Level(), cfg.Global.LogFormat)

	// SIGINT once: stop after the running test; twice, or SIGTERM: now.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctl := slave.NewControl()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGUSR1)
	defer signal.Stop(sigs)
	go func() {
		interrupted := false
		for sig := range sigs {
			switch {
			case sig == os.Interrupt && !interrupted:
				interrupted = true
				log.Warn().Msg("SIGINT: stopping after the running test; SIGINT again to stop it now")
				ctl.Stop()
			case sig == os.Interrupt || sig == syscall.SIGTERM:
				log.Warn().Str("signal", sig.String()).Msg("stopping now")
				cancel()
			case sig == syscall.SIGHUP:
				log.Info().Msg("SIGHUP: sending finished logs")
				ctl.Flush()
			case sig == syscall.SIGUSR1:
				log.Info().Msg("SIGUSR1: will restart")
				ctl.Restart()
			}
		}
	}()

	var sections []string
	if fs.NArg() > 0 {
		sections = fs.Args()
	}
	return slave.Run(ctx, slave.Config{
		Piuparts:  cfg,
		Reload:    load,
		Sections:  sections,
		Dir:       dir,
		UntilIdle: *untilIdle,
		Control:   ctl,
		Log:       log,
		Stderr:    stderr,
		Getenv:    getenv,
	})
}
