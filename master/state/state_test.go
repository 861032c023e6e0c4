package state_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"piuparts-server/internal/debian"
	"piuparts-server/internal/testutil"
	"piuparts-server/master/state"
)

func TestNewPackage(t *testing.T) {
	para, err := debian.NewParser(strings.NewReader(`Package: python3-six
Version: 1.16.0-4
Depends: python3:any, libc6 (>= 2.4) | libc6.1:amd64
Pre-Depends: dpkg (>= 1.15.6~)
Provides: python3.11-six (= 1.16.0-4), six
`)).Next()
	if err != nil {
		t.Fatal(err)
	}
	dp, err := debian.NewPackage(para)
	if err != nil {
		t.Fatal(err)
	}
	p, err := state.NewPackage(dp)
	if err != nil {
		t.Fatal(err)
	}
	// piupartslib's DependencyParser drops the ":any" qualifier from names.
	if got := p.Depends; len(got) != 2 || !slices.Equal(got[0], []string{"python3"}) || !slices.Equal(got[1], []string{"libc6", "libc6.1"}) {
		t.Errorf("Depends = %q, want [[python3] [libc6 libc6.1]]", got)
	}
	if !slices.Equal(p.Provides, []string{"python3.11-six", "six"}) {
		t.Errorf("Provides = %v, want [python3.11-six six]", p.Provides)
	}

	dp.Depends = "libc6 (>= "
	if _, err := state.NewPackage(dp); err == nil {
		t.Error("NewPackage with a malformed Depends: no error")
	}
}

func TestCompute_Errors(t *testing.T) {
	a := &state.Section{Name: "a"}
	b := &state.Section{Name: "b", Depends: []*state.Section{a}}
	a.Depends = []*state.Section{b}
	if _, err := state.Compute(a); !errors.Is(err, state.ErrSectionCycle) {
		t.Errorf("Compute(cycle) error = %v, want ErrSectionCycle", err)
	}
	bad := &state.Section{Name: "c", Packages: []state.Package{{Name: "x"}}}
	if _, err := state.Compute(bad); err == nil {
		t.Error("Compute(package without version): no error")
	}
	// A section shared by two depends-sections is no cycle.
	shared := &state.Section{Name: "base"}
	top := &state.Section{Name: "top", Depends: []*state.Section{shared, {Name: "mid", Depends: []*state.Section{shared}}}}
	if _, err := state.Compute(top); err != nil {
		t.Errorf("Compute(diamond) error = %v", err)
	}
}

func exampleResult(t *testing.T, recycle bool) *state.Result {
	t.Helper()
	sec := &state.Section{Name: "bookworm", Packages: readPackages(t, testutil.Fixture(t, baseFixture)), Recycle: recycle}
	for i, p := range sec.Packages {
		if i%3 == 0 {
			sec.Logs.Add(state.Pass, p.Name, p.Version)
		}
		if i%7 == 0 {
			sec.Logs.AddRecycle(p.Name, p.Version, time.Unix(int64(1e9+i*3600), 0), time.Unix(1e9, 0))
		}
	}
	r, err := state.Compute(sec)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestResult_Candidates(t *testing.T) {
	for _, recycle := range []bool{false, true} {
		r := exampleResult(t, recycle)
		if r.RecycleMode() != recycle {
			t.Fatalf("RecycleMode() = %v, want %v", r.RecycleMode(), recycle)
		}
		a := r.Candidates(rand.New(rand.NewPCG(3, 4)))
		b := r.Candidates(rand.New(rand.NewPCG(3, 4)))
		if !slices.Equal(a, b) {
			t.Errorf("recycle=%v: Candidates with the same seed differ", recycle)
		}
		waiting, _ := r.InState(state.WaitingToBeTested)
		if len(a) == 0 || len(a) != len(waiting) {
			t.Errorf("recycle=%v: %d candidates, %d waiting-to-be-tested (no reserved/ logs)", recycle, len(a), len(waiting))
		}
		c := r.Candidates(rand.New(rand.NewPCG(5, 6)))
		names := func(cs []state.Candidate) []string {
			var out []string
			for _, c := range cs {
				out = append(out, c.Name)
			}
			slices.Sort(out)
			return out
		}
		if !slices.Equal(names(a), names(c)) {
			t.Errorf("recycle=%v: the candidate set depends on the seed", recycle)
		}
		for i := 1; i < len(a); i++ {
			if a[i-1].Weight.Compare(a[i].Weight) < 0 {
				t.Errorf("recycle=%v: candidate %d %+v outweighs candidate %d %+v", recycle, i, a[i].Weight, i-1, a[i-1].Weight)
			}
		}
	}
}

func TestResult_Lookups(t *testing.T) {
	r := exampleResult(t, false)
	tests := []struct{ name, want string }{
		{"ia32-libs-i386", state.ForeignI386},
		{"kbdcontrol", state.IgnoreDoesNotExist},
		{"no-such-package", state.DoesNotExist},
		{"libgssapi-krb5-2", state.DoesNotExist}, // dropped from the fixture
	}
	for _, tt := range tests {
		if got := r.State(tt.name); got != tt.want {
			t.Errorf("State(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if _, ok := r.InState("no-such-state"); ok {
		t.Error("InState(no-such-state) ok")
	}
	if l, ok := r.InState(state.CircularDependency); !ok || len(l) != 0 {
		t.Errorf("InState(obsolete state) = %v, %v; want empty, true", l, ok)
	}
	if _, ok := r.Dependencies("no-such-package"); ok {
		t.Error("Dependencies(no-such-package) ok")
	}
	if _, ok := r.Counts("no-such-package"); ok {
		t.Error("Counts(no-such-package) ok")
	}
	c, ok := r.Counts("libc6")
	if !ok || c.RRDeps < 100 || c.ChainLen < 2 {
		t.Errorf("Counts(libc6) = %+v, %v; want over 100 reverse dependencies", c, ok)
	}
	total := 0
	for _, sc := range r.Status() {
		total += sc.Count
	}
	if total != len(r.Names()) {
		t.Errorf("Status() counts %d packages, Names() %d", total, len(r.Names()))
	}
}

func TestActiveStates(t *testing.T) {
	want := []string{"successfully-tested", "failed-testing", "cannot-be-tested",
		"waiting-to-be-tested", "waiting-for-dependency-to-be-tested", "dependency-failed-testing",
		"dependency-cannot-be-tested", "dependency-does-not-exist", "unknown", "outdated"}
	if got := state.ActiveStates(); !slices.Equal(got, want) {
		t.Errorf("ActiveStates() = %v, want %v", got, want)
	}
	if got := len(state.States()); got != 14 {
		t.Errorf("len(States()) = %d, want 14", got)
	}
}

func TestLogs(t *testing.T) {
	var l state.Logs
	l.Add(state.Fail, "foo", "1.0-1")
	l.AddRecycle("foo", "1.0-1", time.Unix(10, 0), time.Unix(5, 0))
	if !l.Has(state.Fail, "foo", "1.0-1") || !l.Has(state.Recycle, "foo", "1.0-1") || l.Has(state.Pass, "foo", "1.0-1") {
		t.Error("Has does not report what was added")
	}
	if l.Has(state.Fail, "foo", "1.0-2") {
		t.Error("Has(other version) = true")
	}
	if l.Len(state.Recycle) != 1 || l.Len(state.Pass) != 0 {
		t.Errorf("Len = %d recycle, %d pass; want 1, 0", l.Len(state.Recycle), l.Len(state.Pass))
	}
	if state.Untestable.String() != "untestable" {
		t.Errorf("Untestable.String() = %q", state.Untestable.String())
	}
}

// TestResult_Each checks that Each gives every package once, in the order
// of the Packages file, with its Ref and what State, TestVersion and
// Dependencies say of it; of two stanzas of a name, the higher version's.
func TestResult_Each(t *testing.T) {
	pkgs := parsePackages(t, strings.NewReader(examplePackages+"\nPackage: libgcc-s1\nVersion: 12.2.0-15\nDepends: libc6\n"))
	for i := range pkgs {
		pkgs[i].Ref = 100 + i
	}
	pkgs[0].TestVersion = "2.36-9+deb12u15"
	sec := &state.Section{Name: "bookworm", Packages: pkgs}
	sec.Logs.Add(state.Pass, "gcc-12-base", "12.2.0-14+deb12u1")
	r, err := state.Compute(sec)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	var refs []int
	r.Each(func(e state.Entry) {
		names = append(names, e.Name)
		refs = append(refs, e.Ref)
		if want := r.State(e.Name); e.State != want {
			t.Errorf("Each: %s in %s, State says %s", e.Name, e.State, want)
		}
		if want, _ := r.TestVersion(e.Name); e.TestVersion != want {
			t.Errorf("Each: %s at %s, TestVersion says %s", e.Name, e.TestVersion, want)
		}
		if want, _ := r.Dependencies(e.Name); !slices.Equal(e.Dependencies(), want) {
			t.Errorf("Each: %s depends on %v, Dependencies says %v", e.Name, e.Dependencies(), want)
		}
	})
	if want := r.Names(); !slices.Equal(names, want) {
		t.Errorf("Each gave %v, want %v", names, want)
	}
	// libgcc-s1 keeps its place and takes the Ref of its higher version.
	if want := []int{100, 104, 102, 103}; !slices.Equal(refs, want) {
		t.Errorf("Each gave refs %v, want %v", refs, want)
	}
}
