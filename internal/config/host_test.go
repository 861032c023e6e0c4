package config_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"piuparts-server/internal/config"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultMirror(t *testing.T) {
	dir := t.TempDir()
	deb822 := `Types: deb
URIs: http://security.example.org/debian-security
Suites: bookworm-security
Components: main

Types: deb-src
URIs: http://src.example.org/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://off.example.org/debian
Suites: bookworm
Enabled: no

Types: deb
# a comment
URIs: http://mirror.example.org/debian/
Suites: bookworm bookworm-updates
Components: main
`
	list := "# deb http://commented.example.org/debian sid main\n" +
		"deb-src http://src.example.org/debian sid main\n" +
		"deb http://security.example.org/debian-security bookworm/updates main\n" +
		"deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://list.example.org/debian sid main\n"
	tests := []struct {
		name    string
		files   map[string]string
		want    string
		wantErr error
	}{
		{"Deb822", map[string]string{"sources.list.d/debian.sources": deb822}, "http://mirror.example.org/debian", nil},
		{"OneLine", map[string]string{"sources.list": list}, "http://list.example.org/debian", nil},
		{"SourcesListFirst", map[string]string{"sources.list": list, "sources.list.d/debian.sources": deb822}, "http://list.example.org/debian", nil},
		{"LexicalOrder", map[string]string{"sources.list.d/b.list": "deb http://b.example.org/debian sid main\n",
			"sources.list.d/a.sources": "Types: deb\nURIs: http://a.example.org/debian\nSuites: sid\n"}, "http://a.example.org/debian", nil},
		{"NoDebEntry", map[string]string{"sources.list": "deb-src http://src.example.org/debian sid main\n"}, "", config.ErrNoMirror},
		{"NoFiles", nil, "", config.ErrNoMirror},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			apt := filepath.Join(dir, tt.name)
			if err := os.MkdirAll(apt, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, text := range tt.files {
				writeFile(t, filepath.Join(apt, name), text)
			}
			files, err := config.AptSourcesFiles(apt)
			if err != nil {
				t.Fatal(err)
			}
			got, err := config.DefaultMirror(files...)
			if got != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("DefaultMirror(%q) = %q, %v; want %q, %v", files, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestAptSourcesFiles_Order(t *testing.T) {
	apt := t.TempDir()
	for _, n := range []string{"sources.list", "sources.list.d/z.list", "sources.list.d/a.sources", "sources.list.d/m.list.disabled"} {
		writeFile(t, filepath.Join(apt, n), "")
	}
	got, err := config.AptSourcesFiles(apt)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(apt, "sources.list"), filepath.Join(apt, "sources.list.d/a.sources"), filepath.Join(apt, "sources.list.d/z.list")}
	if !slices.Equal(got, want) {
		t.Errorf("AptSourcesFiles = %q, want %q", got, want)
	}
}

func TestHostArch(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("dpkg is not installed")
	}
	out, err := exec.CommandContext(t.Context(), "dpkg", "--print-architecture").Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := config.HostArch(t.Context())
	if err != nil || got+"\n" != string(out) {
		t.Errorf("HostArch = %q, %v; want %q", got, err, out)
	}
}
