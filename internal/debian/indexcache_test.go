package debian_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"piuparts-server/internal/debian"
)

func writeGz(t *testing.T, path, text string) {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(text))
	zw.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, c *debian.IndexCache, loc string) string {
	t.Helper()
	rc, _, err := c.Open(t.Context(), loc)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "index-*"))
	return m
}

// The cache gives the decompressed text the index has now: filled by a
// whole read only, replaced when the file changes.
func TestIndexCache(t *testing.T) {
	dir := t.TempDir()
	cache := &debian.IndexCache{Dir: filepath.Join(dir, "cache")}
	loc := filepath.Join(dir, "Packages")
	writeGz(t, loc+".gz", "Package: a\nVersion: 1\n")

	// A read that stops early fills nothing.
	rc, _, err := cache.Open(t.Context(), loc)
	if err != nil {
		t.Fatal(err)
	}
	rc.Read(make([]byte, 3))
	rc.Close()
	if e := entries(t, cache.Dir); len(e) != 0 {
		t.Errorf("a partial read left %q in the cache", e)
	}
	if got := readAll(t, cache, loc); got != "Package: a\nVersion: 1\n" {
		t.Errorf("first read = %q", got)
	}
	if e := entries(t, cache.Dir); len(e) != 1 {
		t.Fatalf("after a whole read the cache holds %q, want one entry", e)
	}
	// The same file again, by its URL: the text comes from the entry
	// (marked here to tell).
	e := entries(t, cache.Dir)[0]
	if err := os.WriteFile(e, []byte("Package: a\nVersion: 1\nX-Cached: yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, cache, "file://"+loc); got != "Package: a\nVersion: 1\nX-Cached: yes\n" {
		t.Errorf("second read = %q, want the cache entry's text", got)
	}
	// A new version of the file (as a mirror update renames one in).
	writeGz(t, loc+".gz", "Package: b\nVersion: 2\n")
	later := time.Now().Add(time.Minute)
	os.Chtimes(loc+".gz", later, later)
	if got := readAll(t, cache, loc); got != "Package: b\nVersion: 2\n" {
		t.Errorf("after the index changed = %q", got)
	}
	if e := entries(t, cache.Dir); len(e) != 1 {
		t.Errorf("after the index changed the cache holds %q, want only the new entry", e)
	}
	// Packages parse the same through the cache.
	direct, err := debian.LoadPackagesCompact(t.Context(), loc, true)
	if err != nil {
		t.Fatal(err)
	}
	cached, err := cache.LoadPackagesCompact(t.Context(), loc, true)
	if err != nil || len(cached) != len(direct) || cached["b"] == nil || cached["b"].Version != "2" {
		t.Errorf("through the cache: %v, %v; directly: %v", cached, err, direct)
	}
	// No cache directory: read as OpenIndex reads.
	var none *debian.IndexCache
	if got := readAll(t, none, loc); got != "Package: b\nVersion: 2\n" {
		t.Errorf("nil cache = %q", got)
	}
}
