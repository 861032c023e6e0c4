package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"piuparts-server/internal/fsutil"
)

// Recycle marks a log for retesting as Debian's reschedule_oldest_logs
// does (ln -f KIND/NAME_VERSION.log recycle/): recycle/NAME_VERSION.log
// becomes the same file as the log, so that it keeps the log's
// modification time, by which piupartslib orders the retests. The marker
// is indexed; one already there is replaced. It returns a *NameError or
// an error wrapping [ErrUnknownKind] for unsafe names, and one wrapping
// fs.ErrNotExist when the log is gone.
func (db *DB) Recycle(ctx context.Context, section string, kind Kind, pkg, version string, now time.Time) error {
	t, err := db.logTree()
	if err != nil {
		return err
	}
	src, err := t.logFile(section, kind, pkg, version)
	if err != nil {
		return fmt.Errorf("recycle: %w", err)
	}
	dst, err := t.logFile(section, KindRecycle, pkg, version)
	if err != nil {
		return fmt.Errorf("recycle: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("recycle %s/%s: %w", kind, filepath.Base(src), err)
	}
	// ln -f: a link beside it, renamed over the marker.
	tmp := filepath.Join(filepath.Dir(dst), tempPrefix+filepath.Base(dst))
	_ = os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		return fmt.Errorf("recycle %s/%s: %w", kind, filepath.Base(src), err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("recycle %s/%s: %w", kind, filepath.Base(src), err)
	}
	if err := fsutil.SyncDir(filepath.Dir(dst)); err != nil {
		return fmt.Errorf("recycle %s/%s: %w", kind, filepath.Base(src), err)
	}
	if err := db.IndexFile(ctx, section, KindRecycle, pkg, version, now); err != nil && !errors.Is(err, ErrDuplicate) {
		return err
	}
	return nil
}

// archiveStamp is SECTION/archive/stamp: archive_old_logs looks at the
// logs modified since it.
const archiveStamp = "stamp"

// ArchiveStamp returns the modification time of SECTION/archive/stamp,
// and false when there is none.
func (t *LogTree) ArchiveStamp(section string) (time.Time, bool, error) {
	dir, err := t.sectionDir(section)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read archive stamp: %w", err)
	}
	fi, err := os.Stat(filepath.Join(dir, ArchiveDir, archiveStamp))
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read archive stamp: %w", err)
	}
	return fi.ModTime(), true, nil
}

// SetArchiveStamp dates SECTION/archive/stamp at, creating it.
func (t *LogTree) SetArchiveStamp(section string, at time.Time) error {
	dir, err := t.sectionDir(section)
	if err != nil {
		return fmt.Errorf("write archive stamp: %w", err)
	}
	p := filepath.Join(dir, ArchiveDir, archiveStamp)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("write archive stamp: %w", err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("write archive stamp: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write archive stamp: %w", err)
	}
	if err := os.Chtimes(p, at, at); err != nil {
		return fmt.Errorf("write archive stamp: %w", err)
	}
	return nil
}

// CompressArchive compresses every .log under SECTION/archive/ with xz
// (xz -f, as archive_old_logs does; NAME.log becomes NAME.log.xz) and
// returns how many it compressed. It returns the first error of xz,
// with its output.
func (t *LogTree) CompressArchive(ctx context.Context, section string) (int, error) {
	dir, err := t.sectionDir(section)
	if err != nil {
		return 0, fmt.Errorf("compress archive: %w", err)
	}
	var files []string
	err = filepath.WalkDir(filepath.Join(dir, ArchiveDir), func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".log") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("compress archive of %s: %w", section, err)
	}
	// A few hundred files per xz process keep the command line short.
	const batch = 256
	for i := 0; i < len(files); i += batch {
		args := append([]string{"-f", "--"}, files[i:min(i+batch, len(files))]...)
		if out, err := exec.CommandContext(ctx, "xz", args...).CombinedOutput(); err != nil {
			return i, fmt.Errorf("compress archive of %s: xz: %w: %s", section, err, quote(strings.TrimSpace(string(out))))
		}
	}
	return len(files), nil
}

// MoveLog moves a log from one log directory to another (mv, as Debian's
// detect_archive_issues moves fail/ logs to untestable/), replacing a log
// of the same name there, and moves its index row. It returns a
// *NameError or an error wrapping [ErrUnknownKind] for unsafe names, and
// one wrapping fs.ErrNotExist when the log is gone.
func (db *DB) MoveLog(ctx context.Context, section string, from, to Kind, pkg, version string, now time.Time) error {
	t, err := db.logTree()
	if err != nil {
		return err
	}
	src, err := t.logFile(section, from, pkg, version)
	if err != nil {
		return fmt.Errorf("move log: %w", err)
	}
	dst, err := t.logFile(section, to, pkg, version)
	if err != nil {
		return fmt.Errorf("move log: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("move %s/%s: %w", from, filepath.Base(src), err)
	}
	if err := os.Rename(src, dst); err != nil {
		return fmt.Errorf("move %s/%s to %s: %w", from, filepath.Base(src), to, err)
	}
	for _, d := range []string{filepath.Dir(dst), filepath.Dir(src)} {
		if err := fsutil.SyncDir(d); err != nil {
			return fmt.Errorf("move %s/%s to %s: %w", from, filepath.Base(src), to, err)
		}
	}
	if _, err := db.RemoveLog(ctx, section, from, pkg, version); err != nil {
		return err
	}
	if _, err := db.RemoveLog(ctx, section, to, pkg, version); err != nil {
		return err
	}
	return db.IndexFile(ctx, section, to, pkg, version, now)
}

// RemoveStaleTemps removes the files named tmp?????? (Python's tempfile
// names, which a killed piuparts-report or master leaves) older than
// age from a log directory, as detect_piuparts_issues does, and returns
// their names.
func (t *LogTree) RemoveStaleTemps(section string, kind Kind, age time.Duration, now time.Time) ([]string, error) {
	dir, err := t.kindDir(section, kind)
	if err != nil {
		return nil, fmt.Errorf("remove stale temporary files: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("remove stale temporary files: %w", err)
	}
	var removed []string
	for _, e := range entries {
		n := e.Name()
		if len(n) != 9 || !strings.HasPrefix(n, "tmp") || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) <= age {
			continue
		}
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("remove stale temporary file: %w", err)
		}
		removed = append(removed, n)
	}
	return removed, nil
}

// AppendArchiveIssues appends lines to MASTER/archive_issues.txt (the
// record detect_archive_issues keeps of the logs it moved), synced.
func (t *LogTree) AppendArchiveIssues(lines []string) error {
	f, err := os.OpenFile(filepath.Join(t.root, archiveIssues), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("record archive issues: %w", err)
	}
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("record archive issues: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("record archive issues: %w", err)
	}
	return f.Close()
}

// ArchiveIssues returns MASTER/archive_issues.txt, empty when there is
// none.
func (t *LogTree) ArchiveIssues() (string, error) {
	b, err := os.ReadFile(filepath.Join(t.root, archiveIssues))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read archive issues: %w", err)
	}
	return string(b), nil
}

// archiveIssues is the record detect_archive_issues keeps in the master
// directory.
const archiveIssues = "archive_issues.txt"
