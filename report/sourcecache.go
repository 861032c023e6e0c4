package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"piuparts-server/internal/debian"
)

// A parsed Sources file is kept in the output directory, keyed by the
// files' size and modification time: parsing a release's Sources takes
// more than half a second, reading it back a tenth of that.
const sourcesCachePrefix = ".piuparts-report.sources-"

type cachedSources struct {
	Key     string
	Sources []cachedSource
}

type cachedSource struct {
	Name, Version, Maintainer, Uploaders string
	Binary                               []string
}

// sourcesKey identifies local Sources files by what stat says of them; ""
// when one is remote or missing (not cached: the loader says why).
func sourcesKey(urls []string) string {
	h := sha256.New()
	for _, loc := range urls {
		if !statIndex(h, loc) {
			return ""
		}
	}
	return "sources v1 " + hex.EncodeToString(h.Sum(nil))
}

func sourcesCachePath(out string, urls []string) string {
	h := sha256.New()
	for _, u := range urls {
		fmt.Fprintln(h, u)
	}
	return filepath.Join(out, sourcesCachePrefix+hex.EncodeToString(h.Sum(nil))[:16]+".gob")
}

// readSourcesCache returns the cached sources of urls when the files are
// those the cache was made from.
func readSourcesCache(out string, urls []string, key string) (map[string]*debian.Source, bool) {
	if key == "" || out == "" {
		return nil, false
	}
	f, err := os.Open(sourcesCachePath(out, urls))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	var c cachedSources
	if err := gob.NewDecoder(f).Decode(&c); err != nil || c.Key != key {
		return nil, false
	}
	m := make(map[string]*debian.Source, len(c.Sources))
	for i := range c.Sources {
		s := &c.Sources[i]
		m[s.Name] = &debian.Source{Name: s.Name, Version: s.Version, Maintainer: s.Maintainer, Uploaders: s.Uploaders, Binary: s.Binary}
	}
	return m, true
}

// writeSourcesCache records the parsed sources of urls; a failure only
// means the next run parses them again.
func writeSourcesCache(out string, urls []string, key string, srcs map[string]*debian.Source) {
	if key == "" || out == "" {
		return
	}
	c := cachedSources{Key: key, Sources: make([]cachedSource, 0, len(srcs))}
	for _, s := range srcs {
		c.Sources = append(c.Sources, cachedSource{Name: s.Name, Version: s.Version, Maintainer: s.Maintainer,
			Uploaders: s.Uploaders, Binary: s.Binary})
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&c); err != nil {
		return
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return
	}
	_ = writeAtomic(sourcesCachePath(out, urls), b.Bytes())
}
