package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// StateWaitingToBeTested is the state a package must be in to be reserved.
const StateWaitingToBeTested = "waiting-to-be-tested"

// PackageState is the computed state of one package, as piupartslib names
// states ("successfully-tested", "waiting-to-be-tested", ...).
type PackageState struct {
	Package string
	// Version is the tested version (see [Package.TestedVersion]): the
	// version reserve hands out and logs are named after.
	Version string
	State   string
	// Rank orders the packages reserve offers, from 1 (first offered);
	// 0 means the package is not offered (see [DB.ReserveNext]).
	Rank int
}

// SetStates replaces the computed states of a section with states in one
// transaction, and records inputs (a fingerprint of what they were computed
// from, e.g. including [Section.Generation]) and now. Only the rows that
// changed are written: a recomputation after a new log or a new Packages
// file touches few of them. It returns an error wrapping ErrNoSection for a
// section that has no row yet, and an error for a state without package,
// version or state, or a package given twice; then nothing is changed.
func (db *DB) SetStates(ctx context.Context, section, inputs string, now time.Time, states []PackageState) error {
	rows, ranks, err := encodeStates(states)
	if err != nil {
		return fmt.Errorf("set states of %s: %w", quote(section), err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		id, ok, err := lookupSection(ctx, tx, section)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNoSection
		}
		// The rows come as one JSON array, [[package, version, state],
		// ...]: one call into SQLite instead of one per package. Unchanged
		// rows are not written.
		if _, err := tx.ExecContext(ctx, `DELETE FROM states WHERE section_id = :sid
			AND package NOT IN (SELECT value->>0 FROM json_each(:rows))`,
			sql.Named("sid", id), sql.Named("rows", rows)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO states (section_id, package, version, state)
			SELECT :sid, value->>0, value->>1, value->>2 FROM json_each(:rows) WHERE true
			ON CONFLICT (section_id, package) DO UPDATE SET version = excluded.version, state = excluded.state
			WHERE version IS NOT excluded.version OR state IS NOT excluded.state`,
			sql.Named("sid", id), sql.Named("rows", rows)); err != nil {
			return err
		}
		// The reserve order changes with every computation: it is small
		// and replaced whole.
		if _, err := tx.ExecContext(ctx, "DELETE FROM candidates WHERE section_id = ?", id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO candidates (section_id, rank, package)
			SELECT ?, value->>1, value->>0 FROM json_each(?)`, id, ranks); err != nil {
			return err
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

// encodeStates checks states and encodes them as JSON arrays: the states
// as [[package, version, state], ...], the ranked ones as [[package, rank],
// ...].
func encodeStates(states []PackageState) (rows, ranks string, err error) {
	seen := make(map[string]struct{}, len(states))
	ranked := make(map[int]struct{})
	b := make([]byte, 0, 64*len(states)+2)
	r := []byte{'['}
	b = append(b, '[')
	for i, s := range states {
		if s.Package == "" || s.Version == "" || s.State == "" {
			return "", "", fmt.Errorf("state %d (%s): empty package, version or state", i, quote(s.Package))
		}
		if _, dup := seen[s.Package]; dup {
			return "", "", fmt.Errorf("state of %s: given twice", quote(s.Package))
		}
		seen[s.Package] = struct{}{}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendJSONString(b, s.Package)
		b = append(b, ',')
		b = appendJSONString(b, s.Version)
		b = append(b, ',')
		b = appendJSONString(b, s.State)
		b = append(b, ']')
		switch {
		case s.Rank < 0:
			return "", "", fmt.Errorf("state of %s: negative rank %d", quote(s.Package), s.Rank)
		case s.Rank > 0:
			if _, dup := ranked[s.Rank]; dup {
				return "", "", fmt.Errorf("state of %s: rank %d given twice", quote(s.Package), s.Rank)
			}
			ranked[s.Rank] = struct{}{}
			if len(r) > 1 {
				r = append(r, ',')
			}
			r = append(r, '[')
			r = appendJSONString(r, s.Package)
			r = append(r, ',')
			r = strconv.AppendInt(r, int64(s.Rank), 10)
			r = append(r, ']')
		}
	}
	b = append(b, ']')
	r = append(r, ']')
	return string(b), string(r), nil
}

// appendJSONString appends s as a JSON string: names and states take the
// fast path, anything else goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// States returns the computed states of a section sorted by package; none
// when they were never computed or the packages changed since.
func (db *DB) States(ctx context.Context, section string) ([]PackageState, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT s.package, s.version, s.state, COALESCE(k.rank, 0)
		FROM states s JOIN sections c ON c.id = s.section_id
		LEFT JOIN candidates k ON k.section_id = s.section_id AND k.package = s.package
		WHERE c.name = ? AND c.states_computed_at IS NOT NULL ORDER BY s.package`, section)
	if err != nil {
		return nil, fmt.Errorf("list states of %s: %w", quote(section), err)
	}
	defer rows.Close()
	var ss []PackageState
	for rows.Next() {
		var s PackageState
		if err := rows.Scan(&s.Package, &s.Version, &s.State, &s.Rank); err != nil {
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
// states without packages are absent from the map, and the map is empty when
// the states were never computed or the packages changed since.
func (db *DB) StateCounts(ctx context.Context, section string) (map[string]int, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT s.state, count(*)
		FROM states s JOIN sections c ON c.id = s.section_id
		WHERE c.name = ? AND c.states_computed_at IS NOT NULL GROUP BY s.state`, section)
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
