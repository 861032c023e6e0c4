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
	// flags defines the job's flags and returns what runs it.
	flags func(fs *flag.FlagSet) jobRun
}{
	{"reschedule", "[SECTION...]", "mark the oldest logs for retesting and expire old marked ones",
		jobs.RescheduleName, plain(func(ctx context.Context, e *jobs.Env, args []string, _ io.Writer) error {
			_, err := jobs.Reschedule(ctx, e, args)
			return err
		})},
	{"reschedule-untestable", "", "retest packages whose untestable log is older than reschedule-untestable-days",
		jobs.RescheduleUntestableName, plain(countJob(jobs.RescheduleUntestable))},
	{"archive-logs", "", "move every log of a package but the newest to SECTION/archive/, compressed",
		"archive_old_logs", plain(func(ctx context.Context, e *jobs.Env, args []string, stdout io.Writer) error {
			if len(args) > 0 {
				return fmt.Errorf("want no arguments: %w", errUsage)
			}
			out, err := jobs.ArchiveLogs(ctx, e)
			fmt.Fprint(stdout, out)
			return err
		})},
	{"detect-network-issues", "", "delete failed logs that show network or mirror problems, to test again",
		"detect_network_issues", plain(countJob(jobs.DetectNetworkIssues))},
	{"detect-piuparts-issues", "", "delete failed and empty logs that show problems of piuparts or the slave",
		"detect_piuparts_issues", plain(countJob(jobs.DetectPiupartsIssues))},
	{"detect-archive-issues", "", "move failed logs that show broken packages in the archive to untestable/",
		"detect_archive_issues", plain(countJob(jobs.DetectArchiveIssues))},
	{"rotate-logs", "", "rotate each section's master.log over 1 MiB, compress and expire old ones",
		jobs.RotateLogsName, plain(func(ctx context.Context, e *jobs.Env, args []string, _ io.Writer) error {
			if len(args) > 0 {
				return fmt.Errorf("want no arguments: %w", errUsage)
			}
			return jobs.RotateLogs(ctx, e)
		})},
	{"backup", "", "copy the farm's history files and the database into backup-directory",
		"prepare_backup", plain(func(ctx context.Context, e *jobs.Env, args []string, stdout io.Writer) error {
			if len(args) > 0 {
				return fmt.Errorf("want no arguments: %w", errUsage)
			}
			warn, err := jobs.Backup(ctx, e)
			fmt.Fprint(stdout, warn)
			return err
		})},
	{"cleanup", "", "at boot: remove a daily.lock that no running report holds",
		"master_cleanup", plain(func(ctx context.Context, e *jobs.Env, args []string, stdout io.Writer) error {
			if len(args) > 0 {
				return fmt.Errorf("want no arguments: %w", errUsage)
			}
			out, err := jobs.Cleanup(e, "/proc")
			fmt.Fprint(stdout, out)
			return err
		})},
	{name: "reschedule-tests", args: "[--pass] [--affected] [--bugged] [--current|--longterm] [--dryrun] PROBLEM | --logfiles LOG...",
		summary: "mark the logs that show a known problem (or the logs named) for retesting", replaces: "reschedule_piuparts_tests",
		flags: rescheduleTests},
}

// countJob runs a job that takes no arguments and publishes its report.
func countJob(f func(context.Context, *jobs.Env) (int, error)) jobRun {
	return func(ctx context.Context, e *jobs.Env, args []string, _ io.Writer) error {
		if len(args) > 0 {
			return fmt.Errorf("want no arguments: %w", errUsage)
		}
		_, err := f(ctx, e)
		return err
	}
}

// rescheduleTests is "reschedule-tests": its flags are
// reschedule_piuparts_tests'.
func rescheduleTests(fs *flag.FlagSet) jobRun {
	var o jobs.RetestOptions
	fs.BoolVar(&o.Pass, "pass", false, "also mark logs in pass/")
	fs.BoolVar(&o.Affected, "affected", false, "also mark logs in affected/")
	fs.BoolVar(&o.Bugged, "bugged", false, "also mark logs in bugged/ and affected/")
	fs.BoolVar(&o.Current, "current", false, "only sections of testing, sid and experimental")
	fs.BoolVar(&o.Longterm, "longterm", false, "only the *22testing sections")
	fs.BoolVar(&o.DryRun, "dryrun", false, "list the candidates, mark nothing")
	fs.BoolVar(&o.LogFiles, "logfiles", false, "the arguments are log files (SECTION/KIND/NAME_VERSION.log under master-directory)")
	return func(ctx context.Context, e *jobs.Env, args []string, stdout io.Writer) error {
		out, err := jobs.RescheduleTests(ctx, e, o, args)
		fmt.Fprint(stdout, out)
		return err
	}
}

// plain is the flags of a job without flags of its own.
func plain(run jobRun) func(*flag.FlagSet) jobRun {
	return func(*flag.FlagSet) jobRun { return run }
}

// jobRun runs a job with its arguments.
type jobRun func(ctx context.Context, e *jobs.Env, args []string, stdout io.Writer) error

// runJob runs the maintenance job name with its arguments; it reports
// false when there is no such job.
func runJob(ctx context.Context, name string, args []string, configPath string, stdout, stderr io.Writer) (bool, error) {
	for _, j := range jobCommands {
		if j.name != name {
			continue
		}
		fs := flag.NewFlagSet("piuparts-master "+name, flag.ContinueOnError)
		fs.SetOutput(stderr)
		run := j.flags(fs)
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
		if err := run(ctx, &jobs.Env{Config: m.cfg, DB: m.db}, fs.Args(), stdout); err != nil {
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
