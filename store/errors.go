package store

import (
	"errors"
	"fmt"
	"io/fs"

	"piuparts-server/internal/piuparts"
)

var (
	// ErrSchemaTooNew means the database was migrated by a newer program
	// than this one; opening it could corrupt data the newer schema relies on.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this program")

	// ErrNoSection means the named section has no row yet.
	ErrNoSection = errors.New("store: no such section")

	// ErrNoPackage means the section has no package of that name.
	ErrNoPackage = errors.New("store: no such package")

	// ErrDuplicate means the log index already holds a log of that kind for
	// that package version; piuparts ignores such a submission.
	ErrDuplicate = errors.New("store: log already indexed")

	// ErrUnsafeName means a section, package or version could escape its
	// directory or break a submissions.txt line. Errors of type *NameError
	// wrap it.
	ErrUnsafeName = errors.New("store: unsafe name")

	// ErrUnknownKind means a Kind that is not one of the log tree's
	// directories (or, for a submission, not a result).
	ErrUnknownKind = errors.New("store: unknown log kind")

	// ErrLogExists means the log file is already in the tree; it was left
	// unchanged. It matches fs.ErrExist too.
	ErrLogExists = fmt.Errorf("store: log file already exists: %w", fs.ErrExist)

	// ErrLogTooLarge means the log was longer than the allowed size; nothing
	// was stored.
	ErrLogTooLarge = errors.New("store: log too large")
)

// NameError reports a section, package or version that is not safe to use as
// part of a file name. It wraps [ErrUnsafeName].
type NameError struct {
	Field string // "section", "package" or "version"
	Value string // the offending value as given
}

// Error returns the field and the value, quoted and cut to 80 bytes.
func (e *NameError) Error() string {
	return fmt.Sprintf("store: unsafe %s name %s", e.Field, quote(e.Value))
}

// Unwrap returns [ErrUnsafeName].
func (e *NameError) Unwrap() error { return ErrUnsafeName }

// quote quotes outside input for an error message ([piuparts.Quote]).
func quote(s string) string { return piuparts.Quote(s) }
