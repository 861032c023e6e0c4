package store

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ImportHolder holds the reservations [DB.ImportSection] makes from
// reserved/ markers.
const ImportHolder = "imported"

// ImportSummary says what [DB.ImportSection] did in one section.
type ImportSummary struct {
	Section string
	// Indexed counts the logs newly added to the index, by kind.
	Indexed map[Kind]int
	// Unchanged counts the logs the index already held as they are.
	Unchanged int
	// Updated counts index rows whose size or checksum was taken anew
	// from a file that changed.
	Updated int
	// Reservations counts the reservations made from reserved/ markers;
	// ReservationsKept the markers whose package was already reserved.
	Reservations, ReservationsKept int
	// Submissions counts the submissions.txt lines newly recorded;
	// SubmissionsKept those already recorded.
	Submissions, SubmissionsKept int
	// Skipped lists files and submissions.txt lines left out, and why.
	Skipped []Skip
}

// ImportSection adopts a section of an existing piuparts master directory
// (the tree's root) into the database, in one transaction: every log of
// pass/, fail/, untestable/, bugged/, affected/ and recycle/ is indexed
// with its size, SHA-256 and modification time as submission time; each
// reserved/ marker becomes a reservation held by [ImportHolder] from the
// marker's modification time for lease (which must be positive);
// each line of submissions.txt is recorded. Running it again changes
// nothing: what is already there is counted as kept. Symbolic links are
// never followed; files with names that are not safe NAME_VERSION.log
// names, links and malformed lines are skipped and listed in the summary.
// It creates the section if needed, bumps its generation when the index
// changed, and returns a *NameError for an unsafe section name, or the
// error of reading the tree or writing the database (then nothing changed).
func (db *DB) ImportSection(ctx context.Context, tree *LogTree, section string, lease time.Duration) (ImportSummary, error) {
	sum := ImportSummary{Section: section, Indexed: make(map[Kind]int)}
	if lease <= 0 {
		return sum, fmt.Errorf("import %s: lease %v is not positive", quote(section), lease)
	}
	sc, err := tree.scanSection(section)
	if err != nil {
		return sum, fmt.Errorf("import %s: %w", quote(section), err)
	}
	sum.Skipped = sc.skipped
	subs, skipped, err := tree.readSubmissions(section)
	if err != nil {
		return sum, fmt.Errorf("import %s: %w", quote(section), err)
	}
	sum.Skipped = append(sum.Skipped, skipped...)
	index, err := db.indexRows(ctx, section)
	if err != nil {
		return sum, fmt.Errorf("import %s: %w", quote(section), err)
	}
	// Hash only what the index does not already hold as it is on disk.
	var logs, reserved, toHash []*diskLog
	for _, l := range sc.logs {
		if l.kind == KindReserved {
			reserved = append(reserved, l)
			continue
		}
		logs = append(logs, l)
		if r, ok := index[logKey(l.kind, l.pkg, l.version)]; ok && r.size == l.size && r.submittedAt == unix(l.mtime) {
			l.sha256 = r.sha256
			continue
		}
		toHash = append(toHash, l)
	}
	tree.hashLogs(ctx, toHash)
	if err := ctx.Err(); err != nil {
		return sum, fmt.Errorf("import %s: %w", quote(section), err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		id, err := ensureSection(ctx, tx, section)
		if err != nil {
			return err
		}
		changed := false
		add, err := tx.PrepareContext(ctx, `INSERT INTO logs
			(section_id, kind, package, version, path, size, sha256, submitted_at, submitted_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, '')
			ON CONFLICT (section_id, package, version, kind) DO UPDATE SET
				path = excluded.path, size = excluded.size, sha256 = excluded.sha256`)
		if err != nil {
			return err
		}
		defer add.Close()
		for _, l := range logs {
			if l.hashErr != nil {
				if errors.Is(l.hashErr, fs.ErrNotExist) {
					continue // removed meanwhile
				}
				sum.Skipped = append(sum.Skipped, Skip{l.rel, "cannot read: " + l.hashErr.Error()})
				continue
			}
			r, ok := index[logKey(l.kind, l.pkg, l.version)]
			if ok && r.size == l.size && r.sha256 == l.sha256 && r.path == l.rel {
				sum.Unchanged++
				continue
			}
			if _, err := add.ExecContext(ctx, id, string(l.kind), l.pkg, l.version, l.rel, l.size, l.sha256, unix(l.mtime)); err != nil {
				return fmt.Errorf("index %s: %w", l.rel, err)
			}
			changed = true
			if ok {
				sum.Updated++
			} else {
				sum.Indexed[l.kind]++
			}
		}
		reserve, err := tx.PrepareContext(ctx, `INSERT INTO reservations
			(section_id, package, version, holder, reserved_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (section_id, package) DO NOTHING`)
		if err != nil {
			return err
		}
		defer reserve.Close()
		for _, l := range reserved {
			r, err := reserve.ExecContext(ctx, id, l.pkg, l.version, ImportHolder, unix(l.mtime), unix(l.mtime.Add(lease)))
			if err != nil {
				return fmt.Errorf("reserve %s: %w", l.rel, err)
			}
			if n, _ := r.RowsAffected(); n > 0 {
				sum.Reservations++
			} else {
				sum.ReservationsKept++
			}
		}
		// A line is new when the database holds fewer copies of it than
		// the file up to that line: identical lines (same second, same
		// package) are kept as often as they occur.
		have, err := sectionSubmissions(ctx, tx, id, section)
		if err != nil {
			return err
		}
		insert, err := tx.PrepareContext(ctx, `INSERT INTO submissions (at, section_id, result, package, version)
			VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insert.Close()
		seen := make(map[Submission]int)
		for _, s := range subs {
			seen[s]++
			if have[s] >= seen[s] {
				sum.SubmissionsKept++
				continue
			}
			if _, err := insert.ExecContext(ctx, unix(s.At), id, string(s.Result), s.Package, s.Version); err != nil {
				return err
			}
			sum.Submissions++
		}
		if changed {
			_, err = tx.ExecContext(ctx, "UPDATE sections SET generation = generation + 1 WHERE id = ?", id)
		}
		return err
	})
	if err != nil {
		return sum, fmt.Errorf("import %s: %w", quote(section), err)
	}
	return sum, nil
}

// sectionSubmissions counts the recorded submissions of section id, named
// section.
func sectionSubmissions(ctx context.Context, tx *sql.Tx, id int64, section string) (map[Submission]int, error) {
	rows, err := tx.QueryContext(ctx, "SELECT at, result, package, version FROM submissions WHERE section_id = ?", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := make(map[Submission]int)
	for rows.Next() {
		var (
			s      Submission
			at     int64
			result string
		)
		if err := rows.Scan(&at, &result, &s.Package, &s.Version); err != nil {
			return nil, err
		}
		s.At, s.Result, s.Section = fromUnix(at), Kind(result), section
		have[s]++
	}
	return have, rows.Err()
}

// readSubmissions parses SECTION/submissions.txt ("EPOCH RESULT NAME
// VERSION" lines), without following a link; malformed lines are skipped.
// A missing file holds no submissions.
func (t *LogTree) readSubmissions(section string) ([]Submission, []Skip, error) {
	rel := section + "/submissions.txt"
	f, err := os.OpenFile(filepath.Join(t.root, section, "submissions.txt"), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if errors.Is(err, syscall.ELOOP) {
		return nil, []Skip{{rel, "a symbolic link (links are not followed)"}}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", rel, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, []Skip{{rel, "not a regular file"}}, nil
	}
	var (
		subs    []Submission
		skipped []Skip
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	for n := 1; sc.Scan(); n++ {
		s, ok := ParseSubmission(sc.Text())
		if !ok {
			if strings.TrimSpace(sc.Text()) != "" {
				skipped = append(skipped, Skip{fmt.Sprintf("%s:%d", rel, n), "malformed line " + quote(sc.Text())})
			}
			continue
		}
		s.Section = section
		subs = append(subs, s)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", rel, err)
	}
	return subs, skipped, nil
}

// ParseSubmission parses one line of submissions.txt, "EPOCH RESULT NAME
// VERSION", as [LogTree.AppendSubmission] writes it; Section stays empty.
// It reports false for a line that is not of that form, names a result
// other than pass, fail or untestable, or holds an unsafe name.
func ParseSubmission(line string) (Submission, bool) {
	f := strings.Fields(line)
	if len(f) != 4 {
		return Submission{}, false
	}
	epoch, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || epoch < 0 || epoch > 1<<40 {
		return Submission{}, false
	}
	k := Kind(f[1])
	if !k.IsResult() || CheckName("package", f[2]) != nil || CheckName("version", f[3]) != nil {
		return Submission{}, false
	}
	return Submission{At: fromUnix(epoch), Result: k, Package: f[2], Version: f[3]}, true
}
