package spool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"piuparts-server/internal/fsutil"
)

// Ship gives the finished logs, oldest first, one at a time to send, which
// submits one log to the master and returns nil only when the master
// answered "ok". send gets the log's Entry and a reader of the file (it
// streams; the log is never read into memory here) and must read it to the
// end. Only after send returned nil is the log removed and its directory
// fsynced, and a line appended to the shipping log ([Options.ShipLog]).
// Ship stops at the first error and leaves that log and the later ones for
// the next time. It returns how many logs were shipped and removed.
//
// Ship holds the section's lock while it runs: if this Spool does not hold
// it already (see [Spool.Lock]), Ship takes it and returns an error
// wrapping [ErrBusy] when another Spool or process holds it; a second Ship
// of the same Spool while one runs returns [ErrBusy] too.
//
// Errors for one log name it, "ship fail/NAME_VERSION.log: ...", and wrap
// send's error; [ErrIncomplete] when send returned nil without reading the
// whole log; ctx.Err() when ctx is done before a log is sent; the file
// system's error otherwise. An error writing the shipping log comes after
// the log was removed, and is counted in n.
func (s *Spool) Ship(ctx context.Context, send func(ctx context.Context, e Entry, r io.Reader) error) (n int, err error) {
	s.mu.Lock()
	if s.shipping {
		s.mu.Unlock()
		return 0, fmt.Errorf("ship: %w", ErrBusy)
	}
	s.shipping = true
	held := s.held > 0
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.shipping = false
		s.mu.Unlock()
	}()
	if !held {
		release, err := s.Lock()
		if err != nil {
			return 0, fmt.Errorf("ship: %w", err)
		}
		defer func() {
			if rerr := release(); rerr != nil && err == nil {
				err = fmt.Errorf("ship: %w", rerr)
			}
		}()
	}

	logs, err := s.Finished()
	if err != nil {
		return 0, fmt.Errorf("ship: %w", err)
	}
	sl := &shipLog{path: s.shipLog}
	defer func() {
		if cerr := sl.close(); cerr != nil && err == nil {
			err = fmt.Errorf("ship: %w", cerr)
		}
	}()
	for _, e := range logs {
		if err := ctx.Err(); err != nil {
			return n, fmt.Errorf("ship: %w", err)
		}
		removed, err := s.shipOne(ctx, e, send, sl)
		if removed {
			n++
		}
		if err != nil {
			return n, fmt.Errorf("ship %s/%s: %w", e.Result, LogName(e.Name, e.Version), err)
		}
	}
	return n, nil
}

// shipOne sends one log and, when send succeeded, removes it and writes
// its line in the shipping log. removed reports whether the log is gone.
func (s *Spool) shipOne(ctx context.Context, e Entry, send func(context.Context, Entry, io.Reader) error, sl *shipLog) (removed bool, err error) {
	f, err := os.OpenFile(e.Path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil // gone since listed: nothing to ship
	}
	if err != nil {
		return false, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return false, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return false, nil
	}
	e.Size, e.ModTime = st.Size(), st.ModTime()
	cr := &countReader{r: f}
	start := s.now()
	err = send(ctx, e, cr)
	f.Close()
	if err != nil {
		return false, err
	}
	if cr.n < e.Size {
		return false, fmt.Errorf("%w: read %d of %d bytes", ErrIncomplete, cr.n, e.Size)
	}
	if err := s.step("sent"); err != nil {
		return false, err
	}
	end := s.now()
	if err := os.Remove(e.Path); err != nil {
		return false, err
	}
	if err := fsutil.SyncDir(filepath.Dir(e.Path)); err != nil {
		return true, err
	}
	if err := s.step("removed"); err != nil {
		return true, err
	}
	if err := sl.write(s.shipLine(end, e, end.Sub(start))); err != nil {
		return true, fmt.Errorf("write shipping log: %w", err)
	}
	return true, nil
}

// shipLine formats one line of the shipping log.
func (s *Spool) shipLine(t time.Time, e Entry, d time.Duration) string {
	return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%d\t%.3f\n",
		t.UTC().Format(time.RFC3339), field(s.master), field(s.section),
		e.Name, e.Version, e.Result, e.Size, d.Seconds())
}

// field makes s one field of a shipping log line: "-" when empty, and
// white space and control characters replaced by '?'.
func field(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return '?'
		}
		return r
	}, s)
}

// shipLog is the shipping log file, opened when the first line is written.
type shipLog struct {
	path string
	f    *os.File
}

// write appends line in one write(2) with O_APPEND, so lines of spools
// sharing the file do not mix.
func (l *shipLog) write(line string) error {
	if l.path == "" {
		return nil
	}
	if l.f == nil {
		f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		l.f = f
	}
	_, err := l.f.WriteString(line)
	return err
}

func (l *shipLog) close() error {
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

// countReader counts the bytes read through it. It hides the *os.File, so
// that send can neither seek nor close it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
