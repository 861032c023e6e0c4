package store_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"piuparts-server/store"
)

// findingLines formats findings as "PROBLEM PATH repaired?" lines.
func findingLines(fs []store.Finding) []string {
	var out []string
	for _, f := range fs {
		line := string(f.Problem) + " " + f.Path
		if f.Repaired {
			line += " ok"
		}
		out = append(out, line)
	}
	return out
}

func TestDB_CheckSection(t *testing.T) {
	ctx := t.Context()
	root := debianTree(t)
	tree := store.NewLogTree(root)
	db := openDB(t)
	if _, err := db.ImportSection(ctx, tree, "sid", time.Hour); err != nil {
		t.Fatal(err)
	}
	now := t0.Add(3 * time.Hour)
	found, err := db.CheckSection(ctx, tree, "sid", now, false)
	if err != nil {
		t.Fatalf("CheckSection: %v", err)
	}
	// Right after an import only what it skipped remains.
	want := []string{"unsafe-file sid/pass/evil_1.0.log", "unsafe-file sid/pass/no-version.log"}
	if got := findingLines(found); !reflect.DeepEqual(got, want) {
		t.Errorf("CheckSection after import = %q, want %q", got, want)
	}

	// Break things.
	os.Remove(filepath.Join(root, "sid", "pass", "hello_2.10-3.log"))
	pieceOfTree(t, root, map[string]string{
		"sid/untestable/zsh_5.9-4.log":   "new log\n",
		"sid/fail/bash_5.2.15-2+b13.log": "bash log, edited\n",
		"sid/pass/.incoming-123":         "half a log",
		"sid/fail/.incoming-456":         "being written",
	})
	young := now.Add(-time.Minute)
	os.Chtimes(filepath.Join(root, "sid", "fail", ".incoming-456"), young, young)
	// The row goes, the marker stays (this DB has no tree).
	if _, err := db.DropReservation(ctx, "sid", "libc6", "2.36-9"); err != nil {
		t.Fatal(err)
	}
	mustReserveIn := func(pkg, version string) {
		t.Helper()
		if err := db.ReplacePackages(ctx, "sid", store.Fingerprint{}, now, []store.Package{{Name: pkg, Version: version}}); err != nil {
			t.Fatal(err)
		}
		if err := db.SetStates(ctx, "sid", "x", false, now, []store.PackageState{{Package: pkg, Version: version, State: store.StateWaitingToBeTested, Rank: 1}}); err != nil {
			t.Fatal(err)
		}
		if _, ok, err := db.ReserveNext(ctx, "sid", "s1", now, time.Hour, 0, 0); err != nil || !ok {
			t.Fatalf("ReserveNext(%s) = %v, %v", pkg, ok, err)
		}
	}
	mustReserveIn("vim", "2:9.0.1378-2")

	wantBefore := []string{
		"leftover-temp-file sid/fail/.incoming-456 ok",
		"size-or-sha256-differ sid/fail/bash_5.2.15-2+b13.log",
		"leftover-temp-file sid/pass/.incoming-123",
		"unsafe-file sid/pass/evil_1.0.log",
		"index-without-file sid/pass/hello_2.10-3.log",
		"unsafe-file sid/pass/no-version.log",
		"marker-without-reservation sid/reserved/libc6_2.36-9.log",
		"reservation-without-marker sid/reserved/vim_2:9.0.1378-2.log",
		"file-without-index sid/untestable/zsh_5.9-4.log",
	}
	found, err = db.CheckSection(ctx, tree, "sid", now, false)
	if got := findingLines(found); err != nil || !reflect.DeepEqual(got, wantBefore) {
		t.Errorf("CheckSection = %q, %v\nwant %q", got, err, wantBefore)
	}
	// Without repair nothing changed.
	if _, err := os.Stat(filepath.Join(root, "sid", "pass", ".incoming-123")); err != nil {
		t.Errorf("check without repair removed a temp file: %v", err)
	}

	found, err = db.CheckSection(ctx, tree, "sid", now, true)
	wantRepair := []string{
		"leftover-temp-file sid/fail/.incoming-456 ok",
		"size-or-sha256-differ sid/fail/bash_5.2.15-2+b13.log",
		"leftover-temp-file sid/pass/.incoming-123 ok",
		"unsafe-file sid/pass/evil_1.0.log",
		"index-without-file sid/pass/hello_2.10-3.log ok",
		"unsafe-file sid/pass/no-version.log",
		"marker-without-reservation sid/reserved/libc6_2.36-9.log",
		"reservation-without-marker sid/reserved/vim_2:9.0.1378-2.log",
		"file-without-index sid/untestable/zsh_5.9-4.log ok",
	}
	if got := findingLines(found); err != nil || !reflect.DeepEqual(got, wantRepair) {
		t.Errorf("CheckSection(repair) = %q, %v\nwant %q", got, err, wantRepair)
	}
	if _, err := os.Stat(filepath.Join(root, "sid", "pass", ".incoming-123")); err == nil {
		t.Errorf("repair left the stale temp file")
	}
	if logs, err := db.Logs(ctx, "sid", store.KindUntestable); err != nil || len(logs) != 1 || logs[0].Package != "zsh" {
		t.Errorf("Logs(untestable) after repair = %+v, %v, want zsh", logs, err)
	}

	found, err = db.CheckSection(ctx, tree, "sid", now, false)
	wantAfter := []string{
		"leftover-temp-file sid/fail/.incoming-456 ok",
		"size-or-sha256-differ sid/fail/bash_5.2.15-2+b13.log",
		"unsafe-file sid/pass/evil_1.0.log",
		"unsafe-file sid/pass/no-version.log",
		"marker-without-reservation sid/reserved/libc6_2.36-9.log",
		"reservation-without-marker sid/reserved/vim_2:9.0.1378-2.log",
	}
	if got := findingLines(found); err != nil || !reflect.DeepEqual(got, wantAfter) {
		t.Errorf("CheckSection after repair = %q, %v\nwant %q", got, err, wantAfter)
	}
}
