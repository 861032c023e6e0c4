package spool

import (
	"errors"

	"piuparts-server/internal/piuparts"
)

var (
	// ErrBusy means another process, or another Spool or Ship in this
	// process, holds the section's slave.lock.
	ErrBusy = errors.New("spool: busy")

	// ErrInvalidName means a package name or version is not one that can be
	// a spool file name NAME_VERSION.log (see [ValidName]).
	ErrInvalidName = errors.New("spool: invalid package name or version")

	// ErrInvalidResult means a result other than "pass", "fail" or
	// "untestable".
	ErrInvalidResult = errors.New("spool: invalid result")

	// ErrClosed means the Log was already committed or aborted.
	ErrClosed = errors.New("spool: log already committed or aborted")

	// ErrIncomplete means send returned nil without having read the whole
	// log; the log was kept.
	ErrIncomplete = errors.New("spool: send did not read the whole log")
)

// quote quotes outside input for an error message, cut to its first 80
// bytes.
func quote(s string) string { return piuparts.Quote(s) }
