package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var submitAt = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// openMasterDir opens a store on a new master directory with section sid.
func openMasterDir(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := OpenMaster(t.Context(), dir, "master.db")
	if err != nil {
		t.Fatalf("OpenMaster: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Tree().EnsureSection("sid"); err != nil {
		t.Fatal(err)
	}
	return db
}

// submissionLines counts the lines of sid/submissions.txt for a result.
func submissionLines(t *testing.T, dir, result, pkg, version string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "sid", "submissions.txt"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasSuffix(l, " "+result+" "+pkg+" "+version) {
			n++
		}
	}
	return n
}

var errCrash = errors.New("crash")

// TestSubmit_CrashBetweenSteps stops a submission between every two of its
// durable steps, as a SIGKILL of the master would, then sends the same log
// again, as the slave does when it got no ok: the log is acknowledged once,
// submissions.txt has one line for it, the index and the tree agree, and
// until the resend the previous acknowledged state is whole.
func TestSubmit_CrashBetweenSteps(t *testing.T) {
	steps := []string{"written", "linked", "replaced", "unmarked", "indexed", "appended"}
	for _, retest := range []bool{false, true} {
		for _, step := range steps {
			if !retest && (step == "replaced" || step == "unmarked") {
				continue // no older log, no marker: these steps do not happen
			}
			t.Run(fmt.Sprintf("retest=%t/%s", retest, step), func(t *testing.T) {
				ctx := t.Context()
				dir := t.TempDir()
				db := openMasterDir(t, dir)
				in := Incoming{Section: "sid", Result: KindPass, Package: "hello", Version: "2.10-3", By: "s1", At: submitAt}
				oldLog := []byte("old acknowledged log\n")
				if retest {
					// An acknowledged fail log of the version, which is
					// reserved again for a retest (recycle).
					if _, err := db.Submit(ctx, Incoming{Section: "sid", Result: KindFail, Package: "hello", Version: "2.10-3", At: submitAt.Add(-time.Hour)}, bytes.NewReader(oldLog)); err != nil {
						t.Fatal(err)
					}
					if err := db.Tree().CreateMarker("sid", KindReserved, "hello", "2.10-3"); err != nil {
						t.Fatal(err)
					}
				}
				newLog := []byte("new log\n.\n \n")
				db.stepHook = func(s string) error {
					if s == step {
						return errCrash
					}
					return nil
				}
				if _, err := db.Submit(ctx, in, bytes.NewReader(newLog)); !errors.Is(err, errCrash) {
					t.Fatalf("Submit with a crash at %s = %v", step, err)
				}
				db.stepHook = nil
				// What was acknowledged before is whole: the old log, or
				// the new one in its place once it was durable.
				tree := db.Tree()
				if retest && !tree.LogExists("sid", KindFail, "hello", "2.10-3") && !tree.LogExists("sid", KindPass, "hello", "2.10-3") {
					t.Fatalf("crash at %s: neither the old nor the new log is there", step)
				}
				// A restarted master writes what is pending, then the
				// slave sends the log again.
				if _, err := db.WriteSubmissions(ctx, "sid"); err != nil {
					t.Fatal(err)
				}
				if _, err := db.Submit(ctx, in, bytes.NewReader(newLog)); err != nil {
					t.Fatalf("resend after a crash at %s: %v", step, err)
				}
				got, err := os.ReadFile(filepath.Join(dir, "sid", "pass", "hello_2.10-3.log"))
				if err != nil || !bytes.Equal(got, newLog) {
					t.Fatalf("pass log after resend = %q, %v, want %q", got, err, newLog)
				}
				if n := submissionLines(t, dir, "pass", "hello", "2.10-3"); n != 1 {
					t.Errorf("crash at %s: submissions.txt has %d pass lines, want 1", step, n)
				}
				if retest {
					if tree.LogExists("sid", KindFail, "hello", "2.10-3") || tree.LogExists("sid", KindReserved, "hello", "2.10-3") {
						t.Errorf("crash at %s: old fail log or reserved marker left after the retest", step)
					}
				}
				found, err := db.CheckSection(ctx, tree, "sid", submitAt, false)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range found {
					t.Errorf("crash at %s: fsck: %s", step, f)
				}
			})
		}
	}
}

// TestSubmit_DiskFullKeepsOldLog resubmits a reserved, retested version on a
// file system that is full: the submission fails and the acknowledged log,
// its index row and the reserved/ marker stay.
func TestSubmit_DiskFullKeepsOldLog(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	ctx := t.Context()
	dir := filepath.Join(mnt, "master")
	dbDir := t.TempDir() // the database elsewhere: what fills up is the log tree
	db, err := OpenMaster(ctx, dir, filepath.Join(dbDir, "master.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Tree().EnsureSection("sid"); err != nil {
		t.Fatal(err)
	}
	old := bytes.Repeat([]byte("acknowledged pass log line\n"), 350) // ~9 KiB
	if _, err := db.Submit(ctx, Incoming{Section: "sid", Result: KindPass, Package: "hello", Version: "2.10-3", At: submitAt}, bytes.NewReader(old)); err != nil {
		t.Fatal(err)
	}
	if err := db.Tree().CreateMarker("sid", KindReserved, "hello", "2.10-3"); err != nil {
		t.Fatal(err)
	}
	// Fill the file system.
	fill, err := os.Create(filepath.Join(mnt, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if _, err := fill.Write(buf); err != nil {
			break
		}
	}
	fill.Close()
	_, err = db.Submit(ctx, Incoming{Section: "sid", Result: KindPass, Package: "hello", Version: "2.10-3", At: submitAt.Add(time.Hour)}, bytes.NewReader(old))
	if err == nil {
		t.Fatal("Submit on a full file system succeeded")
	}
	if errors.Is(err, ErrReadLog) {
		t.Fatalf("Submit = %v: a write failure reported as a read failure", err)
	}
	got, rerr := os.ReadFile(filepath.Join(dir, "sid", "pass", "hello_2.10-3.log"))
	if rerr != nil || !bytes.Equal(got, old) {
		t.Errorf("acknowledged log after a failed resubmission: %d bytes, %v; want it unchanged", len(got), rerr)
	}
	if !db.Tree().LogExists("sid", KindReserved, "hello", "2.10-3") {
		t.Errorf("reserved/ marker gone after a failed resubmission")
	}
	if ok, err := db.hasLog(ctx, "sid", KindPass, "hello", "2.10-3"); err != nil || !ok {
		t.Errorf("index lost the acknowledged log: %v, %v", ok, err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "sid", "pass"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestSubmit_ReadErrorStoresNothing: a log whose source fails is not
// stored, and the error says so.
func TestSubmit_ReadErrorStoresNothing(t *testing.T) {
	dir := t.TempDir()
	db := openMasterDir(t, dir)
	r := &failingReader{data: []byte("half a log\n")}
	_, err := db.Submit(t.Context(), Incoming{Section: "sid", Result: KindFail, Package: "hello", Version: "1", At: submitAt}, r)
	if !errors.Is(err, ErrReadLog) {
		t.Fatalf("Submit(failing reader) = %v, want ErrReadLog", err)
	}
	if db.Tree().LogExists("sid", KindFail, "hello", "1") {
		t.Errorf("half-received log stored")
	}
	if n := submissionLines(t, dir, "fail", "hello", "1"); n != 0 {
		t.Errorf("submissions.txt has %d lines for a log never stored", n)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "sid", "fail"))
	if len(ents) != 0 {
		t.Errorf("fail/ holds %d files after a failed read", len(ents))
	}
}

type failingReader struct{ data []byte }

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, errors.New("connection reset")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestWriteSubmissions_Concurrent: several masters writing the pending
// lines of one section at once write each line once.
func TestWriteSubmissions_Concurrent(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openMasterDir(t, dir)
	db.stepHook = func(s string) error {
		if s == "indexed" {
			return errCrash
		}
		return nil
	}
	for i := range 20 {
		in := Incoming{Section: "sid", Result: KindPass, Package: fmt.Sprintf("p%d", i), Version: "1", At: submitAt}
		if _, err := db.Submit(ctx, in, strings.NewReader("log\n")); !errors.Is(err, errCrash) {
			t.Fatal(err)
		}
	}
	db.stepHook = nil
	others := make([]*DB, 4)
	for i := range others {
		o, err := OpenMaster(ctx, dir, "master.db")
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		others[i] = o
	}
	errs := make(chan error, len(others))
	for _, o := range others {
		go func() { _, err := o.WriteSubmissions(ctx, "sid"); errs <- err }()
	}
	for range others {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		if n := submissionLines(t, dir, "pass", fmt.Sprintf("p%d", i), "1"); n != 1 {
			t.Errorf("p%d: %d lines, want 1", i, n)
		}
	}
}

// TestCommit_Group commits several logs in one group: new logs, a retest
// that replaces a fail log and its reserved/ marker, and a duplicate of an
// acknowledged log. Each is acknowledged as a lone Submit would be: under
// its name, indexed, one submissions.txt line, older log and marker gone,
// fsck clean; and a crash in any step of the group acknowledges none of
// them, while the resent group completes.
func TestCommit_Group(t *testing.T) {
	type sub struct {
		kind    Kind
		pkg     string
		log     string
		wantDup bool
	}
	subs := []sub{
		{KindPass, "hello", "hello passed\n", false},
		{KindFail, "zlib1g", "zlib failed\n", false},
		{KindPass, "retested", "now it passes\n", false},
		{KindPass, "already", "acknowledged before\n", true},
		{KindUntestable, "base-files", "cannot\n", false},
	}
	for _, crash := range []string{"", "written", "linked", "replaced", "unmarked", "indexed", "appended"} {
		t.Run("crash="+crash, func(t *testing.T) {
			ctx := t.Context()
			dir := t.TempDir()
			db := openMasterDir(t, dir)
			if _, err := db.Submit(ctx, Incoming{Section: "sid", Result: KindFail, Package: "retested", Version: "1.0", At: submitAt}, strings.NewReader("old fail\n")); err != nil {
				t.Fatal(err)
			}
			if err := db.Tree().CreateMarker("sid", KindReserved, "retested", "1.0"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Submit(ctx, Incoming{Section: "sid", Result: KindPass, Package: "already", Version: "1.0", At: submitAt}, strings.NewReader("acknowledged before\n")); err != nil {
				t.Fatal(err)
			}
			receive := func() []*Pending {
				var ps []*Pending
				for _, s := range subs {
					p, err := db.Receive(ctx, Incoming{Section: "sid", Result: s.kind, Package: s.pkg, Version: "1.0", By: "s1", At: submitAt.Add(time.Minute)}, strings.NewReader(s.log))
					if err != nil {
						t.Fatal(err)
					}
					ps = append(ps, p)
				}
				return ps
			}
			if crash != "" {
				db.stepHook = func(s string) error {
					if s == crash {
						return errCrash
					}
					return nil
				}
				for i, c := range db.Commit(ctx, receive()) {
					if !subs[i].wantDup && !errors.Is(c.Err, errCrash) {
						t.Errorf("Commit with a crash at %s: %s = %v, want the crash", crash, subs[i].pkg, c.Err)
					}
				}
				db.stepHook = nil
				if _, err := db.WriteSubmissions(ctx, "sid"); err != nil {
					t.Fatal(err)
				}
			}
			for i, c := range db.Commit(ctx, receive()) {
				s := subs[i]
				if c.Err != nil {
					t.Fatalf("Commit: %s: %v", s.pkg, c.Err)
				}
				if c.Duplicate != s.wantDup && crash == "" {
					t.Errorf("%s: Duplicate = %t, want %t", s.pkg, c.Duplicate, s.wantDup)
				}
				got, err := os.ReadFile(filepath.Join(dir, "sid", string(s.kind), s.pkg+"_1.0.log"))
				if err != nil || string(got) != s.log {
					t.Errorf("%s log = %q, %v, want %q", s.pkg, got, err, s.log)
				}
				if n := submissionLines(t, dir, string(s.kind), s.pkg, "1.0"); n != 1 {
					t.Errorf("%s: %d submissions.txt lines, want 1", s.pkg, n)
				}
			}
			tree := db.Tree()
			if tree.LogExists("sid", KindFail, "retested", "1.0") || tree.LogExists("sid", KindReserved, "retested", "1.0") {
				t.Error("the retest left the old fail log or the reserved/ marker")
			}
			found, err := db.CheckSection(ctx, tree, "sid", submitAt, false)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range found {
				t.Errorf("fsck: %s", f)
			}
			leftovers, _ := filepath.Glob(filepath.Join(dir, "sid", "*", tempPrefix+"*"))
			if len(leftovers) > 0 {
				t.Errorf("temporary files left: %q", leftovers)
			}
		})
	}
}
