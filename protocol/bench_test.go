package protocol_test

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"testing"

	"piuparts-server/protocol"
)

// benchPayload is 16 MiB of log-like lines.
func benchPayload() []byte {
	block := logBlock()
	return bytes.Repeat(block, 16)
}

func BenchmarkReadLongPart(b *testing.B) {
	payload := benchPayload()
	var wire bytes.Buffer
	writeLongPart(b, protocol.NewWriter(bufio.NewWriter(&wire)), string(payload))
	for _, size := range []int{4096, 64 << 10} {
		b.Run(byteSize(size), func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			src := bytes.NewReader(wire.Bytes())
			br := bufio.NewReaderSize(src, size)
			for b.Loop() {
				src.Reset(wire.Bytes())
				br.Reset(src)
				r := protocol.NewReader(br)
				n, err := io.Copy(io.Discard, r.LongPartReader())
				if err != nil || n != int64(len(payload)) {
					b.Fatalf("copy = %d, %v", n, err)
				}
			}
		})
	}
}

func BenchmarkWriteLongPart(b *testing.B) {
	payload := benchPayload()
	for _, size := range []int{4096, 64 << 10} {
		b.Run(byteSize(size), func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			bw := bufio.NewWriterSize(io.Discard, size)
			for b.Loop() {
				lw := protocol.NewWriter(bw).LongPartWriter()
				// Write in 32 KiB pieces, as io.Copy from a log file does.
				for p := payload; len(p) > 0; {
					n := min(len(p), 32<<10)
					if _, err := lw.Write(p[:n]); err != nil {
						b.Fatal(err)
					}
					p = p[n:]
				}
				if err := lw.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReadCommand(b *testing.B) {
	line := []byte("pass libreoffice-l10n-zh-tw 4:7.4.7-1+deb12u8\n")
	src := bytes.NewReader(line)
	br := bufio.NewReader(src)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		src.Reset(line)
		br.Reset(src)
		c, err := protocol.NewReader(br).ReadCommand()
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Validate(); err != nil {
			b.Fatal(err)
		}
	}
}

func byteSize(n int) string {
	return "buf" + strconv.Itoa(n>>10) + "KiB"
}
