package debian

import (
	"strings"
)

// Op is a version relation operator in a relationship field.
type Op string

// The version relation operators. The obsolete "<" and ">" parse as
// [OpLessEq] and [OpGreaterEq], as dpkg and piupartslib read them.
const (
	OpNone      Op = ""
	OpLess      Op = "<<"
	OpLessEq    Op = "<="
	OpEq        Op = "="
	OpGreaterEq Op = ">="
	OpGreater   Op = ">>"
)

// Relation is one package in a relationship field, for example
// "libc6:any (>= 2.34) [amd64] <!nocheck>".
type Relation struct {
	Name string
	// Arch is the architecture qualifier after ':' ("any", "native",
	// "amd64"), or "".
	Arch string
	// Op and Version are the version restriction; Op is OpNone without one.
	Op      Op
	Version string
	// Archs is the architecture restriction list "[...]", entries negated
	// with a leading '!'; nil without one.
	Archs []string
	// Profiles holds one entry per "<...>" build-profile group, each a list
	// of terms negated with a leading '!'.
	Profiles [][]string
}

// String formats r canonically: "name[:arch] (op version) [archs] <profiles>".
func (r Relation) String() string {
	var b strings.Builder
	r.write(&b)
	return b.String()
}

func (r Relation) write(b *strings.Builder) {
	b.WriteString(r.Name)
	if r.Arch != "" {
		b.WriteByte(':')
		b.WriteString(r.Arch)
	}
	if r.Op != OpNone {
		b.WriteString(" (")
		b.WriteString(string(r.Op))
		b.WriteByte(' ')
		b.WriteString(r.Version)
		b.WriteByte(')')
	}
	if r.Archs != nil {
		b.WriteString(" [")
		b.WriteString(strings.Join(r.Archs, " "))
		b.WriteByte(']')
	}
	for _, p := range r.Profiles {
		b.WriteString(" <")
		b.WriteString(strings.Join(p, " "))
		b.WriteByte('>')
	}
}

// SatisfiedBy reports whether version satisfies r's version restriction
// (always true without one), comparing as [CompareVersions] does.
func (r Relation) SatisfiedBy(version string) bool {
	if r.Op == OpNone {
		return true
	}
	c := CompareVersions(version, r.Version)
	switch r.Op {
	case OpLess:
		return c < 0
	case OpLessEq:
		return c <= 0
	case OpEq:
		return c == 0
	case OpGreaterEq:
		return c >= 0
	case OpGreater:
		return c > 0
	}
	return false
}

// Alternatives is one comma-separated item of a relationship field: the
// packages separated by '|', any of which satisfies it.
type Alternatives []Relation

// String formats a as "a | b".
func (a Alternatives) String() string {
	var b strings.Builder
	a.write(&b)
	return b.String()
}

func (a Alternatives) write(b *strings.Builder) {
	for i, r := range a {
		if i > 0 {
			b.WriteString(" | ")
		}
		r.write(b)
	}
}

// Depends is a parsed relationship field (Depends, Pre-Depends, Recommends,
// Suggests, Conflicts, Breaks, Replaces, Enhances, Build-Depends, ...): all
// of its items must be satisfied.
type Depends []Alternatives

// String formats d canonically, items separated by ", ".
func (d Depends) String() string {
	var b strings.Builder
	for i, a := range d {
		if i > 0 {
			b.WriteString(", ")
		}
		a.write(&b)
	}
	return b.String()
}

// Names returns the first alternative's package name of every item, as
// piupartslib's Package.dependencies does.
func (d Depends) Names() []string {
	names := make([]string, len(d))
	for i, a := range d {
		names[i] = a[0].Name
	}
	return names
}

// ParseDependsNames is ParseDepends(s) reduced to the names of each item's
// alternatives, without building the relations.
func ParseDependsNames(s string) ([][]string, error) {
	var names []string
	var ends []int
	err := walkDepends(s, func(r *Relation, first bool) {
		if first && len(names) > 0 {
			ends = append(ends, len(names))
		}
		names = append(names, r.Name)
	})
	if err != nil || len(names) == 0 {
		return nil, err
	}
	out := make([][]string, 0, len(ends)+1)
	start := 0
	for _, end := range append(ends, len(names)) {
		out = append(out, names[start:end:end])
		start = end
	}
	return out, nil
}

// ParseDepends parses a relationship field. It accepts what piupartslib's
// DependencyParser accepts (package names of two or more letters, digits
// and "+-._" starting with a letter or digit, upper case allowed; an
// architecture qualifier; a version restriction; white space, including
// line breaks of folded fields, between tokens; an empty field; a trailing
// ',' or '|'), and also the architecture restriction lists and build
// profiles of Policy 7.1. It returns a *RelationError naming the offset
// where parsing stopped.
func ParseDepends(s string) (Depends, error) {
	var d Depends
	err := walkDepends(s, func(r *Relation, first bool) {
		if first {
			d = append(d, nil)
		}
		d[len(d)-1] = append(d[len(d)-1], *r)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// walkDepends parses s as ParseDepends does and calls rel with each
// relation, first telling whether it starts an item. On an error, rel may
// have been called for the relations before it.
func walkDepends(s string, rel func(r *Relation, first bool)) error {
	p := relParser{s: s}
	for {
		p.skipSpace()
		if p.atEnd() {
			return nil
		}
		if err := p.alternatives(rel); err != nil {
			return err
		}
		p.skipSpace()
		if p.atEnd() {
			return nil
		}
		if p.s[p.i] != ',' {
			return p.fail("expected ','")
		}
		p.i++
	}
}

// ParseProvides parses a Provides field: a comma-separated list of package
// names, each with an optional architecture qualifier and an optional
// "(= version)". It returns a *RelationError for a syntax error, an
// alternative ('|'), another operator, or an architecture or profile
// restriction.
func ParseProvides(s string) ([]Relation, error) {
	d, err := ParseDepends(s)
	if err != nil {
		return nil, err
	}
	out := make([]Relation, 0, len(d))
	for _, a := range d {
		r := a[0]
		switch {
		case len(a) > 1:
			return nil, &RelationError{Text: s, Offset: strings.IndexByte(s, '|'), Msg: "alternatives are not allowed in Provides"}
		case r.Op != OpNone && r.Op != OpEq:
			return nil, &RelationError{Text: s, Offset: strings.Index(s, string(r.Op)), Msg: "only '=' is allowed in Provides"}
		case r.Archs != nil || r.Profiles != nil:
			return nil, &RelationError{Text: s, Offset: strings.IndexAny(s, "[<"), Msg: "restrictions are not allowed in Provides"}
		}
		out = append(out, r)
	}
	return out, nil
}

type relParser struct {
	s string
	i int
}

func (p *relParser) fail(msg string) error {
	return &RelationError{Text: p.s, Offset: p.i, Msg: msg}
}

func (p *relParser) atEnd() bool { return p.i >= len(p.s) }

func (p *relParser) skipSpace() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

// alternatives parses "rel | rel | ..." and calls rel with each relation.
// A '|' followed only by white space up to the end ends the list, as in
// piupartslib.
func (p *relParser) alternatives(rel func(r *Relation, first bool)) error {
	for first := true; ; first = false {
		r, err := p.relation()
		if err != nil {
			return err
		}
		rel(&r, first)
		p.skipSpace()
		if p.atEnd() || p.s[p.i] != '|' {
			return nil
		}
		p.i++
		p.skipSpace()
		if p.atEnd() {
			return nil
		}
	}
}

// span returns the longest run from the current position of bytes for
// which ok holds, and advances past it.
func (p *relParser) span(ok func(byte) bool) string {
	start := p.i
	for p.i < len(p.s) && ok(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

func isNameChar(c byte) bool {
	return isAlnum(c) || c == '+' || c == '-' || c == '.' || c == '_'
}

func isArchChar(c byte) bool { return isAlnum(c) || c == '-' }

func isVersionChar(c byte) bool {
	return isAlnum(c) || c == '.' || c == '+' || c == ':' || c == '~' || c == '-'
}

func isProfileChar(c byte) bool { return isAlnum(c) || c == '.' || c == '+' || c == '-' }

func (p *relParser) relation() (Relation, error) {
	var r Relation
	p.skipSpace()
	if p.atEnd() || !isAlnum(p.s[p.i]) {
		return r, p.fail("expected a package name")
	}
	r.Name = p.span(isNameChar)
	if len(r.Name) < 2 {
		p.i -= len(r.Name)
		return r, p.fail("expected a package name of at least two characters")
	}
	if !p.atEnd() && p.s[p.i] == ':' {
		p.i++
		if r.Arch = p.span(isArchChar); r.Arch == "" {
			return r, p.fail("expected an architecture after ':'")
		}
	}
	p.skipSpace()
	if !p.atEnd() && p.s[p.i] == '(' {
		if err := p.versionRestriction(&r); err != nil {
			return r, err
		}
		p.skipSpace()
	}
	if !p.atEnd() && p.s[p.i] == '[' {
		if err := p.archRestriction(&r); err != nil {
			return r, err
		}
		p.skipSpace()
	}
	for !p.atEnd() && p.s[p.i] == '<' {
		if err := p.profileRestriction(&r); err != nil {
			return r, err
		}
		p.skipSpace()
	}
	return r, nil
}

func (p *relParser) versionRestriction(r *Relation) error {
	p.i++ // '('
	p.skipSpace()
	rest := p.s[p.i:]
	switch {
	case strings.HasPrefix(rest, "<<"):
		r.Op, p.i = OpLess, p.i+2
	case strings.HasPrefix(rest, "<="):
		r.Op, p.i = OpLessEq, p.i+2
	case strings.HasPrefix(rest, ">="):
		r.Op, p.i = OpGreaterEq, p.i+2
	case strings.HasPrefix(rest, ">>"):
		r.Op, p.i = OpGreater, p.i+2
	case strings.HasPrefix(rest, "="):
		r.Op, p.i = OpEq, p.i+1
	case strings.HasPrefix(rest, "<"):
		r.Op, p.i = OpLessEq, p.i+1
	case strings.HasPrefix(rest, ">"):
		r.Op, p.i = OpGreaterEq, p.i+1
	default:
		return p.fail("expected a version relation operator")
	}
	p.skipSpace()
	// piupartslib: an optional "digits:" epoch, then a letter, digit or
	// '+', then letters, digits and ".+:~-".
	if p.atEnd() || !(isAlnum(p.s[p.i]) || p.s[p.i] == '+') {
		return p.fail("expected a version number")
	}
	r.Version = p.span(isVersionChar)
	p.skipSpace()
	if p.atEnd() || p.s[p.i] != ')' {
		return p.fail("expected ')'")
	}
	p.i++
	return nil
}

func (p *relParser) archRestriction(r *Relation) error {
	open := p.i
	p.i++ // '['
	r.Archs = []string{}
	for {
		p.skipSpace()
		if p.atEnd() {
			return p.fail("expected ']'")
		}
		if p.s[p.i] == ']' {
			if len(r.Archs) == 0 {
				p.i = open
				return p.fail("empty architecture list")
			}
			p.i++
			return nil
		}
		start := p.i
		if p.s[p.i] == '!' {
			p.i++
		}
		if p.span(isArchChar) == "" {
			return p.fail("expected an architecture name")
		}
		r.Archs = append(r.Archs, p.s[start:p.i])
	}
}

func (p *relParser) profileRestriction(r *Relation) error {
	open := p.i
	p.i++ // '<'
	var terms []string
	for {
		p.skipSpace()
		if p.atEnd() {
			return p.fail("expected '>'")
		}
		if p.s[p.i] == '>' {
			if len(terms) == 0 {
				p.i = open
				return p.fail("empty build profile list")
			}
			p.i++
			r.Profiles = append(r.Profiles, terms)
			return nil
		}
		start := p.i
		if p.s[p.i] == '!' {
			p.i++
		}
		if p.span(isProfileChar) == "" {
			return p.fail("expected a build profile name")
		}
		terms = append(terms, p.s[start:p.i])
	}
}
