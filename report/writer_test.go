package report_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

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

// The files of a directory a run creates appear together when the run
// ends (they are written in a staging area): a reader never sees half a
// directory or half a file, and an unfinished run leaves nothing behind
// in the output.
func TestWriter_NewDirectories(t *testing.T) {
	dir := t.TempDir()
	w, err := report.OpenWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"sid/index.html", "sid/source/h/hello.html", "sid/maintainer/a/a@b.html"} {
		if err := w.Emit(rel, []byte(rel)); err != nil {
			t.Fatal(err)
		}
	}
	// Another part of the run makes sid/ meanwhile (the log links do).
	if err := os.MkdirAll(filepath.Join(dir, "sid", "pass"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sid", "source")); !os.IsNotExist(err) {
		t.Errorf("sid/source visible before Close: %v", err)
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"sid/index.html", "sid/source/h/hello.html", "sid/maintainer/a/a@b.html"} {
		if b, err := os.ReadFile(filepath.Join(dir, rel)); err != nil || string(b) != rel {
			t.Errorf("%s after Close = %q, %v", rel, b, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "sid", "pass")); err != nil || !fi.IsDir() {
		t.Errorf("sid/pass, made during the run, is gone: %v", err)
	}

	// A run that never closes: its files are not in the output, and the
	// next run clears what it staged.
	w, err = report.OpenWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Emit("bookworm/index.html", []byte("x")); err != nil {
		t.Fatal(err)
	}
	// Its writing goroutine has written the file when it shows in the
	// staging area.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		if m, _ := filepath.Glob(filepath.Join(dir, ".piuparts-report.staging", "*", "index.html")); len(m) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the unfinished run's file never reached the staging area")
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bookworm")); !os.IsNotExist(err) {
		t.Errorf("bookworm/ visible from an unfinished run: %v", err)
	}
	w, err = report.OpenWriter(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{".piuparts-report.manifest", "sid"}; !slices.Equal(names, want) {
		t.Errorf("output after an unfinished run and a finished one: %q, want %q", names, want)
	}
}

// A page whose input key is the last run's, and which is still there,
// needs no rendering; a run that did not finish leaves no key behind.
func TestWriter_Current(t *testing.T) {
	dir := t.TempDir()
	k1, k2 := report.InputKey{1}, report.InputKey{2}
	open := func() *report.Writer {
		t.Helper()
		w, err := report.OpenWriter(dir)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	closeW := func(w *report.Writer) {
		t.Helper()
		if err := w.Close(func(string) bool { return true }); err != nil {
			t.Fatal(err)
		}
	}
	page := "sid/source/h/hello.html"
	// current asks the writer and emits the page when it is not current.
	current := func(w *report.Writer, key report.InputKey) bool {
		t.Helper()
		if w.Current(page, key) {
			return true
		}
		if err := w.Emit(page, []byte("hello "+string(rune('0'+key[0])))); err != nil {
			t.Fatal(err)
		}
		return false
	}
	w := open()
	if current(w, k1) {
		t.Error("a first run found a page current")
	}
	closeW(w)
	w = open()
	if !current(w, k1) {
		t.Error("the same key again: the page is not current")
	}
	closeW(w)
	w = open()
	if current(w, k2) {
		t.Error("another key: the page is current")
	}
	closeW(w)
	if b, _ := os.ReadFile(filepath.Join(dir, page)); string(b) != "hello 2" {
		t.Errorf("page = %q, want the one of the second key", b)
	}
	os.Remove(filepath.Join(dir, page))
	w = open()
	if current(w, k2) {
		t.Error("a page gone from disk is current")
	}
	closeW(w)
	// A run that opens the output and does not finish: the next run
	// renders the page again.
	open()
	w = open()
	if current(w, k2) {
		t.Error("after an unfinished run the page is current")
	}
	closeW(w)
}
