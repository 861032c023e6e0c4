package protocol

import "strings"

// These checks stand in for piuparts-server/internal/debian's name and
// version checks until protocol switches to them; they are stricter than
// Debian only where a value could escape a directory.

func isLower(b byte) bool { return b >= 'a' && b <= 'z' }
func isUpper(b byte) bool { return b >= 'A' && b <= 'Z' }
func isDigit(b byte) bool { return b >= '0' && b <= '9' }
func isAlnum(b byte) bool { return isLower(b) || isUpper(b) || isDigit(b) }

// validPackageName reports whether s is a Debian package name (Policy
// 5.6.1: at least two of a-z 0-9 + - ., starting with a letter or digit)
// of at most 125 bytes without "..".
func validPackageName(s string) bool {
	if len(s) < 2 || len(s) > maxPackageOrVersion || strings.Contains(s, "..") {
		return false
	}
	if !isLower(s[0]) && !isDigit(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		b := s[i]
		if !isLower(b) && !isDigit(b) && b != '+' && b != '-' && b != '.' {
			return false
		}
	}
	return true
}

// validVersion reports whether s is a Debian version (Policy 5.6.12:
// [epoch:]upstream[-revision], the epoch digits, the upstream part
// starting with a digit and made of A-Z a-z 0-9 . + ~ and, with an
// epoch, ":" (and "-" before the revision), the revision of A-Z a-z 0-9
// . + ~) of at most 125 bytes without "..".
func validVersion(s string) bool {
	if s == "" || len(s) > maxPackageOrVersion || strings.Contains(s, "..") {
		return false
	}
	rest, colonOK := s, false
	if i := strings.IndexByte(s, ':'); i >= 0 {
		if i == 0 || !allBytes(s[:i], isDigit) {
			return false
		}
		rest, colonOK = s[i+1:], true
	}
	upstream := rest
	if i := strings.LastIndexByte(rest, '-'); i >= 0 {
		upstream = rest[:i]
		revision := rest[i+1:]
		if revision == "" || !allBytes(revision, isVersionByte) {
			return false
		}
		// The upstream part may hold hyphens when there is a revision.
		upstream = strings.ReplaceAll(upstream, "-", ".")
	}
	if upstream == "" || !isDigit(upstream[0]) {
		return false
	}
	return allBytes(upstream, func(b byte) bool {
		return isVersionByte(b) || (colonOK && b == ':')
	})
}

func isVersionByte(b byte) bool {
	return isAlnum(b) || b == '.' || b == '+' || b == '~'
}

// validToken reports whether s is a section or state name that is safe as
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
