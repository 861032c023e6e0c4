// Command piuparts-scenario runs named end-to-end scenarios of a piuparts
// farm on this machine: masters behind a real OpenSSH sshd on 127.0.0.1
// with forced commands, slaves, Debian's programs beside ours, processes
// killed on purpose. Each scenario prints its steps with their elapsed time
// and result as it goes; at the end a table gives each scenario's result,
// time and key figures.
//
//	piuparts-scenario [--bin DIR] [--demo DIR] [--keep] all | NAME... | list | help
//
// It exits 0 only when every scenario it ran passed (a skipped one, e.g.
// not root, does not count as a failure), 1 when one failed, 2 on a usage
// error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errUsage marks a command line that could not be understood; main exits 2 on it.
var errUsage = errors.New("usage")

// errFailed says that a scenario failed; main exits 1 on it.
var errFailed = errors.New("a scenario failed")

func main() {
	// Whatever ends the run, the scenario's teardown must stop what it
	// started: SIGINT, SIGTERM and SIGHUP cancel the run, and a closed
	// output (piuparts-scenario all | head) is no reason to die.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	signal.Ignore(syscall.SIGPIPE)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2)
	case errors.Is(err, errFailed):
		os.Exit(1)
	default:
		fmt.Fprintf(os.Stderr, "piuparts-scenario: %v\n", err)
		os.Exit(1)
	}
}

// usage writes the command's usage and the scenario list.
func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, `usage: piuparts-scenario [--bin DIR] [--demo DIR] [--keep] all | NAME... | list | help

Runs named end-to-end scenarios of a piuparts farm on 127.0.0.1: our master
behind OpenSSH's sshd with forced commands, our slaves (and Debian's), the demo
archive (deploy/demo) tested by the piuparts simulator. Each scenario prints its
steps with elapsed time and result; a final table gives scenario, result, time
and key figures. Exit status 0 only when every scenario run passed.

  all     run every scenario
  NAME... run the scenarios named
  list    print the scenario names, one a line ("quick" marks make test's set)
  help    print this text

scenarios:
`)
	for _, s := range scenarios() {
		q := ""
		if s.quick {
			q = " (quick)"
		}
		fmt.Fprintf(w, "  %-14s %s%s\n", s.name, s.doc, q)
	}
	fmt.Fprintf(w, "\nflags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintf(w, "\nenvironment:\n  PIUPARTS_SCENARIO_DEB=FILE\n    \tthe .deb the quickstart scenario installs (default: it runs make deb in the checkout)\n")
}

// run is main without the process, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("piuparts-scenario", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var opt options
	fs.StringVar(&opt.bin, "bin", "", "`DIR` holding piuparts-master, piuparts-slave and piuparts-portserver (default: this program's directory if it holds them, else go build them)")
	fs.StringVar(&opt.demo, "demo", "", "`DIR` of the demo archive, simulator and fail list (default: deploy/demo above the current or this program's directory)")
	fs.BoolVar(&opt.keep, "keep", false, "keep each scenario's directory (default: removed when the scenario passed)")
	showVersion := fs.Bool("version", false, "print the version")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout, fs)
			return nil
		}
		fmt.Fprintf(stderr, "piuparts-scenario: %v\n", err)
		usage(stderr, fs)
		return errUsage
	}
	if *showVersion {
		fmt.Fprintf(stdout, "piuparts-scenario %s\n", version)
		return nil
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(stderr, "piuparts-scenario: say which scenarios to run: all, NAME..., list or help\n")
		usage(stderr, fs)
		return errUsage
	}
	var chosen []scenario
	switch fs.Arg(0) {
	case "help":
		usage(stdout, fs)
		return nil
	case "list":
		for _, s := range scenarios() {
			q := ""
			if s.quick {
				q = "\tquick"
			}
			fmt.Fprintf(stdout, "%s%s\n", s.name, q)
		}
		return nil
	case "all":
		if fs.NArg() > 1 {
			fmt.Fprintf(stderr, "piuparts-scenario: all takes no further arguments, got %q\n", strings.Join(fs.Args()[1:], " "))
			return errUsage
		}
		chosen = scenarios()
	default:
		for _, name := range fs.Args() {
			s, ok := lookup(name)
			if !ok {
				fmt.Fprintf(stderr, "piuparts-scenario: no scenario %q (piuparts-scenario list shows them)\n", cut(name))
				return errUsage
			}
			chosen = append(chosen, s)
		}
	}
	results, err := runScenarios(ctx, opt, chosen, stdout, getenv)
	if err != nil {
		return err
	}
	printTable(stdout, results)
	for _, r := range results {
		if r.outcome == outcomeFail {
			return errFailed
		}
	}
	return nil
}

// cut shortens outside input for messages.
func cut(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}
