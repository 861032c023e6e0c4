package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"piuparts-server/internal/fsutil"
)

// countsFile is the section's history of state counts, one row per day.
const countsFile = "counts.txt"

// ReadCounts returns the content of SECTION/counts.txt. The error of a
// missing file wraps fs.ErrNotExist; an unsafe section name gives a
// *NameError.
func (t *LogTree) ReadCounts(section string) ([]byte, error) {
	dir, err := t.sectionDir(section)
	if err != nil {
		return nil, fmt.Errorf("read counts: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, countsFile))
	if err != nil {
		return nil, fmt.Errorf("read counts of %s: %w", section, err)
	}
	return b, nil
}

// AppendCounts adds the day's row to SECTION/counts.txt as
// piuparts-report's write_counts_summary does: a file that does not exist
// (or is empty) first gets header; row is appended unless the file's last
// line already contains day. header and row are whole lines ending in
// "\n". A last line cut short (no final newline, as a crash leaves it) is
// ended before row is appended. The file is written with O_APPEND in one
// write and synced, and a new file's directory too. It returns whether
// row was appended, a *NameError for an unsafe section name, and an error
// for an empty day or a header or row that is not one line.
func (t *LogTree) AppendCounts(section, header, row, day string) (bool, error) {
	dir, err := t.sectionDir(section)
	if err != nil {
		return false, fmt.Errorf("append counts: %w", err)
	}
	if day == "" {
		return false, fmt.Errorf("append counts to %s: no day", section)
	}
	for _, l := range []string{header, row} {
		if !strings.HasSuffix(l, "\n") || strings.Count(l, "\n") != 1 {
			return false, fmt.Errorf("append counts to %s: %s is not one line", section, quote(l))
		}
	}
	name := filepath.Join(dir, countsFile)
	_, statErr := os.Lstat(name)
	created := errors.Is(statErr, fs.ErrNotExist)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return false, fmt.Errorf("append counts to %s: %w", section, err)
	}
	defer f.Close()
	old, err := io.ReadAll(f)
	if err != nil {
		return false, fmt.Errorf("read counts of %s: %w", section, err)
	}
	var add string
	switch {
	case len(old) == 0:
		add = header + row
	default:
		body := bytes.TrimSuffix(old, []byte("\n"))
		last := body[bytes.LastIndexByte(body, '\n')+1:]
		if bytes.Contains(last, []byte(day)) {
			return false, nil
		}
		if old[len(old)-1] != '\n' {
			add = "\n"
		}
		add += row
	}
	// One write call: with O_APPEND the row lands whole at the end.
	if _, err := f.WriteString(add); err != nil {
		return false, fmt.Errorf("append counts to %s: %w", section, err)
	}
	if err := f.Sync(); err != nil {
		return false, fmt.Errorf("append counts to %s: %w", section, err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("append counts to %s: %w", section, err)
	}
	if created {
		if err := fsutil.SyncDir(dir); err != nil {
			return false, fmt.Errorf("append counts to %s: %w", section, err)
		}
	}
	return true, nil
}
