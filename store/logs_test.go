package store_test

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"piuparts-server/internal/piuparts"
	"piuparts-server/store"
)

func TestDB_AddLog(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	loadSection(t, db, "sid", bookwormPackages(), store.StateWaitingToBeTested)
	res := mustReserve(t, db, "slave1", t0, []string{"libgmp10"})

	e := store.LogEntry{Section: "sid", Kind: store.KindPass, Package: res.Package, Version: res.Version,
		Path: "sid/pass/libgmp10_2:6.2.1+dfsg1-1.1.log", Size: 42, SHA256: "00ff",
		SubmittedAt: t0.Add(time.Minute), SubmittedBy: "slave1"}
	if err := db.AddLog(ctx, e); err != nil {
		t.Fatalf("AddLog: %v", err)
	}
	if got, err := db.Logs(ctx, "sid", store.KindPass); err != nil || !reflect.DeepEqual(got, []store.LogEntry{e}) {
		t.Errorf("Logs(sid, pass) = %+v, %v, want %+v", got, err, e)
	}
	// Indexing a file is not a submission (DB.Submit records those) and
	// leaves the reservation alone.
	if got, err := db.Submissions(ctx, time.Time{}); err != nil || len(got) != 0 {
		t.Errorf("Submissions after AddLog = %+v, %v, want none", got, err)
	}
	stored := res
	stored.Rank = 0
	if rs, err := db.Reservations(ctx, "sid"); err != nil || !reflect.DeepEqual(rs, []store.Reservation{stored}) {
		t.Errorf("Reservations after AddLog = %+v, %v, want still %+v", rs, err, stored)
	}
	if s, _ := db.Section(ctx, "sid"); s.Generation != 2 {
		t.Errorf("Generation after ReplacePackages and AddLog = %d, want 2", s.Generation)
	}
	// Once the reservation is gone, the tested version is not handed out
	// again, even before the states are computed anew.
	if _, err := db.DropReservation(ctx, "sid", res.Package, res.Version); err != nil {
		t.Fatal(err)
	}
	if res, ok, err := db.ReserveNext(ctx, "sid", "slave2", t0, time.Hour, 0, 0); err != nil || ok {
		t.Errorf("ReserveNext(libgmp10) after its log = %+v, %v, %v, want nothing", res, ok, err)
	}

	// A duplicate is reported and changes nothing.
	dup := e
	dup.Size, dup.SubmittedBy = 99, "slave2"
	if err := db.AddLog(ctx, dup); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("AddLog(duplicate) = %v, want ErrDuplicate", err)
	}
	if got, _ := db.Logs(ctx, "sid", store.KindPass); !reflect.DeepEqual(got, []store.LogEntry{e}) {
		t.Errorf("Logs after duplicate = %+v, want only the first %+v", got, e)
	}
	if s, _ := db.Section(ctx, "sid"); s.Generation != 2 {
		t.Errorf("Generation after duplicate = %d, want 2", s.Generation)
	}

	// The same version may have logs of other kinds.
	if err := db.AddLog(ctx, store.LogEntry{Section: "sid", Kind: store.KindRecycle, Package: res.Package,
		Version: res.Version, Path: "sid/recycle/libgmp10_2:6.2.1+dfsg1-1.1.log", SubmittedAt: t0}); err != nil {
		t.Errorf("AddLog(recycle marker) = %v", err)
	}
	if got, _ := db.Submissions(ctx, time.Time{}); len(got) != 0 {
		t.Errorf("Submissions after a recycle marker = %+v, want none: markers are not submissions", got)
	}
}

func TestDB_AddLog_Invalid(t *testing.T) {
	valid := store.LogEntry{Section: "sid", Kind: store.KindFail, Package: "hello", Version: "2.10-3", SubmittedAt: t0}
	tests := []struct {
		name    string
		edit    func(e *store.LogEntry)
		wantErr error
	}{
		{"UnknownKind", func(e *store.LogEntry) { e.Kind = "passed" }, store.ErrUnknownKind},
		{"SlashInPackage", func(e *store.LogEntry) { e.Package = "../hello" }, store.ErrUnsafeName},
		{"EmptyVersion", func(e *store.LogEntry) { e.Version = "" }, store.ErrUnsafeName},
		{"UnsafeSection", func(e *store.LogEntry) { e.Section = "s/id" }, store.ErrUnsafeName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t)
			e := valid
			tt.edit(&e)
			if err := db.AddLog(t.Context(), e); !errors.Is(err, tt.wantErr) {
				t.Errorf("AddLog(%+v) = %v, want %v", e, err, tt.wantErr)
			}
		})
	}
}

func TestDB_RemoveLog(t *testing.T) {
	ctx := t.Context()
	db, _ := openMaster(t)
	submitLog(t, db, store.KindFail, "hello", "2.10-3", t0)
	submitLog(t, db, store.KindFail, "bash", "5.2.15-2+b13", t0)
	if ok, err := db.RemoveLog(ctx, "sid", store.KindFail, "hello", "2.10-3"); err != nil || !ok {
		t.Errorf("RemoveLog(hello) = %v, %v, want true", ok, err)
	}
	if ok, err := db.RemoveLog(ctx, "sid", store.KindFail, "hello", "2.10-3"); err != nil || ok {
		t.Errorf("second RemoveLog(hello) = %v, %v, want false", ok, err)
	}
	if ok, err := db.RemoveLog(ctx, "nosuchsection", store.KindFail, "hello", "2.10-3"); err != nil || ok {
		t.Errorf("RemoveLog(unknown section) = %v, %v, want false", ok, err)
	}
	got, err := db.Logs(ctx, "sid", store.KindFail)
	if err != nil || len(got) != 1 || got[0].Package != "bash" {
		t.Errorf("Logs(sid, fail) = %+v, %v, want only bash", got, err)
	}
	if s, _ := db.Section(ctx, "sid"); s.Generation != 3 {
		t.Errorf("Generation after two Submit and one RemoveLog = %d, want 3", s.Generation)
	}
	// The submission history keeps what was submitted.
	if subs, _ := db.Submissions(ctx, time.Time{}); len(subs) != 2 {
		t.Errorf("Submissions = %+v, want both", subs)
	}
}

func TestDB_Submissions_Since(t *testing.T) {
	ctx := t.Context()
	db, _ := openMaster(t)
	for i, name := range []string{"a", "b", "c"} {
		submitLog(t, db, store.KindUntestable, name, "1", t0.Add(time.Duration(i)*time.Hour))
	}
	got, err := db.Submissions(ctx, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Submission{
		{At: t0.Add(time.Hour), Section: "sid", Result: store.KindUntestable, Package: "b", Version: "1"},
		{At: t0.Add(2 * time.Hour), Section: "sid", Result: store.KindUntestable, Package: "c", Version: "1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Submissions(since t0+1h) = %+v, want %+v", got, want)
	}
}

// submitLog submits a log of sid as a slave does, through DB.Submit.
func submitLog(t *testing.T, db *store.DB, kind store.Kind, pkg, version string, at time.Time) {
	t.Helper()
	if _, err := db.Submit(t.Context(), store.Incoming{Section: "sid", Result: kind, Package: pkg, Version: version,
		By: "slave1", At: at}, strings.NewReader("log of "+pkg+"\n")); err != nil {
		t.Fatalf("Submit(%s %s %s): %v", kind, pkg, version, err)
	}
}

func TestDB_LogNames(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	loadSection(t, db, "sid", bookwormPackages(), store.StateWaitingToBeTested)
	if got, err := db.LogNames(ctx, "sid", store.KindPass); err != nil || len(got) != 0 {
		t.Errorf("LogNames(sid, pass) of an empty index = %q, %v, want none", got, err)
	}
	for _, e := range []store.LogEntry{
		{Kind: store.KindPass, Package: "libgmp10", Version: "2:6.2.1+dfsg1-1.1"},
		{Kind: store.KindPass, Package: "hello", Version: "2.10-3"},
		{Kind: store.KindFail, Package: "bash", Version: "5.2.15-2+b2"},
	} {
		e.Section, e.Path, e.SubmittedAt = "sid", "sid/"+string(e.Kind)+"/"+piuparts.LogName(e.Package, e.Version), t0
		if err := db.AddLog(ctx, e); err != nil {
			t.Fatalf("AddLog: %v", err)
		}
	}
	tests := []struct {
		section string
		kind    store.Kind
		want    []string
	}{
		{"sid", store.KindPass, []string{"hello_2.10-3.log", "libgmp10_2:6.2.1+dfsg1-1.1.log"}},
		{"sid", store.KindFail, []string{"bash_5.2.15-2+b2.log"}},
		{"sid", store.KindRecycle, nil},
		{"no-such-section", store.KindPass, nil},
	}
	for _, tt := range tests {
		got, err := db.LogNames(ctx, tt.section, tt.kind)
		slices.Sort(got)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("LogNames(%s, %s) = %q, %v, want %q", tt.section, tt.kind, got, err, tt.want)
		}
	}
}
