//go:build !linux

package fsutil

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// ReadDirInodes is supported on Linux only; elsewhere it returns
// errors.ErrUnsupported.
func ReadDirInodes(dir string) (map[string]uint64, uint64, error) {
	return nil, 0, errors.ErrUnsupported
}

// ReadDirStat returns the entries of a directory sorted by name, each
// with what lstat says of it. A name removed between the listing and its
// stat is left out.
func ReadDirStat(dir string) ([]StatEntry, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make([]StatEntry, 0, len(entries))
	for _, e := range entries {
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		se := StatEntry{Name: e.Name(), ModTime: fi.ModTime(), Size: fi.Size()}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			se.Dev, se.Ino, se.Mode = uint64(st.Dev), uint64(st.Ino), uint32(st.Mode)
		}
		out = append(out, se)
	}
	return out, nil
}
