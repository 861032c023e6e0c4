package spool

import (
	"fmt"
	"strings"

	"piuparts-server/internal/debian"
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

// versionNone is the test version piupartslib gives a package missing from
// the final distribution of an upgrade test; the master hands it out and
// the slave submits its log under it.
const versionNone = "None"

// maxFileName is NAME_MAX of Linux file systems.
const maxFileName = 255

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
// name is a Debian package name ([debian.ValidPackageName]), version a
// Debian version ([debian.ValidVersion]) or "None" (the version piuparts
// gives a package missing from an upgrade test's final distribution), and
// NAME_VERSION.log fits in 255 bytes. Neither can hold '_', '/' or a
// control character, so the file name stays in its directory and parses
// back with [ParseLogName].
func ValidName(name, version string) bool {
	return debian.ValidPackageName(name) &&
		(version == versionNone || debian.ValidVersion(version)) &&
		len(name)+len(version)+len("_.log") <= maxFileName
}

// LogName returns the spool file name of a package version,
// NAME_VERSION.log, as piuparts-slave names it. It does not check the
// names; see [ValidName].
func LogName(name, version string) string {
	return name + "_" + version + ".log"
}

// ParseLogName splits a spool file name NAME_VERSION.log into the package
// name and version, the inverse of [LogName]. It reports false for any
// other file name, and for names and versions that [ValidName] refuses.
func ParseLogName(base string) (name, version string, ok bool) {
	stem, isLog := strings.CutSuffix(base, ".log")
	if !isLog {
		return "", "", false
	}
	name, version, ok = strings.Cut(stem, "_")
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
