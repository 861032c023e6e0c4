package master

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"piuparts-server/master/state"
)

// TestRanking_Insert ranks batches of new candidates into a ranking, as
// updateLive does: each goes after every heavier one and before every
// lighter one, with a rank between its neighbours', so that the order
// stays by rank and by weight, best first, and every rank is recorded.
func TestRanking_Insert(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	weight := func() state.Weight {
		return state.Weight{Chain: rng.IntN(4), Waiting: rng.IntN(3)}
	}
	var cands []state.Candidate
	for i := range 50 {
		cands = append(cands, state.Candidate{Name: fmt.Sprintf("old%d", i), Weight: weight()})
	}
	slices.SortStableFunc(cands, func(a, b state.Candidate) int { return b.Weight.Compare(a.Weight) })
	r := newRanking(cands, time.Time{})
	n := 0
	for batch := range 40 {
		var adds []rankedCandidate
		for range 1 + rng.IntN(30) {
			adds = append(adds, rankedCandidate{w: weight(), name: fmt.Sprintf("new%d", n)})
			n++
		}
		before := slices.Clone(r.order)
		ranks, ok := r.insert(adds, rng)
		if !ok {
			// The ranks are used up: updateLive ranks everything anew.
			if batch < 5 {
				t.Fatalf("no free ranks at batch %d", batch)
			}
			if !slices.Equal(r.order, before) {
				t.Fatalf("batch %d failed but changed the order", batch)
			}
			break
		}
		if len(r.order) != len(before)+len(adds) {
			t.Fatalf("batch %d: %d candidates, want %d", batch, len(r.order), len(before)+len(adds))
		}
		for i, a := range adds {
			if r.rank[a.name] != ranks[i] {
				t.Fatalf("batch %d: rank of %s %d, recorded %d", batch, a.name, ranks[i], r.rank[a.name])
			}
		}
		for i := 1; i < len(r.order); i++ {
			p, e := r.order[i-1], r.order[i]
			if p.rank >= e.rank || p.w.Compare(e.w) < 0 {
				t.Fatalf("batch %d: %s (rank %d, %v) before %s (rank %d, %v)", batch, p.name, p.rank, p.w, e.name, e.rank, e.w)
			}
		}
	}
}
