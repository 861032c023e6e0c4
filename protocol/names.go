package protocol

import (
	"strings"

	"piuparts-server/internal/debian"
	"piuparts-server/internal/piuparts"
)

// Package names and versions are checked by internal/debian, section names
// by internal/piuparts (the rule config and store use too); state names by
// validToken here.

func isLower(b byte) bool { return b >= 'a' && b <= 'z' }
func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }
func isDigit(b byte) bool { return b >= '0' && b <= '9' }
func isAlnum(b byte) bool { return isLower(b) || isUpper(b) || isDigit(b) }

// validPackageName reports whether s is a Debian package name (Policy
// 5.6.1, [debian.ValidPackageName]) of at most 125 bytes. Such a name holds
// no '/' and no control character, so it is safe in a file name.
func validPackageName(s string) bool {
	return len(s) <= maxPackageOrVersion && debian.ValidPackageName(s)
}

// validVersion reports whether s is a Debian version (Policy 5.6.12,
// [debian.ValidVersion]) of at most 125 bytes, or the word "None": the
// reference master hands out "None" as the test version of a package that
// is gone from the final distribution of an upgrade test, and a slave
// submits its log under that version. A valid version may hold ".." inside
// (dpkg accepts "1..2"), which cannot leave a directory: it never starts
// with "." and never holds '/'.
func validVersion(s string) bool {
	return len(s) <= maxPackageOrVersion && (s == piuparts.TestVersionNone || debian.ValidVersion(s))
}

// ValidPackageVersion reports whether name and version are what the
// protocol accepts for a package and its version (see [Command.Validate]):
// a Debian package name and a Debian version or "None", at most 125 bytes
// each, so that NAME_VERSION.log is a safe file name of at most 255 bytes.
// A slave checks with it what it makes file names of, and what it will
// submit.
func ValidPackageVersion(name, version string) bool {
	return validPackageName(name) && validVersion(version)
}

// validToken reports whether s is a state name that is safe as
// a path component: 1 to 125 of A-Z a-z 0-9 . _ + -, starting with a
// letter or digit, without "..".
func validToken(s string) bool {
	if s == "" || len(s) > maxPackageOrVersion || strings.Contains(s, "..") || !isAlnum(s[0]) {
		return false
	}
	return allBytes(s, func(b byte) bool {
		return isAlnum(b) || b == '.' || b == '_' || b == '+' || b == '-'
	})
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}
