//go:build cgo && liblzma

package debian

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/ulikunitz/xz"
)

// xzCompress compresses data with the Go encoder (a small dictionary, so
// that it is quick).
func xzCompress(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	w, err := xz.WriterConfig{DictCap: 64 << 10}.NewWriter(&b)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// readLiblzma reads comp through liblzmaReader, its source giving one byte
// at a time and each read asking for step bytes.
func readLiblzma(tb testing.TB, comp []byte, step int) ([]byte, error) {
	tb.Helper()
	r, err := newLiblzmaReader(iotest.OneByteReader(bytes.NewReader(comp)))
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	var got []byte
	buf := make([]byte, step)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, err
		}
		if len(got) > 64<<20 {
			tb.Fatalf("read %d bytes from %d compressed ones", len(got), len(comp))
		}
	}
}

// TestLiblzmaReader_ReadSizes reads streams back with reads of many sizes:
// every byte must come back, in order, and the reader must then keep
// answering io.EOF.
func TestLiblzmaReader_ReadSizes(t *testing.T) {
	data := bytes.Repeat([]byte("Package: dpkg\nVersion: 1.21.23\n\n"), 3000)
	comp := xzCompress(t, data)
	for _, step := range []int{1, 7, 4096, 1 << 20} {
		got, err := readLiblzma(t, comp, step)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("reads of %d: %d bytes, error %v; want the %d compressed", step, len(got), err, len(data))
		}
	}
	r, err := newLiblzmaReader(bytes.NewReader(comp))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := io.ReadAll(r); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("Read after the end = %d, %v; want 0, io.EOF", n, err)
	}
}

// FuzzLiblzmaReader feeds liblzmaReader arbitrary bytes (seeded with valid
// streams): it must never crash or hang, and when it and the Go decoder
// both accept the input, they must give the same bytes.
func FuzzLiblzmaReader(f *testing.F) {
	for _, s := range []string{"", "Package: dpkg\nVersion: 1.21.23\n\n", string(bytes.Repeat([]byte("abc\n"), 5000))} {
		comp := xzCompress(f, []byte(s))
		f.Add(comp, uint8(7))
		f.Add(comp[:len(comp)/2], uint8(255))
	}
	f.Fuzz(func(t *testing.T, comp []byte, step uint8) {
		got, err := readLiblzma(t, comp, int(step)+1)
		if err != nil {
			return
		}
		gr, err := xz.NewReader(bytes.NewReader(comp))
		if err != nil {
			return
		}
		want, err := io.ReadAll(gr)
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("liblzma gave %d bytes, the Go decoder %d", len(got), len(want))
		}
	})
}
