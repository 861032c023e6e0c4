package protocol

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
)

// Reader reads piuparts protocol lines and long parts from a bufio.Reader.
// The master reads commands with it, the slave the greeting and responses.
// A Reader is not safe for concurrent use. After an error other than
// io.EOF from ReadCommand, ReadResponse or ReadHello, the position in the
// stream is unspecified: close the connection.
type Reader struct {
	// Limits bounds what the Reader accepts; NewReader sets the defaults
	// and the caller may change them between reads.
	Limits Limits

	br      *bufio.Reader
	lineNum int64
	lp      *longPartReader // the current long part, nil once drained
}

// NewReader returns a Reader that reads from br with DefaultLimits.
func NewReader(br *bufio.Reader) *Reader {
	return &Reader{Limits: DefaultLimits(), br: br}
}

// ReadCommand reads one command line. It first drains a long part that
// the caller did not read to its end. It returns io.EOF if the input
// ends cleanly before the line, io.ErrUnexpectedEOF if it ends inside
// the line, a *LimitError wrapping ErrLineTooLong for a line longer than
// Limits.MaxLine, a *SyntaxError for a line that breaks the grammar (see
// the package documentation), and the underlying reader's error. It does
// not check the keyword or the arguments: see Command.Validate.
func (r *Reader) ReadCommand() (Command, error) {
	line, err := r.readLine()
	if err != nil {
		return Command{}, err
	}
	kw, args, err := parseLine(line, r.lineNum)
	if err != nil {
		return Command{}, err
	}
	return Command{Keyword: kw, Args: args}, nil
}

// ReadResponse reads one response line: ok with its words, error or
// busy. It returns the errors of ReadCommand, and a *SyntaxError for a
// keyword other than ok, error and busy.
func (r *Reader) ReadResponse() (Response, error) {
	line, err := r.readLine()
	if err != nil {
		return Response{}, err
	}
	kw, args, err := parseLine(line, r.lineNum)
	if err != nil {
		return Response{}, err
	}
	switch kw {
	case StatusOK, StatusError, StatusBusy:
		return Response{Keyword: kw, Args: args}, nil
	}
	return Response{}, &SyntaxError{LineNum: r.lineNum, Line: cut(string(line)), Msg: "unknown response keyword"}
}

// ReadHello reads the master's greeting, which must be exactly "hello\n",
// as Debian's slave demands. It returns io.EOF if the input ends before
// any byte, io.ErrUnexpectedEOF if it ends inside the line, a *LimitError
// for a line longer than Limits.MaxLine, and an error wrapping ErrNoHello
// for any other line.
func (r *Reader) ReadHello() error {
	line, err := r.readLine()
	if err != nil {
		return err
	}
	if string(line) != greeting {
		return fmt.Errorf("%w: got %q", ErrNoHello, cut(string(line)))
	}
	return nil
}

// LongPartReader returns a reader for the long part that follows: it
// yields the payload, each line without its leading space, and returns
// io.EOF after consuming the terminating "." line. A payload line that is
// just "." travels as " ." and is returned as ".". Bytes other than "\n"
// pass unchanged, "\r" and NUL included; there is no length limit per
// line. Its Read returns io.ErrUnexpectedEOF if the input ends first, a
// *SyntaxError for a line that neither starts with a space nor is ".",
// a *LimitError wrapping ErrLongPartTooLarge as soon as the payload
// exceeds Limits.MaxLongPart, and the underlying reader's error; errors
// are sticky. The returned reader also implements io.WriterTo, which
// io.Copy uses to write without an extra copy.
//
// The long part must be read before the next ReadCommand, ReadResponse,
// ReadHello or LongPartReader, or they drain what is left of it.
func (r *Reader) LongPartReader() io.Reader {
	if err := r.closeLongPart(); err != nil {
		return &longPartReader{err: err}
	}
	r.lp = &longPartReader{r: r, max: r.Limits.maxLongPart()}
	return r.lp
}

// ReadLongPart reads a whole long part and returns its payload, each line
// without its leading space. It returns the errors of LongPartReader's
// Read (io.ErrUnexpectedEOF, *SyntaxError, *LimitError); the payload is
// never larger than Limits.MaxLongPart. Prefer LongPartReader with
// io.Copy for logs, so they never sit whole in memory.
func (r *Reader) ReadLongPart() ([]byte, error) {
	return io.ReadAll(r.LongPartReader())
}

// closeLongPart drains the current long part, if any.
func (r *Reader) closeLongPart() error {
	lp := r.lp
	if lp == nil {
		return nil
	}
	_, err := io.Copy(io.Discard, lp)
	r.lp = nil
	if err != nil {
		return fmt.Errorf("drain long part: %w", err)
	}
	return nil
}

// readLine returns the next line without its "\n". The slice may point
// into the bufio.Reader's buffer and is valid until the next read. It
// never holds more than Limits.MaxLine bytes in memory.
func (r *Reader) readLine() ([]byte, error) {
	if err := r.closeLongPart(); err != nil {
		return nil, err
	}
	max := r.Limits.maxLine()
	var acc []byte
	for {
		chunk, err := r.br.ReadSlice('\n')
		content := len(acc) + len(chunk)
		if err == nil {
			content-- // the "\n"
		}
		if content > max {
			r.lineNum++
			return nil, &LimitError{Limit: "MaxLine", Max: int64(max), Err: ErrLineTooLong}
		}
		switch {
		case err == nil:
			r.lineNum++
			if acc == nil {
				return chunk[:len(chunk)-1], nil
			}
			acc = append(acc, chunk...)
			return acc[:len(acc)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			acc = append(acc, chunk...)
		case err == io.EOF:
			if content == 0 {
				return nil, io.EOF
			}
			r.lineNum++
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// Long-part reader states.
const (
	lpLineStart = iota // before the first byte of a line
	lpInLine           // after the leading space, inside the payload line
	lpDone             // after the "." line
)

type longPartReader struct {
	r     *Reader
	max   int64 // Limits.MaxLongPart when the part started
	n     int64 // payload bytes returned so far
	state int
	err   error // sticky
}

// Read implements io.Reader. It blocks only until it has at least one
// byte: once it has some, it returns what is buffered.
func (l *longPartReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		chunk, err := l.next(len(p)-n, n == 0)
		n += copy(p[n:], chunk)
		if err != nil {
			return n, err
		}
		if chunk == nil {
			break
		}
	}
	return n, nil
}

// WriteTo implements io.WriterTo: it writes the payload to w straight
// from the bufio.Reader's buffer.
func (l *longPartReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		chunk, err := l.next(math.MaxInt, true)
		if len(chunk) > 0 {
			m, werr := w.Write(chunk)
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// next returns the next piece of payload, at most max bytes, as a slice of
// the bufio.Reader's buffer valid until the next call. It returns io.EOF
// after the "." line. With block false it returns nil, nil rather than
// wait for input.
func (l *longPartReader) next(max int, block bool) ([]byte, error) {
	if l.err != nil {
		return nil, l.err
	}
	br := l.r.br
	for {
		switch l.state {
		case lpDone:
			return nil, io.EOF
		case lpLineStart:
			if !block && br.Buffered() == 0 {
				return nil, nil
			}
			b, err := br.Peek(1)
			if err != nil {
				return nil, l.fail(err)
			}
			switch b[0] {
			case ' ':
				l.r.lineNum++
				_, _ = br.Discard(1) // cannot fail: the byte is buffered
				l.state = lpInLine
				continue
			case '.':
				if !block && br.Buffered() < 2 {
					return nil, nil
				}
				b, err = br.Peek(2)
				if err != nil {
					return nil, l.fail(err)
				}
				if b[1] == '\n' {
					l.r.lineNum++
					_, _ = br.Discard(2)
					l.state = lpDone
					return nil, io.EOF
				}
			}
			l.r.lineNum++
			return nil, l.fail(l.syntaxError())
		case lpInLine:
			if max == 0 || (!block && br.Buffered() == 0) {
				return nil, nil
			}
			if _, err := br.Peek(1); err != nil {
				return nil, l.fail(err)
			}
			buf, _ := br.Peek(br.Buffered()) // cannot fail: all buffered
			if len(buf) > max {
				buf = buf[:max]
			}
			if i := bytes.IndexByte(buf, '\n'); i >= 0 {
				buf = buf[:i+1]
				l.state = lpLineStart
			}
			if int64(len(buf)) > l.max-l.n {
				return nil, l.fail(&LimitError{Limit: "MaxLongPart", Max: l.max, Err: ErrLongPartTooLarge})
			}
			l.n += int64(len(buf))
			_, _ = br.Discard(len(buf))
			return buf, nil
		}
	}
}

// fail records err as the sticky error, turning io.EOF into
// io.ErrUnexpectedEOF.
func (l *longPartReader) fail(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	l.err = err
	return err
}

// syntaxError describes the buffered line at the current position.
func (l *longPartReader) syntaxError() error {
	br := l.r.br
	buf, _ := br.Peek(min(br.Buffered(), maxQuote))
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		buf = buf[:i]
	}
	msg := "long-part line without leading space"
	if len(buf) == 0 {
		msg = "empty line in long part"
	}
	return &SyntaxError{LineNum: l.r.lineNum, Line: string(buf), Msg: msg}
}
