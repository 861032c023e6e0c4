package debian

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// DefaultBufferSize is the size of the read buffer [NewParser] puts in front
// of its reader. Lines longer than this still parse; they are reassembled.
const DefaultBufferSize = 256 << 10

// fieldChunk is how many Field values the parser allocates at once and hands
// out to successive paragraphs, so that a paragraph costs about one
// allocation (its text) rather than two.
const fieldChunk = 1024

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
// field. A "\r" before the "\n" is dropped.
//
// A Parser is not safe for concurrent use.
type Parser struct {
	r      *bufio.Reader
	line   int
	long   []byte  // reassembles lines longer than the buffer
	buf    []byte  // the current paragraph's names and values
	spans  []span  // offsets of names and values in buf
	fields []Field // chunk handed out to paragraphs
	err    error   // sticky
}

type span struct {
	nameStart, nameEnd, valStart, valEnd int
}

// NewParser returns a Parser reading from r through a buffer of
// [DefaultBufferSize] bytes.
func NewParser(r io.Reader) *Parser {
	return &Parser{r: bufio.NewReaderSize(r, DefaultBufferSize)}
}

// Line returns the number of lines read so far.
func (p *Parser) Line() int { return p.line }

// readLine returns the next line without its line terminator. The slice is
// only valid until the next call. It returns io.EOF when there are no more
// lines; a last line without "\n" is still returned.
func (p *Parser) readLine() ([]byte, error) {
	line, err := p.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		p.long = append(p.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = p.r.ReadSlice('\n')
			p.long = append(p.long, line...)
		}
		line = p.long
	}
	if err != nil {
		if err != io.EOF || len(line) == 0 {
			return nil, err
		}
	}
	p.line++
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// isBlank reports whether line holds only spaces, tabs and carriage
// returns: such a line ends a paragraph.
func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
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

func (p *Parser) next() (Paragraph, error) {
	p.buf = p.buf[:0]
	p.spans = p.spans[:0]
	start := 0
	for {
		line, err := p.readLine()
		if err != nil {
			if err == io.EOF && len(p.spans) > 0 {
				return p.finish(start), nil
			}
			if err != io.EOF {
				err = fmt.Errorf("read control file after line %d: %w", p.line, err)
			}
			return Paragraph{}, err
		}
		switch {
		case isBlank(line):
			if len(p.spans) > 0 {
				return p.finish(start), nil
			}
		case line[0] == '#':
			// A comment: skipped, and it neither starts nor ends a paragraph.
		case line[0] == ' ' || line[0] == '\t':
			if len(p.spans) == 0 {
				return Paragraph{}, &SyntaxError{Line: p.line, Msg: "continuation line outside a field"}
			}
			p.buf = append(p.buf, '\n')
			p.buf = append(p.buf, line...)
			p.spans[len(p.spans)-1].valEnd = len(p.buf)
		default:
			if len(p.spans) == 0 {
				start = p.line
			}
			if err := p.addField(line); err != nil {
				return Paragraph{}, err
			}
		}
	}
}

// addField appends the field that starts on line.
func (p *Parser) addField(line []byte) error {
	colon := bytes.IndexByte(line, ':')
	if colon < 0 {
		return &SyntaxError{Line: p.line, Msg: fmt.Sprintf("missing colon in %q", cut(string(line)))}
	}
	name := line[:colon]
	if len(name) == 0 {
		return &SyntaxError{Line: p.line, Msg: "empty field name"}
	}
	for _, c := range name {
		if c <= ' ' || c == 0x7f {
			return &SyntaxError{Line: p.line, Msg: fmt.Sprintf("invalid character in field name %q", cut(string(name)))}
		}
	}
	if p.has(name) {
		return &SyntaxError{Line: p.line, Msg: fmt.Sprintf("duplicate field %q", cut(string(name)))}
	}
	if n := len(p.spans); n > 0 {
		p.trimLast()
	}
	value := line[colon+1:]
	for len(value) > 0 && (value[0] == ' ' || value[0] == '\t') {
		value = value[1:]
	}
	var s span
	s.nameStart = len(p.buf)
	p.buf = append(p.buf, name...)
	s.nameEnd = len(p.buf)
	s.valStart = len(p.buf)
	p.buf = append(p.buf, value...)
	s.valEnd = len(p.buf)
	p.spans = append(p.spans, s)
	return nil
}

// has reports whether the current paragraph already has a field called name
// (ASCII case-insensitively).
func (p *Parser) has(name []byte) bool {
	for _, s := range p.spans {
		if equalFold(p.buf[s.nameStart:s.nameEnd], name) {
			return true
		}
	}
	return false
}

// trimLast removes leading and trailing white space (including line breaks
// of an empty first line) from the last field's value.
func (p *Parser) trimLast() {
	s := &p.spans[len(p.spans)-1]
	for s.valStart < s.valEnd && isSpace(p.buf[s.valStart]) {
		s.valStart++
	}
	for s.valEnd > s.valStart && isSpace(p.buf[s.valEnd-1]) {
		s.valEnd--
	}
}

// finish turns the accumulated names and values into a Paragraph whose
// strings all share one allocation.
func (p *Parser) finish(start int) Paragraph {
	p.trimLast()
	text := string(p.buf)
	n := len(p.spans)
	if n > cap(p.fields)-len(p.fields) {
		p.fields = make([]Field, 0, max(fieldChunk, n))
	}
	off := len(p.fields)
	for _, s := range p.spans {
		p.fields = append(p.fields, Field{Name: text[s.nameStart:s.nameEnd], Value: text[s.valStart:s.valEnd]})
	}
	fields := p.fields[off : off+n : off+n]
	p.buf = p.buf[:0]
	p.spans = p.spans[:0]
	return Paragraph{Line: start, Fields: fields}
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
