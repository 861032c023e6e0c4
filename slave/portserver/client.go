package portserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// ErrDenied is returned by Request when the server closed without
// answering: it would not allocate a port to the pid.
var ErrDenied = errors.New("portserver: no port allocated")

// Request asks the server at addr (a leading "@": abstract namespace) for
// a port for pid, as portpicker does, and returns it. It returns
// ErrDenied when the server closes without a byte, or the error of the
// connection (ctx's deadline bounds it).
func Request(ctx context.Context, addr string, pid int) (int, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", addr)
	if err != nil {
		return 0, fmt.Errorf("port request: %w", err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	if _, err := c.Write([]byte(strconv.Itoa(pid) + "\n")); err != nil {
		return 0, fmt.Errorf("port request: %w", err)
	}
	answer, err := io.ReadAll(io.LimitReader(c, 16))
	if err != nil {
		return 0, fmt.Errorf("port request: %w", err)
	}
	if len(answer) == 0 {
		return 0, ErrDenied
	}
	port, err := strconv.Atoi(strings.TrimSuffix(string(answer), "\n"))
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("port request: answer %q is not a port", answer)
	}
	return port, nil
}
