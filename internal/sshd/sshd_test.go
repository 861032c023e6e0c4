package sshd_test

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"piuparts-server/internal/sshd"
)

// available skips the test when sshd cannot run here.
func available(t *testing.T) {
	t.Helper()
	if err := sshd.Available(); err != nil {
		if !errors.Is(err, sshd.ErrUnavailable) {
			t.Fatalf("Available() = %v, want an error wrapping ErrUnavailable", err)
		}
		t.Skipf("SKIP: %v", err)
	}
}

// TestStart_PortAndClose: sshd listens on the port the picker chose, and
// after Close nothing listens there and Exited is closed.
func TestStart_PortAndClose(t *testing.T) {
	available(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	want := l.Addr().(*net.TCPAddr).Port
	l.Close()
	asked := 0
	s, err := sshd.Start(t.TempDir(), sshd.Config{ForcedCommand: "true", Port: func() (int, error) { asked++; return want, nil }})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if s.Port != want || asked != 1 {
		t.Errorf("Port = %d after %d picks, want %d after 1", s.Port, asked, want)
	}
	c, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", s.Addr(), err)
	}
	c.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Exited():
	default:
		t.Errorf("Exited not closed after Close")
	}
	if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Close", s.Addr())
	}
}

// TestStart_Refuses: config values that would break sshd's files are
// refused before anything starts, the value quoted in the error.
func TestStart_Refuses(t *testing.T) {
	available(t)
	tests := []struct {
		name string
		cfg  sshd.Config
		want string
	}{
		{"LineBreakInCommand", sshd.Config{ForcedCommand: "true\nfalse"}, "line break"},
		{"LineBreakInFurtherCommand", sshd.Config{ForcedCommands: []string{"a\rb"}}, "line break"},
		{"BlankInSetEnv", sshd.Config{SetEnv: []string{"A=b c"}}, "blank or a quote"},
		{"QuoteInMaxStartups", sshd.Config{MaxStartups: `10"`}, "blank or a quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sshd.Start(t.TempDir(), tt.cfg)
			if err == nil {
				s.Close()
				t.Fatalf("Start(%+v) started sshd, want an error", tt.cfg)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start(%+v) = %v, want an error saying %q", tt.cfg, err, tt.want)
			}
		})
	}
}
