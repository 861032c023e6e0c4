package portserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// ErrAddressInUse is returned by Listen when another server answers on
// the address.
var ErrAddressInUse = errors.New("address already served")

// Listen opens the Unix stream socket addr. A leading "@" puts it in the
// abstract namespace (as portpicker clients read it; the reference turns
// the first "@" anywhere into a NUL). A filesystem path on which a server
// answers is refused with ErrAddressInUse (the reference silently takes it
// over); a socket file on which nobody listens is removed, with a log
// line, and replaced; a path that exists and is no socket is refused. The
// socket file is made reachable by every user (mode 0666), as an abstract
// socket is, and removed when the listener is closed.
func Listen(addr string, log zerolog.Logger) (*net.UnixListener, error) {
	if addr == "" {
		return nil, errors.New("listen: empty address")
	}
	if !strings.HasPrefix(addr, "@") {
		if err := clearStale(addr, log); err != nil {
			return nil, err
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: addr, Net: "unix"})
	if errors.Is(err, unix.EADDRINUSE) {
		return nil, fmt.Errorf("listen on %q: %w", addr, ErrAddressInUse)
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %q: %w", addr, err)
	}
	if !strings.HasPrefix(addr, "@") {
		if err := os.Chmod(addr, 0o666); err != nil {
			ln.Close()
			return nil, fmt.Errorf("listen on %q: %w", addr, err)
		}
	}
	return ln, nil
}

// clearStale removes a socket file at path on which nobody listens.
func clearStale(path string, log zerolog.Logger) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listen on %q: %w", path, err)
	}
	if fi.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("listen on %q: exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("listen on %q: %w by a running server", path, ErrAddressInUse)
	}
	if !errors.Is(err, unix.ECONNREFUSED) {
		return fmt.Errorf("listen on %q: probe the socket already there: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("listen on %q: remove stale socket: %w", path, err)
	}
	log.Warn().Str("address", path).Msg("replaced a stale socket nobody listened on")
	return nil
}
