package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"piuparts-server/internal/config"
	"piuparts-server/internal/piuparts"
	"piuparts-server/store"
)

// errProblems means fsck found problems it did not repair; main exits 1.
var errProblems = errors.New("problems remain")

// maintenance is what import and fsck work on: the master directory, its
// database and its sections.
type maintenance struct {
	cfg *config.Config
	dir string
	db  *store.DB
}

// openMaintenance loads the config and opens the database of the master
// directory dir (the config's master-directory when dir is empty). Run as
// root on a master directory of another user, it refuses before touching
// anything: opening the database would leave root-owned files there.
func openMaintenance(ctx context.Context, e *env, dir string) (*maintenance, error) {
	cfg, err := config.Load(e.configPath)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		dir = cfg.Global.MasterDirectory
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("master directory: %w", err)
	}
	if err := store.CheckOwner(dir); err != nil {
		return nil, e.asMasterUser(err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("master directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("master directory %s: not a directory", dir)
	}
	db, err := store.OpenMaster(ctx, dir, cfg.Global.DB)
	if err != nil {
		return nil, err
	}
	return &maintenance{cfg: cfg, dir: dir, db: db}, nil
}

// lease is the reserved-expire of a section, or the default for a section
// the config does not list.
func (m *maintenance) lease(section string) time.Duration {
	if s, err := m.cfg.Section(section); err == nil {
		return s.Lease()
	}
	return config.DefaultReservedExpire
}

// runImport adopts an existing piuparts master directory: "import [DIR]".
func runImport(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "import", "[DIR]", "Adopt an existing piuparts master directory (default: the config's master-directory):\n"+
		"index its logs, reservations and submissions.txt in the database. Running it again\n"+
		"updates the index; it prints one line per section.")
	pos, err := f.parse(args)
	if err != nil {
		return done(err)
	}
	if len(pos) > 1 {
		return f.usageError("want at most one master directory, have %d", len(pos))
	}
	dir := ""
	if len(pos) == 1 {
		dir = pos[0]
	}
	stdout := e.stdout
	m, err := openMaintenance(ctx, e, dir)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer m.db.Close()
	sections, err := m.db.Tree().Sections()
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	for _, s := range sections {
		start := time.Now()
		sum, err := m.db.ImportSection(ctx, m.db.Tree(), s, m.lease(s))
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		for _, sk := range sum.Skipped {
			fmt.Fprintf(stdout, "%s: skipped %s: %s\n", s, sk.Path, sk.Reason)
		}
		var kinds []string
		for _, k := range piuparts.Kinds() {
			if n := sum.Indexed[k]; n > 0 {
				kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
			}
		}
		if len(kinds) == 0 {
			kinds = []string{"none"}
		}
		fmt.Fprintf(stdout, "%s: indexed %s; unchanged %d, updated %d; reservations %d new, %d kept; submissions %d new, %d kept; skipped %d (%.1fs)\n",
			s, strings.Join(kinds, " "), sum.Unchanged, sum.Updated, sum.Reservations, sum.ReservationsKept,
			sum.Submissions, sum.SubmissionsKept, len(sum.Skipped), time.Since(start).Seconds())
	}
	if len(sections) == 0 {
		fmt.Fprintf(stdout, "no section directories in %s\n", m.dir)
	}
	return nil
}

// runFsck checks the log tree against the database: "fsck [--repair]".
func runFsck(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "fsck", "[--repair]", "Check that the log files under master-directory and the database's index agree;\n"+
		"print one line per problem, then \"clean\" or \"N problems remain\" (exit 1).")
	repair := f.Bool("repair", false, "repair what can be repaired")
	pos, err := f.parse(args)
	if err != nil {
		return done(err)
	}
	if len(pos) > 0 {
		return f.usageError("takes no arguments, have %q", pos[0])
	}
	stdout := e.stdout
	m, err := openMaintenance(ctx, e, "")
	if err != nil {
		return fmt.Errorf("fsck: %w", err)
	}
	defer m.db.Close()
	sections, err := m.db.Tree().Sections()
	if err != nil {
		return fmt.Errorf("fsck: %w", err)
	}
	remaining := 0
	for _, s := range sections {
		found, err := m.db.CheckSection(ctx, m.db.Tree(), s, time.Now(), *repair)
		if err != nil {
			return fmt.Errorf("fsck: %w", err)
		}
		for _, f := range found {
			fmt.Fprintln(stdout, f.String())
			if !f.Repaired {
				remaining++
			}
		}
	}
	if remaining > 0 {
		fmt.Fprintf(stdout, "%d problems remain\n", remaining)
		return fmt.Errorf("fsck: %d %w", remaining, errProblems)
	}
	fmt.Fprintln(stdout, "clean")
	return nil
}
