package store_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"piuparts-server/store"
)

func TestLogTree_AppendCounts(t *testing.T) {
	const header = "date, a, b\n"
	root := t.TempDir()
	tree := store.NewLogTree(root)
	if err := tree.EnsureSection("sid"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "sid", "counts.txt")
	read := func() string {
		t.Helper()
		b, err := tree.ReadCounts("sid")
		if err != nil {
			t.Fatalf("ReadCounts: %v", err)
		}
		return string(b)
	}
	if _, err := tree.ReadCounts("sid"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadCounts of a new section = %v, want fs.ErrNotExist", err)
	}
	steps := []struct {
		name, row, day string
		appended       bool
		want           string
	}{
		{"New", "20250101, 1, 2\n", "20250101", true, header + "20250101, 1, 2\n"},
		{"SameDay", "20250101, 3, 4\n", "20250101", false, header + "20250101, 1, 2\n"},
		{"NextDay", "20250102, 3, 4\n", "20250102", true, header + "20250101, 1, 2\n20250102, 3, 4\n"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			ok, err := tree.AppendCounts("sid", header, st.row, st.day)
			if err != nil || ok != st.appended {
				t.Fatalf("AppendCounts(%q) = %v, %v, want %v", st.row, ok, err, st.appended)
			}
			if got := read(); got != st.want {
				t.Errorf("counts.txt = %q, want %q", got, st.want)
			}
		})
	}
	t.Run("TornLastLine", func(t *testing.T) {
		if err := os.WriteFile(file, []byte(header+"20250101, 1, 2\n2025010"), 0o644); err != nil {
			t.Fatal(err)
		}
		if ok, err := tree.AppendCounts("sid", header, "20250103, 5, 6\n", "20250103"); err != nil || !ok {
			t.Fatalf("AppendCounts = %v, %v", ok, err)
		}
		if got, want := read(), header+"20250101, 1, 2\n2025010\n20250103, 5, 6\n"; got != want {
			t.Errorf("counts.txt = %q, want %q", got, want)
		}
	})
	t.Run("EmptyFile", func(t *testing.T) {
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if ok, err := tree.AppendCounts("sid", header, "20250104, 7, 8\n", "20250104"); err != nil || !ok {
			t.Fatalf("AppendCounts = %v, %v", ok, err)
		}
		if got, want := read(), header+"20250104, 7, 8\n"; got != want {
			t.Errorf("counts.txt = %q, want %q", got, want)
		}
	})
	t.Run("HeaderOnly", func(t *testing.T) {
		if err := os.WriteFile(file, []byte(header), 0o644); err != nil {
			t.Fatal(err)
		}
		if ok, err := tree.AppendCounts("sid", header, "20250105, 9, 9\n", "20250105"); err != nil || !ok {
			t.Fatalf("AppendCounts = %v, %v", ok, err)
		}
		if got, want := read(), header+"20250105, 9, 9\n"; got != want {
			t.Errorf("counts.txt = %q, want %q", got, want)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		var ne *store.NameError
		if _, err := tree.AppendCounts("../x", header, "1\n", "1"); !errors.As(err, &ne) {
			t.Errorf("AppendCounts(\"../x\") = %v, want a *NameError", err)
		}
		if _, err := tree.ReadCounts("../x"); !errors.As(err, &ne) {
			t.Errorf("ReadCounts(\"../x\") = %v, want a *NameError", err)
		}
		for _, bad := range [][3]string{{header, "20250106, 1", "20250106"}, {"date\nx\n", "20250106\n", "20250106"},
			{header, "20250106\n", ""}} {
			if _, err := tree.AppendCounts("sid", bad[0], bad[1], bad[2]); err == nil {
				t.Errorf("AppendCounts(%q, %q, %q) succeeded", bad[0], bad[1], bad[2])
			}
		}
	})
}
