package spool_test

import (
	"path/filepath"
	"strings"
	"testing"

	"piuparts-server/slave/spool"
)

// FuzzParseLogName checks that an accepted file name is exactly
// NAME_VERSION.log of the parts returned and stays in its directory, and
// that every valid name and version make a file name that parses back.
func FuzzParseLogName(f *testing.F) {
	good, bad := logNames(f)
	for _, s := range append(good, bad...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name, version, ok := spool.ParseLogName(s)
		if ok {
			if got := spool.LogName(name, version); got != s {
				t.Fatalf("LogName(ParseLogName(%q)) = %q", s, got)
			}
			if !spool.ValidName(name, version) {
				t.Fatalf("ParseLogName(%q) accepted %q, %q, which ValidName refuses", s, name, version)
			}
			if strings.ContainsAny(s, "/\x00") || filepath.Dir(filepath.Join("dir", s)) != "dir" {
				t.Fatalf("ParseLogName accepted %q, which leaves its directory", s)
			}
		} else if name != "" || version != "" {
			t.Fatalf("ParseLogName(%q) = %q, %q, false, want empty parts", s, name, version)
		}
		// Read s as NAME_VERSION without the suffix too.
		if n, v, cut := strings.Cut(s, "_"); cut && spool.ValidName(n, v) {
			gn, gv, gok := spool.ParseLogName(spool.LogName(n, v))
			if !gok || gn != n || gv != v {
				t.Fatalf("ParseLogName(LogName(%q, %q)) = %q, %q, %v", n, v, gn, gv, gok)
			}
		}
	})
}
