// Package fsutil holds the file-system steps that the master's store, the
// report and the slave all take: making a name durable, an EINTR-safe
// flock, and a file replaced whole.
package fsutil

import (
	"os"
	"path/filepath"
	"syscall"
	"time"
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

// WriteFileAtomic writes data to a temporary file in path's directory,
// named by pattern as os.CreateTemp names it ("" means "."+base+".*"),
// gives it perm and renames it over path, so that a reader sees the old
// file or the new one, never half of one. Nothing is synced: it is for
// files a crash may lose but must not tear (caches, pages, status). The
// temporary file is removed on an error.
func WriteFileAtomic(path string, data []byte, perm os.FileMode, pattern string) error {
	if pattern == "" {
		pattern = "." + filepath.Base(path) + ".*"
	}
	f, err := os.CreateTemp(filepath.Dir(path), pattern)
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// StatEntry is a directory entry with what lstat says of it
// ([ReadDirStat]).
type StatEntry struct {
	Name     string
	ModTime  time.Time
	Size     int64
	Dev, Ino uint64
	Mode     uint32 // st_mode
}
