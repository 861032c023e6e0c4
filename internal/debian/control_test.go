package debian_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"piuparts-server/internal/debian"
)

// parseAll returns every paragraph of in, or the first error.
func parseAll(in string) ([]debian.Paragraph, error) {
	p := debian.NewParser(strings.NewReader(in))
	var out []debian.Paragraph
	for {
		para, err := p.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, para)
	}
}

func TestParser_Next(t *testing.T) {
	long := strings.Repeat("x", 150_000)
	type F = debian.Field
	tests := []struct {
		name string
		in   string
		want []debian.Paragraph
	}{
		{"Empty", "", nil},
		{"OnlyBlankLines", "\n \n\t\n", nil},
		{"OneParagraph", "Package: a\nVersion: 1\n", []debian.Paragraph{
			{Line: 1, Fields: []F{{"Package", "a"}, {"Version", "1"}}}}},
		{"NoFinalNewline", "Package: a\nVersion: 1", []debian.Paragraph{
			{Line: 1, Fields: []F{{"Package", "a"}, {"Version", "1"}}}}},
		{"TwoParagraphsManyBlankLines", "A: 1\n\n  \n\t\n\nB: 2\n\n", []debian.Paragraph{
			{Line: 1, Fields: []F{{"A", "1"}}}, {Line: 6, Fields: []F{{"B", "2"}}}}},
		{"WhitespaceLineSeparates", "A: 1\n   \nB: 2\n", []debian.Paragraph{
			{Line: 1, Fields: []F{{"A", "1"}}}, {Line: 3, Fields: []F{{"B", "2"}}}}},
		{"Folded", "Description: short\n long line\n .\n\tmore\nB: 2\n", []debian.Paragraph{
			{Line: 1, Fields: []F{{"Description", "short\n long line\n .\n\tmore"}, {"B", "2"}}}}},
		{"FoldedEmptyFirstLine", "Files:\n abc 1 f.dsc\n def 2 f.tar\n", []debian.Paragraph{
			{Line: 1, Fields: []F{{"Files", "abc 1 f.dsc\n def 2 f.tar"}}}}},
		{"TrailingSpaceTrimmed", "A:   v  \t\n", []debian.Paragraph{
			{Line: 1, Fields: []F{{"A", "v"}}}}},
		{"EmptyValue", "A:\nB: 2\n", []debian.Paragraph{
			{Line: 1, Fields: []F{{"A", ""}, {"B", "2"}}}}},
		{"ColonInValue", "Source: a (1:2-3)\n", []debian.Paragraph{
			{Line: 1, Fields: []F{{"Source", "a (1:2-3)"}}}}},
		{"Comments", "# head\nA: 1\n# inside\n continued\nB: 2\n\n# between\n\nC: 3\n", []debian.Paragraph{
			{Line: 2, Fields: []F{{"A", "1\n continued"}, {"B", "2"}}}, {Line: 9, Fields: []F{{"C", "3"}}}}},
		{"CRLF", "A: 1\r\nB: 2\r\n\r\nC: 3\r\n", []debian.Paragraph{
			{Line: 1, Fields: []F{{"A", "1"}, {"B", "2"}}}, {Line: 4, Fields: []F{{"C", "3"}}}}},
		{"CarriageReturnsDropped", "A: 1\r\r\n 2\r\nB: x\ry\r\n", []debian.Paragraph{
			{Line: 1, Fields: []F{{"A", "1\n 2"}, {"B", "x\ry"}}}}},
		{"LongLine", "A: " + long + "\nB: " + long + "\n " + long + "\n", []debian.Paragraph{
			{Line: 1, Fields: []F{{"A", long}, {"B", long + "\n " + long}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseAll(tt.in)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parse(%.60q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParser_Errors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantLine int
		wantMsg  string
	}{
		{"MissingColon", "A: 1\nB 2\n", 2, "missing colon"},
		{"EmptyName", "A: 1\n\n: 2\n", 3, "empty field name"},
		{"SpaceInName", "Pack age: a\n", 1, "invalid character in field name"},
		{"ContinuationFirst", " continued\nA: 1\n", 1, "continuation line outside a field"},
		{"ContinuationAfterBlank", "A: 1\n\n more\n", 3, "continuation line outside a field"},
		{"Duplicate", "Package: a\nVersion: 1\npackage: b\n", 3, `duplicate field "package"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseAll(tt.in)
			var se *debian.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("parse(%q) error = %v, want *SyntaxError", tt.in, err)
			}
			if se.Line != tt.wantLine || !strings.Contains(se.Msg, tt.wantMsg) {
				t.Errorf("parse(%q) error = line %d %q, want line %d %q", tt.in, se.Line, se.Msg, tt.wantLine, tt.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Errorf("error %q does not start with its line", err)
			}
		})
	}
}

func TestParser_ErrorIsSticky(t *testing.T) {
	p := debian.NewParser(strings.NewReader("bad\n\nA: 1\n"))
	_, err1 := p.Next()
	_, err2 := p.Next()
	if err1 == nil || err1 != err2 {
		t.Errorf("Next after error = %v, then %v; want the same error twice", err1, err2)
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestParser_ReaderError(t *testing.T) {
	boom := errors.New("boom")
	_, err := debian.NewParser(io.MultiReader(strings.NewReader("A: 1\n"), failingReader{boom})).Next()
	if !errors.Is(err, boom) {
		t.Errorf("Next() error = %v, want one wrapping %v", err, boom)
	}
}

func TestParagraph_Lookup(t *testing.T) {
	paras, err := parseAll("Package: a\nPre-Depends: b\n")
	if err != nil {
		t.Fatal(err)
	}
	p := paras[0]
	tests := []struct {
		name, field, want string
		ok                bool
	}{
		{"Exact", "Package", "a", true},
		{"Lower", "pre-depends", "b", true},
		{"Upper", "PACKAGE", "a", true},
		{"Missing", "Depends", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := p.Lookup(tt.field)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Lookup(%q) = %q, %v, want %q, %v", tt.field, got, ok, tt.want, tt.ok)
			}
			if g := p.Get(tt.field); g != tt.want {
				t.Errorf("Get(%q) = %q, want %q", tt.field, g, tt.want)
			}
		})
	}
	if p.Fields[1].Name != "Pre-Depends" {
		t.Errorf("field name = %q, want original case %q", p.Fields[1].Name, "Pre-Depends")
	}
}

// TestParagraph_StringRoundTrip checks that formatting the fixture's
// paragraphs and parsing them again gives the same paragraphs.
func TestParagraph_StringRoundTrip(t *testing.T) {
	data, err := os.ReadFile("testdata/Packages_bookworm_subset")
	if err != nil {
		t.Fatal(err)
	}
	paras, err := parseAll(string(data))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, p := range paras {
		b.WriteString(p.String())
		b.WriteString("\n")
	}
	again, err := parseAll(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != len(paras) {
		t.Fatalf("reparsed %d paragraphs, want %d", len(again), len(paras))
	}
	for i := range paras {
		if !reflect.DeepEqual(again[i].Fields, paras[i].Fields) {
			t.Errorf("paragraph %d changed on round trip:\n%s\nvs\n%s", i, again[i], paras[i])
		}
	}
}

func TestParser_Bookworm(t *testing.T) {
	if testing.Short() {
		t.Skip("parses all of bookworm main; skipped with -short")
	}
	f, err := os.Open(bookwormPackages(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := debian.NewParser(f)
	n, folded := 0, 0
	for {
		para, err := p.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if para.Get("Package") == "" || para.Get("Version") == "" {
			t.Errorf("paragraph at line %d lacks Package or Version", para.Line)
		}
		if strings.Contains(para.Get("Tag"), "\n ") {
			folded++
		}
	}
	if n != 63440 {
		t.Errorf("parsed %d paragraphs, want 63440", n)
	}
	if folded == 0 {
		t.Errorf("no folded Tag field found")
	}
}

// parseAllBlock is parseAll with a Parser reading blocks of block bytes
// through r.
func parseAllBlock(r io.Reader, block int) ([]debian.Paragraph, error) {
	p := debian.NewParserBlock(r, block)
	var out []debian.Paragraph
	for {
		para, err := p.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, para)
	}
}

// TestParser_Blocks checks that paragraphs, values and line numbers do not
// depend on where block boundaries fall or on how the reader splits its
// data.
func TestParser_Blocks(t *testing.T) {
	fixture, err := os.ReadFile("testdata/Packages_bookworm_subset")
	if err != nil {
		t.Fatal(err)
	}
	huge := "Package: huge\nDescription: " + strings.Repeat("y", 3<<20) + "\n " + strings.Repeat("z", 100) + "\n\n"
	inputs := map[string]string{
		"Fixture":        string(fixture),
		"FixtureTwice":   string(fixture) + "\n" + string(fixture),
		"HugeParagraph":  string(fixture) + "\n" + huge + string(fixture),
		"CRLF":           strings.ReplaceAll(string(fixture), "\n", "\r\n"),
		"BlankWithSpace": strings.ReplaceAll(string(fixture), "\n\n", "\n \t\n# comment\n\n"),
	}
	for name, in := range inputs {
		want, err := parseAll(in)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		readers := map[string]func() io.Reader{
			"Plain":   func() io.Reader { return strings.NewReader(in) },
			"OneByte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(in)) },
			"Half":    func() io.Reader { return iotest.HalfReader(strings.NewReader(in)) },
		}
		for rname, r := range readers {
			for _, block := range []int{1, 7, 100, 4096} {
				t.Run(fmt.Sprintf("%s/%s/%d", name, rname, block), func(t *testing.T) {
					if rname == "OneByte" && len(in) > 1<<20 {
						t.Skip("too slow one byte at a time")
					}
					got, err := parseAllBlock(r(), block)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("block size %d gave %d paragraphs, differing from the %d of one block", block, len(got), len(want))
					}
				})
			}
		}
	}
}
