package mangen_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"piuparts-server/internal/config"
	"piuparts-server/internal/mangen"
)

// TestReadme_ConfigReference fails when the README's table between the
// config-reference markers is not what the key table gives.
func TestReadme_ConfigReference(t *testing.T) {
	readme := filepath.Join("..", "..", "README.md")
	old, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := mangen.WriteConfigMarkdown(&table, config.KnownKeys()); err != nil {
		t.Fatal(err)
	}
	got, err := mangen.SpliceReadme(old, table.Bytes())
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	if !bytes.Equal(got, old) {
		t.Errorf("README.md's config reference is stale (a key of internal/config changed): run make docs and commit README.md")
	}
}

func TestWriteConfigMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := mangen.WriteConfigMarkdown(&b, config.KnownKeys()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	keys := config.KnownKeys()
	if len(lines) != len(keys)+2 {
		t.Errorf("the table has %d rows, want a header, a rule and one per key (%d)", len(lines), len(keys))
	}
	for _, k := range keys {
		name := k.Name[strings.LastIndex(k.Name, ".")+1:]
		if strings.HasPrefix(k.Name, "supervisor.environment.") {
			name = "environment.NAME"
		}
		if !strings.Contains(b.String(), "| `"+name+"` |") {
			t.Errorf("the table has no row for %s", k.Name)
		}
	}
	for i, l := range lines {
		// Six unescaped bars: five cells.
		if n := strings.Count(l, "|") - strings.Count(l, `\|`); n != 6 {
			t.Errorf("row %d has %d cell borders, want 6: %q", i+1, n, l)
		}
	}
}

func TestSpliceReadme(t *testing.T) {
	in := []byte("intro\n" + mangen.ReadmeBegin + "\nold\n" + mangen.ReadmeEnd + "\nrest\n")
	got, err := mangen.SpliceReadme(in, []byte("| new |\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "intro\n" + mangen.ReadmeBegin + "\n\n| new |\n\n" + mangen.ReadmeEnd + "\nrest\n"; string(got) != want {
		t.Errorf("SpliceReadme = %q, want %q", got, want)
	}
	if _, err := mangen.SpliceReadme([]byte("no markers"), nil); !errors.Is(err, mangen.ErrNoMarkers) {
		t.Errorf("SpliceReadme without markers: %v, want ErrNoMarkers", err)
	}
}

// TestWriteConfigPage: piuparts.toml(5) names every key and groff formats
// it without a warning.
func TestWriteConfigPage(t *testing.T) {
	var b bytes.Buffer
	if err := mangen.WriteConfigPage(&b, config.KnownKeys(), "1.0", "2026-01-01"); err != nil {
		t.Fatal(err)
	}
	checkRequests(t, b.String())
	if _, err := exec.LookPath("groff"); err != nil {
		t.Skip("SKIP part: groff is missing (make test-deps installs groff-base): the page is not formatted")
	}
	text := groffCheck(t, b.Bytes())
	for _, g := range mangen.Groups(config.KnownKeys()) {
		if !strings.Contains(text, g.Title) {
			t.Errorf("piuparts.toml(5) has no section %s", g.Title)
		}
		for _, k := range g.Keys {
			if !strings.Contains(text, "\n       "+k.Name+" ("+k.Type+")") {
				t.Errorf("piuparts.toml(5) has no entry for %s (%s) in %s", k.Name, k.Type, g.Title)
			}
		}
	}
}

// groffCheck formats a page with groff -ww, fails the test on any warning
// and returns the text.
func groffCheck(t *testing.T, page []byte) string {
	t.Helper()
	cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-P-cbou")
	cmd.Stdin = bytes.NewReader(page)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("groff -man -ww: %v\n%s", err, stderr.String())
	}
	return stdout.String()
}
