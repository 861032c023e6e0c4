package debian_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"piuparts-server/internal/debian"
)

// fixtureParagraphs returns the paragraphs of the committed archive
// fixtures, for seeding.
func fixtureParagraphs(f *testing.F) []debian.Paragraph {
	f.Helper()
	var out []debian.Paragraph
	for _, name := range []string{"Packages_bookworm_subset", "Packages_bookworm-security_subset", "Sources_lenny_subset"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		paras, err := parseAll(string(data))
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, paras...)
	}
	return out
}

// FuzzParseControl checks that the parser never panics, that what it returns
// is well formed, and that formatting the paragraphs and parsing them again
// gives the same fields.
func FuzzParseControl(f *testing.F) {
	for _, p := range fixtureParagraphs(f) {
		f.Add([]byte(p.String()))
	}
	f.Add([]byte("# comment\nA: 1\n continued\n\n\nB:\n x\r\n \t\nC: 3"))
	f.Fuzz(func(t *testing.T, data []byte) {
		paras, err := parseAll(string(data))
		var se *debian.SyntaxError
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("error %v is not a *SyntaxError", err)
		}
		if se != nil && (se.Line < 1 || se.Line > strings.Count(string(data), "\n")+1) {
			t.Fatalf("error line %d outside the input", se.Line)
		}
		// Where block boundaries fall must not matter.
		small, smallErr := parseAllBlock(iotest.HalfReader(bytes.NewReader(data)), 3)
		if !reflect.DeepEqual(small, paras) || fmt.Sprint(smallErr) != fmt.Sprint(err) {
			t.Fatalf("with 3-byte blocks: %q, %v; with one block: %q, %v", small, smallErr, paras, err)
		}
		// ReadPackages in parallel on tiny blocks must agree with a
		// sequential reading, errors included.
		seq, seqErr := readPackagesSequential(data)
		par, parErr := debian.ReadPackagesBlock(t.Context(), bytes.NewReader(data), 3, 2)
		if fmt.Sprint(parErr) != fmt.Sprint(seqErr) {
			t.Fatalf("ReadPackages in parallel: error %v, sequentially %v", parErr, seqErr)
		}
		if seqErr == nil {
			if err := samePackages(par, seq); err != nil {
				t.Fatalf("ReadPackages in parallel differs: %v", err)
			}
		}
		var b strings.Builder
		for _, p := range paras {
			if len(p.Fields) == 0 {
				t.Fatalf("empty paragraph at line %d", p.Line)
			}
			for _, f := range p.Fields {
				if f.Name == "" || strings.ContainsAny(f.Name, ": \t\n") {
					t.Fatalf("bad field name %q", f.Name)
				}
				// dpkg trims ASCII white space only (U+00A0 stays).
				if strings.Trim(f.Value, " \t\n\r\v\f") != f.Value {
					t.Fatalf("value %q not trimmed", f.Value)
				}
				upper := asciiUpper(f.Name)
				if v, ok := p.Lookup(upper); !ok || v != f.Value {
					t.Fatalf("Lookup(%q) = %q, %v", upper, v, ok)
				}
			}
			b.WriteString(p.String())
			b.WriteString("\n")
		}
		again, err := parseAll(b.String())
		if err != nil {
			t.Fatalf("reparsing %q: %v", b.String(), err)
		}
		if len(again) != len(paras) {
			t.Fatalf("reparsing gave %d paragraphs, want %d", len(again), len(paras))
		}
		for i := range paras {
			if !reflect.DeepEqual(again[i].Fields, paras[i].Fields) {
				t.Fatalf("round trip changed %q into %q", paras[i].Fields, again[i].Fields)
			}
		}
	})
}

// FuzzCompareVersions checks that CompareVersions is a total order
// (reflexive, antisymmetric, transitive), that it agrees with Compare on
// what ParseVersion accepts, and that valid names and versions are path-safe.
func FuzzCompareVersions(f *testing.F) {
	vs := readLines(f, "testdata/versions.txt")
	for i := 0; i+2 < len(vs); i += 20 {
		f.Add(vs[i], vs[i+1], vs[i+2])
	}
	f.Add("1.0~rc1", "1.0", "1.0+b1")
	f.Add("1:0", "0:1", "00:1")
	f.Add("1.0-1", "1.0-1~", "a-")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		cmp := debian.CompareVersions
		for _, x := range []string{a, b, c} {
			if cmp(x, x) != 0 {
				t.Fatalf("CompareVersions(%q, %q) != 0", x, x)
			}
			if debian.ValidVersion(x) && !debian.PathSafe(x) {
				t.Fatalf("valid version %q is not path-safe", x)
			}
			if debian.ValidPackageName(x) && !debian.PathSafe(x) {
				t.Fatalf("valid package name %q is not path-safe", x)
			}
			v, err := debian.ParseVersion(x)
			if err != nil {
				if !errors.Is(err, debian.ErrInvalidVersion) {
					t.Fatalf("ParseVersion(%q) error %v does not match ErrInvalidVersion", x, err)
				}
				if debian.ValidVersion(x) {
					t.Fatalf("ValidVersion(%q) but ParseVersion fails: %v", x, err)
				}
				continue
			}
			again, err := debian.ParseVersion(v.String())
			if err != nil || again != v {
				t.Fatalf("ParseVersion(%q).String() = %q reparses as %+v, %v", x, v.String(), again, err)
			}
			if cmp(x, v.String()) != 0 {
				t.Fatalf("CompareVersions(%q, %q) != 0", x, v.String())
			}
		}
		ab, bc, ac := cmp(a, b), cmp(b, c), cmp(a, c)
		if ab != -cmp(b, a) || bc != -cmp(c, b) || ac != -cmp(c, a) {
			t.Fatalf("not antisymmetric on %q %q %q", a, b, c)
		}
		if ab <= 0 && bc <= 0 && ac > 0 || ab >= 0 && bc >= 0 && ac < 0 {
			t.Fatalf("not transitive: cmp(a,b)=%d cmp(b,c)=%d cmp(a,c)=%d for %q %q %q", ab, bc, ac, a, b, c)
		}
		va, errA := debian.ParseVersion(a)
		vb, errB := debian.ParseVersion(b)
		if errA == nil && errB == nil && debian.Compare(va, vb) != ab {
			t.Fatalf("Compare(%+v, %+v) = %d, CompareVersions = %d", va, vb, debian.Compare(va, vb), ab)
		}
	})
}

// FuzzParseDepends checks that parsing, formatting and parsing again gives
// the same relations, and that ParseDependsNames agrees with ParseDepends.
func FuzzParseDepends(f *testing.F) {
	for _, p := range fixtureParagraphs(f) {
		for _, fl := range p.Fields {
			switch fl.Name {
			case "Depends", "Pre-Depends", "Recommends", "Breaks", "Conflicts", "Provides", "Build-Depends":
				f.Add(fl.Value)
			}
		}
	}
	f.Add("aa:any (>= 1) [amd64 !i386] <!nocheck> <stage1 cross> | bb (< 2), cc,")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := debian.ParseDepends(s)
		names, nerr := debian.ParseDependsNames(s)
		if (err == nil) != (nerr == nil) || !reflect.DeepEqual(names, alternativeNames(d)) {
			t.Fatalf("ParseDependsNames(%q) = %q, %v; ParseDepends gives %q, %v", s, names, nerr, alternativeNames(d), err)
		}
		if err != nil {
			var re *debian.RelationError
			if !errors.As(err, &re) || re.Offset < 0 || re.Offset > len(s) {
				t.Fatalf("ParseDepends(%q) error %v is not a *RelationError within the input", s, err)
			}
			return
		}
		for _, alt := range d {
			if len(alt) == 0 {
				t.Fatalf("ParseDepends(%q) has an empty item", s)
			}
		}
		str := d.String()
		again, err := debian.ParseDepends(str)
		if err != nil {
			t.Fatalf("ParseDepends(%q) = %q, which does not parse: %v", s, str, err)
		}
		if !reflect.DeepEqual(again, d) {
			t.Fatalf("ParseDepends(%q) = %#v, reparsed from %q as %#v", s, d, str, again)
		}
		if str2 := again.String(); str2 != str {
			t.Fatalf("String not stable: %q then %q", str, str2)
		}
		if p, err := debian.ParseProvides(s); err == nil && len(p) != len(d) {
			t.Fatalf("ParseProvides(%q) gave %d relations, ParseDepends %d", s, len(p), len(d))
		}
	})
}

// asciiUpper upper-cases the ASCII letters of s and leaves other bytes alone.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// alternativeNames returns, for each item of d, the names of its
// alternatives; nil for an empty d: what ParseDependsNames must give.
func alternativeNames(d debian.Depends) [][]string {
	var out [][]string
	for _, a := range d {
		names := make([]string, len(a))
		for i, r := range a {
			names[i] = r.Name
		}
		out = append(out, names)
	}
	return out
}
