// Package fsutil holds the file-system steps that the master's store and the
// slave's spool both take: making a name durable, and an EINTR-safe flock.
package fsutil

import (
	"os"
	"syscall"
)

// SyncDir fsyncs a directory so that names created, renamed or removed in it
// persist across a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Flock calls flock(2) on f with how (syscall.LOCK_EX, LOCK_SH, LOCK_UN,
// possibly with LOCK_NB), again when a signal interrupts it (EINTR). A
// failure is an *os.PathError naming f; with LOCK_NB a lock held elsewhere
// wraps syscall.EWOULDBLOCK.
func Flock(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Flock(int(fd), how)
			if ferr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
	if ferr != nil {
		return &os.PathError{Op: "flock", Path: f.Name(), Err: ferr}
	}
	return nil
}
