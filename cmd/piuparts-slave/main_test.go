package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRun_CommandLine: what an operator types, and the errors that name
// what was wrong.
func TestRun_CommandLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[global]\nsections = [\"sid\"]\n[sid]\nmaster-hots = \"m\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noenv := func(string) string { return "" }
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string // "" means success
		wantOut string
	}{
		{"Version", []string{"version"}, "", "piuparts-slave "},
		{"VersionFlag", []string{"--version"}, "", "piuparts-slave "},
		{"NoCommand", nil, "usage", ""},
		{"UnknownCommand", []string{"frobnicate"}, "unknown command", ""},
		{"ConfigBeforeRun", []string{"-c", bad, "run"}, `unknown key "master-hots"`, ""},
		{"ConfigAfterRun", []string{"run", "-c", bad}, `unknown key "master-hots"`, ""},
		{"MissingConfig", []string{"run", "-c", filepath.Join(dir, "none.toml")}, "none.toml", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(t.Context(), tc.args, &out, &errOut, noenv)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("run(%q) = %v", tc.args, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("run(%q) = %v, want an error with %q", tc.args, err, tc.wantErr)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output %q lacks %q", out.String(), tc.wantOut)
			}
		})
	}
}
