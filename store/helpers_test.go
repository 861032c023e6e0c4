package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"piuparts-server/store"
)

// t0 is the injected "now" of the tests.
var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// openDB opens a new database in a temporary directory and closes it at the
// end of the test.
func openDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "master.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// bookwormPackages is a real subset of bookworm main amd64 (Packages file
// fields copied as they are), with dependencies resolved to their first
// alternatives.
func bookwormPackages() []store.Package {
	return []store.Package{
		{Name: "base-files", Version: "12.4+deb12u15", Source: "base-files", SourceVersion: "12.4+deb12u15",
			Maintainer: "Santiago Vila <sanvila@debian.org>", PreDepends: "awk", Provides: "base",
			Dependencies: []string{"awk"}},
		{Name: "bash", Version: "5.2.15-2+b13", Source: "bash", SourceVersion: "5.2.15-2",
			Maintainer: "Matthias Klose <doko@debian.org>",
			Depends:    "base-files (>= 2.1.12), debianutils (>= 5.6-0.1)", PreDepends: "libc6 (>= 2.36), libtinfo6 (>= 6)",
			Dependencies: []string{"base-files", "debianutils", "libc6", "libtinfo6"}},
		{Name: "debianutils", Version: "5.7-0.5~deb12u1", Source: "debianutils", SourceVersion: "5.7-0.5~deb12u1",
			Maintainer: "Clint Adams <clint@debian.org>", PreDepends: "libc6 (>= 2.34)",
			Dependencies: []string{"libc6"}},
		{Name: "gcc-12-base", Version: "12.2.0-14+deb12u1", Source: "gcc-12", SourceVersion: "12.2.0-14+deb12u1",
			Maintainer: "Debian GCC Maintainers <debian-gcc@lists.debian.org>"},
		{Name: "hello", Version: "2.10-3", Source: "hello", SourceVersion: "2.10-3",
			Maintainer: "Santiago Vila <sanvila@debian.org>", Depends: "libc6 (>= 2.34)",
			Dependencies: []string{"libc6"}},
		{Name: "libc6", Version: "2.36-9+deb12u14", Source: "glibc", SourceVersion: "2.36-9+deb12u14",
			Maintainer: "GNU Libc Maintainers <debian-glibc@lists.debian.org>", Depends: "libgcc-s1",
			Dependencies: []string{"libgcc-s1"}},
		{Name: "libgcc-s1", Version: "12.2.0-14+deb12u1", Source: "gcc-12", SourceVersion: "12.2.0-14+deb12u1",
			Maintainer: "Debian GCC Maintainers <debian-gcc@lists.debian.org>",
			Depends:    "gcc-12-base (= 12.2.0-14+deb12u1), libc6 (>= 2.35)", Provides: "libgcc1 (= 1:12.2.0-14+deb12u1)",
			Dependencies: []string{"gcc-12-base", "libc6"}},
		{Name: "libgmp10", Version: "2:6.2.1+dfsg1-1.1", Source: "gmp", SourceVersion: "2:6.2.1+dfsg1-1.1",
			Maintainer: "Debian Science Team <debian-science-maintainers@lists.alioth.debian.org>",
			Depends:    "libc6 (>= 2.14)", Dependencies: []string{"libc6"}},
		{Name: "libtinfo6", Version: "6.4-4", Source: "ncurses", SourceVersion: "6.4-4",
			Maintainer: "Craig Small <csmall@debian.org>", Depends: "libc6 (>= 2.34)",
			Dependencies: []string{"libc6"}},
	}
}

// loadSection stores pkgs in section with every package in state, ranked
// in the order of pkgs (see [store.PackageState.Rank]): [store.DB.ReserveNext]
// offers them in that order.
func loadSection(t testing.TB, db *store.DB, section string, pkgs []store.Package, state string) {
	t.Helper()
	ctx := context.Background()
	if err := db.ReplacePackages(ctx, section, store.Fingerprint{Size: 1}, t0, pkgs); err != nil {
		t.Fatalf("ReplacePackages: %v", err)
	}
	states := make([]store.PackageState, len(pkgs))
	for i, p := range pkgs {
		states[i] = store.PackageState{Package: p.Name, Version: p.TestedVersion(), State: state, Rank: i + 1}
	}
	if err := db.SetStates(ctx, section, "test", false, t0, states); err != nil {
		t.Fatalf("SetStates: %v", err)
	}
}

// rankOrder sets the states of section anew with only the packages of
// order ranked, 1, 2, ... in that order, as the master ranks its candidates:
// [store.DB.ReserveNext] offers them in that order and no other package.
// Names without a state are left out.
func rankOrder(t testing.TB, db *store.DB, section string, order []string) {
	t.Helper()
	ctx := context.Background()
	states, err := db.States(ctx, section)
	if err != nil {
		t.Fatalf("States: %v", err)
	}
	index := make(map[string]int, len(states))
	for i := range states {
		states[i].Rank = 0
		index[states[i].Package] = i
	}
	rank := 0
	for _, name := range order {
		if i, ok := index[name]; ok && states[i].Rank == 0 {
			rank++
			states[i].Rank = rank
		}
	}
	if err := db.SetStates(ctx, section, "test", false, t0, states); err != nil {
		t.Fatalf("SetStates: %v", err)
	}
}

// reserveFirst ranks candidates as rankOrder does and reserves in section
// the first of them that may be reserved, as a master with that candidate
// list does.
func reserveFirst(t testing.TB, db *store.DB, section, holder string, now time.Time, lease time.Duration, candidates []string) (store.Reservation, bool, error) {
	t.Helper()
	rankOrder(t, db, section, candidates)
	return db.ReserveNext(context.Background(), section, holder, now, lease, 0, 0)
}

// syntheticPackages returns n packages named pkg00000, pkg00001, ...
func syntheticPackages(n int) []store.Package {
	ps := make([]store.Package, n)
	for i := range ps {
		name := "pkg" + itoa5(i)
		ps[i] = store.Package{Name: name, Version: "1.0-1", Source: name, SourceVersion: "1.0-1",
			Maintainer: "Jane Doe <jane@example.org>", Depends: "libc6 (>= 2.34)", Dependencies: []string{"libc6"}}
	}
	return ps
}

func itoa5(i int) string {
	b := []byte("00000")
	for j := 4; j >= 0 && i > 0; j-- {
		b[j] = byte('0' + i%10)
		i /= 10
	}
	return string(b)
}
