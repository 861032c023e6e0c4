//go:build !linux

package fsutil

import "errors"

// ReadDirInodes is supported on Linux only; elsewhere it returns
// errors.ErrUnsupported.
func ReadDirInodes(dir string) (map[string]uint64, uint64, error) {
	return nil, 0, errors.ErrUnsupported
}
