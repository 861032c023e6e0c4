package spool

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"piuparts-server/internal/fsutil"
)

// Log is the log of one test being written into new/NAME_VERSION.log. It
// ends with [Log.Commit] or [Log.Abort]. A Log is not safe for concurrent
// use.
type Log struct {
	s             *Spool
	name, version string
	path          string
	f             *os.File // nil once closed
	n             int64
	done          bool // committed (renamed) or aborted
}

// Create starts the log of a package version, new/NAME_VERSION.log. A file
// of that name left by a crash is replaced; a reservation is not required.
// It returns an error wrapping [ErrInvalidName] for names that [ValidName]
// refuses, and the file system's error otherwise.
func (s *Spool) Create(name, version string) (*Log, error) {
	if err := checkName(name, version); err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	p := s.path(KindNew, name, version)
	// Remove rather than truncate: a stale file might be a link, which
	// O_TRUNC would follow.
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("create log: %w", err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create log: %w", err)
	}
	return &Log{s: s, name: name, version: version, path: p, f: f}, nil
}

// Name returns the package name of the log.
func (l *Log) Name() string { return l.name }

// Version returns the package version of the log.
func (l *Log) Version() string { return l.version }

// Size returns how many bytes were written.
func (l *Log) Size() int64 { return l.n }

// Write appends p to the log. It returns [ErrClosed] after Commit or Abort
// (or after a Commit that failed), and the file system's error otherwise.
func (l *Log) Write(p []byte) (int, error) {
	if l.done || l.f == nil {
		return 0, ErrClosed
	}
	n, err := l.f.Write(p)
	l.n += int64(n)
	return n, err
}

// Commit finishes the log with result "pass", "fail" or "untestable": it
// fsyncs and closes the file, renames it from new/ into the result's
// directory, fsyncs that directory and new/, and then removes the
// reservation marker of the version (as [Spool.Forget]). A finished log
// replaces one of the same name in the same directory.
//
// It returns an error wrapping [ErrInvalidResult] for another result
// (the log stays open: Commit again or Abort), [ErrClosed] after Commit or
// Abort, and the file system's error otherwise. After an error from the
// fsync or the rename the log is not finished: Abort removes it. After an
// error from a later step the log is finished and will be shipped, and
// [Spool.Reserved] drops its reservation marker.
func (l *Log) Commit(result string) error {
	if l.done {
		return ErrClosed
	}
	if !ValidResult(result) {
		return fmt.Errorf("commit %s: %w %s", LogName(l.name, l.version), ErrInvalidResult, quote(result))
	}
	if err := l.commit(result); err != nil {
		return fmt.Errorf("commit %s as %s: %w", LogName(l.name, l.version), result, err)
	}
	return nil
}

func (l *Log) commit(result string) error {
	s := l.s
	// The data must be on disk before its name appears in the result
	// directory: a finished log is never partial.
	if l.f != nil {
		if err := l.f.Sync(); err != nil {
			return err
		}
		err := l.f.Close()
		l.f = nil
		if err != nil {
			return err
		}
	}
	if err := s.step("synced"); err != nil {
		return err
	}
	final := s.path(result, l.name, l.version)
	if err := os.Rename(l.path, final); err != nil {
		return err
	}
	l.done = true
	if err := s.step("renamed"); err != nil {
		return err
	}
	// The new name first: once it is durable, the log will be shipped.
	if err := fsutil.SyncDir(filepath.Dir(final)); err != nil {
		return err
	}
	if err := fsutil.SyncDir(filepath.Dir(l.path)); err != nil {
		return err
	}
	if err := s.step("dirsynced"); err != nil {
		return err
	}
	return s.remove(KindReserved, l.name, l.version)
}

// Abort closes the log and removes the new/ file; the reservation stays
// (see [Spool.Forget] and [Spool.Drop]). Abort after Commit, or a second
// Abort, does nothing and returns nil, so `defer l.Abort()` is safe. It
// returns the file system's error otherwise.
func (l *Log) Abort() error {
	if l.done {
		return nil
	}
	l.done = true
	var err error
	if l.f != nil {
		err = l.f.Close()
		l.f = nil
	}
	if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = errors.Join(err, rerr)
	} else if rerr == nil {
		err = errors.Join(err, fsutil.SyncDir(filepath.Dir(l.path)))
	}
	if err != nil {
		return fmt.Errorf("abort %s: %w", LogName(l.name, l.version), err)
	}
	return nil
}
