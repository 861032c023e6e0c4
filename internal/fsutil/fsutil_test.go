package fsutil_test

import (
	"errors"
	"io/fs"
	"path/filepath"
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
