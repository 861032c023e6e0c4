package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"piuparts-server/store"
)

// env is what every command gets: the streams, the environment and the
// global flags.
type env struct {
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
	getenv     func(string) string
	configPath string   // resolved: -c, $PIUPARTS_CONFIG or the default
	args       []string // the whole command line, for the hint of [asMasterUser]
	// exe is this program's executable, which starts the master server;
	// "" (in tests that call run) serves every connection alone.
	exe string
}

// asMasterUser turns the refusal of [store.CheckOwner] into the one line an
// operator needs: whose the directory is and the command to run instead.
func (e *env) asMasterUser(err error) error {
	var oe *store.OwnerError
	if !errors.As(err, &oe) {
		return err
	}
	line := "piuparts-master"
	for _, a := range e.args {
		if a == "" || strings.ContainsAny(a, " \t'\"\\$`;&|<>()*?[]#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		line += " " + a
	}
	return fmt.Errorf("%w: run it as that user: sudo -u %s %s", err, oe.User, line)
}

// command is one subcommand of piuparts-master. Adding one is one entry in
// [commands]: its name, its arguments and one-line summary for the usage
// text, and run, which builds its own flag set with [newFlags].
type command struct {
	name    string
	args    string // the synopsis after the name, e.g. "[--repair]"
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands is the table of subcommands, in the order help lists them.
func commands() []command {
	cmds := []command{
		{"config", "import|check|reference ...", "convert piuparts' INI files to TOML, check the config, or list its keys", runConfig},
		{"import", "[DIR]", "adopt an existing piuparts master directory (default: master-directory)", runImport},
		{"fsck", "[--repair]", "check that log files and the index agree; repair what can be repaired", runFsck},
		{"status", "[--json] [SECTION...]", "show each section's states, reservations, slaves and recent logs", runStatus},
		{"reservations", "[--expired] [release PACKAGE|--holder ID]", "list reservations, or release them", runReservations},
		{"authorize", "--slave-id NAME [--append FILE] KEYFILE.pub", "print (or append to authorized_keys) the restricted line that lets a slave's key in", runAuthorize},
		{"server", "[--socket NAME]", "serve the slaves' connections from one process (the forced command starts it)", runServer},
	}
	cmds = append(cmds, jobCommands()...)
	return append(cmds, []command{
		{"help", "[COMMAND]", "show the usage of piuparts-master or of a command", runHelp},
		{"version", "", "print the version", runVersion},
	}...)
}

// lookup finds the command named name in cmds.
func lookup(cmds []command, name string) (command, bool) {
	for _, c := range cmds {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// errHelp is returned by [flags.parse] when -h or --help was given and the
// usage was printed: the command returns nil.
var errHelp = errors.New("help requested")

// flags is a command's flag set with its usage text.
type flags struct {
	*flag.FlagSet
	usage string // "piuparts-master NAME ARGS"
	doc   string // what the command does, shown under the usage line
	out   io.Writer
}

// newFlags builds the flag set of the command "name" (e.g. "config
// import"), whose usage line shows args and whose help shows doc.
func newFlags(e *env, name, args, doc string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, and help goes to stdout
	f := &flags{FlagSet: fs, usage: strings.TrimSpace("piuparts-master [-c FILE] " + name + " " + args), doc: doc, out: e.stdout}
	return f
}

// printUsage writes the usage line, the doc and the flags to w.
func (f *flags) printUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n", f.usage)
	if f.doc != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(f.doc, "\n"))
	}
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintf(w, "\nflags:\n")
		f.SetOutput(w)
		f.PrintDefaults()
		f.SetOutput(io.Discard)
	}
}

// parse parses args, flags and positional arguments in any order (so that
// "reservations release hello --section sid" works), and returns the
// positional ones. On -h or --help it prints the usage to stdout and
// returns errHelp; an unknown flag or a bad value is a usage error that
// names the command and the flag.
func (f *flags) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			return nil, f.parseHelp(err)
		}
		args = f.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// usageError is a usage error of this command: main prints it with a hint
// to its help and exits 2.
func (f *flags) usageError(format string, args ...any) error {
	return &usageError{cmd: f.Name(), msg: fmt.Sprintf(format, args...)}
}

// usageError is a command line that could not be understood; it wraps
// errUsage, on which main exits 2.
type usageError struct {
	cmd string // "fsck", "config import"; "" for piuparts-master itself
	msg string
}

func (e *usageError) Error() string {
	if e.cmd == "" {
		return e.msg + " (see piuparts-master help)"
	}
	return fmt.Sprintf("%s: %s (see piuparts-master help %s)", e.cmd, e.msg, e.cmd)
}

func (e *usageError) Unwrap() error { return errUsage }

// done turns errHelp into success: a command that printed its help has
// done what was asked.
func done(err error) error {
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

// mainUsage writes the usage of piuparts-master: the serving mode, the
// global flags and the commands.
func mainUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: piuparts-master [-c FILE] [--slave-id=NAME]       serve the protocol on stdin/stdout\n"+
		"       piuparts-master [-c FILE] COMMAND [ARGS]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-23s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\n\"piuparts-master help COMMAND\" or \"piuparts-master COMMAND --help\" shows a command's usage.\n\nflags:\n")
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}

// runHelp is "help [COMMAND]": the usage of piuparts-master or of COMMAND,
// on stdout.
func runHelp(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "help", "[COMMAND [SUBCOMMAND]]", "Show the usage of piuparts-master or of a command.")
	pos, err := f.parse(args)
	if err != nil {
		return done(err)
	}
	if len(pos) == 0 {
		mainUsage(e.stdout, globalFlags(e, new(string), new(string), new(bool)))
		return nil
	}
	c, ok := lookup(commands(), pos[0])
	if !ok {
		return f.usageError("unknown command %q", pos[0])
	}
	// A command prints its own usage on --help: the one place it is written.
	return c.run(ctx, e, append(pos[1:], "--help"))
}

// runVersion is "version".
func runVersion(_ context.Context, e *env, args []string) error {
	f := newFlags(e, "version", "", "Print the version of piuparts-master.")
	pos, err := f.parse(args)
	if err != nil {
		return done(err)
	}
	if len(pos) > 0 {
		return f.usageError("takes no arguments, have %q", pos[0])
	}
	fmt.Fprintf(e.stdout, "piuparts-master %s\n", version)
	return nil
}

// parseHelp is parse's handling of a flag error, for commands that parse
// with Parse to stop at a subcommand.
func (f *flags) parseHelp(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		f.printUsage(f.out)
		return errHelp
	}
	return f.usageError("%v", err)
}
