package supervise

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Transcript is the file receiving the program's output (and the
// manager's own log lines). Reopen opens it again by name, so that after
// a rename (logrotate without copytruncate) new output goes to a new file,
// as zdaemon's reopen_transcript does.
type Transcript struct {
	path string
	echo io.Writer // also receives everything; nil: nothing
	now  func() time.Time

	mu   sync.Mutex
	f    *os.File
	last time.Time // the program's last output
}

// OpenTranscript opens (appends to, creates with mode 0640) the file at path.
func OpenTranscript(path string, echo io.Writer, now func() time.Time) (*Transcript, error) {
	t := &Transcript{path: path, echo: echo, now: now}
	f, err := t.open()
	if err != nil {
		return nil, err
	}
	t.f = f
	return t, nil
}

func (t *Transcript) open() (*os.File, error) {
	f, err := os.OpenFile(t.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("transcript: %w", err)
	}
	return f, nil
}

// Path is the transcript's file name.
func (t *Transcript) Path() string { return t.path }

// Write writes the manager's own lines.
func (t *Transcript) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.write(p)
}

func (t *Transcript) write(p []byte) (int, error) {
	if t.echo != nil {
		t.echo.Write(p)
	}
	return t.f.Write(p)
}

// copyFrom copies the program's output from r until EOF, noting when it
// last wrote.
func (t *Transcript) copyFrom(r io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			t.mu.Lock()
			t.write(buf[:n])
			t.last = t.now()
			t.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// LastOutput is when the program last wrote; zero before its first line.
func (t *Transcript) LastOutput() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

// Reopen closes the file and opens path again.
func (t *Transcript) Reopen() error {
	f, err := t.open()
	if err != nil {
		return err
	}
	t.mu.Lock()
	old := t.f
	t.f = f
	t.mu.Unlock()
	return old.Close()
}

// Close closes the file.
func (t *Transcript) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.f.Close()
}
