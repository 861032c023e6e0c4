package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"piuparts-server/internal/piuparts"
)

// Args is a command line split into words: piuparts-command,
// piuparts-flags and setarch. In TOML it is an array of strings, whose
// elements may hold spaces; a string is also accepted and split on
// whitespace, which is what the reference does with these keys.
type Args []string

// String joins the words with single spaces, as the reference's log shows them.
func (a Args) String() string { return strings.Join(a, " ") }

// Contains reports whether one of the words is exactly w.
func (a Args) Contains(w string) bool {
	for _, x := range a {
		if x == w {
			return true
		}
	}
	return false
}

// Days is the value of expire-old-days and expire-fail-days: a number of
// days, either absolute or, written as the string "+N", relative to the
// matching reschedule-*-days setting (as reschedule_oldest_logs reads it).
// The zero value is 0 absolute: expiry disabled.
type Days struct {
	N        int  // days, or days added to the base when Relative
	Relative bool // written with a leading "+"
}

// Resolve returns the number of days, adding base when d is relative.
func (d Days) Resolve(base int) int {
	if d.Relative {
		return base + d.N
	}
	return d.N
}

// String returns "+N" for a relative value and "N" otherwise.
func (d Days) String() string {
	if d.Relative {
		return "+" + strconv.Itoa(d.N)
	}
	return strconv.Itoa(d.N)
}

// parseDays reads "N" or "+N" (surrounding spaces allowed).
func parseDays(s string) (Days, bool) {
	s = strings.TrimSpace(s)
	rel := strings.HasPrefix(s, "+")
	n, ok := parseInt(s)
	if !ok || n < math.MinInt32 || n > math.MaxInt32 {
		return Days{}, false
	}
	return Days{N: int(n), Relative: rel}, true
}

// parseInt reads an integer the way Python's int() reads a string: spaces
// around it, an optional sign, decimal digits with single underscores
// between them.
func parseInt(s string) (int64, bool) {
	s = strings.TrimFunc(s, pySpace)
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 || digits == "" || digits[0] == '_' || digits[len(digits)-1] == '_' || strings.Contains(digits, "__") {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
	return n, err == nil
}

// pySpace reports whether Python's str.strip would remove r.
func pySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// typeName describes a decoded TOML value for an error message.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date-time"
	}
	return fmt.Sprintf("a %T", v)
}

// want says what a key of kind k accepts.
func want(k kind) string {
	switch k {
	case kindInt:
		return "an integer"
	case kindFloat:
		return "a number"
	case kindBool:
		return "a boolean (true or false)"
	case kindNames:
		return "an array of strings"
	case kindArgs:
		return "an array of strings or a string"
	case kindDays:
		return `an integer or a string "+N"`
	case kindDuration:
		return `an integer (seconds) or a duration string such as "90m" or "2d"`
	}
	return "a string"
}

// valueError is a problem with one value: its sentinel and its message
// (without file, table or key).
type valueError struct {
	sentinel error
	msg      string
}

func wrongType(k kind, v any) *valueError {
	return &valueError{ErrWrongType, fmt.Sprintf("want %s, have %s", want(k), typeName(v))}
}

func invalid(format string, args ...any) *valueError {
	return &valueError{ErrInvalidValue, fmt.Sprintf(format, args...)}
}

// convert turns a decoded TOML value into the Go type of key d.
func convert(d *keyDef, v any) (any, *valueError) {
	switch d.kind {
	case kindString:
		s, ok := v.(string)
		if !ok {
			return nil, wrongType(d.kind, v)
		}
		if err := checkText(s); err != nil {
			return nil, err
		}
		if d.choices != nil && !slices.Contains(d.choices, s) {
			return nil, invalid("want one of %s, have %s", choiceList(d.choices), quote(s))
		}
		return s, nil
	case kindInt:
		n, ok := v.(int64)
		if !ok {
			return nil, wrongType(d.kind, v)
		}
		return checkInt(d, n)
	case kindFloat:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case int64:
			f = float64(x)
		default:
			return nil, wrongType(d.kind, v)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
			return nil, invalid("want a finite number >= 0, have %v", f)
		}
		return f, nil
	case kindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, wrongType(d.kind, v)
		}
		return b, nil
	case kindNames, kindArgs:
		var words []string
		switch x := v.(type) {
		case string:
			words = strings.Fields(x)
			if words == nil {
				words = []string{}
			}
		case []any:
			words = make([]string, 0, len(x))
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, &valueError{ErrWrongType, fmt.Sprintf("want %s, have an array holding %s", want(d.kind), typeName(e))}
				}
				words = append(words, s)
			}
		default:
			return nil, wrongType(d.kind, v)
		}
		for _, w := range words {
			var err *valueError
			switch {
			case d.kind == kindArgs:
				err = checkText(w)
			case d.rule == sectionName:
				err = checkSectionName(w)
			default:
				err = checkName(w)
			}
			if err != nil {
				return nil, err
			}
		}
		if d.kind == kindArgs {
			return Args(words), nil
		}
		return words, nil
	case kindDays:
		switch x := v.(type) {
		case int64:
			if x < math.MinInt32 || x > math.MaxInt32 {
				return nil, invalid("%d is out of range", x)
			}
			return Days{N: int(x)}, nil
		case string:
			days, ok := parseDays(x)
			if !ok {
				return nil, invalid(`want a number of days or "+N", have %s`, quote(x))
			}
			return days, nil
		}
		return nil, wrongType(d.kind, v)
	case kindDuration:
		switch x := v.(type) {
		case int64:
			if x > maxSeconds || x < -maxSeconds {
				return nil, invalid("%d seconds is out of range", x)
			}
			return checkDuration(d, time.Duration(x)*time.Second)
		case string:
			dur, err := parseDuration(x)
			if err != "" {
				return nil, invalid("%s", err)
			}
			return checkDuration(d, dur)
		}
		return nil, wrongType(d.kind, v)
	}
	panic("config: unknown kind")
}

// choiceList writes the allowed values of a key for a message.
func choiceList(choices []string) string {
	q := make([]string, len(choices))
	for i, c := range choices {
		q[i] = strconv.Quote(c)
	}
	return strings.Join(q, ", ")
}

// maxSeconds is the largest number of seconds a time.Duration holds.
const maxSeconds = int64(math.MaxInt64 / time.Second)

// day is the unit of the "d" suffix of a duration string.
const day = 24 * time.Hour

// parseDuration reads a duration string: Go's syntax ("90m", "1h30m",
// "45s") with a leading number of days allowed ("2d", "1.5d", "1d12h").
// It returns a message on error.
func parseDuration(s string) (time.Duration, string) {
	bad := func() (time.Duration, string) {
		return 0, fmt.Sprintf(`want a duration such as "90m", "1h30m" or "2d", have %s`, quote(s))
	}
	t := strings.TrimSpace(s)
	sign := time.Duration(1)
	if rest, ok := strings.CutPrefix(t, "-"); ok {
		sign, t = -1, rest
	} else {
		t = strings.TrimPrefix(t, "+")
	}
	var days time.Duration
	if i := strings.IndexByte(t, 'd'); i >= 0 {
		num := t[:i]
		if num == "" || strings.Trim(num, "0123456789.") != "" || strings.Count(num, ".") > 1 || num == "." {
			return bad()
		}
		n, err := strconv.ParseFloat(num, 64)
		if err != nil || n*float64(day) >= math.MaxInt64 {
			return bad()
		}
		days = time.Duration(n * float64(day))
		t = t[i+1:]
		if t == "" {
			return sign * days, ""
		}
	}
	if t == "" || t[0] == '-' || t[0] == '+' {
		return bad()
	}
	rest, err := time.ParseDuration(t)
	if err != nil || days > math.MaxInt64-rest {
		return bad()
	}
	return sign * (days + rest), ""
}

// formatDuration writes d compactly with the units parseDuration reads:
// "2d", "15m", "1h30m", "1d12h", "500ms".
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		if d == math.MinInt64 {
			return d.String()
		}
		d = -d
	}
	if d%time.Second != 0 {
		if d >= day {
			fmt.Fprintf(&b, "%dd", d/day)
			d %= day
		}
		b.WriteString(d.String())
		return b.String()
	}
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if d >= u.unit {
			fmt.Fprintf(&b, "%d%s", d/u.unit, u.name)
			d %= u.unit
		}
	}
	return b.String()
}

// checkDuration checks a duration against the key's range, which is
// given in seconds.
func checkDuration(d *keyDef, v time.Duration) (any, *valueError) {
	if d.min != noMin && v < time.Duration(d.min)*time.Second {
		return nil, invalid("want a duration >= %s, have %s", formatDuration(time.Duration(d.min)*time.Second), formatDuration(v))
	}
	if d.max != 0 && v > time.Duration(d.max)*time.Second {
		return nil, invalid("want a duration <= %s, have %s", formatDuration(time.Duration(d.max)*time.Second), formatDuration(v))
	}
	return v, nil
}

func checkInt(d *keyDef, n int64) (any, *valueError) {
	lo, hi := d.min, d.max
	if lo == noMin {
		lo = math.MinInt32
	}
	if hi == 0 {
		hi = math.MaxInt32
	}
	switch {
	case n < lo && d.min == noMin:
		return nil, invalid("%d is out of range", n)
	case n < lo:
		return nil, invalid("want an integer >= %d, have %d", lo, n)
	case n > hi:
		return nil, invalid("want an integer <= %d, have %d", hi, n)
	}
	return int(n), nil
}

// checkText refuses strings that no file name, URL or command word may
// hold: a NUL byte, or invalid UTF-8.
func checkText(s string) *valueError {
	if strings.IndexByte(s, 0) >= 0 {
		return invalid("value holds a NUL byte")
	}
	if !utf8.ValidString(s) {
		return invalid("value is not valid UTF-8")
	}
	return nil
}

// checkName checks a distro name, a component or a file name in a list: not
// empty, no whitespace, no control characters. A "/" is allowed, as in the
// distro "wheezy/updates".
func checkName(s string) *valueError {
	if s == "" {
		return invalid("empty name")
	}
	if err := checkText(s); err != nil {
		return err
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return invalid("name %s holds a space or control character", quote(s))
		}
	}
	return nil
}

// reservedTables are top-level tables that cannot be section names.
var reservedTables = map[string]bool{"global": true, "distros": true, "supervisor": true}

// checkSectionName checks a section name by the farm's one rule,
// [piuparts.ValidSectionName] (also what the protocol accepts), and that
// it is not a reserved table name. The message says why a name is refused.
func checkSectionName(s string) *valueError {
	if err := checkName(s); err != nil {
		return err
	}
	switch {
	case reservedTables[s]:
		return invalid("section name %s is reserved", quote(s))
	case piuparts.ValidSectionName(s):
		return nil
	case s == "." || s == "..":
		return invalid("section name %s is not a directory name", quote(s))
	case strings.ContainsAny(s, `/\`):
		return invalid("section name %s holds a slash", quote(s))
	case strings.HasPrefix(s, "-"):
		return invalid("section name %s starts with \"-\"", quote(s))
	case strings.HasPrefix(s, "."):
		return invalid("section name %s starts with \".\" (a hidden directory)", quote(s))
	case len(s) > piuparts.MaxSectionName:
		return invalid("section name %s is longer than %d bytes", quote(s), piuparts.MaxSectionName)
	}
	return invalid("section name %s holds a character a directory or protocol word may not", quote(s))
}
