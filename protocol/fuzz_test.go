package protocol_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"piuparts-server/protocol"
)

// addTestdataSeeds adds every testdata/*.txt file as a seed.
func addTestdataSeeds(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// expectedReadError reports whether err is one of the documented errors of
// a Reader on in-memory input.
func expectedReadError(err error) bool {
	var se *protocol.SyntaxError
	var le *protocol.LimitError
	return err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &se) || errors.As(err, &le)
}

func FuzzReadCommand(f *testing.F) {
	addTestdataSeeds(f)
	for _, s := range []string{"", "\n", "reserve", "reserve\r\n", "pass  a b\n", " x\n", "a\tb\n", "section \xff\x00\n"} {
		f.Add([]byte(s))
	}
	const maxLine = 64
	f.Fuzz(func(t *testing.T, data []byte) {
		r := protocol.NewReader(bufio.NewReaderSize(bytes.NewReader(data), 16))
		r.Limits.MaxLine = maxLine
		var reencoded bytes.Buffer
		w := protocol.NewWriter(bufio.NewWriter(&reencoded))
		for {
			c, err := r.ReadCommand()
			if err != nil {
				if !expectedReadError(err) {
					t.Fatalf("ReadCommand: unexpected error %v", err)
				}
				break
			}
			if len(c.String()) > maxLine {
				t.Fatalf("ReadCommand returned a %d-byte line, MaxLine is %d", len(c.String()), maxLine)
			}
			_ = c.Validate()
			// Whatever the reader accepts, the writer writes back byte for byte.
			if err := w.WriteCommand(c); err != nil {
				t.Fatalf("WriteCommand(%q) after ReadCommand: %v", c, err)
			}
		}
		if !bytes.HasPrefix(data, reencoded.Bytes()) {
			t.Fatalf("re-encoded commands %q are not a prefix of the input %q", reencoded.Bytes(), data)
		}
	})
}

func FuzzLongPartRoundTrip(f *testing.F) {
	for _, p := range roundTripPayloads() {
		if len(p) > 4096 {
			continue // the fuzzer would spend its time minimizing it
		}
		f.Add([]byte(p), uint(len(p)/2))
	}
	f.Add([]byte("no final newline"), uint(3))
	f.Fuzz(func(t *testing.T, payload []byte, split uint) {
		var wire bytes.Buffer
		w := protocol.NewWriter(bufio.NewWriterSize(&wire, 16))
		lw := w.LongPartWriter()
		// Two writes, split anywhere, must frame like one.
		at := int(split % uint(len(payload)+1))
		if _, err := lw.Write(payload[:at]); err != nil {
			t.Fatal(err)
		}
		if _, err := lw.Write(payload[at:]); err != nil {
			t.Fatal(err)
		}
		if err := lw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteCommand(protocol.Command{Keyword: "reserve"}); err != nil {
			t.Fatal(err)
		}

		r := protocol.NewReader(bufio.NewReaderSize(bytes.NewReader(wire.Bytes()), 16))
		got, err := r.ReadLongPart()
		if err != nil {
			t.Fatalf("ReadLongPart of %q: %v", wire.Bytes(), err)
		}
		want := payload
		if len(want) > 0 && want[len(want)-1] != '\n' {
			want = append(want[:len(want):len(want)], '\n')
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("round trip = %q, want %q", got, want)
		}
		if c, err := r.ReadCommand(); err != nil || c.Keyword != "reserve" {
			t.Fatalf("ReadCommand after the long part = %q, %v, want reserve", c, err)
		}
	})
}

// FuzzReadSession feeds arbitrary bytes to a master's read loop: it must
// end with a documented error, never panic, and never return more than
// the limits allow.
func FuzzReadSession(f *testing.F) {
	addTestdataSeeds(f)
	f.Add([]byte("pass a 1\n x\n.\npass a 1\n y\n\n"))
	const maxLine, maxLongPart = 64, 256
	f.Fuzz(func(t *testing.T, data []byte) {
		r := protocol.NewReader(bufio.NewReaderSize(bytes.NewReader(data), 16))
		r.Limits = protocol.Limits{MaxLine: maxLine, MaxLongPart: maxLongPart}
		for {
			c, err := r.ReadCommand()
			if err != nil {
				if !expectedReadError(err) {
					t.Fatalf("ReadCommand: unexpected error %v", err)
				}
				return
			}
			if len(c.String()) > maxLine {
				t.Fatalf("ReadCommand returned a %d-byte line, MaxLine is %d", len(c.String()), maxLine)
			}
			if !c.HasLongPart() {
				continue
			}
			n, err := io.Copy(io.Discard, r.LongPartReader())
			if n > maxLongPart {
				t.Fatalf("long part yielded %d bytes, MaxLongPart is %d", n, maxLongPart)
			}
			if err != nil {
				if !expectedReadError(err) {
					t.Fatalf("long part: unexpected error %v", err)
				}
				return
			}
		}
	})
}
