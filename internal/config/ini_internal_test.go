package config

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
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
	files := []string{"testdata/multi_section.conf", "/etc/piuparts/piuparts.conf", "/etc/piuparts/distros.conf"}
	tricky := map[string]string{
		"indent.conf":   "[a]\n  k = v\n    more\n  j: w\n[b]\nx=1\n\n\n  y\n# c\n  z\n\nw = \n",
		"brackets.conf": "[a]b]\nk = [x]\n[c] trailing\nK2 = 1 ; not a comment\n",
		"percent.conf":  "[s]\nbase = /srv\ndir = %(base)s/%(name)s\nname = x%%y\n",
		"unicode.conf":  "[s]\nk = caf\u00e9 \u3000\n\u3000cont\n",
		"cr.conf":       "[s]\rk = v\r  w\rj = 2\r",
		"colon.conf":    "[s]\nk : a = b\nj = c : d\n",
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
				t.Skip(err)
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
				got[s.name] = map[string]string{}
				for _, e := range s.entries {
					got[s.name][strings.ToLower(e.key)] = e.value
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
