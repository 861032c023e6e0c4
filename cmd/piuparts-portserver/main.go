// Command piuparts-portserver hands out unused network ports to the
// processes of one host, as Debian's portserver (python3-portpicker) does
// and with its flags and wire protocol, so that portpicker clients work
// unchanged:
//
//	piuparts-portserver [--portserver_static_pool N-P[,N-P...]]
//	    [--portserver_address ADDR] [--owner_table FILE] [--verbose] [--debug]
//
// It listens on a Unix stream socket (a leading "@": the abstract
// namespace), never on TCP. SIGUSR1 logs the statistics; SIGINT and
// SIGTERM stop it, after it logged them once more.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
	"piuparts-server/internal/logging"
	"piuparts-server/slave/portserver"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errUsage marks a command line that could not be understood; main exits 2 on it.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, usr1)
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "piuparts-portserver: %v\n", err)
		os.Exit(1)
	}
}

// run is main without the process, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, usr1 <-chan os.Signal) error {
	fs := flag.NewFlagSet("piuparts-portserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pool := fs.String("portserver_static_pool", portserver.DefaultPool,
		"comma-separated `N-P` range(s) of ports to manage (inclusive)")
	addr := fs.String("portserver_address", portserver.DefaultAddress,
		"`ADDRESS` of the AF_UNIX socket to listen on (a leading @ is the abstract namespace)")
	fs.StringVar(addr, "portserver_unix_socket_address", portserver.DefaultAddress,
		"the same as --portserver_address (the reference's old name)")
	table := fs.String("owner_table", portserver.DefaultTablePath,
		"`FILE` that keeps the grants across restarts (\"\": none)")
	verbose := fs.Bool("verbose", false, "log every request")
	debug := fs.Bool("debug", false, "the same as --verbose (the reference's full debug messages)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to `FILE` (for developers)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: piuparts-portserver [--portserver_static_pool N-P[,N-P...]] "+
			"[--portserver_address ADDR] [--owner_table FILE] [--verbose] [--debug]\n\n"+
			"Hands out unused ports to live processes over a Unix socket, as portserver(1).\n"+
			"A client writes its pid and a newline and reads a port and a newline.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "piuparts-portserver: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	if *showVersion {
		fmt.Fprintf(stdout, "piuparts-portserver %s\n", version)
		return nil
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	level := zerolog.InfoLevel
	if *verbose || *debug {
		level = zerolog.DebugLevel
	}
	log := logging.New(stderr, "piuparts-portserver", level, config.FormatAuto)
	ports, bad := portserver.ParsePool(*pool)
	for _, err := range bad {
		log.Error().Err(err).Msg("port range ignored")
	}
	if len(ports) == 0 {
		return fmt.Errorf("no ports: invalid port ranges in --portserver_static_pool %q", *pool)
	}
	srv, err := portserver.New(portserver.Config{
		Ports: ports, TablePath: *table, Log: log, StatsSignal: usr1, MaxConns: maxConns(),
	})
	if err != nil {
		return err
	}
	ln, err := portserver.Listen(*addr, log)
	if err != nil {
		return err
	}
	log.Info().Str("address", *addr).Int("ports", len(ports)).Str("table", *table).Msg("serving")
	err = srv.Serve(ctx, ln)
	srv.LogStats()
	if err == nil {
		log.Info().Msg("goodbye")
	}
	return err
}

// maxConns is the cap on connections reading a request: the default, or
// half the file descriptors this process may open when that is less, so
// that idle connections cannot exhaust them (Go has already raised the
// soft limit to the hard one).
func maxConns() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur/2 < portserver.DefaultMaxConns {
		return max(int(lim.Cur/2), 1)
	}
	return portserver.DefaultMaxConns
}
