package master

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"piuparts-server/internal/piuparts"
	"piuparts-server/master/state"
	"piuparts-server/store"
)

// resultKinds are piupartslib's "most" directories: a log there means the
// version was tested.
var resultKinds = []store.Kind{store.KindPass, store.KindFail, store.KindUntestable, store.KindBugged, store.KindAffected}

// stampKinds are the directories whose changes invalidate computed states:
// all but reserved/ (a reservation does not change its package's state).
var stampKinds = []store.Kind{store.KindPass, store.KindFail, store.KindUntestable, store.KindBugged, store.KindAffected, store.KindRecycle}

// stateKind maps the log tree's kinds to the state algorithm's.
var stateKind = map[store.Kind]state.Kind{
	store.KindPass: state.Pass, store.KindFail: state.Fail, store.KindUntestable: state.Untestable,
	store.KindReserved: state.Reserved, store.KindBugged: state.Bugged, store.KindAffected: state.Affected,
	store.KindRecycle: state.Recycle,
}

// kindDir returns the directory of a kind of log in a section.
func (c *conn) kindDir(section string, k store.Kind) string {
	return filepath.Join(c.cfg.Dir, section, string(k))
}

// ensureDirs creates a section's directory and its log directories, as
// piupartslib's PackagesDB does.
func (c *conn) ensureDirs(section string) error {
	for _, k := range piuparts.Kinds() {
		if err := os.MkdirAll(c.kindDir(section, k), 0o755); err != nil {
			return fmt.Errorf("create directories of %s: %w", section, err)
		}
	}
	return nil
}

// treeStamp returns the modification times of a section's stampKinds
// directories, as key material, and the latest modification time of all
// its log directories (piupartslib's get_mtime).
func (c *conn) treeStamp(section string) (string, time.Time, error) {
	var b strings.Builder
	var latest time.Time
	for _, k := range piuparts.Kinds() {
		st, err := os.Stat(c.kindDir(section, k))
		if err != nil {
			return "", time.Time{}, fmt.Errorf("stat log directory: %w", err)
		}
		if st.ModTime().After(latest) {
			latest = st.ModTime()
		}
		if k == store.KindReserved {
			continue
		}
		fmt.Fprintf(&b, "%s=%d ", k, st.ModTime().UnixNano())
	}
	return b.String(), latest, nil
}

// latestMtime returns piupartslib's get_mtime for a section: the latest
// modification time of its log directories.
func (c *conn) latestMtime(section string) (time.Time, error) {
	_, t, err := c.treeStamp(section)
	return t, err
}

// logRef names one log file of a section.
type logRef struct {
	kind          store.Kind
	name, version string
}

// listing memoizes the names in log directories for one computation of the
// states, so that the index check and the algorithm's input read each
// directory once. A listing must not outlive the computation.
type listing map[string][]string

// names returns the names in dir, in no particular order; the error of a
// missing directory wraps fs.ErrNotExist.
func (l listing) names(dir string) ([]string, error) {
	if n, ok := l[dir]; ok {
		return n, nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Unsorted names: neither the index check nor the algorithm needs an
	// order, and sorting ~45,000 names of pass/ cost more than reading them.
	n, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	l[dir] = n
	return n, nil
}

// listLogs reads a section's log directories into state.Logs, as
// piupartslib's bulk_load_dir does, and returns its recycle/ markers too.
func (c *conn) listLogs(section string, ls listing) (state.Logs, []logRef, error) {
	var logs state.Logs
	var recycle []logRef
	for _, k := range piuparts.Kinds() {
		dir := c.kindDir(section, k)
		names, err := ls.names(dir)
		if err != nil {
			return state.Logs{}, nil, fmt.Errorf("list %s: %w", dir, err)
		}
		for _, n := range names {
			name, version, ok := piuparts.ParseLogName(n)
			if !ok {
				continue
			}
			if k != store.KindRecycle {
				logs.Add(stateKind[k], name, version)
				continue
			}
			recycle = append(recycle, logRef{k, name, version})
			var ctime, mtime time.Time
			if info, err := os.Lstat(filepath.Join(dir, n)); err == nil {
				mtime = info.ModTime()
				ctime = mtime
				if st, ok := info.Sys().(*syscall.Stat_t); ok {
					ctime = time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
				}
			}
			logs.AddRecycle(name, version, ctime, mtime)
		}
	}
	return logs, recycle, nil
}

// logExists reports whether a section's kind directory holds the log of a
// package version.
func (c *conn) logExists(section string, k store.Kind, pkg, version string) bool {
	_, err := os.Lstat(filepath.Join(c.kindDir(section, k), piuparts.LogName(pkg, version)))
	return err == nil
}

// logExistsIn reports whether any of kinds holds the log.
func (c *conn) logExistsIn(section string, kinds []store.Kind, pkg, version string) bool {
	for _, k := range kinds {
		if c.logExists(section, k, pkg, version) {
			return true
		}
	}
	return false
}

// hasAnyLog reports whether dir holds a file NAME_VERSION.log
// (enable_recycling's test of recycle/).
func hasAnyLog(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
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

// removeKpr removes SECTION/KIND/NAME_VERSION.kpr, the known-problem report
// piuparts-report derived from an older log, as piupartslib does when a new
// log arrives.
func (c *conn) removeKpr(section string, k store.Kind, pkg, version string) error {
	p := filepath.Join(c.kindDir(section, k), pkg+"_"+version+".kpr")
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
