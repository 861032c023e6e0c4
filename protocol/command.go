package protocol

import (
	"fmt"
	"strings"

	"piuparts-server/internal/piuparts"
)

// Command keywords the slave sends. The names starting with "_" are the
// reference master's debug commands.
const (
	CmdSection          = "section"
	CmdRecycle          = "recycle"
	CmdIdle             = "idle"
	CmdReserve          = "reserve"
	CmdUnreserve        = "unreserve"
	CmdPass             = "pass"
	CmdFail             = "fail"
	CmdUntestable       = "untestable"
	CmdStatus           = "status"
	CmdDebugState       = "_state"
	CmdDebugDepends     = "_depends"
	CmdDebugRecDepends  = "_recursive-depends"
	CmdDebugDepCycle    = "_depcycle"
	CmdDebugList        = "_list"
	greeting            = "hello"
	maxPackageOrVersion = 125 // so that NAME_VERSION.log fits in 255 bytes
)

// Response keywords the master answers with.
const (
	StatusOK    = "ok"
	StatusError = "error"
	StatusBusy  = "busy"
)

// Command is one command line sent by the slave: a keyword and its
// arguments. On the wire they are separated by single spaces.
type Command struct {
	Keyword string
	// Args is nil for a command without arguments.
	Args []string
}

// String returns the command's wire line without its "\n".
func (c Command) String() string { return joinLine(c.Keyword, c.Args) }

// HasLongPart reports whether a long part follows the command on the wire:
// true for pass, fail and untestable.
func (c Command) HasLongPart() bool {
	switch c.Keyword {
	case CmdPass, CmdFail, CmdUntestable:
		return true
	}
	return false
}

// Package returns the package-name argument of unreserve, pass, fail,
// untestable and the debug commands _state, _depends, _recursive-depends
// and _depcycle, and "" for other commands or when it is missing. Call
// Validate first to know it is a valid, path-safe name.
func (c Command) Package() string {
	switch c.Keyword {
	case CmdUnreserve, CmdPass, CmdFail, CmdUntestable,
		CmdDebugState, CmdDebugDepends, CmdDebugRecDepends, CmdDebugDepCycle:
		if len(c.Args) > 0 {
			return c.Args[0]
		}
	}
	return ""
}

// Version returns the version argument of unreserve, pass, fail and
// untestable, and "" for other commands or when it is missing. Call
// Validate first to know it is a valid, path-safe version.
func (c Command) Version() string {
	switch c.Keyword {
	case CmdUnreserve, CmdPass, CmdFail, CmdUntestable:
		if len(c.Args) > 1 {
			return c.Args[1]
		}
	}
	return ""
}

// Validate checks that c is a known command with the number of arguments
// it takes, and that its arguments are safe to use: package names are
// valid Debian package names, versions valid Debian versions (or "None",
// the reference's test version of a package gone from the final distro),
// section and state names tokens of letters, digits and "._+-" that do not
// start with "." and hold no ".."; none of them holds "/", NUL or another
// control character, and names and versions are at most 125 bytes, so
// NAME_VERSION.log fits in a file name. It returns an error wrapping
// ErrUnknownCommand for an unknown keyword, and an *ArgError wrapping
// ErrArgCount, ErrInvalidPackage, ErrInvalidVersion or ErrInvalidToken.
func (c Command) Validate() error {
	var want int
	var check []func(string) bool
	var errs []error
	switch c.Keyword {
	case CmdRecycle, CmdIdle, CmdReserve, CmdStatus:
		want = 0
	case CmdSection:
		want, check, errs = 1, []func(string) bool{piuparts.ValidSectionName}, []error{ErrInvalidToken}
	case CmdDebugList:
		want, check, errs = 1, []func(string) bool{validToken}, []error{ErrInvalidToken}
	case CmdDebugState, CmdDebugDepends, CmdDebugRecDepends, CmdDebugDepCycle:
		want, check, errs = 1, []func(string) bool{validPackageName}, []error{ErrInvalidPackage}
	case CmdUnreserve, CmdPass, CmdFail, CmdUntestable:
		want = 2
		check = []func(string) bool{validPackageName, validVersion}
		errs = []error{ErrInvalidPackage, ErrInvalidVersion}
	default:
		return fmt.Errorf("%w: %q", ErrUnknownCommand, cut(c.Keyword))
	}
	if len(c.Args) != want {
		return &ArgError{Keyword: c.Keyword, Arg: cut(strings.Join(c.Args, " ")), Err: ErrArgCount}
	}
	for i, arg := range c.Args {
		if !check[i](arg) {
			return &ArgError{Keyword: c.Keyword, Arg: cut(arg), Err: errs[i]}
		}
	}
	return nil
}

// Response is one response line sent by the master: "ok", "error" or
// "busy", and for ok the answer's words. The greeting "hello" is not a
// Response: see Reader.ReadHello and Writer.WriteHello.
type Response struct {
	// Keyword is StatusOK, StatusError or StatusBusy.
	Keyword string
	// Args is nil for a response without arguments.
	Args []string
}

// String returns the response's wire line without its "\n".
func (r Response) String() string { return joinLine(r.Keyword, r.Args) }

// OK reports whether the keyword is "ok", the only answer on which the
// slave may assume its command succeeded.
func (r Response) OK() bool { return r.Keyword == StatusOK }

func joinLine(keyword string, args []string) string {
	if len(args) == 0 {
		return keyword
	}
	return keyword + " " + strings.Join(args, " ")
}

// parseLine splits a line (without "\n") into keyword and arguments.
// It accepts exactly what the Writer writes: non-empty fields separated
// by single spaces, no control characters. lineNum is for the error.
func parseLine(line []byte, lineNum int64) (string, []string, error) {
	fail := func(msg string) error {
		return &SyntaxError{LineNum: lineNum, Line: cut(string(line)), Msg: msg}
	}
	if len(line) == 0 {
		return "", nil, fail("empty line")
	}
	n := 1
	for i, b := range line {
		switch {
		case b == '\r':
			return "", nil, fail("carriage return in line")
		case b < 0x20 || b == 0x7f:
			return "", nil, fail(fmt.Sprintf("control character %#02x in line", b))
		case b == ' ':
			if i == 0 || i == len(line)-1 || line[i-1] == ' ' {
				return "", nil, fail("empty field (leading, trailing or repeated space)")
			}
			n++
		}
	}
	s := string(line)
	if n == 1 {
		return s, nil, nil
	}
	fields := strings.SplitN(s, " ", n)
	return fields[0], fields[1:], nil
}

// checkField reports whether s can travel as one field of a line.
func checkField(s string) error {
	if s == "" {
		return fmt.Errorf("%w: empty", ErrInvalidField)
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; b <= ' ' || b == 0x7f {
			return fmt.Errorf("%w: space or control character in %q", ErrInvalidField, cut(s))
		}
	}
	return nil
}
