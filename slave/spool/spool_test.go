package spool_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"piuparts-server/slave/spool"
)

func TestOpen(t *testing.T) {
	t.Run("CreatesDirectories", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "slave", "sid")
		s, err := spool.Open(dir, spool.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		for _, sub := range []string{"new", "pass", "fail", "untestable", "reserved"} {
			if st, err := os.Stat(filepath.Join(dir, sub)); err != nil || !st.IsDir() {
				t.Errorf("%s: %v, want a directory", sub, err)
			}
		}
		if s.Section() != "sid" {
			t.Errorf("Section() = %q, want %q", s.Section(), "sid")
		}
	})
	t.Run("KeepsExisting", func(t *testing.T) {
		s := openSpool(t, spool.Options{})
		finish(t, s, "hello", "2.10-3", "pass", "log\n")
		s2 := reopen(t, s)
		if got, want := mustFinished(t, s2), []string{"pass/hello_2.10-3.log"}; !slices.Equal(got, want) {
			t.Errorf("Finished() after reopening = %q, want %q", got, want)
		}
	})
	t.Run("SubdirIsFile", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "pass"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := spool.Open(dir, spool.Options{}); err == nil {
			t.Error("Open with a file named pass = nil error, want one")
		}
	})
	t.Run("Empty", func(t *testing.T) {
		if _, err := spool.Open("", spool.Options{}); err == nil {
			t.Error(`Open("") = nil error, want one`)
		}
	})
}

// badNames are package names and versions that must not reach the file
// system.
var badNames = []struct{ name, version string }{
	{"", "1.0"},
	{"hello", ""},
	{"../etc", "1.0"},
	{"hello/x", "1.0"},
	{"Hello", "1.0"},
	{"hello_x", "1.0"},
	{"h", "1.0"},
	{"hello", "1.0/../../x"},
	{"hello", "abc"},
	{"hello", "1 0"},
	{"hello", "1.0\n"},
	{"hello", "1.0_2"},
	{"hello", "none"},
	{"a" + strings.Repeat("b", 200), "1." + strings.Repeat("0", 60)},
}

func TestSpool_Reserve(t *testing.T) {
	tests := []struct {
		name, version string
		wantErr       error
	}{
		{"hello", "2.10-3", nil},
		{"libgmp10", "2:6.2.1+dfsg1-1.1", nil},
		{"hello", "None", nil},
	}
	for _, b := range badNames {
		tests = append(tests, struct {
			name, version string
			wantErr       error
		}{b.name, b.version, spool.ErrInvalidName})
	}
	for _, tt := range tests {
		t.Run(spool.LogName(tt.name, tt.version), func(t *testing.T) {
			s := openSpool(t, spool.Options{})
			err := s.Reserve(tt.name, tt.version)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Reserve(%q, %q) = %v, want %v", tt.name, tt.version, err, tt.wantErr)
			}
			got := mustReserved(t, s)
			want := []string{}
			if tt.wantErr == nil {
				want = []string{"reserved/" + spool.LogName(tt.name, tt.version)}
			}
			if !slices.Equal(got, want) {
				t.Errorf("Reserved() = %q, want %q", got, want)
			}
			// Nothing else appears anywhere: the spool holds only its
			// five directories.
			if got, want := dirNames(t, s, "."), []string{"fail", "new", "pass", "reserved", "untestable"}; !slices.Equal(got, want) {
				t.Errorf("spool directory holds %q, want %q", got, want)
			}
			if tt.wantErr == nil {
				// The marker is Debian's: an empty file.
				if data := readFile(t, filepath.Join(s.Dir(), "reserved", spool.LogName(tt.name, tt.version))); data != "" {
					t.Errorf("marker holds %q, want an empty file", data)
				}
				if err := s.Reserve(tt.name, tt.version); err != nil {
					t.Errorf("Reserve again = %v, want nil", err)
				}
			}
		})
	}
}

func TestSpool_Reserved(t *testing.T) {
	s := openSpool(t, spool.Options{})
	writeFile(t, s, "reserved/zlib1g_1:1.2.13.dfsg-1.log", "", 1)
	writeFile(t, s, "reserved/hello_2.10-3.log", "", 3)
	writeFile(t, s, "reserved/dpkg_1.21.23.log", "", 2)
	// Foreign files are ignored.
	writeFile(t, s, "reserved/README", "", 0)
	writeFile(t, s, "reserved/.hidden_1.0.log", "", 0)
	writeFile(t, s, "reserved/tmp_1.0.log.tmp", "", 0)
	if err := os.Mkdir(filepath.Join(s.Dir(), "reserved", "adir_1.0.log"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(s.Dir(), "reserved", "alink_1.0.log")); err != nil {
		t.Fatal(err)
	}
	// A marker whose log is finished is dropped.
	writeFile(t, s, "reserved/done_1.0.log", "", 0)
	writeFile(t, s, "fail/done_1.0.log", "log\n", 0)

	got := mustReserved(t, s)
	want := []string{"reserved/zlib1g_1:1.2.13.dfsg-1.log", "reserved/dpkg_1.21.23.log", "reserved/hello_2.10-3.log"}
	if !slices.Equal(got, want) {
		t.Errorf("Reserved() = %q, want %q (oldest first)", got, want)
	}
	if slices.Contains(dirNames(t, s, "reserved"), "done_1.0.log") {
		t.Error("stale marker reserved/done_1.0.log is still on disk")
	}
	if got, want := mustFinished(t, s), []string{"fail/done_1.0.log"}; !slices.Equal(got, want) {
		t.Errorf("Finished() = %q, want %q", got, want)
	}
}

func TestSpool_Forget(t *testing.T) {
	tests := []struct {
		name     string
		reserve  bool
		pkg, ver string
		wantErr  error
	}{
		{"Reserved", true, "hello", "2.10-3", nil},
		{"NotReserved", false, "hello", "2.10-3", nil},
		{"InvalidName", false, "../x", "1.0", spool.ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openSpool(t, spool.Options{})
			if tt.reserve {
				if err := s.Reserve(tt.pkg, tt.ver); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Reserve("other", "1.0"); err != nil {
				t.Fatal(err)
			}
			if err := s.Forget(tt.pkg, tt.ver); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Forget(%q, %q) = %v, want %v", tt.pkg, tt.ver, err, tt.wantErr)
			}
			if got, want := dirNames(t, s, "reserved"), []string{"other_1.0.log"}; !slices.Equal(got, want) {
				t.Errorf("reserved/ holds %q, want %q", got, want)
			}
		})
	}
}

func TestSpool_Drop(t *testing.T) {
	tests := []struct {
		name          string
		marker, isNew bool
		wantErr       error
	}{
		{"MarkerAndNew", true, true, nil},
		{"MarkerOnly", true, false, nil},
		{"NewOnly", false, true, nil},
		{"Nothing", false, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openSpool(t, spool.Options{})
			if tt.marker {
				writeFile(t, s, "reserved/hello_2.10-3.log", "", 0)
			}
			if tt.isNew {
				writeFile(t, s, "new/hello_2.10-3.log", "half a log", 0)
			}
			writeFile(t, s, "reserved/other_1.0.log", "", 0)
			writeFile(t, s, "pass/hello_2.10-2.log", "older version", 0)
			if err := s.Drop("hello", "2.10-3"); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Drop = %v, want %v", err, tt.wantErr)
			}
			if got := dirNames(t, s, "new"); len(got) != 0 {
				t.Errorf("new/ holds %q, want nothing", got)
			}
			if got, want := dirNames(t, s, "reserved"), []string{"other_1.0.log"}; !slices.Equal(got, want) {
				t.Errorf("reserved/ holds %q, want %q", got, want)
			}
			if got, want := dirNames(t, s, "pass"), []string{"hello_2.10-2.log"}; !slices.Equal(got, want) {
				t.Errorf("pass/ holds %q, want %q", got, want)
			}
		})
	}
	t.Run("InvalidName", func(t *testing.T) {
		s := openSpool(t, spool.Options{})
		if err := s.Drop("hello", "../../x"); !errors.Is(err, spool.ErrInvalidName) {
			t.Errorf("Drop = %v, want %v", err, spool.ErrInvalidName)
		}
	})
}

func TestSpool_Unfinished(t *testing.T) {
	s := openSpool(t, spool.Options{})
	writeFile(t, s, "reserved/aaa_1.0.log", "", 5)    // reserved, not started
	writeFile(t, s, "new/bbb_1.0.log", "half", 2)     // started, marker gone
	writeFile(t, s, "reserved/ccc_1.0.log", "", 1)    // reserved and started:
	writeFile(t, s, "new/ccc_1.0.log", "half", 3)     //   listed once
	writeFile(t, s, "reserved/ddd_1.0.log", "", 0)    // finished: not unfinished
	writeFile(t, s, "untestable/ddd_1.0.log", "x", 0) //
	writeFile(t, s, "new/eee_1.0.log.tmp", "", 0)     // foreign

	es, err := s.Unfinished()
	if err != nil {
		t.Fatalf("Unfinished: %v", err)
	}
	got, want := keys(es), []string{"reserved/ccc_1.0.log", "new/bbb_1.0.log", "reserved/aaa_1.0.log"}
	if !slices.Equal(got, want) {
		t.Errorf("Unfinished() = %q, want %q", got, want)
	}
}

func TestSpool_Finished(t *testing.T) {
	s := openSpool(t, spool.Options{})
	writeFile(t, s, "untestable/ccc_1.0.log", "untestable\n", 1)
	writeFile(t, s, "pass/aaa_1.0.log", "pass\n", 3)
	writeFile(t, s, "fail/bbb_2:1.0-1.log", "fail, longer\n", 2)
	writeFile(t, s, "pass/zzz_1.0.log", "same time as aaa\n", 3)
	// Foreign files: never finished, never shipped.
	writeFile(t, s, "pass/aaa_1.0.log.tmp", "", 0)
	writeFile(t, s, "pass/.aaa_1.0.log", "", 0)
	writeFile(t, s, "fail/bbb_1.0.kpr", "", 0)
	writeFile(t, s, "fail/Bad_1.0.log", "", 0)
	writeFile(t, s, "new/ddd_1.0.log", "running", 0)
	writeFile(t, s, "reserved/eee_1.0.log", "", 0)
	if err := os.Symlink("/etc/passwd", filepath.Join(s.Dir(), "pass", "link_1.0.log")); err != nil {
		t.Fatal(err)
	}

	es, err := s.Finished()
	if err != nil {
		t.Fatalf("Finished: %v", err)
	}
	got, want := keys(es), []string{"untestable/ccc_1.0.log", "fail/bbb_2:1.0-1.log", "pass/aaa_1.0.log", "pass/zzz_1.0.log"}
	if !slices.Equal(got, want) {
		t.Fatalf("Finished() = %q, want %q", got, want)
	}
	e := es[1]
	if e.Name != "bbb" || e.Version != "2:1.0-1" || e.Size != int64(len("fail, longer\n")) ||
		!e.ModTime.Equal(base.Add(2e9)) || e.Path != filepath.Join(s.Dir(), "fail", "bbb_2:1.0-1.log") {
		t.Errorf("Finished()[1] = %+v", e)
	}
	n, err := s.Pending()
	if err != nil || n != 4 {
		t.Errorf("Pending() = %d, %v, want 4, nil", n, err)
	}
}
