package remote

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"piuparts-server/protocol"
)

// transport is the byte stream to a master and the ways to end it.
type transport interface {
	io.Reader
	io.Writer
	// kill ends the connection at once, unblocking reads and writes. It
	// may be called more than once and from any goroutine.
	kill()
	// close ends the session gracefully: it closes the master's input
	// and waits up to wait for the master to end, then kills it. It
	// returns the master's exit error, if it has one.
	close(wait time.Duration) error
}

// Client is a connection to a piuparts master: the protocol client of
// Debian's piuparts-slave (class Slave) over SSH or pipes. Its methods
// send one command each and read the answer; the slave may assume that a
// command succeeded only when its method returns nil.
//
// A Client is not safe for concurrent use: call its methods from one
// goroutine, and cancel their context to interrupt a blocked call. After
// an error that leaves the stream in an unknown state (a timeout, a
// cancelled context, a broken connection, a garbled answer, a log that
// could not be read to its end) the connection is closed and every later
// call returns an error wrapping ErrClosed: Dial again. An *AnswerError
// leaves the connection usable.
type Client struct {
	master      string
	readTimeout time.Duration
	t           transport
	r           *protocol.Reader
	w           *protocol.Writer
	timer       *time.Timer

	mu     sync.Mutex
	reason error // why the connection was killed; nil while usable
	closed bool
}

// newClient wraps t and reads the greeting within ctx.
func newClient(ctx context.Context, t transport, master string, o *Options) (*Client, error) {
	c := &Client{master: master, readTimeout: o.ReadTimeout, t: t}
	c.r = protocol.NewReader(bufio.NewReaderSize(t, 64<<10))
	c.w = protocol.NewWriter(bufio.NewWriterSize(progressWriter{c}, 64<<10))
	// Why: a master that never greets must not hang the slave: ctx
	// carries the connect timeout.
	stop := context.AfterFunc(ctx, func() { c.abort(ctxReason(ctx)) })
	err := c.r.ReadHello()
	stop()
	if err == nil {
		return c, nil
	}
	if reason := c.failure(); reason != nil {
		err = reason
	} else if errors.Is(err, io.EOF) {
		err = fmt.Errorf("read hello: master closed the connection: %w", io.ErrUnexpectedEOF)
	} else {
		err = fmt.Errorf("read hello: %w", err)
	}
	c.abort(err)
	_ = t.close(0)
	return nil, err
}

// ctxReason is what a call interrupted by ctx returns: ctx.Err(), or for
// the connect timeout its cause.
func ctxReason(ctx context.Context) error {
	if cause := context.Cause(ctx); errors.Is(cause, ErrConnectTimeout) {
		return cause
	}
	return ctx.Err()
}

// Master names the master for logs: "user@host:port", "local", or the
// name given to NewClient.
func (c *Client) Master() string { return c.master }

// Close ends the session: it closes the master's input, so the master
// sees the end of the session, waits up to DefaultCloseWait for it to
// end (for "local", for the process to exit), then kills the connection
// or process. It returns the master's exit error (e.g. an *exec.ExitError
// or *ssh.ExitError) after a session that ended normally, and nil when
// the connection was already closed because of an earlier error. Calling
// Close twice returns nil.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	broken := c.reason != nil
	c.mu.Unlock()
	err := c.t.close(DefaultCloseWait)
	if broken || err == nil {
		return nil
	}
	return fmt.Errorf("close connection to %s: %w", c.master, err)
}

// abort records why the connection ends, unless a reason is known, and
// kills it.
func (c *Client) abort(reason error) {
	c.mu.Lock()
	if c.reason == nil {
		c.reason = reason
	}
	c.mu.Unlock()
	c.t.kill()
}

// failure returns why the connection was killed, or nil.
func (c *Client) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

// usable returns an error wrapping ErrClosed once the connection is
// closed.
func (c *Client) usable() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return ErrClosed
	case c.reason != nil:
		return fmt.Errorf("%w after an earlier error: %v", ErrClosed, c.reason)
	}
	return nil
}

// progressWriter is the Writer's sink: every write the transport accepts
// restarts the read timeout, so a slow but live master receiving a log is
// not cut off.
type progressWriter struct{ c *Client }

func (p progressWriter) Write(b []byte) (int, error) {
	n, err := p.c.t.Write(b)
	if n > 0 && p.c.timer != nil {
		p.c.timer.Reset(p.c.readTimeout)
	}
	return n, err
}

// logReader records the error of reading the log, to tell it from the
// connection's.
type logReader struct {
	r   io.Reader
	err error
}

func (l *logReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err != nil && err != io.EOF {
		l.err = err
	}
	return n, err
}

// exchange sends cmd, and body as its long part if not nil, and reads
// the answer, with ctx and the read timeout watching.
func (c *Client) exchange(ctx context.Context, cmd protocol.Command, body io.Reader) (protocol.Response, error) {
	if err := c.usable(); err != nil {
		return protocol.Response{}, err
	}
	if err := ctx.Err(); err != nil {
		return protocol.Response{}, err
	}
	// Why: reads on SSH channels and pipes take no deadline: a timeout or
	// a cancellation kills the connection, which unblocks them.
	stop := context.AfterFunc(ctx, func() { c.abort(ctx.Err()) })
	if c.readTimeout > 0 {
		d := c.readTimeout
		c.timer = time.AfterFunc(d, func() {
			c.abort(fmt.Errorf("%w within %v", ErrReadTimeout, d))
		})
	}
	resp, err := c.roundTrip(cmd, body)
	stop()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	if err == nil {
		return resp, nil
	}
	if reason := c.failure(); reason != nil {
		return protocol.Response{}, reason
	}
	c.abort(err)
	return protocol.Response{}, err
}

func (c *Client) roundTrip(cmd protocol.Command, body io.Reader) (protocol.Response, error) {
	if err := c.w.WriteCommand(cmd); err != nil {
		return protocol.Response{}, fmt.Errorf("send %q: %w", cut(cmd.String()), err)
	}
	if body != nil {
		lr := &logReader{r: body}
		lp := c.w.LongPartWriter()
		if _, err := io.Copy(lp, lr); err != nil {
			if lr.err != nil {
				// Why: closing the long part would submit a truncated
				// log; breaking the connection makes the master drop it.
				err = fmt.Errorf("read log: %w", lr.err)
				c.abort(err)
				return protocol.Response{}, err
			}
			return protocol.Response{}, fmt.Errorf("send log: %w", err)
		}
		if err := lp.Close(); err != nil {
			return protocol.Response{}, fmt.Errorf("send log: %w", err)
		}
	}
	resp, err := c.r.ReadResponse()
	if err == io.EOF {
		return protocol.Response{}, fmt.Errorf("read answer: master closed the connection: %w", io.ErrUnexpectedEOF)
	}
	if err != nil {
		return protocol.Response{}, fmt.Errorf("read answer: %w", err)
	}
	return resp, nil
}

// isOK reports whether resp is exactly "ok", the answer Debian's slave
// demands of section, recycle, unreserve and the results.
func isOK(resp protocol.Response) bool {
	return resp.Keyword == protocol.StatusOK && len(resp.Args) == 0
}

func answerError(cmd protocol.Command, resp protocol.Response, err error) *AnswerError {
	return &AnswerError{Command: cut(cmd.String()), Answer: cut(resp.String()), Err: err}
}

// simple sends a command that must be answered exactly "ok".
func (c *Client) simple(ctx context.Context, cmd protocol.Command, onFail error) error {
	if err := cmd.Validate(); err != nil {
		return fmt.Errorf("%s: %w", cut(cmd.String()), err)
	}
	resp, err := c.exchange(ctx, cmd, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", cut(cmd.String()), err)
	}
	if !isOK(resp) {
		return answerError(cmd, resp, onFail)
	}
	return nil
}

// Section selects the section the next commands work on. It returns nil
// when the master answers "ok", an *AnswerError wrapping ErrBusy for
// "busy", and an *AnswerError for any other answer; an error wrapping
// protocol.ErrInvalidToken for a name the protocol does not allow, before
// sending anything; and otherwise the errors of the connection (see
// Client), which wrap ctx.Err(), ErrReadTimeout, ErrKeepAlive or
// ErrClosed when that is why the call failed.
func (c *Client) Section(ctx context.Context, name string) error {
	cmd := protocol.Command{Keyword: protocol.CmdSection, Args: []string{name}}
	if err := cmd.Validate(); err != nil {
		return fmt.Errorf("section %q: %w", cut(name), err)
	}
	resp, err := c.exchange(ctx, cmd, nil)
	if err != nil {
		return fmt.Errorf("section %s: %w", name, err)
	}
	switch {
	case isOK(resp):
		return nil
	case resp.Keyword == protocol.StatusBusy && len(resp.Args) == 0:
		return answerError(cmd, resp, ErrBusy)
	}
	return answerError(cmd, resp, nil)
}

// Recycle asks the master to recycle the section's logs (recycle mode).
// It returns nil on "ok", an *AnswerError wrapping ErrCantRecycle for any
// other answer, and the errors of the connection as Section does.
func (c *Client) Recycle(ctx context.Context) error {
	return c.simple(ctx, protocol.Command{Keyword: protocol.CmdRecycle}, ErrCantRecycle)
}

// Idle asks whether the section is idle and returns how long the master
// says to wait before asking again for work: the N of "ok N" in seconds,
// 0 when the section is not idle. Any other answer, a negative N or one
// too large for a time.Duration is an *AnswerError; it returns the errors
// of the connection as Section does.
func (c *Client) Idle(ctx context.Context) (time.Duration, error) {
	cmd := protocol.Command{Keyword: protocol.CmdIdle}
	resp, err := c.exchange(ctx, cmd, nil)
	if err != nil {
		return 0, fmt.Errorf("idle: %w", err)
	}
	d, ok := parseIdle(resp)
	if !ok {
		return 0, answerError(cmd, resp, nil)
	}
	return d, nil
}

// Reserve asks the master for a package to test. It returns its name and
// version and ok true on "ok NAME VERSION", and ok false with a nil error
// on "error": there is nothing (more) to test. An "ok" answer whose name
// or version is missing or not valid and path-safe (see
// protocol.Command.Validate), and any other answer, is an *AnswerError;
// it returns the errors of the connection as Section does.
func (c *Client) Reserve(ctx context.Context) (name, version string, ok bool, err error) {
	cmd := protocol.Command{Keyword: protocol.CmdReserve}
	resp, err := c.exchange(ctx, cmd, nil)
	if err != nil {
		return "", "", false, fmt.Errorf("reserve: %w", err)
	}
	name, version, ok, valid := parseReserve(resp)
	if !valid {
		return "", "", false, answerError(cmd, resp, nil)
	}
	return name, version, ok, nil
}

// Unreserve gives back the reservation of name at version. It returns nil
// on "ok", an *AnswerError for any other answer, an error wrapping a
// protocol.ArgError for an invalid name or version before sending
// anything, and the errors of the connection as Section does.
func (c *Client) Unreserve(ctx context.Context, name, version string) error {
	return c.simple(ctx, protocol.Command{Keyword: protocol.CmdUnreserve, Args: []string{name, version}}, nil)
}

// Submit sends the result of testing name at version, "pass", "fail" or
// "untestable", with its log, which it streams from log as the command's
// long part. It returns nil only when the master answered "ok", which
// means the log is stored; an *AnswerError for any other answer; an error
// for another result, or wrapping a protocol.ArgError for an invalid name
// or version, before sending anything; and the errors of the connection
// as Section does. When reading log fails, it returns that error wrapped
// and closes the connection without ending the long part, so the master
// stores nothing.
func (c *Client) Submit(ctx context.Context, result, name, version string, log io.Reader) error {
	switch result {
	case protocol.CmdPass, protocol.CmdFail, protocol.CmdUntestable:
	default:
		return fmt.Errorf("submit: result %q is not pass, fail or untestable", cut(result))
	}
	cmd := protocol.Command{Keyword: result, Args: []string{name, version}}
	if err := cmd.Validate(); err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	resp, err := c.exchange(ctx, cmd, log)
	if err != nil {
		return fmt.Errorf("%s: %w", cut(cmd.String()), err)
	}
	if !isOK(resp) {
		return answerError(cmd, resp, nil)
	}
	return nil
}

// Status asks for the section's counts and returns the words after "ok",
// joined by single spaces, e.g. "successfully-tested=3 ... total=5"; an
// answer other than "ok ..." is an *AnswerError. It returns the errors of
// the connection as Section does.
func (c *Client) Status(ctx context.Context) (string, error) {
	cmd := protocol.Command{Keyword: protocol.CmdStatus}
	resp, err := c.exchange(ctx, cmd, nil)
	if err != nil {
		return "", fmt.Errorf("status: %w", err)
	}
	s, ok := parseStatus(resp)
	if !ok {
		return "", answerError(cmd, resp, nil)
	}
	return s, nil
}
