package config

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"piuparts-server/internal/piuparts"
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
//
// [DEFAULT] (the exact name) is not a section: its keys belong to every
// section that does not set them, and a %(name)s reference is resolved when
// a section's value is read, against that section's keys, then [DEFAULT]'s.
// So a [DEFAULT] value that refers to %(x)s can expand differently in each
// section, and a helper key there is never an error unless a value that is
// read refers to something missing. [DEFAULT] may appear more than once;
// its keys still may not repeat.

// iniEntry is one key of an INI section.
type iniEntry struct {
	key      string   // as written
	line     int      // line of "key = value"
	last     int      // last line of its value
	lines    []string // first value line, then continuation lines ("" for blank ones)
	comments []string // comment and blank lines before it, and comments inside its value
	raw      string   // joined value lines, before interpolation
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
	sections []*iniSection // in file order, [DEFAULT] blocks included
	// defaults holds the keys of [DEFAULT], nil without one; every
	// [DEFAULT] block shares its keys map.
	defaults *iniSection
	trailing []string // comments after the last key
	// renames maps the names with a slash to the names written, and
	// renamedFrom back (see planRenames).
	renames, renamedFrom map[string]string
}

// isDefault reports whether s is a [DEFAULT] block.
func (s *iniSection) isDefault() bool { return s.name == defaultSection }

// defaultSection is ConfigParser's default_section.
const defaultSection = "DEFAULT"

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
			if name == defaultSection {
				// Another [DEFAULT] header goes on with the same keys, as
				// in ConfigParser.
				cur = &iniSection{name: name, line: lineno, last: lineno, comments: pending, keys: map[string]*iniEntry{}}
				if f.defaults != nil {
					cur.keys = f.defaults.keys
				} else {
					f.defaults = cur
				}
				pending = nil
				f.sections = append(f.sections, cur)
				opt = nil
				continue
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
	// Values are expanded where a section is read (see value): as in
	// ConfigParser, a reference that nobody reads is no error.
	return f, nil
}

// lookup finds key (lower case) as section s reads it: its own, else
// [DEFAULT]'s.
func (f *iniFile) lookup(s *iniSection, key string) *iniEntry {
	if e := s.keys[key]; e != nil {
		return e
	}
	if f.defaults != nil {
		return f.defaults.keys[key]
	}
	return nil
}

// value is the value of entry e (s's own or [DEFAULT]'s) as section s
// reads it: its %(key)s references expanded against s and [DEFAULT]. The
// error is an *Error naming e's line, and the section for a [DEFAULT] key.
func (f *iniFile) value(s *iniSection, e *iniEntry) (string, error) {
	budget := maxInterpolations
	v, msg := f.interpolate(s, e.raw, 1, &budget)
	if msg == "" {
		return v, nil
	}
	if _, own := s.keys[strings.ToLower(e.key)]; !own || s.isDefault() {
		msg = fmt.Sprintf("key %s of [DEFAULT], read in section %s: %s", quote(e.key), quote(s.name), msg)
		return "", &Error{File: f.name, Line: e.line, Table: defaultSection, Key: e.key, Msg: msg, Err: ErrInvalidValue}
	}
	return "", &Error{File: f.name, Line: e.line, Table: s.name, Key: e.key, Msg: fmt.Sprintf("key %s: %s", quote(e.key), msg), Err: ErrInvalidValue}
}

// references returns the lower-case names that %(name)s references of
// the file name: a key of that name that piuparts does not know is a
// helper of the file, not a mistake.
func (f *iniFile) references() map[string]bool {
	m := map[string]bool{}
	for _, s := range f.sections {
		for _, e := range s.entries {
			rest := e.raw
			for {
				i := strings.Index(rest, "%(")
				if i < 0 {
					break
				}
				rest = rest[i+2:]
				if j := strings.Index(rest, ")s"); j > 0 && !strings.Contains(rest[:j], ")") {
					m[strings.ToLower(rest[:j])] = true
				}
			}
		}
	}
	return m
}

// defaultEntries returns the entries of every [DEFAULT] block.
func (f *iniFile) defaultEntries() []*iniEntry {
	var all []*iniEntry
	for _, b := range f.sections {
		if b.isDefault() {
			all = append(all, b.entries...)
		}
	}
	return all
}

// values returns every key section s reads, its own and [DEFAULT]'s, by
// lower-case name, expanded as ConfigParser.get expands them (what
// ConfigParser's options and get return for s).
func (f *iniFile) values(s *iniSection) (map[string]string, error) {
	m := map[string]string{}
	all := append(f.defaultEntries(), s.entries...)
	for _, e := range all {
		k := strings.ToLower(e.key)
		if f.lookup(s, k) != e {
			continue
		}
		v, err := f.value(s, e)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, nil
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
// does, looking names up in section s, then [DEFAULT]. It returns a message
// on error.
func (f *iniFile) interpolate(s *iniSection, rest string, depth int, budget *int) (string, string) {
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
			ref := f.lookup(s, strings.ToLower(rest[2:end]))
			if ref == nil {
				if f.defaults != nil {
					return "", fmt.Sprintf("%%(%s)s refers to a key neither in section %s nor in [DEFAULT]", rest[2:end], quote(s.name))
				}
				return "", fmt.Sprintf("%%(%s)s refers to a key not in this section", rest[2:end])
			}
			rest = rest[end+2:]
			if *budget--; *budget < 0 {
				return "", fmt.Sprintf("more than %d %%(key)s references to expand", maxInterpolations)
			}
			v := ref.raw
			if strings.Contains(v, "%") {
				var msg string
				if v, msg = f.interpolate(s, v, depth+1, budget); msg != "" {
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

// unreadINIKeys are keys of Debian's own production piuparts.conf files
// that no program of piuparts or of ours reads, by lower-case name, with
// why: the import keeps them as comments instead of refusing the file.
var unreadINIKeys = map[string]string{
	"bts-from": "the sender address of the BTS mail of Debian's farm (piuparts.conf.pejacevic); no program of piuparts or piuparts-server reads it",
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
// [DEFAULT] is read as ConfigParser reads it: its piuparts keys are written
// into [global] and into each listed section that does not set them and
// where they expand to another value than [global]'s; the block itself,
// and keys piuparts does not know that only serve %(key)s references, are
// kept as comments. A section whose name holds a slash (Debian's farm
// nests section directories: "experimental/main") is renamed with '-' for
// '/', everywhere it is named, and a comment at the top lists the renames.
//
// Nothing is written unless the whole file converts. The error is an
// [*Error] naming the line: ErrSyntax for what ConfigParser refuses,
// ErrUnknownKey for a key piuparts does not know that nothing refers to
// (every key of the file is kept, so none is dropped silently; the few
// unread keys of Debian's own farm configs are kept as comments),
// ErrInvalidValue or ErrWrongType for a value that does not fit its key
// or a %(key)s that does not resolve in a section that reads it,
// ErrMissingSection for a missing [global] or a listed section without a
// table. A read or write error is returned wrapped.
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
	hasSection := func(n string) bool {
		return slices.ContainsFunc(f.sections, func(s *iniSection) bool { return s.name == n && !s.isDefault() })
	}
	if global == nil {
		return fail(0, "", "", ErrMissingSection, "no [global] section (piuparts needs one)")
	}
	if err := f.planRenames(); err != nil {
		return err
	}
	// Which sections are listed, and where.
	listed := map[string]bool{}
	for _, key := range []string{"sections", "basetgz-sections"} {
		d := keyIndex[key]
		names, _ := d.def.([]string)
		line := 0
		if e := f.lookup(global, key); e != nil {
			value, verr := f.value(global, e)
			if verr != nil {
				return verr
			}
			v, err := iniValue(d, f.renameWords(value))
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
			if orig, ok := f.renamedFrom[n]; ok {
				n = orig
			}
			if !hasSection(n) {
				return fail(line, n, "", ErrMissingSection, "listed in %s but has no [%s] section", key, n)
			}
		}
	}
	fmt.Fprintf(b, "# Converted from %s by piuparts-master config import.\n", commentText(f.name))
	if len(f.renames) > 0 {
		b.WriteString("#\n# Section names here are single directory names: the sections whose names hold a\n")
		b.WriteString("# slash (piuparts nests their directories) are renamed, and so are the references to them.\n")
		b.WriteString("# Before \"piuparts-master import\", move each one's directory under master-directory:\n")
		for _, s := range f.sections {
			if n, ok := f.renames[s.name]; ok {
				fmt.Fprintf(b, "#   %s -> %s\n", commentText(s.name), n)
			}
		}
		b.WriteString("\n")
	}
	referenced := f.references()
	for _, s := range f.sections {
		writeComments(b, s.comments)
		if s.isDefault() {
			b.WriteString("# [DEFAULT]: ConfigParser gives these keys to every section that does not set them;\n")
			b.WriteString("# the piuparts keys among them are written out below, in [global] and in each section\n")
			b.WriteString("# where they expand to another value than [global]'s; the others only served %(key)s.\n")
			for _, l := range f.lines[s.line-1 : s.last] {
				b.WriteString(commentLine(l))
			}
			continue
		}
		if s.name != "global" && !listed[f.rename(s.name)] {
			b.WriteString("# [" + commentText(s.name) + "] is not listed in sections or basetgz-sections:\n")
			b.WriteString("# piuparts ignored it; kept as a comment.\n")
			for _, l := range f.lines[s.line-1 : s.last] {
				b.WriteString(commentLine(l))
			}
			continue
		}
		fmt.Fprintf(b, "[%s]\n", tomlKey(f.rename(s.name)))
		for _, e := range s.entries {
			writeComments(b, e.comments)
			d := lowerKeys[strings.ToLower(e.key)]
			if why, ok := unreadINIKeys[strings.ToLower(e.key)]; ok && d == nil {
				fmt.Fprintf(b, "# %s: %s; kept as a comment.\n", commentText(e.key), why)
				for _, l := range f.lines[e.line-1 : e.last] {
					b.WriteString(commentLine(l))
				}
				continue
			}
			if d == nil && referenced[strings.ToLower(e.key)] {
				fmt.Fprintf(b, "# %s is not a piuparts key; it only serves %%(%s)s references, expanded here.\n", commentText(e.key), commentText(e.key))
				for _, l := range f.lines[e.line-1 : e.last] {
					b.WriteString(commentLine(l))
				}
				continue
			}
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
			v, err := f.value(s, e)
			if err != nil {
				return err
			}
			if err := f.writeKey(b, s, e, d, v, listed); err != nil {
				return err
			}
		}
		if f.defaults == nil {
			continue
		}
		// The piuparts keys of [DEFAULT] that s does not set, as s reads them.
		first := true
		for _, e := range f.defaultEntries() {
			k := strings.ToLower(e.key)
			d := lowerKeys[k]
			if d == nil || s.keys[k] != nil || (d.global && s.name != "global") {
				continue
			}
			v, err := f.value(s, e)
			if err != nil {
				return err
			}
			// A section inherits [global]'s value: leave out what would
			// be the same.
			if s.name != "global" {
				if gv, err := f.value(global, f.lookup(global, k)); err == nil && gv == v {
					continue
				}
			}
			if first {
				fmt.Fprintf(b, "# From [DEFAULT] (%s), as this section reads it:\n", commentText(f.name))
				first = false
			}
			if err := f.writeKey(b, s, e, d, v, listed); err != nil {
				return err
			}
		}
	}
	writeComments(b, f.trailing)
	return nil
}

// planRenames gives each section whose name holds a slash (Debian's farm
// nests section directories: "experimental/main", "tarball/sid/amd64") a
// name with '-' for '/', which this program's single-directory sections
// accept. A new name that is another section's name is an ErrInvalidValue
// naming both; a name that is not valid even so is left for the section
// name check to refuse.
func (f *iniFile) planRenames() error {
	f.renames, f.renamedFrom = map[string]string{}, map[string]string{}
	names := map[string]*iniSection{}
	for _, s := range f.sections {
		if !s.isDefault() {
			names[s.name] = s
		}
	}
	for _, s := range f.sections {
		if s.isDefault() || !strings.Contains(s.name, "/") {
			continue
		}
		n := strings.ReplaceAll(s.name, "/", "-")
		if !piuparts.ValidSectionName(n) {
			continue
		}
		if other := names[n]; other != nil {
			return &Error{File: f.name, Line: s.line, Table: s.name, Err: ErrInvalidValue,
				Msg: fmt.Sprintf("section %s would be renamed %s (no slash), which is the section on line %d", quote(s.name), quote(n), other.line)}
		}
		if prev, ok := f.renamedFrom[n]; ok {
			return &Error{File: f.name, Line: s.line, Table: s.name, Err: ErrInvalidValue,
				Msg: fmt.Sprintf("sections %s and %s would both be renamed %s (no slash)", quote(prev), quote(s.name), quote(n))}
		}
		f.renames[s.name], f.renamedFrom[n] = n, s.name
	}
	return nil
}

// rename is the name section n has in the output.
func (f *iniFile) rename(n string) string {
	if r, ok := f.renames[n]; ok {
		return r
	}
	return n
}

// renameWords renames the section names in a whitespace-separated list.
func (f *iniFile) renameWords(v string) string {
	if len(f.renames) == 0 {
		return v
	}
	words := strings.FieldsFunc(v, pySpace)
	for i, w := range words {
		words[i] = f.rename(w)
	}
	return strings.Join(words, " ")
}

// writeKey writes entry e, of key d, with value as section s reads it,
// checked against its key's type; listed are the sections [global] lists.
// An empty number or boolean is left out with a comment.
func (f *iniFile) writeKey(b *bytes.Buffer, s *iniSection, e *iniEntry, d *keyDef, value string, listed map[string]bool) error {
	table := s.name
	if _, own := s.keys[strings.ToLower(e.key)]; !own {
		table = defaultSection
	}
	fail := func(sentinel error, format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		if table == defaultSection {
			msg = fmt.Sprintf("read in section %s: %s", quote(s.name), msg)
		}
		return &Error{File: f.name, Line: e.line, Table: table, Key: e.key, Msg: msg, Err: sentinel}
	}
	if value == "" && (d.kind == kindInt || d.kind == kindFloat || d.kind == kindBool || d.kind == kindDays || d.kind == kindDuration) {
		fmt.Fprintf(b, "# %s was empty in %s: left unset, so the default applies.\n", d.name, commentText(f.name))
		return nil
	}
	if d.rule == sectionName {
		value = f.renameWords(value)
	}
	v, err := iniValue(d, value)
	if err != nil {
		return fail(err.sentinel, "key %s: %s", quote(e.key), err.msg)
	}
	if d.rule == sectionName && d.name == "depends-sections" {
		for _, dep := range v.([]string) {
			if !listed[dep] {
				return fail(ErrMissingSection,
					"key %s: depends on section %s, which is not listed in sections or basetgz-sections", quote(e.key), quote(dep))
			}
		}
	}
	if str, ok := v.(string); ok && len(str) >= 2 && (str[0] == '"' || str[0] == '\'') && str[len(str)-1] == str[0] {
		b.WriteString("# The quotes are part of the value, as ConfigParser reads it; piuparts shows them.\n")
	}
	fmt.Fprintf(b, "%s = %s\n", d.name, tomlValue(d.kind, v))
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
