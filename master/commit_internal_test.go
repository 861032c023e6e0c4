package master

import (
	"path/filepath"
	"strings"
	"testing"

	"piuparts-server/store"
)

// TestTakeGroup: a group holds the logs of the first one's section, each
// package version once; the others wait for the next group, in order.
func TestTakeGroup(t *testing.T) {
	db, err := store.OpenMaster(t.Context(), t.TempDir(), "master.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	req := func(section, pkg, version string) *commitReq {
		t.Helper()
		for _, s := range []string{"sid", "up"} {
			if err := db.Tree().EnsureSection(s); err != nil {
				t.Fatal(err)
			}
		}
		p, err := db.Receive(t.Context(), store.Incoming{Section: section, Result: store.KindPass, Package: pkg, Version: version}, strings.NewReader("log\n"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Discard)
		return &commitReq{p: p}
	}
	queue := []*commitReq{
		req("sid", "a", "1"), req("up", "b", "1"), req("sid", "a", "1"), req("sid", "c", "1"), req("sid", "a", "2"),
	}
	names := func(rs []*commitReq) string {
		var out []string
		for _, r := range rs {
			in := r.p.Incoming()
			out = append(out, filepath.Join(in.Section, in.Package+"_"+in.Version))
		}
		return strings.Join(out, " ")
	}
	group, rest := takeGroup(queue)
	if g, want := names(group), "sid/a_1 sid/c_1 sid/a_2"; g != want {
		t.Errorf("group %q, want %q", g, want)
	}
	if r, want := names(rest), "up/b_1 sid/a_1"; r != want {
		t.Errorf("rest %q, want %q", r, want)
	}
	group, rest = takeGroup(rest)
	if g, r := names(group), names(rest); g != "up/b_1" || r != "sid/a_1" {
		t.Errorf("second group %q, rest %q", g, r)
	}
}
