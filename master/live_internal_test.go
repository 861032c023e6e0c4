package master

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"piuparts-server/master/state"
)

// TestRanking_Place ranks new candidates into a ranking one after the
// other, as updateLive does: each goes after every heavier one and before
// every lighter one, among its equals, with a rank between its neighbours',
// so that the order stays by rank and by weight, best first.
func TestRanking_Place(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 1))
	weight := func() state.Weight {
		return state.Weight{Chain: rng.IntN(4), Waiting: rng.IntN(3)}
	}
	var cands []state.Candidate
	for range 50 {
		cands = append(cands, state.Candidate{Name: "p", Weight: weight()})
	}
	slices.SortStableFunc(cands, func(a, b state.Candidate) int { return b.Weight.Compare(a.Weight) })
	r := newRanking(cands, time.Time{})
	for i := range 2000 {
		w := weight()
		rank, at, ok := r.place(w, rng)
		if !ok {
			// The gaps are used up: updateLive ranks everything anew.
			if i < 100 {
				t.Fatalf("no free rank after %d placements", i)
			}
			break
		}
		if at > 0 && (r.order[at-1].w.Compare(w) < 0 || r.order[at-1].rank >= rank) {
			t.Fatalf("placement %d (%v) at %d: after %v rank %d, own rank %d", i, w, at, r.order[at-1].w, r.order[at-1].rank, rank)
		}
		if at < len(r.order) && (r.order[at].w.Compare(w) > 0 || r.order[at].rank <= rank) {
			t.Fatalf("placement %d (%v) at %d: before %v rank %d, own rank %d", i, w, at, r.order[at].w, r.order[at].rank, rank)
		}
		r.order = slices.Insert(r.order, at, rankedCandidate{rank: rank, w: w, name: "new"})
	}
}
