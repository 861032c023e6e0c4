package debian

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// IndexCache keeps the decompressed text of local compressed indexes
// (Packages.xz and the like) in a directory, so that reading one again
// costs a file read instead of decompressing it (half a second of a core
// for a release's Packages.xz). An entry is named for the compressed
// file's path, size and modification time, taken from the file it reads;
// it is written to a temporary file and renamed into place only once the
// whole text was read, and replaces the entries of earlier versions of
// that file. HTTP indexes and uncompressed files are read as [OpenIndex]
// reads them.
type IndexCache struct {
	// Dir is the cache directory; it is created when needed.
	Dir string
}

// Open is [OpenIndex] through the cache.
func (c *IndexCache) Open(ctx context.Context, loc string) (io.ReadCloser, string, error) {
	path, ok := localPath(loc)
	if !ok || c == nil || c.Dir == "" {
		return OpenIndex(ctx, loc)
	}
	for _, ext := range [...]string{".xz", ".bz2", ".gz"} {
		f, err := os.Open(path + ext)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("open index %q: %w", cut(loc+ext), err)
		}
		rc, err := c.open(ctx, f, ext)
		if err != nil {
			f.Close()
			return nil, "", fmt.Errorf("open index %q: %w", cut(loc+ext), err)
		}
		return rc, loc + ext, nil
	}
	return OpenIndex(ctx, loc)
}

// localPath returns the file path of loc, and false for an HTTP URL.
func localPath(loc string) (string, bool) {
	u, err := url.Parse(loc)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return "", false
	}
	if err == nil && u.Scheme == "file" {
		return u.Path, true
	}
	return loc, true
}

// open returns the cached text of the compressed file f, or a reader that
// decompresses it and fills the cache as it is read.
func (c *IndexCache) open(ctx context.Context, f *os.File, ext string) (io.ReadCloser, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(f.Name())
	if err != nil {
		return nil, err
	}
	who := sha256.Sum256([]byte(abs))
	prefix := "index-" + hex.EncodeToString(who[:8]) + "-"
	version := sha256.Sum256([]byte(abs + "\x00" + strconv.FormatInt(st.Size(), 10) + "\x00" + strconv.FormatInt(st.ModTime().UnixNano(), 10)))
	entry := filepath.Join(c.Dir, prefix+hex.EncodeToString(version[:12]))
	if cached, err := os.Open(entry); err == nil {
		f.Close()
		return cached, nil
	}
	rc, err := decompress(ctx, f, ext)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return rc, nil // no cache, but the index reads
	}
	tmp, err := os.CreateTemp(c.Dir, ".tmp-"+prefix+"*")
	if err != nil {
		return rc, nil
	}
	return &filling{rc: rc, tmp: tmp, entry: entry, prefix: prefix, dir: c.Dir}, nil
}

// filling reads a decompressing reader and writes what it reads into the
// cache entry's temporary file; at the end of the text the entry is
// renamed into place and the entries of other versions go.
type filling struct {
	rc                 io.ReadCloser
	tmp                *os.File
	entry, prefix, dir string
	failed, done       bool
}

func (f *filling) Read(p []byte) (int, error) {
	n, err := f.rc.Read(p)
	if n > 0 && !f.failed {
		if _, werr := f.tmp.Write(p[:n]); werr != nil {
			f.failed = true
		}
	}
	if err == io.EOF && !f.failed && !f.done {
		f.done = true
		f.publish()
	}
	return n, err
}

func (f *filling) publish() {
	if err := f.tmp.Close(); err != nil {
		os.Remove(f.tmp.Name())
		return
	}
	if err := os.Rename(f.tmp.Name(), f.entry); err != nil {
		os.Remove(f.tmp.Name())
		return
	}
	old, _ := filepath.Glob(filepath.Join(f.dir, f.prefix+"*"))
	for _, o := range old {
		if o != f.entry && !strings.HasPrefix(filepath.Base(o), ".") {
			os.Remove(o)
		}
	}
}

func (f *filling) Close() error {
	if !f.done {
		f.tmp.Close()
		os.Remove(f.tmp.Name())
	}
	return f.rc.Close()
}
