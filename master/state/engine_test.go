package state_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"piuparts-server/internal/testutil"
	"piuparts-server/master/state"
)

// entries lists what a Result says of every package: name, test version,
// state and dependencies.
func entries(r *state.Result) []string {
	var out []string
	r.Each(func(e state.Entry) {
		out = append(out, fmt.Sprintf("%s %s %s %v", e.Name, e.TestVersion, e.State, e.Dependencies()))
	})
	return out
}

// TestEngine_ChangesEqualCompute changes the logs of an Engine one at a
// time, at random (every kind, reserved/ and recycle/ markers too, in the
// section and in its depends-section), and checks after each change that
// its computation equals Compute on the same packages and logs, package
// for package, and that Changes names exactly the packages whose state
// changed.
func TestEngine_ChangesEqualCompute(t *testing.T) {
	base := testutil.Fixture(t, baseFixture)
	security := testutil.Fixture(t, securityFixture)
	basePkgs := readPackages(t, base)
	secPkgs := readPackages(t, security)
	steps := 120
	if testing.Short() {
		steps = 30
	}
	for _, layout := range []string{"alone", "depends"} {
		for _, recycle := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/recycle=%t", layout, recycle), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(13, uint64(len(layout))))
				root := &state.Section{Name: "bookworm", Packages: basePkgs, Recycle: recycle}
				secs := []*state.Section{root}
				if layout == "depends" {
					root = &state.Section{Name: "security", Packages: secPkgs, Recycle: recycle}
					dep := &state.Section{Name: "bookworm", Packages: basePkgs}
					root.Depends = []*state.Section{dep}
					secs = []*state.Section{root, dep}
				}
				// A random start, as a farm's directory is.
				type logKey struct {
					sec     int
					kind    state.Kind
					name    string
					version string
				}
				present := map[logKey]bool{}
				set := func(k logKey, on bool) {
					present[k] = on
				}
				for si, s := range secs {
					for _, p := range s.Packages {
						if x := rng.IntN(100); x < 50 {
							set(logKey{si, state.Pass, p.Name, p.Version}, true)
						} else if x < 55 {
							set(logKey{si, state.Fail, p.Name, p.Version}, true)
						}
					}
				}
				logsOf := func(si int) state.Logs {
					var l state.Logs
					for k, on := range present {
						if !on || k.sec != si {
							continue
						}
						if k.kind == state.Recycle {
							l.AddRecycle(k.name, k.version, time.Unix(1000, 0), time.Unix(2000, 0))
						} else {
							l.Add(k.kind, k.name, k.version)
						}
					}
					return l
				}
				for si, s := range secs {
					s.Logs = logsOf(si)
				}
				en, err := state.NewEngine(root)
				if err != nil {
					t.Fatal(err)
				}
				prev := en.Compute(recycle)
				for step := range steps {
					si := rng.IntN(len(secs))
					p := secs[si].Packages[rng.IntN(len(secs[si].Packages))]
					k := logKey{si, state.Kind(rng.IntN(int(state.Recycle) + 1)), p.Name, p.Version}
					on := !present[k]
					set(k, on)
					en.SetLog(secs[si].Name, k.kind, k.name, k.version, on)
					if k.kind == state.Recycle && on && si == 0 {
						en.SetRecycleTimes(k.name, k.version, time.Unix(1000, 0), time.Unix(2000, 0))
					}
					for i, s := range secs {
						s.Logs = logsOf(i)
					}
					want, err := state.Compute(root)
					if err != nil {
						t.Fatal(err)
					}
					got := en.Compute(recycle)
					if g, w := entries(got), entries(want); !slices.Equal(g, w) {
						for i := range min(len(g), len(w)) {
							if g[i] != w[i] {
								t.Fatalf("step %d (%s %v %s %t): engine says %q, Compute %q", step, secs[si].Name, k.kind, k.name, on, g[i], w[i])
							}
						}
						t.Fatalf("step %d: engine gives %d packages, Compute %d", step, len(g), len(w))
					}
					if !slices.Equal(got.Status(), want.Status()) {
						t.Fatalf("step %d: status %v, want %v", step, got.Status(), want.Status())
					}
					changes, ok := got.Changes(prev)
					if !ok {
						t.Fatalf("step %d: Changes says the results are not of one engine", step)
					}
					before, after := entries(prev), entries(got)
					var differ []string
					for i := range after {
						if before[i] != after[i] && !sameState(before[i], after[i]) {
							differ = append(differ, after[i])
						}
					}
					if len(changes) != len(differ) {
						t.Fatalf("step %d: Changes lists %d packages, %d changed state", step, len(changes), len(differ))
					}
					prev = got
				}
				// Listing the directories again gives what the changes gave.
				for i, s := range secs {
					logs := logsOf(i)
					en.ResetLogs(s.Name, &logs)
				}
				if g, w := entries(en.Compute(recycle)), entries(prev); !slices.Equal(g, w) {
					t.Fatal("ResetLogs with the same logs changed the states")
				}
			})
		}
	}
}

// sameState reports whether two entries lines differ only in their
// dependencies (a preferred alternative), not in the state.
func sameState(a, b string) bool {
	var an, av, as, bn, bv, bs string
	fmt.Sscan(a, &an, &av, &as)
	fmt.Sscan(b, &bn, &bv, &bs)
	return an == bn && av == bv && as == bs
}
