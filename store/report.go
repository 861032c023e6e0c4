package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"piuparts-server/internal/fsutil"
	"piuparts-server/internal/piuparts"
)

// ArchiveDir is the directory of a section that holds the logs of
// packages gone from the archive, by kind: SECTION/archive/KIND/.
const ArchiveDir = "archive"

// ArchiveLog moves a log of a package gone from the archive (or of an
// outdated version) to SECTION/archive/KIND/, as piuparts-report does,
// and drops it from the index. A log already gone is not an error.
func (db *DB) ArchiveLog(ctx context.Context, section string, kind Kind, pkg, version string) error {
	src, err := db.tree.logFile(section, kind, pkg, version)
	if err != nil {
		return fmt.Errorf("archive log: %w", err)
	}
	dir, err := db.tree.sectionDir(section)
	if err != nil {
		return fmt.Errorf("archive log: %w", err)
	}
	dstDir := filepath.Join(dir, ArchiveDir, string(kind))
	if err := os.MkdirAll(dstDir, 0o755); err != nil {
		return fmt.Errorf("archive %s: %w", filepath.Base(src), err)
	}
	if err := os.Rename(src, filepath.Join(dstDir, filepath.Base(src))); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			_, err := db.RemoveLog(ctx, section, kind, pkg, version)
			return err
		}
		return fmt.Errorf("archive %s/%s: %w", kind, filepath.Base(src), err)
	}
	if err := fsutil.SyncDir(dstDir); err != nil {
		return fmt.Errorf("archive %s/%s: %w", kind, filepath.Base(src), err)
	}
	if err := fsutil.SyncDir(filepath.Dir(src)); err != nil {
		return fmt.Errorf("archive %s/%s: %w", kind, filepath.Base(src), err)
	}
	_, err = db.RemoveLog(ctx, section, kind, pkg, version)
	return err
}

// LinkLog makes dst (a path outside the tree, the report's copy) the
// same file as a log, as piuparts-report's update_file does: nothing when
// dst has the log's size and is not older; otherwise dst is replaced by a
// hard link, or by a copy where a link is impossible (another file
// system). It reports whether dst was (re)made.
func (t *LogTree) LinkLog(section string, kind Kind, name, dst string) (bool, error) {
	dir, err := t.kindDir(section, kind)
	if err != nil {
		return false, fmt.Errorf("link log: %w", err)
	}
	if _, _, ok := piuparts.ParseLogName(name); !ok {
		return false, fmt.Errorf("link log: %w %s", ErrUnsafeName, quote(name))
	}
	src := filepath.Join(dir, name)
	si, err := os.Stat(src)
	if err != nil {
		return false, fmt.Errorf("link log: %w", err)
	}
	di, err := os.Stat(dst)
	if err == nil && (os.SameFile(si, di) || (si.Size() == di.Size() && !si.ModTime().After(di.ModTime()))) {
		return false, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		// A new name: a link is whole the moment it exists.
		if err := os.Link(src, dst); err == nil {
			return true, nil
		}
	}
	tmp := dst + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		if err := copyFile(src, tmp); err != nil {
			_ = os.Remove(tmp)
			return false, fmt.Errorf("copy %s/%s: %w", kind, name, err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return false, fmt.Errorf("link %s/%s: %w", kind, name, err)
	}
	return true, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// SectionSubmissions returns a section's submissions, oldest first, with
// the slave that made each.
func (db *DB) SectionSubmissions(ctx context.Context, section string) ([]Submission, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT u.at, u.result, u.package, u.version, u.submitted_by
		FROM submissions u JOIN sections s ON s.id = u.section_id
		WHERE s.name = ? ORDER BY u.at, u.id`, section)
	if err != nil {
		return nil, fmt.Errorf("list submissions of %s: %w", quote(section), err)
	}
	defer rows.Close()
	var ss []Submission
	for rows.Next() {
		var (
			s      = Submission{Section: section}
			at     int64
			result string
		)
		if err := rows.Scan(&at, &result, &s.Package, &s.Version, &s.By); err != nil {
			return nil, fmt.Errorf("list submissions of %s: %w", quote(section), err)
		}
		s.At, s.Result = fromUnix(at), Kind(result)
		ss = append(ss, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list submissions of %s: %w", quote(section), err)
	}
	return ss, nil
}

// reportLockFile, in the master directory, is held by a running report
// (piuparts-report's report.lock), so that two never overlap.
const reportLockFile = "report.lock"

// TryLockReport takes MASTER/report.lock without waiting. It returns ok
// false when another report holds it, and the unlock function otherwise.
func (t *LogTree) TryLockReport() (unlock func(), ok bool, err error) {
	if err := os.MkdirAll(t.root, 0o755); err != nil {
		return nil, false, fmt.Errorf("lock report: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(t.root, reportLockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("lock report: %w", err)
	}
	if err := fsutil.Flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("lock report: %w", err)
	}
	return func() { f.Close() }, true, nil
}
