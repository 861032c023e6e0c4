package report

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"
)

// This file writes the two YAML files of the report, sources.yaml and
// sections.yaml, byte for byte as PyYAML's yaml.dump(data,
// default_flow_style=False) writes them: block sequences of strings or of
// string-to-string mappings, keys sorted, each string plain when PyYAML's
// resolver would read it back as a string and its emitter allows it,
// otherwise single-quoted, otherwise double-quoted with escapes; long
// quoted or spaced strings fold at 80 columns as PyYAML folds them.

// yamlWidth is PyYAML's best_width, yamlIndent its best_indent.
const (
	yamlWidth  = 80
	yamlIndent = 2
)

// yamlResolver is one of PyYAML's implicit resolvers: a pattern and the
// first characters it is tried for. Python's "$" also matches before a
// final newline, hence `\n?\z`.
type yamlResolver struct {
	first string // "" for the resolver of the empty string only
	re    *regexp.Regexp
}

// yamlResolvers are PyYAML's implicit resolvers (bool, float, int, merge,
// null, timestamp, value, yaml); a string matching one is not a plain
// string to YAML, so it is quoted.
var yamlResolvers = []yamlResolver{
	{"yYnNtTfFoO", regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)\n?\z`)},
	{"-+0123456789.", regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\n?\z`)},
	{"-+0123456789", regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)\n?\z`)},
	{"<", regexp.MustCompile(`^(?:<<)\n?\z`)},
	{"~nN", regexp.MustCompile(`^(?:~|null|Null|NULL|)\n?\z`)},
	{"", regexp.MustCompile(`^(?:~|null|Null|NULL|)\n?\z`)},
	{"0123456789", regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)\n?\z`)},
	{"=", regexp.MustCompile(`^(?:=)\n?\z`)},
	{"!&*", regexp.MustCompile(`^(?:!|&|\*)\n?\z`)},
}

// yamlImplicitString reports whether PyYAML's resolver reads s back as a
// string when it is written plain: no implicit resolver for its first
// character matches.
func yamlImplicitString(s string) bool {
	for _, r := range yamlResolvers {
		if s == "" {
			if r.first != "" {
				continue
			}
		} else {
			c, _ := utf8.DecodeRuneInString(s)
			if r.first == "" || !strings.ContainsRune(r.first, c) {
				continue
			}
		}
		if r.re.MatchString(s) {
			return false
		}
	}
	return true
}

// yamlAnalysis is what PyYAML's analyze_scalar finds in a string.
type yamlAnalysis struct {
	empty, multiline                   bool
	allowBlockPlain, allowSingleQuoted bool
}

func isYAMLBreak(c rune) bool { return c == '\n' || c == 0x85 || c == 0x2028 || c == 0x2029 }

func isYAMLSpace(c rune) bool { return c == 0 || c == ' ' || c == '\t' || c == '\r' || isYAMLBreak(c) }

// analyzeYAML decides which styles may write text (runes), as PyYAML's
// analyze_scalar does with allow_unicode off, for block context.
func analyzeYAML(text []rune) yamlAnalysis {
	if len(text) == 0 {
		return yamlAnalysis{empty: true, allowBlockPlain: true, allowSingleQuoted: true}
	}
	var blockIndicators, lineBreaks, special bool
	var leadingSpace, leadingBreak, trailingSpace, trailingBreak, breakSpace, spaceBreak bool
	s := string(text)
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		blockIndicators = true
	}
	precededByWS := true
	followedByWS := len(text) == 1 || isYAMLSpace(text[1])
	prevSpace, prevBreak := false, false
	for i, c := range text {
		if i == 0 {
			if strings.ContainsRune("#,[]{}&*!|>'\"%@`", c) {
				blockIndicators = true
			}
			if (c == '?' || c == ':') && followedByWS {
				blockIndicators = true
			}
			if c == '-' && followedByWS {
				blockIndicators = true
			}
		} else {
			if c == ':' && followedByWS {
				blockIndicators = true
			}
			if c == '#' && precededByWS {
				blockIndicators = true
			}
		}
		if isYAMLBreak(c) {
			lineBreaks = true
		}
		if c != '\n' && (c < 0x20 || c > 0x7e) {
			special = true // without allow_unicode every other character is special
		}
		switch {
		case c == ' ':
			if i == 0 {
				leadingSpace = true
			}
			if i == len(text)-1 {
				trailingSpace = true
			}
			if prevBreak {
				breakSpace = true
			}
			prevSpace, prevBreak = true, false
		case isYAMLBreak(c):
			if i == 0 {
				leadingBreak = true
			}
			if i == len(text)-1 {
				trailingBreak = true
			}
			if prevSpace {
				spaceBreak = true
			}
			prevSpace, prevBreak = false, true
		default:
			prevSpace, prevBreak = false, false
		}
		precededByWS = isYAMLSpace(c)
		followedByWS = i+2 >= len(text) || isYAMLSpace(text[i+2])
	}
	a := yamlAnalysis{multiline: lineBreaks, allowBlockPlain: true, allowSingleQuoted: true}
	if leadingSpace || leadingBreak || trailingSpace || trailingBreak {
		a.allowBlockPlain = false
	}
	if breakSpace {
		a.allowBlockPlain, a.allowSingleQuoted = false, false
	}
	if spaceBreak || special {
		a.allowBlockPlain, a.allowSingleQuoted = false, false
	}
	if lineBreaks || blockIndicators {
		a.allowBlockPlain = false
	}
	return a
}

// yamlEmitter is the state of PyYAML's emitter that the block styles use.
type yamlEmitter struct {
	w          *bufio.Writer
	column     int
	indent     int
	whitespace bool
	indention  bool
}

func newYAMLEmitter(w io.Writer) *yamlEmitter {
	return &yamlEmitter{w: bufio.NewWriterSize(w, 64<<10), whitespace: true, indention: true}
}

func (e *yamlEmitter) write(rs []rune) {
	for _, r := range rs {
		e.w.WriteRune(r)
	}
	e.column += len(rs)
}

func (e *yamlEmitter) writeString(s string) {
	e.w.WriteString(s)
	e.column += utf8.RuneCountInString(s)
}

func (e *yamlEmitter) indicator(ind string, needWhitespace, whitespace, indention bool) {
	if !e.whitespace && needWhitespace {
		ind = " " + ind
	}
	e.whitespace = whitespace
	e.indention = e.indention && indention
	e.writeString(ind)
}

func (e *yamlEmitter) writeIndent() {
	if !e.indention || e.column > e.indent || (e.column == e.indent && !e.whitespace) {
		e.lineBreak('\n')
	}
	if e.column < e.indent {
		e.whitespace = true
		e.w.WriteString(strings.Repeat(" ", e.indent-e.column))
		e.column = e.indent
	}
}

func (e *yamlEmitter) lineBreak(r rune) {
	e.whitespace, e.indention = true, true
	e.column = 0
	e.w.WriteRune(r)
}

// scalar writes s with the style PyYAML chooses, at indent (the scalar's
// indentation for folded lines); a simple key is never split.
func (e *yamlEmitter) scalar(s string, indent int, simpleKey bool) {
	text := []rune(s)
	a := analyzeYAML(text)
	saved := e.indent
	e.indent = indent
	switch {
	case yamlImplicitString(s) && !(simpleKey && (a.empty || a.multiline)) && a.allowBlockPlain:
		e.plain(text, !simpleKey)
	case a.allowSingleQuoted && !(simpleKey && a.multiline):
		e.singleQuoted(text, !simpleKey)
	default:
		e.doubleQuoted(text, !simpleKey)
	}
	e.indent = saved
}

func (e *yamlEmitter) plain(text []rune, split bool) {
	if len(text) == 0 {
		return
	}
	if !e.whitespace {
		e.writeString(" ")
	}
	e.whitespace, e.indention = false, false
	spaces, breaks := false, false
	start := 0
	for end := 0; end <= len(text); end++ {
		var c rune = -1
		if end < len(text) {
			c = text[end]
		}
		switch {
		case spaces:
			if c != ' ' {
				if start+1 == end && e.column > yamlWidth && split {
					e.writeIndent()
					e.whitespace, e.indention = false, false
				} else {
					e.write(text[start:end])
				}
				start = end
			}
		case breaks:
			if !isYAMLBreak(c) {
				e.breaks(text[start:end])
				e.whitespace, e.indention = false, false
				start = end
			}
		default:
			if c == -1 || c == ' ' || isYAMLBreak(c) {
				e.write(text[start:end])
				start = end
			}
		}
		if c != -1 {
			spaces, breaks = c == ' ', isYAMLBreak(c)
		}
	}
}

// breaks writes a run of line breaks of a plain or single-quoted scalar:
// one more for a leading "\n" (YAML folds a single break into a space).
func (e *yamlEmitter) breaks(brs []rune) {
	if brs[0] == '\n' {
		e.lineBreak('\n')
	}
	for _, br := range brs {
		e.lineBreak(br)
	}
	e.writeIndent()
}

func (e *yamlEmitter) singleQuoted(text []rune, split bool) {
	e.indicator("'", true, false, false)
	spaces, breaks := false, false
	start := 0
	for end := 0; end <= len(text); end++ {
		var c rune = -1
		if end < len(text) {
			c = text[end]
		}
		switch {
		case spaces:
			if c != ' ' {
				if start+1 == end && e.column > yamlWidth && split && start != 0 && end != len(text) {
					e.writeIndent()
				} else {
					e.write(text[start:end])
				}
				start = end
			}
		case breaks:
			if !isYAMLBreak(c) {
				e.breaks(text[start:end])
				start = end
			}
		default:
			if c == -1 || c == ' ' || isYAMLBreak(c) || c == '\'' {
				if start < end {
					e.write(text[start:end])
					start = end
				}
			}
		}
		if c == '\'' {
			e.writeString("''")
			start = end + 1
		}
		if c != -1 {
			spaces, breaks = c == ' ', isYAMLBreak(c)
		}
	}
	e.indicator("'", false, false, false)
}

// yamlEscapes are the short escapes of PyYAML's double-quoted style.
var yamlEscapes = map[rune]string{
	0: `\0`, 0x07: `\a`, 0x08: `\b`, 0x09: `\t`, 0x0a: `\n`, 0x0b: `\v`, 0x0c: `\f`,
	0x0d: `\r`, 0x1b: `\e`, '"': `\"`, '\\': `\\`, 0x85: `\N`, 0xa0: `\_`,
	0x2028: `\L`, 0x2029: `\P`,
}

func (e *yamlEmitter) doubleQuoted(text []rune, split bool) {
	e.indicator(`"`, true, false, false)
	start := 0
	for end := 0; end <= len(text); end++ {
		var c rune = -1
		if end < len(text) {
			c = text[end]
		}
		if c == -1 || c == '"' || c == '\\' || c == 0x85 || c == 0x2028 || c == 0x2029 ||
			c == 0xfeff || c < 0x20 || c > 0x7e {
			if start < end {
				e.write(text[start:end])
				start = end
			}
			if c != -1 {
				esc, ok := yamlEscapes[c]
				switch {
				case ok:
				case c <= 0xff:
					esc = fmt.Sprintf(`\x%02X`, c)
				case c <= 0xffff:
					esc = fmt.Sprintf(`\u%04X`, c)
				default:
					esc = fmt.Sprintf(`\U%08X`, c)
				}
				e.writeString(esc)
				start = end + 1
			}
		}
		if 0 < end && end < len(text)-1 && (c == ' ' || start >= end) &&
			e.column+(end-start) > yamlWidth && split {
			var seg []rune // text[start:end], empty right after an escape
			if start < end {
				seg = text[start:end]
				start = end
			}
			e.write(seg)
			e.writeString(`\`)
			e.writeIndent()
			e.whitespace, e.indention = false, false
			if text[start] == ' ' {
				e.writeString(`\`)
			}
		}
	}
	e.indicator(`"`, false, false, false)
}

// flush ends the document (a final line break) and flushes.
func (e *yamlEmitter) flush() error {
	e.indent = 0
	e.writeIndent()
	return e.w.Flush()
}

// WriteYAMLStrings writes list as yaml.dump(list, default_flow_style=False)
// does: "- item" lines, or "[]" for an empty list. It returns w's error.
func WriteYAMLStrings(w io.Writer, list []string) error {
	e := newYAMLEmitter(w)
	if len(list) == 0 {
		e.indicator("[", true, true, false)
		e.indicator("]", false, false, false)
		return e.flush()
	}
	for _, s := range list {
		e.writeIndent()
		e.indicator("-", true, false, true)
		e.scalar(s, yamlIndent, false)
	}
	return e.flush()
}

// YAMLMap is one mapping of a YAML list: its keys, sorted, and their
// values. Keys must be short one-line strings (PyYAML's simple keys).
type YAMLMap [][2]string

// WriteYAMLMaps writes list as yaml.dump(list, default_flow_style=False)
// does for a list of dicts of strings: "- key: value" then "  key: value"
// lines, "[]" for an empty list, "- {}" for an empty mapping. It returns
// w's error.
func WriteYAMLMaps(w io.Writer, list []YAMLMap) error {
	e := newYAMLEmitter(w)
	if len(list) == 0 {
		e.indicator("[", true, true, false)
		e.indicator("]", false, false, false)
		return e.flush()
	}
	for _, m := range list {
		e.writeIndent()
		e.indicator("-", true, false, true)
		if len(m) == 0 {
			e.indicator("{", true, true, false)
			e.indicator("}", false, false, false)
			continue
		}
		e.indent = yamlIndent
		for _, kv := range m {
			e.writeIndent()
			e.scalar(kv[0], 2*yamlIndent, true)
			e.indicator(":", false, false, false)
			e.scalar(kv[1], 2*yamlIndent, false)
		}
		e.indent = 0
	}
	return e.flush()
}
