package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"piuparts-server/internal/fsutil"
)

// LogTree is piuparts' log directory layout under a master directory:
// SECTION/KIND/NAME_VERSION.log and SECTION/submissions.txt. Its methods
// check names before they touch the file system and are safe for concurrent
// use.
type LogTree struct {
	root string
}

// LogFile describes a log file in the tree.
type LogFile struct {
	Path   string // relative to the root, see [LogPath]
	Size   int64
	SHA256 string // hex
}

// NewLogTree returns the log tree under the master directory root.
func NewLogTree(root string) *LogTree {
	return &LogTree{root: root}
}

// Root returns the master directory the tree lives in.
func (t *LogTree) Root() string { return t.root }

// tempPrefix starts the names of files being written. They are hidden and do
// not end in ".log", so piuparts, the report and an import skip them.
const tempPrefix = ".incoming-"

// incomingDir is the directory of a section where submitted logs are
// received before they are put under their names.
const incomingDir = ".incoming"

// WriteLog stores the contents of r as the log of a package version. The
// log is written to a temporary file in the same directory, synced, linked
// under its final name (never replacing a file already there, as piuparts
// does) and the directory synced, so the log is either complete under its
// name or absent, even after a crash. The temporary file is removed on every
// path; a failing reader, a cancelled ctx or a log longer than maxSize
// (maxSize <= 0: no limit) leave nothing behind.
//
// It returns a *NameError or an error wrapping [ErrUnknownKind] for unsafe
// names, an error wrapping [ErrLogExists] when the log is already there (it
// is left unchanged), [ErrLogTooLarge], ctx.Err(), or r's error.
func (t *LogTree) WriteLog(ctx context.Context, section string, kind Kind, pkg, version string, r io.Reader, maxSize int64) (LogFile, error) {
	rel, err := LogPath(section, kind, pkg, version)
	if err != nil {
		return LogFile{}, fmt.Errorf("write log: %w", err)
	}
	lf, err := t.writeLog(ctx, rel, r, maxSize)
	if err != nil {
		return LogFile{}, fmt.Errorf("write log %s: %w", rel, err)
	}
	return lf, nil
}

func (t *LogTree) writeLog(ctx context.Context, rel string, r io.Reader, maxSize int64) (lf LogFile, err error) {
	if err := ctx.Err(); err != nil {
		return LogFile{}, err
	}
	final := filepath.Join(t.root, filepath.FromSlash(rel))
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return LogFile{}, err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return LogFile{}, err
	}
	temp := f.Name()
	// Whatever happens, the temporary name goes away: on success the log
	// lives on under its final name (a second link to the same inode).
	defer func() {
		if f != nil {
			f.Close()
		}
		if rmErr := os.Remove(temp); rmErr != nil && err == nil {
			err = rmErr
		}
	}()
	// The log is read by the report and people, who are often not the
	// master's user; os.CreateTemp makes it 0600.
	if err := f.Chmod(0o644); err != nil {
		return LogFile{}, err
	}
	h := sha256.New()
	src := io.Reader(ctxReader{ctx: ctx, r: r})
	if maxSize > 0 {
		src = io.LimitReader(src, maxSize+1)
	}
	n, err := io.Copy(io.MultiWriter(f, h), src)
	if err != nil {
		return LogFile{}, err
	}
	if maxSize > 0 && n > maxSize {
		return LogFile{}, fmt.Errorf("more than %d bytes: %w", maxSize, ErrLogTooLarge)
	}
	if err := f.Sync(); err != nil {
		return LogFile{}, err
	}
	err = f.Close()
	f = nil
	if err != nil {
		return LogFile{}, err
	}
	if err := os.Link(temp, final); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LogFile{}, ErrLogExists
		}
		return LogFile{}, err
	}
	// Make the new name durable; the temporary name's removal needs no
	// sync, it is harmless if a crash resurrects it.
	if err := fsutil.SyncDir(dir); err != nil {
		return LogFile{}, err
	}
	return LogFile{Path: rel, Size: n, SHA256: hexSum(h)}, nil
}

// CreateMarker creates the empty marker file SECTION/KIND/NAME_VERSION.log
// (a reserved/ or recycle/ marker: the file's existence is its meaning) and
// syncs its directory. An empty file has no data to sync, so it is created
// under its final name with O_EXCL rather than written and linked like a
// log: one fsync instead of two. It returns a *NameError or an error
// wrapping [ErrUnknownKind] for unsafe names, and an error wrapping
// [ErrLogExists] when the marker is already there.
func (t *LogTree) CreateMarker(section string, kind Kind, pkg, version string) error {
	return t.createMarker(section, kind, pkg, version, true)
}

// CreateMarkerNoSync creates a marker as [LogTree.CreateMarker] does but
// leaves its directory unsynced: until [LogTree.SyncKind] syncs it, a
// crash may lose the marker. Whoever creates several markers in a row
// syncs once. It returns the errors of CreateMarker.
func (t *LogTree) CreateMarkerNoSync(section string, kind Kind, pkg, version string) error {
	return t.createMarker(section, kind, pkg, version, false)
}

func (t *LogTree) createMarker(section string, kind Kind, pkg, version string, sync bool) error {
	rel, err := LogPath(section, kind, pkg, version)
	if err != nil {
		return fmt.Errorf("create marker: %w", err)
	}
	final := filepath.Join(t.root, filepath.FromSlash(rel))
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create marker %s: %w", rel, err)
	}
	f, err := os.OpenFile(final, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create marker %s: %w", rel, ErrLogExists)
	}
	if err != nil {
		return fmt.Errorf("create marker %s: %w", rel, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create marker %s: %w", rel, err)
	}
	if !sync {
		return nil
	}
	if err := fsutil.SyncDir(dir); err != nil {
		return fmt.Errorf("create marker %s: %w", rel, err)
	}
	return nil
}

// SyncKind syncs the directory SECTION/KIND, making the markers
// [LogTree.CreateMarkerNoSync] created in it durable. It returns a
// *NameError or an error wrapping [ErrUnknownKind] for unsafe names, and
// an error wrapping fs.ErrNotExist when the directory does not exist.
func (t *LogTree) SyncKind(section string, kind Kind) error {
	if err := CheckName("section", section); err != nil {
		return fmt.Errorf("sync %s: %w", quote(section), err)
	}
	if !kind.Valid() {
		return fmt.Errorf("sync %s: %w", quote(string(kind)), ErrUnknownKind)
	}
	if err := fsutil.SyncDir(filepath.Join(t.root, section, string(kind))); err != nil {
		return fmt.Errorf("sync %s/%s: %w", section, kind, err)
	}
	return nil
}

// StatLog returns the size and SHA-256 of a log in the tree, e.g. to index a
// log that was written but not indexed before a crash, or an imported one.
// It returns a *NameError or an error wrapping [ErrUnknownKind] for unsafe
// names, and an error wrapping fs.ErrNotExist when there is no such log.
func (t *LogTree) StatLog(section string, kind Kind, pkg, version string) (LogFile, error) {
	rel, err := LogPath(section, kind, pkg, version)
	if err != nil {
		return LogFile{}, fmt.Errorf("stat log: %w", err)
	}
	f, err := os.Open(filepath.Join(t.root, filepath.FromSlash(rel)))
	if err != nil {
		return LogFile{}, fmt.Errorf("stat log %s: %w", rel, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return LogFile{}, fmt.Errorf("stat log %s: %w", rel, err)
	}
	return LogFile{Path: rel, Size: n, SHA256: hexSum(h)}, nil
}

// OpenLog opens a log in the tree for reading. It returns a *NameError or
// an error wrapping [ErrUnknownKind] for unsafe names, and an error wrapping
// fs.ErrNotExist when there is no such log.
func (t *LogTree) OpenLog(section string, kind Kind, pkg, version string) (*os.File, error) {
	rel, err := LogPath(section, kind, pkg, version)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	f, err := os.Open(filepath.Join(t.root, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", rel, err)
	}
	return f, nil
}

// RemoveLog removes a log from the tree and syncs its directory; a log that
// is not there is not an error. It returns a *NameError or an error wrapping
// [ErrUnknownKind] for unsafe names.
func (t *LogTree) RemoveLog(section string, kind Kind, pkg, version string) error {
	rel, err := LogPath(section, kind, pkg, version)
	if err != nil {
		return fmt.Errorf("remove log: %w", err)
	}
	full := filepath.Join(t.root, filepath.FromSlash(rel))
	if err := os.Remove(full); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove log %s: %w", rel, err)
	}
	if err := fsutil.SyncDir(filepath.Dir(full)); err != nil {
		return fmt.Errorf("remove log %s: %w", rel, err)
	}
	return nil
}

// AppendSubmission appends the line "EPOCH RESULT NAME VERSION" to
// SECTION/submissions.txt, as piuparts does for every submitted log, and
// syncs the file. It returns a *NameError for unsafe names and an error
// wrapping [ErrUnknownKind] unless result is pass, fail or untestable.
func (t *LogTree) AppendSubmission(section string, epoch int64, result Kind, pkg, version string) error {
	if err := checkLogNames(section, result, pkg, version); err != nil {
		return fmt.Errorf("append submission: %w", err)
	}
	if !result.IsResult() {
		return fmt.Errorf("append submission: %w %s", ErrUnknownKind, quote(string(result)))
	}
	dir := filepath.Join(t.root, section)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("append submission to %s: %w", section, err)
	}
	name := filepath.Join(dir, "submissions.txt")
	line := strconv.FormatInt(epoch, 10) + " " + string(result) + " " + pkg + " " + version + "\n"
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("append submission to %s: %w", section, err)
	}
	// One write call: with O_APPEND concurrent writers' lines do not mix.
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return fmt.Errorf("append submission to %s: %w", section, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("append submission to %s: %w", section, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("append submission to %s: %w", section, err)
	}
	return nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read reads from the underlying reader unless ctx is done.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
