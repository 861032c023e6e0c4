package known

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// PatternError is a PATTERN or EXCLUDE_PATTERN that is not a Python
// regular expression, or uses what Go's regexp cannot do (backreferences,
// lookaround, conditionals, atomic groups, possessive quantifiers, \N{...},
// repeat counts over 1000).
type PatternError struct {
	Pattern string // the expression, as written
	Offset  int    // byte offset of the problem in Pattern
	Msg     string
}

// Error returns the message, the offset and the pattern (cut to 80 bytes).
func (e *PatternError) Error() string {
	return fmt.Sprintf("%s at offset %d of %q", e.Msg, e.Offset, cut(e.Pattern))
}

// Character classes of Python's re for str patterns, written for Go.
const (
	pyDigit      = `\p{Nd}`
	pyWord       = `\p{L}\p{N}_`
	pySpace      = `\t-\r\x1c- \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`
	pyDigitASCII = `0-9`
	pyWordASCII  = `0-9A-Za-z_`
	pySpaceASCII = `\t-\r `
)

// pyFlags are the flags of Python's re that change the translation.
type pyFlags struct {
	multiline bool // re.M: ^ and $ at line ends
	verbose   bool // re.X: white space and # comments ignored
	ascii     bool // re.A: \d \w \s \b are ASCII only
}

// translator turns one Python expression into Go syntax.
type translator struct {
	src   string
	i     int
	out   strings.Builder
	stack []pyFlags // flags of the enclosing groups
	fl    pyFlags
}

// translate returns the Go syntax of a Python (3.11) regular expression
// with the same matches on valid UTF-8 text, except that \b and \B are
// ASCII word boundaries in Go, and that Python's $ (without re.M, which
// is zero-width before a final "\n") becomes "\n?\z", which consumes that
// newline: the same texts match, but a pattern that goes on after $ to
// match that newline does not.
func translate(src string) (string, error) {
	if !utf8.ValidString(src) {
		return "", &PatternError{Pattern: src, Msg: "not UTF-8"}
	}
	t := &translator{src: src}
	if err := t.run(); err != nil {
		return "", err
	}
	return t.out.String(), nil
}

func (t *translator) errf(off int, format string, args ...any) error {
	return &PatternError{Pattern: t.src, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (t *translator) run() error {
	// Global flags: Python 3.11 takes them only at the start.
	goFlags := ""
	for strings.HasPrefix(t.src[t.i:], "(?") {
		j := t.i + 2
		for j < len(t.src) && strings.IndexByte("aiLmsux", t.src[j]) >= 0 {
			j++
		}
		if j == t.i+2 || j >= len(t.src) || t.src[j] != ')' {
			break
		}
		for _, c := range t.src[t.i+2 : j] {
			switch c {
			case 'i', 's':
				if !strings.ContainsRune(goFlags, c) {
					goFlags += string(c)
				}
			case 'm':
				t.fl.multiline = true
			case 'x':
				t.fl.verbose = true
			case 'a':
				t.fl.ascii = true
			case 'L':
				return t.errf(t.i, "cannot use LOCALE flag with a str pattern")
			}
		}
		t.i = j + 1
	}
	if goFlags != "" {
		t.out.WriteString("(?" + goFlags + ")")
	}
	for t.i < len(t.src) {
		if err := t.step(); err != nil {
			return err
		}
	}
	if len(t.stack) > 0 {
		return t.errf(len(t.src), "missing ), unterminated subpattern")
	}
	return nil
}

// step translates one item outside a character class.
func (t *translator) step() error {
	start := t.i
	r, n := utf8.DecodeRuneInString(t.src[t.i:])
	t.i += n
	switch r {
	case '\\':
		return t.escape(start)
	case '[':
		return t.class(start)
	case '(':
		return t.group(start)
	case ')':
		if len(t.stack) == 0 {
			return t.errf(start, "unbalanced parenthesis")
		}
		t.fl = t.stack[len(t.stack)-1]
		t.stack = t.stack[:len(t.stack)-1]
		t.out.WriteByte(')')
	case '|', '.':
		t.out.WriteRune(r)
	case '^':
		if t.fl.multiline {
			t.out.WriteString(`(?m:^)`)
		} else {
			t.out.WriteString(`\A`)
		}
	case '$':
		if t.fl.multiline {
			t.out.WriteString(`(?m:$)`)
		} else {
			t.out.WriteString(`(?:\n?\z)`)
		}
	case '*', '+', '?':
		t.out.WriteRune(r)
		return t.lazy()
	case '{':
		if m, ok := t.repeat(); ok {
			t.out.WriteString(m)
			return t.lazy()
		}
		t.out.WriteString(`\{`)
	case '#':
		if t.fl.verbose {
			for t.i < len(t.src) && t.src[t.i] != '\n' {
				t.i++
			}
			return nil
		}
		t.literal(r)
	case ' ', '\t', '\n', '\r', '\v', '\f':
		if !t.fl.verbose {
			t.literal(r)
		}
	default:
		t.literal(r)
	}
	return nil
}

// lazy copies the "?" of a lazy quantifier and refuses a possessive "+".
func (t *translator) lazy() error {
	if t.i < len(t.src) {
		switch t.src[t.i] {
		case '?':
			t.out.WriteByte('?')
			t.i++
		case '+':
			return t.errf(t.i, "possessive quantifiers are not supported")
		}
	}
	return nil
}

// repeat parses {m}, {m,}, {,n} or {m,n} after the "{"; anything else is
// a literal "{" to Python.
func (t *translator) repeat() (string, bool) {
	j := t.i
	digits := func() string {
		k := j
		for j < len(t.src) && t.src[j] >= '0' && t.src[j] <= '9' {
			j++
		}
		return t.src[k:j]
	}
	lo := digits()
	hi, comma := lo, false
	if j < len(t.src) && t.src[j] == ',' {
		comma = true
		j++
		hi = digits()
	}
	if j >= len(t.src) || t.src[j] != '}' || (lo == "" && !comma) {
		return "", false
	}
	t.i = j + 1
	if lo == "" {
		lo = "0"
	}
	if !comma {
		return "{" + lo + "}", true
	}
	return "{" + lo + "," + hi + "}", true
}

// literal writes one character, quoted for Go.
func (t *translator) literal(r rune) {
	if r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == ' ' || r == '_' || r == ':' || r == '/' || r == ',' || r == '-' || r == '\'' || r == '"' || r == '=' || r == '<' || r == '>' || r == '@' || r == '!' || r == '%' || r == '&' || r == ';' || r == '~' || r == '`') {
		t.out.WriteRune(r)
		return
	}
	fmt.Fprintf(&t.out, `\x{%x}`, r)
}

// group translates what follows a "(".
func (t *translator) group(start int) error {
	rest := t.src[t.i:]
	if !strings.HasPrefix(rest, "?") {
		t.push()
		t.out.WriteByte('(')
		return nil
	}
	switch {
	case strings.HasPrefix(rest, "?:"):
		t.i += 2
		t.push()
		t.out.WriteString("(?:")
		return nil
	case strings.HasPrefix(rest, "?P<"):
		end := strings.IndexByte(rest, '>')
		if end < 0 || end == 3 {
			return t.errf(start, "bad group name")
		}
		t.i += end + 1
		t.push()
		t.out.WriteByte('(')
		return nil
	case strings.HasPrefix(rest, "?#"):
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return t.errf(start, "missing ), unterminated comment")
		}
		t.i += end + 1
		return nil
	case strings.HasPrefix(rest, "?P="), strings.HasPrefix(rest, "?("):
		return t.errf(start, "backreferences are not supported")
	case strings.HasPrefix(rest, "?="), strings.HasPrefix(rest, "?!"),
		strings.HasPrefix(rest, "?<="), strings.HasPrefix(rest, "?<!"):
		return t.errf(start, "lookaround is not supported")
	case strings.HasPrefix(rest, "?>"):
		return t.errf(start, "atomic groups are not supported")
	}
	// Scoped flags (?imsx-imsx:...); global ones here are an error in 3.11.
	j := 1
	on, off, minus := "", "", false
	for j < len(rest) && strings.IndexByte("aiLmsux-", rest[j]) >= 0 {
		switch {
		case rest[j] == '-':
			if minus {
				return t.errf(start, "bad inline flags")
			}
			minus = true
		case minus:
			off += string(rest[j])
		default:
			on += string(rest[j])
		}
		j++
	}
	if j >= len(rest) || (on == "" && off == "") {
		return t.errf(start, "unknown extension")
	}
	if rest[j] == ')' {
		return t.errf(start, "global flags not at the start of the expression")
	}
	if rest[j] != ':' || (minus && off == "") {
		return t.errf(start, "unknown flag")
	}
	t.i += j + 1
	t.push()
	goOn, goOff := "", ""
	for _, c := range on {
		switch c {
		case 'i', 's':
			goOn += string(c)
		case 'm':
			t.fl.multiline = true
		case 'u':
		default:
			return t.errf(start, "flag %c in a group is not supported", c)
		}
	}
	for _, c := range off {
		switch c {
		case 'i', 's':
			goOff += string(c)
		case 'm':
			t.fl.multiline = false
		default:
			return t.errf(start, "flag %c in a group is not supported", c)
		}
	}
	t.out.WriteString("(?")
	t.out.WriteString(goOn)
	if goOff != "" {
		t.out.WriteString("-" + goOff)
	}
	t.out.WriteByte(':')
	return nil
}

func (t *translator) push() { t.stack = append(t.stack, t.fl) }

// classes returns the Go class bodies (without brackets) of \d, \w, \s.
func (t *translator) classBody(c byte) string {
	switch c {
	case 'd', 'D':
		if t.fl.ascii {
			return pyDigitASCII
		}
		return pyDigit
	case 'w', 'W':
		if t.fl.ascii {
			return pyWordASCII
		}
		return pyWord
	default:
		if t.fl.ascii {
			return pySpaceASCII
		}
		return pySpace
	}
}

// escape translates the escape after a "\" outside a class.
func (t *translator) escape(start int) error {
	if t.i >= len(t.src) {
		return t.errf(start, "bad escape (end of pattern)")
	}
	c := t.src[t.i]
	switch c {
	case 'd', 'w', 's':
		t.i++
		t.out.WriteString("[" + t.classBody(c) + "]")
		return nil
	case 'D', 'W', 'S':
		t.i++
		t.out.WriteString("[^" + t.classBody(c) + "]")
		return nil
	case 'b':
		t.i++
		t.out.WriteString(`\b`)
		return nil
	case 'B':
		t.i++
		t.out.WriteString(`\B`)
		return nil
	case 'A':
		t.i++
		t.out.WriteString(`\A`)
		return nil
	case 'Z':
		t.i++
		t.out.WriteString(`\z`)
		return nil
	}
	if c >= '1' && c <= '9' {
		// \123 is octal, \1 and \12 are backreferences.
		if t.i+2 < len(t.src) && isOctal(c) && isOctal(t.src[t.i+1]) && isOctal(t.src[t.i+2]) {
			v, _ := strconv.ParseUint(t.src[t.i:t.i+3], 8, 32)
			if v > 0o377 {
				return t.errf(start, "octal escape value outside of range 0-0o377")
			}
			t.i += 3
			t.literal(rune(v))
			return nil
		}
		return t.errf(start, "backreferences are not supported")
	}
	r, err := t.charEscape(start)
	if err != nil {
		return err
	}
	t.literal(r)
	return nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// charEscape reads an escape that stands for one character: \0 octal, \x,
// \u, \U, \a \f \n \r \t \v, or an escaped character that is not an ASCII
// letter or digit. t.i is at the character after the "\".
func (t *translator) charEscape(start int) (rune, error) {
	c := t.src[t.i]
	hex := func(n int) (rune, error) {
		if t.i+1+n > len(t.src) || !isHex(t.src[t.i+1:t.i+1+n]) {
			return 0, t.errf(start, "incomplete escape \\%c", c)
		}
		v, _ := strconv.ParseUint(t.src[t.i+1:t.i+1+n], 16, 32)
		t.i += 1 + n
		if v > utf8.MaxRune || (v >= 0xd800 && v <= 0xdfff) {
			// Python accepts surrogates, which no decoded log holds; Go
			// cannot write them. Refuse them rather than match wrongly.
			return 0, t.errf(start, "bad escape \\%c: not a character Go can match", c)
		}
		return rune(v), nil
	}
	switch c {
	case 'x':
		return hex(2)
	case 'u':
		return hex(4)
	case 'U':
		return hex(8)
	case '0':
		j := t.i + 1
		for j < len(t.src) && j < t.i+3 && isOctal(t.src[j]) {
			j++
		}
		v, _ := strconv.ParseUint(t.src[t.i:j], 8, 32)
		t.i = j
		return rune(v), nil
	case 'a':
		t.i++
		return '\a', nil
	case 'f':
		t.i++
		return '\f', nil
	case 'n':
		t.i++
		return '\n', nil
	case 'r':
		t.i++
		return '\r', nil
	case 't':
		t.i++
		return '\t', nil
	case 'v':
		t.i++
		return '\v', nil
	case 'N':
		return 0, t.errf(start, `\N{...} is not supported`)
	}
	if c < utf8.RuneSelf && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
		return 0, t.errf(start, "bad escape \\%c", c)
	}
	r, n := utf8.DecodeRuneInString(t.src[t.i:])
	t.i += n
	return r, nil
}

// class translates a character class; t.i is after the "[".
func (t *translator) class(start int) error {
	var items []string // Go class items
	var negItems []string
	negate := false
	if t.i < len(t.src) && t.src[t.i] == '^' {
		negate = true
		t.i++
	}
	first := true
	for {
		if t.i >= len(t.src) {
			return t.errf(start, "unterminated character set")
		}
		if t.src[t.i] == ']' && !first {
			t.i++
			break
		}
		first = false
		itemStart := t.i
		lo, set, err := t.classAtom(start)
		if err != nil {
			return err
		}
		if set != "" {
			if strings.HasPrefix(set, "^") {
				negItems = append(negItems, set[1:])
			} else {
				items = append(items, set)
			}
			continue
		}
		// A range lo-hi, unless the "-" ends the class.
		if t.i+1 < len(t.src) && t.src[t.i] == '-' && t.src[t.i+1] != ']' {
			t.i++
			hi, hiSet, err := t.classAtom(start)
			if err != nil {
				return err
			}
			if hiSet != "" {
				return t.errf(itemStart, "bad character range")
			}
			if hi < lo {
				return t.errf(itemStart, "bad character range")
			}
			items = append(items, fmt.Sprintf(`\x{%x}-\x{%x}`, lo, hi))
			continue
		}
		items = append(items, fmt.Sprintf(`\x{%x}`, lo))
	}
	switch {
	case len(negItems) == 0:
		if len(items) == 0 {
			return t.errf(start, "empty class")
		}
		t.out.WriteByte('[')
		if negate {
			t.out.WriteByte('^')
		}
		t.out.WriteString(strings.Join(items, ""))
		t.out.WriteByte(']')
	case len(negItems) == 1 && len(items) == 0:
		// [\W] is [^\w], [^\W] is [\w].
		if negate {
			t.out.WriteString("[" + negItems[0] + "]")
		} else {
			t.out.WriteString("[^" + negItems[0] + "]")
		}
	case !negate:
		// [\Wx]: either the complement or one of the items.
		t.out.WriteString("(?:")
		for i, n := range negItems {
			if i > 0 {
				t.out.WriteByte('|')
			}
			t.out.WriteString("[^" + n + "]")
		}
		if len(items) > 0 {
			t.out.WriteString("|[" + strings.Join(items, "") + "]")
		}
		t.out.WriteByte(')')
	default:
		return t.errf(start, `\D, \W or \S in a negated class with other items is not supported`)
	}
	return nil
}

// classAtom reads one character of a class, or a class escape (\d ...,
// returned as set, with a leading "^" for \D \W \S).
func (t *translator) classAtom(start int) (r rune, set string, err error) {
	if t.src[t.i] != '\\' {
		r, n := utf8.DecodeRuneInString(t.src[t.i:])
		t.i += n
		return r, "", nil
	}
	escStart := t.i
	t.i++
	if t.i >= len(t.src) {
		return 0, "", t.errf(escStart, "bad escape (end of pattern)")
	}
	c := t.src[t.i]
	switch c {
	case 'd', 'w', 's':
		t.i++
		return 0, t.classBody(c), nil
	case 'D', 'W', 'S':
		t.i++
		return 0, "^" + t.classBody(c), nil
	case 'b':
		t.i++
		return '\b', "", nil
	}
	if c >= '1' && c <= '7' {
		// Octal: up to three digits in a class.
		j := t.i
		for j < len(t.src) && j < t.i+3 && isOctal(t.src[j]) {
			j++
		}
		v, _ := strconv.ParseUint(t.src[t.i:j], 8, 32)
		if v > 0o377 {
			return 0, "", t.errf(escStart, "octal escape value outside of range 0-0o377")
		}
		t.i = j
		return rune(v), "", nil
	}
	r, err = t.charEscape(escStart)
	return r, "", err
}

// compileGo compiles a translated expression, reporting Go's refusal
// (e.g. a repeat count over 1000) as a *PatternError.
func compileGo(src, goSrc string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(goSrc)
	if err != nil {
		return nil, &PatternError{Pattern: src, Msg: "not supported by Go's regexp: " + err.Error()}
	}
	return re, nil
}
