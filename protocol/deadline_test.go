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
