package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"piuparts-server/internal/config"
	"piuparts-server/store"
)

// farm is a master directory with what status shows: imported logs and
// submissions, computed states, reservations of two slaves (one expired),
// a submission of a slave, and an error in sid's master.log.
func farm(t *testing.T) (conf, dir string) {
	t.Helper()
	ctx := t.Context()
	conf, dir = masterTree(t)
	var out bytes.Buffer
	if err := run(ctx, []string{"-c", conf, "import"}, nil, &out, &out, noEnv); err != nil {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	cfg, err := config.Load(conf)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenMaster(ctx, dir, cfg.Global.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	states := []store.PackageState{
		{Package: "apt", Version: "2.6.1", State: "waiting-to-be-tested", Rank: 1},
		{Package: "zsh", Version: "5.9-4", State: "waiting-to-be-tested", Rank: 2},
		{Package: "coreutils", Version: "9.1-1", State: "waiting-to-be-tested", Rank: 3},
		{Package: "sed", Version: "4.9-1", State: "waiting-to-be-tested", Rank: 4},
		{Package: "grep", Version: "3.8-5", State: "waiting-to-be-tested", Rank: 5},
		{Package: "hello", Version: "2.10-3", State: "successfully-tested"},
		{Package: "bash", Version: "5.2.15-2+b13", State: "failed-testing"},
		{Package: "dash", Version: "0.5.12-2", State: "waiting-for-dependency-to-be-tested"},
	}
	if err := db.SetStates(ctx, "sid", "test", false, now, states); err != nil {
		t.Fatal(err)
	}
	reserve := func(holder string, at time.Time) {
		t.Helper()
		res, ok, err := db.ReserveNext(ctx, "sid", holder, at, time.Hour, 0, 0)
		if err != nil || !ok {
			t.Fatalf("ReserveNext(%s) = %v, %v", holder, ok, err)
		}
		if taken, _, err := db.Take(ctx, "sid", res.Package, res.Version, false); err != nil || !taken {
			t.Fatalf("Take(%s) = %v, %v", res.Package, taken, err)
		}
	}
	reserve("slave1", now)                   // apt
	reserve("slave1", now)                   // zsh
	reserve("slave2", now.Add(-2*time.Hour)) // coreutils, expired an hour ago
	if _, err := db.Submit(ctx, store.Incoming{Section: "sid", Result: store.KindPass, Package: "sed", Version: "4.9-1",
		By: "slave2", At: now.Add(-30 * time.Minute)}, strings.NewReader("sed passed\n")); err != nil {
		t.Fatal(err)
	}
	log := `{"level":"info","prog":"piuparts-master","section":"sid","message":"reserved"}
{"level":"error","prog":"piuparts-master","section":"sid","error":"disk full","message":"cannot store log"}
{"level":"warn","prog":"piuparts-master","message":"client went away"}
`
	if err := os.WriteFile(filepath.Join(dir, "sid", "master.log"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf, dir
}

func TestRun_Status(t *testing.T) {
	conf, dir := farm(t)
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"-c", conf, "status", "sid"}, nil, &out, &errOut, noEnv); err != nil {
		t.Fatalf("status: %v\n%s", err, errOut.String())
	}
	text := out.String()
	for _, want := range []string{
		"== sid\n",
		"states:       8 packages",
		"failed-testing 1, successfully-tested 1, waiting-for-dependency-to-be-tested 1, waiting-to-be-tested 5",
		// grep, and coreutils, whose lease ended; apt and zsh are held,
		// and sed has a log of its version now.
		"waiting:      2 candidates not reserved",
		"reservations: 4 (1 expired)",
		"  imported: 1", // dash: import adopted its reserved/ marker
		"  slave1: 2",
		"  slave2: 1",
		"EXPIRED",
		"slave2",
		"pass sed 4.9-1",
		"(imported)",
		"last error:   " + filepath.Join(dir, "sid", "master.log") + ":\n",
		`"error":"disk full"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("status output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "== bookworm") {
		t.Errorf("status sid shows other sections:\n%s", text)
	}

	out.Reset()
	if err := run(t.Context(), []string{"-c", conf, "status", "--json"}, nil, &out, &errOut, noEnv); err != nil {
		t.Fatalf("status --json: %v", err)
	}
	var got struct {
		Sections []statusJSON `json:"sections"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("status --json is not JSON: %v\n%s", err, out.String())
	}
	if len(got.Sections) != 2 || got.Sections[0].Section != "sid" || got.Sections[1].Section != "bookworm" {
		t.Fatalf("status --json sections = %+v, want sid and bookworm (the config's order)", got.Sections)
	}
	sid, bookworm := got.Sections[0], got.Sections[1]
	if sid.Waiting != 2 || sid.States["waiting-to-be-tested"] != 5 || len(sid.Reservations) != 4 || len(sid.LogsPerHour) != 24 {
		t.Errorf("sid = %+v, want 2 waiting, 5 waiting-to-be-tested, 4 reservations, 24 hours", sid)
	}
	if n := sid.LogsPerHour[0]; n != 1 {
		t.Errorf("sid logs in the last hour = %d, want 1 (sed)", n)
	}
	if sid.LastError == nil || !strings.Contains(*sid.LastError, "cannot store log") {
		t.Errorf("sid last_error = %v, want the error line", sid.LastError)
	}
	if bookworm.StatesComputed != nil || bookworm.LastError != nil || len(bookworm.Reservations) != 0 {
		t.Errorf("bookworm = %+v, want no states, no error, no reservations", bookworm)
	}

	if err := run(t.Context(), []string{"-c", conf, "status", "nosuch"}, nil, &out, &errOut, noEnv); err == nil || !strings.Contains(err.Error(), `section "nosuch" is not in`) {
		t.Errorf("status nosuch = %v, want an error naming the section", err)
	}
}

func TestRun_Reservations(t *testing.T) {
	ctx := t.Context()
	conf, dir := farm(t)
	runOut := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append([]string{"-c", conf}, args...), nil, &out, &errOut, noEnv)
		return out.String(), err
	}
	out, err := runOut("reservations")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "PACKAGE") {
		t.Fatalf("reservations listed\n%s\nwant a header and 4 reservations", out)
	}
	for i, want := range []string{"apt ", "coreutils ", "dash ", "zsh "} {
		if f := strings.Fields(lines[i+1]); f[0]+" " != want || f[2] != "sid" {
			t.Errorf("line %d = %q, want %s in sid", i+1, lines[i+1], want)
		}
	}
	if out, _ := runOut("reservations", "--expired"); !strings.Contains(out, "coreutils") || strings.Contains(out, "apt") {
		t.Errorf("reservations --expired =\n%s\nwant coreutils only", out)
	}

	out, err = runOut("reservations", "--json", "--section", "sid")
	var js []reservationJSON
	if err != nil || json.Unmarshal([]byte(out), &js) != nil || len(js) != 4 || js[0].Section != "sid" || js[0].Package != "apt" || js[0].Holder != "slave1" {
		t.Errorf("reservations --json --section sid = %v:\n%s\nwant the 4 reservations of sid", err, out)
	}
	if out, err := runOut("reservations", "--section", "bookworm"); err != nil || out != "" {
		t.Errorf("reservations --section bookworm = %q, %v; want nothing", out, err)
	}

	marker := filepath.Join(dir, "sid", "reserved", "apt_2.6.1.log")
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("no reserved/ marker before release: %v", err)
	}
	if out, err := runOut("reservations", "release", "apt"); err != nil || out != "released apt 2.6.1 in sid (held by slave1)\n" {
		t.Errorf("release apt = %q, %v", out, err)
	}
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Errorf("reserved/ marker after release: %v, want it gone", err)
	}
	if out, err := runOut("reservations", "release", "--holder", "slave2"); err != nil || !strings.Contains(out, "released coreutils 9.1-1 in sid (held by slave2)") {
		t.Errorf("release --holder slave2 = %q, %v", out, err)
	}
	if _, err := runOut("reservations", "release", "apt"); err == nil || !strings.Contains(err.Error(), "no reservation matches") {
		t.Errorf("second release apt = %v, want no reservation matches", err)
	}
	if _, err := runOut("reservations", "release"); err == nil || !strings.Contains(err.Error(), "release wants PACKAGE") {
		t.Errorf("bare release = %v, want a usage error", err)
	}
	if out, _ := runOut("reservations", "--holder", "slave1"); !strings.Contains(out, "zsh") || strings.Contains(out, "apt") || strings.Contains(out, "coreutils") {
		t.Errorf("slave1's after the releases:\n%s\nwant zsh only", out)
	}
	// The index still agrees with the files. The tree's own problem (an
	// unsafe file name in bookworm) is removed first.
	if err := os.Remove(filepath.Join(dir, "bookworm", "pass", "bad name_1.log")); err != nil {
		t.Fatal(err)
	}
	if out, err := runOut("fsck"); err != nil || strings.TrimSpace(out) != "clean" {
		t.Errorf("fsck after release = %v:\n%s", err, out)
	}
}

// TestRun_StatusAfterServing: what a slave's session leaves (computed
// states, its reservations) is what status and reservations show, and a
// release leaves the tree and index agreeing.
func TestRun_StatusAfterServing(t *testing.T) {
	ctx := t.Context()
	_, conf := forcedEnvWith(t, "max-reserved = 5")
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"-c", conf, "--slave-id=slave1"}, strings.NewReader("section sid\nreserve\nreserve\n"), &out, &errOut, noEnv); err != nil {
		t.Fatalf("serve: %v\n%s", err, errOut.String())
	}
	var reserved []string // "PACKAGE VERSION" from the "ok PACKAGE VERSION" answers
	for _, l := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "ok" {
			reserved = append(reserved, f[1]+" "+f[2])
		}
	}
	if len(reserved) != 2 {
		t.Fatalf("the session reserved %q, want 2 packages:\n%s", reserved, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"-c", conf, "status", "--json"}, nil, &out, &errOut, noEnv); err != nil {
		t.Fatalf("status: %v", err)
	}
	var got struct {
		Sections []statusJSON `json:"sections"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got.Sections) != 1 {
		t.Fatalf("status --json = %v:\n%s", err, out.String())
	}
	sid := got.Sections[0]
	if sid.StatesComputed == nil || sid.States["waiting-to-be-tested"] == 0 || sid.Waiting == 0 {
		t.Errorf("sid after a session = %+v, want computed states with waiting candidates", sid)
	}
	var held []string
	for _, r := range sid.Reservations {
		if r.Holder == "slave1" && !r.Expired {
			held = append(held, r.Package+" "+r.Version)
		}
	}
	if want := slices.Sorted(slices.Values(reserved)); !slices.Equal(held, want) {
		t.Errorf("status shows slave1 holding %q, want %q (by package)", held, want)
	}
	pkg := strings.Fields(reserved[0])[0]
	out.Reset()
	if err := run(ctx, []string{"-c", conf, "reservations", "release", pkg, "--section", "sid"}, nil, &out, &errOut, noEnv); err != nil {
		t.Fatalf("release %s: %v", pkg, err)
	}
	out.Reset()
	if err := run(ctx, []string{"-c", conf, "fsck"}, nil, &out, &errOut, noEnv); err != nil || strings.TrimSpace(out.String()) != "clean" {
		t.Errorf("fsck after release = %v:\n%s", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"-c", conf, "reservations"}, nil, &out, &errOut, noEnv); err != nil ||
		strings.Contains(out.String(), pkg+" ") || !strings.Contains(out.String(), strings.Fields(reserved[1])[0]+" ") {
		t.Errorf("reservations after releasing %s = %v:\n%s", pkg, err, out.String())
	}
}
