package state

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
)

// Result is the computed state of a section. Its methods are safe for
// concurrent use.
type Result struct {
	root *db

	mu     sync.Mutex
	rdeps  [][]int32 // by name id: the packages of root depending on it
	counts []*Counts // by package index of root
	// seen and epoch are countsLocked's scratch: by name id, the epoch
	// of the last walk that reached the name.
	seen  []uint32
	epoch uint32
}

// RecycleMode reports whether recycle mode is in effect: asked for, and
// some recycle/ marker exists.
func (r *Result) RecycleMode() bool { return r.root.recycle }

func (r *Result) id(name string) (int32, bool) {
	id, ok := r.root.e.ids[name]
	return id, ok
}

func (r *Result) own(name string) (*pkg, bool) {
	id, ok := r.id(name)
	if !ok || r.root.byName[id] < 0 {
		return nil, false
	}
	return r.root.pkgs[r.root.byName[id]], true
}

// Names returns the section's package names in the order of its Packages
// files.
func (r *Result) Names() []string {
	out := make([]string, len(r.root.pkgs))
	for i, p := range r.root.pkgs {
		out[i] = r.root.e.names[p.name]
	}
	return out
}

// TestVersion returns the version of package name that is tested and whose
// logs count (get_test_versions), and false when the section has no such
// package.
func (r *Result) TestVersion(name string) (string, bool) {
	p, ok := r.own(name)
	if !ok {
		return "", false
	}
	return p.testVersion, true
}

// State returns the state of name as piuparts-master's _state command does
// (get_package_state): a package's own state (for an outdated package the
// state in a depends-section, if it has one there); for a virtual name the
// state of its first provider; then the state in a depends-section;
// ForeignI386, IgnoreDoesNotExist or DoesNotExist for others.
func (r *Result) State(name string) string {
	return r.StateOf(name, true, true)
}

// InState returns the sorted names of the packages in state (the _list
// command), and false when state is not one of [States].
func (r *Result) InState(state string) ([]string, bool) {
	s, ok := stateCode(state)
	if !ok {
		return nil, false
	}
	var out []string
	for i, p := range r.root.pkgs {
		if r.root.state[i] == s {
			out = append(out, r.root.e.names[p.name])
		}
	}
	sort.Strings(out)
	return out, true
}

// Entry is one package of the section as [Result.Each] gives it.
type Entry struct {
	Ref         int // the Ref of the Package it was computed from
	Name        string
	TestVersion string
	State       string
	r           *Result
	p           *pkg
}

// Dependencies returns what [Result.Dependencies] does for the package.
func (e Entry) Dependencies() []string {
	return e.r.strings(e.p.dependencies(nil))
}

// Each calls fn for each package of the section, in the order of its
// Packages files (of several stanzas of a name, the one the states are
// computed from): all of Names, State, TestVersion and Dependencies in one
// pass, for storing them.
func (r *Result) Each(fn func(Entry)) {
	for i, p := range r.root.pkgs {
		fn(Entry{Ref: p.ref, Name: r.root.e.names[p.name], TestVersion: p.testVersion,
			State: stateNames[r.root.state[i]], r: r, p: p})
	}
}

// StateCount is the number of packages in one state.
type StateCount struct {
	State string
	Count int
}

// Status returns the number of packages in each of [ActiveStates], in that
// order: the status command's answer.
func (r *Result) Status() []StateCount {
	var n [numStates]int
	for _, s := range r.root.state {
		n[s]++
	}
	var out []StateCount
	for s := range numStates {
		if !obsolete[s] {
			out = append(out, StateCount{stateNames[s], n[s]})
		}
	}
	return out
}

// Dependencies returns the dependencies of package name (the _depends
// command): of each Depends and then Pre-Depends item the first
// alternative, or the one preferred while the states were computed. It
// returns false when the section has no such package.
func (r *Result) Dependencies(name string) ([]string, bool) {
	p, ok := r.own(name)
	if !ok {
		return nil, false
	}
	return r.strings(p.dependencies(nil)), true
}

func (r *Result) strings(ids []int32) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = r.root.e.names[id]
	}
	return out
}

// RecursiveDependencies returns the dependencies of package name and theirs
// in breadth-first order, each once (the _recursive-depends command); a
// dependency is followed through the package it names, in the section or a
// depends-section, or else its first provider. It returns false when the
// section has no such package.
func (r *Result) RecursiveDependencies(name string) ([]string, bool) {
	p, ok := r.own(name)
	if !ok {
		return nil, false
	}
	return r.strings(r.root.recursiveDeps(p.gid, -1)), true
}

// recursiveDeps is _get_recursive_dependencies of package gid. With stop
// >= 0 it returns as soon as it meets the name stop, with stop last.
func (d *db) recursiveDeps(gid, stop int32) []int32 {
	seen := make(map[int32]bool)
	var out []int32
	more := d.e.pkgs[gid].dependencies(nil)
	for head := 0; head < len(more); head++ {
		dep := more[head]
		if seen[dep] {
			continue
		}
		seen[dep] = true
		out = append(out, dep)
		if dep == stop {
			return out
		}
		if r := d.resolve[dep]; r >= 0 {
			more = d.e.pkgs[r].dependencies(more)
		}
	}
	return out
}

// DependencyCycle returns the names on a dependency cycle with package name,
// in breadth-first order from it (the _depcycle command), or an empty list.
// It returns false when the section has no such package.
func (r *Result) DependencyCycle(name string) ([]string, bool) {
	p, ok := r.own(name)
	if !ok {
		return nil, false
	}
	return r.strings(r.root.dependencyCycle(p.name)), true
}

// dependencyCycle is _get_dependency_cycle of the package named name.
func (d *db) dependencyCycle(name int32) []int32 {
	seen := make(map[int32]bool)
	circular := []int32{}
	more := []int32{name}
	for head := 0; head < len(more); head++ {
		dep := more[head]
		if seen[dep] {
			continue
		}
		seen[dep] = true
		rp := d.resolve[dep]
		if rp < 0 {
			continue
		}
		if rec := d.recursiveDeps(rp, name); len(rec) > 0 && rec[len(rec)-1] == name {
			circular = append(circular, dep)
			more = d.e.pkgs[rp].dependencies(more)
		}
	}
	return circular
}

// Counts are the reverse-dependency figures of a package, which order the
// candidates and appear in the report.
type Counts struct {
	// RRDeps is the number of packages that depend on it, directly or not.
	RRDeps int
	// Block is, for a package in an error state, how many of those are in
	// an error state too; 0 otherwise.
	Block int
	// Waiting is, for a waiting package, how many of those wait too; 0
	// otherwise.
	Waiting int
	// ChainLen is the length of the longest chain of reverse dependencies,
	// counting the package itself.
	ChainLen int
}

// Counts returns the reverse-dependency figures of package name
// (piupartslib's rrdep_count, block_count, waiting_count, rdep_chain_len),
// and false when the section has no such package.
func (r *Result) Counts(name string) (Counts, bool) {
	p, ok := r.own(name)
	if !ok {
		return Counts{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.countsLocked(p), true
}

// countsLocked is _calc_rrdep_pkg_counts, cached.
func (r *Result) countsLocked(p *pkg) Counts {
	d := r.root
	i := d.byName[p.name]
	if r.counts == nil {
		r.counts = make([]*Counts, len(d.pkgs))
	}
	if c := r.counts[i]; c != nil {
		return *c
	}
	if r.rdeps == nil {
		r.rdeps = d.rdeps()
	}
	// seen is r.seen[x] == r.epoch: a slice stamped anew for each package
	// instead of a map made for each (this runs for every waiting package).
	if r.seen == nil {
		r.seen = make([]uint32, len(d.e.names))
	}
	r.epoch++
	r.seen[p.name] = r.epoch
	level := []int32{p.name}
	var all []int32
	chain := 0
	for len(level) > 0 {
		chain++
		var next []int32
		for _, x := range level {
			for _, y := range r.rdeps[x] {
				if r.seen[y] != r.epoch {
					r.seen[y] = r.epoch
					next = append(next, y)
				}
			}
		}
		all = append(all, next...)
		level = next
	}
	c := &Counts{RRDeps: len(all), ChainLen: chain}
	st := d.state[i]
	for _, x := range all {
		sx := d.state[d.byName[x]]
		if isError[st] && isError[sx] {
			c.Block++
		}
		if isWaiting[st] && isWaiting[sx] {
			c.Waiting++
		}
	}
	r.counts[i] = c
	return *c
}

// Weight orders the candidates for testing; higher comes first
// (piupartslib's _get_package_weight). The last three fields are set only
// in recycle mode.
type Weight struct {
	// Chain is min(ChainLen, Waiting) of the package's Counts.
	Chain   int
	Waiting int
	// Problematic is true when no pass/ log exists.
	Problematic bool
	// Ctime and Mtime are minus the recycle/ marker's change and
	// modification times in hours (0 without a marker).
	Ctime, Mtime float64
}

// Compare returns -1, 0 or +1 as w orders before, with or after v, the
// tuple comparison piupartslib sorts by.
func (w Weight) Compare(v Weight) int {
	if c := cmp.Compare(w.Chain, v.Chain); c != 0 {
		return c
	}
	if c := cmp.Compare(w.Waiting, v.Waiting); c != 0 {
		return c
	}
	if w.Problematic != v.Problematic {
		if w.Problematic {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(w.Ctime, v.Ctime); c != 0 {
		return c
	}
	return cmp.Compare(w.Mtime, v.Mtime)
}

// Candidate is a package ready for testing.
type Candidate struct {
	Name        string
	TestVersion string
	Weight      Weight
}

// Candidates returns the packages ready for testing in the order the master
// tries to reserve them (_find_packages_ready_for_testing): those waiting to
// be tested without a reserved/ log (unless a recycle/ marker exists too),
// by decreasing Weight, ties broken by random numbers from rng. The master
// still skips, as reserve_package does, a candidate with a reserved/ log,
// or (outside recycle mode) one with a log in pass/, fail/, untestable/,
// bugged/ or affected/.
func (r *Result) Candidates(rng *rand.Rand) []Candidate {
	d := r.root
	names, _ := r.InState(WaitingToBeTested)
	type entry struct {
		c Candidate
		x float64
	}
	var list []entry
	r.mu.Lock()
	for _, n := range names {
		p, _ := r.own(n)
		if p.logs&fReserved != 0 && p.logs&fRecycle == 0 {
			continue
		}
		c := r.countsLocked(p)
		w := Weight{Chain: min(c.ChainLen, c.Waiting), Waiting: c.Waiting}
		if d.recycle {
			w.Problematic = p.logs&fPass == 0
			t := d.times[logKey(n, p.testVersion)]
			w.Ctime = float64(-t[0]) / 3600
			w.Mtime = float64(-t[1]) / 3600
		}
		list = append(list, entry{Candidate{n, p.testVersion, w}, rng.Float64()})
	}
	r.mu.Unlock()
	slices.SortStableFunc(list, func(a, b entry) int {
		if c := b.c.Weight.Compare(a.c.Weight); c != 0 {
			return c
		}
		return cmp.Compare(b.x, a.x)
	})
	out := make([]Candidate, len(list))
	for i, e := range list {
		out[i] = e.c
	}
	return out
}

// StateOf returns the state of name as piupartslib's get_package_state
// does with its two flags: without resolveVirtual a virtual name is
// "virtual", without recurse the depends-sections are not asked. The
// report shows binaries with recurse off and dependencies with
// resolveVirtual off.
func (r *Result) StateOf(name string, resolveVirtual, recurse bool) string {
	id, ok := r.id(name)
	if !ok {
		switch {
		case foreignPackages[name]:
			return ForeignI386
		case ignoredMissing[name]:
			return IgnoreDoesNotExist
		}
		return DoesNotExist
	}
	return stateNames[r.root.getState(id, resolveVirtual, recurse)]
}

// Providers returns the packages that provide name, in the section and
// then in its depends-sections, in the order of their Packages files
// (piupartslib's get_providers).
func (r *Result) Providers(name string) []string {
	id, ok := r.id(name)
	if !ok {
		return nil
	}
	var out []string
	for _, p := range r.root.virt[id] {
		out = append(out, r.root.e.names[p])
	}
	for _, d := range r.root.deps {
		if int(id) < len(d.virt) {
			for _, p := range d.virt[id] {
				out = append(out, d.e.names[p])
			}
		}
	}
	return out
}

// rdeps is _get_rdep_dict: by name id (of the package a dependency
// resolves to), the packages of d depending on it.
func (d *db) rdeps() [][]int32 {
	rd := make([][]int32, len(d.e.names))
	for _, q := range d.pkgs {
		for h := range q.first {
			for _, dep := range q.first[h] {
				key := dep
				if rp := d.resolve[dep]; rp >= 0 {
					key = d.e.pkgs[rp].name
				}
				if l := rd[key]; len(l) == 0 || l[len(l)-1] != q.name {
					rd[key] = append(l, q.name)
				}
			}
		}
	}
	return rd
}
