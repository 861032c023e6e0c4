package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"piuparts-server/internal/fsutil"
	"piuparts-server/internal/piuparts"
)

// The files of a section directory besides its log directories.
const (
	submissionsFile = "submissions.txt"
	idleStampFile   = "idle.stamp"    // piuparts' idle stamp
	recycleStamp    = "recycle.stamp" // piuparts' idle stamp in recycle mode
	computeLockFile = ".compute.lock" // held while a master computes the section's states
)

// sectionDir returns the directory of a section after checking its name.
func (t *LogTree) sectionDir(section string) (string, error) {
	if err := CheckName("section", section); err != nil {
		return "", err
	}
	return filepath.Join(t.root, section), nil
}

// kindDir returns SECTION/KIND after checking both.
func (t *LogTree) kindDir(section string, kind Kind) (string, error) {
	dir, err := t.sectionDir(section)
	if err != nil {
		return "", err
	}
	if !kind.Valid() {
		return "", fmt.Errorf("%w %s", ErrUnknownKind, quote(string(kind)))
	}
	return filepath.Join(dir, string(kind)), nil
}

// logFile returns the absolute path of a log after checking the names.
func (t *LogTree) logFile(section string, kind Kind, pkg, version string) (string, error) {
	rel, err := LogPath(section, kind, pkg, version)
	if err != nil {
		return "", err
	}
	return filepath.Join(t.root, filepath.FromSlash(rel)), nil
}

// EnsureSection creates a section's directory and its log directories, as
// piupartslib's PackagesDB does. It returns a *NameError for an unsafe name.
func (t *LogTree) EnsureSection(section string) error {
	dir, err := t.sectionDir(section)
	if err != nil {
		return fmt.Errorf("create directories of section: %w", err)
	}
	for _, k := range piuparts.Kinds() {
		if err := os.MkdirAll(filepath.Join(dir, string(k)), 0o755); err != nil {
			return fmt.Errorf("create directories of %s: %w", section, err)
		}
	}
	return nil
}

// Sections returns the section directories of the master directory, by
// name: directories (not links) with a safe section name holding a log
// directory or submissions.txt.
func (t *LogTree) Sections() ([]string, error) {
	entries, err := os.ReadDir(t.root)
	if err != nil {
		return nil, fmt.Errorf("list sections: %w", err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() || !piuparts.ValidSectionName(e.Name()) {
			continue
		}
		subs := []string{submissionsFile}
		for _, k := range piuparts.Kinds() {
			subs = append(subs, string(k))
		}
		for _, sub := range subs {
			if _, err := os.Lstat(filepath.Join(t.root, e.Name(), sub)); err == nil {
				names = append(names, e.Name())
				break
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

// DirTimes returns the modification time of each log directory of a
// section, by kind. Every log directory must exist (see EnsureSection).
func (t *LogTree) DirTimes(section string) (map[Kind]time.Time, error) {
	out := make(map[Kind]time.Time, 7)
	for _, k := range piuparts.Kinds() {
		dir, err := t.kindDir(section, k)
		if err != nil {
			return nil, fmt.Errorf("stat log directories: %w", err)
		}
		st, err := os.Stat(dir)
		if err != nil {
			return nil, fmt.Errorf("stat log directory: %w", err)
		}
		out[k] = st.ModTime()
	}
	return out, nil
}

// List returns the names in a log directory, unsorted (sorting tens of
// thousands of names costs more than reading them), including names that
// are not logs; the error of a missing directory wraps fs.ErrNotExist.
func (t *LogTree) List(section string, kind Kind) ([]string, error) {
	dir, err := t.kindDir(section, kind)
	if err != nil {
		return nil, fmt.Errorf("list logs: %w", err)
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s/%s: %w", section, kind, err)
	}
	defer f.Close()
	n, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list %s/%s: %w", section, kind, err)
	}
	return n, nil
}

// MarkerTimes returns the change and modification times of a file in a log
// directory (piupartslib orders recycle/ markers by them); zero times when
// it is gone.
func (t *LogTree) MarkerTimes(section string, kind Kind, name string) (ctime, mtime time.Time) {
	dir, err := t.kindDir(section, kind)
	if err != nil || !piuparts.ValidName(name) {
		return time.Time{}, time.Time{}
	}
	info, err := os.Lstat(filepath.Join(dir, name))
	if err != nil {
		return time.Time{}, time.Time{}
	}
	mtime, ctime = info.ModTime(), info.ModTime()
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		ctime = time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	}
	return ctime, mtime
}

// LogExists reports whether a section's kind directory holds the log (or
// marker) of a package version. Unsafe names are never there.
func (t *LogTree) LogExists(section string, kind Kind, pkg, version string) bool {
	p, err := t.logFile(section, kind, pkg, version)
	if err != nil {
		return false
	}
	_, err = os.Lstat(p)
	return err == nil
}

// LogExistsIn reports whether any of kinds holds the log of a package
// version.
func (t *LogTree) LogExistsIn(section string, kinds []Kind, pkg, version string) bool {
	for _, k := range kinds {
		if t.LogExists(section, k, pkg, version) {
			return true
		}
	}
	return false
}

// HasAnyLog reports whether a section's kind directory holds a file
// NAME_VERSION.log (enable_recycling's test of recycle/). A missing
// directory holds none.
func (t *LogTree) HasAnyLog(section string, kind Kind) (bool, error) {
	dir, err := t.kindDir(section, kind)
	if err != nil {
		return false, fmt.Errorf("look for logs: %w", err)
	}
	f, err := os.Open(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look for logs in %s/%s: %w", section, kind, err)
	}
	defer f.Close()
	for {
		names, err := f.Readdirnames(256)
		for _, n := range names {
			if _, _, ok := piuparts.ParseLogName(n); ok {
				return true, nil
			}
		}
		if err != nil {
			return false, nil
		}
	}
}

// stampPath returns SECTION/idle.stamp, or SECTION/recycle.stamp.
func (t *LogTree) stampPath(section string, recycle bool) (string, error) {
	dir, err := t.sectionDir(section)
	if err != nil {
		return "", err
	}
	if recycle {
		return filepath.Join(dir, recycleStamp), nil
	}
	return filepath.Join(dir, idleStampFile), nil
}

// IdleStamp returns the modification time of the section's idle stamp
// (recycle.stamp in recycle mode), and false when there is none.
func (t *LogTree) IdleStamp(section string, recycle bool) (time.Time, bool, error) {
	p, err := t.stampPath(section, recycle)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read idle stamp: %w", err)
	}
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read idle stamp: %w", err)
	}
	return st.ModTime(), true, nil
}

// SetIdleStamp writes the section's idle stamp dated at, as the
// reference's _set_idle does.
func (t *LogTree) SetIdleStamp(section string, recycle bool, at time.Time) error {
	p, err := t.stampPath(section, recycle)
	if err != nil {
		return fmt.Errorf("write idle stamp: %w", err)
	}
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		return fmt.Errorf("write idle stamp: %w", err)
	}
	if err := os.Chtimes(p, time.Time{}, at); err != nil {
		return fmt.Errorf("date idle stamp: %w", err)
	}
	return nil
}

// ClearIdleStamp removes the section's idle stamp (_clear_idle); a missing
// stamp is not an error.
func (t *LogTree) ClearIdleStamp(section string, recycle bool) error {
	p, err := t.stampPath(section, recycle)
	if err != nil {
		return fmt.Errorf("remove idle stamp: %w", err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove idle stamp: %w", err)
	}
	return nil
}

// TryLockCompute takes SECTION/.compute.lock without waiting: held by the
// master process that computes the section's states. It returns ok false
// when another process holds it, and the unlock function otherwise.
func (t *LogTree) TryLockCompute(section string) (unlock func(), ok bool, err error) {
	dir, err := t.sectionDir(section)
	if err != nil {
		return nil, false, fmt.Errorf("lock section: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, computeLockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("lock %s: %w", section, err)
	}
	if err := fsutil.Flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("lock %s: %w", section, err)
	}
	return func() { f.Close() }, true, nil
}

// indexCacheDir holds the decompressed Packages files (debian.IndexCache).
const indexCacheDir = ".index-cache"

// IndexCacheDir returns the directory in the master directory where the
// decompressed text of local Packages files is kept (a cache: removing it
// loses nothing).
func (t *LogTree) IndexCacheDir() string { return filepath.Join(t.root, indexCacheDir) }

// HasSection reports whether the master directory has a directory for the
// section (a valid name).
func (t *LogTree) HasSection(section string) bool {
	dir, err := t.sectionDir(section)
	if err != nil {
		return false
	}
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}
