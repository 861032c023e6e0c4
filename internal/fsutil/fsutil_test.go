package fsutil_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"piuparts-server/internal/fsutil"
)

func TestSyncDir(t *testing.T) {
	if err := fsutil.SyncDir(t.TempDir()); err != nil {
		t.Errorf("SyncDir(a directory) = %v", err)
	}
	if err := fsutil.SyncDir(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("SyncDir(missing) = %v, want fs.ErrNotExist", err)
	}
}

// LockPID: a second lock is refused with the holder's pid; once the first
// is closed, it is free again.
func TestLockPID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.lock")
	f, err := fsutil.LockPID(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fsutil.LockPID(path)
	var le *fsutil.LockedError
	if !errors.As(err, &le) || le.PID != os.Getpid() || !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Errorf("second LockPID = %v, want a LockedError naming pid %d", err, os.Getpid())
	}
	f.Close()
	g, err := fsutil.LockPID(path)
	if err != nil {
		t.Fatalf("LockPID after release: %v", err)
	}
	g.Close()
}
