package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"piuparts-server/internal/config"
)

// pythonEffective prints, for each section [global] lists, the values of
// the keys asked for as piupartslib's Config.read finds them: the
// section's (its own or [DEFAULT]'s, expanded by ConfigParser), else
// [global]'s.
const pythonEffective = `
import configparser, json, sys
cp = configparser.ConfigParser()
cp.read(sys.argv[1])
names = []
for k in ("sections", "basetgz-sections"):
    if cp.has_option("global", k):
        names += cp.get("global", k).split()
out = {}
for s in names:
    out[s] = {}
    for k in sys.argv[2:]:
        if cp.has_option(s, k):
            out[s][k] = cp.get(s, k)
        elif cp.has_option("global", k):
            out[s][k] = cp.get("global", k)
print(json.dumps(out))
`

// TestRun_ConfigImportDebianFarms converts the piuparts.conf files of
// Debian's own farm, which use [DEFAULT] and %(key)s, and compares the
// expanded values with what Debian's Python reads from the same files.
func TestRun_ConfigImportDebianFarms(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("######## SKIPPED: Debian's python3 is absent (make test-deps): %v", err)
	}
	for _, name := range []string{"piuparts.conf.pejacevic", "piuparts.conf.anbe"} {
		t.Run(name, func(t *testing.T) {
			in := filepath.Join("/usr/share/doc/piuparts-master/examples", name)
			if _, err := os.Stat(in); err != nil {
				t.Skipf("######## SKIPPED: Debian's %s is absent (make test-deps installs piuparts-master): %v", in, err)
			}
			var stdout, stderr bytes.Buffer
			if err := run(t.Context(), []string{"config", "import", in}, nil, &stdout, &stderr, noEnv); err != nil {
				t.Fatalf("config import %s: %v", in, err)
			}
			out := filepath.Join(t.TempDir(), "piuparts.toml")
			if err := os.WriteFile(out, stdout.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := run(t.Context(), []string{"-c", out, "config", "check"}, nil, &bytes.Buffer{}, &stderr, noEnv); err != nil {
				t.Fatalf("config check on the converted %s: %v", name, err)
			}
			cfg, err := config.Load(out)
			if err != nil {
				t.Fatal(err)
			}
			keys := []string{"piuparts-flags", "piuparts-command", "distro", "description", "tmpdir"}
			cmd := exec.CommandContext(t.Context(), python, append([]string{"-c", pythonEffective, in}, keys...)...)
			cmd.Env = append(os.Environ(), "PYTHONUTF8=1")
			pyOut, err := cmd.Output()
			if err != nil {
				t.Fatalf("python: %v", err)
			}
			var want map[string]map[string]string
			if err := json.Unmarshal(pyOut, &want); err != nil {
				t.Fatal(err)
			}
			interpolated := 0
			for orig, values := range want {
				sec := strings.ReplaceAll(orig, "/", "-") // as the import renames nested sections
				s, err := cfg.Section(sec)
				if err != nil {
					t.Errorf("section %s (%s): %v", orig, sec, err)
					continue
				}
				got := map[string][]string{
					"piuparts-flags":   s.PiupartsFlags,
					"piuparts-command": s.PiupartsCommand,
					"distro":           {s.Distro},
					"description":      {s.Description},
					"tmpdir":           {s.Tmpdir},
				}
				for k, v := range values {
					w := []string{v}
					if k == "piuparts-flags" || k == "piuparts-command" {
						w = strings.Fields(v)
					}
					if !slices.Equal(got[k], w) {
						t.Errorf("[%s] %s = %q, want %q as Python's configparser reads it", orig, k, got[k], w)
					}
					if k == "piuparts-flags" && len(w) > 0 {
						interpolated++
					}
				}
			}
			// The files build piuparts-flags from [DEFAULT]'s flags-* keys:
			// a comparison of nothing would prove nothing.
			if interpolated < 20 {
				t.Errorf("only %d sections have piuparts-flags to compare, want at least 20", interpolated)
			}
		})
	}
}
