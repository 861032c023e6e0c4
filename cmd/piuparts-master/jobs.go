package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"piuparts-server/master/jobs"
)

// jobCommands are the maintenance jobs Debian runs from cron, by the
// name of their subcommand: a summary for the help and what runs them.
var jobCommands = []struct {
	name, args, summary, replaces string
	run                           func(ctx context.Context, e *jobs.Env, args []string, stdout io.Writer) error
}{
	{"reschedule", "[SECTION...]", "mark the oldest logs for retesting and expire old marked ones",
		jobs.RescheduleName, func(ctx context.Context, e *jobs.Env, args []string, _ io.Writer) error {
			_, err := jobs.Reschedule(ctx, e, args)
			return err
		}},
	{"reschedule-untestable", "", "retest packages whose untestable log is older than reschedule-untestable-days",
		jobs.RescheduleUntestableName, countJob(jobs.RescheduleUntestable)},
	{"archive-logs", "", "move every log of a package but the newest to SECTION/archive/, compressed",
		"archive_old_logs", func(ctx context.Context, e *jobs.Env, args []string, stdout io.Writer) error {
			if len(args) > 0 {
				return fmt.Errorf("want no arguments: %w", errUsage)
			}
			out, err := jobs.ArchiveLogs(ctx, e)
			fmt.Fprint(stdout, out)
			return err
		}},
	{"detect-network-issues", "", "delete failed logs that show network or mirror problems, to test again",
		"detect_network_issues", countJob(jobs.DetectNetworkIssues)},
	{"detect-piuparts-issues", "", "delete failed and empty logs that show problems of piuparts or the slave",
		"detect_piuparts_issues", countJob(jobs.DetectPiupartsIssues)},
	{"detect-archive-issues", "", "move failed logs that show broken packages in the archive to untestable/",
		"detect_archive_issues", countJob(jobs.DetectArchiveIssues)},
}

// countJob runs a job that takes no arguments and publishes its report.
func countJob(f func(context.Context, *jobs.Env) (int, error)) func(context.Context, *jobs.Env, []string, io.Writer) error {
	return func(ctx context.Context, e *jobs.Env, args []string, _ io.Writer) error {
		if len(args) > 0 {
			return fmt.Errorf("want no arguments: %w", errUsage)
		}
		_, err := f(ctx, e)
		return err
	}
}

// runJob runs the maintenance job name with its arguments; it reports
// false when there is no such job.
func runJob(ctx context.Context, name string, args []string, configPath string, stdout, stderr io.Writer) (bool, error) {
	for _, j := range jobCommands {
		if j.name != name {
			continue
		}
		fs := flag.NewFlagSet("piuparts-master "+name, flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.Usage = func() {
			fmt.Fprintf(stderr, "usage: piuparts-master [-c FILE] %s %s\n\n%s (Debian's %s).\n"+
				"It prints nothing when there was nothing to do.\n", name, j.args, j.summary, j.replaces)
			fs.PrintDefaults()
		}
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return true, nil
			}
			return true, errUsage
		}
		m, err := openMaintenance(ctx, configPath, "")
		if err != nil {
			return true, fmt.Errorf("%s: %w", name, err)
		}
		defer m.db.Close()
		if err := j.run(ctx, &jobs.Env{Config: m.cfg, DB: m.db}, fs.Args(), stdout); err != nil {
			return true, fmt.Errorf("%s: %w", name, err)
		}
		return true, nil
	}
	return false, nil
}

// jobsUsage lists the jobs for the command's help.
func jobsUsage() string {
	var b []byte
	for _, j := range jobCommands {
		b = fmt.Appendf(b, "  %-22s %s\n", j.name, j.summary)
	}
	return string(b)
}
