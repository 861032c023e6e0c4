package store_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"piuparts-server/store"
)

func TestReportVerbs(t *testing.T) {
	ctx := t.Context()
	db, dir := openMaster(t)
	submit := func(kind store.Kind, pkg, version, by string, at time.Time) {
		t.Helper()
		if _, err := db.Submit(ctx, store.Incoming{Section: "sid", Result: kind, Package: pkg, Version: version,
			By: by, At: at}, strings.NewReader("log of "+pkg+"\n")); err != nil {
			t.Fatalf("Submit(%s %s): %v", pkg, version, err)
		}
	}
	submit(store.KindPass, "hello", "2.10-3", "slave1", t0)
	submit(store.KindFail, "bash", "5.2.15-2+b13", "slave2", t0.Add(time.Hour))
	submit(store.KindPass, "gone", "1.0", "", t0.Add(2*time.Hour))

	t.Run("SectionSubmissions", func(t *testing.T) {
		ss, err := db.SectionSubmissions(ctx, "sid")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range ss {
			got = append(got, s.Package+"/"+s.By)
		}
		if want := "hello/slave1 bash/slave2 gone/"; strings.Join(got, " ") != want {
			t.Errorf("SectionSubmissions = %q, want %q", got, want)
		}
	})
	t.Run("ListLogsAndKPRs", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "sid", "pass", "not-a-log.txt"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := db.Tree().WriteKPR("sid", store.KindPass, "hello", "2.10-3", nil); err != nil {
			t.Fatal(err)
		}
		logs, kprs, err := db.Tree().ListLogsAndKPRs("sid", store.KindPass, store.KindFail)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range logs {
			got = append(got, string(l.Kind)+"/"+l.Package+"_"+l.Version)
		}
		if want := "pass/gone_1.0 pass/hello_2.10-3 fail/bash_5.2.15-2+b13"; strings.Join(got, " ") != want {
			t.Errorf("logs = %q, want %q", got, want)
		}
		if len(kprs) != 1 || kprs[0].Package != "hello" || kprs[0].ModTime.IsZero() {
			t.Errorf("kprs = %+v, want hello's", kprs)
		}
	})
	t.Run("LinkLog", func(t *testing.T) {
		out := t.TempDir()
		dst := filepath.Join(out, "hello_2.10-3.log")
		made, err := db.Tree().LinkLog("sid", store.KindPass, "hello_2.10-3.log", dst)
		if err != nil || !made {
			t.Fatalf("LinkLog = %v, %v, want made", made, err)
		}
		a, _ := os.Stat(filepath.Join(dir, "sid", "pass", "hello_2.10-3.log"))
		b, _ := os.Stat(dst)
		if !os.SameFile(a, b) {
			t.Errorf("LinkLog made a copy on the same file system, want a hard link")
		}
		if made, err := db.Tree().LinkLog("sid", store.KindPass, "hello_2.10-3.log", dst); err != nil || made {
			t.Errorf("second LinkLog = %v, %v, want nothing done", made, err)
		}
		if _, err := db.Tree().LinkLog("sid", store.KindPass, "../x_1.log", dst); err == nil {
			t.Errorf("LinkLog of an unsafe name succeeded")
		}
	})
	t.Run("ArchiveLog", func(t *testing.T) {
		if err := db.ArchiveLog(ctx, "sid", store.KindPass, "gone", "1.0"); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "sid", "archive", "pass", "gone_1.0.log")); err != nil {
			t.Errorf("archived log not in archive/pass: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "sid", "pass", "gone_1.0.log")); !os.IsNotExist(err) {
			t.Errorf("archived log still in pass/: %v", err)
		}
		names, err := db.LogNames(ctx, "sid", store.KindPass)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if n == "gone_1.0.log" {
				t.Errorf("archived log still indexed")
			}
		}
		// Gone already: not an error.
		if err := db.ArchiveLog(ctx, "sid", store.KindPass, "gone", "1.0"); err != nil {
			t.Errorf("ArchiveLog of a gone log: %v", err)
		}
	})
}
