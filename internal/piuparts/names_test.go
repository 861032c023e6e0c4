package piuparts_test

import (
	"strings"
	"testing"

	"piuparts-server/internal/piuparts"
)

func TestValidSectionName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"sid", true}, {"bookworm-pu", true}, {"sid2experimental", true}, {"sid~exp", true},
		{"jessie_lts", true}, {"a.b", true}, {"x+y", true}, {strings.Repeat("s", 125), true},
		{"", false}, {".", false}, {"..", false}, {"a/b", false}, {"a b", false}, {"a\tb", false},
		{"a\x00b", false}, {".git", false}, {"-x", false}, {"a\\b", false}, {"\xff", false}, {strings.Repeat("s", 126), false},
	}
	for _, tt := range tests {
		if got := piuparts.ValidSectionName(tt.name); got != tt.want {
			t.Errorf("ValidSectionName(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseLogName(t *testing.T) {
	tests := []struct {
		in, pkg, version string
		ok               bool
	}{
		{"hello_2.10-3.log", "hello", "2.10-3", true},
		{"libgmp10_2:6.2.1+dfsg1-1.1.log", "libgmp10", "2:6.2.1+dfsg1-1.1", true},
		{"gone_None.log", "gone", "None", true},
		{"hello_2.10-3.kpr", "", "", false},
		{".incoming-123", "", "", false},
		{".hello_1.log", "", "", false},
		{"hello.log", "", "", false},
		{"hello_.log", "", "", false},
		{"_1.log", "", "", false},
	}
	for _, tt := range tests {
		pkg, version, ok := piuparts.ParseLogName(tt.in)
		if pkg != tt.pkg || version != tt.version || ok != tt.ok {
			t.Errorf("ParseLogName(%q) = %q, %q, %v, want %q, %q, %v", tt.in, pkg, version, ok, tt.pkg, tt.version, tt.ok)
		}
		if ok && piuparts.LogName(pkg, version) != tt.in {
			t.Errorf("LogName(ParseLogName(%q)) = %q", tt.in, piuparts.LogName(pkg, version))
		}
	}
}

func TestQuote(t *testing.T) {
	if got := piuparts.Quote("a\nb"); got != `"a\nb"` {
		t.Errorf("Quote = %s", got)
	}
	long := strings.Repeat("x", 200)
	if got := piuparts.Quote(long); got != `"`+strings.Repeat("x", 80)+`"...` {
		t.Errorf("Quote(200 x) = %s", got)
	}
	if got := piuparts.Cut(long); len(got) != 80 {
		t.Errorf("len(Cut(200 x)) = %d", len(got))
	}
}

func FuzzParseLogName(f *testing.F) {
	for _, s := range []string{"hello_2.10-3.log", "a_b_c.log", ".x_1.log", "x_1.kpr", "x_None.log"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pkg, version, ok := piuparts.ParseLogName(s)
		if !ok {
			return
		}
		if !piuparts.ValidName(pkg) || !piuparts.ValidName(version) || strings.Contains(pkg, "_") {
			t.Fatalf("ParseLogName(%q) = %q, %q: not valid names", s, pkg, version)
		}
		if piuparts.LogName(pkg, version) != s {
			t.Fatalf("LogName(ParseLogName(%q)) = %q", s, piuparts.LogName(pkg, version))
		}
	})
}

func TestValidSlaveID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"slave1", true}, {"pejacevic.debian.org", true}, {"piuparts@host", true}, {"::1", true},
		{"10.0.0.7", true}, {"debian-slave", true}, {"a+b_c", true}, {strings.Repeat("h", 253), true},
		{"", false}, {"-x", false}, {".hidden", false}, {"a b", false}, {"a;b", false}, {`a"b`, false},
		{"a'b", false}, {"a$b", false}, {"a/b", false}, {"a\\b", false}, {"é", false}, {"a\nb", false},
		{strings.Repeat("h", 254), false},
	}
	for _, tt := range tests {
		if got := piuparts.ValidSlaveID(tt.id); got != tt.want {
			t.Errorf("ValidSlaveID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}
