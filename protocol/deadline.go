package protocol

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// ReadDeadliner is a reader whose reads can time out: *os.File (pipes,
// sockets and terminals opened non-blocking) and net.Conn.
type ReadDeadliner interface {
	io.Reader
	SetReadDeadline(t time.Time) error
}

// DeadlineReader applies an idle timeout to R: before each Read it sets
// R's read deadline to Idle from now, so a read fails once no byte arrived
// for Idle. Put it under the bufio.Reader given to NewReader: bufio reads
// only when its buffer is empty, so the timeout measures silence on the
// wire, not the time a caller spends between reads. Idle <= 0 reads
// without a deadline.
//
// *os.File supports deadlines only on descriptors in non-blocking mode:
// os.Pipe's are; for an inherited descriptor such as standard input, call
// syscall.SetNonblock on it and wrap it with os.NewFile first, or
// SetReadDeadline fails with os.ErrNoDeadline.
type DeadlineReader struct {
	// R is the underlying reader.
	R ReadDeadliner
	// Idle is the longest silence allowed.
	Idle time.Duration
}

// Read sets the deadline and reads from R. A read that times out returns
// an error that wraps both ErrIdleTimeout and os.ErrDeadlineExceeded; a
// failure to set the deadline is returned wrapped.
func (d *DeadlineReader) Read(p []byte) (int, error) {
	if d.Idle > 0 {
		if err := d.R.SetReadDeadline(time.Now().Add(d.Idle)); err != nil {
			return 0, fmt.Errorf("set read deadline: %w", err)
		}
	}
	n, err := d.R.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("%w: no data for %v: %w", ErrIdleTimeout, d.Idle, err)
	}
	return n, err
}
