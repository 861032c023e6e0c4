package protocol_test

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"piuparts-server/protocol"
)

func TestDeadlineReader(t *testing.T) {
	t.Run("Data", func(t *testing.T) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = pr.Close(); _ = pw.Close() })
		r := protocol.NewReader(bufio.NewReader(&protocol.DeadlineReader{R: pr, Idle: time.Minute}))
		go func() { _, _ = io.WriteString(pw, "reserve\n") }()
		c, err := r.ReadCommand()
		if err != nil || c.Keyword != "reserve" {
			t.Errorf("ReadCommand = %q, %v, want reserve", c, err)
		}
	})
	t.Run("IdleTimeout", func(t *testing.T) {
		pr, pw, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = pr.Close(); _ = pw.Close() })
		r := protocol.NewReader(bufio.NewReader(&protocol.DeadlineReader{R: pr, Idle: 20 * time.Millisecond}))
		// The peer wrote half a line and then fell silent.
		if _, err := io.WriteString(pw, "pass liwc"); err != nil {
			t.Fatal(err)
		}
		_, err = r.ReadCommand()
		if !errors.Is(err, protocol.ErrIdleTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("ReadCommand: error = %v, want ErrIdleTimeout and os.ErrDeadlineExceeded", err)
		}
		if !strings.Contains(err.Error(), "idle timeout") {
			t.Errorf("error %q does not say it was the idle timeout", err)
		}
	})
	t.Run("BlockingDescriptor", func(t *testing.T) {
		// A descriptor in blocking mode, as standard input usually is, has
		// no deadlines; made non-blocking before os.NewFile, it has.
		for _, nonblock := range []bool{false, true} {
			var fds [2]int
			if err := syscall.Pipe(fds[:]); err != nil {
				t.Fatal(err)
			}
			if nonblock {
				if err := syscall.SetNonblock(fds[0], true); err != nil {
					t.Fatal(err)
				}
			}
			pr := os.NewFile(uintptr(fds[0]), "pipe-r")
			pw := os.NewFile(uintptr(fds[1]), "pipe-w")
			t.Cleanup(func() { _ = pr.Close(); _ = pw.Close() })
			d := &protocol.DeadlineReader{R: pr, Idle: 20 * time.Millisecond}
			_, err := d.Read(make([]byte, 1))
			want := os.ErrNoDeadline
			if nonblock {
				want = protocol.ErrIdleTimeout
			}
			if !errors.Is(err, want) {
				t.Errorf("non-blocking %v: Read error = %v, want %v", nonblock, err, want)
			}
		}
	})
}

func TestDeadlineReader_Deadline(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pr.Close(); _ = pw.Close() })
	// The idle timeout is far away; the session's end comes first.
	d := &protocol.DeadlineReader{R: pr, Idle: time.Hour, Deadline: time.Now().Add(20 * time.Millisecond)}
	_, err = d.Read(make([]byte, 1))
	if !errors.Is(err, protocol.ErrSessionTimeout) || errors.Is(err, protocol.ErrIdleTimeout) {
		t.Errorf("Read error = %v, want ErrSessionTimeout (not ErrIdleTimeout)", err)
	}
}

func TestDeadlineWriter(t *testing.T) {
	tests := []struct {
		name     string
		timeout  time.Duration
		deadline time.Duration // from now; 0: none
		want     error
	}{
		{"WriteTimeout", 20 * time.Millisecond, 0, protocol.ErrWriteTimeout},
		{"SessionDeadline", time.Hour, 20 * time.Millisecond, protocol.ErrSessionTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = pr.Close(); _ = pw.Close() })
			d := &protocol.DeadlineWriter{W: pw, Timeout: tt.timeout}
			if tt.deadline > 0 {
				d.Deadline = time.Now().Add(tt.deadline)
			}
			// Nobody reads: the pipe fills and a write must time out.
			buf := make([]byte, 64<<10)
			for range 64 {
				if _, err = d.Write(buf); err != nil {
					break
				}
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("Write error = %v, want %v and os.ErrDeadlineExceeded", err, tt.want)
			}
		})
	}
}

// TestDeadlineFile: a blocking descriptor (as an inherited stdin is) gets
// deadlines through DeadlineFile, and gets its mode back afterwards.
func TestDeadlineFile(t *testing.T) {
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	pr := os.NewFile(uintptr(fds[0]), "pipe-r")
	pw := os.NewFile(uintptr(fds[1]), "pipe-w")
	t.Cleanup(func() { _ = pr.Close(); _ = pw.Close() })
	nf, restore, ok := protocol.DeadlineFile(pr)
	if !ok {
		t.Fatal("DeadlineFile(pipe) not ok")
	}
	d := &protocol.DeadlineReader{R: nf, Idle: 20 * time.Millisecond}
	if _, err := d.Read(make([]byte, 1)); !errors.Is(err, protocol.ErrIdleTimeout) {
		t.Errorf("Read error = %v, want ErrIdleTimeout", err)
	}
	restore()
	flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fds[0]), syscall.F_GETFL, 0)
	if errno != 0 || flags&syscall.O_NONBLOCK != 0 {
		t.Errorf("after restore: flags %#x (errno %v), want blocking", flags, errno)
	}
	// The original stays usable.
	go func() { _, _ = io.WriteString(pw, "x") }()
	if _, err := pr.Read(make([]byte, 1)); err != nil {
		t.Errorf("original after restore: Read = %v", err)
	}
	f, err := os.CreateTemp(t.TempDir(), "regular")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, _, ok := protocol.DeadlineFile(f); ok {
		t.Errorf("DeadlineFile(regular file) ok, want not ok")
	}
}
