package mangen

import (
	"fmt"
	"io"
	"strings"
)

// roff writes a manual page in the man macros, escaping text.
type roff struct {
	w   io.Writer
	err error
}

// macro writes a request line, e.g. macro("SH", "NAME"); args are quoted.
func (r *roff) macro(name string, args ...string) {
	line := "." + name
	for _, a := range args {
		line += ` "` + strings.ReplaceAll(esc(a), `"`, `\(dq`) + `"`
	}
	r.line(line)
}

// line writes one raw line.
func (r *roff) line(s string) {
	if r.err == nil {
		_, r.err = fmt.Fprintln(r.w, s)
	}
}

// text writes running text, one escaped input line per line of s.
func (r *roff) text(s string) {
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			r.line(textLine(esc(l)))
		}
	}
}

// pre writes lines as they are (no filling), indented by 4, or by the
// prevailing indent where indent is "" (inside a .TP body).
func (r *roff) pre(lines []string, indent string) {
	if indent == "" {
		r.line(".RS")
	} else {
		r.macro("RS", indent)
	}
	r.line(".nf")
	for _, l := range lines {
		r.line(textLine(esc(l)))
	}
	r.line(".fi")
	r.line(".RE")
}

// defs writes a definition list: each term in bold, its description
// indented below it.
func (r *roff) defs(defs []Def) {
	for _, d := range defs {
		r.line(".TP")
		r.line(textLine(termRoff(d.Term)))
		if d.Desc != "" {
			r.text(d.Desc)
		} else {
			// An empty paragraph would make groff complain about nothing
			// but leave the term hanging; say so.
			r.line(`\&`)
		}
	}
}

// esc escapes s for roff text: backslashes, and hyphens as \- (a minus
// sign, so that option names copy and paste as typed).
func esc(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	return strings.ReplaceAll(s, "-", `\-`)
}

// textLine keeps an escaped text line from being read as a request: a
// leading '.' or '\” gets the zero-width \&, as does leading space (which
// would break the line in filled text).
func textLine(s string) string {
	if s != "" && (s[0] == '.' || s[0] == '\'') {
		return `\&` + s
	}
	return s
}

// termRoff renders a term of a definition list: the first word (the
// command or flag) in bold, the rest (its arguments) in italics where it is
// an upper-case placeholder.
func termRoff(term string) string {
	words := strings.Fields(term)
	if len(words) == 0 {
		return `\&`
	}
	out := []string{`\fB` + esc(words[0]) + `\fR`}
	for _, w := range words[1:] {
		// "[--append FILE]": the placeholder inside the brackets.
		core := strings.Trim(w, "[]|.,")
		if i := strings.Index(w, core); core != "" && isPlaceholder(core) {
			out = append(out, esc(w[:i])+`\fI`+esc(core)+`\fR`+esc(w[i+len(core):]))
		} else {
			out = append(out, esc(w))
		}
	}
	return strings.Join(out, " ")
}

// isPlaceholder reports whether w is an argument placeholder such as FILE
// or NAME.
func isPlaceholder(w string) bool {
	if w == "" {
		return false
	}
	for _, r := range w {
		if (r < 'A' || r > 'Z') && r != '_' && r != '.' && (r < '0' || r > '9') {
			return false
		}
	}
	return w[0] >= 'A' && w[0] <= 'Z'
}
