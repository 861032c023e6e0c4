package portserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxPid is the largest pid a request may name: Linux's PID_MAX_LIMIT on
// 64-bit systems (pid_max cannot be set higher).
const MaxPid = 1 << 22

// MaxRequest is the longest request, newline included, that ReadRequest
// reads; the reference refuses more than 20 bytes too.
const MaxRequest = 20

// ErrRequestTooLong is returned by ReadRequest when MaxRequest bytes came
// without a newline.
var ErrRequestTooLong = errors.New("portserver: request too long")

// RequestError is a request that is not a pid: the request as received
// (cut to MaxRequest bytes) and what is wrong with it.
type RequestError struct {
	Input string
	Msg   string
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("portserver: request %q: %s", e.Input, e.Msg)
}

// ParseRequest parses the pid of a request line (without its newline).
// Only plain decimal digits are accepted: no sign, no spaces, no leading
// zero, no "_", and a value between 1 and MaxPid. Anything else is a
// *RequestError. (The reference uses Python's int(), which takes "+5",
// " 5 ", "0_5" and "-5", and crashes on the last.)
func ParseRequest(line []byte) (int, error) {
	if len(line) > MaxRequest {
		line = line[:MaxRequest]
	}
	bad := func(msg string) (int, error) { return 0, &RequestError{Input: string(line), Msg: msg} }
	if len(line) == 0 {
		return bad("empty")
	}
	if line[0] == '0' {
		return bad("not a pid (leading zero)")
	}
	pid := 0
	for _, c := range line {
		if c < '0' || c > '9' {
			return bad("not a decimal pid")
		}
		pid = pid*10 + int(c-'0')
		if pid > MaxPid {
			return bad(fmt.Sprintf("pid above %d", MaxPid))
		}
	}
	return pid, nil
}

// ReadRequest reads one request from r up to its newline, however the
// client split its writes, and returns its pid. The end of the input
// also ends a request that has bytes. It returns ErrRequestTooLong when
// MaxRequest bytes came without a newline, io.ErrUnexpectedEOF when the
// input ended before a byte came, a *RequestError from ParseRequest, or
// the reader's error (such as a deadline).
func ReadRequest(r io.Reader) (int, error) {
	var buf [MaxRequest]byte
	n := 0
	for {
		m, err := r.Read(buf[n:])
		if i := bytes.IndexByte(buf[n:n+m], '\n'); i >= 0 {
			return ParseRequest(buf[:n+i])
		}
		n += m
		switch {
		case errors.Is(err, io.EOF) && n > 0:
			return ParseRequest(buf[:n])
		case errors.Is(err, io.EOF):
			return 0, io.ErrUnexpectedEOF
		case err != nil:
			return 0, fmt.Errorf("read request: %w", err)
		case n == len(buf):
			return 0, ErrRequestTooLong
		}
	}
}
