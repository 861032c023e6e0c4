package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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

// sectionLog is the master's log of a section, SECTION/master.log.
const sectionLog = "master.log"

// RotateSectionLog renames SECTION/master.log to master.DAY.log when it
// is a regular file larger than limit bytes and no log of that day was
// rotated yet, as rotate_master_logs does; a master writing to it goes on
// in the renamed file until its connection ends. It returns the new
// name relative to the master directory, "" when nothing was rotated.
func (t *LogTree) RotateSectionLog(section, day string, limit int64) (string, error) {
	dir, err := t.sectionDir(section)
	if err != nil {
		return "", fmt.Errorf("rotate master log: %w", err)
	}
	if !validDay(day) {
		return "", fmt.Errorf("rotate master log: bad day %s", quote(day))
	}
	cur := filepath.Join(dir, sectionLog)
	fi, err := os.Lstat(cur)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("rotate master log: %w", err)
	}
	rotated := "master." + day + ".log"
	if !fi.Mode().IsRegular() || fi.Size() <= limit {
		return "", nil
	}
	if _, err := os.Lstat(filepath.Join(dir, rotated)); err == nil {
		return "", nil
	}
	if err := os.Rename(cur, filepath.Join(dir, rotated)); err != nil {
		return "", fmt.Errorf("rotate master log: %w", err)
	}
	return section + "/" + rotated, nil
}

// validDay reports whether day is YYYYMMDD digits.
func validDay(day string) bool {
	if len(day) != 8 {
		return false
	}
	for _, c := range day {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// CompressRotatedLogs compresses the section's rotated master logs
// (master.*.log) but keep (the one rotated today) with xz -9, and returns
// them relative to the master directory.
func (t *LogTree) CompressRotatedLogs(ctx context.Context, section, keep string) ([]string, error) {
	dir, err := t.sectionDir(section)
	if err != nil {
		return nil, fmt.Errorf("compress master logs: %w", err)
	}
	matches, err := filepath.Glob(filepath.Join(dir, "master.*.log"))
	if err != nil {
		return nil, fmt.Errorf("compress master logs: %w", err)
	}
	var done []string
	for _, m := range matches {
		rel := section + "/" + filepath.Base(m)
		if fi, err := os.Lstat(m); err != nil || !fi.Mode().IsRegular() || rel == keep {
			continue
		}
		if out, err := exec.CommandContext(ctx, "xz", "-9", "--", m).CombinedOutput(); err != nil {
			return done, fmt.Errorf("compress %s: xz: %w: %s", rel, err, quote(strings.TrimSpace(string(out))))
		}
		done = append(done, rel)
	}
	return done, nil
}

// RemoveOldRotatedLogs removes the section's compressed master logs
// (master.*.log.*) older than age, except the keep newest, and returns
// them relative to the master directory.
func (t *LogTree) RemoveOldRotatedLogs(section string, keep int, age time.Duration, now time.Time) ([]string, error) {
	dir, err := t.sectionDir(section)
	if err != nil {
		return nil, fmt.Errorf("remove old master logs: %w", err)
	}
	matches, err := filepath.Glob(filepath.Join(dir, "master.*.log.*"))
	if err != nil {
		return nil, fmt.Errorf("remove old master logs: %w", err)
	}
	type old struct {
		path  string
		mtime time.Time
	}
	var logs []old
	for _, m := range matches {
		if fi, err := os.Lstat(m); err == nil && fi.Mode().IsRegular() {
			logs = append(logs, old{m, fi.ModTime()})
		}
	}
	// ls -t1 | tail -n +(keep+1): the newest first.
	slices.SortFunc(logs, func(a, b old) int {
		if c := b.mtime.Compare(a.mtime); c != 0 {
			return c
		}
		return strings.Compare(a.path, b.path)
	})
	var removed []string
	for i, l := range logs {
		if i < keep || now.Sub(l.mtime)/(24*time.Hour) <= age/(24*time.Hour) {
			continue
		}
		if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("remove old master log: %w", err)
		}
		removed = append(removed, section+"/"+filepath.Base(l.path))
	}
	return removed, nil
}

// CopyForBackup copies MASTER/rel (a file of the master directory, such
// as archive_issues.txt or SECTION/counts.txt) to dir/rel, as
// prepare_backup does; it reports false when there is no such file.
func (t *LogTree) CopyForBackup(rel, dir string) (bool, error) {
	clean := filepath.Clean(filepath.FromSlash(rel))
	if filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return false, fmt.Errorf("back up %s: not a path inside the master directory", quote(rel))
	}
	data, err := os.ReadFile(filepath.Join(t.root, clean))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("back up %s: %w", rel, err)
	}
	dst := filepath.Join(dir, clean)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return false, fmt.Errorf("back up %s: %w", rel, err)
	}
	if err := fsutil.WriteFileAtomic(dst, data, 0o644, tempPrefix+"*"); err != nil {
		return false, fmt.Errorf("back up %s: %w", rel, err)
	}
	return true, nil
}

// BackupDatabase writes a consistent copy of the database to path
// (VACUUM INTO), replacing one there.
func (db *DB) BackupDatabase(ctx context.Context, path string) error {
	tmp := path + ".new"
	_ = os.Remove(tmp)
	if _, err := db.db.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("back up database: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("back up database: %w", err)
	}
	return nil
}
