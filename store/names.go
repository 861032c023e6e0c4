package store

import (
	"fmt"

	"piuparts-server/internal/piuparts"
)

// Kind is a subdirectory of a section in the piuparts log tree, and the kind
// of an entry in the log index: [piuparts.Kind], named here for the
// store's callers.
type Kind = piuparts.Kind

// The kinds of logs, as [piuparts] defines them.
const (
	KindPass       = piuparts.KindPass
	KindFail       = piuparts.KindFail
	KindUntestable = piuparts.KindUntestable
	KindBugged     = piuparts.KindBugged
	KindAffected   = piuparts.KindAffected
	KindRecycle    = piuparts.KindRecycle
	KindReserved   = piuparts.KindReserved
)

// resultKindsSQL lists piupartslib's "most" directories
// ([piuparts.TestedKinds]) as an SQL list.
const resultKindsSQL = "('pass', 'fail', 'untestable', 'bugged', 'affected')"

// CheckName returns a *NameError unless s is safe as a name in the log
// tree and in a submissions.txt line: for the field "section" a
// [piuparts.ValidSectionName], else a [piuparts.ValidName]. field names
// what s is in the error.
func CheckName(field, s string) error {
	ok := piuparts.ValidName(s)
	if field == "section" {
		ok = piuparts.ValidSectionName(s)
	}
	if !ok {
		return &NameError{Field: field, Value: s}
	}
	return nil
}

// checkLogNames checks the section, package and version of a log and the kind.
func checkLogNames(section string, kind Kind, pkg, version string) error {
	if err := CheckName("section", section); err != nil {
		return err
	}
	if !kind.Valid() {
		return fmt.Errorf("%w %s", ErrUnknownKind, quote(string(kind)))
	}
	if err := CheckName("package", pkg); err != nil {
		return err
	}
	return CheckName("version", version)
}

// LogPath returns the path of a log relative to the master directory,
// SECTION/KIND/NAME_VERSION.log, with '/' separators (as stored in the log
// index). It returns a *NameError or an error wrapping [ErrUnknownKind] for
// names that are not safe.
func LogPath(section string, kind Kind, pkg, version string) (string, error) {
	if err := checkLogNames(section, kind, pkg, version); err != nil {
		return "", err
	}
	return section + "/" + string(kind) + "/" + piuparts.LogName(pkg, version), nil
}
