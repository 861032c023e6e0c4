package protocol_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"piuparts-server/protocol"
)

// newWriter returns a Writer on a bufio.Writer over out; tests never flush
// it themselves, so they also check that the Writer flushes.
func newWriter(out *bytes.Buffer) *protocol.Writer {
	return protocol.NewWriter(bufio.NewWriter(out))
}

func TestWriter_Lines(t *testing.T) {
	tests := []struct {
		name  string
		write func(w *protocol.Writer) error
		want  string
	}{
		{"Hello", (*protocol.Writer).WriteHello, "hello\n"},
		{"OK", func(w *protocol.Writer) error { return w.WriteOK() }, "ok\n"},
		{"OKArgs", func(w *protocol.Writer) error { return w.WriteOK("vorbisgain", "2.3-4") }, "ok vorbisgain 2.3-4\n"},
		{"Error", (*protocol.Writer).WriteError, "error\n"},
		{"Busy", (*protocol.Writer).WriteBusy, "busy\n"},
		{"Response", func(w *protocol.Writer) error {
			return w.WriteResponse(protocol.Response{Keyword: "ok", Args: []string{"0"}})
		}, "ok 0\n"},
		{"Command", func(w *protocol.Writer) error {
			return w.WriteCommand(protocol.Command{Keyword: "unreserve", Args: []string{"liwc", "1:1.2.3-4"}})
		}, "unreserve liwc 1:1.2.3-4\n"},
		{"CommandNoArgs", func(w *protocol.Writer) error {
			return w.WriteCommand(protocol.Command{Keyword: "reserve"})
		}, "reserve\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := tt.write(newWriter(&out)); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("wrote %q, want %q", out.String(), tt.want)
			}
		})
	}
}

func TestWriter_InvalidField(t *testing.T) {
	tests := []struct {
		name  string
		write func(w *protocol.Writer) error
	}{
		{"EmptyArg", func(w *protocol.Writer) error { return w.WriteOK("") }},
		{"SpaceInArg", func(w *protocol.Writer) error { return w.WriteOK("a b") }},
		{"NewlineInArg", func(w *protocol.Writer) error { return w.WriteOK("a\nerror") }},
		{"CRInArg", func(w *protocol.Writer) error { return w.WriteOK("a\r") }},
		{"TabInArg", func(w *protocol.Writer) error { return w.WriteOK("a\tb") }},
		{"UnknownResponse", func(w *protocol.Writer) error {
			return w.WriteResponse(protocol.Response{Keyword: "hello"})
		}},
		{"EmptyKeyword", func(w *protocol.Writer) error { return w.WriteCommand(protocol.Command{}) }},
		{"NewlineInKeyword", func(w *protocol.Writer) error {
			return w.WriteCommand(protocol.Command{Keyword: "reserve\nreserve"})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := tt.write(newWriter(&out))
			if !errors.Is(err, protocol.ErrInvalidField) {
				t.Errorf("error = %v, want ErrInvalidField", err)
			}
			if out.Len() != 0 {
				t.Errorf("wrote %q after refusing the line, want nothing", out.String())
			}
		})
	}
}

func TestWriter_LongPartWriter(t *testing.T) {
	tests := []struct {
		name    string
		payload []string // written with one Write each
		want    string
	}{
		{"Empty", nil, ".\n"},
		{"Lines", []string{"a\nb\n"}, " a\n b\n.\n"},
		{"Dot", []string{".\n"}, " .\n.\n"},
		{"DotNoNewline", []string{"."}, " .\n.\n"},
		{"EmptyLines", []string{"\n\n"}, " \n \n.\n"},
		{"NoFinalNewline", []string{"a\nb"}, " a\n b\n.\n"},
		{"SplitWrites", []string{"ab", "c\nd", "", "e\n", "\n"}, " abc\n de\n \n.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			lw := newWriter(&out).LongPartWriter()
			for _, p := range tt.payload {
				if n, err := io.WriteString(lw, p); err != nil || n != len(p) {
					t.Fatalf("Write(%q) = %d, %v", p, n, err)
				}
			}
			if err := lw.Close(); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("wrote %q, want %q", out.String(), tt.want)
			}
		})
	}
}

func TestWriter_LongPartClose(t *testing.T) {
	t.Run("WriteAfterClose", func(t *testing.T) {
		var out bytes.Buffer
		lw := newWriter(&out).LongPartWriter()
		if err := lw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := lw.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if _, err := lw.Write([]byte("x\n")); !errors.Is(err, protocol.ErrLongPartClosed) {
			t.Errorf("Write after Close: error = %v, want ErrLongPartClosed", err)
		}
		if out.String() != ".\n" {
			t.Errorf("wrote %q, want %q", out.String(), ".\n")
		}
	})
	t.Run("NextLineCloses", func(t *testing.T) {
		var out bytes.Buffer
		w := newWriter(&out)
		lw := w.LongPartWriter()
		if _, err := io.WriteString(lw, "unfinished"); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteCommand(protocol.Command{Keyword: "reserve"}); err != nil {
			t.Fatal(err)
		}
		if want := " unfinished\n.\nreserve\n"; out.String() != want {
			t.Errorf("wrote %q, want %q", out.String(), want)
		}
		if _, err := lw.Write([]byte("late\n")); !errors.Is(err, protocol.ErrLongPartClosed) {
			t.Errorf("Write after the next command: error = %v, want ErrLongPartClosed", err)
		}
	})
}

// failWriter fails every write.
type failWriter struct{}

var errBroken = errors.New("broken pipe")

func (failWriter) Write([]byte) (int, error) { return 0, errBroken }

func TestWriter_UnderlyingError(t *testing.T) {
	w := protocol.NewWriter(bufio.NewWriter(failWriter{}))
	if err := w.WriteOK(); !errors.Is(err, errBroken) {
		t.Errorf("WriteOK: error = %v, want %v", err, errBroken)
	}
	lw := protocol.NewWriter(bufio.NewWriterSize(failWriter{}, 16)).LongPartWriter()
	_, werr := io.WriteString(lw, strings.Repeat("x", 100))
	cerr := lw.Close()
	if !errors.Is(werr, errBroken) || !errors.Is(cerr, errBroken) {
		t.Errorf("long part Write, Close errors = %v, %v, want %v", werr, cerr, errBroken)
	}
}
