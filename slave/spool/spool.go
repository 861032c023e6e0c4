package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"piuparts-server/internal/fsutil"
)

// Options configures a Spool. The zero value is usable: no shipping log.
type Options struct {
	// Section names the section in the shipping log; "" means the base
	// name of the spool directory.
	Section string

	// Master names the master in the shipping log, for example
	// "piupartsm@master:22" or "local"; "" is written as "-".
	Master string

	// ShipLog is the path of the shipping log, a file that each shipped
	// log appends one line to (see the package documentation); "" means
	// none. Several spools may share one file.
	ShipLog string

	// Now returns the current time, for the shipping log; nil means
	// time.Now.
	Now func() time.Time
}

// Entry is one log or reservation marker in the spool.
type Entry struct {
	// Result is the directory the file is in: "pass", "fail" or
	// "untestable" for a finished log, "reserved" or "new" for an
	// unfinished one.
	Result string

	Name, Version string // the package version, from the file name
	Path          string // the file, the spool directory joined with Result and NAME_VERSION.log
	Size          int64
	ModTime       time.Time
}

// Spool is the store-and-forward spool of one section, the directory
// slave-directory/SECTION. Its methods may be called from several
// goroutines; for one package version, the caller keeps them in order.
// Across processes, the caller should hold [Spool.Lock] while working on
// the section, as Debian's piuparts-slave does.
type Spool struct {
	dir     string
	section string
	master  string
	shipLog string
	now     func() time.Time

	// hook, set by tests only, is called between the steps of Commit and
	// Ship; an error stops the operation there, as a crash would.
	hook func(step string) error

	mu       sync.Mutex
	held     int  // how many Lock calls of this Spool hold slave.lock
	shipping bool // a Ship of this Spool is running
}

// subdirs are the directories of a section, as piuparts-slave creates them.
var subdirs = [...]string{KindNew, ResultPass, ResultFail, ResultUntestable, KindReserved}

// Open opens the spool in dir (slave-directory/SECTION), creating dir and
// its subdirectories new/, pass/, fail/, untestable/ and reserved/ as
// needed. It returns an error if dir is empty or if dir or a subdirectory
// cannot be created or is not a directory.
func Open(dir string, o Options) (*Spool, error) {
	if dir == "" {
		return nil, errors.New("open spool: empty directory name")
	}
	s := &Spool{dir: dir, section: o.Section, master: o.Master, shipLog: o.ShipLog, now: o.Now}
	if s.section == "" {
		s.section = filepath.Base(filepath.Clean(dir))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open spool: %w", err)
	}
	created := false
	for _, sub := range subdirs {
		p := filepath.Join(dir, sub)
		err := os.Mkdir(p, 0o755)
		switch {
		case err == nil:
			created = true
		case errors.Is(err, fs.ErrExist):
			st, err := os.Stat(p)
			if err != nil {
				return nil, fmt.Errorf("open spool: %w", err)
			}
			if !st.IsDir() {
				return nil, fmt.Errorf("open spool: %s is not a directory", p)
			}
		default:
			return nil, fmt.Errorf("open spool: %w", err)
		}
	}
	// New directories must survive a crash before files are made durable
	// in them.
	if created {
		if err := fsutil.SyncDir(dir); err != nil {
			return nil, fmt.Errorf("open spool: %w", err)
		}
	}
	return s, nil
}

// Dir returns the spool directory.
func (s *Spool) Dir() string { return s.dir }

// Section returns the section name used in the shipping log.
func (s *Spool) Section() string { return s.section }

// path returns the file of a package version in the subdirectory sub.
func (s *Spool) path(sub, name, version string) string {
	return filepath.Join(s.dir, sub, LogName(name, version))
}

// step calls the test hook, if any.
func (s *Spool) step(name string) error {
	if s.hook == nil {
		return nil
	}
	return s.hook(name)
}

// Reserve records durably that the master reserved the package version for
// this slave: it creates the empty marker reserved/NAME_VERSION.log with
// O_EXCL and fsyncs the directory. Reserving a version already reserved
// succeeds; a reservation of a version whose log is finished but not yet
// shipped is dropped by [Spool.Reserved]. It returns an error wrapping
// [ErrInvalidName] for names that [ValidName] refuses, and the file
// system's error otherwise.
func (s *Spool) Reserve(name, version string) error {
	if err := checkName(name, version); err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	if err := s.reserve(name, version); err != nil {
		return fmt.Errorf("reserve %s %s: %w", name, version, err)
	}
	return nil
}

func (s *Spool) reserve(name, version string) error {
	p := s.path(KindReserved, name, version)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	switch {
	case err == nil:
		if err := f.Close(); err != nil {
			return err
		}
	case errors.Is(err, fs.ErrExist):
		// Already reserved; sync below anyway, in case the earlier
		// creation never was.
		if st, err := os.Lstat(p); err != nil {
			return err
		} else if !st.Mode().IsRegular() {
			return fmt.Errorf("%s exists and is not a regular file", p)
		}
	default:
		return err
	}
	return fsutil.SyncDir(filepath.Dir(p))
}

// Reserved returns the reservations still to test, oldest first. A
// reservation whose log is already finished (a crash between [Log.Commit]'s
// rename and the marker's removal) is removed, not returned. It returns the
// file system's error if a directory cannot be read or a stale marker
// cannot be removed.
func (s *Spool) Reserved() ([]Entry, error) {
	es, err := s.reserved()
	if err != nil {
		return nil, fmt.Errorf("list reservations: %w", err)
	}
	return es, nil
}

func (s *Spool) reserved() ([]Entry, error) {
	markers, err := s.list(KindReserved)
	if err != nil {
		return nil, err
	}
	var out []Entry
	removed := false
	for _, e := range markers {
		done, err := s.isFinished(e.Name, e.Version)
		if err != nil {
			return nil, err
		}
		if !done {
			out = append(out, e)
			continue
		}
		if err := os.Remove(e.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		removed = true
	}
	if removed {
		if err := fsutil.SyncDir(filepath.Join(s.dir, KindReserved)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Forget removes the reservation marker of a package version and fsyncs
// its directory; a missing marker is not an error. [Log.Commit] forgets the
// reservation itself. It returns an error wrapping [ErrInvalidName] for
// names that [ValidName] refuses, and the file system's error otherwise.
func (s *Spool) Forget(name, version string) error {
	if err := checkName(name, version); err != nil {
		return fmt.Errorf("forget: %w", err)
	}
	if err := s.remove(KindReserved, name, version); err != nil {
		return fmt.Errorf("forget %s %s: %w", name, version, err)
	}
	return nil
}

// Drop removes everything unfinished of a package version, its reservation
// marker and its new/ log, after the master accepted its unreservation. It
// fsyncs both directories; missing files are not an error. It returns an
// error wrapping [ErrInvalidName] for names that [ValidName] refuses, and
// the file system's error otherwise.
func (s *Spool) Drop(name, version string) error {
	if err := checkName(name, version); err != nil {
		return fmt.Errorf("drop: %w", err)
	}
	for _, sub := range []string{KindNew, KindReserved} {
		if err := s.remove(sub, name, version); err != nil {
			return fmt.Errorf("drop %s %s: %w", name, version, err)
		}
	}
	return nil
}

// remove removes the file of a package version from sub, if there is one,
// and fsyncs sub.
func (s *Spool) remove(sub, name, version string) error {
	p := s.path(sub, name, version)
	err := os.Remove(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return fsutil.SyncDir(filepath.Dir(p))
}

// Unfinished returns the package versions reserved and not yet finished,
// oldest first: one Entry per version, for its reservation marker ("reserved")
// or, without one, for its new/ log ("new"). These are what an interrupted
// slave unreserves, as piuparts-slave does for new/ and reserved/. Stale
// markers are removed as by [Spool.Reserved]. It returns the file system's
// error if a directory cannot be read.
func (s *Spool) Unfinished() ([]Entry, error) {
	out, err := s.reserved()
	if err != nil {
		return nil, fmt.Errorf("list unfinished: %w", err)
	}
	news, err := s.list(KindNew)
	if err != nil {
		return nil, fmt.Errorf("list unfinished: %w", err)
	}
	have := make(map[string]bool, len(out))
	for _, e := range out {
		have[LogName(e.Name, e.Version)] = true
	}
	for _, e := range news {
		if have[LogName(e.Name, e.Version)] {
			continue
		}
		done, err := s.isFinished(e.Name, e.Version)
		if err != nil {
			return nil, fmt.Errorf("list unfinished: %w", err)
		}
		if !done {
			out = append(out, e)
		}
	}
	sortEntries(out)
	return out, nil
}

// Finished returns the finished logs waiting to be shipped, from pass/,
// fail/ and untestable/, oldest first. It returns the file system's error
// if a directory cannot be read.
func (s *Spool) Finished() ([]Entry, error) {
	var out []Entry
	for _, r := range resultDirs {
		es, err := s.list(r)
		if err != nil {
			return nil, fmt.Errorf("list finished logs: %w", err)
		}
		out = append(out, es...)
	}
	sortEntries(out)
	return out, nil
}

// Pending returns how many finished logs wait to be shipped. It reads the
// three result directories without a stat per file (where the file system
// reports file types), so it is cheap enough to call on every loop. It
// returns the file system's error if a directory cannot be read.
func (s *Spool) Pending() (int, error) {
	n := 0
	for _, r := range resultDirs {
		des, err := os.ReadDir(filepath.Join(s.dir, r))
		if err != nil {
			return 0, fmt.Errorf("count finished logs: %w", err)
		}
		for _, de := range des {
			if _, _, ok := ParseLogName(de.Name()); ok && de.Type().IsRegular() {
				n++
			}
		}
	}
	return n, nil
}

// isFinished reports whether a package version has a finished log.
func (s *Spool) isFinished(name, version string) (bool, error) {
	for _, r := range resultDirs {
		st, err := os.Lstat(s.path(r, name, version))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return false, err
		}
		if st.Mode().IsRegular() {
			return true, nil
		}
	}
	return false, nil
}

// list returns the entries of one subdirectory: regular files whose names
// ParseLogName accepts; anything else is ignored.
func (s *Spool) list(sub string) ([]Entry, error) {
	d := filepath.Join(s.dir, sub)
	des, err := os.ReadDir(d)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, de := range des {
		name, version, ok := ParseLogName(de.Name())
		if !ok || !de.Type().IsRegular() {
			continue
		}
		fi, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since ReadDir
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{
			Result:  sub,
			Name:    name,
			Version: version,
			Path:    filepath.Join(d, de.Name()),
			Size:    fi.Size(),
			ModTime: fi.ModTime(),
		})
	}
	sortEntries(out)
	return out, nil
}

// sortEntries sorts oldest first; equal times by directory and file name,
// so that the order is stable.
func sortEntries(es []Entry) {
	slices.SortStableFunc(es, func(a, b Entry) int {
		if c := a.ModTime.Compare(b.ModTime); c != 0 {
			return c
		}
		if c := strings.Compare(a.Result, b.Result); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Version, b.Version)
	})
}
