package report

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// manifestFile, in the output directory, lists the files the last run
// wrote with their hashes: a file whose content did not change is not
// written again, and one no run makes any more is removed.
const manifestFile = ".piuparts-report.manifest"

// Writer writes the report's files under an output directory: each
// atomically (a temporary file renamed over it), and only when its
// content changed since the last run. It is safe for concurrent use.
type Writer struct {
	dir string

	mu      sync.Mutex
	old     map[string][sha256.Size]byte // from the manifest
	new     map[string][sha256.Size]byte
	dirs    map[string]bool // directories known to exist
	written int
	same    int
	err     error // the first write error

	// Files are written by a few goroutines: a write is mostly waiting
	// for the file system (create, write, rename), which overlaps well.
	jobs chan writeJob
	wg   sync.WaitGroup
}

// writeJob is one file for the writing goroutines.
type writeJob struct {
	rel, full string
	data      []byte
}

// writers is how many goroutines write files.
const writers = 8

func (w *Writer) start() {
	w.jobs = make(chan writeJob, 256)
	for range writers {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for j := range w.jobs {
				err := writeAtomic(j.full, j.data)
				w.mu.Lock()
				if err != nil && w.err == nil {
					w.err = fmt.Errorf("write %s: %w", j.rel, err)
				}
				if err == nil {
					w.written++
				}
				w.mu.Unlock()
			}
		}()
	}
}

// wait waits for the files handed to the writing goroutines and returns
// the first write error.
func (w *Writer) wait() error {
	if w.jobs != nil {
		close(w.jobs)
		w.wg.Wait()
		w.jobs = nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// OpenWriter reads the manifest of an output directory, creating the
// directory if needed.
func OpenWriter(dir string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	w := &Writer{dir: dir, old: make(map[string][sha256.Size]byte), new: make(map[string][sha256.Size]byte),
		dirs: map[string]bool{".": true}}
	f, err := os.Open(filepath.Join(dir, manifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		w.start()
		return w, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), " ")
		var h [sha256.Size]byte
		if !ok || len(sum) != 2*sha256.Size || !validRel(name) {
			continue // a damaged line: the file is written again
		}
		if _, err := hex.Decode(h[:], []byte(sum)); err != nil {
			continue
		}
		w.old[name] = h
	}
	w.start()
	return w, nil
}

// validRel reports whether p is a clean relative slash path inside the
// output directory.
func validRel(p string) bool {
	return p != "" && p != "." && !strings.HasPrefix(p, "/") && path.Clean(p) == p &&
		p != ".." && !strings.HasPrefix(p, "../") && !strings.ContainsRune(p, 0)
}

// Emit writes data to rel (a slash-separated path relative to the output
// directory) unless the last run wrote the same bytes there and the file
// is still there. The file is written by another goroutine, from a copy of
// data (the caller may reuse its buffer); a write error comes back from
// Close.
func (w *Writer) Emit(rel string, data []byte) error {
	if !validRel(rel) {
		return fmt.Errorf("write %q: not a path inside the output directory", rel)
	}
	h := sha256.Sum256(data)
	full := filepath.Join(w.dir, filepath.FromSlash(rel))
	w.mu.Lock()
	old, had := w.old[rel]
	w.new[rel] = h
	dirOK := w.dirs[path.Dir(rel)]
	w.mu.Unlock()
	if had && old == h {
		if _, err := os.Lstat(full); err == nil {
			w.mu.Lock()
			w.same++
			w.mu.Unlock()
			return nil
		}
	}
	if !dirOK {
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", rel, err)
		}
		w.mu.Lock()
		w.dirs[path.Dir(rel)] = true
		w.mu.Unlock()
	}
	w.jobs <- writeJob{rel: rel, full: full, data: bytes.Clone(data)}
	return nil
}

// Remove removes rel if an earlier run wrote it and this one did not.
func (w *Writer) remove(rel string) error {
	err := os.Remove(filepath.Join(w.dir, filepath.FromSlash(rel)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Stats returns how many files were written and how many were already
// up to date; the count of written files is final after Close.
func (w *Writer) Stats() (written, unchanged int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.written, w.same
}

// Close removes the files an earlier run wrote that this one did not
// (a source gone from the archive, a page of a longer list) when prune
// is set, and writes the manifest. Without prune (a run over some
// sections only) the earlier files are kept in the manifest.
func (w *Writer) Close(prune func(rel string) bool) error {
	if err := w.wait(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for rel, h := range w.old {
		if _, ok := w.new[rel]; ok {
			continue
		}
		if prune != nil && prune(rel) {
			if err := w.remove(rel); err != nil {
				return fmt.Errorf("remove %s: %w", rel, err)
			}
			continue
		}
		w.new[rel] = h
	}
	names := make([]string, 0, len(w.new))
	for rel := range w.new {
		names = append(names, rel)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, rel := range names {
		h := w.new[rel]
		fmt.Fprintf(&b, "%x %s\n", h[:], rel)
	}
	if err := writeAtomic(filepath.Join(w.dir, manifestFile), []byte(b.String())); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

// writeAtomic writes data to a temporary file beside full and renames it
// over full, so that a reader sees the old file or the new one.
func writeAtomic(full string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(full), "."+filepath.Base(full)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, full); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
