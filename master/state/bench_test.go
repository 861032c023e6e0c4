package state_test

import (
	"math/rand/v2"
	"testing"

	"piuparts-server/master/state"
)

// fullSection loads all of bookworm main with random logs (about 70% pass,
// 3% fail, 1% untestable), or skips.
func fullSection(b *testing.B) *state.Section {
	b.Helper()
	pkgs := readPackages(b, fullArchive(b, b.TempDir()))
	sec := &state.Section{Name: "bookworm", Packages: pkgs}
	rng := rand.New(rand.NewPCG(7, 7))
	for _, p := range pkgs {
		switch x := rng.IntN(100); {
		case x < 70:
			sec.Logs.Add(state.Pass, p.Name, p.Version)
		case x < 73:
			sec.Logs.Add(state.Fail, p.Name, p.Version)
		case x < 74:
			sec.Logs.Add(state.Untestable, p.Name, p.Version)
		}
	}
	return sec
}

func BenchmarkCompute(b *testing.B) {
	sec := fullSection(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := state.Compute(sec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComputeCandidates measures what a reserve costs: the states and
// then the candidates with their reverse-dependency counts.
func BenchmarkComputeCandidates(b *testing.B) {
	sec := fullSection(b)
	b.ReportAllocs()
	for b.Loop() {
		r, err := state.Compute(sec)
		if err != nil {
			b.Fatal(err)
		}
		r.Candidates(rand.New(rand.NewPCG(1, 1)))
	}
}

// BenchmarkEngineCompute measures a computation on prepared tables: what
// a long-lived master pays for a new log.
func BenchmarkEngineCompute(b *testing.B) {
	sec := fullSection(b)
	en, err := state.NewEngine(sec)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		en.Compute(false)
	}
}
