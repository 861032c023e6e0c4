package report

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// kprCacheFile, in the output directory, remembers what each .kpr file
// said, by its path and modification time, so that a run reads only the
// .kpr files that changed (a section of a whole release has tens of
// thousands).
const kprCacheFile = ".piuparts-report.kpr"

// kprCache is the content of kprCacheFile.
type kprCache struct {
	mu      sync.Mutex
	entries map[string]kprCached // by SECTION/KIND/NAME_VERSION.log
	used    map[string]bool      // looked up or added by this run
	dirty   bool
}

type kprCached struct {
	mtime int64 // UnixNano of the .kpr
	hits  []string
}

// readKPRCache reads the cache of an output directory; a missing or
// damaged one is empty (the .kpr files are read again).
func readKPRCache(out string) *kprCache {
	c := &kprCache{entries: make(map[string]kprCached), used: make(map[string]bool)}
	f, err := os.Open(filepath.Join(out, kprCacheFile))
	if err != nil {
		return c
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// SECTION/KIND/NAME_VERSION.log MTIME [HIT,HIT...]
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 || len(fs) > 3 {
			continue
		}
		mt, err := strconv.ParseInt(fs[1], 10, 64)
		if err != nil {
			continue
		}
		var hits []string
		if len(fs) == 3 {
			hits = strings.Split(fs[2], ",")
		}
		c.entries[fs[0]] = kprCached{mtime: mt, hits: hits}
	}
	return c
}

func (c *kprCache) get(rel string, mtime time.Time) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used[rel] = true
	e, ok := c.entries[rel]
	if !ok || e.mtime != mtime.UnixNano() || mtime.IsZero() {
		return nil, false
	}
	return e.hits, true
}

func (c *kprCache) put(rel string, mtime time.Time, hits []string) {
	if mtime.IsZero() {
		return
	}
	for _, h := range hits {
		if strings.ContainsAny(h, ", \n") {
			return // not representable; read the file next time
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.used[rel] = true
	c.entries[rel] = kprCached{mtime: mtime.UnixNano(), hits: hits}
	c.dirty = true
}

// write replaces the cache file when entries changed. An entry this run
// did not use is dropped when its section was in the run (its log is
// gone) and kept otherwise.
func (c *kprCache) write(out string, inRun func(section string) bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	names := make([]string, 0, len(c.entries))
	for rel := range c.entries {
		section, _, _ := strings.Cut(rel, "/")
		if c.used[rel] || !inRun(section) {
			names = append(names, rel)
		} else {
			c.dirty = true
		}
	}
	if !c.dirty {
		return nil
	}
	sort.Strings(names)
	var b strings.Builder
	for _, rel := range names {
		e := c.entries[rel]
		b.WriteString(rel)
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(e.mtime, 10))
		if len(e.hits) > 0 {
			b.WriteByte(' ')
			b.WriteString(strings.Join(e.hits, ","))
		}
		b.WriteByte('\n')
	}
	return writeAtomic(filepath.Join(out, kprCacheFile), []byte(b.String()))
}
