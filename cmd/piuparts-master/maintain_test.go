package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// masterTree writes a Debian piuparts master directory and a config that
// names it; it returns the config's path and the directory.
func masterTree(t *testing.T) (conf, dir string) {
	t.Helper()
	root := t.TempDir()
	dir = filepath.Join(root, "master")
	files := map[string]string{
		"sid/pass/hello_2.10-3.log":         "hello passed\n",
		"sid/fail/bash_5.2.15-2+b13.log":    "bash failed\n",
		"sid/reserved/dash_0.5.12-2.log":    "",
		"sid/submissions.txt":               "1714560000 pass hello 2.10-3\n1714560001 fail bash 5.2.15-2+b13\n",
		"bookworm/untestable/zsh_5.9-4.log": "zsh untestable\n",
		"bookworm/pass/bad name_1.log":      "refused\n",
	}
	for rel, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf = filepath.Join(root, "piuparts.toml")
	toml := fmt.Sprintf("[global]\nsections = [\"sid\", \"bookworm\"]\nmaster-directory = %q\nmirror = \"file:///nonexistent\"\narch = \"amd64\"\nreserved-expire = 3600\n\n[sid]\ndistro = \"sid\"\n\n[bookworm]\ndistro = \"bookworm\"\n", dir)
	if err := os.WriteFile(conf, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf, dir
}

func TestRun_ImportAndFsck(t *testing.T) {
	ctx := t.Context()
	conf, dir := masterTree(t)
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"-c", conf, "import"}, nil, &out, &errOut, noEnv); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"bookworm: skipped bookworm/pass/bad name_1.log: not a safe NAME_VERSION.log name",
		"bookworm: indexed untestable=1; unchanged 0, updated 0; reservations 0 new, 0 kept; submissions 0 new, 0 kept; skipped 1",
		"sid: indexed pass=1 fail=1; unchanged 0, updated 0; reservations 1 new, 0 kept; submissions 2 new, 0 kept; skipped 0",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("import output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run(ctx, []string{"-c", conf, "import", dir}, nil, &out, &errOut, noEnv); err != nil {
		t.Fatalf("second import: %v", err)
	}
	if want := "sid: indexed none; unchanged 2, updated 0; reservations 0 new, 1 kept; submissions 0 new, 2 kept"; !strings.Contains(out.String(), want) {
		t.Errorf("second import output lacks %q:\n%s", want, out.String())
	}

	// The unsafe name stays a problem: fsck reports it and exits 1.
	out.Reset()
	err := run(ctx, []string{"-c", conf, "fsck"}, nil, &out, &errOut, noEnv)
	if !errors.Is(err, errProblems) || !strings.Contains(out.String(), "bookworm/pass/bad name_1.log: unsafe-file") ||
		!strings.Contains(out.String(), "1 problems remain") {
		t.Errorf("fsck = %v, output:\n%s\nwant the unsafe file as the one problem", err, out.String())
	}
	if err := os.Remove(filepath.Join(dir, "bookworm", "pass", "bad name_1.log")); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"-c", conf, "fsck"}, nil, &out, &errOut, noEnv); err != nil || strings.TrimSpace(out.String()) != "clean" {
		t.Errorf("fsck on a clean tree = %v, output %q, want clean", err, out.String())
	}

	// A crash leaves a temp file; a log vanishes; one appears.
	stale := filepath.Join(dir, "sid", "pass", ".incoming-1234")
	if err := os.WriteFile(stale, []byte("half"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, old, old)
	os.Remove(filepath.Join(dir, "sid", "fail", "bash_5.2.15-2+b13.log"))
	os.WriteFile(filepath.Join(dir, "sid", "pass", "bash_5.2.15-2+b14.log"), []byte("bash passed\n"), 0o644)
	out.Reset()
	if err := run(ctx, []string{"-c", conf, "fsck"}, nil, &out, &errOut, noEnv); !errors.Is(err, errProblems) {
		t.Errorf("fsck on a broken tree = %v, want errProblems\n%s", err, out.String())
	}
	for _, want := range []string{
		"sid/fail/bash_5.2.15-2+b13.log: index-without-file: would drop the index row",
		"sid/pass/.incoming-1234: leftover-temp-file",
		"sid/pass/bash_5.2.15-2+b14.log: file-without-index (12 bytes): would index",
		"3 problems remain",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("fsck output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run(ctx, []string{"-c", conf, "fsck", "--repair"}, nil, &out, &errOut, noEnv); err != nil {
		t.Errorf("fsck --repair = %v, want every problem repaired\n%s", err, out.String())
	}
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("fsck --repair left %s", stale)
	}
	out.Reset()
	if err := run(ctx, []string{"-c", conf, "fsck"}, nil, &out, &errOut, noEnv); err != nil || strings.TrimSpace(out.String()) != "clean" {
		t.Errorf("fsck after repair = %v, output %q, want clean", err, out.String())
	}
	if err := run(ctx, []string{"-c", conf, "fsck", "--bogus"}, nil, &out, &errOut, noEnv); !errors.Is(err, errUsage) {
		t.Errorf("fsck --bogus = %v, want a usage error", err)
	}
}
