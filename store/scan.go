package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"piuparts-server/internal/piuparts"
)

// diskLog is a log file found in a section's directories.
type diskLog struct {
	kind         Kind
	pkg, version string
	rel          string // relative to the master directory
	size         int64
	mtime        time.Time
	sha256       string // set by hashLogs
	hashErr      error
}

// diskTemp is a file left by an interrupted [LogTree.WriteLog].
type diskTemp struct {
	rel   string
	mtime time.Time
}

// sectionScan is what a section's directories hold.
type sectionScan struct {
	logs    []*diskLog
	temps   []diskTemp
	skipped []Skip
}

// Skip is a file of the log tree an import or a check left alone, and why.
type Skip struct {
	Path   string // relative to the master directory
	Reason string
}

// scanSection lists the logs of a section's kind directories without
// following symbolic links: a directory or .log file that is a link, or not
// a regular file, or whose name is not a safe NAME_VERSION.log, is skipped
// and reported. Other files (piuparts-report's .kpr and .bug files) are
// ignored. A missing kind directory is empty.
func (t *LogTree) scanSection(section string) (*sectionScan, error) {
	if err := CheckName("section", section); err != nil {
		return nil, err
	}
	sc := &sectionScan{}
	// Submissions a crash interrupted leave their temporary files here.
	if entries, err := os.ReadDir(filepath.Join(t.root, section, incomingDir)); err == nil {
		for _, e := range entries {
			if info, err := e.Info(); err == nil && info.Mode().IsRegular() && strings.HasPrefix(e.Name(), tempPrefix) {
				sc.temps = append(sc.temps, diskTemp{rel: section + "/" + incomingDir + "/" + e.Name(), mtime: info.ModTime()})
			}
		}
	}
	for _, k := range piuparts.Kinds() {
		relDir := section + "/" + string(k)
		dir := filepath.Join(t.root, section, string(k))
		st, err := os.Lstat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", relDir, err)
		}
		if !st.IsDir() {
			sc.skipped = append(sc.skipped, Skip{relDir, "not a directory (links are not followed)"})
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", relDir, err)
		}
		for _, e := range entries {
			name := e.Name()
			rel := relDir + "/" + name
			if strings.HasPrefix(name, tempPrefix) {
				if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
					sc.temps = append(sc.temps, diskTemp{rel: rel, mtime: info.ModTime()})
				}
				continue
			}
			if !strings.HasSuffix(name, ".log") {
				continue
			}
			pkg, version, ok := piuparts.ParseLogName(name)
			if !ok {
				sc.skipped = append(sc.skipped, Skip{rel, "not a safe NAME_VERSION.log name"})
				continue
			}
			if !e.Type().IsRegular() {
				sc.skipped = append(sc.skipped, Skip{rel, "not a regular file (links are not followed)"})
				continue
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed meanwhile
			}
			if err != nil {
				return nil, fmt.Errorf("scan %s: %w", rel, err)
			}
			sc.logs = append(sc.logs, &diskLog{kind: k, pkg: pkg, version: version, rel: rel,
				size: info.Size(), mtime: info.ModTime()})
		}
	}
	return sc, nil
}

// hashLogs sets size and sha256 of logs, reading them in parallel; a log
// that cannot be read gets hashErr.
func (t *LogTree) hashLogs(ctx context.Context, logs []*diskLog) {
	work := make(chan *diskLog)
	var wg sync.WaitGroup
	for range max(2, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range work {
				l.size, l.sha256, l.hashErr = t.hashFile(l.rel)
			}
		}()
	}
	for _, l := range logs {
		if ctx.Err() != nil {
			l.hashErr = ctx.Err()
			continue
		}
		work <- l
	}
	close(work)
	wg.Wait()
}

// hashFile returns the size and SHA-256 of a regular file under the root,
// refusing to follow a link in its last component.
func (t *LogTree) hashFile(rel string) (int64, string, error) {
	f, err := os.OpenFile(filepath.Join(t.root, filepath.FromSlash(rel)), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, "", err
	}
	if !st.Mode().IsRegular() {
		return 0, "", fmt.Errorf("%s: not a regular file", rel)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hexSum(h), nil
}

// indexRow is one row of the log index, as import and check compare it.
type indexRow struct {
	kind         Kind
	pkg, version string
	path         string
	size         int64
	sha256       string
	submittedAt  int64
}

func logKey(k Kind, pkg, version string) string { return string(k) + "/" + pkg + "_" + version }

// indexRows returns the log index of a section by logKey.
func (db *DB) indexRows(ctx context.Context, section string) (map[string]indexRow, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT kind, package, version, path, size, sha256, submitted_at FROM logs
		WHERE section_id = (SELECT id FROM sections WHERE name = ?)`, section)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := make(map[string]indexRow)
	for rows.Next() {
		var r indexRow
		var kind string
		if err := rows.Scan(&kind, &r.pkg, &r.version, &r.path, &r.size, &r.sha256, &r.submittedAt); err != nil {
			return nil, err
		}
		r.kind = Kind(kind)
		m[logKey(r.kind, r.pkg, r.version)] = r
	}
	return m, rows.Err()
}
