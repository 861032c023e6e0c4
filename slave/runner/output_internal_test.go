package runner

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// referenceOutput does on the whole output what filter does as it
// streams, the way piuparts-slave's _test_package does it on a string.
func referenceOutput(data string, limit int64) (log string, lastEnds, history, selection bool) {
	s := strings.ReplaceAll(data, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	f := s
	if !strings.HasSuffix(f, "\n") {
		f += "\n"
	}
	lines := strings.Split(f, "\n")
	lastEnds = strings.Contains(lines[len(lines)-2], runEnds)
	history = strings.Contains(s, historyMismatch)
	selection = strings.Contains(s, selectionsMismatch)
	out := strings.ReplaceAll(s, "\x1b", "[ESC]")
	dropped := 0
	if limit > 0 && int64(len(out)) > limit {
		dropped = len(out) - int(limit)
		out = out[:limit]
	}
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	if dropped > 0 {
		out += fmt.Sprintf(" *** %d bytes of piuparts output dropped (over max-log-size) ***\n", dropped)
	}
	return out, lastEnds, history, selection
}

// feed writes data to a new filter in pieces whose sizes come from sizes
// (cycled; 0 is taken as 1) and finishes it.
func feed(t *testing.T, data []byte, sizes []byte, limit int64) (string, *filter) {
	t.Helper()
	var b bytes.Buffer
	f := newFilter(&b, limit)
	for i := 0; len(data) > 0; i++ {
		n := 1
		if len(sizes) > 0 {
			n = int(sizes[i%len(sizes)])
		}
		n = min(max(n, 1), len(data))
		if k, err := f.Write(data[:n]); k != n || err != nil {
			t.Fatalf("Write = %d, %v; want %d, nil", k, err, n)
		}
		data = data[n:]
	}
	if err := f.finish(); err != nil {
		t.Fatal(err)
	}
	return b.String(), f
}

func checkFilter(t *testing.T, data, sizes []byte, limit int64) {
	t.Helper()
	got, f := feed(t, data, sizes, limit)
	want, ends, hist, sel := referenceOutput(string(data), limit)
	if got != want {
		t.Errorf("filter(%q, max %d) wrote %q, want %q", data, limit, got, want)
	}
	if f.lastLineEnds() != ends {
		t.Errorf("filter(%q).lastLineEnds() = %v, want %v", data, f.lastLineEnds(), ends)
	}
	if f.history.found != hist || f.selection.found != sel {
		t.Errorf("filter(%q): mismatch messages found %v %v, want %v %v", data, f.history.found, f.selection.found, hist, sel)
	}
}

// filterSamples are inputs for the table test and the fuzz seeds.
var filterSamples = []string{
	"",
	"\n",
	"piuparts run ends.\n",
	"piuparts run ends.",
	"piuparts run ends.\n\n",
	"a\npiuparts run ends.\r\n",
	"a\npiuparts run ends.\r",
	"a\rpiuparts run ends.",
	"piuparts run ends.\nmore",
	"piuparts run endpiuparts run ends",
	"ppiuparts run ends",
	"\x1b[1mbold\x1b[0m\n",
	"\r\r\n\n\r",
	"x\xff\xfe\n",
	historyMismatch + "\n" + selectionsMismatch,
	strings.Repeat("abc\x1b", 20000) + "\npiuparts run ends.",
}

func TestFilter(t *testing.T) {
	for i, s := range filterSamples {
		for _, limit := range []int64{0, 1, 5, 7, 100} {
			for _, sizes := range [][]byte{nil, {1}, {2, 3}, {255}} {
				t.Run(fmt.Sprintf("%d/%d/%v", i, limit, sizes), func(t *testing.T) {
					checkFilter(t, []byte(s), sizes, limit)
				})
			}
		}
	}
}

func FuzzFilter(f *testing.F) {
	for _, s := range filterSamples {
		f.Add([]byte(s), []byte{3, 1, 7}, uint16(0))
		f.Add([]byte(s), []byte{1}, uint16(9))
	}
	// Real piuparts output from the oracle tests' fixtures: the stanzas.
	if data, err := os.ReadFile(filepath.Join("testdata", "archive", "bookworm", "Packages")); err == nil {
		f.Add(data, []byte{200, 13}, uint16(1000))
	}
	f.Fuzz(func(t *testing.T, data, sizes []byte, limit uint16) {
		checkFilter(t, data, sizes, int64(limit))
	})
}
