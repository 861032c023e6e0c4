package runner_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"piuparts-server/internal/debian"
	"piuparts-server/slave/runner"
)

// stanzas returns the stanzas of a fixture Packages file by package name,
// each as its text ending in "\n".
func stanzas(t *testing.T, distro string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "archive", distro, "Packages"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range strings.Split(strings.TrimSpace(string(data)), "\n\n") {
		name, _, _ := strings.Cut(strings.TrimPrefix(s, "Package: "), "\n")
		out[name] = s + "\n"
	}
	return out
}

func TestLoadArchive(t *testing.T) {
	mirror := writeMirror(t, "bookworm", "bookworm-updates")
	bookworm, updates := stanzas(t, "bookworm"), stanzas(t, "bookworm-updates")
	tests := []struct {
		name  string
		keys  []string // of [s]; a [distros...] table after them
		names []string
		want  map[string]map[string]string // distro -> name -> stanza
	}{
		{"Filtered", []string{`distro = "bookworm"`}, []string{"hello", "libssl3", "nosuch"},
			map[string]map[string]string{"bookworm": {"hello": bookworm["hello"], "libssl3": bookworm["libssl3"]}}},
		{"AllNames", []string{`distro = "bookworm"`}, nil,
			map[string]map[string]string{"bookworm": bookworm}},
		{"NoNames", []string{`distro = "bookworm"`}, []string{},
			map[string]map[string]string{"bookworm": {}}},
		{"Upgrade", []string{`upgrade-test-distros = ["bookworm", "bookworm-updates"]`}, []string{"libssl3", "hello"},
			map[string]map[string]string{
				"bookworm":         {"hello": bookworm["hello"], "libssl3": bookworm["libssl3"]},
				"bookworm-updates": {"libssl3": updates["libssl3"]},
			}},
		// The higher version of two candidates wins; of equal ones, the
		// first candidate's.
		{"Candidates", []string{`distro = "both"`, "", "[distros.both]", `candidates = ["bookworm-updates", "bookworm"]`},
			[]string{"libssl3", "ca-certificates"},
			map[string]map[string]string{"both": {"libssl3": bookworm["libssl3"], "ca-certificates": updates["ca-certificates"]}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parseConfig(t, sectionTOML(mirror, "/bin/true", tt.keys...))
			a, err := runner.LoadArchive(t.Context(), c, section(t, c, "s"), tt.names)
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != len(tt.want) {
				t.Errorf("LoadArchive has %d distros, want %d", len(a), len(tt.want))
			}
			for d, want := range tt.want {
				got := a[d]
				var names []string
				for n := range got {
					names = append(names, n)
				}
				var wantNames []string
				for n := range want {
					wantNames = append(wantNames, n)
				}
				slices.Sort(names)
				slices.Sort(wantNames)
				if !slices.Equal(names, wantNames) {
					t.Errorf("distro %s: packages %q, want %q", d, names, wantNames)
				}
				for n, stanza := range want {
					if p := got[n]; p != nil && p.Fields.String() != stanza {
						t.Errorf("distro %s, %s: stanza\n%s\nwant\n%s", d, n, p.Fields.String(), stanza)
					}
				}
			}
		})
	}
}

func TestLoadArchive_Errors(t *testing.T) {
	mirror := writeMirror(t, "bookworm")
	tests := []struct {
		name    string
		keys    []string
		wantErr error
	}{
		{"MissingPackagesFile", []string{`distro = "trixie"`}, debian.ErrIndexNotFound},
		{"NoDistro", nil, runner.ErrNoDistro},
		{"NoArch", []string{`distro = "bookworm"`, `arch = ""`}, runner.ErrNoArch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := sectionTOML(mirror, "/bin/true", tt.keys...)
			if slices.Contains(tt.keys, `arch = ""`) {
				text = strings.Replace(text, "arch = \"amd64\"\n", "", 1)
			}
			c := parseConfig(t, text)
			_, err := runner.LoadArchive(t.Context(), c, section(t, c, "s"), []string{"hello"})
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("LoadArchive error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestLoadArchive_Bookworm loads three packages from the whole of
// bookworm main, as apt stored it on this machine.
func TestLoadArchive_Bookworm(t *testing.T) {
	if testing.Short() {
		t.Skip("reads all of bookworm main")
	}
	files, _ := filepath.Glob("/var/lib/apt/lists/*bookworm_main_binary-amd64_Packages*")
	if len(files) == 0 {
		t.Skip("no bookworm main Packages file in /var/lib/apt/lists")
	}
	lz4, err := exec.LookPath("lz4")
	if err != nil {
		t.Skip("no lz4 command to decompress the apt lists")
	}
	data, err := exec.CommandContext(t.Context(), lz4, "-dc", files[0]).Output()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dir := filepath.Join(root, "dists", "bookworm", "main", "binary-amd64")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Packages"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	c := parseConfig(t, sectionTOML("file://"+root, "/bin/true", `distro = "bookworm"`))
	a, err := runner.LoadArchive(t.Context(), c, section(t, c, "s"), []string{"hello", "dpkg", "ca-certificates"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(a["bookworm"]); n != 3 {
		t.Errorf("LoadArchive kept %d packages, want 3", n)
	}
	if p := a["bookworm"]["hello"]; p == nil || p.Version != "2.10-3" {
		t.Errorf("hello = %+v, want version 2.10-3", p)
	}
}
