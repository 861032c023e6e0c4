package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"piuparts-server/master/jobs"
)

// The committed deploy/ files are what `maintain` generates: regenerate
// them with the commands in the message.
func TestMaintain_DeployFilesUpToDate(t *testing.T) {
	deploy := filepath.Join("..", "..", "deploy")
	fix := "go run ./cmd/piuparts-master maintain --systemd deploy/systemd && go run ./cmd/piuparts-master maintain --cron > deploy/cron/piuparts-master"
	for name, want := range jobs.Units("piupartsm", "/usr/bin") {
		got, err := os.ReadFile(filepath.Join(deploy, "systemd", name))
		if err != nil || string(got) != want {
			t.Errorf("deploy/systemd/%s is not what maintain --systemd writes (%v); run: %s", name, err, fix)
		}
	}
	got, err := os.ReadFile(filepath.Join(deploy, "cron", "piuparts-master"))
	if err != nil || string(got) != jobs.Cron("piupartsm", "/usr/bin") {
		t.Errorf("deploy/cron/piuparts-master is not what maintain --cron prints (%v); run: %s", err, fix)
	}
}

// Each timer fires at the hours and minutes of its cron line, as
// systemd-analyze computes them.
func TestMaintain_TimersMatchCron(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("SKIPPED: no systemd-analyze to read the timers' calendars")
	}
	for _, e := range jobs.Schedule() {
		if e.Calendar == "" {
			continue
		}
		f := strings.Fields(e.Cron)
		if len(f) != 5 || f[2] != "*" || f[3] != "*" || f[4] != "*" {
			t.Fatalf("%s: cron %q is not a daily schedule this test reads", e.Name, e.Cron)
		}
		var want []string
		for _, h := range cronField(t, f[1], 23) {
			for _, m := range cronField(t, f[0], 59) {
				want = append(want, strconv.Itoa(h)+":"+strconv.Itoa(m))
			}
		}
		out, err := exec.Command(analyze, "calendar", "--iterations="+strconv.Itoa(len(want)),
			"--base-time=2025-12-31 23:59:30 UTC", e.Calendar).CombinedOutput()
		if err != nil {
			t.Fatalf("systemd-analyze calendar %q: %v\n%s", e.Calendar, err, out)
		}
		var got []string
		for _, line := range strings.Split(string(out), "\n") {
			if !strings.Contains(line, "Next elapse:") && !strings.Contains(line, "Iter. #") {
				continue
			}
			fs := strings.Fields(line)
			hms := strings.Split(fs[len(fs)-2], ":")
			h, _ := strconv.Atoi(hms[0])
			m, _ := strconv.Atoi(hms[1])
			got = append(got, strconv.Itoa(h)+":"+strconv.Itoa(m))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: OnCalendar=%s fires at %v; cron %q at %v", e.Name, e.Calendar, got, e.Cron, want)
		}
	}
}

// cronField expands a cron field of numbers, lists, ranges and steps.
func cronField(t *testing.T, f string, max int) []int {
	t.Helper()
	var out []int
	for _, part := range strings.Split(f, ",") {
		rng, step := part, 1
		if r, s, ok := strings.Cut(part, "/"); ok {
			rng = r
			step, _ = strconv.Atoi(s)
		}
		lo, hi := 0, max
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			lo, _ = strconv.Atoi(a)
			hi = lo
			if isRange {
				hi, _ = strconv.Atoi(b)
			}
		}
		for v := lo; v <= hi; v += step {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

func TestMaintain_List(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"maintain", "--list"}, nil, &out, &errOut, noEnv); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"0 3,15 * * *     piuparts-master reschedule", "@reboot          piuparts-master cleanup",
		"archive_old_logs: piuparts-master archive-logs", "gather_bts_stats"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("maintain --list lacks %q:\n%s", want, out.String())
		}
	}
	if err := run(t.Context(), []string{"maintain"}, nil, &out, &errOut, noEnv); err == nil {
		t.Error("maintain without a flag succeeded")
	}
}
