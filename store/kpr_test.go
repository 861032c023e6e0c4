package store_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"piuparts-server/store"
)

func TestLogTree_KPR(t *testing.T) {
	root := t.TempDir()
	tree := store.NewLogTree(root)
	if err := tree.EnsureSection("sid"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tree.ReadKPR("sid", store.KindFail, "foo", "1.0"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadKPR of a missing file = %v, want fs.ErrNotExist", err)
	}
	data := []byte("fail/foo_1.0.log dependency_error.conf\n")
	if err := tree.WriteKPR("sid", store.KindFail, "foo", "1.0", data); err != nil {
		t.Fatal(err)
	}
	if err := tree.WriteKPR("sid", store.KindFail, "foo", "1.0", data); err != nil {
		t.Fatalf("WriteKPR over an existing file: %v", err)
	}
	got, mtime, err := tree.ReadKPR("sid", store.KindFail, "foo", "1.0")
	if err != nil || string(got) != string(data) || mtime.IsZero() {
		t.Errorf("ReadKPR = %q, %v, %v", got, mtime, err)
	}
	if files := treeFiles(t, root); !reflect.DeepEqual(files, []string{"sid/fail/foo_1.0.kpr"}) {
		t.Errorf("tree after WriteKPR = %q, want only the .kpr", files)
	}
	// An empty .kpr (no known problem) replaces a longer one, and a
	// symbolic link in its place is replaced, not followed.
	if err := tree.WriteKPR("sid", store.KindFail, "foo", "1.0", nil); err != nil {
		t.Fatal(err)
	}
	if got, _, err := tree.ReadKPR("sid", store.KindFail, "foo", "1.0"); err != nil || len(got) != 0 {
		t.Errorf("ReadKPR after an empty WriteKPR = %q, %v", got, err)
	}
	target := filepath.Join(root, "target")
	if err := os.WriteFile(target, data, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "sid", "fail", "bar_2.kpr")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := tree.WriteKPR("sid", store.KindFail, "bar", "2", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(target); err != nil || string(got) != string(data) {
		t.Errorf("the link's target after WriteKPR = %q, %v; want it untouched", got, err)
	}
	if fi, err := os.Lstat(link); err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 {
		t.Errorf("bar_2.kpr after WriteKPR over a link: %v, %v; want an empty regular file", fi, err)
	}
	for _, p := range []string{target, link} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := tree.WriteKPR("sid", store.KindFail, "foo", "1.0", data); err != nil {
		t.Fatal(err)
	}
	if err := tree.WriteKPR("sid", store.KindFail, "../x", "1", data); !errors.Is(err, store.ErrUnsafeName) {
		t.Errorf("WriteKPR(../x) = %v, want ErrUnsafeName", err)
	}
	if err := tree.WriteKPR("nosuch", store.KindFail, "foo", "1", data); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteKPR in a missing section = %v, want fs.ErrNotExist", err)
	}

	kprs, err := tree.ListKPRs("sid", store.KPRKinds()...)
	if err != nil || len(kprs) != 1 || kprs[0].Package != "foo" || kprs[0].Version != "1.0" || kprs[0].Kind != store.KindFail {
		t.Errorf("ListKPRs = %+v, %v", kprs, err)
	}
	if err := tree.RemoveKPR("sid", store.KindFail, "foo", "1.0"); err != nil {
		t.Fatal(err)
	}
	if err := tree.RemoveKPR("sid", store.KindFail, "foo", "1.0"); err != nil {
		t.Errorf("RemoveKPR of a missing file: %v", err)
	}
	if kprs, _ := tree.ListKPRs("sid", store.KPRKinds()...); len(kprs) != 0 {
		t.Errorf("ListKPRs after RemoveKPR = %+v", kprs)
	}

	if _, ok, err := tree.ReadBug("sid", store.KindBugged, "foo", "1.0"); ok || err != nil {
		t.Errorf("ReadBug of a missing file = %v, %v", ok, err)
	}
	bug := `<a href="https://bugs.debian.org/1">#1</a>` + "\n"
	if err := os.WriteFile(filepath.Join(root, "sid/bugged/foo_1.0.bug"), []byte(bug), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, ok, err := tree.ReadBug("sid", store.KindBugged, "foo", "1.0"); !ok || err != nil || string(b) != bug {
		t.Errorf("ReadBug = %q, %v, %v", b, ok, err)
	}
}

func TestStaleKPRs(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	e := func(k store.Kind, pkg string, at time.Time) store.TreeEntry {
		return store.TreeEntry{Kind: k, Package: pkg, Version: "1", ModTime: at}
	}
	logs := []store.TreeEntry{
		e(store.KindPass, "fresh", t0),
		e(store.KindPass, "newer", t0.Add(time.Second)),
		e(store.KindPass, "same", t0),
		e(store.KindFail, "moved", t0),
		e(store.KindPass, "twice", t0), e(store.KindFail, "twice", t0),
		// 1 ns apart: equal as Python's float seconds.
		e(store.KindPass, "ns", t0.Add(1)),
	}
	kprs := []store.TreeEntry{
		e(store.KindPass, "fresh", t0.Add(time.Second)),
		e(store.KindPass, "newer", t0),
		e(store.KindPass, "same", t0),
		e(store.KindPass, "moved", t0),
		e(store.KindPass, "gone", t0),
		e(store.KindFail, "twice", t0),
		e(store.KindPass, "ns", t0),
	}
	var got []string
	for _, s := range store.StaleKPRs(logs, kprs) {
		got = append(got, string(s.Kind)+"/"+s.Package)
	}
	sort.Strings(got)
	if want := []string{"pass/gone", "pass/moved", "pass/newer"}; !reflect.DeepEqual(got, want) {
		t.Errorf("StaleKPRs = %q, want %q", got, want)
	}
}
