package store

import (
	"encoding/json"
	"reflect"
	"testing"
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
			Name: "libc6", Version: "2.36-9+deb12u4", TestVersion: TestVersionNone, Source: "glibc",
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
