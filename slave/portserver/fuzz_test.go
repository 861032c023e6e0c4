package portserver_test

import (
	"bytes"
	"io"
	"slices"
	"strconv"
	"testing"

	"piuparts-server/slave/portserver"
)

// FuzzReadRequest checks that any input, however split, gives a pid only
// when its first line is that pid in plain decimal, and never panics.
func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{"4242\n", "-5\n", "99999999999\n", "+5\n", " 5\n", "0_5\n", "31", "", "\n", "1\n2\n", "٤٢\n"} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint8) {
		cut := int(split) % (len(data) + 1)
		r := &chunks{parts: [][]byte{data[:cut], data[cut:]}}
		pid, err := portserver.ReadRequest(r)
		if err != nil {
			return
		}
		line, _, _ := bytes.Cut(data, []byte{'\n'})
		if pid < 1 || pid > portserver.MaxPid || strconv.Itoa(pid) != string(line) {
			t.Fatalf("ReadRequest(%q) = %d", data, pid)
		}
	})
}

// chunks is a reader that returns its parts one Read each.
type chunks struct{ parts [][]byte }

func (c *chunks) Read(p []byte) (int, error) {
	for len(c.parts) > 0 && len(c.parts[0]) == 0 {
		c.parts = c.parts[1:]
	}
	if len(c.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.parts[0])
	c.parts[0] = c.parts[0][n:]
	return n, nil
}

// FuzzParsePool checks that the ports are sorted, distinct and in range,
// and that a description that is one well-formed range gives exactly it.
func FuzzParsePool(f *testing.F) {
	for _, s := range []string{"15000-24999", "1-1,65535-65535", "5-3", "x-3,5-6", "", ",", "-", "1-2-3", "0-70000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ports, _ := portserver.ParsePool(s)
		if !slices.IsSorted(ports) || len(slices.Compact(slices.Clone(ports))) != len(ports) {
			t.Fatalf("ParsePool(%q): ports not sorted and distinct", s)
		}
		for _, p := range ports {
			if p < 1 || p > 65535 {
				t.Fatalf("ParsePool(%q): port %d", s, p)
			}
		}
	})
}
