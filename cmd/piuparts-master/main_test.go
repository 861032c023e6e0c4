package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"piuparts-server/internal/config"
)

func noEnv(string) string { return "" }

func TestRun_ConfigImport(t *testing.T) {
	var stdout, stderr bytes.Buffer
	in := filepath.Join("..", "..", "internal", "config", "testdata", "multi_section.conf")
	if err := run(t.Context(), []string{"config", "import", in}, nil, &stdout, &stderr, noEnv); err != nil {
		t.Fatalf("config import %s: %v (stderr %q)", in, err, stderr.String())
	}
	// What an operator does next: save the output and use it as the config.
	out := filepath.Join(t.TempDir(), "piuparts.toml")
	if err := os.WriteFile(out, stdout.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(out)
	if err != nil {
		t.Fatalf("loading the imported config: %v\n%s", err, stdout.String())
	}
	if got, want := strings.Join(cfg.Global.SectionNames, " "), "sid bookworm2trixie trixie-pu"; got != want {
		t.Errorf("sections = %q, want %q", got, want)
	}
	if err := run(t.Context(), []string{"-c", out, "config", "check"}, nil, &stdout, &stderr, noEnv); err != nil {
		t.Errorf("config check on the imported config: %v", err)
	}
}

func TestRun_ConfigImportDebianExample(t *testing.T) {
	const debian = "/etc/piuparts/piuparts.conf"
	if _, err := os.Stat(debian); err != nil {
		t.Skipf("Debian's example %s is absent (make test-deps installs piuparts-master): %v", debian, err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"config", "import", debian}, nil, &stdout, &stderr, noEnv); err != nil {
		t.Fatalf("config import %s: %v", debian, err)
	}
	if _, err := config.Parse(&stdout, "imported.toml"); err != nil {
		t.Errorf("imported Debian example does not load: %v", err)
	}
}

func TestRun_ConfigCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	conf := "[global]\nsections = [\"sid\"]\n\n[sid]\ndistro = \"sid\"\nmirorr = \"x\"\n"
	if err := os.WriteFile(bad, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string // substring; "" means success
	}{
		{"Example", []string{"-c", filepath.Join("..", "..", "deploy", "piuparts.toml"), "config", "check"}, nil, ""},
		{"UnknownKeyNamesLine", []string{"-c", bad, "config", "check"}, nil, `bad.toml:6: section "sid": unknown key "mirorr"`},
		{"FromEnvironment", []string{"config", "check"}, map[string]string{"PIUPARTS_CONFIG": bad}, `unknown key "mirorr"`},
		{"Missing", []string{"-c", filepath.Join(dir, "nope.toml"), "config", "check"}, nil, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), tt.args, nil, &stdout, &stderr, func(k string) string { return tt.env[k] })
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("run(%q) = %v, want success", tt.args, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("run(%q) = %v, want error containing %q", tt.args, err, tt.wantErr)
			}
			// stdout is the protocol channel of a master: nothing but answers go there.
			if stdout.Len() != 0 {
				t.Errorf("run(%q) wrote %q to stdout; logs belong on stderr", tt.args, stdout.String())
			}
		})
	}
}

func TestRun_Usage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name       string
		args       []string
		wantErr    string // substring of a usage error; "" means success
		wantStdout string // substring of stdout on success
	}{
		{"UnknownCommand", []string{"frobnicate"}, `unknown command "frobnicate"`, ""},
		{"UnknownGlobalFlag", []string{"--frob"}, "-frob", ""},
		{"UnknownFlag", []string{"fsck", "--bogus"}, "fsck: flag provided but not defined: -bogus", ""},
		{"ConfigAlone", []string{"config"}, "config: want a subcommand: import, check or reference", ""},
		{"ConfigUnknown", []string{"config", "foo"}, `config: unknown subcommand "foo"`, ""},
		{"ConfigImportNoFile", []string{"config", "import"}, "config import: want PIUPARTS.CONF [DISTROS.CONF]", ""},
		{"ConfigImportUnknownFlag", []string{"config", "import", "--frob", "x.conf"}, "config import: flag provided but not defined: -frob", ""},
		{"StatusUnknownFlag", []string{"status", "--yaml"}, "status: flag provided but not defined: -yaml", ""},
		{"HelpUnknown", []string{"help", "frob"}, `help: unknown command "frob"`, ""},
		{"Help", []string{"help"}, "", "usage: piuparts-master"},
		{"DashH", []string{"-h"}, "", "reservations"},
		{"HelpFsck", []string{"help", "fsck"}, "", "usage: piuparts-master [-c FILE] fsck [--repair]"},
		{"FsckDashH", []string{"fsck", "-h"}, "", "-repair"},
		{"ConfigHelp", []string{"config", "--help"}, "", "import"},
		{"ConfigImportHelp", []string{"config", "import", "--help"}, "", "usage: piuparts-master [-c FILE] config import PIUPARTS.CONF"},
		{"HelpConfigCheck", []string{"help", "config", "check"}, "", "usage: piuparts-master [-c FILE] config check"},
		{"StatusHelp", []string{"status", "--help"}, "", "--json"},
		{"ReservationsHelp", []string{"reservations", "-h"}, "", "release PACKAGE"},
		{"ImportHelp", []string{"import", "--help"}, "", "usage: piuparts-master [-c FILE] import [DIR]"},
		{"ServerHelp", []string{"server", "--help"}, "", "usage: piuparts-master [-c FILE] server [--socket NAME]"},
		{"ServerExtra", []string{"server", "extra"}, `server: unexpected argument "extra"`, ""},
		{"Version", []string{"version"}, "", "piuparts-master dev"},
		{"DashDashVersion", []string{"--version"}, "", "piuparts-master dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			// -c names a config that does not exist: help must not need one.
			args := append([]string{"-c", filepath.Join(dir, "none.toml")}, tt.args...)
			err := run(t.Context(), args, nil, &stdout, &stderr, noEnv)
			if tt.wantErr != "" {
				if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("run(%q) = %v, want a usage error containing %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("run(%q) = %v, want success", tt.args, err)
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("run(%q) wrote %q, want it to contain %q", tt.args, stdout.String(), tt.wantStdout)
			}
			// --help does not open a file named --help.
			if _, err := os.Stat("--help"); err == nil {
				t.Errorf("run(%q) created a file named --help", tt.args)
			}
		})
	}
}

func TestRun_ConfigImportWithDistros(t *testing.T) {
	dir := filepath.Join("..", "..", "internal", "config", "testdata")
	var stdout, stderr bytes.Buffer
	args := []string{"config", "import", filepath.Join(dir, "multi_section.conf"), filepath.Join(dir, "distros_partial.conf")}
	if err := run(t.Context(), args, nil, &stdout, &stderr, noEnv); err != nil {
		t.Fatalf("run(%q) = %v", args, err)
	}
	cfg, err := config.Parse(&stdout, "imported.toml")
	if err != nil {
		t.Fatalf("imported config does not load: %v", err)
	}
	if !cfg.Distros.IsVirtual("bookworm-current") {
		t.Errorf("distro bookworm-current from distros_partial.conf missing or not virtual")
	}

	// A bad distros.conf writes nothing: no half config for an operator to save.
	bad := filepath.Join(t.TempDir(), "distros.conf")
	if err := os.WriteFile(bad, []byte("[x]\nurl = http://mirror.example.org/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	args[3] = bad
	if err := run(t.Context(), args, nil, &stdout, &stderr, noEnv); err == nil || !strings.Contains(err.Error(), "distros.conf:2") {
		t.Errorf("run(%q) = %v, want an error naming distros.conf:2", args, err)
	}
	if stdout.Len() != 0 {
		t.Errorf("failed import wrote %d bytes to stdout, want none", stdout.Len())
	}
}
