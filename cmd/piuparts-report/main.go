// Command piuparts-report writes the static web report of a piuparts
// farm, as Debian's piuparts-report does, from the same config the
// master reads:
//
//	piuparts-report [-c FILE] [SECTION...]
//
// It reads each section's Packages and Sources, the master directory and
// the master's store, and writes output-directory: per section the state
// pages, log lists, source and maintainer pages, known-problem pages,
// the log copies (hard links), sources.txt, sources.yaml, counts.txt and
// summary.json; at the top the front page, sections.yaml and the global
// summary.json. Like the reference it also changes the master directory:
// logs of packages gone from the archive move to SECTION/archive/, each
// log gets its known-problem report (.kpr) and counts.txt a line a day.
//
// Files whose content did not change are not written again. A run takes
// MASTER/report.lock: when another run holds it, this one says so and
// exits 0 (cron runs overlap harmlessly). Progress goes to a terminal;
// under cron only errors are printed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
	"piuparts-server/internal/debian"
	"piuparts-server/internal/logging"
	"piuparts-server/master"
	"piuparts-server/master/state"
	"piuparts-server/report"
	"piuparts-server/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// errUsage marks a command line that could not be understood; main exits 2 on it.
var errUsage = errors.New("usage")

// DefaultMemoryLimit is the Go heap's soft limit when $GOMEMLIMIT is not
// set: a report of all of Debian's main keeps 150-200 MB live at its
// collections; without a limit the heap grows to twice that before it is
// collected, and a lower limit makes the collector run often enough to
// cost time. With neither $GOMEMLIMIT nor $GOGC set, the limit alone
// starts a collection: the heap of such a report is at the limit most of
// the run anyway, and the collections GOGC's growth rule adds while the
// model is loaded cost a tenth of a rerun's CPU.
const DefaultMemoryLimit = 360 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(-1)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv, isTerminal(os.Stderr))
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "piuparts-report: %v\n", err)
		os.Exit(1)
	}
}

// isTerminal reports whether f is a terminal (a character device).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// run is main without the process, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, tty bool) error {
	fs := flag.NewFlagSet("piuparts-report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("c", "", "config `FILE` (default $PIUPARTS_CONFIG, else "+config.DefaultPath+")")
	showVersion := fs.Bool("version", false, "print the version and exit")
	quiet := fs.Bool("q", false, "print errors only, also on a terminal")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to `FILE` (for developers)")
	memProfile := fs.String("memprofile", "", "write a heap profile (allocations) to `FILE` at the end (for developers)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: piuparts-report [-c FILE] [-q] [SECTION...]\n\n"+
			"Writes the web report of the config's sections (all when none is named) into\n"+
			"output-directory, rewriting only the files that changed. Exits 0 when another\n"+
			"piuparts-report holds MASTER/report.lock.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	if *showVersion {
		fmt.Fprintf(stdout, "piuparts-report %s\n", version)
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
	if *memProfile != "" {
		defer func() {
			if f, err := os.Create(*memProfile); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	path := config.ResolvePath(*configPath, getenv)
	cfg, err := config.LoadForHost(ctx, path, "/etc/apt")
	if err != nil {
		return err
	}
	level := cfg.Global.Level()
	if !tty || *quiet {
		level = max(level, zerolog.ErrorLevel)
	}
	log := logging.New(stderr, "piuparts-report", level, cfg.Global.LogFormat)
	dir, err := filepath.Abs(cfg.Global.MasterDirectory)
	if err != nil {
		return fmt.Errorf("master directory: %w", err)
	}
	db, err := store.OpenMaster(ctx, dir, cfg.Global.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	cache := &master.Cache{Piuparts: cfg, DB: db, Log: log}
	g := &report.Generator{
		Config: cfg,
		DB:     db,
		Snapshot: func(ctx context.Context, section string, standalone []string) (*state.Result, []*debian.Package, error) {
			snap, err := cache.Snapshot(ctx, section, false, standalone...)
			if err != nil {
				return nil, nil, err
			}
			return snap.Result, snap.Packages, nil
		},
		StatesKey: func(ctx context.Context, section string) (string, error) {
			return cache.StatesKey(ctx, section, false)
		},
		Version: version,
		Out:     cfg.Global.OutputDirectory,
		Log:     log,
	}
	if tty && !*quiet {
		g.Progress = stderr
	}
	start := time.Now()
	st, err := g.Run(ctx, fs.Args())
	if errors.Is(err, report.ErrBusy) {
		fmt.Fprintln(stderr, "piuparts-report: another piuparts-report is running (it holds MASTER/report.lock); nothing done")
		return nil
	}
	if err != nil {
		return err
	}
	g.Log.Debug().Int("sections", st.Sections).Int("written", st.Written).Int("unchanged", st.Unchanged).
		Int("archived", st.Archived).Dur("dur", time.Since(start)).Msg("report written")
	if g.Progress != nil {
		fmt.Fprintf(stderr, "%d sections: %d files written, %d unchanged, %d logs archived, in %.1fs; front page %s\n",
			st.Sections, st.Written, st.Unchanged, st.Archived, time.Since(start).Seconds(),
			filepath.Join(cfg.Global.OutputDirectory, "index.html"))
	}
	return nil
}
