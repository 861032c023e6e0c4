package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"piuparts-server/internal/piuparts"
)

// StaleTempAge is how old a temporary file of [LogTree.WriteLog] must be
// before [DB.CheckSection] removes it: younger ones may still be written.
const StaleTempAge = time.Hour

// Problem is a kind of disagreement between the log tree and the database.
type Problem string

// The problems [DB.CheckSection] finds.
const (
	ProblemFileMissing      Problem = "index-without-file"    // an index row whose file is gone
	ProblemNotIndexed       Problem = "file-without-index"    // a log the index lacks
	ProblemMismatch         Problem = "size-or-sha256-differ" // a log whose size or checksum changed
	ProblemReservedNoMarker Problem = "reservation-without-marker"
	ProblemMarkerNoReserve  Problem = "marker-without-reservation"
	ProblemTempFile         Problem = "leftover-temp-file" // from a crash while writing a log
	ProblemUnsafeFile       Problem = "unsafe-file"        // a link, or an unsafe name: left alone
	ProblemUnreadable       Problem = "unreadable-file"
	// ProblemSubmissionMissing is an indexed submission whose line is not
	// in submissions.txt yet (a master died between the two).
	ProblemSubmissionMissing Problem = "submission-not-in-submissions.txt"
)

// Finding is one disagreement found by [DB.CheckSection], and what was done
// about it.
type Finding struct {
	Section string
	Path    string // relative to the master directory
	Problem Problem
	Detail  string
	// Repaired says nothing is left to do: the repair fixed it, or it is
	// no problem yet (a young temporary file). Action says what was done,
	// what a repair would do, or why nothing is done.
	Repaired bool
	Action   string
}

// String formats a finding as one line: "PATH: PROBLEM (DETAIL): ACTION".
func (f Finding) String() string {
	s := f.Path + ": " + string(f.Problem)
	if f.Detail != "" {
		s += " (" + f.Detail + ")"
	}
	if f.Action != "" {
		s += ": " + f.Action
	}
	return s
}

// CheckSection compares a section's log tree with the database: index rows
// whose file is gone, logs the index lacks, logs whose size or SHA-256
// differ from the index, reservations without reserved/ marker and markers
// without reservation, temporary files left by a crash, and files left
// alone because they are links or have unsafe names. With repair it drops
// the rows of missing files, indexes the logs it lacks (modification time
// as submission time), and removes temporary files older than
// [StaleTempAge] at now, and appends to submissions.txt the lines of
// indexed submissions it lacks; the other findings are only reported. It returns
// the findings sorted by path, and a *NameError for an unsafe section name
// or the error of reading the tree or the database.
func (db *DB) CheckSection(ctx context.Context, tree *LogTree, section string, now time.Time, repair bool) ([]Finding, error) {
	found, err := db.checkSection(ctx, tree, section, now, repair)
	if err != nil {
		return found, fmt.Errorf("check %s: %w", quote(section), err)
	}
	sort.SliceStable(found, func(i, j int) bool { return found[i].Path < found[j].Path })
	return found, nil
}

func (db *DB) checkSection(ctx context.Context, tree *LogTree, section string, now time.Time, repair bool) ([]Finding, error) {
	sc, err := tree.scanSection(section)
	if err != nil {
		return nil, err
	}
	index, err := db.indexRows(ctx, section)
	if err != nil {
		return nil, err
	}
	rs, err := db.Reservations(ctx, section)
	if err != nil {
		return nil, err
	}
	var out []Finding
	add := func(f Finding) int {
		f.Section = section
		out = append(out, f)
		return len(out) - 1
	}
	for _, s := range sc.skipped {
		add(Finding{Path: s.Path, Problem: ProblemUnsafeFile, Detail: s.Reason, Action: "left alone"})
	}
	var logs, markers []*diskLog
	for _, l := range sc.logs {
		if l.kind == KindReserved {
			markers = append(markers, l)
		} else {
			logs = append(logs, l)
		}
	}
	tree.hashLogs(ctx, logs)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	onDisk := make(map[string]bool, len(logs))
	var toIndex []*diskLog
	for _, l := range logs {
		key := logKey(l.kind, l.pkg, l.version)
		if l.hashErr != nil {
			if !errors.Is(l.hashErr, fs.ErrNotExist) {
				onDisk[key] = true
				add(Finding{Path: l.rel, Problem: ProblemUnreadable, Detail: l.hashErr.Error()})
			}
			continue
		}
		onDisk[key] = true
		r, ok := index[key]
		switch {
		case !ok:
			toIndex = append(toIndex, l)
		case r.size != l.size || r.sha256 != l.sha256:
			add(Finding{Path: l.rel, Problem: ProblemMismatch,
				Detail: fmt.Sprintf("index %d bytes sha256 %.12s, file %d bytes sha256 %.12s", r.size, r.sha256, l.size, l.sha256),
				Action: "not repaired: check the file"})
		}
	}
	var gone []indexRow
	for key, r := range index {
		if !onDisk[key] {
			gone = append(gone, r)
		}
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i].path < gone[j].path })
	if err := db.repairIndex(ctx, section, toIndex, gone, repair, &out); err != nil {
		return out, err
	}
	// Reservations and markers, by package and version.
	marked := make(map[string]bool, len(markers))
	for _, m := range markers {
		marked[m.pkg+"_"+m.version] = true
	}
	held := make(map[string]bool, len(rs))
	for _, r := range rs {
		held[r.Package+"_"+r.Version] = true
		if !marked[r.Package+"_"+r.Version] {
			add(Finding{Path: section + "/" + string(KindReserved) + "/" + piuparts.LogName(r.Package, r.Version),
				Problem: ProblemReservedNoMarker, Detail: "held by " + r.Holder,
				Action: "not repaired: the master releases it when its lease ends"})
		}
	}
	for _, m := range markers {
		if !held[m.pkg+"_"+m.version] {
			add(Finding{Path: m.rel, Problem: ProblemMarkerNoReserve,
				Action: "not repaired: it blocks the package as in piuparts; remove it or import it"})
		}
	}
	// Lines a running master appended and marks written with its next
	// group are no problem.
	pending, err := db.unrecordedSubmissions(ctx, tree, section)
	if err != nil {
		return out, err
	}
	if pending > 0 {
		f := &out[add(Finding{Path: section + "/" + submissionsFile, Problem: ProblemSubmissionMissing,
			Detail: fmt.Sprintf("%d indexed submissions", pending), Action: "would append their lines"})]
		if repair {
			if _, err := db.writeSubmissions(ctx, tree, section, nil, false); err != nil {
				f.Action = "cannot append: " + err.Error()
			} else {
				f.Action, f.Repaired = "appended their lines", true
			}
		}
	}
	for _, tmp := range sc.temps {
		f := &out[add(Finding{Path: tmp.rel, Problem: ProblemTempFile, Detail: "modified " + tmp.mtime.UTC().Format(time.RFC3339)})]
		switch {
		case now.Sub(tmp.mtime) < StaleTempAge:
			f.Action = "kept: younger than " + StaleTempAge.String() + ", may still be written"
			f.Repaired = true // not a problem yet
		case !repair:
			f.Action = "would remove"
		default:
			err := os.Remove(filepath.Join(tree.root, filepath.FromSlash(tmp.rel)))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				f.Action = "cannot remove: " + err.Error()
			} else {
				f.Action, f.Repaired = "removed", true
			}
		}
	}
	return out, nil
}

// repairIndex reports (and with repair fixes, in one transaction) the logs
// the index lacks and the rows whose file is gone.
func (db *DB) repairIndex(ctx context.Context, section string, toIndex []*diskLog, gone []indexRow, repair bool, out *[]Finding) error {
	first := len(*out)
	for _, l := range toIndex {
		*out = append(*out, Finding{Section: section, Path: l.rel, Problem: ProblemNotIndexed,
			Detail: fmt.Sprintf("%d bytes", l.size), Action: "would index"})
	}
	for _, r := range gone {
		*out = append(*out, Finding{Section: section, Path: r.path, Problem: ProblemFileMissing, Action: "would drop the index row"})
	}
	added := (*out)[first:]
	if !repair || len(added) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		id, err := ensureSection(ctx, tx, section)
		if err != nil {
			return err
		}
		for _, l := range toIndex {
			if _, err := tx.ExecContext(ctx, `INSERT INTO logs
				(section_id, kind, package, version, path, size, sha256, submitted_at, submitted_by)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, '') ON CONFLICT (section_id, package, version, kind) DO NOTHING`,
				id, string(l.kind), l.pkg, l.version, l.rel, l.size, l.sha256, unix(l.mtime)); err != nil {
				return err
			}
		}
		for _, r := range gone {
			if _, err := tx.ExecContext(ctx, `DELETE FROM logs WHERE section_id = ? AND kind = ? AND package = ? AND version = ?`,
				id, string(r.kind), r.pkg, r.version); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, "UPDATE sections SET generation = generation + 1 WHERE id = ?", id)
		return err
	})
	if err != nil {
		return err
	}
	for i := range added {
		added[i].Repaired = true
		if i < len(toIndex) {
			added[i].Action = "indexed"
		} else {
			added[i].Action = "dropped the index row"
		}
	}
	return nil
}
