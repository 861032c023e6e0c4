package report

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"piuparts-server/internal/debian"
)

func TestKPRCache(t *testing.T) {
	dir := t.TempDir()
	at := time.Unix(1700000000, 123456789)
	c := readKPRCache(dir)
	if _, ok := c.get("sid/fail/x_1.log", at); ok {
		t.Fatal("an empty cache had an entry")
	}
	c.put("sid/fail/x_1.log", at, []string{"dependency_error.conf", "unclassified_failures.conf"})
	c.put("sid/pass/y_1.log", at, nil)
	c.put("other/pass/z_1.log", at, []string{"a.conf"})
	if err := c.write(dir, func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	c = readKPRCache(dir)
	if hits, ok := c.get("sid/fail/x_1.log", at); !ok || !slices.Equal(hits, []string{"dependency_error.conf", "unclassified_failures.conf"}) {
		t.Errorf("get after a reread = %q, %v", hits, ok)
	}
	if hits, ok := c.get("sid/pass/y_1.log", at); !ok || len(hits) != 0 {
		t.Errorf("a .kpr without hits = %q, %v; want cached, empty", hits, ok)
	}
	if _, ok := c.get("sid/fail/x_1.log", at.Add(time.Nanosecond)); ok {
		t.Error("a .kpr with another mtime was taken from the cache")
	}
	// Only sid ran and used x_1 only: its other entry goes, other's
	// stays.
	c = readKPRCache(dir)
	c.get("sid/fail/x_1.log", at)
	if err := c.write(dir, func(s string) bool { return s == "sid" }); err != nil {
		t.Fatal(err)
	}
	c = readKPRCache(dir)
	if _, ok := c.get("sid/pass/y_1.log", at); ok {
		t.Error("the entry of a log gone from a section in the run was kept")
	}
	if _, ok := c.get("other/pass/z_1.log", at); !ok {
		t.Error("the entry of a section not in the run was dropped")
	}
}

// FuzzReadKPRCache: a damaged cache file never panics; it only makes the
// report read .kpr files again.
func FuzzReadKPRCache(f *testing.F) {
	f.Add([]byte("sid/fail/x_1.log 1700000000123456789 a.conf,b.conf\nsid/pass/y_1.log 17\n"))
	f.Add([]byte("garbage\n\n x y z w\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, kprCacheFile), data, 0o644); err != nil {
			t.Fatal(err)
		}
		c := readKPRCache(dir)
		for rel, e := range c.entries {
			if _, ok := c.get(rel, time.Unix(0, e.mtime)); !ok && e.mtime != 0 {
				t.Fatalf("entry %q not found by its own mtime", rel)
			}
		}
	})
}

func TestSourcesCache(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	idx := filepath.Join(dir, "Sources")
	if err := os.WriteFile(idx, []byte("Package: hello\nVersion: 2.10-3\nBinary: hello\nMaintainer: Santiago Vila <sanvila@debian.org>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	urls := []string{"file://" + idx}
	key := sourcesKey(urls)
	if key == "" {
		t.Fatal("no key for a local Sources file")
	}
	if _, ok := readSourcesCache(out, urls, key); ok {
		t.Fatal("an empty output directory had a cache")
	}
	srcs := map[string]*debian.Source{"hello": {Name: "hello", Version: "2.10-3", Binary: []string{"hello"}, Maintainer: "Santiago Vila <sanvila@debian.org>"}}
	writeSourcesCache(out, urls, key, srcs)
	got, ok := readSourcesCache(out, urls, key)
	if !ok || got["hello"] == nil || got["hello"].Version != "2.10-3" || !slices.Equal(got["hello"].Binary, []string{"hello"}) {
		t.Fatalf("cache read back %+v, %v", got, ok)
	}
	// A changed file is parsed again.
	later := time.Now().Add(time.Hour)
	os.Chtimes(idx, later, later)
	if _, ok := readSourcesCache(out, urls, sourcesKey(urls)); ok {
		t.Error("the cache was used for a changed Sources file")
	}
	if sourcesKey([]string{"http://127.0.0.1/debian/dists/sid/main/source/Sources"}) != "" {
		t.Error("a remote Sources file got a cache key")
	}
}
