package protocol_test

import (
	"bufio"
	"bytes"
	"hash/crc32"
	"io"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"piuparts-server/protocol"
)

// roundTripPayloads are the log contents that must reach the master byte
// for byte (SPEC, compatibility notes), and a few more.
func roundTripPayloads() map[string]string {
	return map[string]string{
		"Empty":           "",
		"OneEmptyLine":    "\n",
		"Dot":             ".\n",
		"DotDot":          "..\n",
		"DotSpace":        ". \n",
		"SpaceDot":        " .\n",
		"DotsAround":      "a\n.\nb\n.\n",
		"LeadingTab":      "\tindented\n\t\tmore\n",
		"TrailingSpaces":  "trailing   \n",
		"EmptyLines":      "\n\n\nx\n\n",
		"UTF8":            "Dépaquetage de libc6 ✓ 日本語\n",
		"InvalidUTF8":     "bad \xff\xfe\xc3 bytes\n",
		"NUL":             "nul \x00 byte\n\x00\n",
		"CR":              "progress\r50%\r100%\r\n",
		"ESC":             "\x1b[31mred\x1b[0m\n",
		"LongLine":        strings.Repeat("0123456789", 10000) + "\n",
		"ManyLines":       strings.Repeat("line of a piuparts log\n", 5000),
		"PiupartsLogTail": "0m2.3s INFO: PASS: All tests.\n0m2.3s INFO: piuparts run ends.\n",
	}
}

func writeLongPart(t testing.TB, w *protocol.Writer, payload string) {
	t.Helper()
	lw := w.LongPartWriter()
	if _, err := io.WriteString(lw, payload); err != nil {
		t.Fatal(err)
	}
	if err := lw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLongPart_RoundTrip(t *testing.T) {
	for name, payload := range roundTripPayloads() {
		t.Run(name, func(t *testing.T) {
			var wire bytes.Buffer
			w := protocol.NewWriter(bufio.NewWriter(&wire))
			if err := w.WriteCommand(protocol.Command{Keyword: "pass", Args: []string{"liwc", "1.2.3-4"}}); err != nil {
				t.Fatal(err)
			}
			writeLongPart(t, w, payload)
			if err := w.WriteCommand(protocol.Command{Keyword: "reserve"}); err != nil {
				t.Fatal(err)
			}
			for _, oneByte := range []bool{false, true} {
				var src io.Reader = bytes.NewReader(wire.Bytes())
				if oneByte {
					src = iotest.OneByteReader(src)
				}
				r := protocol.NewReader(bufio.NewReader(src))
				if _, err := r.ReadCommand(); err != nil {
					t.Fatal(err)
				}
				got, err := r.ReadLongPart()
				if err != nil {
					t.Fatalf("ReadLongPart: %v", err)
				}
				if string(got) != payload {
					t.Errorf("round trip (one-byte reads %v) = %q, want %q", oneByte, cut(string(got)), cut(payload))
				}
				if c, err := r.ReadCommand(); err != nil || c.Keyword != "reserve" {
					t.Errorf("ReadCommand after the long part = %q, %v, want reserve", c, err)
				}
			}
		})
	}
}

// TestLongPart_FinalLineWithoutNewline checks the documented exception to
// the round trip: the writer ends an unfinished last line.
func TestLongPart_FinalLineWithoutNewline(t *testing.T) {
	var wire bytes.Buffer
	writeLongPart(t, protocol.NewWriter(bufio.NewWriter(&wire)), "last line\nno newline")
	got, err := protocol.NewReader(bufio.NewReader(&wire)).ReadLongPart()
	if err != nil {
		t.Fatal(err)
	}
	if want := "last line\nno newline\n"; string(got) != want {
		t.Errorf("ReadLongPart() = %q, want %q", got, want)
	}
}

func cut(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// logBlock returns 1 MiB of log-like payload: lines of varied length,
// some empty, some ".", all ending in "\n".
func logBlock() []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < 1<<20; i++ {
		switch i % 7 {
		case 0:
			b.WriteString(".\n")
		case 1:
			b.WriteString("\n")
		default:
			b.WriteString(strings.Repeat("x", (i*37)%200))
			b.WriteString(" piuparts log line\n")
		}
	}
	return b.Bytes()[:bytes.LastIndexByte(b.Bytes()[:1<<20], '\n')+1]
}

// TestLongPart_1GiBBoundedMemory streams 1 GiB through a long part over an
// io.Pipe and checks that it arrives intact while the process allocates
// far less than the payload. Under the race detector it streams 256 MiB,
// still four times the allocation bound.
func TestLongPart_1GiBBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1 GiB; skipped under -short")
	}
	total := 1 << 30
	if raceEnabled {
		total = 256 << 20
	}
	block := logBlock()
	reps := total / len(block)
	size := int64(reps * len(block))

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	pr, pw := io.Pipe()
	sent := crc32.NewIEEE()
	errc := make(chan error, 1)
	go func() {
		w := protocol.NewWriter(bufio.NewWriterSize(pw, 64<<10))
		lw := w.LongPartWriter()
		for range reps {
			_, _ = sent.Write(block)
			if _, err := lw.Write(block); err != nil {
				errc <- err
				return
			}
		}
		errc <- lw.Close()
		_ = pw.Close()
	}()
	r := protocol.NewReader(bufio.NewReaderSize(pr, 64<<10))
	r.Limits.MaxLongPart = size
	got := crc32.NewIEEE()
	n, err := io.Copy(got, r.LongPartReader())
	if err != nil {
		t.Fatalf("copy long part: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("write long part: %v", err)
	}
	runtime.ReadMemStats(&after)

	if n != size {
		t.Errorf("received %d bytes, want %d", n, size)
	}
	if got.Sum32() != sent.Sum32() {
		t.Errorf("received CRC %08x, sent %08x", got.Sum32(), sent.Sum32())
	}
	const maxAlloc = 64 << 20
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > maxAlloc {
		t.Errorf("allocated %d bytes while streaming %d, want at most %d", alloc, size, maxAlloc)
	}
	if after.HeapInuse > maxAlloc {
		t.Errorf("heap in use %d bytes after streaming, want at most %d", after.HeapInuse, maxAlloc)
	}
	t.Logf("streamed %d bytes, allocated %d bytes", size, after.TotalAlloc-before.TotalAlloc)
}
