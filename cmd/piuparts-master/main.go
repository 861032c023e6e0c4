// Command piuparts-master is the master of a piuparts test farm. In a farm it runs as
// an SSH forced command and serves the line protocol on stdin/stdout; it also carries
// the operator's subcommands:
//
//	piuparts-master [-c FILE] [--slave-id=NAME]   serve the protocol on stdin/stdout
//	piuparts-master [-c FILE] config import PIUPARTS.CONF [DISTROS.CONF]
//	                                              print the TOML equivalent of piuparts' INI files
//	piuparts-master [-c FILE] config check        load the config and report every error
//	piuparts-master config reference [--format markdown|man]
//	                                              every config key: type, default, meaning
//	piuparts-master [-c FILE] authorize --slave-id NAME [--append FILE] KEYFILE.pub
//	                                              the restricted authorized_keys line of a slave's key
//	piuparts-master [-c FILE] import [DIR]        adopt an existing piuparts master directory
//	piuparts-master [-c FILE] fsck [--repair]     check that log files and index agree
//	piuparts-master [-c FILE] status [--json] [SECTION...]
//	                                              show the farm: states, reservations, slaves, logs
//	piuparts-master [-c FILE] reservations [--expired] [release PACKAGE|--holder ID]
//	                                              list or release reservations
//	piuparts-master help [COMMAND]                show the usage of piuparts-master or a command
//	piuparts-master version                       print the version (also --version)
//
// The config is -c FILE, else $PIUPARTS_CONFIG, else /etc/piuparts/piuparts.toml.
// Serving, it works in the config's master-directory and logs to files there (the
// section's log-file, default SECTION/master.log; errors before a section is chosen to
// [global]'s log-file, default master-error.log), never to stdout. It never runs what
// the client asks: under a forced command, SSH_ORIGINAL_COMMAND is only logged.
// --slave-id names the holder of the reservations (default: the client address of
// SSH_CONNECTION, else "unknown"), e.g. command="piuparts-master --slave-id=slave1".
//
// The commands are the table of commands.go, each with its own flag set and
// --help; "help COMMAND" shows the same text. Run as root on a master directory
// that belongs to another user (the master user), serving and every command
// that opens the directory refuse, before touching it, with one line that says
// to run it as that user.
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
	"piuparts-server/internal/piuparts"
)

// slaveIDRule says what [piuparts.ValidSlaveID] accepts, for errors.
const slaveIDRule = "a slave id is 1 to 253 ASCII letters, digits and ._-+@: not starting with - or ."

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
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, args: os.Args[1:]}
	if exe, err := os.Executable(); err == nil {
		e.exe = exe
	}
	err := runEnv(ctx, e)
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		fmt.Fprintf(os.Stderr, "piuparts-master: %v\n", err)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "piuparts-master: %v\n", err)
		os.Exit(1)
	}
}

// globalFlags is the flag set of piuparts-master itself.
func globalFlags(e *env, configPath, slaveID *string, showVersion *bool) *flag.FlagSet {
	fs := flag.NewFlagSet("piuparts-master", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(configPath, "c", "", "config `FILE` (default $PIUPARTS_CONFIG, else "+config.DefaultPath+")")
	fs.StringVar(slaveID, "slave-id", "", "`NAME` of the slave holding reservations (default: SSH_CONNECTION's client address)")
	fs.BoolVar(showVersion, "version", false, "print the version")
	return fs
}

// run is main without the process: arguments, streams and environment come in, so
// tests call it directly.
// It serves every connection alone: the master server is started by the
// program's own executable (see runEnv).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	return runEnv(ctx, &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, args: args})
}

// runEnv is run with the whole environment, the executable included.
func runEnv(ctx context.Context, e *env) error {
	args, stdout, getenv := e.args, e.stdout, e.getenv
	var (
		configPath, slaveID string
		showVersion         bool
	)
	fs := globalFlags(e, &configPath, &slaveID, &showVersion)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			mainUsage(stdout, fs)
			return nil
		}
		return &usageError{msg: err.Error()}
	}
	if showVersion {
		return runVersion(ctx, e, nil)
	}
	if slaveID != "" && !piuparts.ValidSlaveID(slaveID) {
		return &usageError{msg: "--slave-id " + piuparts.Quote(slaveID) + ": " + slaveIDRule}
	}
	e.configPath = config.ResolvePath(configPath, getenv)
	rest := fs.Args()
	if len(rest) == 0 {
		return serve(ctx, e, serveOptions{configPath: e.configPath, slaveID: slaveID})
	}
	c, ok := lookup(commands(), rest[0])
	if !ok {
		return &usageError{msg: fmt.Sprintf("unknown command %q", rest[0])}
	}
	return c.run(ctx, e, rest[1:])
}
