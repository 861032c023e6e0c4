package protocol

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidPackageName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"liwc", true},
		{"g++-12", true},
		{"0ad", true},
		{"libstdc++6", true},
		{"python3.11", true},
		{"a", false},
		{"", false},
		{"-ab", false},
		{".ab", false},
		{"+ab", false},
		{"ab_c", false},
		{"Abc", false},
		{"a/b", false},
		{"a..b", true}, // Policy allows it, and "a..b_1.log" stays in its directory
		{"a\x00b", false},
		{"a\nb", false},
		{"a b", false},
		{"ab\u00e9", false},
		{strings.Repeat("a", 125), true},
		{strings.Repeat("a", 126), false},
	}
	for _, tt := range tests {
		if got := validPackageName(tt.in); got != tt.want {
			t.Errorf("validPackageName(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidVersion(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"1.2.3-4", true},
		{"1", true},
		{"2:2.36-9+deb12u4", true},
		{"1.0~rc1-1~bpo11+1", true},
		{"1:2.0-rc1-3", true}, // hyphen in upstream with a revision
		{"1:1:2-1", true},     // colon in upstream with an epoch
		{"20230101", true},
		{"1.0+dfsg-1.1", true},
		{"", false},
		{"a1", false},
		{":1", false},
		{"x:1", false},
		{"1:", false},
		{"1-", false},
		{"-1", false},
		{"1.0-a_b", false},
		{"1:2", true},
		{"1:2:3", true},
		{"2:3", true},
		{"1_2", false},
		{"1/2", false},
		{"1..2", true}, // dpkg accepts it; it never starts with "." and has no "/"
		{"None", true}, // the reference's test version of a package gone from the final distro
		{"none", false},
		{"1\x00", false},
		{"1\t", false},
		{"1 2", false},
		{"1.0-1:2", false}, // colon in revision
		{"1." + strings.Repeat("0", 123), true},
		{"1." + strings.Repeat("0", 124), false},
	}
	for _, tt := range tests {
		if got := validVersion(tt.in); got != tt.want {
			t.Errorf("validVersion(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidToken(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"sid", true},
		{"bookworm2trixie-rcmd", true},
		{"s-p-u_x+y.z", true},
		{"successfully-tested", true},
		{"", false},
		{".", false},
		{"..", false},
		{".hidden", false},
		{"a/b", false},
		{"a..b", false},
		{"a b", false},
		{"a\x00", false},
		{strings.Repeat("s", 126), false},
	}
	for _, tt := range tests {
		if got := validToken(tt.in); got != tt.want {
			t.Errorf("validToken(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestValidNames_Bookworm checks every package name and version of Debian
// bookworm main amd64 against the checks, so they never refuse a real one.
func TestValidNames_Bookworm(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the whole bookworm Packages file; skipped under -short")
	}
	files, _ := filepath.Glob("/var/lib/apt/lists/*bookworm_main_binary-amd64_Packages*")
	if len(files) == 0 {
		t.Skip("no bookworm main amd64 Packages file in /var/lib/apt/lists (run apt-get update)")
	}
	lz4, err := exec.LookPath("lz4")
	if err != nil {
		t.Skip("lz4 command not installed; needed to read the Packages file")
	}
	out, err := exec.CommandContext(t.Context(), lz4, "-dc", files[0]).Output()
	if err != nil {
		t.Fatalf("lz4 -dc %s: %v", files[0], err)
	}
	var names, versions int
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "Package: "); ok {
			names++
			if !validPackageName(v) {
				t.Errorf("validPackageName(%q) = false for a bookworm package", v)
			}
		}
		if v, ok := strings.CutPrefix(line, "Version: "); ok {
			versions++
			if !validVersion(v) {
				t.Errorf("validVersion(%q) = false for a bookworm version", v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if names < 1000 || names != versions {
		t.Errorf("read %d names and %d versions, want the same number, over 1000", names, versions)
	}
}
