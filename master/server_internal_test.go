package master

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzReadHeader reads arbitrary first lines: readHeader never panics,
// refuses a line longer than maxHeader, and a header it accepts names a
// holder and round-trips through WriteSessionHeader.
func FuzzReadHeader(f *testing.F) {
	for _, s := range []string{
		`{"holder":"slave1","identified":true}` + "\n",
		`{"holder":"192.0.2.7","original_command":"piuparts-master"}` + "\n",
		`{}` + "\n",
		`not json` + "\n",
		`{"holder":"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		h, err := readHeader(bufio.NewReaderSize(bytes.NewReader(in), 64<<10))
		if err != nil {
			return
		}
		if i := bytes.IndexByte(in, '\n'); i >= maxHeader {
			t.Fatalf("accepted a header line of %d bytes", i+1)
		}
		if h.Holder == "" {
			t.Fatal("accepted header without a holder")
		}
		var b bytes.Buffer
		if err := WriteSessionHeader(&b, h); err != nil {
			t.Fatal(err)
		}
		back, err := readHeader(bufio.NewReader(&b))
		if err != nil || back != h {
			t.Fatalf("round trip of %+v: %+v, %v", h, back, err)
		}
	})
}
