package spool_test

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"piuparts-server/slave/spool"
)

// openSpool opens a spool for section "sid" in a new temporary directory.
func openSpool(t *testing.T, o spool.Options) *spool.Spool {
	t.Helper()
	s, err := spool.Open(filepath.Join(t.TempDir(), "sid"), o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// reopen opens the spool's directory again, as a slave does after a
// restart.
func reopen(t *testing.T, s *spool.Spool) *spool.Spool {
	t.Helper()
	s2, err := spool.Open(s.Dir(), spool.Options{})
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	return s2
}

// base is a fixed time for modification times; files get base+i seconds.
var base = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// writeFile writes a file under the spool directory (rel with '/') with
// modification time base+age seconds.
func writeFile(t *testing.T, s *spool.Spool, rel, data string, age int) string {
	t.Helper()
	p := filepath.Join(s.Dir(), filepath.FromSlash(rel))
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	mt := base.Add(time.Duration(age) * time.Second)
	if err := os.Chtimes(p, mt, mt); err != nil {
		t.Fatal(err)
	}
	return p
}

// finish writes and commits a log through the API.
func finish(t *testing.T, s *spool.Spool, name, version, result, data string) {
	t.Helper()
	l, err := s.Create(name, version)
	if err != nil {
		t.Fatalf("Create(%q, %q): %v", name, version, err)
	}
	if _, err := l.Write([]byte(data)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := l.Commit(result); err != nil {
		t.Fatalf("Commit(%q): %v", result, err)
	}
}

// keys returns "result/name_version" for each entry, in order.
func keys(es []spool.Entry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Result+"/"+spool.LogName(e.Name, e.Version))
	}
	return out
}

// dirNames returns the sorted names in a subdirectory of the spool.
func dirNames(t *testing.T, s *spool.Spool, sub string) []string {
	t.Helper()
	des, err := os.ReadDir(filepath.Join(s.Dir(), sub))
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, de := range des {
		out = append(out, de.Name())
	}
	slices.Sort(out)
	return out
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustReserved(t *testing.T, s *spool.Spool) []string {
	t.Helper()
	es, err := s.Reserved()
	if err != nil {
		t.Fatalf("Reserved: %v", err)
	}
	return keys(es)
}

func mustFinished(t *testing.T, s *spool.Spool) []string {
	t.Helper()
	es, err := s.Finished()
	if err != nil {
		t.Fatalf("Finished: %v", err)
	}
	return keys(es)
}

// logNames reads testdata/lognames.txt: accepted and refused file names.
func logNames(t testing.TB) (good, bad []string) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "lognames.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "+ "):
			good = append(good, line[2:])
		case strings.HasPrefix(line, "- "):
			bad = append(bad, line[2:])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return good, bad
}
