package debian

import (
	"errors"
	"fmt"
)

// ErrIndexNotFound is returned (wrapped) by [OpenIndex], [LoadPackages] and
// [LoadSources] when none of the compressed or plain variants of an index
// exists.
var ErrIndexNotFound = errors.New("debian: index not found")

// ErrInvalidVersion is matched by every [*VersionError] through errors.Is.
var ErrInvalidVersion = errors.New("debian: invalid version")

// SyntaxError reports a malformed control file. Line is the 1-based line
// number of the offending line (for a stanza-level problem, the stanza's
// first line).
type SyntaxError struct {
	Line int
	Msg  string
}

// Error formats the error as "line N: message".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// VersionError reports a version string that dpkg would not accept.
// Msg uses dpkg's wording, for example "epoch in version is empty".
type VersionError struct {
	Version string
	Msg     string
}

// Error formats the error with the version quoted and cut to 80 bytes.
func (e *VersionError) Error() string {
	return fmt.Sprintf("debian: version %q: %s", cut(e.Version), e.Msg)
}

// Is makes errors.Is(err, ErrInvalidVersion) true for a *VersionError.
func (e *VersionError) Is(target error) bool { return target == ErrInvalidVersion }

// RelationError reports a malformed relationship field (Depends, Provides,
// ...). Offset is the byte offset into the field value where parsing stopped.
type RelationError struct {
	Text   string
	Offset int
	Msg    string
}

// Error formats the error with the field quoted and cut to 80 bytes and the
// offset where parsing stopped.
func (e *RelationError) Error() string {
	return fmt.Sprintf("debian: relation %q: offset %d: %s", cut(e.Text), e.Offset, e.Msg)
}

// cut shortens outside input to its first 80 bytes for error messages.
func cut(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}
