package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"piuparts-server/internal/piuparts"
)

// TestEncodePackages_likeMarshal checks that the hand-written encoding of
// the package list decodes to what json.Marshal's would.
func TestEncodePackages_likeMarshal(t *testing.T) {
	tests := []struct {
		name string
		pkgs []Package
	}{
		{"minimal", []Package{{Name: "a", Version: "1"}}},
		{"all fields", []Package{{
			Name: "libc6", Version: "2.36-9+deb12u4", TestVersion: piuparts.TestVersionNone, Source: "glibc",
			SourceVersion: "2.36-9", Maintainer: "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
			Uploaders: "Clément \"x\" <a&b@c>, Tab\there", Depends: "libgcc-s1", PreDepends: "dpkg (>= 1.19)",
			Provides: "libc6-x", Dependencies: []string{"libgcc-s1", "dpkg"},
		}}},
		{"sorted on encoding", []Package{{Name: "z", Version: "1", Dependencies: []string{}}, {Name: "b\\", Version: "\u2028\x01"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodePackages(tt.pkgs)
			if err != nil {
				t.Fatalf("encodePackages: %v", err)
			}
			sorted, err := encodePackages(tt.pkgs)
			if err != nil || sorted != got {
				t.Fatalf("encodePackages not deterministic: %q, %v", sorted, err)
			}
			var dec, want []Package
			if err := json.Unmarshal([]byte(got), &dec); err != nil {
				t.Fatalf("decode %q: %v", got, err)
			}
			m, _ := json.Marshal(tt.pkgs)
			if err := json.Unmarshal(m, &want); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if len(want[i].Dependencies) == 0 {
					want[i].Dependencies = nil
				}
			}
			byName := map[string]Package{}
			for _, p := range want {
				byName[p.Name] = p
			}
			if len(dec) != len(want) {
				t.Fatalf("decoded %d packages, want %d", len(dec), len(want))
			}
			for i, p := range dec {
				if i > 0 && dec[i-1].Name >= p.Name {
					t.Errorf("not sorted by name: %q before %q", dec[i-1].Name, p.Name)
				}
				if !reflect.DeepEqual(p, byName[p.Name]) {
					t.Errorf("decoded %+v, want %+v", p, byName[p.Name])
				}
			}
		})
	}
}

// TestReplacePackages_rewritesChangedChunks checks that a new package list
// that differs in a few packages from the stored one reads back whole and
// rewrites only the chunks of the packages that changed.
func TestReplacePackages_rewritesChangedChunks(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "master.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pkgs []Package
	for i := range 2000 {
		n := fmt.Sprintf("pkg%04d", i)
		pkgs = append(pkgs, Package{Name: n, Version: "1.0-1", Source: n, SourceVersion: "1.0-1"})
	}
	chunks := func() map[string]string {
		t.Helper()
		rows, err := db.db.QueryContext(ctx, "SELECT first, sha256 FROM package_chunks")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[string]string{}
		for rows.Next() {
			var f, s string
			if err := rows.Scan(&f, &s); err != nil {
				t.Fatal(err)
			}
			m[f] = s
		}
		return m
	}
	changed := func(before, after map[string]string) int {
		n := 0
		for f, s := range after {
			if before[f] != s {
				n++
			}
		}
		for f := range before {
			if _, ok := after[f]; !ok {
				n++
			}
		}
		return n
	}

	tests := []struct {
		name   string
		change func([]Package) []Package
		// most is the number of chunks the change may write or delete.
		most int
	}{
		{"Unchanged", func(p []Package) []Package { return p }, 0},
		{"NewVersion", func(p []Package) []Package { p[700].Version = "1.0-2"; return p }, 1},
		{"Removed", func(p []Package) []Package { return append(p[:1200:1200], p[1201:]...) }, 2},
		{"Added", func(p []Package) []Package {
			return append(p, Package{Name: "pkg0500a", Version: "2", Source: "x", SourceVersion: "2"})
		}, 2},
		{"AddedFirst", func(p []Package) []Package { return append(p, Package{Name: "a", Version: "2"}) }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp := Fingerprint{SHA256: "x"}
			if err := db.ReplacePackages(ctx, "sid", fp, time.Unix(1700000000, 0), pkgs); err != nil {
				t.Fatal(err)
			}
			before := chunks()
			if len(before) < 50 {
				t.Fatalf("%d packages stored in %d chunks, want about 16 packages a chunk", len(pkgs), len(before))
			}
			want := tt.change(slices.Clone(pkgs))
			if err := db.ReplacePackages(ctx, "sid", fp, time.Unix(1700000001, 0), want); err != nil {
				t.Fatal(err)
			}
			if n := changed(before, chunks()); n > tt.most {
				t.Errorf("%d chunks written or deleted, want at most %d", n, tt.most)
			}
			got, err := db.Packages(ctx, "sid")
			if err != nil {
				t.Fatal(err)
			}
			slices.SortFunc(want, func(a, b Package) int { return strings.Compare(a.Name, b.Name) })
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Packages after the change: %d packages, want %d as given", len(got), len(want))
			}
			for _, p := range []Package{want[0], want[len(want)/2], want[len(want)-1]} {
				if got, err := db.Package(ctx, "sid", p.Name); err != nil || !reflect.DeepEqual(got, p) {
					t.Errorf("Package(%s) = %+v, %v, want %+v", p.Name, got, err, p)
				}
			}
			if _, err := db.Package(ctx, "sid", "pkg0500b"); !errors.Is(err, ErrNoPackage) {
				t.Errorf("Package(pkg0500b) error = %v, want ErrNoPackage", err)
			}
		})
	}
}

// TestPlainJSON checks the 8-bytes-at-a-time test against the byte loop it
// replaces, for every byte value at every position of short and long
// strings.
func TestPlainJSON(t *testing.T) {
	naive := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
				return false
			}
		}
		return true
	}
	for _, n := range []int{1, 7, 8, 9, 16, 23} {
		for pos := 0; pos < n; pos++ {
			for c := range 256 {
				b := []byte(strings.Repeat("a~ Z09.+-", 3)[:n])
				b[pos] = byte(c)
				if got, want := plainJSON(string(b)), naive(string(b)); got != want {
					t.Errorf("plainJSON(%q) = %v, want %v", b, got, want)
				}
			}
		}
	}
	if !plainJSON("") {
		t.Error(`plainJSON("") = false, want true`)
	}
}
