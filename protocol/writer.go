package protocol

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// Writer writes piuparts protocol lines and long parts to a bufio.Writer.
// The master writes the greeting and responses with it, the slave commands
// and long parts. Every line-writing method flushes, so an answer never
// waits in the buffer. A Writer is not safe for concurrent use.
type Writer struct {
	bw *bufio.Writer
	lp *longPartWriter // the open long part, nil if none
}

// NewWriter returns a Writer that writes to bw.
func NewWriter(bw *bufio.Writer) *Writer {
	return &Writer{bw: bw}
}

// WriteHello writes the master's greeting "hello\n" and flushes. It
// returns the underlying writer's error.
func (w *Writer) WriteHello() error {
	return w.writeLine(greeting, nil)
}

// WriteCommand writes c as one line and flushes. It first closes an open
// long part. It returns an error wrapping ErrInvalidField for an empty
// keyword or argument, or one holding a space or a control character,
// and the underlying writer's error. It does not call c.Validate.
func (w *Writer) WriteCommand(c Command) error {
	if err := w.writeLine(c.Keyword, c.Args); err != nil {
		return fmt.Errorf("write command: %w", err)
	}
	return nil
}

// WriteResponse writes resp as one line and flushes. It first closes an
// open long part. It returns an error wrapping ErrInvalidField for a
// keyword other than ok, error and busy, for an empty argument or one
// holding a space or a control character, and the underlying writer's
// error.
func (w *Writer) WriteResponse(resp Response) error {
	switch resp.Keyword {
	case StatusOK, StatusError, StatusBusy:
	default:
		return fmt.Errorf("write response: %w: keyword %q is not ok, error or busy", ErrInvalidField, cut(resp.Keyword))
	}
	if err := w.writeLine(resp.Keyword, resp.Args); err != nil {
		return fmt.Errorf("write response: %w", err)
	}
	return nil
}

// WriteOK writes "ok", followed by args separated by single spaces, and
// flushes; without args the line is exactly "ok\n", which Debian's slave
// demands. It returns the errors of WriteResponse.
func (w *Writer) WriteOK(args ...string) error {
	return w.WriteResponse(Response{Keyword: StatusOK, Args: args})
}

// WriteError writes "error\n" and flushes. It returns the underlying
// writer's error.
func (w *Writer) WriteError() error {
	return w.WriteResponse(Response{Keyword: StatusError})
}

// WriteBusy writes "busy\n" and flushes. It returns the underlying
// writer's error.
func (w *Writer) WriteBusy() error {
	return w.WriteResponse(Response{Keyword: StatusBusy})
}

// LongPartWriter returns a writer for a long part: it prefixes every
// payload line with one space, so a line "." travels as " ." and does not
// end the part. Its Close ends an unfinished last line with "\n", writes
// the terminating ".\n" and flushes; payloads that are empty or end in
// "\n" therefore arrive byte for byte, and any other payload arrives with
// one "\n" added. Bytes other than "\n" pass unchanged, "\r" and NUL
// included. Write returns ErrLongPartClosed after Close, and the
// underlying writer's error. It first closes a long part still open.
//
// Writing another line (WriteCommand, WriteResponse, ...) closes the
// long part first, as Close would.
func (w *Writer) LongPartWriter() io.WriteCloser {
	if err := w.closeLongPart(); err != nil {
		return &longPartWriter{err: err, closed: true}
	}
	w.lp = &longPartWriter{w: w}
	return w.lp
}

func (w *Writer) closeLongPart() error {
	if w.lp == nil {
		return nil
	}
	return w.lp.Close()
}

// writeLine checks the fields, writes them as one line and flushes.
func (w *Writer) writeLine(keyword string, args []string) error {
	if err := checkField(keyword); err != nil {
		return err
	}
	for _, a := range args {
		if err := checkField(a); err != nil {
			return err
		}
	}
	if err := w.closeLongPart(); err != nil {
		return err
	}
	_, _ = w.bw.WriteString(keyword)
	for _, a := range args {
		_ = w.bw.WriteByte(' ')
		_, _ = w.bw.WriteString(a)
	}
	_ = w.bw.WriteByte('\n')
	return w.bw.Flush() // bufio.Writer errors are sticky: Flush reports any
}

type longPartWriter struct {
	w       *Writer
	midLine bool // the last byte written was not "\n"
	closed  bool
	err     error
}

// Write implements io.Writer.
func (l *longPartWriter) Write(p []byte) (int, error) {
	if l.closed {
		if l.err != nil {
			return 0, l.err
		}
		return 0, ErrLongPartClosed
	}
	bw := l.w.bw
	n := 0
	for len(p) > 0 {
		if !l.midLine {
			if err := bw.WriteByte(' '); err != nil {
				return n, err
			}
			l.midLine = true
		}
		seg := p
		if i := bytes.IndexByte(p, '\n'); i >= 0 {
			seg = p[:i+1]
			l.midLine = false
		}
		m, err := bw.Write(seg)
		n += m
		if err != nil {
			return n, err
		}
		p = p[len(seg):]
	}
	return n, nil
}

// Close implements io.Closer: it finishes the last line, writes ".\n"
// and flushes. Closing twice is a no-op.
func (l *longPartWriter) Close() error {
	if l.closed {
		return l.err
	}
	l.closed = true
	l.w.lp = nil
	bw := l.w.bw
	if l.midLine {
		_ = bw.WriteByte('\n')
	}
	_, _ = bw.WriteString(".\n")
	l.err = bw.Flush()
	return l.err
}
