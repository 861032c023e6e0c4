package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"piuparts-server/internal/fsutil"
	"piuparts-server/internal/piuparts"
)

// The files piuparts-report keeps beside a log NAME_VERSION.log.
const (
	kprExt = ".kpr" // known problems the log shows (dwke.py's make_kprs)
	bugExt = ".bug" // links to bugs filed for the log (piuparts-analyze)
)

// KPRKinds are the log directories piuparts-report keeps .kpr files in,
// in its order (KPR_DIRS): when a package version has files in several,
// the last one counts.
func KPRKinds() []Kind {
	return []Kind{KindPass, KindBugged, KindAffected, KindFail}
}

// TreeEntry is a file of a log directory named for a package version: a
// log, or a .kpr or .bug file beside one.
type TreeEntry struct {
	Kind    Kind
	Package string
	Version string
	ModTime time.Time
	Size    int64 // as listed (a symbolic link's own size)
	// Dev and Ino identify the file as listed (a symbolic link itself):
	// a hard link of it elsewhere has the same.
	Dev, Ino uint64
}

// besideLog returns SECTION/KIND/NAME_VERSION.EXT after checking the names.
func (t *LogTree) besideLog(section string, kind Kind, pkg, version, ext string) (string, error) {
	p, err := t.logFile(section, kind, pkg, version)
	if err != nil {
		return "", err
	}
	return beside(p, ext), nil
}

// beside returns the path of the file with extension ext (".kpr", ".bug")
// that piuparts keeps beside a log file.
func beside(logFile, ext string) string {
	return strings.TrimSuffix(logFile, ".log") + ext
}

// ReadKPR returns the .kpr file of a log and its modification time. It
// returns a *NameError or an error wrapping [ErrUnknownKind] for unsafe
// names, and an error wrapping fs.ErrNotExist when there is none.
func (t *LogTree) ReadKPR(section string, kind Kind, pkg, version string) ([]byte, time.Time, error) {
	p, err := t.besideLog(section, kind, pkg, version, kprExt)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read kpr: %w", err)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read kpr: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read kpr: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read kpr: %w", err)
	}
	return data, st.ModTime(), nil
}

// WriteKPR replaces the .kpr file of a log with data: written to a hidden
// temporary file in the same directory, then renamed, so that a reader
// sees the old file or the new one (an empty one is truncated in place,
// which is as atomic). It is a cache the report rebuilds, so
// nothing is synced. It returns a *NameError or an error wrapping
// [ErrUnknownKind] for unsafe names, and the file system's error (one
// wrapping fs.ErrNotExist when the log directory is missing).
func (t *LogTree) WriteKPR(section string, kind Kind, pkg, version string, data []byte) (err error) {
	p, err := t.besideLog(section, kind, pkg, version, kprExt)
	if err != nil {
		return fmt.Errorf("write kpr: %w", err)
	}
	if len(data) == 0 {
		// Most logs show no known problem. Truncating to nothing is one
		// step a reader cannot see half done, and it saves the temporary
		// file: a cold run writes tens of thousands of these.
		// O_NOFOLLOW: a symbolic link in its place is replaced below,
		// never followed.
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o644)
		if err == nil {
			if err := f.Close(); err != nil {
				return fmt.Errorf("write kpr: %w", err)
			}
			return nil
		}
		if !errors.Is(err, syscall.ELOOP) {
			return fmt.Errorf("write kpr: %w", err)
		}
	}
	if err := fsutil.WriteFileAtomic(p, data, 0o644, tempPrefix+"*"); err != nil {
		return fmt.Errorf("write kpr: %w", err)
	}
	return nil
}

// RemoveKPR removes the .kpr file of a log; one that is not there is not
// an error. It returns a *NameError or an error wrapping [ErrUnknownKind]
// for unsafe names.
func (t *LogTree) RemoveKPR(section string, kind Kind, pkg, version string) error {
	p, err := t.besideLog(section, kind, pkg, version, kprExt)
	if err != nil {
		return fmt.Errorf("remove kpr: %w", err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove kpr: %w", err)
	}
	return nil
}

// ReadBug returns the .bug file of a log (the HTML links piuparts-analyze
// writes), and false when there is none. It returns a *NameError or an
// error wrapping [ErrUnknownKind] for unsafe names.
func (t *LogTree) ReadBug(section string, kind Kind, pkg, version string) ([]byte, bool, error) {
	p, err := t.besideLog(section, kind, pkg, version, bugExt)
	if err != nil {
		return nil, false, fmt.Errorf("read bug: %w", err)
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read bug: %w", err)
	}
	return data, true, nil
}

// ListKPRs returns the .kpr files of a section's log directories kinds
// (e.g. [KPRKinds]), kind by kind in that order, unsorted within one. A
// missing directory holds none; names that are not NAME_VERSION.kpr for
// safe names are left out. It returns a *NameError or an error wrapping
// [ErrUnknownKind] for unsafe names, and the file system's error.
func (t *LogTree) ListKPRs(section string, kinds ...Kind) ([]TreeEntry, error) {
	_, kprs, err := t.ListLogsAndKPRs(section, kinds...)
	return kprs, err
}

// ListLogTimes returns the logs of a section's log directories kinds, as
// [LogTree.ListKPRs] returns the .kpr files, with their modification
// times.
func (t *LogTree) ListLogTimes(section string, kinds ...Kind) ([]TreeEntry, error) {
	logs, _, err := t.ListLogsAndKPRs(section, kinds...)
	return logs, err
}

// ListLogsAndKPRs returns what [LogTree.ListLogTimes] and
// [LogTree.ListKPRs] do, reading each directory once.
func (t *LogTree) ListLogsAndKPRs(section string, kinds ...Kind) (logs, kprs []TreeEntry, err error) {
	for _, k := range kinds {
		dir, err := t.kindDir(section, k)
		if err != nil {
			return nil, nil, fmt.Errorf("list logs: %w", err)
		}
		// One listing with each entry's lstat relative to the directory:
		// tens of thousands of logs and .kpr files.
		entries, err := fsutil.ReadDirStat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("list logs of %s/%s: %w", section, k, err)
		}
		nk := 0
		for _, e := range entries {
			if strings.HasSuffix(e.Name, kprExt) {
				nk++
			}
		}
		logs, kprs = slices.Grow(logs, len(entries)-nk), slices.Grow(kprs, nk)
		for _, e := range entries {
			name, list := e.Name, &logs
			if stem, ok := strings.CutSuffix(name, kprExt); ok {
				name, list = stem+".log", &kprs
			}
			pkg, version, ok := piuparts.ParseLogName(name)
			if !ok {
				continue
			}
			*list = append(*list, TreeEntry{Kind: k, Package: pkg, Version: version, ModTime: e.ModTime, Size: e.Size,
				Dev: e.Dev, Ino: e.Ino})
		}
	}
	return logs, kprs, nil
}

// StaleKPRs returns the .kpr files of kprs that clean_cache_files removes:
// those whose package version has no log in logs, a log in another
// directory, or a log modified after the .kpr (compared as Python compares
// os.path.getmtime, in float seconds). logs and kprs are listings of the
// same directories in the same order ([LogTree.ListLogTimes],
// [LogTree.ListKPRs]); as in the reference's dictionaries, a later entry
// of a package version replaces an earlier one, in both lists.
func StaleKPRs(logs, kprs []TreeEntry) []TreeEntry {
	type key struct{ pkg, version string }
	logBy := make(map[key]TreeEntry, len(logs))
	for _, l := range logs {
		logBy[key{l.Package, l.Version}] = l
	}
	kprBy := make(map[key]TreeEntry, len(kprs))
	var order []key
	for _, k := range kprs {
		kk := key{k.Package, k.Version}
		if _, dup := kprBy[kk]; !dup {
			order = append(order, kk)
		}
		kprBy[kk] = k
	}
	var stale []TreeEntry
	for _, kk := range order {
		k := kprBy[kk]
		l, ok := logBy[kk]
		if !ok || l.Kind != k.Kind || pyMtime(l.ModTime) > pyMtime(k.ModTime) {
			stale = append(stale, k)
		}
	}
	return stale
}

// pyMtime is a modification time as Python's os.stat gives st_mtime.
func pyMtime(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())*1e-9
}
