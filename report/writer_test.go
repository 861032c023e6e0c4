package report_test

import (
	"os"
	"path/filepath"
	"testing"

	"piuparts-server/report"
)

func TestWriter(t *testing.T) {
	dir := t.TempDir()
	run := func(files map[string]string, prune bool) (written, unchanged int) {
		t.Helper()
		w, err := report.OpenWriter(dir)
		if err != nil {
			t.Fatal(err)
		}
		for rel, data := range files {
			if err := w.Emit(rel, []byte(data)); err != nil {
				t.Fatal(err)
			}
		}
		var p func(string) bool
		if prune {
			p = func(string) bool { return true }
		}
		if err := w.Close(p); err != nil {
			t.Fatal(err)
		}
		return w.Stats()
	}
	files := map[string]string{"index.html": "a", "sid/source/h/hello.html": "b", "sid/state-x.html": "c"}
	if w, u := run(files, true); w != 3 || u != 0 {
		t.Errorf("first run wrote %d, unchanged %d; want 3, 0", w, u)
	}
	if w, u := run(files, true); w != 0 || u != 3 {
		t.Errorf("same content: wrote %d, unchanged %d; want 0, 3", w, u)
	}
	// A changed file is written; a file gone from disk is written again;
	// a file no run makes any more is removed.
	os.Remove(filepath.Join(dir, "sid", "state-x.html"))
	files = map[string]string{"index.html": "a2", "sid/state-x.html": "c"}
	if w, u := run(files, true); w != 2 || u != 0 {
		t.Errorf("changed: wrote %d, unchanged %d; want 2, 0", w, u)
	}
	if _, err := os.Stat(filepath.Join(dir, "sid", "source", "h", "hello.html")); !os.IsNotExist(err) {
		t.Errorf("a page no run makes any more was not removed: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "index.html")); string(b) != "a2" {
		t.Errorf("index.html = %q, want a2", b)
	}
	w, err := report.OpenWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Emit("../escape.html", []byte("x")); err == nil {
		t.Error("Emit outside the output directory succeeded")
	}
	w.Close(nil)
}
