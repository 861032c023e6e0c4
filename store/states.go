package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
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
// from, e.g. including [Section.Generation]), whether they were computed in
// recycle mode, and now; it counts the computation ([Section.StatesSeq]). Only the rows that
// changed are written: a recomputation after a new log or a new Packages
// file touches few of them. It returns an error wrapping ErrNoSection for a
// section that has no row yet, and an error for a state without package,
// version or state, or a package given twice; then nothing is changed.
func (db *DB) SetStates(ctx context.Context, section, inputs string, recycle bool, now time.Time, states []PackageState) error {
	order, ranks, err := checkStates(states)
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
		// The stored states are read in one value and compared here;
		// only the rows that changed go to SQLite, as one JSON array
		// ([[package, version, state], ...]) through json_each.
		changed, gone, all, err := diffStates(ctx, tx, id, states, order)
		if err != nil {
			return err
		}
		if all {
			if _, err := tx.ExecContext(ctx, "DELETE FROM states WHERE section_id = ?", id); err != nil {
				return err
			}
		} else if gone != "[]" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM states WHERE section_id = ?
				AND package IN (SELECT value FROM json_each(?))`, id, gone); err != nil {
				return err
			}
		}
		for _, rows := range changed {
			if _, err := tx.ExecContext(ctx, `INSERT INTO states (section_id, package, version, state)
				SELECT :sid, value->>0, value->>1, value->>2 FROM json_each(:rows) WHERE true
				ON CONFLICT (section_id, package) DO UPDATE SET version = excluded.version, state = excluded.state`,
				sql.Named("sid", id), sql.Named("rows", rows)); err != nil {
				return err
			}
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
		_, err = tx.ExecContext(ctx, `UPDATE sections SET states_inputs = ?, states_computed_at = ?,
			states_seq = states_seq + 1, states_recycle = ? WHERE id = ?`, inputs, unix(now), recycle, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("set states of %s: %w", quote(section), err)
	}
	return nil
}

// checkStates checks states and returns their indices in the order of
// their packages (the order of the stored rows; a list given in that
// order, as a Packages file is, is only checked), and the ranked ones
// encoded as a JSON array [[package, rank], ...].
func checkStates(states []PackageState) (order []int32, ranks string, err error) {
	order = make([]int32, len(states))
	for i := range order {
		order[i] = int32(i)
	}
	if !slices.IsSortedFunc(states, func(a, b PackageState) int { return strings.Compare(a.Package, b.Package) }) {
		slices.SortFunc(order, func(a, b int32) int { return strings.Compare(states[a].Package, states[b].Package) })
	}
	ranked := make(map[int]struct{})
	r := []byte{'['}
	for k, i := range order {
		s := &states[i]
		if s.Package == "" || s.Version == "" || s.State == "" {
			return nil, "", fmt.Errorf("state %d (%s): empty package, version or state", i, quote(s.Package))
		}
		if k > 0 && states[order[k-1]].Package == s.Package {
			return nil, "", fmt.Errorf("state of %s: given twice", quote(s.Package))
		}
		switch {
		case s.Rank < 0:
			return nil, "", fmt.Errorf("state of %s: negative rank %d", quote(s.Package), s.Rank)
		case s.Rank > 0:
			if _, dup := ranked[s.Rank]; dup {
				return nil, "", fmt.Errorf("state of %s: rank %d given twice", quote(s.Package), s.Rank)
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
	return order, string(append(r, ']')), nil
}

// stateBatch is how many rows one statement of SetStates writes at most:
// SQLite parses a JSON argument whole, so a first computation (every row
// changed) in one statement would hold the text of all of them in C
// memory, tens of megabytes on all of Debian.
const stateBatch = 4096

// diffStates compares states, taken in order (by package), with the stored
// states of section id and returns, as JSON arrays, the rows to write
// ([[package, version, state], ...], in batches of at most stateBatch
// rows; none when nothing changed) and the packages whose rows are to go
// (["package", ...]), or all when every stored row is to go.
func diffStates(ctx context.Context, tx *sql.Tx, id int64, states []PackageState, order []int32) (changed []string, gone string, all bool, err error) {
	// The stored rows come as one value, the fields separated by NUL
	// bytes and the rows ordered by package, instead of a row per package
	// (a tenth of the time); both lists in that order, one pass compares
	// them. A field holding a NUL byte shows in the count of fields; then
	// every state is written.
	var (
		n      int
		stored string
	)
	if err := tx.QueryRowContext(ctx, `SELECT count(*), COALESCE(group_concat(
			package || char(0) || version || char(0) || state, char(0) ORDER BY package), '')
		FROM states WHERE section_id = ?`, id).Scan(&n, &stored); err != nil {
		return nil, "", false, err
	}
	readable := n == 0 || strings.Count(stored, "\x00") == 3*n-1
	if !readable {
		stored = ""
	}
	// next returns the next stored row.
	next := func() (row [3]string, ok bool) {
		if stored == "" {
			return row, false
		}
		for i := range row {
			row[i], stored, _ = strings.Cut(stored, "\x00")
		}
		return row, true
	}
	var c []byte
	g := []byte{'['}
	n = 0
	old, haveOld := next()
	for _, i := range order {
		s := &states[i]
		for haveOld && old[0] < s.Package {
			// Stored, no longer computed.
			if len(g) > 1 {
				g = append(g, ',')
			}
			g = appendJSONString(g, old[0])
			old, haveOld = next()
		}
		if haveOld && old[0] == s.Package {
			same := old[1] == s.Version && old[2] == s.State
			old, haveOld = next()
			if same {
				continue
			}
		}
		if n == stateBatch {
			changed = append(changed, string(append(c, ']')))
			c, n = c[:0], 0
		}
		if n == 0 {
			c = append(c, '[')
		} else {
			c = append(c, ',')
		}
		n++
		c = appendStateRow(c, s)
	}
	for ; haveOld; old, haveOld = next() {
		if len(g) > 1 {
			g = append(g, ',')
		}
		g = appendJSONString(g, old[0])
	}
	if n > 0 {
		changed = append(changed, string(append(c, ']')))
	}
	if !readable {
		// Every stored row goes, every state is written.
		return changed, "", true, nil
	}
	return changed, string(append(g, ']')), false, nil
}

// appendStateRow appends the row of a state as SetStates and UpdateStates
// write them: [package, version, state].
func appendStateRow(b []byte, s *PackageState) []byte {
	b = append(b, '[')
	b = appendJSONString(b, s.Package)
	b = append(b, ',')
	b = appendJSONString(b, s.Version)
	b = append(b, ',')
	b = appendJSONString(b, s.State)
	return append(b, ']')
}

// appendJSONString appends s as a JSON string: names and states take the
// fast path, anything else goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	if !plainJSON(s) {
		q, _ := json.Marshal(s) // a string always marshals
		return append(b, q...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainJSON reports whether s is printable ASCII without '"' and '\\': a
// JSON string as it is. It looks at 8 bytes at a time (the package list
// of a release is 15 MB of such text).
func plainJSON(s string) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	// zero has the high bit set in the bytes of v that are 0 (and maybe in
	// the bytes after one; either way it is not 0 then).
	zero := func(v uint64) uint64 { return (v - ones) &^ v & highs }
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		// With every high bit clear, x-0x20 per byte borrows (sets the
		// high bit) exactly in the control characters.
		if x&highs != 0 || (x-ones*0x20)&highs != 0 || zero(x^(ones*'"')) != 0 || zero(x^(ones*'\\')) != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			return false
		}
	}
	return true
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

// StatesUpdate is a change of a section's stored states, made by a caller
// that knows them: see [DB.UpdateStates].
type StatesUpdate struct {
	// Prev is the inputs key the stored states must have been stored
	// under for the update to apply.
	Prev string
	// Inputs is the key the updated states are stored under.
	Inputs string
	// Changed are the rows whose version or state changed (Rank is
	// ignored: see Ranked).
	Changed []PackageState
	// Ranked are packages to offer to reserve at the given Rank (> 0, not
	// held by another package), and Unranked packages no longer to offer.
	Ranked   []PackageState
	Unranked []string
}

// UpdateStates applies an update to the stored non-recycle states of a
// section in one transaction, when they are the ones stored under u.Prev,
// and records u.Inputs and now as [DB.SetStates] does; it reports false,
// changing nothing, when they are not (another process stored states
// since: the caller stores them whole with SetStates). It returns an error
// wrapping ErrNoSection for a section without a row, and one for a row
// without package, version or state, or a rank that is taken.
func (db *DB) UpdateStates(ctx context.Context, section string, u StatesUpdate, now time.Time) (bool, error) {
	for _, s := range u.Changed {
		if s.Package == "" || s.Version == "" || s.State == "" {
			return false, fmt.Errorf("update states of %s: state of %s: empty package, version or state", quote(section), quote(s.Package))
		}
	}
	rows := func(list []PackageState, f func(b []byte, s *PackageState) []byte) string {
		b := []byte{'['}
		for i := range list {
			if i > 0 {
				b = append(b, ',')
			}
			b = f(b, &list[i])
		}
		return string(append(b, ']'))
	}
	changed := rows(u.Changed, appendStateRow)
	ranked := rows(u.Ranked, func(b []byte, s *PackageState) []byte {
		b = append(b, '[')
		b = appendJSONString(b, s.Package)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(s.Rank), 10)
		return append(b, ']')
	})
	un := []byte{'['}
	for i, p := range append(slices.Clone(u.Unranked), func() []string {
		var names []string
		for _, s := range u.Ranked {
			names = append(names, s.Package)
		}
		return names
	}()...) {
		if i > 0 {
			un = append(un, ',')
		}
		un = appendJSONString(un, p)
	}
	unranked := string(append(un, ']'))
	var applied bool
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var (
			id      int64
			inputs  string
			recycle bool
		)
		err := tx.QueryRowContext(ctx, `SELECT id, states_inputs, states_recycle FROM sections
			WHERE name = ? AND states_computed_at IS NOT NULL`, section).Scan(&id, &inputs, &recycle)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if inputs != u.Prev || recycle {
			return nil
		}
		if len(u.Changed) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO states (section_id, package, version, state)
				SELECT :sid, value->>0, value->>1, value->>2 FROM json_each(:rows) WHERE true
				ON CONFLICT (section_id, package) DO UPDATE SET version = excluded.version, state = excluded.state`,
				sql.Named("sid", id), sql.Named("rows", changed)); err != nil {
				return err
			}
		}
		if unranked != "[]" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM candidates WHERE section_id = ?
				AND package IN (SELECT value FROM json_each(?))`, id, unranked); err != nil {
				return err
			}
		}
		if len(u.Ranked) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO candidates (section_id, rank, package)
				SELECT ?, value->>1, value->>0 FROM json_each(?)`, id, ranked); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sections SET states_inputs = ?, states_computed_at = ?,
			states_seq = states_seq + 1 WHERE id = ?`, u.Inputs, unix(now), id); err != nil {
			return err
		}
		applied = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("update states of %s: %w", quote(section), err)
	}
	return applied, nil
}
