package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"piuparts-server/internal/config"
	"piuparts-server/internal/testutil"
)

// listedCommands reads the command names of a --help text as a reader
// would: the first word of each two-space-indented line under "commands:".
func listedCommands(help string) []string {
	_, after, ok := strings.Cut(help, "\ncommands:\n")
	if !ok {
		return nil
	}
	var names []string
	for _, l := range strings.Split(after, "\n") {
		if l == "" {
			break
		}
		if strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "   ") {
			names = append(names, strings.Fields(l)[0])
		}
	}
	return names
}

// TestMangen builds every program of cmd/, writes the pages as make man
// does and reads them as a user would: groff formats each without a
// warning, lexgrog finds its NAME line, each page shows every command its
// program's --help lists, and piuparts.toml(5) every config key.
func TestMangen(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every program")
	}
	for _, tool := range []string{"groff", "lexgrog"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SKIP: %s is missing (make test-deps installs groff-base and man-db): %v", tool, err)
		}
	}
	cmds, err := os.ReadDir(filepath.Join("..", "..", "cmd"))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	var progs []string
	for _, c := range cmds {
		if c.IsDir() {
			testutil.Build(t, bin, "piuparts-server/cmd/"+c.Name())
			progs = append(progs, c.Name())
		}
	}
	out := t.TempDir()
	var log bytes.Buffer
	if err := run(t.Context(), []string{"-bin", bin, "-out", out, "-version", "test", "-date", "2026-01-01"}, &log, func(string) string { return "" }); err != nil {
		t.Fatalf("mangen: %v\n%s", err, log.String())
	}
	known := programs()
	for _, name := range progs {
		section := known[name].section
		if section == "" {
			section = "1"
		}
		page := filepath.Join(out, "man"+section, name+"."+section)
		t.Run(name, func(t *testing.T) {
			text := format(t, page)
			help, _ := exec.Command(filepath.Join(bin, name), "--help").CombinedOutput()
			listed := listedCommands(string(help))
			if (name == "piuparts-master" || name == "piuparts-slave") && len(listed) < 5 {
				t.Fatalf("%s --help lists %q: not the commands it has", name, listed)
			}
			for _, c := range listed {
				if !regexp.MustCompile(`(?m)^ {7,}` + regexp.QuoteMeta(c) + `\b`).MatchString(text) {
					t.Errorf("%s does not show the command %q that --help lists", page, c)
				}
			}
			if !strings.Contains(text, "SYNOPSIS") || !strings.Contains(text, "DESCRIPTION") {
				t.Errorf("%s lacks SYNOPSIS or DESCRIPTION:\n%s", page, text)
			}
		})
	}
	t.Run("piuparts.toml", func(t *testing.T) {
		page := filepath.Join(out, "man5", "piuparts.toml.5")
		text := format(t, page)
		for _, k := range config.KnownKeys() {
			name := k.Name[strings.LastIndex(k.Name, ".")+1:]
			if !strings.Contains(text, name+" ("+k.Type+")") {
				t.Errorf("%s has no entry for the key %s", page, k.Name)
			}
		}
	})
}

// format runs groff -ww and lexgrog on a page, failing on any warning, and
// returns the formatted text.
func format(t *testing.T, page string) string {
	t.Helper()
	cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-P-cbou", page)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("groff -man -ww %s: %v\n%s", page, err, stderr.String())
	}
	if out, err := exec.Command("lexgrog", page).CombinedOutput(); err != nil {
		t.Errorf("lexgrog %s: %v\n%s", page, err, out)
	}
	return stdout.String()
}
