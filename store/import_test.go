package store_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"piuparts-server/store"
)

// pieceOfTree writes files under root: path -> contents, with mtime t0.
func pieceOfTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, body := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, t0, t0); err != nil {
			t.Fatal(err)
		}
	}
}

// debianTree builds a piuparts master directory as Debian's master leaves
// it, with a few things an import must not trust.
func debianTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	pieceOfTree(t, root, map[string]string{
		"sid/pass/hello_2.10-3.log":               "hello log\n",
		"sid/pass/libgmp10_2:6.2.1+dfsg1-1.1.log": "gmp log\n",
		"sid/fail/bash_5.2.15-2+b13.log":          "bash log\n",
		"sid/bugged/dash_0.5.12-2.log":            "dash log\n",
		"sid/recycle/hello_2.10-2.log":            "",
		"sid/reserved/libc6_2.36-9.log":           "",
		"sid/pass/hello_2.10-3.kpr":               "known problems: ignored\n",
		"sid/pass/no-version.log":                 "not NAME_VERSION\n",
		"sid/submissions.txt": "1714560000 pass hello 2.10-3\n" +
			"1714560000 pass hello 2.10-3\n" + // the same second twice: kept twice
			"1714560001 fail bash 5.2.15-2+b13\n" +
			"garbage line\n" +
			"1714560002 reserved libc6 2.36-9\n" + // not a result
			"1714560003 pass libgmp10 2:6.2.1+dfsg1-1.1\n",
	})
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("outside the tree"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(root, "sid", "pass", "evil_1.0.log")); err != nil {
		t.Fatal(err)
	}
	return root
}

func hexSHA(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestDB_ImportSection(t *testing.T) {
	ctx := t.Context()
	root := debianTree(t)
	tree := store.NewLogTree(root)
	db := openDB(t)

	sum, err := db.ImportSection(ctx, tree, "sid", time.Hour)
	if err != nil {
		t.Fatalf("ImportSection: %v", err)
	}
	wantIndexed := map[store.Kind]int{store.KindPass: 2, store.KindFail: 1, store.KindBugged: 1, store.KindRecycle: 1}
	if !reflect.DeepEqual(sum.Indexed, wantIndexed) || sum.Unchanged != 0 || sum.Updated != 0 {
		t.Errorf("first import indexed %v (unchanged %d, updated %d), want %v", sum.Indexed, sum.Unchanged, sum.Updated, wantIndexed)
	}
	if sum.Reservations != 1 || sum.Submissions != 4 {
		t.Errorf("first import: %d reservations, %d submissions, want 1 and 4", sum.Reservations, sum.Submissions)
	}
	var skipped []string
	for _, s := range sum.Skipped {
		skipped = append(skipped, s.Path)
	}
	wantSkipped := []string{"sid/pass/evil_1.0.log", "sid/pass/no-version.log", "sid/submissions.txt:4", "sid/submissions.txt:5"}
	if !reflect.DeepEqual(skipped, wantSkipped) {
		t.Errorf("skipped %q, want %q", skipped, wantSkipped)
	}

	logs, err := db.Logs(ctx, "sid", store.KindPass)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.LogEntry{
		{Section: "sid", Kind: store.KindPass, Package: "hello", Version: "2.10-3", Path: "sid/pass/hello_2.10-3.log",
			Size: 10, SHA256: hexSHA("hello log\n"), SubmittedAt: t0},
		{Section: "sid", Kind: store.KindPass, Package: "libgmp10", Version: "2:6.2.1+dfsg1-1.1",
			Path: "sid/pass/libgmp10_2:6.2.1+dfsg1-1.1.log", Size: 8, SHA256: hexSHA("gmp log\n"), SubmittedAt: t0},
	}
	if !reflect.DeepEqual(logs, want) {
		t.Errorf("Logs(sid, pass) = %+v\nwant %+v", logs, want)
	}
	rs, err := db.Reservations(ctx, "sid")
	wantRes := []store.Reservation{{Section: "sid", Package: "libc6", Version: "2.36-9", Holder: store.ImportHolder,
		ReservedAt: t0, ExpiresAt: t0.Add(time.Hour)}}
	if err != nil || !reflect.DeepEqual(rs, wantRes) {
		t.Errorf("Reservations(sid) = %+v, %v, want %+v", rs, err, wantRes)
	}
	subs, err := db.Submissions(ctx, time.Time{})
	if err != nil || len(subs) != 4 || subs[0].Package != "hello" || subs[1].Package != "hello" ||
		subs[2].Result != store.KindFail || !subs[3].At.Equal(time.Unix(1714560003, 0)) {
		t.Errorf("Submissions = %+v, %v, want hello twice, bash failed, libgmp10", subs, err)
	}
	sec, err := db.Section(ctx, "sid")
	if err != nil {
		t.Fatal(err)
	}

	// Again: nothing changes.
	again, err := db.ImportSection(ctx, tree, "sid", time.Hour)
	if err != nil {
		t.Fatalf("second ImportSection: %v", err)
	}
	if len(again.Indexed) != 0 || again.Unchanged != 5 || again.Reservations != 0 || again.ReservationsKept != 1 ||
		again.Submissions != 0 || again.SubmissionsKept != 4 {
		t.Errorf("second import = %+v, want everything kept", again)
	}
	if s2, _ := db.Section(ctx, "sid"); s2.Generation != sec.Generation {
		t.Errorf("second import bumped the generation %d -> %d", sec.Generation, s2.Generation)
	}
	if subs2, _ := db.Submissions(ctx, time.Time{}); len(subs2) != 4 {
		t.Errorf("second import: %d submissions, want 4", len(subs2))
	}

	// A changed log is taken anew; a new submission line is added.
	pieceOfTree(t, root, map[string]string{"sid/pass/hello_2.10-3.log": "hello log, longer\n"})
	f, err := os.OpenFile(filepath.Join(root, "sid", "submissions.txt"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("1714560009 untestable dash 0.5.12-2\n")
	f.Close()
	third, err := db.ImportSection(ctx, tree, "sid", time.Hour)
	if err != nil || third.Updated != 1 || third.Submissions != 1 || third.SubmissionsKept != 4 {
		t.Errorf("third import = %+v, %v, want 1 updated log and 1 new submission", third, err)
	}

	if _, err := db.ImportSection(ctx, tree, "../etc", time.Hour); err == nil || !strings.Contains(err.Error(), "unsafe") {
		t.Errorf("ImportSection(../etc) = %v, want an unsafe name error", err)
	}
}

func TestParseSubmission(t *testing.T) {
	tests := []struct {
		line string
		want store.Submission
		ok   bool
	}{
		{"1714560000 pass hello 2.10-3", store.Submission{At: time.Unix(1714560000, 0).UTC(), Result: store.KindPass, Package: "hello", Version: "2.10-3"}, true},
		{"1714560000 untestable libgmp10 2:6.2.1+dfsg1-1.1", store.Submission{At: time.Unix(1714560000, 0).UTC(), Result: store.KindUntestable, Package: "libgmp10", Version: "2:6.2.1+dfsg1-1.1"}, true},
		{"1714560000 recycle hello 2.10-3", store.Submission{}, false},
		{"x pass hello 2.10-3", store.Submission{}, false},
		{"-1 pass hello 2.10-3", store.Submission{}, false},
		{"1714560000 pass ../x 1", store.Submission{}, false},
		{"1714560000 pass hello", store.Submission{}, false},
		{"", store.Submission{}, false},
	}
	for _, tt := range tests {
		got, ok := store.ParseSubmission(tt.line)
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseSubmission(%q) = %+v, %v, want %+v, %v", tt.line, got, ok, tt.want, tt.ok)
		}
	}
}

func FuzzParseSubmission(f *testing.F) {
	f.Add("1714560000 pass hello 2.10-3")
	f.Add("1714560003 pass libgmp10 2:6.2.1+dfsg1-1.1")
	f.Add("garbage line")
	f.Fuzz(func(t *testing.T, line string) {
		s, ok := store.ParseSubmission(line)
		if !ok {
			return
		}
		// What parses is what AppendSubmission would have written.
		root := t.TempDir()
		tree := store.NewLogTree(root)
		if err := tree.AppendSubmission("sid", s.At.Unix(), s.Result, s.Package, s.Version); err != nil {
			t.Fatalf("AppendSubmission(%+v): %v", s, err)
		}
		b, err := os.ReadFile(filepath.Join(root, "sid", "submissions.txt"))
		if err != nil {
			t.Fatal(err)
		}
		again, ok := store.ParseSubmission(strings.TrimSuffix(string(b), "\n"))
		if !ok || again != s {
			t.Errorf("ParseSubmission(%q) = %+v, %v after a round trip, want %+v", b, again, ok, s)
		}
	})
}
