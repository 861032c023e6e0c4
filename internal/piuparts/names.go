package piuparts

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxSectionName is the longest section name in bytes: a section name is a
// directory name (at most 255 bytes on Linux) and a word of a protocol
// line; 125 leaves room for what is built from it.
const MaxSectionName = 125

// ValidName reports whether s is safe as one component of a path under the
// master or slave directory and as one word of a protocol or
// submissions.txt line: not empty, not "." or "..", valid UTF-8, no '/' or
// '\\', no NUL, no control character and no white space. ".." inside a
// name is allowed: dpkg accepts the version "1..2", and "hello_1..2.log"
// stays in its directory.
func ValidName(s string) bool {
	if s == "" || s == "." || s == ".." || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == '/' || r == '\\' || r <= ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) ||
			r == '\u2028' || r == '\u2029' || r == '\u0085' {
			return false
		}
	}
	return true
}

// ValidSectionName reports whether s may name a section: what Debian's
// piuparts-master accepts (any name of a config section, which it uses as
// a directory name and reads as one word of a "section" line), limited to
// what is safe as a directory: [ValidName], at most MaxSectionName bytes,
// and not starting with '.' (a hidden directory) or '-' (an option to the
// shell commands of Debian's cron scripts). "sid", "bookworm-pu",
// "sid2experimental", "sid~exp" and "jessie_lts" are section names; "",
// "..", ".git", "-x", "a/b", "a b" are not.
func ValidSectionName(s string) bool {
	return len(s) <= MaxSectionName && ValidName(s) && s[0] != '.' && s[0] != '-'
}

// TestVersionNone is the test version piupartslib gives a package that the
// final distribution of an upgrade test does not have; slaves submit logs
// under it.
const TestVersionNone = "None"

// LogName returns the file name piuparts gives the log of a package version,
// NAME_VERSION.log. The version keeps its epoch colon, as piuparts keeps it:
// "libgmp10_2:6.2.1+dfsg1-1.1.log". It does not check the names.
func LogName(pkg, version string) string {
	return pkg + "_" + version + ".log"
}

// ParseLogName splits a log file name NAME_VERSION.log, the inverse of
// [LogName]. It reports false for anything else: other files
// (piuparts-report's .kpr and .bug files), hidden and temporary files, and
// names that [ValidName] refuses. Package names hold no "_", so the first
// "_" ends the name.
func ParseLogName(base string) (pkg, version string, ok bool) {
	stem, isLog := strings.CutSuffix(base, ".log")
	if !isLog || strings.HasPrefix(base, ".") {
		return "", "", false
	}
	pkg, version, ok = strings.Cut(stem, "_")
	if !ok || !ValidName(pkg) || !ValidName(version) {
		return "", "", false
	}
	return pkg, version, true
}

// MaxQuoted is how many bytes of outside input [Quote] keeps.
const MaxQuoted = 80

// Quote quotes outside input for an error or a log line: Go-quoted, cut to
// its first MaxQuoted bytes with "..." after the quote when it was longer.
func Quote(s string) string {
	if len(s) > MaxQuoted {
		return fmt.Sprintf("%q...", s[:MaxQuoted])
	}
	return fmt.Sprintf("%q", s)
}

// Cut returns the first MaxQuoted bytes of s, for outside input logged as a
// field rather than quoted in a message.
func Cut(s string) string {
	if len(s) > MaxQuoted {
		return s[:MaxQuoted]
	}
	return s
}

// MaxSlaveID is the longest slave id in bytes: a host name is at most 253.
const MaxSlaveID = 253

// ValidSlaveID reports whether s may name a slave (the master's
// --slave-id, the holder of reservations): a word that is safe in a
// protocol line, a log field, an authorized_keys command="..." option and
// the shell sshd runs that command with. It is what a host name, a short
// name or an address looks like: 1 to MaxSlaveID bytes of ASCII letters,
// digits and "._-+@:", not starting with '-' or '.'. "slave1",
// "pejacevic.debian.org", "piuparts@host", "::1" are slave ids; "",
// "-x", "a b", "a;b", "a\"b", "é" are not.
func ValidSlaveID(s string) bool {
	if s == "" || len(s) > MaxSlaveID || s[0] == '-' || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("._-+@:", c) >= 0:
		default:
			return false
		}
	}
	return true
}
