package spool_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"piuparts-server/slave/spool"
)

func TestParseLogName(t *testing.T) {
	tests := []struct {
		base          string
		name, version string
		ok            bool
	}{
		{"hello_2.10-3.log", "hello", "2.10-3", true},
		{"libgmp10_2:6.2.1+dfsg1-1.1.log", "libgmp10", "2:6.2.1+dfsg1-1.1", true},
		{"g++_4:12.2.0-3.log", "g++", "4:12.2.0-3", true},
		{"firefox-esr_140.12.0esr-1~deb12u1.log", "firefox-esr", "140.12.0esr-1~deb12u1", true},
		{"hello_None.log", "hello", "None", true},
		{"hello_1..2.log", "hello", "1..2", true},
		{"hello.log", "", "", false},
		{"hello_2.10-3.log.tmp", "", "", false},
		{".hello_2.10-3.log", "", "", false},
		{"Hello_2.10-3.log", "", "", false},
		{"hello_abc.log", "", "", false},
		{"hello_1.0_2.log", "", "", false},
		{"hello_.log", "", "", false},
		{"../hello_1.0.log", "", "", false},
		{"hello_1.0/x.log", "", "", false},
		{"hello_1.0\n.log", "", "", false},
		{"a" + strings.Repeat("b", 200) + "_1." + strings.Repeat("0", 60) + ".log", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			name, version, ok := spool.ParseLogName(tt.base)
			if name != tt.name || version != tt.version || ok != tt.ok {
				t.Errorf("ParseLogName(%q) = %q, %q, %v, want %q, %q, %v",
					tt.base, name, version, ok, tt.name, tt.version, tt.ok)
			}
			if ok && spool.LogName(name, version) != tt.base {
				t.Errorf("LogName(%q, %q) = %q, want %q", name, version, spool.LogName(name, version), tt.base)
			}
		})
	}
}

func TestParseLogName_Testdata(t *testing.T) {
	good, bad := logNames(t)
	for _, b := range good {
		name, version, ok := spool.ParseLogName(b)
		if !ok || spool.LogName(name, version) != b {
			t.Errorf("ParseLogName(%q) = %q, %q, %v, want it to split the name", b, name, version, ok)
		}
	}
	for _, b := range bad {
		if name, version, ok := spool.ParseLogName(b); ok {
			t.Errorf("ParseLogName(%q) = %q, %q, true, want false", b, name, version)
		}
	}
}

// TestParseLogName_Bookworm checks that every package version of Debian
// bookworm main makes a spool file name that parses back.
func TestParseLogName_Bookworm(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the whole bookworm Packages file")
	}
	files, _ := filepath.Glob("/var/lib/apt/lists/*bookworm_main_binary-amd64_Packages*")
	if len(files) == 0 {
		t.Skip("no bookworm main amd64 Packages file in /var/lib/apt/lists")
	}
	if _, err := exec.LookPath("lz4"); err != nil {
		t.Skip("no lz4 command to decompress the Packages file")
	}
	out, err := exec.CommandContext(t.Context(), "lz4", "-dc", files[0]).Output()
	if err != nil {
		t.Fatalf("lz4 -dc %s: %v", files[0], err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	var pkg string
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "Package: "); ok {
			pkg = v
		} else if v, ok := strings.CutPrefix(line, "Version: "); ok {
			n++
			if !spool.ValidName(pkg, v) {
				t.Errorf("ValidName(%q, %q) = false, want true", pkg, v)
				continue
			}
			name, version, ok := spool.ParseLogName(spool.LogName(pkg, v))
			if !ok || name != pkg || version != v {
				t.Errorf("ParseLogName(LogName(%q, %q)) = %q, %q, %v", pkg, v, name, version, ok)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 1000 {
		t.Errorf("read %d versions from %s, want a whole Packages file", n, files[0])
	}
}

func TestValidResult(t *testing.T) {
	for _, r := range []string{"pass", "fail", "untestable"} {
		if !spool.ValidResult(r) {
			t.Errorf("ValidResult(%q) = false, want true", r)
		}
	}
	for _, r := range []string{"", "reserved", "new", "bugged", "PASS", "pass/"} {
		if spool.ValidResult(r) {
			t.Errorf("ValidResult(%q) = true, want false", r)
		}
	}
}

// TestValidName_WhatTheMasterTakes checks that the spool keeps no log the
// protocol would refuse to submit: a name of 126 bytes is a valid Debian
// name, but the master takes at most 125, and such a log would block
// every shipment after it.
func TestValidName_WhatTheMasterTakes(t *testing.T) {
	long := "a" + strings.Repeat("b", 124)
	if !spool.ValidName(long, "1.0-1") {
		t.Errorf("ValidName(125-byte name) = false, want true")
	}
	if spool.ValidName(long+"c", "1.0-1") {
		t.Errorf("ValidName(126-byte name) = true, want false: the protocol refuses it")
	}
	if _, _, ok := spool.ParseLogName(long + "c_1.0-1.log"); ok {
		t.Errorf("ParseLogName accepts a 126-byte name")
	}
	if !spool.ValidName("bc", "None") {
		t.Errorf(`ValidName("bc", "None") = false, want true`)
	}
}
