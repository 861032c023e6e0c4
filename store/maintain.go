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
