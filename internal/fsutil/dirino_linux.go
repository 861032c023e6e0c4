package fsutil

import (
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// readDirents calls fn with each name in the open directory f and its
// inode number, as the directory lists them (getdents64, without a stat
// per name). "." and ".." are left out.
func readDirents(f *os.File, fn func(name string, ino uint64)) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := syscall.ReadDirent(int(f.Fd()), buf)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "getdents", Path: f.Name(), Err: err}
		}
		if n <= 0 {
			return nil
		}
		// struct linux_dirent64: d_ino u64, d_off s64, d_reclen u16,
		// d_type u8, d_name NUL-terminated.
		for b := buf[:n]; len(b) >= 19; {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen < 19 || reclen > len(b) {
				return &os.PathError{Op: "getdents", Path: f.Name(), Err: syscall.EIO}
			}
			name := b[19:reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			if s := string(name); s != "." && s != ".." {
				fn(s, binary.NativeEndian.Uint64(b[0:8]))
			}
			b = b[reclen:]
		}
	}
}

// ReadDirInodes returns the names in a directory with their inode
// numbers, as the directory lists them (getdents64, without a stat per
// name), and the directory's device. "." and ".." are left out.
func ReadDirInodes(dir string) (map[string]uint64, uint64, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil, 0, errors.ErrUnsupported
	}
	out := make(map[string]uint64)
	if err := readDirents(f, func(name string, ino uint64) { out[name] = ino }); err != nil {
		return nil, 0, err
	}
	return out, uint64(st.Dev), nil
}

// ReadDirStat returns the entries of a directory sorted by name, as
// os.ReadDir does, each with what lstat says of it, taken relative to the
// directory (one path component per name, no FileInfo). A name removed
// between the listing and its stat is left out.
func ReadDirStat(dir string) ([]StatEntry, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The names first, so that the entries are allocated once.
	var names []string
	if err := readDirents(f, func(name string, _ uint64) { names = append(names, name) }); err != nil {
		return nil, err
	}
	slices.Sort(names)
	fd := int(f.Fd())
	out := make([]StatEntry, 0, len(names))
	var st unix.Stat_t
	for _, s := range names {
		for {
			err = unix.Fstatat(fd, s, &st, unix.AT_SYMLINK_NOFOLLOW)
			if !errors.Is(err, syscall.EINTR) {
				break
			}
		}
		if errors.Is(err, syscall.ENOENT) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "fstatat", Path: dir + "/" + s, Err: err}
		}
		out = append(out, StatEntry{Name: s, ModTime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec),
			Size: st.Size, Dev: uint64(st.Dev), Ino: st.Ino, Mode: st.Mode})
	}
	return out, nil
}
