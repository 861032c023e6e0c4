package runner_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ulikunitz/xz"

	"piuparts-server/internal/config"
)

// fixedNow is the time tests give to Test and EnsureTarball.
var fixedNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func now() time.Time { return fixedNow }

// writeMirror builds a file:// mirror in a new temporary directory from
// the fixtures testdata/archive/DISTRO/Packages, one distro per name, as
// MIRROR/dists/DISTRO/main/binary-amd64/Packages and Packages.xz (the
// reference opens .xz first and fails on a missing file:// URL). It
// returns the mirror URL.
func writeMirror(t *testing.T, distros ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range distros {
		data, err := os.ReadFile(filepath.Join("testdata", "archive", d, "Packages"))
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(root, "dists", d, "main", "binary-amd64")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "Packages"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		w, err := xz.NewWriter(&b)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "Packages.xz"), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return "file://" + root
}

// parseConfig parses TOML text into a configuration, failing the test on
// an error.
func parseConfig(t *testing.T, text string) *config.Config {
	t.Helper()
	c, err := config.Parse(strings.NewReader(text), "test.toml")
	if err != nil {
		t.Fatalf("config.Parse: %v\n%s", err, text)
	}
	return c
}

// section returns the named section of c.
func section(t *testing.T, c *config.Config, name string) *config.Section {
	t.Helper()
	s, err := c.Section(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// script writes a shell script into dir and returns its path.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// sectionTOML returns a configuration with one section "s" holding the
// given TOML lines, with a fake piuparts command.
func sectionTOML(mirror, command string, lines ...string) string {
	return "[global]\nsections = [\"s\"]\n\n[s]\narch = \"amd64\"\nmirror = \"" + mirror +
		"\"\npiuparts-command = [\"/bin/sh\", \"" + command + "\"]\n" + strings.Join(lines, "\n") + "\n"
}
