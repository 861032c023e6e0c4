package debian

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unsafe"
)

// DefaultBlockSize is how much input [Parser] reads and converts to a string
// at a time. Paragraphs are cut from these strings without further copying,
// so a paragraph costs no allocation of its own; a block holding a
// paragraph stays in memory while the paragraph is referenced. Paragraphs
// and lines longer than a block still parse: the block grows.
const DefaultBlockSize = 1 << 20

// fieldChunk is how many Field values the parser allocates at once and hands
// out to successive paragraphs.
const fieldChunk = 4096

// Field is one field of a control-file paragraph. Name keeps the case it had
// in the file. Value has the leading and trailing white space of the whole
// value removed (so an empty first line disappears); continuation lines are kept, each after a "\n" and with
// their leading white space, as dpkg keeps them.
type Field struct {
	Name  string
	Value string
}

// Paragraph is one stanza of an RFC 822-style control file: the fields in
// the order they appeared. Line is the line number of its first field.
type Paragraph struct {
	Line   int
	Fields []Field
}

// Lookup returns the value of the field called name, compared without regard
// to ASCII case, and whether the paragraph has it.
func (p Paragraph) Lookup(name string) (string, bool) {
	for i := range p.Fields {
		if p.Fields[i].Name == name {
			return p.Fields[i].Value, true
		}
	}
	for i := range p.Fields {
		if equalFold(p.Fields[i].Name, name) {
			return p.Fields[i].Value, true
		}
	}
	return "", false
}

// Get returns the value of the field called name (compared without regard to
// ASCII case), or "" if the paragraph does not have it.
func (p Paragraph) Get(name string) string {
	v, _ := p.Lookup(name)
	return v
}

// String formats the paragraph as control-file text, one field per line
// (continuation lines as they were), ending in a newline but without the
// blank separator line.
func (p Paragraph) String() string {
	var b strings.Builder
	for _, f := range p.Fields {
		b.WriteString(f.Name)
		b.WriteString(": ")
		b.WriteString(f.Value)
		b.WriteByte('\n')
	}
	return b.String()
}

// Parser reads paragraphs from a control file (a Packages, Sources or dpkg
// status file, or a debian/control file) one at a time. Paragraphs are
// separated by blank lines (lines holding only spaces, tabs and carriage
// returns count as blank); a line starting with '#' is a comment and is
// skipped; a line starting with a space or a tab continues the previous
// field. Carriage returns at the end of a line are dropped.
//
// A Parser is not safe for concurrent use.
type Parser struct {
	r       io.Reader
	block   int // DefaultBlockSize; smaller in tests
	eof     bool
	pending []byte  // input read but not yet cut into a block
	s       string  // the current block: whole lines, whole paragraphs
	pos     int     // parsing position in s
	line    int     // lines consumed so far
	fields  []Field // chunk handed out to paragraphs; the current one from off
	off     int
	seen    uint64 // a bit per hash of the current paragraph's field names
	scratch []byte // builds values that are not one slice of s
	err     error  // sticky
}

// NewParser returns a Parser reading from r in blocks of
// [DefaultBlockSize] bytes.
func NewParser(r io.Reader) *Parser {
	return &Parser{r: r, block: DefaultBlockSize}
}

func isBlank[S ~string | ~[]byte](line S) bool {
	for i := 0; i < len(line); i++ {
		if c := line[i]; c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// lastBlankLineEnd returns the offset just after the last blank line of b
// whose '\n' is at or after from, or -1. b starts at the start of a line.
func lastBlankLineEnd(b []byte, from int) int {
	for i := len(b) - 1; i >= from; i-- {
		if b[i] != '\n' {
			continue
		}
		j := bytes.LastIndexByte(b[:i], '\n')
		if isBlank(b[j+1 : i]) {
			return i + 1
		}
		if j < from {
			return -1
		}
		i = j + 1
	}
	return -1
}

// fill reads the next block into p.s: once at least p.block bytes are
// buffered, everything up to the last blank line (so that no paragraph spans
// two blocks), or at the end of the input all that is left. It returns
// io.EOF when there is no more input.
//
// The block becomes a string without a copy (unsafe.String), which is
// sound because its buffer is never written again: what follows the cut
// moves to a new buffer. The buffer holds p.block bytes and is read full
// before it is cut, so little beyond the block is kept alive with it.
func (p *Parser) fill() error {
	buf := p.pending
	searched := 0
	for {
		if p.eof {
			if len(buf) == 0 {
				return io.EOF
			}
			p.s, p.pos = unsafe.String(&buf[0], len(buf)), 0
			p.pending = nil
			return nil
		}
		if len(buf) >= p.block {
			if cut := lastBlankLineEnd(buf, searched); cut > 0 {
				p.s, p.pos = unsafe.String(&buf[0], cut), 0
				rest := buf[cut:]
				p.pending = append(make([]byte, 0, max(p.block, len(rest))), rest...)
				return nil
			}
			searched = len(buf)
		}
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, max(p.block, cap(buf)))...)[:len(buf)]
		}
		n, err := p.r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			p.eof = true
		} else if err != nil {
			p.pending = buf
			return fmt.Errorf("read control file after line %d: %w", p.line, err)
		}
	}
}

// Next returns the next paragraph. It returns io.EOF when the input holds no
// more paragraphs, a *SyntaxError for a malformed line (a line without a
// colon, an empty or malformed field name, a continuation line outside a
// field, a field given twice in one paragraph), or the reader's error. After
// an error every later call returns the same error.
func (p *Parser) Next() (Paragraph, error) {
	if p.err != nil {
		return Paragraph{}, p.err
	}
	para, err := p.next()
	if err != nil {
		p.err = err
	}
	return para, err
}

// field is the field being parsed: its value is s[valStart:valEnd] unless
// dirty, when it is scratch.
type field struct {
	name             string
	valStart, valEnd int
	dirty            bool
}

func (p *Parser) next() (Paragraph, error) {
	for {
		for p.pos < len(p.s) {
			if para, ok, err := p.paragraph(); ok || err != nil {
				return para, err
			}
		}
		if err := p.fill(); err != nil {
			return Paragraph{}, err
		}
	}
}

// paragraph parses lines of the block from p.pos up to the end of the next
// paragraph. It reports false when the rest of the block held only blank and
// comment lines.
func (p *Parser) paragraph() (Paragraph, bool, error) {
	s := p.s
	p.fields = p.fields[:p.off]
	p.seen = 0
	start := 0
	var cur field
	have := false
	for p.pos < len(s) {
		eol := strings.IndexByte(s[p.pos:], '\n')
		next := len(s)
		if eol < 0 {
			eol = len(s)
		} else {
			eol += p.pos
			next = eol + 1
		}
		lineStart := p.pos
		for eol > lineStart && s[eol-1] == '\r' {
			eol--
		}
		line := s[lineStart:eol]
		p.line++
		p.pos = next
		switch {
		case isBlank(line):
			if have {
				p.endField(cur)
				return p.finish(start), true, nil
			}
		case line[0] == '#':
			// A comment: skipped, and it neither starts nor ends a paragraph.
		case line[0] == ' ' || line[0] == '\t':
			if !have {
				return Paragraph{}, false, &SyntaxError{Line: p.line, Msg: "continuation line outside a field"}
			}
			if !cur.dirty && lineStart == cur.valEnd+1 && s[cur.valEnd] == '\n' {
				cur.valEnd = eol
				continue
			}
			if !cur.dirty {
				cur.dirty = true
				p.scratch = append(p.scratch[:0], s[cur.valStart:cur.valEnd]...)
			}
			p.scratch = append(p.scratch, '\n')
			p.scratch = append(p.scratch, line...)
		default:
			if have {
				p.endField(cur)
			} else {
				start = p.line
			}
			// startField returns the field's parts rather than setting cur
			// through a pointer, which would cost a write barrier while
			// the garbage collector runs; they are stored one by one, as
			// copying a returned struct whole stalls the CPU.
			name, valStart, err := p.startField(lineStart, eol)
			if err != nil {
				return Paragraph{}, false, err
			}
			cur.name, cur.valStart, cur.valEnd, cur.dirty = name, valStart, eol, false
			have = true
		}
	}
	if have {
		p.endField(cur)
		return p.finish(start), true, nil
	}
	return Paragraph{}, false, nil
}

// startField parses the start of a field on s[lineStart:eol] and returns
// the field's name and where its value starts.
func (p *Parser) startField(lineStart, eol int) (name string, valStart int, err error) {
	line := p.s[lineStart:eol]
	// Find the colon, checking the name's bytes on the way: names are
	// short, so one plain loop beats strings.IndexByte and a second loop.
	colon := 0
	for colon < len(line) {
		if c := line[colon]; c == ':' || c <= ' ' || c == 0x7f {
			break
		}
		colon++
	}
	if colon == len(line) || line[colon] != ':' {
		colon = strings.IndexByte(line, ':')
		if colon < 0 {
			return "", 0, &SyntaxError{Line: p.line, Msg: fmt.Sprintf("missing colon in %q", cut(line))}
		}
		return "", 0, &SyntaxError{Line: p.line, Msg: fmt.Sprintf("invalid character in field name %q", cut(line[:colon]))}
	}
	if colon == 0 {
		return "", 0, &SyntaxError{Line: p.line, Msg: "empty field name"}
	}
	name = line[:colon]
	// Look for a duplicate only when a field with the same length and first
	// letter has been seen.
	bit := uint64(1) << ((uint(len(name))*7 + uint(name[0]|0x20)) % 64)
	if p.seen&bit != 0 {
		for _, f := range p.fields[p.off:] {
			if len(f.Name) == len(name) && equalFold(f.Name, name) {
				return "", 0, &SyntaxError{Line: p.line, Msg: fmt.Sprintf("duplicate field %q", cut(name))}
			}
		}
	}
	p.seen |= bit
	v := lineStart + colon + 1
	for v < eol && (p.s[v] == ' ' || p.s[v] == '\t') {
		v++
	}
	return name, v, nil
}

// endField trims the current field's value and appends the field.
func (p *Parser) endField(cur field) {
	var v string
	if cur.dirty {
		v = trimSpace(string(p.scratch))
	} else {
		v = trimSpace(p.s[cur.valStart:cur.valEnd])
	}
	if len(p.fields) == cap(p.fields) {
		// Start a new chunk, moving the current paragraph's fields to it.
		chunk := make([]Field, 0, max(fieldChunk, 2*(len(p.fields)-p.off)))
		p.fields = append(chunk, p.fields[p.off:]...)
		p.off = 0
	}
	p.fields = append(p.fields, Field{Name: cur.name, Value: v})
}

// trimSpace removes leading and trailing ASCII white space.
func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

// finish returns the current fields as a paragraph, capped so that
// appending to one paragraph's fields cannot overwrite another's.
func (p *Parser) finish(start int) Paragraph {
	n := len(p.fields)
	para := Paragraph{Line: start, Fields: p.fields[p.off:n:n]}
	p.off = n
	return para
}

// equalFold reports whether a and b are equal under ASCII case folding, as
// dpkg compares field names (strcasecmp); other bytes must match exactly.
func equalFold[S ~string | ~[]byte, T ~string | ~[]byte](a S, b T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		c, d := a[i], b[i]
		if c != d && (c|0x20 != d|0x20 || c|0x20 < 'a' || c|0x20 > 'z') {
			return false
		}
	}
	return true
}
