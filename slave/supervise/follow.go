package supervise

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Follow writes the last lines of the file at path to w, then what is
// appended to it, until ctx is done, as `tail -F`: after a rename (log
// rotation) or a truncation it goes on with the new file. It is what
// `piuparts-slave join` shows instead of Debian's screen session.
func Follow(ctx context.Context, path string, w io.Writer, lines int, poll time.Duration) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("join: %w", err)
	}
	defer func() { f.Close() }()
	if err := tail(f, w, lines); err != nil {
		return fmt.Errorf("join: %w", err)
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("join: %w", err)
		}
		// At the end: has the name moved on to another file?
		if cur, err := f.Stat(); err == nil {
			if now, err := os.Stat(path); err == nil {
				pos, _ := f.Seek(0, io.SeekCurrent)
				if !os.SameFile(cur, now) || now.Size() < pos {
					if nf, err := os.Open(path); err == nil {
						f.Close()
						f = nf
						continue
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(poll):
		}
	}
}

// tail writes the last n lines of f and leaves f at its end.
func tail(f *os.File, w io.Writer, n int) error {
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil || n <= 0 {
		return err
	}
	const chunk = 64 << 10
	start := max(end-chunk, 0)
	b := make([]byte, end-start)
	if _, err := f.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	// Position after the (n+1)th newline from the end, not counting a
	// final one.
	pos := len(b)
	if pos > 0 && b[pos-1] == '\n' {
		pos--
	}
	for i := 0; i < n && pos > 0; i++ {
		pos = bytes.LastIndexByte(b[:pos], '\n')
	}
	from := min(pos+1, len(b)) // 0 when fewer than n lines
	_, err = w.Write(b[from:])
	return err
}
