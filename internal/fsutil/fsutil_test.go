package fsutil_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
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

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "page.html")
	for _, content := range []string{"first", "second, longer"} {
		if err := fsutil.WriteFileAtomic(p, []byte(content), 0o644, ""); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(p); err != nil || string(b) != content {
			t.Errorf("after writing %q: %q, %v", content, b, err)
		}
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, %v; want 0644", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file (no temporary left)", len(entries))
	}
	// A directory in the way: the error comes back and no temporary stays.
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := fsutil.WriteFileAtomic(filepath.Join(dir, "sub"), []byte("x"), 0o644, ""); err == nil {
		t.Error("writing over a non-empty directory succeeded")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("after the failed write the directory holds %d entries, want 2", len(entries))
	}
}

func TestReadDirInodes(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.log", "b_1.0.log", "c"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, dev, err := fsutil.ReadDirInodes(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Errorf("ReadDirInodes listed %v, want 3 names", got)
	}
	for _, n := range []string{"a.log", "b_1.0.log", "c"} {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if got[n] != st.Ino || dev != uint64(st.Dev) {
			t.Errorf("%s: inode %d, device %d; want %d, %d", n, got[n], dev, st.Ino, st.Dev)
		}
	}
}

func TestReadDirStat(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b_1.0.log", "a.log", "c.kpr"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.log", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	got, err := fsutil.ReadDirStat(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range got {
		names = append(names, e.Name)
		fi, err := os.Lstat(filepath.Join(dir, e.Name))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if !e.ModTime.Equal(fi.ModTime()) || e.Size != fi.Size() || e.Ino != st.Ino || e.Dev != uint64(st.Dev) {
			t.Errorf("%s: %+v, want lstat's mtime %v, size %d, inode %d", e.Name, e, fi.ModTime(), fi.Size(), st.Ino)
		}
	}
	if want := []string{"a.log", "b_1.0.log", "c.kpr", "link"}; !slices.Equal(names, want) {
		t.Errorf("ReadDirStat names = %q, want %q (sorted)", names, want)
	}
}
