package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// StateWaitingToBeTested is the state a package must be in to be reserved.
const StateWaitingToBeTested = "waiting-to-be-tested"

// PackageState is the computed state of one package, as piupartslib names
// states ("successfully-tested", "waiting-to-be-tested", ...).
type PackageState struct {
	Package string
	State   string
}

// SetStates replaces the computed states of a section with states in one
// transaction, and records inputs (a fingerprint of what they were computed
// from, e.g. including [Section.Generation]) and now. Every package must be
// one of the section's packages. It returns ErrNoSection for a section that
// has no packages row yet and the driver's constraint error for an unknown
// package; then nothing is changed.
func (db *DB) SetStates(ctx context.Context, section, inputs string, now time.Time, states []PackageState) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		id, ok, err := lookupSection(ctx, tx, section)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNoSection
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM states WHERE section_id = ?", id); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, "INSERT INTO states (section_id, package, state) VALUES (?, ?, ?)")
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, s := range states {
			if _, err := stmt.ExecContext(ctx, id, s.Package, s.State); err != nil {
				return fmt.Errorf("package %s: %w", quote(s.Package), err)
			}
		}
		_, err = tx.ExecContext(ctx, "UPDATE sections SET states_inputs = ?, states_computed_at = ? WHERE id = ?",
			inputs, unix(now), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("set states of %s: %w", quote(section), err)
	}
	return nil
}

// States returns the computed states of a section sorted by package; none
// when they were never computed or the packages changed since.
func (db *DB) States(ctx context.Context, section string) ([]PackageState, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT package, state FROM states
		WHERE section_id = (SELECT id FROM sections WHERE name = ?) ORDER BY package`, section)
	if err != nil {
		return nil, fmt.Errorf("list states of %s: %w", quote(section), err)
	}
	defer rows.Close()
	var ss []PackageState
	for rows.Next() {
		var s PackageState
		if err := rows.Scan(&s.Package, &s.State); err != nil {
			return nil, fmt.Errorf("list states of %s: %w", quote(section), err)
		}
		ss = append(ss, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list states of %s: %w", quote(section), err)
	}
	return ss, nil
}

// StateCounts returns how many packages of a section are in each state;
// states without packages are absent from the map.
func (db *DB) StateCounts(ctx context.Context, section string) (map[string]int, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT state, count(*) FROM states
		WHERE section_id = (SELECT id FROM sections WHERE name = ?) GROUP BY state`, section)
	if err != nil {
		return nil, fmt.Errorf("count states of %s: %w", quote(section), err)
	}
	defer rows.Close()
	counts := make(map[string]int)
	for rows.Next() {
		var (
			state string
			n     int
		)
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("count states of %s: %w", quote(section), err)
		}
		counts[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count states of %s: %w", quote(section), err)
	}
	return counts, nil
}
