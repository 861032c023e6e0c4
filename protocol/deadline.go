package protocol

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// ReadDeadliner is a reader whose reads can time out: *os.File (pipes,
// sockets and terminals opened non-blocking) and net.Conn.
type ReadDeadliner interface {
	io.Reader
	SetReadDeadline(t time.Time) error
}

// WriteDeadliner is a writer whose writes can time out: *os.File (pipes
// and sockets opened non-blocking) and net.Conn.
type WriteDeadliner interface {
	io.Writer
	SetWriteDeadline(t time.Time) error
}

// DeadlineReader applies an idle timeout to R: before each Read it sets
// R's read deadline to Idle from now, so a read fails once no byte arrived
// for Idle. Put it under the bufio.Reader given to NewReader: bufio reads
// only when its buffer is empty, so the timeout measures silence on the
// wire, not the time a caller spends between reads. Idle <= 0 reads
// without an idle timeout. A non-zero Deadline bounds every read too, so a
// peer that keeps the idle timer going with a byte now and then is still
// cut off there.
//
// *os.File supports deadlines only on descriptors in non-blocking mode:
// os.Pipe's are; for an inherited descriptor such as standard input, use
// [DeadlineFile] first, or SetReadDeadline fails with os.ErrNoDeadline.
type DeadlineReader struct {
	// R is the underlying reader.
	R ReadDeadliner
	// Idle is the longest silence allowed.
	Idle time.Duration
	// Deadline, if not zero, is when reading stops (the session's end).
	Deadline time.Time
}

// Read sets the deadline and reads from R. A read that times out returns
// an error that wraps os.ErrDeadlineExceeded and either ErrIdleTimeout or,
// when Deadline passed, ErrSessionTimeout; a failure to set the deadline
// is returned wrapped.
func (d *DeadlineReader) Read(p []byte) (int, error) {
	dl, session := deadline(d.Idle, d.Deadline)
	if !dl.IsZero() {
		if err := d.R.SetReadDeadline(dl); err != nil {
			return 0, fmt.Errorf("set read deadline: %w", err)
		}
	}
	n, err := d.R.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		if session {
			err = fmt.Errorf("%w: read at %s: %w", ErrSessionTimeout, d.Deadline.Format(time.RFC3339), err)
		} else {
			err = fmt.Errorf("%w: no data for %v: %w", ErrIdleTimeout, d.Idle, err)
		}
	}
	return n, err
}

// DeadlineWriter applies a write timeout to W: before each Write it sets
// W's write deadline to Timeout from now, so a peer that stops reading
// (a full pipe or socket buffer) fails the write after Timeout. Put it
// under the bufio.Writer given to NewWriter. Timeout <= 0 writes without a
// timeout. A non-zero Deadline bounds every write too. *os.File needs a
// non-blocking descriptor, as for [DeadlineReader].
type DeadlineWriter struct {
	// W is the underlying writer.
	W WriteDeadliner
	// Timeout is the longest a write may wait for the peer.
	Timeout time.Duration
	// Deadline, if not zero, is when writing stops (the session's end).
	Deadline time.Time
}

// Write sets the deadline and writes p to W. A write that times out
// returns an error that wraps os.ErrDeadlineExceeded and either
// ErrWriteTimeout or, when Deadline passed, ErrSessionTimeout; a failure
// to set the deadline is returned wrapped. Other errors (EPIPE when the
// peer went away) are W's.
func (d *DeadlineWriter) Write(p []byte) (int, error) {
	dl, session := deadline(d.Timeout, d.Deadline)
	if !dl.IsZero() {
		if err := d.W.SetWriteDeadline(dl); err != nil {
			return 0, fmt.Errorf("set write deadline: %w", err)
		}
	}
	n, err := d.W.Write(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		if session {
			err = fmt.Errorf("%w: write at %s: %w", ErrSessionTimeout, d.Deadline.Format(time.RFC3339), err)
		} else {
			err = fmt.Errorf("%w: peer took no data for %v: %w", ErrWriteTimeout, d.Timeout, err)
		}
	}
	return n, err
}

// deadline returns the earlier of now+timeout (if timeout > 0) and end
// (if not zero), and whether end is the one that applies.
func deadline(timeout time.Duration, end time.Time) (time.Time, bool) {
	var dl time.Time
	if timeout > 0 {
		dl = time.Now().Add(timeout)
	}
	if !end.IsZero() && (dl.IsZero() || !end.After(dl)) {
		return end, true
	}
	return dl, false
}

// DeadlineFile prepares f, a pipe or a socket such as the standard input
// or output of an SSH forced command, for read and write deadlines: it
// duplicates the descriptor, puts it in non-blocking mode and returns it
// as a new *os.File. restore puts the descriptor's mode back and closes
// the duplicate; call it when done (f itself stays open). For anything
// else (a regular file, a terminal) it returns ok false and f is to be
// used as it is, without deadlines.
func DeadlineFile(f *os.File) (nf *os.File, restore func(), ok bool) {
	st, err := f.Stat()
	if err != nil || st.Mode()&(os.ModeNamedPipe|os.ModeSocket) == 0 {
		return nil, nil, false
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, nil, false
	}
	fd := -1
	if cerr := rc.Control(func(orig uintptr) {
		if d, err := syscall.Dup(int(orig)); err == nil {
			fd = d
		}
	}); cerr != nil || fd < 0 {
		return nil, nil, false
	}
	syscall.CloseOnExec(fd)
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	if errno != 0 {
		_ = syscall.Close(fd)
		return nil, nil, false
	}
	wasNonblock := flags&syscall.O_NONBLOCK != 0
	// The mode belongs to the open file description, which the duplicate
	// shares with f: restore it for f's sake.
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return nil, nil, false
	}
	nf = os.NewFile(uintptr(fd), f.Name())
	if err := nf.SetDeadline(time.Time{}); err != nil {
		_ = syscall.SetNonblock(fd, wasNonblock)
		_ = nf.Close()
		return nil, nil, false
	}
	return nf, func() {
		if !wasNonblock {
			if rc, err := nf.SyscallConn(); err == nil {
				_ = rc.Control(func(fd uintptr) { _ = syscall.SetNonblock(int(fd), false) })
			}
		}
		_ = nf.Close()
	}, true
}
