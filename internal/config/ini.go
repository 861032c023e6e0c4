package config

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file reads piuparts.conf the way Python's configparser.ConfigParser
// (as piupartslib uses it) does, and writes the same settings as TOML.
//
// ConfigParser's rules, mirrored here: lines end at \n, \r\n or \r; a line
// whose first non-blank character is # or ; is a comment (there are no
// inline comments); "key = value" and "key: value" split at the first = or
// :; key names are case-insensitive; a line indented deeper than its key's
// line continues the value (joined with \n, blank lines kept inside);
// section names are case-sensitive and end at the last ]; duplicate
// sections or keys are errors; %(name)s refers to another key of the same
// section and %% is a literal %. Quotes are not special: a value keeps them.

// iniEntry is one key of an INI section.
type iniEntry struct {
	key      string   // as written
	line     int      // line of "key = value"
	last     int      // last line of its value
	lines    []string // first value line, then continuation lines ("" for blank ones)
	comments []string // comment and blank lines before it, and comments inside its value
	raw      string   // joined value lines
	value    string   // raw, interpolated
}

// iniSection is one [section] of an INI file.
type iniSection struct {
	name     string
	line     int
	last     int      // last line holding its header, a key or a value
	comments []string // comment and blank lines before the header
	entries  []*iniEntry
	keys     map[string]*iniEntry // by lower-case key
}

// iniFile is a parsed INI file, comments kept.
type iniFile struct {
	name     string
	lines    []string
	sections []*iniSection
	trailing []string // comments after the last key
}

// splitLines splits as Python's universal newlines do.
func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// indentOf counts the characters before the first non-blank one, as
// configparser's NONSPACECRE does.
func indentOf(line string) int {
	n := 0
	for _, r := range line {
		if !pySpace(r) {
			break
		}
		n++
	}
	return n
}

// parseINI reads a ConfigParser file, keeping comments.
func parseINI(data []byte, name string) (*iniFile, error) {
	f := &iniFile{name: name, lines: splitLines(string(data))}
	fail := func(line int, table, key string, sentinel error, format string, args ...any) error {
		return &Error{File: name, Line: line, Table: table, Key: key, Msg: fmt.Sprintf(format, args...), Err: sentinel}
	}
	var (
		cur     *iniSection
		opt     *iniEntry
		indent  int
		pending []string
		seen    = map[string]*iniSection{}
	)
	for i, line := range f.lines {
		lineno := i + 1
		if !utf8.ValidString(line) {
			return nil, fail(lineno, "", "", ErrSyntax, "line is not valid UTF-8")
		}
		stripped := strings.TrimFunc(line, pySpace)
		comment := strings.HasPrefix(stripped, "#") || strings.HasPrefix(stripped, ";")
		if comment || stripped == "" {
			if !comment && opt != nil {
				opt.lines = append(opt.lines, "") // kept if the value goes on
			}
			if comment {
				pending = append(pending, stripped)
			} else {
				pending = append(pending, "")
			}
			continue
		}
		in := indentOf(line)
		if cur != nil && opt != nil && in > indent {
			// A continuation line: comments met inside the value move
			// before the key; blank lines already went into the value.
			for _, c := range pending {
				if c != "" {
					opt.comments = append(opt.comments, c)
				}
			}
			pending = nil
			opt.lines = append(opt.lines, stripped)
			opt.last, cur.last = lineno, lineno
			continue
		}
		indent = in
		if j := strings.LastIndex(stripped, "]"); stripped[0] == '[' && j >= 2 {
			name := stripped[1:j]
			if name == "DEFAULT" {
				return nil, fail(lineno, name, "", ErrUnknownTable, "the [DEFAULT] section is not supported: move its keys to [global] and the sections")
			}
			if prev := seen[name]; prev != nil {
				return nil, fail(lineno, name, "", ErrSyntax, "section defined twice (first on line %d)", prev.line)
			}
			cur = &iniSection{name: name, line: lineno, last: lineno, comments: pending, keys: map[string]*iniEntry{}}
			seen[name] = cur
			pending = nil
			f.sections = append(f.sections, cur)
			opt = nil
			continue
		}
		if cur == nil {
			return nil, fail(lineno, "", "", ErrSyntax, "key outside any section: %s", quote(stripped))
		}
		k := strings.IndexAny(stripped, "=:")
		if k < 0 {
			return nil, fail(lineno, cur.name, "", ErrSyntax, "want \"key = value\", have %s", quote(stripped))
		}
		key := strings.TrimRightFunc(stripped[:k], pySpace)
		if key == "" {
			return nil, fail(lineno, cur.name, "", ErrSyntax, "empty key name in %s", quote(stripped))
		}
		lower := strings.ToLower(key)
		if prev := cur.keys[lower]; prev != nil {
			return nil, fail(lineno, cur.name, key, ErrSyntax, "key %s defined twice (first on line %d)", quote(key), prev.line)
		}
		opt = &iniEntry{key: key, line: lineno, last: lineno, comments: pending,
			lines: []string{strings.TrimFunc(stripped[k+1:], pySpace)}}
		pending = nil
		cur.entries = append(cur.entries, opt)
		cur.keys[lower] = opt
		cur.last = lineno
	}
	f.trailing = pending
	for _, s := range f.sections {
		for _, e := range s.entries {
			e.raw = strings.TrimRightFunc(strings.Join(e.lines, "\n"), pySpace)
		}
	}
	for _, s := range f.sections {
		for _, e := range s.entries {
			budget := maxInterpolations
			v, err := interpolate(s, e.raw, 1, &budget)
			if err != "" {
				return nil, fail(e.line, s.name, e.key, ErrInvalidValue, "key %s: %s", quote(e.key), err)
			}
			e.value = v
		}
	}
	return f, nil
}

// maxInterpolationDepth is configparser's MAX_INTERPOLATION_DEPTH.
const maxInterpolationDepth = 10

// maxInterpolations bounds the references expanded for one value: nested
// references can otherwise grow a value exponentially (ConfigParser would
// hang on such a file).
const maxInterpolations = 1000

// maxValueLen bounds an interpolated value.
const maxValueLen = 1 << 20

// interpolate expands %(name)s and %% as configparser's BasicInterpolation
// does, looking names up in section s. It returns a message on error.
func interpolate(s *iniSection, rest string, depth int, budget *int) (string, string) {
	if depth > maxInterpolationDepth {
		return "", "interpolation nested too deeply (a %(key)s loop?)"
	}
	var b strings.Builder
	for rest != "" {
		p := strings.IndexByte(rest, '%')
		if p < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:p])
		rest = rest[p:]
		switch {
		case strings.HasPrefix(rest, "%%"):
			b.WriteByte('%')
			rest = rest[2:]
		case strings.HasPrefix(rest, "%("):
			end := strings.IndexByte(rest, ')')
			if end < 3 || !strings.HasPrefix(rest[end:], ")s") {
				return "", fmt.Sprintf("bad interpolation reference %s (write %%%% for a %%)", quote(rest))
			}
			ref := s.keys[strings.ToLower(rest[2:end])]
			if ref == nil {
				return "", fmt.Sprintf("%%(%s)s refers to a key not in this section", rest[2:end])
			}
			rest = rest[end+2:]
			if *budget--; *budget < 0 {
				return "", fmt.Sprintf("more than %d %%(key)s references to expand", maxInterpolations)
			}
			v := ref.raw
			if strings.Contains(v, "%") {
				var msg string
				if v, msg = interpolate(s, v, depth+1, budget); msg != "" {
					return "", msg
				}
			}
			if b.Len()+len(v) > maxValueLen {
				return "", fmt.Sprintf("interpolated value longer than %d bytes", maxValueLen)
			}
			b.WriteString(v)
		default:
			return "", fmt.Sprintf("%% must be followed by %% or (, found %s (write %%%% for a %%)", quote(rest))
		}
	}
	return b.String(), ""
}

// lowerKeys finds a key definition by its lower-case name, as ConfigParser
// matches keys.
var lowerKeys = func() map[string]*keyDef {
	m := make(map[string]*keyDef, len(keyDefs))
	for i := range keyDefs {
		m[strings.ToLower(keyDefs[i].name)] = &keyDefs[i]
	}
	return m
}()

// ImportINI converts a piuparts.conf in Python ConfigParser syntax, read
// from r, into the TOML of this package and writes it to w; name is used
// in messages. Values are typed by key: integers, floats, booleans (yes,
// no, true, false, on, off, 1, 0: note that the reference itself takes
// only "yes" and "true" as true), lists and commands split on whitespace
// as piuparts splits them. Values are kept exactly as ConfigParser returns
// them, quotes included (a description written "like this" is shown with
// its quotes by piuparts-report; a comment in the output says so).
// %(key)s references and %% are expanded.
//
// Comment lines stay before the key or section they preceded, and comments
// at the end stay at the end. A section not listed in sections or
// basetgz-sections (piuparts ignores it) is kept as a comment, and so is a
// [global]-only key inside a section. An empty integer, float or boolean
// is left unset, with a comment: the default applies.
//
// Nothing is written unless the whole file converts. The error is an
// [*Error] naming the line: ErrSyntax for what ConfigParser refuses,
// ErrUnknownKey for a key piuparts does not know (every key of the file is
// kept, so none is dropped silently), ErrInvalidValue or ErrWrongType for
// a value that does not fit its key, ErrMissingSection for a missing
// [global] or a listed section without a table, ErrUnknownTable for
// [DEFAULT]. A read or write error is returned wrapped.
func ImportINI(r io.Reader, name string, w io.Writer) error {
	f, err := readINI(r, name)
	if err != nil {
		return err
	}
	var out bytes.Buffer
	if err := f.writeTOML(&out); err != nil {
		return err
	}
	// The output must load; if it does not, that is a bug here, and the
	// operator gets an error instead of a broken file.
	if _, err := Parse(bytes.NewReader(out.Bytes()), name+" (converted)"); err != nil {
		return fmt.Errorf("import %s: converted file does not load: %w", name, err)
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("import %s: write: %w", name, err)
	}
	return nil
}

// readINI reads at most MaxFileSize bytes from r and parses them as INI.
func readINI(r io.Reader, name string) (*iniFile, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return nil, &Error{File: name, Msg: fmt.Sprintf("file larger than %d bytes", MaxFileSize), Err: ErrSyntax}
	}
	return parseINI(data, name)
}

// writeTOML writes f as TOML.
func (f *iniFile) writeTOML(b *bytes.Buffer) error {
	fail := func(line int, table, key string, sentinel error, format string, args ...any) error {
		return &Error{File: f.name, Line: line, Table: table, Key: key, Msg: fmt.Sprintf(format, args...), Err: sentinel}
	}
	var global *iniSection
	for _, s := range f.sections {
		if s.name == "global" {
			global = s
		}
	}
	if global == nil {
		return fail(0, "", "", ErrMissingSection, "no [global] section (piuparts needs one)")
	}
	// Which sections are listed, and where.
	listed := map[string]bool{}
	for _, key := range []string{"sections", "basetgz-sections"} {
		d := keyIndex[key]
		names, _ := d.def.([]string)
		line := 0
		if e := global.keys[key]; e != nil {
			v, err := iniValue(d, e.value)
			if err != nil {
				return fail(e.line, "global", e.key, err.sentinel, "key %s: %s", quote(e.key), err.msg)
			}
			names, line = v.([]string), e.line
		}
		for _, n := range names {
			if listed[n] {
				return fail(line, "global", key, ErrInvalidValue, "section %s is listed twice", quote(n))
			}
			listed[n] = true
			if !slices.ContainsFunc(f.sections, func(s *iniSection) bool { return s.name == n }) {
				return fail(line, n, "", ErrMissingSection, "listed in %s but has no [%s] section", key, n)
			}
		}
	}
	fmt.Fprintf(b, "# Converted from %s by piuparts-master config import.\n", commentText(f.name))
	for _, s := range f.sections {
		writeComments(b, s.comments)
		if s.name != "global" && !listed[s.name] {
			b.WriteString("# [" + commentText(s.name) + "] is not listed in sections or basetgz-sections:\n")
			b.WriteString("# piuparts ignored it; kept as a comment.\n")
			for _, l := range f.lines[s.line-1 : s.last] {
				b.WriteString(commentLine(l))
			}
			continue
		}
		fmt.Fprintf(b, "[%s]\n", tomlKey(s.name))
		for _, e := range s.entries {
			writeComments(b, e.comments)
			d := lowerKeys[strings.ToLower(e.key)]
			if d == nil {
				return fail(e.line, s.name, e.key, ErrUnknownKey, "unknown key %s%s", quote(e.key), suggest(e.key))
			}
			if d.global && s.name != "global" {
				fmt.Fprintf(b, "# %s is only read from [global]: piuparts ignored it here; kept as a comment.\n", d.name)
				for _, l := range f.lines[e.line-1 : e.last] {
					b.WriteString(commentLine(l))
				}
				continue
			}
			if e.value == "" && (d.kind == kindInt || d.kind == kindFloat || d.kind == kindBool || d.kind == kindDays || d.kind == kindDuration) {
				fmt.Fprintf(b, "# %s was empty in %s: left unset, so the default applies.\n", d.name, commentText(f.name))
				continue
			}
			v, err := iniValue(d, e.value)
			if err != nil {
				return fail(e.line, s.name, e.key, err.sentinel, "key %s: %s", quote(e.key), err.msg)
			}
			if d.rule == sectionName && d.name == "depends-sections" {
				for _, dep := range v.([]string) {
					if !listed[dep] {
						return fail(e.line, s.name, e.key, ErrMissingSection,
							"key %s: depends on section %s, which is not listed in sections or basetgz-sections", quote(e.key), quote(dep))
					}
				}
			}
			if str, ok := v.(string); ok && len(str) >= 2 && (str[0] == '"' || str[0] == '\'') && str[len(str)-1] == str[0] {
				b.WriteString("# The quotes are part of the value, as ConfigParser reads it; piuparts shows them.\n")
			}
			fmt.Fprintf(b, "%s = %s\n", d.name, tomlValue(d.kind, v))
		}
	}
	writeComments(b, f.trailing)
	return nil
}

// iniValue converts an INI value to the Go type of key d.
func iniValue(d *keyDef, s string) (any, *valueError) {
	switch d.kind {
	case kindString:
		return convert(d, s)
	case kindInt:
		n, ok := parseInt(s)
		if !ok {
			return nil, invalid("want an integer, have %s", quote(s))
		}
		return checkInt(d, n)
	case kindFloat:
		t := strings.TrimFunc(s, pySpace)
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || strings.ContainsAny(t, "xX_") {
			return nil, invalid("want a number, have %s", quote(s))
		}
		return convert(d, f)
	case kindBool:
		switch strings.ToLower(strings.TrimFunc(s, pySpace)) {
		case "yes", "true", "on", "1":
			return true, nil
		case "no", "false", "off", "0":
			return false, nil
		}
		return nil, invalid("want yes or no, have %s", quote(s))
	case kindNames, kindArgs:
		words := strings.FieldsFunc(s, pySpace)
		list := make([]any, len(words))
		for i, w := range words {
			list[i] = w
		}
		return convert(d, list)
	case kindDays:
		days, ok := parseDays(s)
		if !ok {
			return nil, invalid(`want a number of days or "+N", have %s`, quote(s))
		}
		return days, nil
	case kindDuration:
		// piuparts.conf gives these keys in seconds, read as Python's int().
		n, ok := parseInt(s)
		if !ok {
			return nil, invalid("want an integer (seconds), have %s", quote(s))
		}
		return convert(d, n)
	}
	panic("config: unknown kind")
}

// commentText makes s safe inside a TOML comment, which may not hold
// control characters other than tab.
func commentText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if (r < 0x20 && r != '\t') || r == 0x7f {
			fmt.Fprintf(&b, `\x%02x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// commentLine turns an INI line into a TOML comment line.
func commentLine(l string) string {
	l = strings.TrimRightFunc(l, pySpace)
	if l == "" {
		return "#\n"
	}
	return "# " + commentText(l) + "\n"
}

// writeComments writes comment lines ("" for a blank line), with ; made #
// and runs of blank lines made one.
func writeComments(b *bytes.Buffer, comments []string) {
	blank := false
	for _, c := range comments {
		if c == "" {
			if !blank {
				b.WriteByte('\n')
			}
			blank = true
			continue
		}
		blank = false
		if strings.HasPrefix(c, ";") {
			c = "#" + c[1:]
		}
		b.WriteString(commentText(c) + "\n")
	}
}
