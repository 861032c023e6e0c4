package config

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// configParserDump prints what Python's ConfigParser (as piupartslib uses
// it) reads from a file: {section: {key: interpolated value}}.
const configParserDump = `
import configparser, json, sys
cp = configparser.ConfigParser()
cp.read(sys.argv[1])
print(json.dumps({s: {k: cp.get(s, k) for k in cp.options(s)} for s in cp.sections()}))
`

// TestParseINI_MatchesConfigParser runs Debian's Python on the same files
// and compares every value: the oracle for the INI reader.
func TestParseINI_MatchesConfigParser(t *testing.T) {
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("Debian's python3 is not installed: %v", err)
	}
	dir := t.TempDir()
	files := []string{"testdata/multi_section.conf", "/etc/piuparts/piuparts.conf", "/etc/piuparts/distros.conf",
		// Debian's own farm: [DEFAULT] and %(key)s throughout.
		"/usr/share/doc/piuparts-master/examples/piuparts.conf.pejacevic",
		"/usr/share/doc/piuparts-master/examples/piuparts.conf.anbe"}
	tricky := map[string]string{
		"indent.conf":   "[a]\n  k = v\n    more\n  j: w\n[b]\nx=1\n\n\n  y\n# c\n  z\n\nw = \n",
		"brackets.conf": "[a]b]\nk = [x]\n[c] trailing\nK2 = 1 ; not a comment\n",
		"percent.conf":  "[s]\nbase = /srv\ndir = %(base)s/%(name)s\nname = x%%y\n",
		"unicode.conf":  "[s]\nk = caf\u00e9 \u3000\n\u3000cont\n",
		"cr.conf":       "[s]\rk = v\r  w\rj = 2\r",
		"colon.conf":    "[s]\nk : a = b\nj = c : d\n",
		// [DEFAULT] values expand in the section that reads them, and a
		// second [DEFAULT] goes on with the same keys.
		"default.conf": "[DEFAULT]\nbase = /srv\nflags = %(base)s/x %(Name)s 100%%\nname = d\n[s]\nname = own\n" +
			"[t]\nk = %(flags)s\nbase = /t\n[DEFAULT]\nmore = %(name)s!\n[u]\n",
	}
	for name, text := range tricky {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Skipf("######## SKIPPED: %v (make test-deps installs piuparts-master)", err)
			}
			cmd := exec.CommandContext(t.Context(), python, "-c", configParserDump, path)
			cmd.Env = append(os.Environ(), "PYTHONUTF8=1")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("python: %v", err)
			}
			var want map[string]map[string]string
			if err := json.Unmarshal(out, &want); err != nil {
				t.Fatal(err)
			}
			f, err := parseINI(data, path)
			if err != nil {
				t.Fatalf("parseINI: %v", err)
			}
			got := map[string]map[string]string{}
			for _, s := range f.sections {
				if s.isDefault() {
					continue // ConfigParser's sections() leaves it out too
				}
				if got[s.name], err = f.values(s); err != nil {
					t.Fatalf("values of [%s]: %v", s.name, err)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("parseINI(%s)\n got %q\nwant %q", path, got, want)
			}
		})
	}
}

// TestSection_CloneSharesNothing checks that clone copies every slice
// field, so that a new field cannot be forgotten.
func TestSection_CloneSharesNothing(t *testing.T) {
	var s Section
	v := reflect.ValueOf(&s).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Slice {
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		}
	}
	c := s.clone()
	cv := reflect.ValueOf(&c).Elem()
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Slice && f.Pointer() == cv.Field(i).Pointer() {
			t.Errorf("clone shares field %s", v.Type().Field(i).Name)
		}
	}
}

// FuzzINIValues: reading every section's values (own and [DEFAULT]'s,
// %(key)s expanded against the reading section) never panics and fails
// only with an *Error on a line of the input; and a value with each %
// doubled reads back as written, from a section and through [DEFAULT].
func FuzzINIValues(f *testing.F) {
	paths, _ := filepath.Glob("testdata/*.conf")
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data, "x")
		}
	}
	f.Add([]byte("[DEFAULT]\nbase = /srv\nflags = %(base)s/x %(Name)s 100%%\nname = d\n[s]\nname = own\n[t]\nk = %(flags)s\n[DEFAULT]\nmore = %(name)s!\n"), "50% %(base)s")
	f.Add([]byte("[DEFAULT]\na = %(b)s%(b)s\nb = %(a)s\n[s]\nc = %(a)s\n"), "%%")
	f.Fuzz(func(t *testing.T, data []byte, plain string) {
		ini, err := parseINI(data, "f.conf")
		lines := len(splitLines(string(data))) + 1
		checkErr := func(err error) {
			t.Helper()
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T %v is not a *Error", err, err)
			}
			if ce.Line < 0 || ce.Line > lines {
				t.Fatalf("error on line %d of a %d-line input: %v", ce.Line, lines, err)
			}
		}
		if err != nil {
			checkErr(err)
		} else {
			for _, s := range ini.sections {
				if _, err := ini.values(s); err != nil {
					checkErr(err)
				}
			}
		}

		// The round trip: what ConfigParser writes for a value (each %
		// doubled) reads back as the value.
		v := strings.TrimFunc(strings.Map(func(r rune) rune {
			if r == '\n' || r == '\r' || !utf8.ValidRune(r) || r == utf8.RuneError {
				return -1
			}
			return r
		}, plain), pySpace)
		if v == "" || !utf8.ValidString(v) || strings.ContainsAny(v, "\v\f\x1c\x1d\x1e\u0085\u2028\u2029") {
			return
		}
		esc := strings.ReplaceAll(v, "%", "%%")
		rt, err := parseINI([]byte("[DEFAULT]\nd = "+esc+"\nr = %(d)s\n[s]\nk = "+esc+"\n"), "rt.conf")
		if err != nil {
			t.Fatalf("parseINI of the escaped %q: %v", v, err)
		}
		got, err := rt.values(rt.sections[1])
		if err != nil {
			t.Fatalf("values of the escaped %q: %v", v, err)
		}
		for _, k := range []string{"k", "d", "r"} {
			if got[k] != v {
				t.Fatalf("%s = %q, want %q", k, got[k], v)
			}
		}
	})
}
