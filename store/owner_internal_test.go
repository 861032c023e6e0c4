package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckOwner(t *testing.T) {
	root := t.TempDir() // the test's own: root's when the test runs as root
	owner := os.Geteuid()
	tests := []struct {
		name string
		dir  string
		euid int
	}{
		{"NotRoot", root, 1000},
		{"SameOwner", root, owner},
		{"Missing", filepath.Join(root, "new", "master"), owner},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkOwner(tt.dir, tt.euid); err != nil {
				t.Errorf("checkOwner(%s, %d) = %v, want nil", tt.dir, tt.euid, err)
			}
		})
	}
	t.Run("OthersMissingChild", func(t *testing.T) {
		if owner != 0 {
			t.Skip("######## SKIPPED: needs root to chown a directory to nobody")
		}
		dir := filepath.Join(root, "home")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		err := checkOwner(filepath.Join(dir, "master"), 0)
		var oe *OwnerError
		if !errors.As(err, &oe) || oe.User != "nobody" || oe.Dir != dir || !errors.Is(err, ErrWrongUser) {
			t.Errorf("checkOwner(%s/master, 0) = %v, want an *OwnerError naming nobody and %s", dir, err, dir)
		}
	})
}
