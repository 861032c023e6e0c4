package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// StateCounts is how many packages of a section were in each state at one
// time: one point of the report's chart.
type StateCounts struct {
	At     time.Time
	Counts map[string]int
}

// RecordStateCounts records the state counts of a section at a time (seconds
// precision), replacing what was recorded for that same time. It creates the
// section if needed, and returns a *NameError for an unsafe section name.
func (db *DB) RecordStateCounts(ctx context.Context, section string, at time.Time, counts map[string]int) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		id, err := ensureSection(ctx, tx, section)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM state_counts WHERE section_id = ? AND at = ?", id, unix(at)); err != nil {
			return err
		}
		for state, n := range counts {
			if _, err := tx.ExecContext(ctx, "INSERT INTO state_counts (section_id, at, state, count) VALUES (?, ?, ?, ?)",
				id, unix(at), state, n); err != nil {
				return fmt.Errorf("state %s: %w", quote(state), err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record state counts of %s: %w", quote(section), err)
	}
	return nil
}

// StateCountHistory returns the recorded state counts of a section, oldest
// first.
func (db *DB) StateCountHistory(ctx context.Context, section string) ([]StateCounts, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT at, state, count FROM state_counts
		WHERE section_id = (SELECT id FROM sections WHERE name = ?) ORDER BY at, state`, section)
	if err != nil {
		return nil, fmt.Errorf("read state count history of %s: %w", quote(section), err)
	}
	defer rows.Close()
	var hs []StateCounts
	for rows.Next() {
		var (
			at    int64
			state string
			n     int
		)
		if err := rows.Scan(&at, &state, &n); err != nil {
			return nil, fmt.Errorf("read state count history of %s: %w", quote(section), err)
		}
		if len(hs) == 0 || unix(hs[len(hs)-1].At) != at {
			hs = append(hs, StateCounts{At: fromUnix(at), Counts: make(map[string]int)})
		}
		hs[len(hs)-1].Counts[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read state count history of %s: %w", quote(section), err)
	}
	return hs, nil
}
