package main

import (
	"context"
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
func runMaintain(_ context.Context, e *env, args []string) error {
	f := newFlags(e, "maintain", "--list | --cron | --systemd DIR [--user USER] [--bindir DIR]",
		"The maintenance schedule: Debian's crontab-master with our programs.")
	list := f.Bool("list", false, "print what runs when, and which Debian script each job replaces")
	cron := f.Bool("cron", false, "print the schedule as an /etc/cron.d file")
	units := f.String("systemd", "", "write the schedule's systemd services and timers into `DIR`")
	user := f.String("user", "piupartsm", "the `USER` the jobs run as (the master user)")
	bindir := f.String("bindir", "/usr/bin", "the `DIR` of the programs")
	pos, err := f.parse(args)
	if err != nil {
		return done(err)
	}
	if len(pos) > 0 {
		return f.usageError("takes no arguments, have %q", pos[0])
	}
	stdout := e.stdout
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
	return f.usageError("say --list, --cron or --systemd DIR")
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
