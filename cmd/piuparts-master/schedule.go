package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"piuparts-server/master/jobs"
)

// runMaintain is "maintain": the farm's schedule, listed or as files.
func runMaintain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("piuparts-master maintain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	list := fs.Bool("list", false, "print what runs when, and which Debian script each job replaces")
	cron := fs.Bool("cron", false, "print the schedule as an /etc/cron.d file")
	units := fs.String("systemd", "", "write the schedule's systemd services and timers into `DIR`")
	user := fs.String("user", "piupartsm", "the `USER` the jobs run as (the master user)")
	bindir := fs.String("bindir", "/usr/bin", "the `DIR` of the programs")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: piuparts-master maintain --list | --cron | --systemd DIR [--user USER] [--bindir DIR]\n\n"+
			"The maintenance schedule: Debian's crontab-master with our programs.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("maintain: unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	switch {
	case *list:
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "WHEN (cron)\tCOMMAND\tREPLACES")
		for _, e := range jobs.Schedule() {
			fmt.Fprintf(w, "%s\t%s\t%s\n", e.Cron, strings.Join(e.Command, " "), e.Replaces)
		}
		for _, u := range jobs.Unscheduled {
			fmt.Fprintf(w, "-\t\t%s: %s\n", u.Script, u.Why)
		}
		return w.Flush()
	case *cron:
		_, err := io.WriteString(stdout, jobs.Cron(*user, *bindir))
		return err
	case *units != "":
		files := jobs.Units(*user, *bindir)
		if err := os.MkdirAll(*units, 0o755); err != nil {
			return fmt.Errorf("maintain: %w", err)
		}
		for _, name := range slices.Sorted(mapKeys(files)) {
			if err := os.WriteFile(filepath.Join(*units, name), []byte(files[name]), 0o644); err != nil {
				return fmt.Errorf("maintain: %w", err)
			}
			fmt.Fprintln(stdout, filepath.Join(*units, name))
		}
		return nil
	}
	fs.Usage()
	return errUsage
}

func mapKeys(m map[string]string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
