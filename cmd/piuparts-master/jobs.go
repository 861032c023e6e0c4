package main

import (
	"context"
	"fmt"
	"io"

	"piuparts-server/master/jobs"
)

// jobCommands are the maintenance jobs Debian runs from cron, as commands:
// each acts through the store and prints nothing when there was nothing
// to do.
func jobCommands() []command {
	return []command{
		job("reschedule", "[SECTION...]", "mark the oldest logs for retesting and expire old marked ones", jobs.RescheduleName, true,
			func(ctx context.Context, e *jobs.Env, args []string, _ io.Writer) error {
				_, err := jobs.Reschedule(ctx, e, args)
				return err
			}),
		job("reschedule-untestable", "", "retest packages whose untestable log is older than reschedule-untestable-days",
			jobs.RescheduleUntestableName, false, counted(jobs.RescheduleUntestable)),
		job("archive-logs", "", "move every log of a package but the newest to SECTION/archive/, compressed", "archive_old_logs", false,
			func(ctx context.Context, e *jobs.Env, _ []string, stdout io.Writer) error {
				out, err := jobs.ArchiveLogs(ctx, e)
				fmt.Fprint(stdout, out)
				return err
			}),
		job("detect-network-issues", "", "delete failed logs that show network or mirror problems, to test again",
			"detect_network_issues", false, counted(jobs.DetectNetworkIssues)),
		job("detect-piuparts-issues", "", "delete failed and empty logs that show problems of piuparts or the slave",
			"detect_piuparts_issues", false, counted(jobs.DetectPiupartsIssues)),
		job("detect-archive-issues", "", "move failed logs that show broken packages in the archive to untestable/",
			"detect_archive_issues", false, counted(jobs.DetectArchiveIssues)),
		job("rotate-logs", "", "rotate each section's master.log over 1 MiB, compress and expire old ones", jobs.RotateLogsName, false,
			func(ctx context.Context, e *jobs.Env, _ []string, _ io.Writer) error { return jobs.RotateLogs(ctx, e) }),
		job("backup", "", "copy the farm's history files and the database into backup-directory", "prepare_backup", false,
			func(ctx context.Context, e *jobs.Env, _ []string, stdout io.Writer) error {
				warn, err := jobs.Backup(ctx, e)
				fmt.Fprint(stdout, warn)
				return err
			}),
		job("cleanup", "", "at boot: remove a daily.lock that no running report holds", "master_cleanup", false,
			func(_ context.Context, e *jobs.Env, _ []string, stdout io.Writer) error {
				out, err := jobs.Cleanup(e, "/proc")
				fmt.Fprint(stdout, out)
				return err
			}),
		{"reschedule-tests", "[--pass] [--affected] [--bugged] [--current|--longterm] [--dryrun] PROBLEM | --logfiles LOG...",
			"mark the logs that show a known problem (or the logs named) for retesting", runRescheduleTests},
		{"maintain", "--list | --cron | --systemd DIR", "the maintenance schedule: what runs when, as cron or systemd files", runMaintain},
	}
}

// jobRun runs a job with its positional arguments.
type jobRun func(ctx context.Context, e *jobs.Env, args []string, stdout io.Writer) error

// job makes the command of a job without flags of its own; it takes
// arguments only when takesArgs.
func job(name, args, summary, replaces string, takesArgs bool, run jobRun) command {
	return command{name, args, summary, func(ctx context.Context, e *env, argv []string) error {
		f := newFlags(e, name, args, fmt.Sprintf("%s (Debian's %s).\nIt prints nothing when there was nothing to do.", summary, replaces))
		pos, err := f.parse(argv)
		if err != nil {
			return done(err)
		}
		if len(pos) > 0 && !takesArgs {
			return f.usageError("takes no arguments, have %q", pos[0])
		}
		return runJob(ctx, e, name, pos, run)
	}}
}

// runJob opens the master directory as the maintenance commands do and
// runs a job on it.
func runJob(ctx context.Context, e *env, name string, args []string, run jobRun) error {
	m, err := openMaintenance(ctx, e, "")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer m.db.Close()
	if err := run(ctx, &jobs.Env{Config: m.cfg, DB: m.db}, args, e.stdout); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// counted runs a job that returns a count and publishes its report.
func counted(f func(context.Context, *jobs.Env) (int, error)) jobRun {
	return func(ctx context.Context, e *jobs.Env, _ []string, _ io.Writer) error {
		_, err := f(ctx, e)
		return err
	}
}

// runRescheduleTests is "reschedule-tests", with reschedule_piuparts_tests'
// flags.
func runRescheduleTests(ctx context.Context, e *env, argv []string) error {
	f := newFlags(e, "reschedule-tests", "[--pass] [--affected] [--bugged] [--current|--longterm] [--dryrun] PROBLEM | --logfiles LOG...",
		"Mark for retesting the logs whose .kpr lists the known problem PROBLEM (an extended regular\n"+
			"expression over the .conf names, e.g. \"dependency_error|command_not_found_error\") in fail/ and\n"+
			"untestable/, or the log files named (Debian's reschedule_piuparts_tests).")
	var o jobs.RetestOptions
	f.BoolVar(&o.Pass, "pass", false, "also mark logs in pass/")
	f.BoolVar(&o.Affected, "affected", false, "also mark logs in affected/")
	f.BoolVar(&o.Bugged, "bugged", false, "also mark logs in bugged/ and affected/")
	f.BoolVar(&o.Current, "current", false, "only sections of testing, sid and experimental")
	f.BoolVar(&o.Longterm, "longterm", false, "only the *22testing sections")
	f.BoolVar(&o.DryRun, "dryrun", false, "list the candidates, mark nothing")
	f.BoolVar(&o.LogFiles, "logfiles", false, "the arguments are log files (SECTION/KIND/NAME_VERSION.log under master-directory)")
	pos, err := f.parse(argv)
	if err != nil {
		return done(err)
	}
	if len(pos) == 0 {
		return f.usageError("name a known problem, or log files with --logfiles")
	}
	return runJob(ctx, e, "reschedule-tests", pos, func(ctx context.Context, je *jobs.Env, args []string, stdout io.Writer) error {
		out, err := jobs.RescheduleTests(ctx, je, o, args)
		fmt.Fprint(stdout, out)
		return err
	})
}
