package spool

import (
	"fmt"

	"piuparts-server/internal/piuparts"
	"piuparts-server/protocol"
)

// The results a finished log can have, named as piuparts names the
// directories.
const (
	ResultPass       = "pass"
	ResultFail       = "fail"
	ResultUntestable = "untestable"
)

// The kinds of unfinished entries, named as their directories.
const (
	KindReserved = "reserved"
	KindNew      = "new"
)

// resultDirs are the result directories, in Debian's shipping order.
var resultDirs = [...]string{ResultPass, ResultFail, ResultUntestable}

// ValidResult reports whether result is "pass", "fail" or "untestable".
func ValidResult(result string) bool {
	switch result {
	case ResultPass, ResultFail, ResultUntestable:
		return true
	}
	return false
}

// ValidName reports whether name and version can make a spool file name:
// what the protocol accepts ([protocol.ValidPackageVersion]: a Debian
// package name, a Debian version or "None", at most 125 bytes each), so
// that a log the spool keeps is one the master can be sent. Neither can
// hold '_', '/' or a control character, so NAME_VERSION.log stays in its
// directory, fits in 255 bytes and parses back with [ParseLogName].
func ValidName(name, version string) bool {
	return protocol.ValidPackageVersion(name, version)
}

// LogName returns the spool file name of a package version,
// NAME_VERSION.log, as piuparts-slave names it. It does not check the
// names; see [ValidName].
func LogName(name, version string) string {
	return piuparts.LogName(name, version)
}

// ParseLogName splits a spool file name NAME_VERSION.log into the package
// name and version, the inverse of [LogName]. It reports false for any
// other file name, and for names and versions that [ValidName] refuses.
func ParseLogName(base string) (name, version string, ok bool) {
	name, version, ok = piuparts.ParseLogName(base)
	if !ok || !ValidName(name, version) {
		return "", "", false
	}
	return name, version, true
}

// checkName returns an error wrapping ErrInvalidName unless ValidName
// accepts name and version.
func checkName(name, version string) error {
	if !ValidName(name, version) {
		return fmt.Errorf("%w: %s %s", ErrInvalidName, quote(name), quote(version))
	}
	return nil
}
