package master_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"piuparts-server/master"
)

// liveConfig is a connection's config in a long-lived process: a live
// cache and a running committer shared by its connections.
func liveConfig(t *testing.T, e *env) func(holder string) master.Config {
	t.Helper()
	base := e.config("")
	cache := &master.Cache{Piuparts: base.Piuparts, DB: base.DB, Log: base.Log, Now: base.Now, Live: true}
	cm := master.NewCommitter(base.DB, cache)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		cm.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return func(holder string) master.Config {
		cfg := e.config(holder)
		cfg.Cache, cfg.Committer = cache, cm
		return cfg
	}
}

// listed are the states whose lists the tests compare.
var listed = []string{"successfully-tested", "failed-testing", "waiting-to-be-tested",
	"waiting-for-dependency-to-be-tested", "dependency-failed-testing", "cannot-be-tested"}

// answers asks a section's status and its lists of every state.
func answers(t *testing.T, s *session, section string) []string {
	t.Helper()
	out := []string{s.do("section " + section).String(), s.do("status").String()}
	for _, st := range listed {
		out = append(out, s.do("_list "+st).String())
	}
	return out
}

// TestLive_EqualsFresh submits logs through a live cache, and moves and
// marks files by hand as Debian's scripts and operators do: after each
// step the live cache's status and lists equal those of a connection
// that computes the states on its own, from the tree.
func TestLive_EqualsFresh(t *testing.T) {
	e := newEnv(t)
	live := liveConfig(t, e)
	// The answers of a computation from the tree, in memory.
	fresh := func() []string {
		c := &master.Cache{Piuparts: e.pc, DB: e.db, Log: e.config("").Log}
		res, err := c.Result(t.Context(), "sid", false)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{"ok"}
		status, total := []string{"ok"}, 0
		for _, sc := range res.Status() {
			status = append(status, fmt.Sprintf("%s=%d", sc.State, sc.Count))
			total += sc.Count
		}
		out = append(out, strings.Join(append(status, fmt.Sprintf("total=%d", total)), " "))
		for _, st := range listed {
			names, _ := res.InState(st)
			out = append(out, strings.Join(append([]string{"ok"}, names...), " "))
		}
		return out
	}
	check := func(step string) {
		t.Helper()
		s := e.startConfig(live("check"))
		got := answers(t, s, "sid")
		s.end()
		want := fresh()
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("after %s: live cache answers %q, a fresh computation %q", step, got[i], want[i])
			}
		}
	}
	check("nothing")
	var tested []string
	for round := range 3 {
		s := e.startConfig(live("slave"))
		s.do("section sid")
		for range 4 {
			r := s.do("reserve")
			if !r.OK() || len(r.Args) != 2 {
				t.Fatalf("round %d: reserve = %v", round, r)
			}
			kind := "pass"
			if len(tested)%3 == 2 {
				kind = "fail"
			}
			if a := s.submit(kind, r.Args[0], r.Args[1], "log\n"); !a.OK() {
				t.Fatalf("%s %s: %v", kind, r.Args[0], a)
			}
			tested = append(tested, kind+"/"+r.Args[0]+"_"+r.Args[1])
		}
		s.end()
		check("submissions")
	}
	// An operator moves a pass log to fail/, as Debian's scripts do.
	for _, l := range tested {
		if strings.HasPrefix(l, "pass/") {
			name := strings.TrimPrefix(l, "pass/") + ".log"
			if err := os.Rename(filepath.Join(e.dir, "sid", "pass", name), filepath.Join(e.dir, "sid", "fail", name)); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	check("a log moved by hand")
	// A recycle/ marker for a failed package, made by hand.
	for _, l := range tested {
		if strings.HasPrefix(l, "fail/") {
			if err := os.WriteFile(filepath.Join(e.dir, "sid", "recycle", strings.TrimPrefix(l, "fail/")+".log"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	check("a recycle marker")
	// A log removed by hand.
	if err := os.Remove(filepath.Join(e.dir, "sid", tested[len(tested)-1]+".log")); err != nil {
		t.Fatal(err)
	}
	check("a log removed by hand")

	// A slave that reserves right after the logs that made packages
	// ready gets every one of them, not "nothing to reserve".
	s := e.startConfig(live("slave"))
	s.do("section sid")
	r := s.do("reserve")
	for r.OK() {
		if a := s.submit("pass", r.Args[0], r.Args[1], "log\n"); !a.OK() {
			t.Fatalf("pass %s: %v", r.Args[0], a)
		}
		r = s.do("reserve")
	}
	s.end()
	s = e.startConfig(live("slave"))
	s.do("section sid")
	var got []string
	for r := s.do("reserve"); r.OK(); r = s.do("reserve") {
		got = append(got, r.Args[0])
	}
	waiting := s.do("_list waiting-to-be-tested")
	s.end()
	if len(waiting.Args) != len(got) {
		t.Errorf("reserve handed out %q and then nothing, while %q wait to be tested", got, waiting.Args)
	}
}
