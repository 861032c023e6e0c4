package debian_test

import (
	"errors"
	"os"
	"reflect"
	"testing"

	"piuparts-server/internal/debian"
)

func TestParseDepends(t *testing.T) {
	type R = debian.Relation
	tests := []struct {
		name, in string
		want     debian.Depends
		wantStr  string
	}{
		{"Empty", "", nil, ""},
		{"Blank", " \n ", nil, ""},
		{"One", "libc6", debian.Depends{{R{Name: "libc6"}}}, "libc6"},
		{"Version", "libc6 (>= 2.34)", debian.Depends{{R{Name: "libc6", Op: debian.OpGreaterEq, Version: "2.34"}}}, "libc6 (>= 2.34)"},
		{"NoSpaces", "aa(<<1:2.0~rc1-1)", debian.Depends{{R{Name: "aa", Op: debian.OpLess, Version: "1:2.0~rc1-1"}}}, ""},
		{"ObsoleteLess", "aa (< 1)", debian.Depends{{R{Name: "aa", Op: debian.OpLessEq, Version: "1"}}}, "aa (<= 1)"},
		{"ObsoleteGreater", "aa (> 1)", debian.Depends{{R{Name: "aa", Op: debian.OpGreaterEq, Version: "1"}}}, "aa (>= 1)"},
		{"AllOps", "aa (<< 1), bb (<= 1), cc (= 1), dd (>= 1), ee (>> 1)", debian.Depends{
			{R{Name: "aa", Op: "<<", Version: "1"}}, {R{Name: "bb", Op: "<=", Version: "1"}},
			{R{Name: "cc", Op: "=", Version: "1"}}, {R{Name: "dd", Op: ">=", Version: "1"}},
			{R{Name: "ee", Op: ">>", Version: "1"}}}, "aa (<< 1), bb (<= 1), cc (= 1), dd (>= 1), ee (>> 1)"},
		{"Alternatives", "gcc-x86-64-linux-gnu (>= 4:10.2) | gcc:amd64, dpkg-cross", debian.Depends{
			{R{Name: "gcc-x86-64-linux-gnu", Op: ">=", Version: "4:10.2"}, R{Name: "gcc", Arch: "amd64"}},
			{R{Name: "dpkg-cross"}}}, "gcc-x86-64-linux-gnu (>= 4:10.2) | gcc:amd64, dpkg-cross"},
		{"ArchQualifierAny", "python3:any (>= 3.11~)", debian.Depends{{R{Name: "python3", Arch: "any", Op: ">=", Version: "3.11~"}}}, ""},
		{"Folded", "a1,\n b2 |\n c3", debian.Depends{{R{Name: "a1"}}, {R{Name: "b2"}, R{Name: "c3"}}}, "a1, b2 | c3"},
		{"ArchList", "libcap-dev [!kfreebsd-i386 !hurd-i386], tcl (>= 5) [hppa]", debian.Depends{
			{R{Name: "libcap-dev", Archs: []string{"!kfreebsd-i386", "!hurd-i386"}}},
			{R{Name: "tcl", Op: ">=", Version: "5", Archs: []string{"hppa"}}}}, ""},
		{"Profiles", "aa <!nocheck> <stage1 !cross>", debian.Depends{
			{R{Name: "aa", Profiles: [][]string{{"!nocheck"}, {"stage1", "!cross"}}}}}, ""},
		{"Everything", "aa:native (>= 1) [amd64 i386] <!nocheck>", debian.Depends{
			{R{Name: "aa", Arch: "native", Op: ">=", Version: "1", Archs: []string{"amd64", "i386"}, Profiles: [][]string{{"!nocheck"}}}}}, ""},
		{"UpperAndUnderscore", "Mozilla_L10n", debian.Depends{{R{Name: "Mozilla_L10n"}}}, ""},
		{"TrailingComma", "aa, bb,", debian.Depends{{R{Name: "aa"}}, {R{Name: "bb"}}}, "aa, bb"},
		{"TrailingPipe", "aa | ", debian.Depends{{R{Name: "aa"}}}, "aa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := debian.ParseDepends(tt.in)
			if err != nil {
				t.Fatalf("ParseDepends(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseDepends(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			wantStr := tt.wantStr
			if wantStr == "" {
				wantStr = tt.want.String()
			}
			if s := got.String(); s != wantStr {
				t.Errorf("ParseDepends(%q).String() = %q, want %q", tt.in, s, wantStr)
			}
			again, err := debian.ParseDepends(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("reparsing %q = %#v, %v", got.String(), again, err)
			}
		})
	}
}

func TestParseDepends_Errors(t *testing.T) {
	tests := []struct {
		name, in   string
		wantOffset int
	}{
		{"EmptyItem", "aa, , bb", 4},
		{"LeadingComma", ",aa", 0},
		{"OneLetter", "a", 0},
		{"BadStart", "-aa", 0},
		{"MissingComma", "aa bb", 3},
		{"NoOperator", "aa (1.0)", 4},
		{"NoVersion", "aa (>= )", 7},
		{"Unclosed", "aa (>= 1", 8},
		{"BadVersionStart", "aa (>= ~1)", 7},
		{"EmptyArch", "aa:", 3},
		{"EmptyArchList", "aa []", 3},
		{"UnclosedArchList", "aa [amd64", 9},
		{"EmptyProfile", "aa <>", 3},
		{"UnclosedProfile", "aa <nocheck", 11},
		{"PipeThenComma", "aa | , bb", 5},
		{"Substvar", "aa (= ${binary:Version})", 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := debian.ParseDepends(tt.in)
			var re *debian.RelationError
			if !errors.As(err, &re) {
				t.Fatalf("ParseDepends(%q) = %v, %v, want a *RelationError", tt.in, got, err)
			}
			if re.Offset != tt.wantOffset {
				t.Errorf("ParseDepends(%q) error at offset %d (%v), want %d", tt.in, re.Offset, err, tt.wantOffset)
			}
		})
	}
}

func TestParseProvides(t *testing.T) {
	got, err := debian.ParseProvides("python3-profiler, python3-supported-max (= 3.11), libgcc1:amd64 (= 1:12.2.0-14+deb12u1)")
	want := []debian.Relation{
		{Name: "python3-profiler"},
		{Name: "python3-supported-max", Op: debian.OpEq, Version: "3.11"},
		{Name: "libgcc1", Arch: "amd64", Op: debian.OpEq, Version: "1:12.2.0-14+deb12u1"},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseProvides = %#v, %v, want %#v", got, err, want)
	}
	for _, bad := range []string{"aa | bb", "aa (>= 1)", "aa [amd64]", "aa <!nocheck>", "aa,,"} {
		var re *debian.RelationError
		if _, err := debian.ParseProvides(bad); !errors.As(err, &re) {
			t.Errorf("ParseProvides(%q) error = %v, want a *RelationError", bad, err)
		}
	}
}

func TestRelation_SatisfiedBy(t *testing.T) {
	tests := []struct {
		rel, version string
		want         bool
	}{
		{"aa", "1", true},
		{"aa (>= 2.34)", "2.36-9+deb12u7", true},
		{"aa (>= 2.37)", "2.36-9+deb12u7", false},
		{"aa (<< 2.0)", "2.0~rc1", true},
		{"aa (<< 2.0)", "2.0", false},
		{"aa (<= 2.0)", "2.0", true},
		{"aa (= 1:1.0)", "1:1.0-0", true},
		{"aa (= 1:1.0)", "1.0", false},
		{"aa (>> 1.0)", "1.0+b1", true},
		{"aa (>> 1.0)", "1.0", false},
	}
	for _, tt := range tests {
		d, err := debian.ParseDepends(tt.rel)
		if err != nil {
			t.Fatal(err)
		}
		if got := d[0][0].SatisfiedBy(tt.version); got != tt.want {
			t.Errorf("%q.SatisfiedBy(%q) = %v, want %v", tt.rel, tt.version, got, tt.want)
		}
	}
}

// TestParseDepends_Bookworm parses every relationship field of bookworm
// main, which piupartslib parses too, and checks the round trip.
func TestParseDepends_Bookworm(t *testing.T) {
	if testing.Short() {
		t.Skip("parses all of bookworm main; skipped with -short")
	}
	f, err := os.Open(bookwormPackages(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pkgs, err := debian.ReadPackages(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	fields := []string{"Depends", "Pre-Depends", "Recommends", "Suggests", "Conflicts", "Breaks", "Replaces", "Enhances", "Provides"}
	n := 0
	for _, p := range pkgs {
		for _, field := range fields {
			v, ok := p.Fields.Lookup(field)
			if !ok {
				continue
			}
			n++
			d, err := debian.ParseDepends(v)
			if err != nil {
				t.Errorf("%s %s: %v", p.Name, field, err)
				continue
			}
			if again, err := debian.ParseDepends(d.String()); err != nil || !reflect.DeepEqual(again, d) {
				t.Errorf("%s %s: round trip of %q gave %q, %v", p.Name, field, v, again, err)
			}
			if field == "Provides" {
				if _, err := debian.ParseProvides(v); err != nil {
					t.Errorf("%s: ParseProvides: %v", p.Name, err)
				}
			}
		}
	}
	if n < 100_000 {
		t.Errorf("checked %d relationship fields, want the archive's ~103,000", n)
	}
}
