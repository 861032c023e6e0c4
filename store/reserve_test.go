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
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"piuparts-server/store"
)

func TestDB_Reserve(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(t *testing.T, db *store.DB)
		candidates []string
		wantPkg    string // "" = nothing to reserve
		wantVer    string
	}{
		{name: "FirstCandidate", candidates: []string{"hello", "bash"}, wantPkg: "hello", wantVer: "2.10-3"},
		{name: "NilCandidatesFirstByName", candidates: nil, wantPkg: "base-files", wantVer: "12.4+deb12u15"},
		{name: "EmptyCandidates", candidates: []string{}},
		{name: "UnknownCandidateSkipped", candidates: []string{"no-such-package", "bash"}, wantPkg: "bash", wantVer: "5.2.15-2+b13"},
		{name: "EpochVersion", candidates: []string{"libgmp10"}, wantPkg: "libgmp10", wantVer: "2:6.2.1+dfsg1-1.1"},
		{
			name: "NotWaitingSkipped",
			setup: func(t *testing.T, db *store.DB) {
				setState(t, db, "hello", "waiting-for-dependency-to-be-tested")
			},
			candidates: []string{"hello", "bash"}, wantPkg: "bash", wantVer: "5.2.15-2+b13",
		},
		{
			name: "ReservedSkipped",
			setup: func(t *testing.T, db *store.DB) {
				mustReserve(t, db, "other-slave", t0, []string{"hello"})
			},
			candidates: []string{"hello", "bash"}, wantPkg: "bash", wantVer: "5.2.15-2+b13",
		},
		{
			name: "ExpiredReservationReplaced",
			setup: func(t *testing.T, db *store.DB) {
				mustReserve(t, db, "dead-slave", t0.Add(-25*time.Hour), []string{"hello"})
			},
			candidates: []string{"hello"}, wantPkg: "hello", wantVer: "2.10-3",
		},
		{
			name: "TestedVersionSkipped",
			setup: func(t *testing.T, db *store.DB) {
				addLog(t, db, store.KindFail, "hello", "2.10-3")
			},
			candidates: []string{"hello", "bash"}, wantPkg: "bash", wantVer: "5.2.15-2+b13",
		},
		{
			name: "OtherVersionLogged",
			setup: func(t *testing.T, db *store.DB) {
				addLog(t, db, store.KindPass, "hello", "2.10-2")
			},
			candidates: []string{"hello"}, wantPkg: "hello", wantVer: "2.10-3",
		},
		{
			name: "RecycleMarkerRetests",
			setup: func(t *testing.T, db *store.DB) {
				addLog(t, db, store.KindPass, "hello", "2.10-3")
				addLog(t, db, store.KindRecycle, "hello", "2.10-3")
			},
			candidates: []string{"hello"}, wantPkg: "hello", wantVer: "2.10-3",
		},
		{
			name: "NoneWaiting",
			setup: func(t *testing.T, db *store.DB) {
				for _, p := range bookwormPackages() {
					setState(t, db, p.Name, "successfully-tested")
				}
			},
			candidates: nil,
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
			res, ok, err := db.Reserve(ctx, "sid", "slave1", t0, time.Hour, tt.candidates)
			if err != nil {
				t.Fatalf("Reserve: %v", err)
			}
			if tt.wantPkg == "" {
				if ok {
					t.Errorf("Reserve(%v) = %+v, want nothing", tt.candidates, res)
				}
				return
			}
			want := store.Reservation{Section: "sid", Package: tt.wantPkg, Version: tt.wantVer, Holder: "slave1",
				ReservedAt: t0, ExpiresAt: t0.Add(time.Hour)}
			if !ok || res != want {
				t.Fatalf("Reserve(%v) = %+v, %v, want %+v", tt.candidates, res, ok, want)
			}
			rs, err := db.Reservations(ctx, "sid")
			if err != nil {
				t.Fatalf("Reservations: %v", err)
			}
			found := false
			for _, r := range rs {
				if r == want {
					found = true
				}
			}
			if !found {
				t.Errorf("Reservations(sid) = %+v, want it to hold %+v", rs, want)
			}
		})
	}
}

func TestDB_Reserve_TestVersion(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	pkgs := bookwormPackages()
	for i := range pkgs {
		pkgs[i].TestVersion = "9.9-9"
	}
	loadSection(t, db, "bookworm2trixie", pkgs, store.StateWaitingToBeTested)
	res, ok, err := db.Reserve(ctx, "bookworm2trixie", "s", t0, time.Hour, []string{"hello"})
	if err != nil || !ok || res.Version != "9.9-9" {
		t.Errorf("Reserve(hello with test version 9.9-9) = %+v, %v, %v, want version 9.9-9", res, ok, err)
	}
}

func TestDB_Reserve_UnknownSection(t *testing.T) {
	db := openDB(t)
	res, ok, err := db.Reserve(t.Context(), "sid", "s", t0, time.Hour, nil)
	if err != nil || ok {
		t.Errorf("Reserve(unknown section) = %+v, %v, %v, want nothing and no error", res, ok, err)
	}
	if _, _, err := db.Reserve(t.Context(), "../etc", "s", t0, time.Hour, nil); !errors.Is(err, store.ErrUnsafeName) {
		t.Errorf("Reserve(../etc) error = %v, want ErrUnsafeName", err)
	}
}

func TestDB_Reserve_DefaultLease(t *testing.T) {
	db := openDB(t)
	loadSection(t, db, "sid", bookwormPackages(), store.StateWaitingToBeTested)
	res, ok, err := db.Reserve(t.Context(), "sid", "s", t0, 0, nil)
	if err != nil || !ok || !res.ExpiresAt.Equal(t0.Add(store.DefaultLeaseDuration)) {
		t.Errorf("Reserve(lease 0) = %+v, %v, %v, want expiry after DefaultLeaseDuration", res, ok, err)
	}
}

// TestDB_Reserve_Concurrent reserves from 16 goroutines sharing one DB until
// nothing is left: every package must be handed out exactly once.
func TestDB_Reserve_Concurrent(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	pkgs := syntheticPackages(200) // more than three candidate batches
	loadSection(t, db, "sid", pkgs, store.StateWaitingToBeTested)
	names := make([]string, len(pkgs))
	for i, p := range pkgs {
		names[i] = p.Name
	}

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
			for {
				// Everybody asks for the same candidates in the same order:
				// the worst case for contention.
				res, ok, err := db.Reserve(ctx, "sid", holder, t0, time.Hour, names)
				if err != nil {
					errs <- err
					return
				}
				if !ok {
					return
				}
				mu.Lock()
				got[res.Package] = append(got[res.Package], holder)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Reserve: %v", err)
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
	short, _, err := db.Reserve(ctx, "sid", "slave1", t0, 10*time.Minute, []string{"hello"})
	if err != nil {
		t.Fatal(err)
	}
	long, _, err := db.Reserve(ctx, "sid", "slave2", t0, time.Hour, []string{"bash"})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := db.Reserve(ctx, "bookworm", "slave1", t0, 10*time.Minute, []string{"hello"})
	if err != nil {
		t.Fatal(err)
	}

	// While the lease runs, the package stays reserved.
	if res, ok, err := db.Reserve(ctx, "sid", "slave3", t0.Add(9*time.Minute), time.Hour, []string{"hello"}); err != nil || ok {
		t.Errorf("Reserve(hello) during its lease = %+v, %v, %v, want nothing", res, ok, err)
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
	if res, ok, err := db.Reserve(ctx, "sid", "slave3", t0.Add(11*time.Minute), time.Hour, []string{"hello"}); err != nil || !ok || res.Holder != "slave3" {
		t.Errorf("Reserve(hello) after expiry = %+v, %v, %v, want it for slave3", res, ok, err)
	}
}

func TestDB_Unreserve(t *testing.T) {
	ctx := t.Context()
	db := openDB(t)
	loadSection(t, db, "sid", bookwormPackages(), store.StateWaitingToBeTested)
	res := mustReserve(t, db, "slave1", t0, []string{"hello"})

	if ok, err := db.Unreserve(ctx, "sid", "hello", "2.10-2"); err != nil || ok {
		t.Errorf("Unreserve(other version) = %v, %v, want false", ok, err)
	}
	if ok, err := db.Unreserve(ctx, "sid", res.Package, res.Version); err != nil || !ok {
		t.Errorf("Unreserve(%s %s) = %v, %v, want true", res.Package, res.Version, ok, err)
	}
	if ok, err := db.Unreserve(ctx, "sid", res.Package, res.Version); err != nil || ok {
		t.Errorf("second Unreserve = %v, %v, want false", ok, err)
	}
	if again := mustReserve(t, db, "slave2", t0, []string{"hello"}); again.Package != "hello" {
		t.Errorf("Reserve after Unreserve = %+v, want hello", again)
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
	if err := db.SetStates(ctx, "sid", "test", t0, states); err != nil {
		t.Fatal(err)
	}
}

func mustReserve(t *testing.T, db *store.DB, holder string, now time.Time, candidates []string) store.Reservation {
	t.Helper()
	res, ok, err := db.Reserve(t.Context(), "sid", holder, now, 24*time.Hour, candidates)
	if err != nil || !ok {
		t.Fatalf("Reserve(%v) = %+v, %v, %v, want a reservation", candidates, res, ok, err)
	}
	return res
}

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

// Environment of TestHelperProcess.
const (
	helperDBEnv     = "STORE_TEST_HELPER_DB"
	helperHolderEnv = "STORE_TEST_HELPER_HOLDER"
)

// TestHelperProcess is not a test: TestDB_Reserve_TwoProcesses runs the test
// binary again with it to have a second process write the same database. It
// waits for stdin to close, then reserves and submits a pass log for every
// package it gets (log file beside the database, index row, submissions.txt
// line), and prints each package it reserved.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperDBEnv)
	if path == "" {
		t.Skip("helper process for TestDB_Reserve_TwoProcesses")
	}
	holder := os.Getenv(helperHolderEnv)
	tree := store.NewLogTree(filepath.Dir(path))
	ctx := context.Background()
	db, err := store.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	defer db.Close()
	// Start together with the other process.
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
	out := bufio.NewWriter(os.Stdout)
	for {
		res, ok, err := db.Reserve(ctx, "sid", holder, t0, time.Hour, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(3)
		}
		if !ok {
			break
		}
		fmt.Fprintln(out, res.Package)
		// Store the log as the master does: file first, then the index.
		log := "Start: " + res.Package + " " + res.Version + "\npiuparts run ends.\n"
		lf, err := tree.WriteLog(ctx, "sid", store.KindPass, res.Package, res.Version, strings.NewReader(log), 1<<20)
		if err == nil {
			err = db.AddLog(ctx, store.LogEntry{Section: "sid", Kind: store.KindPass, Package: res.Package,
				Version: res.Version, Path: lf.Path, Size: lf.Size, SHA256: lf.SHA256, SubmittedAt: t0, SubmittedBy: holder})
		}
		if err == nil {
			err = tree.AppendSubmission("sid", t0.Unix(), store.KindPass, res.Package, res.Version)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(4)
		}
	}
	out.Flush()
	os.Exit(0)
}

// TestDB_Reserve_TwoProcesses has two OS processes reserve and submit from
// one database file at the same time: every package must be reserved and
// logged exactly once, and neither may see "database is locked".
func TestDB_Reserve_TwoProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two processes; skipped under -short")
	}
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "master.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
		h.cmd.Env = append(os.Environ(), helperDBEnv+"="+path, helperHolderEnv+"="+holder)
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
	files, err := filepath.Glob(filepath.Join(filepath.Dir(path), "sid", "pass", "*"))
	if err != nil || len(files) != n {
		t.Errorf("sid/pass holds %d files, %v, want %d logs and nothing else", len(files), err, n)
	}
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(path), "sid", "submissions.txt")); err != nil ||
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
	if _, ok, err := db.ReserveNext(ctx, "sid", "s1", t0, time.Hour, 0); err != nil || ok {
		t.Errorf("ReserveNext before states = %v, %v, want nothing", ok, err)
	}
	// hello first, then libgmp10, then bash; dash is waiting but unranked.
	rank := map[string]int{"hello": 1, "libgmp10": 2, "bash": 3}
	var states []store.PackageState
	for _, p := range pkgs {
		states = append(states, store.PackageState{Package: p.Name, Version: p.TestedVersion(),
			State: store.StateWaitingToBeTested, Rank: rank[p.Name]})
	}
	if err := db.SetStates(ctx, "sid", "x", t0, states); err != nil {
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
		res, ok, err := db.ReserveNext(ctx, "sid", "s1", t0, time.Hour, tt.after)
		if err != nil || ok != (tt.wantPkg != "") || res.Package != tt.wantPkg || res.Rank != tt.wantRank {
			t.Errorf("ReserveNext(after %d) = %+v, %v, %v, want %q of rank %d", tt.after, res, ok, err, tt.wantPkg, tt.wantRank)
		}
	}
	// Stale states (new packages, not yet computed) reserve nothing.
	if _, err := db.Unreserve(ctx, "sid", "hello", "2.10-3"); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplacePackages(ctx, "sid", store.Fingerprint{}, t0, pkgs); err != nil {
		t.Fatal(err)
	}
	if res, ok, err := db.ReserveNext(ctx, "sid", "s1", t0, time.Hour, 0); err != nil || ok {
		t.Errorf("ReserveNext with stale states = %+v, %v, %v, want nothing", res, ok, err)
	}
	if res, ok, err := db.Reserve(ctx, "sid", "s1", t0, time.Hour, nil); err != nil || ok {
		t.Errorf("Reserve with stale states = %+v, %v, %v, want nothing", res, ok, err)
	}
}
