package state

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"piuparts-server/internal/debian"
	"piuparts-server/internal/testutil"
)

func loadFixture(t *testing.T, path string) []Package {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Package
	p := debian.NewParser(f)
	for {
		para, err := p.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		dp, err := debian.NewPackage(para)
		if err != nil {
			t.Fatal(err)
		}
		sp, err := NewPackage(dp)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sp)
	}
}

// TestGraph_OnCycle changes preferred alternatives at random and checks the
// incrementally kept components against a literal port of piupartslib's
// _get_dependency_cycle after every change.
func TestGraph_OnCycle(t *testing.T) {
	t.Run("Bookworm", func(t *testing.T) {
		checkOnCycle(t, &Section{Name: "bookworm", Packages: loadFixture(t, testutil.Fixture(t, "Packages_bookworm_closure"))})
	})
	// Random graphs of a few dozen packages, whose alternatives open and
	// close cycles all the time; some names are provided, some missing.
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 9))
		name := func() string { return fmt.Sprintf("p%d", rng.IntN(40)) }
		sec := &Section{Name: "random"}
		for i := range 30 {
			p := Package{Name: fmt.Sprintf("p%d", i), Version: "1"}
			for range rng.IntN(4) {
				var alt []string
				for range 1 + rng.IntN(3) {
					alt = append(alt, name())
				}
				p.Depends = append(p.Depends, alt)
			}
			if rng.IntN(5) == 0 {
				p.PreDepends = [][]string{{name()}}
			}
			if rng.IntN(6) == 0 {
				p.Provides = []string{fmt.Sprintf("p%d", 30+rng.IntN(10))}
			}
			sec.Packages = append(sec.Packages, p)
		}
		t.Run(fmt.Sprintf("Random%d", seed), func(t *testing.T) { checkOnCycle(t, sec) })
	}
}

func checkOnCycle(t *testing.T, sec *Section) {
	r, err := Compute(sec)
	if err != nil {
		t.Fatal(err)
	}
	d := r.root
	g := newGraph(d)
	type slot struct {
		p    *pkg
		h, k int
	}
	var slots []slot
	for _, p := range d.pkgs {
		for h := range p.alts {
			for k, alt := range p.alts[h] {
				if len(alt) > 1 {
					slots = append(slots, slot{p, h, k})
				}
			}
		}
	}
	if len(slots) == 0 {
		t.Fatal("no items with alternatives")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	changes := 0
	for step := range 200 {
		if step > 0 {
			s := slots[rng.IntN(len(slots))]
			alt := s.p.alts[s.h][s.k]
			old, nu := s.p.first[s.h][s.k], alt[rng.IntN(len(alt))]
			if old != nu {
				changes++
			}
			s.p.first[s.h][s.k] = nu
			g.changed(s.p.gid, old, nu)
		}
		for _, p := range d.pkgs {
			cycle := d.dependencyCycle(p.name)
			for _, dep := range p.dependencies(nil) {
				want := slices.Contains(cycle, p.name) && slices.Contains(cycle, dep)
				if got := g.onCycle(dep, p.name); got != want {
					t.Fatalf("step %d: onCycle(%s, %s) = %v, literal search %v (cycle %v)",
						step, d.e.names[dep], d.e.names[p.name], got, want, cycle)
				}
			}
		}
	}
	t.Logf("%d alternatives slots, %d changes", len(slots), changes)
}
