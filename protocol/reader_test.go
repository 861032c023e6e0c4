package protocol_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"piuparts-server/protocol"
)

// errSyntax stands for "any *protocol.SyntaxError" in the tables below.
var errSyntax = errors.New("want *protocol.SyntaxError")

// checkErr compares err with want: nil, errSyntax or a sentinel for errors.Is.
func checkErr(t *testing.T, call string, err, want error) {
	t.Helper()
	var se *protocol.SyntaxError
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", call, err)
	case want == errSyntax && !errors.As(err, &se):
		t.Fatalf("%s: error = %v, want a *protocol.SyntaxError", call, err)
	case want != nil && want != errSyntax && !errors.Is(err, want):
		t.Fatalf("%s: error = %v, want %v", call, err, want)
	}
}

func newReader(s string) *protocol.Reader {
	return protocol.NewReader(bufio.NewReader(strings.NewReader(s)))
}

func TestReader_ReadCommand(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    protocol.Command
		wantErr error
	}{
		{"Section", "section sid\n", protocol.Command{Keyword: "section", Args: []string{"sid"}}, nil},
		{"NoArgs", "reserve\n", protocol.Command{Keyword: "reserve"}, nil},
		{"TwoArgs", "pass liwc 1.2.3-4\n", protocol.Command{Keyword: "pass", Args: []string{"liwc", "1.2.3-4"}}, nil},
		{"UTF8Arg", "section s\u00fcd\n", protocol.Command{Keyword: "section", Args: []string{"s\u00fcd"}}, nil},
		{"InvalidUTF8Arg", "section \xff\n", protocol.Command{Keyword: "section", Args: []string{"\xff"}}, nil},
		{"EOF", "", protocol.Command{}, io.EOF},
		{"NoNewline", "reserve", protocol.Command{}, io.ErrUnexpectedEOF},
		{"EmptyLine", "\n", protocol.Command{}, errSyntax},
		{"OnlySpace", " \n", protocol.Command{}, errSyntax},
		{"LeadingSpace", " reserve\n", protocol.Command{}, errSyntax},
		{"TrailingSpace", "reserve \n", protocol.Command{}, errSyntax},
		{"RepeatedSpace", "pass  liwc 1.2.3-4\n", protocol.Command{}, errSyntax},
		{"CRLF", "reserve\r\n", protocol.Command{}, errSyntax},
		{"Tab", "pass\tliwc 1.2.3-4\n", protocol.Command{}, errSyntax},
		{"NUL", "section s\x00d\n", protocol.Command{}, errSyntax},
		{"DEL", "section \x7f\n", protocol.Command{}, errSyntax},
		{"MaxLine", strings.Repeat("a", protocol.DefaultMaxLine) + "\n",
			protocol.Command{Keyword: strings.Repeat("a", protocol.DefaultMaxLine)}, nil},
		{"LineTooLong", strings.Repeat("a", protocol.DefaultMaxLine+1) + "\n", protocol.Command{}, protocol.ErrLineTooLong},
		{"LineTooLongNoNewline", strings.Repeat("a", protocol.DefaultMaxLine+1), protocol.Command{}, protocol.ErrLineTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newReader(tt.in).ReadCommand()
			checkErr(t, "ReadCommand", err, tt.wantErr)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ReadCommand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestReader_ReadCommandLimitError(t *testing.T) {
	r := newReader(strings.Repeat("x", 100) + "\n")
	r.Limits.MaxLine = 99
	_, err := r.ReadCommand()
	var le *protocol.LimitError
	if !errors.As(err, &le) {
		t.Fatalf("ReadCommand: error = %v, want *protocol.LimitError", err)
	}
	if le.Limit != "MaxLine" || le.Max != 99 {
		t.Errorf("LimitError = %+v, want Limit MaxLine, Max 99", le)
	}
	if msg := err.Error(); !strings.Contains(msg, "MaxLine=99") {
		t.Errorf("error message %q does not name the limit", msg)
	}
}

// TestReader_ReadCommandLongLineSmallBuffer reads lines longer than the
// bufio.Reader's buffer, one byte per read.
func TestReader_ReadCommandLongLineSmallBuffer(t *testing.T) {
	long := "section " + strings.Repeat("s", 200)
	in := long + "\n" + long + "x\n"
	r := protocol.NewReader(bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(in)), 16))
	r.Limits.MaxLine = len(long)
	c, err := r.ReadCommand()
	if err != nil {
		t.Fatal(err)
	}
	if c.String() != long {
		t.Errorf("ReadCommand() = %q, want %q", c, long)
	}
	if _, err := r.ReadCommand(); !errors.Is(err, protocol.ErrLineTooLong) {
		t.Errorf("second ReadCommand: error = %v, want ErrLineTooLong", err)
	}
}

// countingReader counts the bytes read from it and produces an endless
// stream of its pattern.
type countingReader struct {
	pattern []byte
	n       int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.pattern[(c.n+int64(i))%int64(len(c.pattern))]
	}
	c.n += int64(len(p))
	return len(p), nil
}

// TestReader_LimitsCheckedWhileReading feeds endless input and checks that
// the reader stops after about the limit, not at the end of the input.
func TestReader_LimitsCheckedWhileReading(t *testing.T) {
	t.Run("Line", func(t *testing.T) {
		src := &countingReader{pattern: []byte("a")}
		r := protocol.NewReader(bufio.NewReader(src))
		if _, err := r.ReadCommand(); !errors.Is(err, protocol.ErrLineTooLong) {
			t.Fatalf("ReadCommand: error = %v, want ErrLineTooLong", err)
		}
		if max := int64(protocol.DefaultMaxLine + 4096); src.n > max {
			t.Errorf("read %d bytes of an endless line, want at most %d", src.n, max)
		}
	})
	t.Run("LongPart", func(t *testing.T) {
		src := &countingReader{pattern: []byte(" a long-part line\n")}
		r := protocol.NewReader(bufio.NewReader(src))
		r.Limits.MaxLongPart = 1 << 20
		n, err := io.Copy(io.Discard, r.LongPartReader())
		if !errors.Is(err, protocol.ErrLongPartTooLarge) {
			t.Fatalf("copy long part: error = %v, want ErrLongPartTooLarge", err)
		}
		if n > 1<<20 {
			t.Errorf("long part yielded %d bytes, more than MaxLongPart", n)
		}
		if max := int64(2<<20 + 4096); src.n > max {
			t.Errorf("read %d bytes of an endless long part, want at most %d", src.n, max)
		}
	})
}

func TestReader_ReadResponse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    protocol.Response
		wantErr error
	}{
		{"OK", "ok\n", protocol.Response{Keyword: "ok"}, nil},
		{"OKArgs", "ok vorbisgain 2.3-4\n", protocol.Response{Keyword: "ok", Args: []string{"vorbisgain", "2.3-4"}}, nil},
		{"Status", "ok (recycle) successfully-tested=1 total=1\n",
			protocol.Response{Keyword: "ok", Args: []string{"(recycle)", "successfully-tested=1", "total=1"}}, nil},
		{"Error", "error\n", protocol.Response{Keyword: "error"}, nil},
		{"Busy", "busy\n", protocol.Response{Keyword: "busy"}, nil},
		{"Hello", "hello\n", protocol.Response{}, errSyntax},
		{"Uppercase", "OK\n", protocol.Response{}, errSyntax},
		{"TrailingSpace", "ok \n", protocol.Response{}, errSyntax},
		{"CRLF", "ok\r\n", protocol.Response{}, errSyntax},
		{"EOF", "", protocol.Response{}, io.EOF},
		{"Cut", "ok vorbis", protocol.Response{}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newReader(tt.in).ReadResponse()
			checkErr(t, "ReadResponse", err, tt.wantErr)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ReadResponse(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestReader_ReadHello(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{"Hello", "hello\n", nil},
		{"TrailingSpace", "hello \n", protocol.ErrNoHello},
		{"CRLF", "hello\r\n", protocol.ErrNoHello},
		{"Capital", "Hello\n", protocol.ErrNoHello},
		{"OK", "ok\n", protocol.ErrNoHello},
		{"Empty", "\n", protocol.ErrNoHello},
		{"Cut", "hello", io.ErrUnexpectedEOF},
		{"EOF", "", io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := newReader(tt.in).ReadHello()
			checkErr(t, "ReadHello", err, tt.wantErr)
		})
	}
}

func TestReader_LongPartReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		max     int64
		want    string
		wantErr error
	}{
		{"Empty", ".\n", 0, "", nil},
		{"Lines", " a\n b\n.\n", 0, "a\nb\n", nil},
		{"Dot", " .\n.\n", 0, ".\n", nil},
		{"EmptyPayloadLine", " \n.\n", 0, "\n", nil},
		{"CR", " a\r\n.\n", 0, "a\r\n", nil},
		{"AtLimit", " abc\n.\n", 4, "abc\n", nil},
		{"OverLimit", " abcd\n.\n", 4, "", protocol.ErrLongPartTooLarge},
		{"EOF", "", 0, "", io.ErrUnexpectedEOF},
		{"EOFAfterLine", " abc\n", 0, "abc\n", io.ErrUnexpectedEOF},
		{"EOFInLine", " abc", 0, "abc", io.ErrUnexpectedEOF},
		{"EOFAfterDot", " abc\n.", 0, "abc\n", io.ErrUnexpectedEOF},
		{"NoLeadingSpace", " a\nb\n.\n", 0, "a\n", errSyntax},
		{"EmptyLine", " a\n\n.\n", 0, "a\n", errSyntax},
		{"DotSpace", ". \n", 0, "", errSyntax},
		{"DotCR", ".\r\n", 0, "", errSyntax},
		{"DotDot", "..\n", 0, "", errSyntax},
		{"Tab", "\ta\n.\n", 0, "", errSyntax},
	}
	for _, tt := range tests {
		for _, small := range []bool{false, true} {
			name := tt.name
			if small {
				name += "/OneByteReads"
			}
			t.Run(name, func(t *testing.T) {
				var src io.Reader = strings.NewReader(tt.in)
				if small {
					src = iotest.OneByteReader(src)
				}
				r := protocol.NewReader(bufio.NewReaderSize(src, 16))
				r.Limits.MaxLongPart = tt.max
				var got bytes.Buffer
				_, err := io.Copy(&got, r.LongPartReader())
				checkErr(t, "copy long part", err, tt.wantErr)
				if tt.wantErr != protocol.ErrLongPartTooLarge && got.String() != tt.want {
					t.Errorf("long part of %q = %q, want %q", tt.in, got.String(), tt.want)
				}
			})
		}
	}
}

func TestReader_LongPartSyntaxError(t *testing.T) {
	r := newReader("pass liwc 1.2.3-4\n ok line\nno space here\n.\n")
	if _, err := r.ReadCommand(); err != nil {
		t.Fatal(err)
	}
	_, err := r.ReadLongPart()
	var se *protocol.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("ReadLongPart: error = %v, want *protocol.SyntaxError", err)
	}
	if se.LineNum != 3 || se.Line != "no space here" {
		t.Errorf("SyntaxError = %+v, want line 3 %q", se, "no space here")
	}
	if msg := err.Error(); !strings.Contains(msg, "line 3") {
		t.Errorf("error message %q does not name the line", msg)
	}
}

// TestReader_Drain checks that a long part the caller did not finish is
// skipped by the next ReadCommand.
func TestReader_Drain(t *testing.T) {
	r := protocol.NewReader(bufio.NewReaderSize(strings.NewReader(
		"pass liwc 1.2.3-4\n"+strings.Repeat(" log line\n", 100)+".\nreserve\n"), 16))
	if _, err := r.ReadCommand(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(r.LongPartReader(), buf); err != nil {
		t.Fatal(err)
	}
	c, err := r.ReadCommand()
	if err != nil {
		t.Fatal(err)
	}
	if c.Keyword != "reserve" {
		t.Errorf("ReadCommand after partial long part = %q, want reserve", c)
	}
}

// TestReader_ReadDoesNotBlock checks that the long-part reader returns the
// bytes it has rather than wait for more, so a streaming consumer sees
// each line as it arrives.
func TestReader_ReadDoesNotBlock(t *testing.T) {
	pr, pw := io.Pipe()
	r := protocol.NewReader(bufio.NewReader(pr))
	lp := r.LongPartReader()
	go func() {
		_, _ = io.WriteString(pw, " first\n")
		// The second line is written only after the first was read.
	}()
	buf := make([]byte, 100)
	n, err := lp.Read(buf)
	if err != nil || string(buf[:n]) != "first\n" {
		t.Fatalf("Read = %q, %v, want %q", buf[:n], err, "first\n")
	}
	go func() {
		_, _ = io.WriteString(pw, " second\n.\n")
		_ = pw.Close()
	}()
	rest, err := io.ReadAll(lp)
	if err != nil || string(rest) != "second\n" {
		t.Errorf("ReadAll = %q, %v, want %q", rest, err, "second\n")
	}
}

// TestReader_DrainError checks that a broken long part the caller left
// unread makes the next read fail instead of reading payload as commands.
func TestReader_DrainError(t *testing.T) {
	r := newReader("pass liwc 1.2.3-4\n log\nreserve\n")
	if _, err := r.ReadCommand(); err != nil {
		t.Fatal(err)
	}
	_ = r.LongPartReader()
	_, err := r.ReadCommand()
	var se *protocol.SyntaxError
	if !errors.As(err, &se) || se.Line != "reserve" {
		t.Errorf("ReadCommand after a broken long part: error = %v, want *protocol.SyntaxError on %q", err, "reserve")
	}
}
