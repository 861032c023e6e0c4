package fsutil

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// LockedError is returned by [LockPID] when another process holds the lock.
type LockedError struct {
	Path string // the lock file
	PID  int    // the holder's pid as it wrote it; 0 if unreadable
}

func (e *LockedError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("%s is held by pid %d", e.Path, e.PID)
	}
	return fmt.Sprintf("%s is held by another process", e.Path)
}

// Unwrap makes errors.Is(err, syscall.EWOULDBLOCK) true.
func (e *LockedError) Unwrap() error { return syscall.EWOULDBLOCK }

// LockPID takes an exclusive, non-blocking flock(2) on path (created with
// mode 0644) and writes the caller's pid into it, so that whoever finds
// it held can name the holder. The lock lasts until the returned file is
// closed or the process ends (a SIGKILL too: the kernel drops it). A lock
// held elsewhere is a *[LockedError].
func LockPID(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := Flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Path: path, PID: ReadPID(path)}
		}
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock: write pid to %s: %w", path, err)
		}
	}
	return f, nil
}

// ReadPID reads the pid a [LockPID] holder wrote to path; 0 when there is none.
func ReadPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return 0
	}
	return n
}
