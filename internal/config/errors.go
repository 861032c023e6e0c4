package config

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors wrapped by [*Error]; test for them with errors.Is.
var (
	// ErrSyntax is a file that is not valid TOML (or, for [ImportINI], not
	// valid ConfigParser syntax).
	ErrSyntax = errors.New("config: syntax error")
	// ErrUnknownKey is a key that piuparts does not know, or a key in a table
	// where it has no meaning (a [global]-only key inside a section).
	ErrUnknownKey = errors.New("config: unknown key")
	// ErrWrongType is a value of the wrong TOML type for its key.
	ErrWrongType = errors.New("config: wrong type")
	// ErrInvalidValue is a value of the right type that is out of range or
	// not allowed (a section name that could escape a directory, a negative
	// count, a NUL byte...).
	ErrInvalidValue = errors.New("config: invalid value")
	// ErrUnknownTable is a table that is neither [global], [distros.NAME] nor
	// a section listed in sections or basetgz-sections.
	ErrUnknownTable = errors.New("config: unknown table")
	// ErrMissingSection is a section listed in sections or basetgz-sections
	// that has no table, or a section name given to [Config.Section] that
	// the file does not define.
	ErrMissingSection = errors.New("config: missing section")
	// ErrNoMirror is returned by [DefaultMirror] when no apt source names a
	// Debian archive.
	ErrNoMirror = errors.New("config: no mirror in apt sources")
)

// Error is one problem at one place in a configuration file. Its message
// reads like a compiler's:
//
//	piuparts.toml:12: section "sid": unknown key "mirorr"
//
// Line is 0 when the position is unknown (the line is then left out), Table
// is "" for problems outside any table, and Key is "" for problems with a
// whole table. Err is one of the sentinel errors of this package.
type Error struct {
	File  string // file name given to Parse, Load or ImportINI
	Line  int    // 1-based line, 0 if unknown
	Table string // "global", a section name, or "distros.NAME"
	Key   string // the key concerned, "" for a whole table
	Msg   string // what is wrong, e.g. `unknown key "mirorr"`
	Err   error  // sentinel: ErrSyntax, ErrUnknownKey, ErrWrongType, ...
}

// Error returns "FILE:LINE: section "S": MSG".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Table != "" {
		if name, ok := strings.CutPrefix(e.Table, "distros."); ok {
			fmt.Fprintf(&b, "distro %s: ", quote(name))
		} else {
			fmt.Fprintf(&b, "section %s: ", quote(e.Table))
		}
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the sentinel error.
func (e *Error) Unwrap() error { return e.Err }

// quote quotes outside input for an error message, cut to its first 80 bytes.
func quote(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q...", s[:80])
	}
	return fmt.Sprintf("%q", s)
}

// errorList collects the problems of one file so that an operator sees all
// of them at once, in file order.
type errorList struct {
	file string
	errs []*Error
}

func (l *errorList) add(line int, table, key string, sentinel error, format string, args ...any) {
	l.errs = append(l.errs, &Error{
		File: l.file, Line: line, Table: table, Key: key,
		Msg: fmt.Sprintf(format, args...), Err: sentinel,
	})
}

// maxErrors caps how many problems one Parse reports.
const maxErrors = 20

// err returns nil, the single *Error, or an errors.Join of them sorted by line.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	sortErrors(l.errs)
	if len(l.errs) == 1 {
		return l.errs[0]
	}
	errs := make([]error, 0, min(len(l.errs), maxErrors))
	for i, e := range l.errs {
		if i == maxErrors {
			break
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}
