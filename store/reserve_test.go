package store_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"piuparts-server/internal/piuparts"
	"piuparts-server/store"
)

func TestDB_ReserveNext_Candidates(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, db *store.DB)
		// order ranks these packages, and no other, in this order (see
		// rankOrder); nil keeps loadSection's ranks (every package, by
		// name).
		order    []string
		wantPkg  string // "" = nothing to reserve
		wantVer  string
		wantRank int
	}{
		{name: "FirstRanked", order: []string{"hello", "bash"}, wantPkg: "hello", wantVer: "2.10-3", wantRank: 1},
		{name: "AllRankedFirstByName", order: nil, wantPkg: "base-files", wantVer: "12.4+deb12u15", wantRank: 1},
		{name: "NoneRanked", order: []string{}},
		{name: "UnrankedNotOffered", order: []string{"bash"}, wantPkg: "bash", wantVer: "5.2.15-2+b13", wantRank: 1},
		{name: "EpochVersion", order: []string{"libgmp10"}, wantPkg: "libgmp10", wantVer: "2:6.2.1+dfsg1-1.1", wantRank: 1},
		{
			name: "NotWaitingSkipped",
			setup: func(t *testing.T, db *store.DB) {
				setState(t, db, "hello", "waiting-for-dependency-to-be-tested")
			},
			order: []string{"hello", "bash"}, wantPkg: "bash", wantVer: "5.2.15-2+b13", wantRank: 2,
		},
		{
			name: "ReservedSkipped",
			setup: func(t *testing.T, db *store.DB) {
				mustReserve(t, db, "other-slave", t0, []string{"hello"})
			},
			order: []string{"hello", "bash"}, wantPkg: "bash", wantVer: "5.2.15-2+b13", wantRank: 2,
		},
		{
			name: "ExpiredReservationReplaced",
			setup: func(t *testing.T, db *store.DB) {
				mustReserve(t, db, "dead-slave", t0.Add(-25*time.Hour), []string{"hello"})
			},
			order: []string{"hello"}, wantPkg: "hello", wantVer: "2.10-3", wantRank: 1,
		},
		{
			name: "TestedVersionSkipped",
			setup: func(t *testing.T, db *store.DB) {
				addLog(t, db, store.KindFail, "hello", "2.10-3")
			},
			order: []string{"hello", "bash"}, wantPkg: "bash", wantVer: "5.2.15-2+b13", wantRank: 2,
		},
		{
			name: "OtherVersionLogged",
			setup: func(t *testing.T, db *store.DB) {
				addLog(t, db, store.KindPass, "hello", "2.10-2")
			},
			order: []string{"hello"}, wantPkg: "hello", wantVer: "2.10-3", wantRank: 1,
		},
		{
			name: "RecycleMarkerRetests",
			setup: func(t *testing.T, db *store.DB) {
				addLog(t, db, store.KindPass, "hello", "2.10-3")
				addLog(t, db, store.KindRecycle, "hello", "2.10-3")
			},
			order: []string{"hello"}, wantPkg: "hello", wantVer: "2.10-3", wantRank: 1,
		},
		{
			name: "NoneWaiting",
			setup: func(t *testing.T, db *store.DB) {
				for _, p := range bookwormPackages() {
					setState(t, db, p.Name, "successfully-tested")
				}
			},
			order: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			db := openDB(t)
			loadSection(t, db, "sid", bookwormPackages(), store.StateWaitingToBeTested)
			if tt.setup != nil {
				tt.setup(t, db)
			}
			if tt.order != nil {
				rankOrder(t, db, "sid", tt.order)
			}
			res, ok, err := db.ReserveNext(ctx, "sid", "slave1", t0, time.Hour, 0, 0)
			if err != nil {
				t.Fatalf("ReserveNext: %v", err)
			}
			if tt.wantPkg == "" {
				if ok {
					t.Errorf("ReserveNext(ranked %v) = %+v, want nothing", tt.order, res)
				}
				return
			}
			want := store.Reservation{Section: "sid", Package: tt.wantPkg, Version: tt.wantVer, Holder: "slave1",
				ReservedAt: t0, ExpiresAt: t0.Add(time.Hour), Rank: tt.wantRank}
			if !ok || res != want {
				t.Fatalf("ReserveNext(ranked %v) = %+v, %v, want %+v", tt.order, res, ok, want)
			}
			rs, err := db.Reservations(ctx, "sid")
			if err != nil {
				t.Fatalf("Reservations: %v", err)
			}
			stored := want
			stored.Rank = 0 // a listed reservation has no rank
			if !slices.Contains(rs, stored) {
				t.Errorf("Reservations(sid) = %+v, want it to hold %+v", rs, stored)
			}
		})
	}
}

func TestDB_ReserveNext_TestVersion(t *testing.T) {
	db := openDB(t)
	pkgs := bookwormPackages()
	for i := range pkgs {
		pkgs[i].TestVersion = "9.9-9"
	}
	loadSection(t, db, "bookworm2trixie", pkgs, store.StateWaitingToBeTested)
	res, ok, err := reserveFirst(t, db, "bookworm2trixie", "s", t0, time.Hour, []string{"hello"})
	if err != nil || !ok || res.Package != "hello" || res.Version != "9.9-9" {
		t.Errorf("ReserveNext(hello with test version 9.9-9) = %+v, %v, %v, want hello 9.9-9", res, ok, err)
	}
}

func TestDB_ReserveNext_UnknownSection(t *testing.T) {
	db := openDB(t)
	res, ok, err := db.ReserveNext(t.Context(), "sid", "s", t0, time.Hour, 0, 0)
	if err != nil || ok {
		t.Errorf("ReserveNext(unknown section) = %+v, %v, %v, want nothing and no error", res, ok, err)
	}
	for _, section := range []string{"../etc", "s/id", ""} {
		if _, _, err := db.ReserveNext(t.Context(), section, "s", t0, time.Hour, 0, 0); !errors.Is(err, store.ErrUnsafeName) {
			t.Errorf("ReserveNext(%q) error = %v, want ErrUnsafeName", section, err)
		}
	}
}

func TestDB_ReserveNext_Lease(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	loadSection(t, db, "sid", bookwormPackages(), store.StateWaitingToBeTested)
	for _, lease := range []time.Duration{0, -time.Hour} {
		if res, ok, err := db.ReserveNext(ctx, "sid", "s", t0, lease, 0, 0); err == nil || ok {
			t.Errorf("ReserveNext(lease %v) = %+v, %v, %v, want an error", lease, res, ok, err)
		}
	}
	if rs, err := db.Reservations(ctx, "sid"); err != nil || len(rs) != 0 {
		t.Errorf("Reservations after refused leases = %+v, %v, want none", rs, err)
	}
	res, ok, err := db.ReserveNext(ctx, "sid", "s", t0, 90*time.Minute, 0, 0)
	if err != nil || !ok || !res.ReservedAt.Equal(t0) || !res.ExpiresAt.Equal(t0.Add(90*time.Minute)) {
		t.Errorf("ReserveNext(lease 90m) = %+v, %v, %v, want reserved at %v until %v", res, ok, err, t0, t0.Add(90*time.Minute))
	}
}

func TestDB_ReserveNext_Limit(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	loadSection(t, db, "sid", bookwormPackages(), store.StateWaitingToBeTested)
	loadSection(t, db, "bookworm", bookwormPackages(), store.StateWaitingToBeTested)
	reserve := func(section, holder string, now time.Time, lease time.Duration) (store.Reservation, error) {
		t.Helper()
		res, ok, err := db.ReserveNext(ctx, section, holder, now, lease, 0, 2)
		if err == nil && !ok {
			t.Fatalf("ReserveNext(%s, %s) reserved nothing", section, holder)
		}
		return res, err
	}
	// s1 holds one that expires at t0+10m and one that lasts.
	if _, err := reserve("sid", "s1", t0, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := reserve("sid", "s1", t0, time.Hour); err != nil {
		t.Fatal(err)
	}
	before, err := db.Reservations(ctx, "sid")
	if err != nil {
		t.Fatal(err)
	}
	if res, err := reserve("sid", "s1", t0.Add(time.Minute), time.Hour); !errors.Is(err, store.ErrHolderCap) {
		t.Errorf("ReserveNext(s1 at its cap of 2) = %+v, %v, want ErrHolderCap", res, err)
	}
	if after, err := db.Reservations(ctx, "sid"); err != nil || !reflect.DeepEqual(after, before) {
		t.Errorf("Reservations after a refused reserve = %+v, %v, want unchanged %+v", after, err, before)
	}
	// Another holder is not capped by s1's reservations.
	if res, err := reserve("sid", "s2", t0.Add(time.Minute), time.Hour); err != nil || res.Holder != "s2" {
		t.Errorf("ReserveNext(s2) = %+v, %v, want a package for s2", res, err)
	}
	// The cap is per section.
	if res, err := reserve("bookworm", "s1", t0.Add(time.Minute), time.Hour); err != nil || res.Holder != "s1" {
		t.Errorf("ReserveNext(bookworm, s1) = %+v, %v, want a package for s1", res, err)
	}
	// An expired reservation does not count, even before ExpireLeases.
	if res, err := reserve("sid", "s1", t0.Add(10*time.Minute), time.Hour); err != nil || res.Holder != "s1" {
		t.Errorf("ReserveNext(s1 with one lease expired) = %+v, %v, want a package for s1", res, err)
	}
	if res, err := reserve("sid", "s1", t0.Add(10*time.Minute), time.Hour); !errors.Is(err, store.ErrHolderCap) {
		t.Errorf("ReserveNext(s1 at its cap again) = %+v, %v, want ErrHolderCap", res, err)
	}
	// Without a limit there is no cap.
	if res, ok, err := db.ReserveNext(ctx, "sid", "s1", t0.Add(10*time.Minute), time.Hour, 0, 0); err != nil || !ok {
		t.Errorf("ReserveNext(s1, no limit) = %+v, %v, %v, want a package", res, ok, err)
	}
}

// TestDB_ReserveNext_Concurrent reserves from 16 goroutines sharing one DB
// until nothing is left, each continuing after its last rank as a master
// session does: every package must be handed out exactly once.
func TestDB_ReserveNext_Concurrent(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	pkgs := syntheticPackages(200)
	loadSection(t, db, "sid", pkgs, store.StateWaitingToBeTested)

	var (
		mu  sync.Mutex
		got = make(map[string][]string) // package -> holders
		wg  sync.WaitGroup
	)
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			holder := fmt.Sprintf("slave%d", g)
			// Everybody starts at the same rank: the worst case for
			// contention.
			after := 0
			for {
				res, ok, err := db.ReserveNext(ctx, "sid", holder, t0, time.Hour, after, 0)
				if err != nil {
					errs <- err
					return
				}
				if !ok {
					return
				}
				after = res.Rank
				mu.Lock()
				got[res.Package] = append(got[res.Package], holder)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("ReserveNext: %v", err)
	}
	if len(got) != len(pkgs) {
		t.Errorf("%d packages reserved, want %d", len(got), len(pkgs))
	}
	for pkg, holders := range got {
		if len(holders) != 1 {
			t.Errorf("%s reserved %d times (by %v), want once", pkg, len(holders), holders)
		}
	}
	if rs, err := db.Reservations(ctx, "sid"); err != nil || len(rs) != len(pkgs) {
		t.Errorf("Reservations(sid) = %d, %v, want %d", len(rs), err, len(pkgs))
	}
}

func TestDB_ExpireLeases(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	loadSection(t, db, "sid", bookwormPackages(), store.StateWaitingToBeTested)
	loadSection(t, db, "bookworm", bookwormPackages(), store.StateWaitingToBeTested)
	reserve := func(section, holder string, lease time.Duration, pkg string) store.Reservation {
		t.Helper()
		res, ok, err := reserveFirst(t, db, section, holder, t0, lease, []string{pkg})
		if err != nil || !ok {
			t.Fatalf("ReserveNext(%s in %s) = %+v, %v, %v", pkg, section, res, ok, err)
		}
		res.Rank = 0 // as listed
		return res
	}
	short := reserve("sid", "slave1", 10*time.Minute, "hello")
	long := reserve("sid", "slave2", time.Hour, "bash")
	other := reserve("bookworm", "slave1", 10*time.Minute, "hello")

	// While the lease runs, the package stays reserved.
	rankOrder(t, db, "sid", []string{"hello"})
	if res, ok, err := db.ReserveNext(ctx, "sid", "slave3", t0.Add(9*time.Minute), time.Hour, 0, 0); err != nil || ok {
		t.Errorf("ReserveNext(hello) during its lease = %+v, %v, %v, want nothing", res, ok, err)
	}
	if exp, err := db.ExpireLeases(ctx, t0.Add(9*time.Minute)); err != nil || len(exp) != 0 {
		t.Errorf("ExpireLeases(t0+9m) = %v, %v, want nothing", exp, err)
	}
	exp, err := db.ExpireLeases(ctx, t0.Add(10*time.Minute))
	if err != nil {
		t.Fatalf("ExpireLeases: %v", err)
	}
	if want := []store.Reservation{other, short}; !reflect.DeepEqual(exp, want) {
		t.Errorf("ExpireLeases(t0+10m) = %+v, want %+v", exp, want)
	}
	if rs, err := db.Reservations(ctx, "sid"); err != nil || !reflect.DeepEqual(rs, []store.Reservation{long}) {
		t.Errorf("Reservations(sid) after expiry = %+v, %v, want only %+v", rs, err, long)
	}
	// The expired package can be reserved again.
	if res, ok, err := db.ReserveNext(ctx, "sid", "slave3", t0.Add(11*time.Minute), time.Hour, 0, 0); err != nil || !ok || res.Package != "hello" || res.Holder != "slave3" {
		t.Errorf("ReserveNext(hello) after expiry = %+v, %v, %v, want it for slave3", res, ok, err)
	}
}

// TestDB_ExpireLeases_Tree expires leases with a DB that owns its tree:
// the reserved/ markers go as unreserve removes them, and a version with a
// log gets its recycle/ marker back.
func TestDB_ExpireLeases_Tree(t *testing.T) {
	ctx := t.Context()
	db, dir := openMaster(t)
	loadSection(t, db, "sid", bookwormPackages(), store.StateWaitingToBeTested)
	writeLog(t, db, store.KindPass, "hello", "2.10-3")
	writeLog(t, db, store.KindRecycle, "hello", "2.10-3")
	hello := mustTake(t, db, "slave1", t0, 10*time.Minute, "hello")
	bash := mustTake(t, db, "slave1", t0, 10*time.Minute, "bash")
	if !markerExists(dir, store.KindReserved, hello) || markerExists(dir, store.KindRecycle, hello) {
		t.Fatalf("after Take: want sid/reserved/ marker of hello and no recycle/ marker")
	}
	exp, err := db.ExpireLeases(ctx, t0.Add(10*time.Minute))
	if err != nil || len(exp) != 2 {
		t.Fatalf("ExpireLeases = %+v, %v, want both", exp, err)
	}
	for _, r := range []store.Reservation{hello, bash} {
		if markerExists(dir, store.KindReserved, r) {
			t.Errorf("sid/reserved/ marker of %s left after its lease expired", r.Package)
		}
	}
	if !markerExists(dir, store.KindRecycle, hello) {
		t.Errorf("no sid/recycle/ marker of hello (which has a log) after its lease expired")
	}
	if markerExists(dir, store.KindRecycle, bash) {
		t.Errorf("sid/recycle/ marker of bash (which has no log) after its lease expired")
	}
	if names, err := db.LogNames(ctx, "sid", store.KindRecycle); err != nil || !reflect.DeepEqual(names, []string{"hello_2.10-3.log"}) {
		t.Errorf("LogNames(sid, recycle) = %q, %v, want the restored marker indexed", names, err)
	}
}

func TestDB_Unreserve(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	loadSection(t, db, "sid", bookwormPackages(), store.StateWaitingToBeTested)
	res := mustReserve(t, db, "slave1", t0, []string{"hello"})

	if ok, err := db.Unreserve(ctx, "sid", "hello", "2.10-2", "", t0); err != nil || ok {
		t.Errorf("Unreserve(other version) = %v, %v, want false", ok, err)
	}
	if ok, err := db.Unreserve(ctx, "sid", res.Package, res.Version, "", t0); err != nil || !ok {
		t.Errorf("Unreserve(%s %s) = %v, %v, want true", res.Package, res.Version, ok, err)
	}
	if ok, err := db.Unreserve(ctx, "sid", res.Package, res.Version, "", t0); err != nil || ok {
		t.Errorf("second Unreserve = %v, %v, want false", ok, err)
	}
	if again := mustReserve(t, db, "slave2", t0, []string{"hello"}); again.Package != "hello" {
		t.Errorf("ReserveNext after Unreserve = %+v, want hello", again)
	}
	if _, err := db.Unreserve(ctx, "../etc", "hello", "2.10-3", "", t0); !errors.Is(err, store.ErrUnsafeName) {
		t.Errorf("Unreserve(../etc) = %v, want ErrUnsafeName", err)
	}
}

// TestDB_Unreserve_Holder gives a reservation back with a DB that owns
// its tree, as each kind of asker.
func TestDB_Unreserve_Holder(t *testing.T) {
	tests := []struct {
		name    string
		holder  string // who asks
		wantErr error  // nil: given back
	}{
		{name: "Holder", holder: "slave1"},
		{name: "Anyone", holder: ""},
		{name: "OtherSlave", holder: "slave2", wantErr: store.ErrNotHolder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			db, dir := openMaster(t)
			loadSection(t, db, "sid", bookwormPackages(), store.StateWaitingToBeTested)
			res := mustTake(t, db, "slave1", t0, time.Hour, "hello")
			stored := res
			stored.Rank = 0

			ok, err := db.Unreserve(ctx, "sid", res.Package, res.Version, tt.holder, t0.Add(time.Minute))
			rs, lerr := db.Reservations(ctx, "sid")
			if lerr != nil {
				t.Fatal(lerr)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || ok {
					t.Errorf("Unreserve(as %q) = %v, %v, want false, %v", tt.holder, ok, err, tt.wantErr)
				}
				if !reflect.DeepEqual(rs, []store.Reservation{stored}) {
					t.Errorf("Reservations after a refused Unreserve = %+v, want still %+v", rs, stored)
				}
				if !markerExists(dir, store.KindReserved, res) {
					t.Errorf("refused Unreserve removed sid/reserved/%s", markerName(res))
				}
				return
			}
			if err != nil || !ok {
				t.Errorf("Unreserve(as %q) = %v, %v, want true", tt.holder, ok, err)
			}
			if len(rs) != 0 {
				t.Errorf("Reservations after Unreserve = %+v, want none", rs)
			}
			if markerExists(dir, store.KindReserved, res) {
				t.Errorf("Unreserve left sid/reserved/%s", markerName(res))
			}
			// No log of the version: no recycle/ marker.
			if markerExists(dir, store.KindRecycle, res) {
				t.Errorf("Unreserve of a version without log created sid/recycle/%s", markerName(res))
			}
		})
	}
}

// TestDB_Unreserve_RecycleMarker gives back a version that has a log: its
// recycle/ marker comes back, as unreserve_package restores it.
func TestDB_Unreserve_RecycleMarker(t *testing.T) {
	ctx := t.Context()
	db, dir := openMaster(t)
	loadSection(t, db, "sid", bookwormPackages(), store.StateWaitingToBeTested)
	writeLog(t, db, store.KindPass, "hello", "2.10-3")
	writeLog(t, db, store.KindRecycle, "hello", "2.10-3")
	// In recycle mode Take keeps the pass log and takes the marker.
	res := mustTake(t, db, "slave1", t0, time.Hour, "hello")
	if markerExists(dir, store.KindRecycle, res) {
		t.Fatalf("Take left sid/recycle/%s", markerName(res))
	}
	if ok, err := db.Unreserve(ctx, "sid", res.Package, res.Version, "slave1", t0); err != nil || !ok {
		t.Fatalf("Unreserve = %v, %v, want true", ok, err)
	}
	if markerExists(dir, store.KindReserved, res) || !markerExists(dir, store.KindRecycle, res) {
		t.Errorf("after Unreserve: want no sid/reserved/ marker and a sid/recycle/ marker of %s", markerName(res))
	}
	if names, err := db.LogNames(ctx, "sid", store.KindRecycle); err != nil || !reflect.DeepEqual(names, []string{markerName(res)}) {
		t.Errorf("LogNames(sid, recycle) = %q, %v, want the restored marker", names, err)
	}
	// The package may be reserved again.
	if again, ok, err := db.ReserveNext(ctx, "sid", "slave2", t0, time.Hour, 0, 0); err != nil || !ok || again.Package != "hello" {
		t.Errorf("ReserveNext after Unreserve = %+v, %v, %v, want hello", again, ok, err)
	}
}

func TestDB_DropReservation(t *testing.T) {
	ctx := t.Context()
	db, dir := openMaster(t)
	loadSection(t, db, "sid", bookwormPackages(), store.StateWaitingToBeTested)
	res := mustTake(t, db, "slave1", t0, time.Hour, "hello")
	if holder, err := db.DropReservation(ctx, "sid", res.Package, res.Version); err != nil || holder != "slave1" {
		t.Errorf("DropReservation = %q, %v, want slave1", holder, err)
	}
	if rs, err := db.Reservations(ctx, "sid"); err != nil || len(rs) != 0 {
		t.Errorf("Reservations after DropReservation = %+v, %v, want none", rs, err)
	}
	if !markerExists(dir, store.KindReserved, res) {
		t.Errorf("DropReservation removed sid/reserved/%s; it drops only the row", markerName(res))
	}
	if holder, err := db.DropReservation(ctx, "sid", res.Package, res.Version); err != nil || holder != "" {
		t.Errorf("second DropReservation = %q, %v, want no holder", holder, err)
	}
}

func setState(t *testing.T, db *store.DB, pkg, state string) {
	t.Helper()
	ctx := t.Context()
	states, err := db.States(ctx, "sid")
	if err != nil {
		t.Fatal(err)
	}
	for i := range states {
		if states[i].Package == pkg {
			states[i].State = state
		}
	}
	if err := db.SetStates(ctx, "sid", "test", false, t0, states); err != nil {
		t.Fatal(err)
	}
}

// mustReserve reserves in sid for 24 hours the first of candidates that
// may be reserved (see reserveFirst).
func mustReserve(t *testing.T, db *store.DB, holder string, now time.Time, candidates []string) store.Reservation {
	t.Helper()
	res, ok, err := reserveFirst(t, db, "sid", holder, now, 24*time.Hour, candidates)
	if err != nil || !ok {
		t.Fatalf("ReserveNext(ranked %v) = %+v, %v, %v, want a reservation", candidates, res, ok, err)
	}
	return res
}

// mustTake reserves pkg in sid as the master does in recycle mode:
// ReserveNext with pkg the only candidate, then Take, which creates its
// reserved/ marker.
func mustTake(t *testing.T, db *store.DB, holder string, now time.Time, lease time.Duration, pkg string) store.Reservation {
	t.Helper()
	res, ok, err := reserveFirst(t, db, "sid", holder, now, lease, []string{pkg})
	if err != nil || !ok || res.Package != pkg {
		t.Fatalf("ReserveNext(%s) = %+v, %v, %v, want it", pkg, res, ok, err)
	}
	if taken, _, err := db.Take(t.Context(), "sid", res.Package, res.Version, true); err != nil || !taken {
		t.Fatalf("Take(%s) = %v, %v, want taken", pkg, taken, err)
	}
	return res
}

// addLog indexes a log of sid that is not in any tree.
func addLog(t *testing.T, db *store.DB, kind store.Kind, pkg, version string) {
	t.Helper()
	path, err := store.LogPath("sid", kind, pkg, version)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddLog(t.Context(), store.LogEntry{Section: "sid", Kind: kind, Package: pkg, Version: version,
		Path: path, SubmittedAt: t0, SubmittedBy: "slave1"}); err != nil {
		t.Fatalf("AddLog: %v", err)
	}
}

// openMaster opens a DB that owns the log tree of a new master directory,
// which it returns too, and closes it at the end of the test.
func openMaster(t *testing.T) (*store.DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.OpenMaster(t.Context(), dir, "master.db")
	if err != nil {
		t.Fatalf("OpenMaster: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := db.Tree().EnsureSection("sid"); err != nil {
		t.Fatal(err)
	}
	return db, dir
}

// writeLog puts a log (a marker for recycle/ and reserved/) of sid into the
// DB's tree and indexes it.
func writeLog(t *testing.T, db *store.DB, kind store.Kind, pkg, version string) {
	t.Helper()
	tree := db.Tree()
	var err error
	if kind == store.KindRecycle || kind == store.KindReserved {
		err = tree.CreateMarker("sid", kind, pkg, version)
	} else {
		_, err = tree.WriteLog(t.Context(), "sid", kind, pkg, version, strings.NewReader("log of "+pkg+"\n"), 1<<20)
	}
	if err != nil {
		t.Fatalf("write %s log of %s: %v", kind, pkg, err)
	}
	if err := db.IndexFile(t.Context(), "sid", kind, pkg, version, t0); err != nil {
		t.Fatalf("IndexFile(%s %s): %v", kind, pkg, err)
	}
}

// markerName is the file name of the logs of a reservation's version.
func markerName(r store.Reservation) string { return piuparts.LogName(r.Package, r.Version) }

// markerExists reports whether the master directory dir holds
// sid/KIND/NAME_VERSION.log for a reservation's version.
func markerExists(dir string, kind store.Kind, r store.Reservation) bool {
	_, err := os.Lstat(filepath.Join(dir, "sid", string(kind), markerName(r)))
	return err == nil
}

// Environment of TestHelperProcess.
const (
	helperDirEnv    = "STORE_TEST_HELPER_DIR"
	helperHolderEnv = "STORE_TEST_HELPER_HOLDER"
)

// TestHelperProcess is not a test: TestDB_ReserveNext_TwoProcesses runs
// the test binary again with it to have a second process write the same
// master directory. It waits for stdin to close, then does what the master
// does for a slave that tests every package it gets: ReserveNext
// (continuing after the rank it got last), Take (the reserved/ marker) and
// Submit of a pass log (log file, index row, submissions.txt line). It
// prints each package it reserved.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperDirEnv)
	if dir == "" {
		t.Skip("helper process for TestDB_ReserveNext_TwoProcesses")
	}
	holder := os.Getenv(helperHolderEnv)
	ctx := context.Background()
	fail := func(code int, err error) {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(code)
	}
	db, err := store.OpenMaster(ctx, dir, "master.db")
	if err != nil {
		fail(2, err)
	}
	defer db.Close()
	// Start together with the other process.
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	out := bufio.NewWriter(os.Stdout)
	after := 0
	for {
		res, ok, err := db.ReserveNext(ctx, "sid", holder, t0, time.Hour, after, 0)
		if err != nil {
			fail(3, err)
		}
		if !ok {
			break
		}
		after = res.Rank
		fmt.Fprintln(out, res.Package)
		taken, _, err := db.Take(ctx, "sid", res.Package, res.Version, false)
		if err != nil {
			fail(4, err)
		}
		if !taken {
			// The tree refused it (the marker of the other process?): a
			// package reserved twice shows here too.
			fail(5, fmt.Errorf("Take(%s %s) refused a package ReserveNext gave", res.Package, res.Version))
		}
		log := "Start: " + res.Package + " " + res.Version + "\npiuparts run ends.\n"
		rcv, err := db.Submit(ctx, store.Incoming{Section: "sid", Result: store.KindPass, Package: res.Package,
			Version: res.Version, By: holder, At: t0}, strings.NewReader(log))
		if err != nil {
			fail(6, err)
		}
		if rcv.Holder != holder || rcv.Duplicate || rcv.Recovered {
			fail(7, fmt.Errorf("Submit(%s) = %+v, want it to end %s's reservation", res.Package, rcv, holder))
		}
	}
	out.Flush()
	os.Exit(0)
}

// TestDB_ReserveNext_TwoProcesses has two OS processes reserve, take and
// submit, as two masters do, from one master directory at the same time:
// every package must be reserved and logged exactly once, and neither may
// see "database is locked".
func TestDB_ReserveNext_TwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two processes; skipped under -short")
	}
	ctx := t.Context()
	dir := t.TempDir()
	db, err := store.OpenMaster(ctx, dir, "master.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Tree().EnsureSection("sid"); err != nil {
		t.Fatal(err)
	}
	const n = 120
	loadSection(t, db, "sid", syntheticPackages(n), store.StateWaitingToBeTested)

	type helper struct {
		cmd            *exec.Cmd
		stdout, stderr strings.Builder
		start          interface{ Close() error }
	}
	var hs []*helper
	for _, holder := range []string{"slave-a", "slave-b"} {
		h := &helper{cmd: exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$")}
		h.cmd.Env = append(os.Environ(), helperDirEnv+"="+dir, helperHolderEnv+"="+holder)
		h.cmd.Stdout, h.cmd.Stderr = &h.stdout, &h.stderr
		stdin, err := h.cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		h.start = stdin
		if err := h.cmd.Start(); err != nil {
			t.Fatalf("start helper: %v", err)
		}
		hs = append(hs, h)
	}
	for _, h := range hs {
		h.start.Close() // both go
	}
	seen := make(map[string]int)
	for _, h := range hs {
		err := h.cmd.Wait()
		if err != nil || strings.Contains(h.stderr.String(), "locked") {
			t.Errorf("helper %v: %v\nstderr: %s", h.cmd.Env[len(h.cmd.Env)-1], err, h.stderr.String())
		}
		lines := strings.Fields(h.stdout.String())
		t.Logf("%s reserved %d packages", h.cmd.Env[len(h.cmd.Env)-1], len(lines))
		for _, p := range lines {
			seen[p]++
		}
	}
	if len(seen) != n {
		t.Errorf("%d packages reserved, want %d", len(seen), n)
	}
	for p, c := range seen {
		if c != 1 {
			t.Errorf("%s reserved %d times, want once", p, c)
		}
	}
	logs, err := db.Logs(ctx, "sid", store.KindPass)
	if err != nil || len(logs) != n {
		t.Errorf("Logs(sid, pass) = %d logs, %v, want %d", len(logs), err, n)
	}
	subs, err := db.Submissions(ctx, t0)
	if err != nil || len(subs) != n {
		t.Errorf("Submissions = %d, %v, want %d", len(subs), err, n)
	}
	if rs, err := db.Reservations(ctx, "sid"); err != nil || len(rs) != 0 {
		t.Errorf("Reservations left after every log was submitted = %v, %v, want none", rs, err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "sid", "pass", "*"))
	if err != nil || len(files) != n {
		t.Errorf("sid/pass holds %d files, %v, want %d logs and nothing else", len(files), err, n)
	}
	if markers, err := filepath.Glob(filepath.Join(dir, "sid", "reserved", "*")); err != nil || len(markers) != 0 {
		t.Errorf("sid/reserved holds %q, %v, want nothing: every reservation was submitted", markers, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "sid", "submissions.txt")); err != nil ||
		strings.Count(string(b), "\n") != n {
		t.Errorf("submissions.txt = %d lines, %v, want %d", strings.Count(string(b), "\n"), err, n)
	}
	holders := make(map[string]bool)
	for _, l := range logs {
		holders[l.SubmittedBy] = true
	}
	keys := make([]string, 0, len(holders))
	for k := range holders {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	t.Logf("logs submitted by %v", keys)
}

func TestDB_ReserveNext(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	pkgs := bookwormPackages()
	if err := db.ReplacePackages(ctx, "sid", store.Fingerprint{}, t0, pkgs); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := db.ReserveNext(ctx, "sid", "s1", t0, time.Hour, 0, 0); err != nil || ok {
		t.Errorf("ReserveNext before states = %v, %v, want nothing", ok, err)
	}
	// hello first, then libgmp10, then bash; dash is waiting but unranked.
	rank := map[string]int{"hello": 1, "libgmp10": 2, "bash": 3}
	var states []store.PackageState
	for _, p := range pkgs {
		states = append(states, store.PackageState{Package: p.Name, Version: p.TestedVersion(),
			State: store.StateWaitingToBeTested, Rank: rank[p.Name]})
	}
	if err := db.SetStates(ctx, "sid", "x", false, t0, states); err != nil {
		t.Fatal(err)
	}
	addLog(t, db, store.KindPass, "libgmp10", "2:6.2.1+dfsg1-1.1") // tested: skipped
	tests := []struct {
		after    int
		wantPkg  string
		wantRank int
	}{
		{0, "hello", 1},
		{0, "bash", 3}, // hello is reserved now
		{1, "", 0},
	}
	for _, tt := range tests {
		res, ok, err := db.ReserveNext(ctx, "sid", "s1", t0, time.Hour, tt.after, 0)
		if err != nil || ok != (tt.wantPkg != "") || res.Package != tt.wantPkg || res.Rank != tt.wantRank {
			t.Errorf("ReserveNext(after %d) = %+v, %v, %v, want %q of rank %d", tt.after, res, ok, err, tt.wantPkg, tt.wantRank)
		}
	}
	// Stale states (new packages, not yet computed) reserve nothing.
	if _, err := db.Unreserve(ctx, "sid", "hello", "2.10-3", "", t0); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplacePackages(ctx, "sid", store.Fingerprint{}, t0, pkgs); err != nil {
		t.Fatal(err)
	}
	if res, ok, err := db.ReserveNext(ctx, "sid", "s1", t0, time.Hour, 0, 0); err != nil || ok {
		t.Errorf("ReserveNext with stale states = %+v, %v, %v, want nothing", res, ok, err)
	}
}
