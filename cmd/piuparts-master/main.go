// Command piuparts-master is the master of a piuparts test farm. In a farm it runs as
// an SSH forced command and serves the line protocol on stdin/stdout; it also carries
// the operator's subcommands:
//
//	piuparts-master [-c FILE] [--slave-id=NAME]   serve the protocol on stdin/stdout
//	piuparts-master [-c FILE] config import PIUPARTS.CONF [DISTROS.CONF]
//	                                              print the TOML equivalent of piuparts' INI files
//	piuparts-master [-c FILE] config check        load the config and report every error
//	piuparts-master [-c FILE] import [DIR]        adopt an existing piuparts master directory
//	piuparts-master [-c FILE] fsck [--repair]     check that log files and index agree
//	piuparts-master version                       print the version
//
// The config is -c FILE, else $PIUPARTS_CONFIG, else /etc/piuparts/piuparts.toml.
// Serving, it works in the config's master-directory and logs to files there (the
// section's log-file, default SECTION/master.log; errors before a section is chosen to
// [global]'s log-file, default master-error.log), never to stdout. It never runs what
// the client asks: under a forced command, SSH_ORIGINAL_COMMAND is only logged.
// --slave-id names the holder of the reservations (default: the client address of
// SSH_CONNECTION, else "unknown"), e.g. command="piuparts-master --slave-id=slave1".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"piuparts-server/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errUsage marks a command line that could not be understood; main exits 2 on it.
var errUsage = errors.New("usage")

// DefaultMemoryLimit is the Go heap's soft limit when $GOMEMLIMIT is not
// set: on all of Debian's main the first connection after a Packages change
// peaks near it; the collector works harder only as the heap approaches
// it, so warm connections, far below, pay nothing.
const DefaultMemoryLimit = 225 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
	// A client that hangs up must not kill the master by SIGPIPE: ignored,
	// the write returns EPIPE, the session ends with a log line and the
	// deferred work runs.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "piuparts-master: %v\n", err)
		os.Exit(1)
	}
}

// run is main without the process: arguments, streams and environment come in, so
// tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("piuparts-master", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("c", "", "config `FILE` (default $PIUPARTS_CONFIG, else "+config.DefaultPath+")")
	slaveID := fs.String("slave-id", "", "`NAME` of the slave holding reservations (default: SSH_CONNECTION's client address)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: piuparts-master [-c FILE] [--slave-id=NAME] [COMMAND]\n\n"+
			"without a command: serve the protocol on stdin/stdout\n\ncommands:\n"+
			"  config import PIUPARTS.CONF [DISTROS.CONF]  print the TOML equivalent of piuparts' INI files\n"+
			"  config check       load the config and report every error\n"+
			"  import [DIR]       adopt an existing piuparts master directory (default: master-directory)\n"+
			"  fsck [--repair]    check that log files and the index agree; repair what can be repaired\n"+
			jobsUsage()+
			"  maintain --list    the maintenance schedule (also --cron, --systemd DIR)\n"+
			"  version            print the version\n\nflags:\n")
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
	if len(rest) == 0 {
		return serve(ctx, serveOptions{configPath: path, slaveID: *slaveID}, stdin, stdout, stderr, getenv)
	}
	switch rest[0] {
	case "version":
		fmt.Fprintf(stdout, "piuparts-master %s\n", version)
		return nil
	case "config":
		return runConfig(ctx, rest[1:], path, stdout, stderr)
	case "import":
		return runImport(ctx, rest[1:], path, stdout)
	case "fsck":
		return runFsck(ctx, rest[1:], path, stdout)
	case "maintain":
		return runMaintain(rest[1:], stdout, stderr)
	default:
		if ok, err := runJob(ctx, rest[0], rest[1:], path, stdout, stderr); ok {
			return err
		}
		fs.Usage()
		return fmt.Errorf("unknown command %q: %w", rest[0], errUsage)
	}
}
