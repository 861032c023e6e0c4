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
	"syscall"

	"piuparts-server/internal/fsutil"
)

// manifestFile, in the output directory, lists the files the last run
// wrote with their hashes: a file whose content did not change is not
// written again, and one no run makes any more is removed.
const manifestFile = ".piuparts-report.manifest"

// stagingDir, in the output directory, holds the directories a run
// creates until their files are written; Close renames each into place.
// Files in it are written directly, without a temporary file and a
// rename each: on a cold run that halves the file-system work, and a
// reader still never sees half a file.
const stagingDir = ".piuparts-report.staging"

// inputsFile, in the output directory, holds the input key of each page
// the last run wrote or kept that has one (see [Writer.Current]): a page
// whose inputs did not change is neither rendered nor hashed again. A run
// removes it when it opens the output and writes it anew when it closes,
// so that after an unfinished run (whose pages may be newer than their
// keys) every page is rendered again.
const inputsFile = ".piuparts-report.inputs"

// InputKey is the key of what a page shows: pages with the same key
// have the same bytes.
type InputKey [16]byte

// Writer writes the report's files under an output directory: each
// atomically (a temporary file renamed over it), and only when its
// content changed since the last run. It is safe for concurrent use.
type Writer struct {
	dir string

	mu      sync.Mutex
	old     map[string][sha256.Size]byte // from the manifest
	new     map[string][sha256.Size]byte
	oldIn   map[string]InputKey // from the inputs file
	newIn   map[string]InputKey
	dirs    map[string]outDir          // directories known to exist or staged
	listed  map[string]map[string]bool // by existing directory: its files, as first listed
	stages  []stage
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
	direct    bool // full is in a staged directory: no temporary file
}

// outDir is where the files of a directory of the output are written:
// the directory itself, or its copy in the staging area.
type outDir struct {
	full   string
	staged bool
}

// stage is a directory of the output written in the staging area.
type stage struct {
	staged, target string
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
				var err error
				if j.direct {
					err = os.WriteFile(j.full, j.data, 0o644)
				} else {
					err = writeAtomic(j.full, j.data)
				}
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
	// What a run that did not finish staged is written again.
	if err := os.RemoveAll(filepath.Join(dir, stagingDir)); err != nil {
		return nil, fmt.Errorf("remove staged files of an unfinished run: %w", err)
	}
	w := &Writer{dir: dir, old: make(map[string][sha256.Size]byte), new: make(map[string][sha256.Size]byte),
		oldIn: make(map[string]InputKey), newIn: make(map[string]InputKey),
		dirs: map[string]outDir{".": {full: dir}}, listed: make(map[string]map[string]bool)}
	if err := w.readInputs(); err != nil {
		return nil, err
	}
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
	// This run's maps will hold about as many files as the last one's.
	w.new = make(map[string][sha256.Size]byte, len(w.old))
	w.newIn = make(map[string]InputKey, len(w.oldIn))
	w.start()
	return w, nil
}

// readInputs reads the inputs file and removes it (see inputsFile).
func (w *Writer) readInputs() error {
	p := filepath.Join(w.dir, inputsFile)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read page inputs: %w", err)
	}
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("remove page inputs: %w", err)
	}
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		data = rest
		sum, name, ok := bytes.Cut(line, []byte(" "))
		var k InputKey
		if !ok || len(sum) != 2*len(k) || !validRel(string(name)) {
			continue // a damaged line: the page is rendered again
		}
		if _, err := hex.Decode(k[:], sum); err != nil {
			continue
		}
		w.oldIn[string(name)] = k
	}
	return nil
}

// Current reports whether the page rel needs no rendering: the last run
// wrote or kept it with the same input key, and it is still there. Then
// the page counts as unchanged and the caller emits nothing; otherwise
// the caller renders the page and emits it, and the key is recorded
// with it.
func (w *Writer) Current(rel string, key InputKey) bool {
	if !validRel(rel) {
		return false
	}
	dir, base := path.Split(rel)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.newIn[rel] = key
	old, had := w.oldIn[rel]
	sum, written := w.old[rel]
	if !had || old != key || !written {
		return false
	}
	od, err := w.outDir(path.Clean(dir))
	if err != nil || od.staged || !w.present(od, base) {
		return false
	}
	w.new[rel] = sum
	w.same++
	return true
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
	dir, base := path.Split(rel)
	w.mu.Lock()
	old, had := w.old[rel]
	w.new[rel] = h
	od, err := w.outDir(path.Clean(dir))
	// The file is still there: its directory's listing has it (one
	// listing per directory instead of a stat per file).
	same := err == nil && had && old == h && !od.staged && w.present(od, base)
	if same {
		w.same++
	}
	w.mu.Unlock()
	if err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	if same {
		return nil
	}
	full := filepath.Join(od.full, base)
	w.jobs <- writeJob{rel: rel, full: full, data: bytes.Clone(data), direct: od.staged}
	return nil
}

// present reports whether the existing directory od held base when it
// was first listed in this run. w.mu is held.
func (w *Writer) present(od outDir, base string) bool {
	names, ok := w.listed[od.full]
	if !ok {
		names = make(map[string]bool)
		if f, err := os.Open(od.full); err == nil {
			all, _ := f.Readdirnames(-1)
			f.Close()
			for _, n := range all {
				names[n] = true
			}
		}
		w.listed[od.full] = names
	}
	return names[base]
}

// outDir returns where the files of the output directory rel go: rel
// itself when it exists, else a new directory in the staging area (its
// own, or its parent's when that is staged). w.mu is held.
func (w *Writer) outDir(rel string) (outDir, error) {
	if od, ok := w.dirs[rel]; ok {
		return od, nil
	}
	parent, err := w.outDir(path.Dir(rel))
	if err != nil {
		return outDir{}, err
	}
	od := outDir{full: filepath.Join(parent.full, path.Base(rel)), staged: parent.staged}
	if od.staged {
		if err := os.Mkdir(od.full, 0o755); err != nil {
			return outDir{}, fmt.Errorf("create staged directory: %w", err)
		}
		w.dirs[rel] = od
		return od, nil
	}
	switch fi, err := os.Stat(od.full); {
	case err == nil && !fi.IsDir():
		return outDir{}, fmt.Errorf("%s is in the way of a directory", od.full)
	case errors.Is(err, fs.ErrNotExist):
		staged := filepath.Join(w.dir, stagingDir, fmt.Sprint(len(w.stages)))
		if err := os.MkdirAll(staged, 0o755); err != nil {
			return outDir{}, fmt.Errorf("create staged directory: %w", err)
		}
		w.stages = append(w.stages, stage{staged: staged, target: od.full})
		od = outDir{full: staged, staged: true}
	case err != nil:
		return outDir{}, err
	}
	w.dirs[rel] = od
	return od, nil
}

// publishStages moves the staged directories into place once their files
// are written: one rename each, or file by file into a directory that
// appeared meanwhile.
func (w *Writer) publishStages() error {
	for _, st := range w.stages {
		err := os.Rename(st.staged, st.target)
		if err == nil {
			continue
		}
		if !errors.Is(err, fs.ErrExist) && !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("publish %s: %w", st.target, err)
		}
		if err := mergeDir(st.staged, st.target); err != nil {
			return fmt.Errorf("publish %s: %w", st.target, err)
		}
	}
	w.stages = nil
	return os.RemoveAll(filepath.Join(w.dir, stagingDir))
}

// mergeDir moves the files under src to the same places under dst.
func mergeDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		return os.Rename(p, target)
	})
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
	if err := w.publishStages(); err != nil {
		return err
	}
	carried := make(map[string]bool)
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
		carried[rel] = true
	}
	names := make([]string, 0, len(w.new))
	for rel := range w.new {
		names = append(names, rel)
	}
	sort.Strings(names)
	var b, in []byte
	for _, rel := range names {
		h := w.new[rel]
		b = hex.AppendEncode(b, h[:])
		b = append(b, ' ')
		b = append(b, rel...)
		b = append(b, '\n')
		// A page keeps its key when it was written or kept by this
		// run, or left alone by a run over other sections.
		k, ok := w.newIn[rel]
		if !ok && carried[rel] {
			k, ok = w.oldIn[rel]
		}
		if ok {
			in = hex.AppendEncode(in, k[:])
			in = append(in, ' ')
			in = append(in, rel...)
			in = append(in, '\n')
		}
	}
	if err := writeAtomic(filepath.Join(w.dir, manifestFile), b); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if len(in) > 0 {
		if err := writeAtomic(filepath.Join(w.dir, inputsFile), in); err != nil {
			return fmt.Errorf("write page inputs: %w", err)
		}
	}
	return nil
}

// writeAtomic writes data to a temporary file beside full and renames it
// over full, so that a reader sees the old file or the new one.
func writeAtomic(full string, data []byte) error {
	return fsutil.WriteFileAtomic(full, data, 0o644, "")
}
