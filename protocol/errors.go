package protocol

import (
	"errors"
	"fmt"
)

// Sentinel errors. Compare with errors.Is: the typed errors below wrap them.
var (
	// ErrLineTooLong is wrapped by the *LimitError for a command or response
	// line longer than Limits.MaxLine.
	ErrLineTooLong = errors.New("protocol: line too long")
	// ErrLongPartTooLarge is wrapped by the *LimitError for a long part whose
	// payload exceeds Limits.MaxLongPart.
	ErrLongPartTooLarge = errors.New("protocol: long part too large")
	// ErrIdleTimeout is returned by DeadlineReader when no byte arrived within
	// its idle time.
	ErrIdleTimeout = errors.New("protocol: idle timeout")
	// ErrSessionTimeout is a read or write that a [DeadlineReader] or
	// [DeadlineWriter] cut off at its Deadline: the whole session lasted
	// too long.
	ErrSessionTimeout = errors.New("protocol: session timeout")
	// ErrWriteTimeout is a write that a [DeadlineWriter] gave up on: the
	// peer did not take the data within the write timeout.
	ErrWriteTimeout = errors.New("protocol: write timeout")
	// ErrNoHello is returned by Reader.ReadHello when the master's first line
	// is not exactly "hello".
	ErrNoHello = errors.New("protocol: master did not greet with hello")
	// ErrUnknownCommand is returned by Command.Validate for a keyword that is
	// not a piuparts command.
	ErrUnknownCommand = errors.New("protocol: unknown command")
	// ErrArgCount is wrapped by the *ArgError for a command with the wrong
	// number of arguments.
	ErrArgCount = errors.New("protocol: wrong number of arguments")
	// ErrInvalidPackage is wrapped by the *ArgError for an argument that is
	// not a valid, path-safe Debian package name.
	ErrInvalidPackage = errors.New("protocol: invalid package name")
	// ErrInvalidVersion is wrapped by the *ArgError for an argument that is
	// not a valid, path-safe Debian version.
	ErrInvalidVersion = errors.New("protocol: invalid version")
	// ErrInvalidToken is wrapped by the *ArgError for a section or state
	// name that is not a path-safe token.
	ErrInvalidToken = errors.New("protocol: invalid section or state name")
	// ErrInvalidField is returned by the Writer for a keyword or argument
	// that cannot travel on the wire: empty, or holding a space or a
	// control character; and for a response keyword other than ok, error
	// or busy.
	ErrInvalidField = errors.New("protocol: invalid field")
	// ErrLongPartClosed is returned by a long-part writer's Write after
	// Close, or after the Writer wrote another line, which closes it.
	ErrLongPartClosed = errors.New("protocol: write to closed long part")
)

// maxQuote is how many bytes of outside input an error message quotes.
const maxQuote = 80

// cut returns the first maxQuote bytes of s, for quoting outside input.
func cut(s string) string {
	if len(s) > maxQuote {
		return s[:maxQuote]
	}
	return s
}

// SyntaxError reports a line that breaks the wire grammar: an empty line,
// a control character (including "\r" and tab) in a command or response
// line, an empty field (leading, trailing or repeated space), an unknown
// response keyword, or a long-part line that starts with neither a space
// nor is exactly ".".
type SyntaxError struct {
	// LineNum is the 1-based number of the offending line in the stream
	// read by the Reader, counting long-part lines.
	LineNum int64
	// Line is the offending line, cut to its first 80 bytes.
	Line string
	// Msg says what is wrong.
	Msg string
}

// Error returns "protocol: line N: MSG: "LINE"".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("protocol: line %d: %s: %q", e.LineNum, e.Msg, e.Line)
}

// LimitError reports that input exceeded one of the Limits. Err is
// ErrLineTooLong or ErrLongPartTooLarge, so errors.Is works on it.
type LimitError struct {
	// Limit names the Limits field: "MaxLine" or "MaxLongPart".
	Limit string
	// Max is the value of that limit in bytes.
	Max int64
	// Err is the sentinel for the limit.
	Err error
}

// Error returns, e.g., "protocol: line too long (limit MaxLine=4096 bytes)".
func (e *LimitError) Error() string {
	return fmt.Sprintf("%v (limit %s=%d bytes)", e.Err, e.Limit, e.Max)
}

// Unwrap returns the sentinel error for the limit.
func (e *LimitError) Unwrap() error { return e.Err }

// ArgError reports a command argument (or argument count) that
// Command.Validate refuses. Err is ErrArgCount, ErrInvalidPackage,
// ErrInvalidVersion or ErrInvalidToken.
type ArgError struct {
	// Keyword is the command's keyword.
	Keyword string
	// Arg is the refused argument, or for ErrArgCount all arguments joined
	// by spaces; cut to its first 80 bytes.
	Arg string
	// Err is the sentinel for what is wrong.
	Err error
}

// Error returns, e.g., "protocol: invalid package name in pass command: "Foo"".
func (e *ArgError) Error() string {
	return fmt.Sprintf("%v in %s command: %q", e.Err, cut(e.Keyword), e.Arg)
}

// Unwrap returns the sentinel error for what is wrong.
func (e *ArgError) Unwrap() error { return e.Err }
