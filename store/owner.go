package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// ErrWrongUser means a program running as root was about to work in a
// master directory that belongs to another user: files it created (the
// database's -wal and -shm, logs, markers) would belong to root, and the
// master user's own processes could no longer write them. Errors of type
// *OwnerError wrap it.
var ErrWrongUser = errors.New("store: master directory belongs to another user")

// OwnerError names the owner of a master directory that root should not
// touch. It wraps [ErrWrongUser].
type OwnerError struct {
	Dir  string // the master directory
	User string // its owner's login name, or its uid when it has none
}

func (e *OwnerError) Error() string {
	return fmt.Sprintf("master directory %s belongs to %s, not root", e.Dir, e.User)
}

func (e *OwnerError) Unwrap() error { return ErrWrongUser }

// CheckOwner refuses to let root work in the master directory dir when dir
// belongs to another user, before anything under it is touched: it returns
// an *OwnerError then. It returns nil when the program does not run as
// root, when dir belongs to root, and when dir does not exist yet (its
// nearest existing parent is checked instead, so that root does not create
// a master directory inside the master user's home). Other stat errors are
// returned wrapped.
func CheckOwner(dir string) error {
	return checkOwner(dir, os.Geteuid())
}

func checkOwner(dir string, euid int) error {
	if euid != 0 {
		return nil
	}
	p, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("master directory %s: %w", dir, err)
	}
	for {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) && filepath.Dir(p) != p {
			p = filepath.Dir(p)
			continue
		}
		if err != nil {
			return fmt.Errorf("master directory %s: %w", dir, err)
		}
		// Only the first existing directory on the way up decides: a
		// parent such as /srv belongs to root.
		sys, ok := st.Sys().(*syscall.Stat_t)
		if !ok || sys.Uid == 0 {
			return nil
		}
		name := strconv.FormatUint(uint64(sys.Uid), 10)
		if u, err := user.LookupId(name); err == nil {
			name = u.Username
		}
		return &OwnerError{Dir: p, User: name}
	}
}
