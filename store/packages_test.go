package store_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"piuparts-server/internal/piuparts"
	"piuparts-server/store"
)

func TestDB_ReplacePackages(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	pkgs := bookwormPackages()
	pkgs[4].TestVersion = "2.10-3.1"               // hello in the final distro
	pkgs[2].TestVersion = piuparts.TestVersionNone // debianutils gone there
	fp := store.Fingerprint{Size: 123456, ModTime: time.Date(2024, 4, 30, 8, 1, 2, 345678901, time.UTC), SHA256: "ab12"}
	if err := db.ReplacePackages(ctx, "sid", fp, t0, pkgs); err != nil {
		t.Fatalf("ReplacePackages: %v", err)
	}

	got, err := db.Packages(ctx, "sid")
	if err != nil {
		t.Fatalf("Packages: %v", err)
	}
	if !reflect.DeepEqual(got, pkgs) {
		t.Errorf("Packages(sid) = %+v\nwant %+v", got, pkgs)
	}
	hello, err := db.Package(ctx, "sid", "hello")
	if err != nil || hello.TestedVersion() != "2.10-3.1" || hello.Version != "2.10-3" {
		t.Errorf("Package(sid, hello) = %+v, %v, want version 2.10-3 tested as 2.10-3.1", hello, err)
	}
	if _, err := db.Package(ctx, "sid", "no-such-package"); !errors.Is(err, store.ErrNoPackage) {
		t.Errorf("Package(sid, no-such-package) error = %v, want ErrNoPackage", err)
	}

	s, err := db.Section(ctx, "sid")
	if err != nil {
		t.Fatalf("Section: %v", err)
	}
	if s.Packages != fp || !s.PackagesUpdatedAt.Equal(t0) || s.Generation != 1 {
		t.Errorf("Section(sid) = %+v, want fingerprint %+v, updated at %v, generation 1", s, fp, t0)
	}

	// Replacing drops packages no longer there and the computed states.
	if err := db.SetStates(ctx, "sid", "gen1", false, t0, []store.PackageState{{Package: "hello", Version: "2.10-3.1", State: "waiting-to-be-tested"}}); err != nil {
		t.Fatalf("SetStates: %v", err)
	}
	if err := db.ReplacePackages(ctx, "sid", fp, t0.Add(time.Hour), pkgs[:2]); err != nil {
		t.Fatalf("second ReplacePackages: %v", err)
	}
	if got, err := db.Packages(ctx, "sid"); err != nil || len(got) != 2 {
		t.Errorf("Packages after replacing with 2 = %d packages, %v, want 2", len(got), err)
	}
	if st, err := db.States(ctx, "sid"); err != nil || len(st) != 0 {
		t.Errorf("States after ReplacePackages = %v, %v, want none", st, err)
	}
	if s, _ := db.Section(ctx, "sid"); s.StatesInputs != "" || !s.StatesComputedAt.IsZero() || s.Generation != 2 {
		t.Errorf("Section after ReplacePackages = %+v, want no states inputs and generation 2", s)
	}
}

func TestDB_ReplacePackages_Invalid(t *testing.T) {
	tests := []struct {
		name    string
		section string
		pkgs    []store.Package
		wantErr error
	}{
		{"DuplicateName", "sid", []store.Package{{Name: "a", Version: "1"}, {Name: "a", Version: "2"}}, nil},
		{"EmptyVersion", "sid", []store.Package{{Name: "a"}}, nil},
		{"EmptyName", "sid", []store.Package{{Version: "1"}}, nil},
		{"UnsafeSection", "../sid", []store.Package{{Name: "a", Version: "1"}}, store.ErrUnsafeName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			db := openDB(t)
			loadSection(t, db, "sid", bookwormPackages(), "unknown")
			err := db.ReplacePackages(ctx, tt.section, store.Fingerprint{}, t0, tt.pkgs)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("ReplacePackages(%q, %v) = %v, want error %v", tt.section, tt.pkgs, err, tt.wantErr)
			}
			// Nothing changed: the old packages and states are still there.
			if got, err := db.Packages(ctx, "sid"); err != nil || len(got) != len(bookwormPackages()) {
				t.Errorf("Packages after failed replace = %d, %v, want %d", len(got), err, len(bookwormPackages()))
			}
			if got, err := db.States(ctx, "sid"); err != nil || len(got) != len(bookwormPackages()) {
				t.Errorf("States after failed replace = %d, %v, want %d", len(got), err, len(bookwormPackages()))
			}
		})
	}
}

func TestDB_States(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	if err := db.SetStates(ctx, "sid", "x", false, t0, nil); !errors.Is(err, store.ErrNoSection) {
		t.Errorf("SetStates(unknown section) = %v, want ErrNoSection", err)
	}
	if err := db.ReplacePackages(ctx, "sid", store.Fingerprint{}, t0, bookwormPackages()); err != nil {
		t.Fatal(err)
	}
	states := []store.PackageState{
		{Package: "bash", Version: "5.2.15-2+b13", State: "waiting-for-dependency-to-be-tested"},
		{Package: "hello", Version: "2.10-3", State: "waiting-to-be-tested", Rank: 1},
		{Package: "libc6", Version: "2.36-9+deb12u13", State: "successfully-tested"},
		{Package: "libgcc-s1", Version: "12.2.0-14+deb12u1", State: "successfully-tested"},
	}
	if err := db.SetStates(ctx, "sid", "generation=1", false, t0, states); err != nil {
		t.Fatalf("SetStates: %v", err)
	}
	if got, err := db.States(ctx, "sid"); err != nil || !reflect.DeepEqual(got, states) {
		t.Errorf("States(sid) = %v, %v, want %v", got, err, states)
	}
	wantCounts := map[string]int{"waiting-for-dependency-to-be-tested": 1, "waiting-to-be-tested": 1, "successfully-tested": 2}
	if got, err := db.StateCounts(ctx, "sid"); err != nil || !reflect.DeepEqual(got, wantCounts) {
		t.Errorf("StateCounts(sid) = %v, %v, want %v", got, err, wantCounts)
	}
	if s, err := db.Section(ctx, "sid"); err != nil || s.StatesInputs != "generation=1" || !s.StatesComputedAt.Equal(t0) {
		t.Errorf("Section(sid) = %+v, %v, want states inputs generation=1 computed at %v", s, err, t0)
	}

	// A list with an invalid entry is refused as a whole.
	for name, bad := range map[string]store.PackageState{
		"Duplicate":    {Package: "bash", Version: "1", State: "unknown"},
		"EmptyVersion": {Package: "zsh", State: "unknown"},
		"EmptyState":   {Package: "zsh", Version: "1"},
		"NegativeRank": {Package: "zsh", Version: "1", State: "unknown", Rank: -1},
	} {
		list := append(states[:1:1], bad)
		if err := db.SetStates(ctx, "sid", "bad", false, t0, list); err == nil {
			t.Errorf("SetStates(%s) succeeded, want an error", name)
		}
	}
	if got, _ := db.States(ctx, "sid"); !reflect.DeepEqual(got, states) {
		t.Errorf("States after refused SetStates = %v, want unchanged %v", got, states)
	}

	// Setting them again writes only what changed: a package gone, one
	// changed, one new, ranks moved.
	next := []store.PackageState{
		{Package: "bash", Version: "5.2.15-2+b13", State: "waiting-to-be-tested", Rank: 2},
		{Package: "dash", Version: "0.5.12-2", State: "waiting-to-be-tested", Rank: 1},
		{Package: "hello", Version: "2.10-3", State: "waiting-to-be-tested"},
		{Package: "libc6", Version: "2.36-9+deb12u13", State: "successfully-tested"},
	}
	if err := db.SetStates(ctx, "sid", "generation=2", false, t0, next); err != nil {
		t.Fatalf("SetStates(next): %v", err)
	}
	if got, err := db.States(ctx, "sid"); err != nil || !reflect.DeepEqual(got, next) {
		t.Errorf("States(sid) after a second SetStates = %v, %v, want %v", got, err, next)
	}

	// Odd bytes in the stored fields (a NUL, quotes, non-ASCII) do not
	// confuse the comparison with what is stored.
	for i, list := range [][]store.PackageState{
		{
			{Package: "a\x00b", Version: "1\x002", State: "unknown"},
			{Package: "hello", Version: "2.10-4", State: "waiting-to-be-tested", Rank: 1},
			{Package: "\"é\\", Version: "1", State: "unknown"},
		},
		{
			{Package: "a", Version: "b\x001", State: "2\x00unknown"},
			{Package: "hello", Version: "2.10-4", State: "waiting-to-be-tested", Rank: 1},
		},
		next,
	} {
		if err := db.SetStates(ctx, "sid", "odd", false, t0, list); err != nil {
			t.Fatalf("SetStates(odd %d): %v", i, err)
		}
		want := slices.Clone(list)
		slices.SortFunc(want, func(a, b store.PackageState) int { return strings.Compare(a.Package, b.Package) })
		if got, err := db.States(ctx, "sid"); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("States(sid) after odd list %d = %+v, %v, want %+v", i, got, err, want)
		}
	}
}

func TestDB_Sections(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	if _, err := db.Section(ctx, "sid"); !errors.Is(err, store.ErrNoSection) {
		t.Errorf("Section(sid) on a new database = %v, want ErrNoSection", err)
	}
	if err := db.SetConfigHash(ctx, "sid", "hash1"); err != nil {
		t.Fatalf("SetConfigHash: %v", err)
	}
	if err := db.SetIdle(ctx, "sid", false, t0); err != nil {
		t.Fatalf("SetIdle: %v", err)
	}
	if err := db.SetIdle(ctx, "bookworm", true, t0.Add(time.Minute)); err != nil {
		t.Fatalf("SetIdle(recycle): %v", err)
	}
	if err := db.SetConfigHash(ctx, "a/b", "x"); !errors.Is(err, store.ErrUnsafeName) {
		t.Errorf("SetConfigHash(a/b) = %v, want ErrUnsafeName", err)
	}
	ss, err := db.Sections(ctx)
	if err != nil {
		t.Fatalf("Sections: %v", err)
	}
	if len(ss) != 2 || ss[0].Name != "bookworm" || ss[1].Name != "sid" {
		t.Fatalf("Sections() = %+v, want bookworm and sid", ss)
	}
	if !ss[0].RecycleIdleAt.Equal(t0.Add(time.Minute)) || !ss[0].IdleAt.IsZero() {
		t.Errorf("bookworm idle stamps = %v, %v, want zero and %v", ss[0].IdleAt, ss[0].RecycleIdleAt, t0.Add(time.Minute))
	}
	if ss[1].ConfigHash != "hash1" || !ss[1].IdleAt.Equal(t0) {
		t.Errorf("sid = %+v, want config hash hash1, idle at %v", ss[1], t0)
	}
	// The zero time clears the stamp.
	if err := db.SetIdle(ctx, "sid", false, time.Time{}); err != nil {
		t.Fatalf("SetIdle(zero): %v", err)
	}
	if s, _ := db.Section(ctx, "sid"); !s.IdleAt.IsZero() {
		t.Errorf("IdleAt after clearing = %v, want zero", s.IdleAt)
	}
}

// TestDB_States_Many stores more states than one statement writes, first
// all new, then with every third changed and the last ones gone.
func TestDB_States_Many(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	if err := db.ReplacePackages(ctx, "sid", store.Fingerprint{}, t0, bookwormPackages()); err != nil {
		t.Fatal(err)
	}
	states := make([]store.PackageState, 10000)
	for i := range states {
		states[i] = store.PackageState{Package: fmt.Sprintf("pkg%05d", i), Version: "1.0-1", State: "successfully-tested"}
	}
	for _, step := range []string{"first", "again"} {
		if err := db.SetStates(ctx, "sid", step, false, t0, states); err != nil {
			t.Fatalf("%s SetStates: %v", step, err)
		}
		if got, err := db.States(ctx, "sid"); err != nil || !reflect.DeepEqual(got, states) {
			t.Fatalf("%s States(sid): %d states, %v; want the %d set", step, len(got), err, len(states))
		}
		for i := 0; i < len(states); i += 3 {
			states[i].Version, states[i].State, states[i].Rank = "2.0-1", "waiting-to-be-tested", i/3+1
		}
		states = states[:9000]
	}
}

func TestDB_StateCountHistory(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	day1 := map[string]int{"successfully-tested": 10, "waiting-to-be-tested": 5}
	day2 := map[string]int{"successfully-tested": 14, "failed-testing": 1}
	for _, r := range []struct {
		at     time.Time
		counts map[string]int
	}{
		{t0.Add(24 * time.Hour), day2},
		{t0, map[string]int{"unknown": 15}},
		{t0, day1}, // replaces the first record of that time
	} {
		if err := db.RecordStateCounts(ctx, "sid", r.at, r.counts); err != nil {
			t.Fatalf("RecordStateCounts: %v", err)
		}
	}
	want := []store.StateCounts{{At: t0, Counts: day1}, {At: t0.Add(24 * time.Hour), Counts: day2}}
	if got, err := db.StateCountHistory(ctx, "sid"); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("StateCountHistory(sid) = %v, %v, want %v", got, err, want)
	}
	if got, err := db.StateCountHistory(ctx, "bookworm"); err != nil || len(got) != 0 {
		t.Errorf("StateCountHistory(bookworm) = %v, %v, want nothing", got, err)
	}
}

func TestDB_SetStates_SeqAndRecycle(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	if err := db.ReplacePackages(ctx, "sid", store.Fingerprint{}, t0, bookwormPackages()); err != nil {
		t.Fatal(err)
	}
	if s, err := db.Section(ctx, "sid"); err != nil || s.StatesSeq != 0 || s.StatesRecycle {
		t.Errorf("Section(sid) before SetStates = %+v, %v, want StatesSeq 0, not recycle", s, err)
	}
	states := []store.PackageState{{Package: "hello", Version: "2.10-3", State: store.StateWaitingToBeTested, Rank: 1}}
	steps := []struct {
		recycle bool
		at      time.Time
	}{
		{false, t0},
		{true, t0.Add(time.Minute)},
		{true, t0.Add(2 * time.Minute)}, // same states: still counted
		{false, t0.Add(3 * time.Minute)},
	}
	for i, st := range steps {
		if err := db.SetStates(ctx, "sid", "x", st.recycle, st.at, states); err != nil {
			t.Fatalf("SetStates %d: %v", i+1, err)
		}
		s, err := db.Section(ctx, "sid")
		if err != nil || s.StatesSeq != int64(i+1) || s.StatesRecycle != st.recycle || !s.StatesComputedAt.Equal(st.at) {
			t.Errorf("Section(sid) after SetStates %d (recycle %v) = seq %d, recycle %v, computed %v, %v; want seq %d, recycle %v, computed %v",
				i+1, st.recycle, s.StatesSeq, s.StatesRecycle, s.StatesComputedAt, err, i+1, st.recycle, st.at)
		}
	}
	// A refused computation is not counted.
	bad := append(states, store.PackageState{Package: "hello", Version: "1", State: "unknown"})
	if err := db.SetStates(ctx, "sid", "bad", true, t0, bad); err == nil {
		t.Fatal("SetStates(hello twice) succeeded, want an error")
	}
	if s, err := db.Section(ctx, "sid"); err != nil || s.StatesSeq != int64(len(steps)) || s.StatesRecycle {
		t.Errorf("Section(sid) after a refused SetStates = seq %d, recycle %v, %v; want seq %d, not recycle", s.StatesSeq, s.StatesRecycle, err, len(steps))
	}
}

func TestDB_SetPackagesFingerprint(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	fp := store.Fingerprint{Size: 1, SHA256: "content", Stat: "stat1"}
	if err := db.SetPackagesFingerprint(ctx, "sid", fp); !errors.Is(err, store.ErrNoSection) {
		t.Errorf("SetPackagesFingerprint(never loaded) = %v, want ErrNoSection", err)
	}
	loadSection(t, db, "sid", bookwormPackages(), store.StateWaitingToBeTested)
	before, err := db.Section(ctx, "sid")
	if err != nil {
		t.Fatal(err)
	}
	touched := store.Fingerprint{Size: 2, ModTime: t0.Add(time.Minute), SHA256: "content", Stat: "stat2"}
	if err := db.SetPackagesFingerprint(ctx, "sid", touched); err != nil {
		t.Fatalf("SetPackagesFingerprint: %v", err)
	}
	after, err := db.Section(ctx, "sid")
	if err != nil {
		t.Fatal(err)
	}
	want := before
	want.Packages = touched
	if !reflect.DeepEqual(after, want) {
		t.Errorf("Section after SetPackagesFingerprint = %+v, want %+v (only the fingerprint changed)", after, want)
	}
	if st, err := db.States(ctx, "sid"); err != nil || len(st) != len(bookwormPackages()) {
		t.Errorf("States after SetPackagesFingerprint = %d, %v, want all %d kept", len(st), err, len(bookwormPackages()))
	}
}

func BenchmarkSetStates(b *testing.B) {
	pkgs := archivePackages(b)
	ctx := context.Background()
	states := func(round int) []store.PackageState {
		ss := make([]store.PackageState, len(pkgs))
		for i, p := range pkgs {
			ss[i] = store.PackageState{Package: p.Name, Version: p.TestedVersion(), State: "waiting-for-dependency-to-be-tested"}
			if i%8 == round%8 {
				ss[i].State, ss[i].Rank = store.StateWaitingToBeTested, (i+round)%len(pkgs)+1
			}
		}
		return ss
	}
	for _, bm := range []struct {
		name string
		next func(i int) []store.PackageState
	}{
		// A new database: every row is written.
		{"New", func(int) []store.PackageState { return states(0) }},
		// A recomputation: an eighth of the states and every rank change.
		{"Changed", states},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportMetric(float64(len(pkgs)), "packages")
			var db *store.DB
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if bm.name == "New" || i == 0 {
					db = openDB(b)
					if err := db.ReplacePackages(ctx, "sid", store.Fingerprint{}, t0, pkgs); err != nil {
						b.Fatal(err)
					}
					if bm.name == "Changed" {
						if err := db.SetStates(ctx, "sid", "x", false, t0, states(7)); err != nil {
							b.Fatal(err)
						}
					}
				}
				ss := bm.next(i)
				b.StartTimer()
				if err := db.SetStates(ctx, "sid", "x", false, t0, ss); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
