package debian

import (
	"strconv"
	"strings"
)

// Version is a parsed Debian version: [epoch:]upstream[-revision]
// (Debian Policy 5.6.12).
type Version struct {
	Epoch    uint32
	Upstream string
	Revision string
}

// String formats v as dpkg does: the epoch only when it is not zero (or when
// the upstream version holds a colon, so that the result parses back to v),
// the revision only when it is not empty.
func (v Version) String() string {
	s := v.Upstream
	if v.Revision != "" {
		s += "-" + v.Revision
	}
	if v.Epoch != 0 || strings.IndexByte(v.Upstream, ':') >= 0 {
		s = strconv.FormatUint(uint64(v.Epoch), 10) + ":" + s
	}
	return s
}

// maxEpoch is dpkg's limit on the epoch (INT_MAX).
const maxEpoch = 1<<31 - 1

// ParseVersion parses s with dpkg's rules. Surrounding white space is
// ignored. The epoch runs up to the first colon and must be a decimal number
// of at most 2147483647; the revision follows the last hyphen; the upstream
// version must start with a digit and hold only letters, digits and
// ".+-~:"; the revision only letters, digits and ".+~". It returns a
// *VersionError (matching [ErrInvalidVersion]) whose message is dpkg's for
// any violation; dpkg itself treats the last three only as warnings.
func ParseVersion(s string) (Version, error) {
	orig := s
	fail := func(msg string) (Version, error) {
		return Version{}, &VersionError{Version: orig, Msg: msg}
	}
	s = strings.TrimFunc(s, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
	if s == "" {
		return fail("version string is empty")
	}
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			return fail("version string has embedded spaces")
		}
	}
	var v Version
	if colon := strings.IndexByte(s, ':'); colon >= 0 {
		epoch := s[:colon]
		if epoch == "" {
			return fail("epoch in version is empty")
		}
		var n uint64
		for i := 0; i < len(epoch); i++ {
			c := epoch[i]
			if c < '0' || c > '9' {
				return fail("epoch in version is not number")
			}
			n = n*10 + uint64(c-'0')
			if n > maxEpoch {
				return fail("epoch in version is too big")
			}
		}
		v.Epoch = uint32(n)
		s = s[colon+1:]
		if s == "" {
			return fail("nothing after colon in version number")
		}
	}
	v.Upstream = s
	if hyphen := strings.LastIndexByte(s, '-'); hyphen >= 0 {
		v.Upstream, v.Revision = s[:hyphen], s[hyphen+1:]
		if v.Revision == "" {
			return fail("revision number is empty")
		}
	}
	if v.Upstream == "" {
		return fail("version number is empty")
	}
	if !isDigit(v.Upstream[0]) {
		return fail("version number does not start with digit")
	}
	for i := 0; i < len(v.Upstream); i++ {
		if c := v.Upstream[i]; !isAlnum(c) && !strings.ContainsRune(".-+~:", rune(c)) {
			return fail("invalid character in version number")
		}
	}
	for i := 0; i < len(v.Revision); i++ {
		if c := v.Revision[i]; !isAlnum(c) && !strings.ContainsRune(".+~", rune(c)) {
			return fail("invalid character in revision number")
		}
	}
	return v, nil
}

// ValidVersion reports whether [ParseVersion] accepts s without surrounding
// white space. A valid version is always [PathSafe] ("." and ".." do not
// start with a digit), although it may contain ".." inside, as in "1..2".
func ValidVersion(s string) bool {
	if s == "" || isSpace(s[0]) || isSpace(s[len(s)-1]) {
		return false
	}
	_, err := ParseVersion(s)
	return err == nil
}

// Compare returns -1, 0 or +1 as a sorts before, the same as, or after b in
// dpkg's order.
func Compare(a, b Version) int {
	switch {
	case a.Epoch < b.Epoch:
		return -1
	case a.Epoch > b.Epoch:
		return 1
	}
	if c := compareString(a.Upstream, b.Upstream); c != 0 {
		return c
	}
	return compareString(a.Revision, b.Revision)
}

// CompareVersions compares two version strings as `dpkg --compare-versions`
// does and returns -1, 0 or +1. It never fails: a string that [ParseVersion]
// rejects is split as dpkg splits it where possible (epoch up to the first
// colon, revision after the last hyphen) and otherwise compared whole as an
// upstream version, so the result is still a total order.
func CompareVersions(a, b string) int {
	return Compare(lenientVersion(a), lenientVersion(b))
}

// lenientVersion splits s like dpkg's parseversion but never fails.
func lenientVersion(s string) Version {
	if v, err := ParseVersion(s); err == nil {
		return v
	}
	s = strings.TrimFunc(s, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
	var v Version
	if colon := strings.IndexByte(s, ':'); colon > 0 {
		n, err := strconv.ParseUint(s[:colon], 10, 32)
		if err == nil && n <= maxEpoch && isDigit(s[0]) {
			v.Epoch = uint32(n)
			s = s[colon+1:]
		}
	}
	v.Upstream = s
	if hyphen := strings.LastIndexByte(s, '-'); hyphen >= 0 {
		v.Upstream, v.Revision = s[:hyphen], s[hyphen+1:]
	}
	return v
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// order is dpkg's weight of the character at s[i] in a non-digit run: the
// end of the string and digits weigh 0, '~' weighs -1 (before everything),
// letters their ASCII value, everything else its value plus 256 (bytes from
// 0x80 as a signed char would on amd64, like dpkg there).
func order(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	c := s[i]
	switch {
	case isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	case c == '~':
		return -1
	case c >= 0x80:
		return int(int8(c)) + 256
	default:
		return int(c) + 256
	}
}

// compareString is dpkg's verrevcmp: alternate runs of non-digits, compared
// by [order], and runs of digits, compared as numbers of any length.
func compareString(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := order(a, i), order(b, j)
			if ac != bc {
				return sign(ac - bc)
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		firstDiff := 0
		for i < len(a) && j < len(b) && isDigit(a[i]) && isDigit(b[j]) {
			if firstDiff == 0 {
				firstDiff = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if firstDiff != 0 {
			return sign(firstDiff)
		}
	}
	return 0
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// ValidPackageName reports whether s is a package name as Debian Policy
// 5.6.1 allows: at least two characters, lower-case letters, digits and
// "+-.", starting with a letter or digit. A valid name is always [PathSafe].
func ValidPackageName(s string) bool {
	if len(s) < 2 || !isLowerAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLowerAlnum(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isLowerAlnum(c byte) bool { return isDigit(c) || (c >= 'a' && c <= 'z') }

// PathSafe reports whether s can be used as one component of a file name
// without leaving its directory: it is not empty, not "." or "..", and
// holds no '/', no NUL and no other control character (bytes below 0x20
// and 0x7f).
func PathSafe(s string) bool {
	if s == "" || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '/' || c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}
