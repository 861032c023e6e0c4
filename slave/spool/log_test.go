package spool_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"piuparts-server/slave/spool"
)

func TestLog_Commit(t *testing.T) {
	for _, result := range []string{"pass", "fail", "untestable"} {
		t.Run(result, func(t *testing.T) {
			s := openSpool(t, spool.Options{})
			if err := s.Reserve("hello", "2.10-3"); err != nil {
				t.Fatal(err)
			}
			if err := s.Reserve("other", "1.0"); err != nil {
				t.Fatal(err)
			}
			l, err := s.Create("hello", "2.10-3")
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if got, want := dirNames(t, s, "new"), []string{"hello_2.10-3.log"}; !slices.Equal(got, want) {
				t.Errorf("new/ while writing holds %q, want %q", got, want)
			}
			for _, part := range []string{"Start: 2024-05-01 12:00:00 UTC\n", "piuparts output\n", "End: ...\n"} {
				if _, err := l.Write([]byte(part)); err != nil {
					t.Fatalf("Write: %v", err)
				}
			}
			if err := l.Commit(result); err != nil {
				t.Fatalf("Commit(%q): %v", result, err)
			}
			want := "Start: 2024-05-01 12:00:00 UTC\npiuparts output\nEnd: ...\n"
			if got := readFile(t, filepath.Join(s.Dir(), result, "hello_2.10-3.log")); got != want {
				t.Errorf("%s/hello_2.10-3.log = %q, want %q", result, got, want)
			}
			if l.Size() != int64(len(want)) {
				t.Errorf("Size() = %d, want %d", l.Size(), len(want))
			}
			if got := dirNames(t, s, "new"); len(got) != 0 {
				t.Errorf("new/ after Commit holds %q, want nothing", got)
			}
			if got, want := dirNames(t, s, "reserved"), []string{"other_1.0.log"}; !slices.Equal(got, want) {
				t.Errorf("reserved/ after Commit holds %q, want %q", got, want)
			}
			if got, want := mustFinished(t, s), []string{result + "/hello_2.10-3.log"}; !slices.Equal(got, want) {
				t.Errorf("Finished() = %q, want %q", got, want)
			}
			// The Log is done.
			if _, err := l.Write([]byte("more")); !errors.Is(err, spool.ErrClosed) {
				t.Errorf("Write after Commit = %v, want %v", err, spool.ErrClosed)
			}
			if err := l.Commit("pass"); !errors.Is(err, spool.ErrClosed) {
				t.Errorf("Commit after Commit = %v, want %v", err, spool.ErrClosed)
			}
			if err := l.Abort(); err != nil {
				t.Errorf("Abort after Commit = %v, want nil", err)
			}
			if got, want := mustFinished(t, s), []string{result + "/hello_2.10-3.log"}; !slices.Equal(got, want) {
				t.Errorf("Finished() after Abort = %q, want %q", got, want)
			}
		})
	}
}

func TestLog_Commit_InvalidResult(t *testing.T) {
	s := openSpool(t, spool.Options{})
	l, err := s.Create("hello", "2.10-3")
	if err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("log\n"))
	for _, r := range []string{"", "reserved", "new", "../pass", "bugged"} {
		if err := l.Commit(r); !errors.Is(err, spool.ErrInvalidResult) {
			t.Errorf("Commit(%q) = %v, want %v", r, err, spool.ErrInvalidResult)
		}
	}
	// The log is still open.
	l.Write([]byte("more\n"))
	if err := l.Commit("fail"); err != nil {
		t.Fatalf("Commit(fail) after refused results: %v", err)
	}
	if got := readFile(t, filepath.Join(s.Dir(), "fail", "hello_2.10-3.log")); got != "log\nmore\n" {
		t.Errorf("log = %q, want %q", got, "log\nmore\n")
	}
}

func TestLog_Abort(t *testing.T) {
	s := openSpool(t, spool.Options{})
	if err := s.Reserve("hello", "2.10-3"); err != nil {
		t.Fatal(err)
	}
	l, err := s.Create("hello", "2.10-3")
	if err != nil {
		t.Fatal(err)
	}
	l.Write([]byte("interrupted"))
	if err := l.Abort(); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if got := dirNames(t, s, "new"); len(got) != 0 {
		t.Errorf("new/ after Abort holds %q, want nothing", got)
	}
	if got, want := mustReserved(t, s), []string{"reserved/hello_2.10-3.log"}; !slices.Equal(got, want) {
		t.Errorf("Reserved() after Abort = %q, want %q", got, want)
	}
	if err := l.Abort(); err != nil {
		t.Errorf("second Abort = %v, want nil", err)
	}
	if err := l.Commit("pass"); !errors.Is(err, spool.ErrClosed) {
		t.Errorf("Commit after Abort = %v, want %v", err, spool.ErrClosed)
	}
	if _, err := l.Write([]byte("x")); !errors.Is(err, spool.ErrClosed) {
		t.Errorf("Write after Abort = %v, want %v", err, spool.ErrClosed)
	}
	if got := mustFinished(t, s); len(got) != 0 {
		t.Errorf("Finished() = %q, want nothing", got)
	}
}

func TestSpool_Create(t *testing.T) {
	t.Run("ReplacesStale", func(t *testing.T) {
		s := openSpool(t, spool.Options{})
		writeFile(t, s, "new/hello_2.10-3.log", "stale half log of a crashed run, longer than the new one\n", 0)
		finish(t, s, "hello", "2.10-3", "pass", "new log\n")
		if got := readFile(t, filepath.Join(s.Dir(), "pass", "hello_2.10-3.log")); got != "new log\n" {
			t.Errorf("log = %q, want %q", got, "new log\n")
		}
	})
	t.Run("StaleLinkNotFollowed", func(t *testing.T) {
		s := openSpool(t, spool.Options{})
		victim := filepath.Join(t.TempDir(), "victim")
		if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(victim, filepath.Join(s.Dir(), "new", "hello_2.10-3.log")); err != nil {
			t.Fatal(err)
		}
		finish(t, s, "hello", "2.10-3", "fail", "new log\n")
		if got := readFile(t, victim); got != "keep me" {
			t.Errorf("link target = %q, want it unchanged", got)
		}
		if got := readFile(t, filepath.Join(s.Dir(), "fail", "hello_2.10-3.log")); got != "new log\n" {
			t.Errorf("log = %q, want %q", got, "new log\n")
		}
	})
	t.Run("InvalidName", func(t *testing.T) {
		s := openSpool(t, spool.Options{})
		for _, b := range badNames {
			if _, err := s.Create(b.name, b.version); !errors.Is(err, spool.ErrInvalidName) {
				t.Errorf("Create(%q, %q) = %v, want %v", b.name, b.version, err, spool.ErrInvalidName)
			}
		}
		if got := dirNames(t, s, "new"); len(got) != 0 {
			t.Errorf("new/ holds %q, want nothing", got)
		}
	})
}
