package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded migrations/NNN_name.sql file.
type migration struct {
	version int    // NNN
	name    string // file name
	sql     string
}

// loadMigrations reads the embedded migrations in order and checks they are
// numbered 1, 2, 3, ... without gaps.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("read migrations: %q is not named NNN_name.sql", e.Name())
		}
		b, err := migrationFS.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("read migrations: %s: want number %03d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate applies migrations ms[current:target] to db, one transaction each,
// and records each in PRAGMA user_version inside its transaction. The version
// is read inside the (IMMEDIATE) transaction, so two processes opening a new
// file at once do not both run a migration. A database newer than ms is
// refused with ErrSchemaTooNew.
func migrate(ctx context.Context, db *sql.DB, ms []migration, target int) error {
	for {
		done, err := migrateOne(ctx, db, ms, target)
		if err != nil || done {
			return err
		}
	}
}

// migrateOne applies the next migration up to target and reports whether
// there was none left to apply.
func migrateOne(ctx context.Context, db *sql.DB, ms []migration, target int) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("migrate: read schema version: %w", err)
	}
	if v > len(ms) {
		return false, fmt.Errorf("schema version %d, this program knows up to %d: %w", v, len(ms), ErrSchemaTooNew)
	}
	if v >= target {
		return true, nil
	}
	m := ms[v]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("migrate: apply %s: %w", m.name, err)
	}
	// PRAGMA takes no bound parameters; m.version is an int we parsed.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
		return false, fmt.Errorf("migrate: record %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate: commit %s: %w", m.name, err)
	}
	return false, nil
}
