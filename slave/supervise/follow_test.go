package supervise

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Follow shows the last lines, then new ones, also after a rename.
func TestFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "transcript.log")
	os.WriteFile(path, []byte("one\ntwo\nthree\n"), 0o644)
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuf
	done := make(chan error)
	go func() { done <- Follow(ctx, path, &out, 2, 5*time.Millisecond) }()
	waitOut := func(want string) {
		t.Helper()
		for i := 0; i < 2000 && out.String() != want; i++ {
			time.Sleep(5 * time.Millisecond)
		}
		if out.String() != want {
			t.Fatalf("Follow wrote %q, want %q", out.String(), want)
		}
	}
	waitOut("two\nthree\n")
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("four\n")
	f.Close()
	waitOut("two\nthree\nfour\n")
	os.Rename(path, path+".1")
	os.WriteFile(path, []byte("five\n"), 0o644)
	waitOut("two\nthree\nfour\nfive\n")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Follow = %v", err)
	}
}

func TestTail(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "b\nc\n"},
		{"a\nb\nc\n", 5, "a\nb\nc\n"},
		{"a\nb\nc", 1, "c"},
		{"", 3, ""},
		{"a\n", 0, ""},
	} {
		path := filepath.Join(t.TempDir(), "f")
		os.WriteFile(path, []byte(tc.in), 0o644)
		f, _ := os.Open(path)
		var b strings.Builder
		if err := tail(f, &b, tc.n); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if b.String() != tc.want {
			t.Errorf("tail(%q, %d) = %q, want %q", tc.in, tc.n, b.String(), tc.want)
		}
	}
}
