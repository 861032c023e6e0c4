package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Fingerprint identifies the contents of the Packages file(s) a section's
// packages were loaded from, so the master can skip parsing unchanged files.
type Fingerprint struct {
	Size    int64
	ModTime time.Time // stored with nanosecond precision
	SHA256  string    // hex
	// Stat identifies the files as a stat finds them (names, sizes,
	// modification times): while it matches, their contents need not be
	// read to know they are unchanged.
	Stat string
}

// Section is the stored state of one section besides its packages.
type Section struct {
	Name       string
	ConfigHash string // set with [DB.SetConfigHash]

	Packages          Fingerprint // of the loaded Packages file(s)
	PackagesUpdatedAt time.Time   // zero until [DB.ReplacePackages] ran

	// Generation is bumped by every change to the section's packages or log
	// index (not by reservations); record it in the states' inputs to know
	// whether they must be computed again.
	Generation int64

	StatesInputs     string    // as given to [DB.SetStates]
	StatesComputedAt time.Time // zero until [DB.SetStates] ran
	StatesSeq        int64     // how many times [DB.SetStates] ran
	StatesRecycle    bool      // the states were computed in recycle mode

	IdleAt        time.Time // piuparts' idle.stamp; zero when not idle
	RecycleIdleAt time.Time // piuparts' recycle.stamp; zero when not idle
}

const sectionColumns = `name, config_hash, packages_size, packages_mtime, packages_sha256,
	packages_stat, packages_updated_at, generation, states_inputs, states_computed_at, states_seq, states_recycle, idle_at, recycle_idle_at`

// scanSection reads one row of sectionColumns.
func scanSection(row interface{ Scan(...any) error }) (Section, error) {
	var (
		s                                    Section
		mtime                                int64
		updated, computed, idle, recycleIdle sql.NullInt64
	)
	err := row.Scan(&s.Name, &s.ConfigHash, &s.Packages.Size, &mtime, &s.Packages.SHA256, &s.Packages.Stat,
		&updated, &s.Generation, &s.StatesInputs, &computed, &s.StatesSeq, &s.StatesRecycle, &idle, &recycleIdle)
	if err != nil {
		return Section{}, err
	}
	if mtime != 0 {
		s.Packages.ModTime = time.Unix(0, mtime).UTC()
	}
	s.PackagesUpdatedAt = fromNullUnix(updated)
	s.StatesComputedAt = fromNullUnix(computed)
	s.IdleAt = fromNullUnix(idle)
	s.RecycleIdleAt = fromNullUnix(recycleIdle)
	return s, nil
}

// Section returns the stored state of the named section. It returns an error
// wrapping [ErrNoSection] when nothing was stored for it yet.
func (db *DB) Section(ctx context.Context, name string) (Section, error) {
	row := db.db.QueryRowContext(ctx, "SELECT "+sectionColumns+" FROM sections WHERE name = ?", name)
	s, err := scanSection(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNoSection
	}
	if err != nil {
		return Section{}, fmt.Errorf("read section %s: %w", quote(name), err)
	}
	return s, nil
}

// Sections returns every stored section, by name.
func (db *DB) Sections(ctx context.Context) ([]Section, error) {
	rows, err := db.db.QueryContext(ctx, "SELECT "+sectionColumns+" FROM sections ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list sections: %w", err)
	}
	defer rows.Close()
	var ss []Section
	for rows.Next() {
		s, err := scanSection(rows)
		if err != nil {
			return nil, fmt.Errorf("list sections: %w", err)
		}
		ss = append(ss, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sections: %w", err)
	}
	return ss, nil
}

// SetConfigHash records the hash of the section's configuration, creating
// the section if needed. It returns a *NameError for an unsafe section name.
func (db *DB) SetConfigHash(ctx context.Context, section, hash string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		id, err := ensureSection(ctx, tx, section)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE sections SET config_hash = ? WHERE id = ?", hash, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("set config hash of %s: %w", quote(section), err)
	}
	return nil
}

// SetIdle records when the section was found to have nothing to reserve
// (piuparts' idle.stamp, or recycle.stamp when recycle is true); the zero
// time clears the stamp. It creates the section if needed and returns a
// *NameError for an unsafe section name.
func (db *DB) SetIdle(ctx context.Context, section string, recycle bool, at time.Time) error {
	col := "idle_at"
	if recycle {
		col = "recycle_idle_at"
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		id, err := ensureSection(ctx, tx, section)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE sections SET "+col+" = ? WHERE id = ?", nullUnix(at), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("set idle stamp of %s: %w", quote(section), err)
	}
	return nil
}

// ensureSection returns the id of the named section, creating its row.
func ensureSection(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	if err := CheckName("section", name); err != nil {
		return 0, err
	}
	var id int64
	err := tx.QueryRowContext(ctx,
		`INSERT INTO sections (name) VALUES (?)
		 ON CONFLICT (name) DO UPDATE SET name = excluded.name
		 RETURNING id`, name).Scan(&id)
	return id, err
}

// lookupSection returns the id of the named section, or ok false.
func lookupSection(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string) (id int64, ok bool, err error) {
	err = q.QueryRowContext(ctx, "SELECT id FROM sections WHERE name = ?", name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}
