package config_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"piuparts-server/internal/config"
)

func addSeeds(f *testing.F, pattern string) {
	f.Helper()
	paths, err := filepath.Glob(pattern)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzParseConfig: Parse never panics; it either returns a Config whose
// listed sections all resolve, or *Errors whose lines lie in the input.
func FuzzParseConfig(f *testing.F) {
	addSeeds(f, "testdata/*.toml")
	addSeeds(f, "../../deploy/piuparts.toml")
	f.Add([]byte("[global]\nsections = [\"sid\"]\n[sid]\nmax-reserved = \"x\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse(bytes.NewReader(data), "f.toml")
		if err != nil {
			if c != nil {
				t.Fatal("Parse returned a Config and an error")
			}
			lines := bytes.Count(data, []byte("\n")) + 1
			for _, e := range unjoin(err) {
				var ce *config.Error
				if !errors.As(e, &ce) {
					t.Fatalf("error %T %v is not a *config.Error", e, e)
				}
				if ce.Line < 0 || ce.Line > lines {
					t.Fatalf("error on line %d of a %d-line input: %v", ce.Line, lines, ce)
				}
				if !strings.HasPrefix(ce.Error(), "f.toml") {
					t.Fatalf("error does not name the file: %v", ce)
				}
			}
			return
		}
		for _, name := range append(c.Global.SectionNames, c.Global.BasetgzSections...) {
			s, err := c.Section(name)
			if err != nil || s.Name != name {
				t.Fatalf("listed section %q does not resolve: %v", name, err)
			}
			if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
				t.Fatalf("section name %q could escape its directory", name)
			}
			for _, dep := range s.DependsSections {
				if _, err := c.Section(dep); err != nil {
					t.Fatalf("section %q depends on undefined %q", name, dep)
				}
			}
		}
	})
}

// unjoin splits an errors.Join result.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// FuzzImportINI: ImportINI never panics, writes nothing on error, and what
// it writes on success Parses.
func FuzzImportINI(f *testing.F) {
	addSeeds(f, "testdata/*.conf")
	f.Add([]byte("[global]\nsections = a b\n[a]\nk = %(x)s\n[b]\n  idle-sleep: 1\n"))
	f.Add([]byte("[global]\nsections = sid\n[sid]\ndescription = \"x\x7f\"\n;c\x0c\n"))
	f.Add([]byte("[DEFAULT]\nflags = --a %(extra)s\nextra =\npiuparts-flags = %(flags)s\n[global]\nsections = sid a/b\n[sid]\nextra = --sid\n[a/b]\ndepends-sections = sid\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		err := config.ImportINI(bytes.NewReader(data), "f.conf", &out)
		if err != nil {
			if out.Len() != 0 {
				t.Fatalf("ImportINI wrote output and returned %v", err)
			}
			if strings.Contains(err.Error(), "converted file does not load") {
				t.Fatalf("ImportINI produced a file that does not load: %v", err)
			}
			return
		}
		if _, err := config.Parse(bytes.NewReader(out.Bytes()), "out.toml"); err != nil {
			t.Fatalf("output of ImportINI does not parse: %v\n%s", err, out.String())
		}
	})
}

// FuzzImportDistrosINI: importing a distros.conf never panics, and what it
// writes, appended to a minimal config, always loads.
func FuzzImportDistrosINI(f *testing.F) {
	addSeeds(f, "testdata/distros_*.conf")
	f.Add([]byte("[a/b]\nuri = None\ndepends = x y\n"))
	const minimal = "[global]\nsections = [\"sid\"]\n[sid]\ndistro = \"sid\"\n"
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		out.WriteString(minimal)
		if err := config.ImportDistrosINI(bytes.NewReader(data), "distros.conf", &out); err != nil {
			return
		}
		if _, err := config.Parse(&out, "f.toml"); err != nil {
			t.Fatalf("import succeeded but the result does not load: %v\n%s", err, out.String())
		}
	})
}
