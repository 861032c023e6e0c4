package spool

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"piuparts-server/internal/fsutil"
)

// LockFile is the name of the lock file in a spool directory, the file
// Debian's piuparts-slave locks.
const LockFile = "slave.lock"

// Lock takes the section's lock: an exclusive, non-blocking flock(2) on
// SECTION/slave.lock, the lock Debian's piuparts-slave takes, so that no
// two slaves (ours or Debian's) work on one section at once. The lock is
// held on an open file of its own, so a second Lock, by this or another
// Spool or process, fails until release is called. While this Spool holds
// the lock, its [Spool.Ship] does not take it again. release unlocks and
// closes the file; calling it more than once is harmless.
//
// It returns an error wrapping [ErrBusy] when the lock is held, and the
// file system's error otherwise.
func (s *Spool) Lock() (release func() error, err error) {
	p := filepath.Join(s.dir, LockFile)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	if err := fsutil.Flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", p, ErrBusy)
		}
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	s.mu.Lock()
	s.held++
	s.mu.Unlock()
	var once sync.Once
	return func() error {
		var err error
		once.Do(func() {
			s.mu.Lock()
			s.held--
			s.mu.Unlock()
			// Closing the only descriptor of the open file releases
			// the lock too; unlock first to say so.
			err = errors.Join(fsutil.Flock(f, syscall.LOCK_UN), f.Close())
			if err != nil {
				err = fmt.Errorf("unlock %s: %w", p, err)
			}
		})
		return err
	}, nil
}
