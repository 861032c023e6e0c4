package supervise

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// TmpdirMarker is the file piuparts puts in each temporary directory it
// creates (its chroots) under tmpdir.
const TmpdirMarker = ".piuparts.tmpdir"

// Cleanup does the work of Debian's slave_cleanup on tmpdir, which a
// killed piuparts leaves behind: it unmounts every mount point under
// tmpdir/ (deepest and latest first, as `tac /proc/mounts`), then removes
// each directory directly under tmpdir that holds a .piuparts.tmpdir file,
// without crossing into another file system (rm -rf --one-file-system)
// and without following symbolic links; a directory that cannot be removed
// whole gets its marker back, as in the reference. It returns one line per
// thing done, for the log. tmpdir must be absolute and not "/"; a tmpdir
// that does not exist is nothing to do. mounts is the mount table to read
// ("" means /proc/self/mounts).
func Cleanup(tmpdir, mounts string) (done []string, err error) {
	if !filepath.IsAbs(tmpdir) || filepath.Clean(tmpdir) == "/" {
		return nil, fmt.Errorf("cleanup: tmpdir %q must be an absolute directory other than /", tmpdir)
	}
	tmpdir = filepath.Clean(tmpdir)
	root, err := os.Lstat(tmpdir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cleanup: %w", err)
	}
	if !root.IsDir() {
		return nil, fmt.Errorf("cleanup: tmpdir %s is not a directory", tmpdir)
	}
	if mounts == "" {
		mounts = "/proc/self/mounts"
	}
	points, err := mountPoints(mounts, tmpdir+"/")
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, mp := range points {
		if err := syscall.Unmount(mp, 0); err != nil {
			// Busy: detach it, so that it goes once unused.
			if err2 := syscall.Unmount(mp, syscall.MNT_DETACH); err2 != nil {
				errs = append(errs, fmt.Errorf("cleanup: unmount %s: %w", mp, err))
				continue
			}
		}
		done = append(done, "unmounted "+mp)
	}
	ents, err := os.ReadDir(tmpdir)
	if err != nil {
		return done, errors.Join(append(errs, fmt.Errorf("cleanup: %w", err))...)
	}
	dev := root.Sys().(*syscall.Stat_t).Dev
	for _, e := range ents {
		if e.Type()&os.ModeType != os.ModeDir {
			continue // files and symlinks: not piuparts' directories
		}
		dir := filepath.Join(tmpdir, e.Name())
		m, err := os.Lstat(filepath.Join(dir, TmpdirMarker))
		if err != nil || !m.Mode().IsRegular() {
			continue
		}
		if err := removeTree(dir, dev); err != nil {
			errs = append(errs, fmt.Errorf("cleanup: remove %s: %w", dir, err))
			if f, cerr := os.Create(filepath.Join(dir, TmpdirMarker)); cerr == nil {
				f.Close()
			}
			continue
		}
		done = append(done, "removed "+dir)
	}
	return done, errors.Join(errs...)
}

// removeTree removes path and everything under it that is on device dev,
// never following a symbolic link; a directory on another device (a mount
// point left) stops it with an error.
func removeTree(path string, dev uint64) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return os.Remove(path)
	}
	if fi.Sys().(*syscall.Stat_t).Dev != dev {
		return fmt.Errorf("%s is on another file system (still mounted)", path)
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range ents {
		if err := removeTree(filepath.Join(path, e.Name()), dev); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return os.Remove(path)
}

// mountPoints returns the mount points in the mount table file that start
// with prefix, last mounted first.
func mountPoints(table, prefix string) ([]string, error) {
	f, err := os.Open(table)
	if err != nil {
		return nil, fmt.Errorf("cleanup: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		if mp := unescapeMount(fields[1]); strings.HasPrefix(mp, prefix) {
			out = append(out, mp)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cleanup: read %s: %w", table, err)
	}
	slices.Reverse(out)
	return out, nil
}

// unescapeMount decodes the octal escapes (\040 for a space) of a path in
// /proc/mounts.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
