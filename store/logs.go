package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// LogEntry is one file of the log tree, as indexed.
type LogEntry struct {
	Section     string
	Kind        Kind
	Package     string
	Version     string
	Path        string // relative to the master directory, see [LogPath]
	Size        int64
	SHA256      string // hex
	SubmittedAt time.Time
	SubmittedBy string // the slave, or "" for imported files
}

// Submission is one line of a section's submissions.txt: a result a slave
// submitted.
type Submission struct {
	At      time.Time
	Section string
	Result  Kind // pass, fail or untestable
	Package string
	Version string
	By      string // the slave that submitted it; "" for imported lines
}

// AddLog indexes a log file that is in the tree (an imported log, a
// recycle/ marker another program made) in one transaction; a submitted
// log is indexed by [DB.Submit]. It creates the section if needed and bumps
// its generation. It returns an error wrapping [ErrDuplicate], and changes
// nothing, when the index already holds a log of that kind for that package
// version; a *NameError or an error wrapping [ErrUnknownKind] for unsafe names.
func (db *DB) AddLog(ctx context.Context, e LogEntry) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := checkLogNames(e.Section, e.Kind, e.Package, e.Version); err != nil {
			return err
		}
		id, err := ensureSection(ctx, tx, e.Section)
		if err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO logs
			(section_id, kind, package, version, path, size, sha256, submitted_at, submitted_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (section_id, package, version, kind) DO NOTHING`,
			id, string(e.Kind), e.Package, e.Version, e.Path, e.Size, e.SHA256, unix(e.SubmittedAt), e.SubmittedBy)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrDuplicate
		}
		_, err = tx.ExecContext(ctx, "UPDATE sections SET generation = generation + 1 WHERE id = ?", id)
		return err
	})
	if err != nil {
		return fmt.Errorf("add %s log of %s %s in %s: %w", quote(string(e.Kind)), quote(e.Package), quote(e.Version), quote(e.Section), err)
	}
	return nil
}

// RemoveLog drops a log from the index (the caller removes the file, see
// [LogTree.RemoveLog]), bumps the section's generation when there was one,
// and reports whether there was one.
func (db *DB) RemoveLog(ctx context.Context, section string, kind Kind, pkg, version string) (bool, error) {
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		id, ok, err := lookupSection(ctx, tx, section)
		if err != nil || !ok {
			return err
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM logs
			WHERE section_id = ? AND kind = ? AND package = ? AND version = ?`, id, string(kind), pkg, version)
		if err != nil {
			return err
		}
		if n, err = r.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = tx.ExecContext(ctx, "UPDATE sections SET generation = generation + 1 WHERE id = ?", id)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("remove %s log of %s %s in %s: %w", quote(string(kind)), quote(pkg), quote(version), quote(section), err)
	}
	return n > 0, nil
}

// LogNames returns the file names ([LogName]) of the indexed logs of one
// kind in a section, in no particular order: what a caller needs to compare
// the index with a directory listing, at a fraction of the cost of
// [DB.Logs]. It returns the driver's error.
func (db *DB) LogNames(ctx context.Context, section string, kind Kind) ([]string, error) {
	// Names are safe ([CheckName]): '/' separates them.
	var all string
	err := db.db.QueryRowContext(ctx, `SELECT COALESCE(group_concat(package || '_' || version || '.log', '/'), '')
		FROM logs WHERE section_id = (SELECT id FROM sections WHERE name = ?) AND kind = ?`,
		section, string(kind)).Scan(&all)
	if err != nil {
		return nil, fmt.Errorf("list %s log names of %s: %w", quote(string(kind)), quote(section), err)
	}
	if all == "" {
		return nil, nil
	}
	return strings.Split(all, "/"), nil
}

// Logs returns the indexed logs of one kind in a section, by package and
// version (as text).
func (db *DB) Logs(ctx context.Context, section string, kind Kind) ([]LogEntry, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT package, version, path, size, sha256, submitted_at, submitted_by
		FROM logs WHERE section_id = (SELECT id FROM sections WHERE name = ?) AND kind = ?
		ORDER BY package, version`, section, string(kind))
	if err != nil {
		return nil, fmt.Errorf("list %s logs of %s: %w", quote(string(kind)), quote(section), err)
	}
	defer rows.Close()
	var es []LogEntry
	for rows.Next() {
		e := LogEntry{Section: section, Kind: kind}
		var at int64
		if err := rows.Scan(&e.Package, &e.Version, &e.Path, &e.Size, &e.SHA256, &at, &e.SubmittedBy); err != nil {
			return nil, fmt.Errorf("list %s logs of %s: %w", quote(string(kind)), quote(section), err)
		}
		e.SubmittedAt = fromUnix(at)
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list %s logs of %s: %w", quote(string(kind)), quote(section), err)
	}
	return es, nil
}

// Submissions returns the submissions of every section made at or after
// since, oldest first.
func (db *DB) Submissions(ctx context.Context, since time.Time) ([]Submission, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT u.at, s.name, u.result, u.package, u.version
		FROM submissions u JOIN sections s ON s.id = u.section_id
		WHERE u.at >= ? ORDER BY u.at, u.id`, unix(since))
	if err != nil {
		return nil, fmt.Errorf("list submissions: %w", err)
	}
	defer rows.Close()
	var ss []Submission
	for rows.Next() {
		var (
			s      Submission
			at     int64
			result string
		)
		if err := rows.Scan(&at, &s.Section, &result, &s.Package, &s.Version); err != nil {
			return nil, fmt.Errorf("list submissions: %w", err)
		}
		s.At, s.Result = fromUnix(at), Kind(result)
		ss = append(ss, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list submissions: %w", err)
	}
	return ss, nil
}
