package supervise

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// Cleanup removes piuparts' marked temporary directories under tmpdir and
// nothing else: not unmarked directories, not what a symlink points to.
func TestCleanup_RemovesOnlyMarkedDirs(t *testing.T) {
	root := t.TempDir()
	tmpdir := filepath.Join(root, "tmp")
	outside := filepath.Join(root, "outside")
	mk := func(p string) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mk(filepath.Join(outside, "precious"))
	mk(filepath.Join(outside, "marked", TmpdirMarker))
	mk(filepath.Join(tmpdir, "tmpAAA", TmpdirMarker))
	mk(filepath.Join(tmpdir, "tmpAAA", "etc", "passwd"))
	if err := os.Symlink(outside, filepath.Join(tmpdir, "tmpAAA", "escape")); err != nil {
		t.Fatal(err)
	}
	mk(filepath.Join(tmpdir, "keep", "file"))
	if err := os.Symlink(filepath.Join(outside, "marked"), filepath.Join(tmpdir, "link")); err != nil {
		t.Fatal(err)
	}
	mounts := filepath.Join(root, "mounts")
	os.WriteFile(mounts, nil, 0o644)

	done, err := Cleanup(tmpdir, mounts)
	if err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	if want := []string{"removed " + filepath.Join(tmpdir, "tmpAAA")}; !slices.Equal(done, want) {
		t.Errorf("Cleanup did %q, want %q", done, want)
	}
	for _, gone := range []string{filepath.Join(tmpdir, "tmpAAA")} {
		if _, err := os.Lstat(gone); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there", gone)
		}
	}
	for _, kept := range []string{filepath.Join(outside, "precious"), filepath.Join(outside, "marked", TmpdirMarker),
		filepath.Join(tmpdir, "keep", "file"), filepath.Join(tmpdir, "link")} {
		if _, err := os.Lstat(kept); err != nil {
			t.Errorf("%s was removed: %v", kept, err)
		}
	}
}

// Leftover chroot mounts under tmpdir are unmounted (as root), then the
// chroot is removed.
func TestCleanup_Unmounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	tmpdir := t.TempDir()
	chroot := filepath.Join(tmpdir, "tmpXYZ")
	proc := filepath.Join(chroot, "proc")
	if err := os.MkdirAll(proc, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(chroot, TmpdirMarker), nil, 0o644)
	if err := syscall.Mount("tmpfs", proc, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(proc, syscall.MNT_DETACH) })
	os.WriteFile(filepath.Join(proc, "inside-the-mount"), nil, 0o644)
	done, err := Cleanup(tmpdir, "")
	if err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	if got := strings.Join(done, "; "); got != "unmounted "+proc+"; removed "+chroot {
		t.Errorf("Cleanup did %q", got)
	}
	if _, err := os.Lstat(chroot); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there", chroot)
	}
}

func TestCleanup_RefusesRoot(t *testing.T) {
	for _, dir := range []string{"/", "", "relative/tmp", "/.."} {
		if _, err := Cleanup(dir, ""); err == nil {
			t.Errorf("Cleanup(%q) = nil error", dir)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{`/tmp/a\040b`: "/tmp/a b", `/x\134y`: `/x\y`, `/plain`: "/plain", `/bad\04`: `/bad\04`} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}
