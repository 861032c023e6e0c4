package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"piuparts-server/internal/sshd"
	"piuparts-server/internal/testutil"
)

// TestScenarios_Quick builds the programs and runs the quick scenarios
// through the same code as `piuparts-scenario NAME...`, printing each
// scenario's steps and the final table in the test log.
func TestScenarios_Quick(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: runs end-to-end farms (sshd, masters, slaves) for about a minute")
	}
	if err := sshd.Available(); err != nil {
		t.Skipf("SKIP, NOTHING TESTED: the scenarios need sshd: %v", err)
	}
	bin := t.TempDir()
	for _, p := range programs {
		testutil.Build(t, bin, "piuparts-server/cmd/"+p)
	}
	args := []string{"--bin", bin, "--demo", "../../deploy/demo"}
	var names []string
	for _, s := range scenarios() {
		if s.quick {
			names = append(names, s.name)
		}
	}
	var out bytes.Buffer
	start := time.Now()
	err := run(t.Context(), append(args, names...), &out, &out, os.Getenv)
	t.Logf("piuparts-scenario %s (%.1fs):\n%s", strings.Join(names, " "), time.Since(start).Seconds(), out.String())
	if err != nil {
		t.Fatalf("piuparts-scenario: %v", err)
	}
	for _, name := range names {
		if !strings.Contains(out.String(), "=== "+name+": pass") {
			t.Errorf("scenario %s did not pass", name)
		}
	}
}

// TestRun_Usage: help, list, a name that is not a scenario, no argument.
func TestRun_Usage(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr error
		want    string // in the output
	}{
		{"Help", []string{"help"}, nil, "one-slave"},
		{"HelpFlag", []string{"--help"}, nil, "usage: piuparts-scenario"},
		{"List", []string{"list"}, nil, "slave-killed\n"},
		{"Unknown", []string{"no-such"}, errUsage, `no scenario "no-such"`},
		{"None", nil, errUsage, "say which scenarios"},
		{"AllPlus", []string{"all", "one-slave"}, errUsage, "all takes no further arguments"},
		{"BadFlag", []string{"--nope", "all"}, errUsage, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(t.Context(), tt.args, &out, &out, os.Getenv)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("run(%q) = %v, want %v", tt.args, err, tt.wantErr)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("run(%q) printed %q, want it to hold %q", tt.args, out.String(), tt.want)
			}
		})
	}
}

// TestScenarios_Registry: names are unique, usable on the command line and
// none is a word of the command line itself.
func TestScenarios_Registry(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range scenarios() {
		if seen[s.name] {
			t.Errorf("scenario %s twice", s.name)
		}
		seen[s.name] = true
		if s.name == "all" || s.name == "help" || s.name == "list" || strings.Trim(s.name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			t.Errorf("scenario name %q", s.name)
		}
		if s.doc == "" || s.run == nil {
			t.Errorf("scenario %s lacks its doc or run", s.name)
		}
	}
}

// TestStopGroup: the stop sequence ends a process that ignores SIGINT
// with SIGTERM, and one that ignores both with SIGKILL, and kills its
// whole process group.
func TestStopGroup(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: waits out the stop sequence (about 8 s)")
	}
	tests := []struct{ name, script, want string }{
		{"Interrupt", "exec sleep 60", "stopped by SIGINT"},
		// A background job of a script ignores SIGINT: the group lives on
		// after the shell until SIGTERM.
		{"BackgroundJob", "sleep 60 & wait", "stopped by SIGTERM"},
		{"IgnoresINT", "trap '' INT; sleep 60 & wait", "stopped by SIGTERM"},
		{"IgnoresINTAndTERM", "trap '' INT TERM; sleep 60 & wait", "stopped by SIGKILL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &H{env: &env{out: &bytes.Buffer{}}, root: t.TempDir()}
			p, err := h.Start("sh", nil, "/bin/sh", "-c", tt.script)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(200 * time.Millisecond) // let the shell set its traps
			if got := h.Stop(p); got != tt.want {
				t.Errorf("Stop = %q, want %q", got, tt.want)
			}
			// The shell's background sleep is in its group: none may be left.
			if !groupGone(p.cmd.Process.Pid) {
				t.Errorf("process group %d outlived Stop", p.cmd.Process.Pid)
			}
			if c := children(); len(c) > 0 {
				t.Errorf("child processes left: %v", c)
			}
		})
	}
}

// TestFindDemo: the demo data is found from this directory, and a
// directory without it is refused with the flag named.
func TestFindDemo(t *testing.T) {
	got, err := findDemo("")
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := filepath.Abs("../../deploy/demo"); got != want {
		t.Errorf("findDemo = %q, want %q", got, want)
	}
	if _, err := findDemo(t.TempDir()); err == nil || !strings.Contains(err.Error(), "--demo") {
		t.Errorf("findDemo(empty dir) = %v, want an error naming --demo", err)
	}
}
