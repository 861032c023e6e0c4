package master_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzServe feeds arbitrary input to a connection: Serve must return,
// write nothing but protocol lines, and store nothing outside the section
// directories.
func FuzzServe(f *testing.F) {
	seeds := []string{
		"section sid\nstatus\nreserve\n",
		"section sid\npass libc6 2.36-9+deb12u4\n line\n .\n.\nidle\n",
		"section sid\nrecycle\n_list waiting-to-be-tested\n_state apt\n_depcycle libc6\n",
		"section sid\nunreserve apt 2.6.1\nsection up\nreserve\n",
		"section sid\nfail ../x 1\n x\n.\n",
		"section nosuch\nsection sid\nuntestable apt 2.6.1\n\n.\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		e.t = t
		s := e.start("fuzz")
		go func() {
			s.in.Write(in)
			s.in.Close()
		}()
		for {
			if _, err := s.r.ReadResponse(); err != nil {
				break
			}
		}
		s.wait()
		out := s.raw.Bytes()
		if len(out) > 0 && !bytes.HasSuffix(out, []byte("\n")) {
			t.Fatalf("output does not end in a line: %q", cut(string(out)))
		}
		for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
			if line != "hello" && line != "ok" && line != "error" && line != "busy" && !strings.HasPrefix(line, "ok ") {
				t.Fatalf("master wrote %q", cut(line))
			}
		}
		ents, err := os.ReadDir(e.dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, ent := range ents {
			switch n := ent.Name(); {
			case n == "sid" || n == "up" || n == "dep" || strings.HasPrefix(n, "piuparts-master.db"):
			default:
				t.Fatalf("master directory holds %q", filepath.Join(e.dir, n))
			}
		}
	})
}
