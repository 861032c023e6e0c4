package store

import (
	"fmt"
	"unicode/utf8"
)

// Kind is a subdirectory of a section in the piuparts log tree, and the kind
// of an entry in the log index.
type Kind string

// The kinds of logs, named as piuparts names their directories.
const (
	KindPass       Kind = "pass"       // passed: successfully-tested
	KindFail       Kind = "fail"       // failed-testing
	KindUntestable Kind = "untestable" // cannot-be-tested
	KindBugged     Kind = "bugged"     // failed, with a bug filed
	KindAffected   Kind = "affected"   // failed because of another package's bug
	KindRecycle    Kind = "recycle"    // empty marker: test this version again
	KindReserved   Kind = "reserved"   // empty marker of piuparts' own reservations
)

// Kinds lists every Kind in the order piuparts lists its directories.
func Kinds() []Kind {
	return []Kind{KindPass, KindFail, KindUntestable, KindReserved, KindBugged, KindAffected, KindRecycle}
}

// Valid reports whether k is one of the log tree's directories.
func (k Kind) Valid() bool {
	switch k {
	case KindPass, KindFail, KindUntestable, KindBugged, KindAffected, KindRecycle, KindReserved:
		return true
	}
	return false
}

// IsResult reports whether k is a result a slave submits (pass, fail,
// untestable): the kinds that go to submissions.txt.
func (k Kind) IsResult() bool {
	return k == KindPass || k == KindFail || k == KindUntestable
}

// resultKinds are the directories whose log for a version means the version
// was tested (piuparts' "most" directories): pass, fail, untestable, bugged,
// affected, as an SQL list.
const resultKindsSQL = "('pass', 'fail', 'untestable', 'bugged', 'affected')"

// CheckName returns a *NameError unless s is safe as a section, package or
// version name in the log tree and in a submissions.txt line: not empty, not
// "." or "..", valid UTF-8, no '/' or '\\', no NUL, no control character and
// no white space. ".." inside a name is allowed: dpkg accepts the version
// "1..2", and "hello_1..2.log" stays in its directory.
// field names what s is in the error.
func CheckName(field, s string) error {
	if s == "" || s == "." || s == ".." || !utf8.ValidString(s) {
		return &NameError{Field: field, Value: s}
	}
	for _, r := range s {
		if r == '/' || r == '\\' || r <= ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) ||
			r == '\u2028' || r == '\u2029' || r == '\u0085' {
			return &NameError{Field: field, Value: s}
		}
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

// LogName returns the file name piuparts gives the log of a package version,
// NAME_VERSION.log. The version keeps its epoch colon, as piuparts keeps it:
// "libgmp10_2:6.2.1+dfsg1-1.1.log".
func LogName(pkg, version string) string {
	return pkg + "_" + version + ".log"
}

// LogPath returns the path of a log relative to the master directory,
// SECTION/KIND/NAME_VERSION.log, with '/' separators (as stored in the log
// index). It returns a *NameError or an error wrapping [ErrUnknownKind] for
// names that are not safe.
func LogPath(section string, kind Kind, pkg, version string) (string, error) {
	if err := checkLogNames(section, kind, pkg, version); err != nil {
		return "", err
	}
	return section + "/" + string(kind) + "/" + LogName(pkg, version), nil
}
