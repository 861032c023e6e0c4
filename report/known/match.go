package known

import (
	"bytes"
	"fmt"
	"regexp"
	"regexp/syntax"
	"unicode/utf8"

	"piuparts-server/internal/piuparts"
)

// prefilterPos is the position has_problem's whole-log search starts at:
// it passes re.MULTILINE (8) where search takes pos.
const prefilterPos = 8

// pattern is a compiled PATTERN or EXCLUDE_PATTERN.
type pattern struct {
	src  string
	line *regexp.Regexp // the translation, for a line and for the log from pos 8
	// whole is set when the translation holds an assertion that looks
	// before the position (^, \A, \b, \B): it skips 8 characters itself,
	// so that the search sees the real text before position 8.
	whole *regexp.Regexp
	// lits are strings one of which every match contains; nil when
	// there are none to go by.
	lits [][]byte
	// asserts is set when the translation holds ^, $, \A, \z, \b or \B,
	// so that a match in a line need not be one in the whole log.
	asserts bool
}

// compilePattern translates and compiles a Python expression.
func compilePattern(src string) (*pattern, error) {
	goSrc, err := translate(src)
	if err != nil {
		return nil, err
	}
	re, err := compileGo(src, goSrc)
	if err != nil {
		return nil, err
	}
	p := &pattern{src: src, line: re}
	tree, err := syntax.Parse(goSrc, syntax.Perl)
	if err != nil {
		return nil, &PatternError{Pattern: src, Msg: "not supported by Go's regexp: " + err.Error()}
	}
	tree = tree.Simplify()
	p.asserts = hasAssertion(tree)
	if looksBehind(tree) {
		w := fmt.Sprintf(`\A(?s:.{%d}|.{0,%d}\z)(?s:.)*?(?:%s)`, prefilterPos, prefilterPos-1, goSrc)
		if p.whole, err = compileGo(src, w); err != nil {
			return nil, err
		}
	}
	if set := required(tree); set != nil {
		for _, s := range set {
			p.lits = append(p.lits, []byte(s))
		}
	}
	return p, nil
}

// looksBehind reports whether the expression holds an assertion that
// depends on the text before the position it is tried at.
func looksBehind(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpBeginText, syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	}
	for _, s := range re.Sub {
		if looksBehind(s) {
			return true
		}
	}
	return false
}

// hasAssertion reports whether the expression holds an empty-width
// assertion.
func hasAssertion(re *syntax.Regexp) bool {
	switch re.Op {
	case syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return true
	}
	for _, s := range re.Sub {
		if hasAssertion(s) {
			return true
		}
	}
	return false
}

// searchFrom8 reports whether the pattern matches text searched from the
// eighth character on, as Python's compiled.search(text, 8) does: ^ and \A
// never match there (the text does not start at the position), and a text
// shorter than that is searched at its end only.
func (p *pattern) searchFrom8(text []byte) bool {
	if p.whole != nil {
		return p.whole.Match(text)
	}
	off := 0
	for n := 0; n < prefilterPos && off < len(text); n++ {
		if c := text[off]; c < utf8.RuneSelf {
			off++
			continue
		}
		_, size := utf8.DecodeRune(text[off:])
		off += size
	}
	return p.line.Match(text[off:])
}

// mayMatch reports whether b holds one of the pattern's literals, which
// every match holds.
func (p *pattern) mayMatch(b []byte) bool {
	if p.lits == nil {
		return true
	}
	for _, l := range p.lits {
		if bytes.Contains(b, l) {
			return true
		}
	}
	return false
}

// Match reports whether the log shows the problem, as has_problem decides
// for a log directory in WHERE (Match does not look at WHERE; [Classify]
// does). The log is read as Python reads it (see [Decode]); the pattern
// must then match somewhere from its eighth character on (has_problem's
// first search passes re.MULTILINE as the position), and on one line, in
// the sense of Python's str.splitlines, that EXCLUDE_PATTERN does not
// match.
func (p *Problem) Match(log []byte) bool {
	return p.match(Decode(log))
}

// match is Match on a decoded log.
func (p *Problem) match(text []byte) bool {
	if !p.inc.mayMatch(text) || !p.inc.searchFrom8(text) {
		return false
	}
	hit := false
	eachLine(text, func(line []byte) bool {
		if p.inc.mayMatch(line) && p.inc.line.Match(line) &&
			(p.exc == nil || !p.exc.line.Match(line)) {
			hit = true
			return false
		}
		return true
	})
	return hit
}

// Classify returns the names of the known problems a log of the kind
// shows, in the order of ps, as make_kprs decides: the problems whose
// WHERE holds the kind and that [Problem.Match] the log, and for a log
// that is not a pass log and matched none, [Unclassified] alone.
//
// It reads the log once for the literals of all the problems (see
// scan.go) and tries a problem's expressions only on the lines that hold
// one of its literals.
func Classify(kind piuparts.Kind, log []byte, ps []*Problem) []string {
	text := Decode(log)
	var s scanner
	var slow []*Problem // problems without literals long enough to scan for
	applies := make([]bool, len(ps))
	for i, p := range ps {
		if !p.appliesTo(string(kind)) {
			continue
		}
		applies[i] = true
		if !s.add(i, p.inc.lits) {
			slow = append(slow, p)
		}
	}
	s.scan(text)
	var hits []string
	for i, p := range ps {
		if !applies[i] {
			continue
		}
		var hit bool
		if contains(slow, p) {
			hit = p.match(text)
		} else {
			hit = p.matchAt(text, s.found(i))
		}
		if hit {
			hits = append(hits, p.Name)
		}
	}
	if kind != piuparts.KindPass && len(hits) == 0 {
		hits = []string{Unclassified}
	}
	return hits
}

func contains(ps []*Problem, p *Problem) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// matchAt is match when the positions of all the occurrences of the
// problem's literals in text are known (ascending): only the lines that
// hold one are tried.
func (p *Problem) matchAt(text []byte, at []int) bool {
	lineEnd := -1
	for _, pos := range at {
		if pos < lineEnd {
			continue // on the line just tried
		}
		start, end := lineAround(text, pos)
		lineEnd = end
		line := text[start:end]
		if !p.inc.line.Match(line) || (p.exc != nil && p.exc.line.Match(line)) {
			continue
		}
		// A match on a line from the eighth character on is a match of
		// the whole-log search, unless an assertion looks around it.
		if !p.inc.asserts && (start >= 4*prefilterPos || utf8.RuneCount(text[:start]) >= prefilterPos) {
			return true
		}
		return p.inc.searchFrom8(text)
	}
	return false
}

// Decode returns a log as make_kprs reads it (open(path, 'r',
// errors='backslashreplace') in a UTF-8 locale): each byte that is not
// part of valid UTF-8 becomes the four characters \xNN (lowercase hex),
// and "\r\n" and a lone "\r" become "\n". It returns log itself when
// there is nothing to change.
func Decode(log []byte) []byte {
	if utf8.Valid(log) {
		return universalNewlines(log)
	}
	const hexDigits = "0123456789abcdef"
	out := make([]byte, 0, len(log)+64)
	for b := log; len(b) > 0; {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = append(out, '\\', 'x', hexDigits[b[0]>>4], hexDigits[b[0]&15])
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return universalNewlines(out)
}

// eachLine calls fn with each line of text as Python's str.splitlines
// cuts it: at "\n", "\r", "\r\n", "\v", "\f", "\x1c", "\x1d", "\x1e",
// U+0085, U+2028 and U+2029, with no empty line after a final line end.
// It stops when fn returns false.
func eachLine(text []byte, fn func([]byte) bool) {
	start := 0
	for i := 0; i < len(text); {
		c := text[i]
		n := 0 // length of the line end at i
		switch {
		case c == '\n' || c == '\v' || c == '\f' || c == 0x1c || c == 0x1d || c == 0x1e:
			n = 1
		case c == '\r':
			n = 1
			if i+1 < len(text) && text[i+1] == '\n' {
				n = 2
			}
		case c == 0xc2 && i+1 < len(text) && text[i+1] == 0x85:
			n = 2
		case c == 0xe2 && i+2 < len(text) && text[i+1] == 0x80 && (text[i+2] == 0xa8 || text[i+2] == 0xa9):
			n = 3
		}
		if n == 0 {
			i++
			continue
		}
		if !fn(text[start:i]) {
			return
		}
		i += n
		start = i
	}
	if start < len(text) {
		fn(text[start:])
	}
}

// maxLits bounds the literal sets required builds.
const maxLits = 16

// required returns strings one of which every match of re contains, or
// nil when it finds none worth checking.
func required(re *syntax.Regexp) []string {
	set := req(re)
	if set == nil {
		return nil
	}
	for _, s := range set {
		if s == "" {
			return nil
		}
	}
	return set
}

// exact returns the finite set of strings re matches, when small enough.
func exact(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(out) == maxLits {
					return nil, false
				}
				out = append(out, string(r))
			}
		}
		return out, len(out) > 0
	case syntax.OpCapture:
		return exact(re.Sub[0])
	case syntax.OpQuest:
		s, ok := exact(re.Sub[0])
		if !ok || len(s) == maxLits {
			return nil, false
		}
		return append(s, ""), true
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			s, ok := exact(sub)
			if !ok || len(out)*len(s) > maxLits {
				return nil, false
			}
			out = cross(out, s)
		}
		return out, true
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			s, ok := exact(sub)
			if !ok || len(out)+len(s) > maxLits {
				return nil, false
			}
			out = append(out, s...)
		}
		return out, true
	}
	return nil, false
}

func cross(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out
}

// score rates a literal set: the length of its shortest string (longer
// literals reject more logs), 0 for nil or a set holding "".
func score(set []string) int {
	if set == nil {
		return 0
	}
	m := -1
	for _, s := range set {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}

// req returns a set of strings one of which every match of re contains.
func req(re *syntax.Regexp) []string {
	if s, ok := exact(re); ok {
		return s
	}
	switch re.Op {
	case syntax.OpCapture:
		return req(re.Sub[0])
	case syntax.OpPlus:
		return req(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return req(re.Sub[0])
		}
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			s := req(sub)
			if score(s) == 0 || len(out)+len(s) > maxLits {
				return nil
			}
			out = append(out, s...)
		}
		return out
	case syntax.OpConcat:
		// The best of: each run of exact children (their product), and
		// each other child's own set.
		var best []string
		consider := func(s []string) {
			if score(s) > score(best) {
				best = s
			}
		}
		run := []string{""}
		for _, sub := range re.Sub {
			if s, ok := exact(sub); ok && len(run)*len(s) <= maxLits {
				run = cross(run, s)
				continue
			}
			consider(run)
			run = []string{""}
			if s, ok := exact(sub); ok {
				run = s
				continue
			}
			consider(req(sub))
		}
		consider(run)
		return best
	}
	return nil
}
