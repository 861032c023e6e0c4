package known

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"
)

// requiredKeys are the keys a known-problem file must have, as dwke.py's
// Problem lists them (EXCLUDE_PATTERN, EXPLAIN and PRIORITY are optional).
var requiredKeys = []string{"PATTERN", "WHERE", "ISSUE", "HEADER", "HELPTEXT"}

// Unclassified is the known problem a failed log gets when no other one
// matched it (make_kprs adds it even when the section excludes the file).
const Unclassified = "unclassified_failures.conf"

// Problem is one known problem: a file NAME.conf of the known-problem
// directory, as dwke.py's Problem reads it.
type Problem struct {
	// Name is the file name, "dependency_error.conf"; the .kpr files and
	// the section's exclude-known-problems key use it.
	Name string
	// Pattern is PATTERN, a Python regular expression that a line of the
	// log must contain.
	Pattern string
	// ExcludePattern is EXCLUDE_PATTERN: a line it matches does not count.
	// Empty when the file has none (the format allows no empty value).
	ExcludePattern string
	// Where are the words of WHERE, the log directories (pass, fail,
	// bugged, affected) whose logs the problem applies to, split at each
	// single space as Python's str.split(" ") does.
	Where []string
	// Issue is ISSUE as written ("0" or "1"); the report goes by the file
	// name's suffix instead.
	Issue string
	// Header is HEADER, the title of the problem's page.
	Header string
	// Helptext is HELPTEXT, the HTML that explains the problem.
	Helptext string
	// Explain and Priority are EXPLAIN and PRIORITY, which the format
	// allows and nothing uses.
	Explain, Priority string

	inc, exc *pattern
}

// ParseError is a known-problem file that dwke.py would skip (or crash on):
// a missing, unknown or empty key, a value that is not a regular
// expression, or a file that is not UTF-8.
type ParseError struct {
	File string // the file name, "dependency_error.conf"
	Line int    // 1-based line of the key, 0 for the whole file
	Key  string // the key concerned, if any
	Err  error  // what is wrong
}

// Error returns "file.conf:12: unknown key FOO" and the like.
func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

// Unwrap returns the cause, e.g. a *PatternError.
func (e *ParseError) Unwrap() error { return e.Err }

// Sentinel causes of a ParseError.
var (
	// ErrUnknownKey is a key dwke.py does not know (it skips the file).
	ErrUnknownKey = errors.New("unknown key")
	// ErrMissingKey is a required key the file lacks.
	ErrMissingKey = errors.New("missing key")
	// ErrEmptyValue is a key with nothing after "=" but newlines
	// (dwke.py raises IndexError on it).
	ErrEmptyValue = errors.New("empty value")
	// ErrNoEquals is a "<hdr>" in a value that starts a chunk without
	// "=" (dwke.py raises ValueError on it).
	ErrNoEquals = errors.New(`"<hdr>" starts a chunk without "="`)
	// ErrNotUTF8 is a file that is not UTF-8 (Python fails to decode it).
	ErrNotUTF8 = errors.New("not UTF-8")
)

// Parse reads a known-problem file as dwke.py's Problem.init_problem does.
// name is the file's base name. The body is cut before every line that
// starts with KEY= (KEY made of A-Z and _), and before every "<hdr>" in it
// (dwke.py marks the cuts with that string); text before the first key is
// ignored. A value loses its trailing newlines, then its first and last
// character when a line of it starts with a quote and a later line ends
// with the same quote ('...' or "..."). Line ends are read as Python's
// universal newlines ("\r\n" and "\r" are "\n"). A key given twice keeps
// its last value.
//
// It returns a *ParseError wrapping ErrUnknownKey, ErrMissingKey,
// ErrEmptyValue, ErrNoEquals, ErrNotUTF8 or a *PatternError (PATTERN and
// EXCLUDE_PATTERN must be Python regular expressions this package can
// translate).
func Parse(name string, data []byte) (*Problem, error) {
	body := universalNewlines(data)
	if !utf8.Valid(body) {
		return nil, &ParseError{File: name, Line: badUTF8Line(body), Err: ErrNotUTF8}
	}
	text := string(body)
	p := &Problem{Name: name}
	seen := map[string]int{}
	var firstErr error
	fail := func(line int, key string, err error) {
		if firstErr == nil {
			firstErr = &ParseError{File: name, Line: line, Key: key, Err: err}
		}
	}
	for _, c := range chunks(text) {
		key, value, ok := strings.Cut(c.text, "=")
		if !ok {
			fail(c.line, "", ErrNoEquals)
			continue
		}
		value = strings.TrimRight(value, "\n")
		if value == "" {
			fail(c.line, key, fmt.Errorf("%w for %s", ErrEmptyValue, key))
			continue
		}
		value = stripQuotes(value)
		switch key {
		case "PATTERN":
			p.Pattern = value
		case "EXCLUDE_PATTERN":
			p.ExcludePattern = value
		case "WHERE":
			p.Where = strings.Split(value, " ")
		case "ISSUE":
			p.Issue = value
		case "HEADER":
			p.Header = value
		case "HELPTEXT":
			p.Helptext = value
		case "EXPLAIN":
			p.Explain = value
		case "PRIORITY":
			p.Priority = value
		default:
			fail(c.line, key, fmt.Errorf("%w %s", ErrUnknownKey, quoteKey(key)))
			continue
		}
		seen[key] = c.line
	}
	if firstErr != nil {
		return nil, firstErr
	}
	for _, k := range requiredKeys {
		if _, ok := seen[k]; !ok {
			return nil, &ParseError{File: name, Key: k, Err: fmt.Errorf("%w %s", ErrMissingKey, k)}
		}
	}
	var err error
	if p.inc, err = compilePattern(p.Pattern); err != nil {
		return nil, &ParseError{File: name, Line: seen["PATTERN"], Key: "PATTERN", Err: fmt.Errorf("PATTERN: %w", err)}
	}
	if p.ExcludePattern != "" {
		if p.exc, err = compilePattern(p.ExcludePattern); err != nil {
			return nil, &ParseError{File: name, Line: seen["EXCLUDE_PATTERN"], Key: "EXCLUDE_PATTERN", Err: fmt.Errorf("EXCLUDE_PATTERN: %w", err)}
		}
	}
	return p, nil
}

// quoteKey quotes a key for an error unless it is a plain KEY.
func quoteKey(k string) string {
	for i := 0; i < len(k); i++ {
		if c := k[i]; !(c >= 'A' && c <= 'Z' || c == '_') {
			return fmt.Sprintf("%q", cut(k))
		}
	}
	return k
}

// cut returns the first 80 bytes of s, for outside input in an error.
func cut(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}

// universalNewlines turns "\r\n" and lone "\r" into "\n", as Python's
// text mode reads a file. It returns data itself when it holds no "\r".
func universalNewlines(data []byte) []byte {
	if bytes.IndexByte(data, '\r') < 0 {
		return data
	}
	out := make([]byte, 0, len(data))
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c == '\r' {
			if i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			c = '\n'
		}
		out = append(out, c)
	}
	return out
}

// badUTF8Line returns the 1-based line of the first byte that is not UTF-8.
func badUTF8Line(b []byte) int {
	line := 1
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		b = b[n:]
	}
	return line
}

// chunk is the text of one KEY=value, and the line it starts on.
type chunk struct {
	text string
	line int
}

// hdrMark is the string dwke.py inserts before each key and then splits
// at, so that one inside a value splits it too.
const hdrMark = "<hdr>"

// chunks cuts text as dwke.py does: before each line starting with
// [A-Z_]+= and at each "<hdr>"; the text before the first cut is dropped.
func chunks(text string) []chunk {
	var out []chunk
	line := 1
	start := -1 // start of the current chunk, -1 before the first
	startLine := 0
	flush := func(end int) {
		if start >= 0 {
			out = append(out, chunk{text: text[start:end], line: startLine})
		}
	}
	for i := 0; i <= len(text); {
		if i == len(text) {
			break
		}
		if (i == 0 || text[i-1] == '\n') && keyAt(text[i:]) {
			flush(i)
			start, startLine = i, line
		}
		if strings.HasPrefix(text[i:], hdrMark) {
			flush(i)
			i += len(hdrMark)
			start, startLine = i, line
			continue
		}
		if text[i] == '\n' {
			line++
		}
		i++
	}
	flush(len(text))
	return out
}

// keyAt reports whether s starts with [A-Z_]+=.
func keyAt(s string) bool {
	i := 0
	for i < len(s) && (s[i] >= 'A' && s[i] <= 'Z' || s[i] == '_') {
		i++
	}
	return i > 0 && i < len(s) && s[i] == '='
}

// stripQuotes drops the first and last character of v when
// re.search("^'.+'$", v, re.M|re.S) or the same with '"' matches: a line
// starting with the quote and a later point (one character on at least)
// that ends a line with it. The characters dropped need not be quotes.
func stripQuotes(v string) string {
	if !quoted(v, '\'') && !quoted(v, '"') {
		return v
	}
	_, first := utf8.DecodeRuneInString(v)
	_, last := utf8.DecodeLastRuneInString(v)
	if first+last > len(v) {
		return ""
	}
	return v[first : len(v)-last]
}

// quoted reports whether a line of v starts with q and a later line end
// (at least two bytes on) is q: the first such start and the last such end
// decide.
func quoted(v string, q byte) bool {
	open := -1
	for i := 0; i < len(v); i++ {
		if v[i] == q && (i == 0 || v[i-1] == '\n') {
			open = i
			break
		}
	}
	if open < 0 {
		return false
	}
	for j := len(v) - 1; j >= open+2; j-- {
		if v[j] == q && (j == len(v)-1 || v[j+1] == '\n') {
			return true
		}
	}
	return false
}

// Command returns the shell command the problem's page shows, as
// get_command builds it: grep -E "PATTERN", followed by
// | grep -v -E "EXCLUDE_PATTERN" when there is one. Nothing is escaped.
func (p *Problem) Command() string {
	cmd := `grep -E "` + p.Pattern + `"`
	if p.ExcludePattern != "" {
		cmd += ` | grep -v -E "` + p.ExcludePattern + `"`
	}
	return cmd
}

// LoadDir reads the known problems of a directory as create_problem_list
// does: the names ending in ".conf", sorted by name (byte order, which is
// Python's order of code points), unclassified_failures.conf among them in
// its place. A file that does not parse is left out, and its error (a
// *ParseError or a read error) is returned among errs; the others are
// returned all the same. A directory that cannot be listed gives no
// problems and its error.
func LoadDir(dir string) (ps []*Problem, errs []error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, []error{fmt.Errorf("load known problems: %w", err)}
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".conf") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // gone since the listing
			}
			errs = append(errs, fmt.Errorf("load known problem %s: %w", n, err))
			continue
		}
		p, err := Parse(n, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ps = append(ps, p)
	}
	return ps, errs
}

// Exclude returns the problems whose Name is not among names, in their
// order: a section's exclude-known-problems key (its words). ps is not
// changed.
func Exclude(ps []*Problem, names []string) []*Problem {
	if len(names) == 0 {
		return ps
	}
	drop := make(map[string]bool, len(names))
	for _, n := range names {
		drop[n] = true
	}
	out := make([]*Problem, 0, len(ps))
	for _, p := range ps {
		if !drop[p.Name] {
			out = append(out, p)
		}
	}
	return out
}

// appliesTo reports whether the problem's WHERE holds the log directory.
func (p *Problem) appliesTo(kind string) bool {
	for _, w := range p.Where {
		if w == kind {
			return true
		}
	}
	return false
}
