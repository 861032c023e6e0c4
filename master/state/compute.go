package state

import (
	"errors"
	"fmt"
	"strings"

	"piuparts-server/internal/debian"
)

// ErrSectionCycle is returned by [Compute] when depends-sections form a cycle.
var ErrSectionCycle = errors.New("state: depends-sections form a cycle")

// Log flags of a package (bits by Kind).
const (
	fPass       = 1 << Pass
	fFail       = 1 << Fail
	fUntestable = 1 << Untestable
	fReserved   = 1 << Reserved
	fBugged     = 1 << Bugged
	fAffected   = 1 << Affected
	fRecycle    = 1 << Recycle
)

// engine holds what the databases of one Compute share: the interned names
// and every package of every section under a global id.
type engine struct {
	ids   map[string]int32
	names []string
	pkgs  []*pkg // by global id
	// origin is the Engine's prepared engine this one was copied from
	// (Engine.Compute), nil for Compute's own.
	origin *engine
}

func (e *engine) intern(s string) int32 {
	if id, ok := e.ids[s]; ok {
		return id
	}
	// A copy of its own: the name is often a piece of a whole stanza's
	// text, which the result would otherwise keep alive.
	s = strings.Clone(s)
	id := int32(len(e.names))
	e.ids[s] = id
	e.names = append(e.names, s)
	return id
}

// pkg is one package of one section (piupartslib's Package).
type pkg struct {
	ref         int // Package.Ref
	name        int32
	version     string
	testVersion string
	// first holds the first alternative's name of each Depends (0) and
	// Pre-Depends (1) item; prefer_alt_depends replaces entries while the
	// states are computed. alts holds all alternatives.
	first [2][]int32
	alts  [2][][]int32
	provs []int32
	logs  uint8
	db    *db
	gid   int32
}

// dependencies is Package.dependencies: Depends then Pre-Depends.
func (p *pkg) dependencies(dst []int32) []int32 {
	return append(append(dst, p.first[0]...), p.first[1]...)
}

// db is one section's PackagesDB.
type db struct {
	e *engine
	// times are the recycle/ markers' times (Logs.AddRecycle); nothing
	// else of the Section is kept, so that its parsed packages can go
	// once the names are interned.
	times     map[string][2]int64
	pkgs      []*pkg // file order (dict insertion order)
	byName    []int32
	virt      [][]int32 // provided name -> providing package names, in order
	deps      []*db
	recycle   bool
	useCached bool
	state     []uint8
	done      bool
	visiting  bool
	// resolve is get_package(name, recurse=True, resolve_virtual=True) as a
	// global package id, or -1.
	resolve []int32
	g       *graph
	// gt, in an Engine's computation, is the prepared superset graph
	// (see graph) that g starts from.
	gt *graph
}

// Compute computes the states of the packages of sec, and first those of
// its depends-sections, as piuparts-master does when it loads a section:
// the depends-sections are computed with cached successes trusted, sec
// without. It returns ErrSectionCycle when depends-sections form a cycle and
// an error naming the package when a Package has an empty name or version.
func Compute(sec *Section) (*Result, error) {
	e, root, built, err := buildAll(sec)
	if err != nil {
		return nil, err
	}
	// Only the section asked for trusts no pass/ log blindly and recycles.
	root.useCached = false
	root.recycle = sec.Recycle && sec.Logs.Len(Recycle) > 0
	for _, d := range built {
		d.index()
	}
	e.compute(root)
	return &Result{root: root}, nil
}

// buildAll makes the engine of sec and its depends-sections and returns
// it, the db of sec and the db of every section.
func buildAll(sec *Section) (*engine, *db, map[*Section]*db, error) {
	// Names are about twice the packages (virtual and missing ones).
	e := &engine{ids: make(map[string]int32, 2*countPackages(sec, map[*Section]bool{}))}
	built := make(map[*Section]*db)
	root, err := e.build(sec, built)
	return e, root, built, err
}

func countPackages(sec *Section, seen map[*Section]bool) int {
	if seen[sec] {
		return 0
	}
	seen[sec] = true
	n := len(sec.Packages)
	for _, d := range sec.Depends {
		n += countPackages(d, seen)
	}
	return n
}

// build makes the db of sec and of its depends-sections, interning names.
func (e *engine) build(sec *Section, built map[*Section]*db) (*db, error) {
	if d, ok := built[sec]; ok {
		if d.visiting {
			return nil, fmt.Errorf("section %q: %w", cut(sec.Name), ErrSectionCycle)
		}
		return d, nil
	}
	d := &db{e: e, times: sec.Logs.times, visiting: true, useCached: !sec.Standalone}
	built[sec] = d
	for _, dep := range sec.Depends {
		dd, err := e.build(dep, built)
		if err != nil {
			return nil, err
		}
		d.deps = append(d.deps, dd)
	}
	d.visiting = false

	// PackagesFile._read_file: a later stanza replaces an earlier one only
	// with a higher version, and keeps its position. pos maps a name to
	// its index in list, plus one (0: not seen).
	var pos []int32
	var list []*Package
	for i := range sec.Packages {
		p := &sec.Packages[i]
		if p.Name == "" || p.Version == "" {
			return nil, fmt.Errorf("section %q: package %q without name or version", cut(sec.Name), cut(p.Name))
		}
		id := e.intern(p.Name)
		if int(id) >= len(pos) {
			pos = append(pos, make([]int32, int(id)+1-len(pos))...)
		}
		if j := pos[id] - 1; j >= 0 {
			if debian.CompareVersions(p.Version, list[j].Version) > 0 {
				list[j] = p
			}
			continue
		}
		pos[id] = int32(len(list)) + 1
		list = append(list, p)
	}
	// The interned names of all relations share one allocation, as do
	// the lists of alternatives: a package has a dozen of them.
	nInts, nAlts := 0, 0
	for _, p := range list {
		for _, rel := range [2][][]string{p.Depends, p.PreDepends} {
			nInts += len(rel)
			nAlts += len(rel)
			for _, alt := range rel {
				nInts += len(alt)
			}
		}
		nInts += len(p.Provides)
	}
	ints := make([]int32, 0, nInts)
	alts := make([][]int32, 0, nAlts)
	take := func(n int) []int32 {
		s := ints[len(ints) : len(ints)+n : len(ints)+n]
		ints = ints[:len(ints)+n]
		return s
	}
	d.pkgs = make([]*pkg, len(list))
	recs := make([]pkg, len(list))
	var key []byte
	for i, p := range list {
		r := &recs[i]
		r.ref = p.Ref
		r.name = e.intern(p.Name)
		// Copies, as for names: the stanza's text can go.
		r.version = strings.Clone(p.Version)
		r.testVersion = r.version
		if tv := p.testVersion(); tv != p.Version {
			r.testVersion = strings.Clone(tv)
		}
		key = appendLogKey(key[:0], p.Name, r.testVersion)
		r.logs = sec.Logs.m[string(key)]
		r.db = d
		r.gid = int32(len(e.pkgs))
		for h, rel := range [2][][]string{p.Depends, p.PreDepends} {
			if len(rel) == 0 {
				continue
			}
			r.first[h] = take(len(rel))
			r.alts[h] = alts[len(alts) : len(alts)+len(rel) : len(alts)+len(rel)]
			alts = alts[:len(alts)+len(rel)]
			for k, alt := range rel {
				names := take(len(alt))
				for a, n := range alt {
					names[a] = e.intern(n)
				}
				r.alts[h][k] = names
				r.first[h][k] = names[0]
			}
		}
		if len(p.Provides) > 0 {
			r.provs = take(len(p.Provides))
			for k, pr := range p.Provides {
				r.provs[k] = e.intern(pr)
			}
		}
		d.pkgs[i] = r
		e.pkgs = append(e.pkgs, r)
	}
	return d, nil
}

// index builds the name tables of d (_find_all_packages) once every name is
// interned.
func (d *db) index() {
	n := len(d.e.names)
	d.byName = make([]int32, n)
	for i := range d.byName {
		d.byName[i] = -1
	}
	for i, p := range d.pkgs {
		d.byName[p.name] = int32(i)
	}
	d.virt = make([][]int32, n)
	for _, p := range d.pkgs {
		for _, v := range p.provs {
			if v != p.name {
				d.virt[v] = append(d.virt[v], p.name)
			}
		}
	}
	d.state = make([]uint8, len(d.pkgs))
}

// buildResolve fills d.resolve once d and its depends-sections are indexed.
func (d *db) buildResolve() {
	d.resolve = make([]int32, len(d.e.names))
	for n := range d.resolve {
		d.resolve[n] = d.getPackage(int32(n), true, true)
	}
}

// getPackage is PackagesDB.get_package: the global id of the package, or -1.
func (d *db) getPackage(n int32, recurse, resolveVirtual bool) int32 {
	if i := d.byName[n]; i >= 0 {
		return d.pkgs[i].gid
	}
	if recurse {
		for _, dd := range d.deps {
			if i := dd.byName[n]; i >= 0 {
				return dd.pkgs[i].gid
			}
		}
	}
	if resolveVirtual {
		var first int32 = -1
		if len(d.virt[n]) > 0 {
			first = d.virt[n][0]
		} else if recurse {
			for _, dd := range d.deps {
				if len(dd.virt[n]) > 0 {
					first = dd.virt[n][0]
					break
				}
			}
		}
		if first >= 0 {
			return d.getPackage(first, recurse, false)
		}
	}
	return -1
}

// getState is PackagesDB.get_package_state.
func (d *db) getState(n int32, resolveVirtual, recurse bool) uint8 {
	if i := d.byName[n]; i >= 0 {
		s := d.state[i]
		if recurse && s == sOutdated {
			for _, dd := range d.deps {
				if st := dd.getState(n, resolveVirtual, false); st != sDNE && st != sOutdated {
					return st
				}
			}
		}
		return s
	}
	if prov := d.virt[n]; len(prov) > 0 {
		if resolveVirtual {
			return d.state[d.byName[prov[0]]]
		}
		return sVirtual
	}
	if recurse {
		for _, dd := range d.deps {
			if st := dd.getState(n, resolveVirtual, false); st != sDNE {
				return st
			}
		}
	}
	name := d.e.names[n]
	if foreignPackages[name] {
		return sForeign
	}
	if ignoredMissing[name] {
		return sIgnoreDNE
	}
	return sDNE
}

// bestState is PackagesDB.get_best_package_state with its defaults.
func (d *db) bestState(n int32) uint8 {
	ps := d.getState(n, true, true)
	if good[ps] {
		return ps
	}
	best := uint8(noRank)
	var bestState uint8
	consider := func(m int32) {
		st := d.getState(m, false, true)
		if r := bestRank(st); r < best {
			best, bestState = r, st
		}
	}
	any := len(d.virt[n]) > 0
	for _, dd := range d.deps {
		any = any || len(dd.virt[n]) > 0
	}
	if !any {
		return ps
	}
	consider(n)
	for _, m := range d.virt[n] {
		consider(m)
	}
	for _, dd := range d.deps {
		for _, m := range dd.virt[n] {
			consider(m)
		}
	}
	if best == noRank {
		return ps
	}
	return bestState
}

// compute is _compute_package_states.
func (e *engine) compute(d *db) {
	if d.done {
		return
	}
	d.done = true
	for _, dd := range d.deps {
		e.compute(dd)
	}
	if d.resolve == nil {
		d.buildResolve()
	}
	checkOutdated := len(d.deps) > 0
	var todo []int32
	for i, p := range d.pkgs {
		s := d.lookup(p, checkOutdated)
		d.state[i] = s
		if s == sUnknown {
			todo = append(todo, int32(i))
		}
	}
	var scratch []int32
	var states []uint8
	for len(todo) > 0 {
		next := todo[:0]
		progress := false
		for _, i := range todo {
			var s uint8
			s, scratch, states = d.computeOne(d.pkgs[i], scratch, states)
			if s == sUnknown {
				next = append(next, i)
				continue
			}
			d.state[i] = s
			progress = true
		}
		todo = next
		if !progress {
			break
		}
	}
}

// lookup is _lookup_package_state.
func (d *db) lookup(p *pkg, checkOutdated bool) uint8 {
	if checkOutdated {
		for _, dd := range d.deps {
			if i := dd.byName[p.name]; i >= 0 && debian.CompareVersions(p.version, dd.pkgs[i].version) < 0 {
				return sOutdated
			}
		}
	}
	if d.recycle {
		if p.logs&fReserved != 0 {
			return sWaiting
		}
		if p.logs&fRecycle != 0 {
			return sUnknown
		}
	}
	if p.logs&fPass != 0 {
		success := true
		if !d.useCached {
			// A pass/ log does not count while a dependency is missing
			// from this section.
			for h := range p.first {
				for _, dep := range p.first[h] {
					if d.getPackage(dep, false, true) < 0 {
						success = false
					}
				}
			}
		}
		if success {
			return sSuccess
		}
	}
	switch {
	case p.logs&(fFail|fBugged|fAffected) != 0:
		return sFailed
	case p.logs&fUntestable != 0:
		return sCannot
	case p.logs&fReserved != 0:
		return sWaiting
	}
	return sUnknown
}

// successfullyTested is _is_successfully_tested.
func (d *db) successfullyTested(p *pkg) bool {
	return p.logs&fPass != 0 && !(d.recycle && p.logs&fRecycle != 0)
}

// computeOne is _compute_package_state. It reuses deps and states as
// scratch space and returns them.
func (d *db) computeOne(p *pkg, deps []int32, states []uint8) (uint8, []int32, []uint8) {
	// Prefer the alternative in the best state (essential-required,
	// successfully-tested, waiting, unknown; the first of equals).
	for h := range p.alts {
		for k, alt := range p.alts[h] {
			if len(alt) < 2 {
				continue
			}
			found, score, prefer := 0, -1, int32(-1)
			for _, a := range alt {
				st := d.bestState(a)
				if st == sDNE {
					continue
				}
				found++
				switch {
				case score < 3 && st == sEssential:
					prefer, score = a, 3
				case score < 2 && st == sSuccess:
					prefer, score = a, 2
				case score < 1 && (st == sWaiting || st == sWaitingDep):
					prefer, score = a, 1
				case score < 0 && st == sUnknown:
					prefer, score = a, 0
				}
			}
			if found == 0 {
				return sDepDNE, deps, states
			}
			if score >= 0 && p.first[h][k] != prefer {
				old := p.first[h][k]
				p.first[h][k] = prefer
				if d.g != nil {
					d.g.changed(p.gid, old, prefer)
				}
			}
		}
	}

	deps = p.dependencies(deps[:0])
	states = states[:0]
	for _, dep := range deps {
		states = append(states, d.bestState(dep))
	}
	for _, st := range states {
		if e := propagateError[st]; e != 0 {
			return e, deps, states
		}
	}
	testable := true
	for _, st := range states {
		if !good[st] {
			testable = false
			break
		}
	}
	if !testable && d.onCycleWith(p, deps, states) {
		// Circular dependencies are testable once everything off the cycle
		// is good.
		testable = true
	}
	if testable {
		if d.successfullyTested(p) {
			return sSuccess, deps, states
		}
		return sWaiting, deps, states
	}
	for _, st := range states {
		if w := propagateWaiting[st]; w != 0 {
			return w, deps, states
		}
	}
	return sUnknown, deps, states
}

// onCycleWith reports whether every dependency of p that is not in a good
// state is in p's dependency cycle (_get_dependency_cycle): the cycle is the
// strongly connected component of p in the graph of names, whose edges go
// from a name to the dependencies of the package it resolves to.
func (d *db) onCycleWith(p *pkg, deps []int32, states []uint8) bool {
	if d.g == nil {
		if d.gt != nil {
			d.g = d.gt.clone(d)
		} else {
			d.g = newGraph(d)
		}
	}
	for k, dep := range deps {
		if !good[states[k]] && !d.g.onCycle(dep, p.name) {
			return false
		}
	}
	return true
}
