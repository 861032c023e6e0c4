package state

import (
	"slices"
	"time"
)

// Engine is a section and its depends-sections prepared once for the
// state algorithm: names interned, packages and name tables built. Logs
// change between computations ([Engine.SetLog]); each [Engine.Compute]
// computes all states afresh on the prepared tables, as [Compute] would on
// the same packages and logs, and leaves the Results it gave earlier as
// they were. A long-lived master keeps one per section, so that a new log
// costs a computation and not a load of the archive. An Engine is not safe
// for concurrent use; its Results are.
type Engine struct {
	e    *engine
	root *db
	dbs  []*db          // every db, depends-sections first
	by   map[string]*db // by section name
	// markers counts the recycle/ markers of the root section, of any
	// version: recycle mode needs one (enable_recycling).
	markers map[string]bool
	nFirst  int // the number of first-alternative entries of all packages
	// graph is the root's superset graph, prepared once.
	graph *graph
	// rdeps is the reverse dependencies of the root by the preferred
	// alternatives in first (all packages' first entries, flat), as the
	// last computation left them: the next one shares it when its
	// preferences are the same.
	rdeps [][]int32
	first []int32
}

// NewEngine prepares sec and its depends-sections, with their Logs as the
// logs to start from. It returns the errors of [Compute].
func NewEngine(sec *Section) (*Engine, error) {
	e, root, built, err := buildAll(sec)
	if err != nil {
		return nil, err
	}
	en := &Engine{e: e, root: root, by: make(map[string]*db), markers: make(map[string]bool)}
	var order func(s *Section)
	seen := make(map[*Section]bool)
	order = func(s *Section) {
		if seen[s] {
			return
		}
		seen[s] = true
		for _, d := range s.Depends {
			order(d)
		}
		d := built[s]
		en.dbs = append(en.dbs, d)
		en.by[s.Name] = d
	}
	order(sec)
	for _, d := range en.dbs {
		d.index()
	}
	for _, d := range en.dbs {
		d.buildResolve()
	}
	root.useCached = false
	for k, f := range sec.Logs.m {
		if f&fRecycle != 0 {
			en.markers[k] = true
		}
	}
	for _, p := range e.pkgs {
		en.nFirst += len(p.first[0]) + len(p.first[1])
	}
	return en, nil
}

// SetLog records that the log (or marker) of name at version in dir of
// the named section appeared (present) or went. It reports whether the
// states may change: false for a section the Engine does not hold, and for
// a version that is not the package's test version (its logs do not
// count).
func (en *Engine) SetLog(section string, dir Kind, name, version string, present bool) bool {
	d, ok := en.by[section]
	if !ok {
		return false
	}
	if d == en.root && dir == Recycle {
		k := logKey(name, version)
		if present {
			en.markers[k] = true
		} else {
			delete(en.markers, k)
			delete(d.times, k)
		}
	}
	id, ok := en.e.ids[name]
	if !ok || d.byName[id] < 0 {
		return false
	}
	p := d.pkgs[d.byName[id]]
	if p.testVersion != version {
		return false
	}
	if present {
		p.logs |= 1 << dir
	} else {
		p.logs &^= 1 << dir
	}
	return true
}

// SetRecycleTimes records the change and modification times of a recycle/
// marker of the root section, which order recycled candidates.
func (en *Engine) SetRecycleTimes(name, version string, ctime, mtime time.Time) {
	if en.root.times == nil {
		en.root.times = make(map[string][2]int64)
	}
	en.root.times[logKey(name, version)] = [2]int64{ctime.Unix(), mtime.Unix()}
}

// Compute computes the states of every package from the prepared tables
// and the current logs, in recycle mode when recycle is set and the root
// section has a recycle/ marker.
func (en *Engine) Compute(recycle bool) *Result {
	t := en.e
	ne := &engine{ids: t.ids, names: t.names, pkgs: make([]*pkg, len(t.pkgs)), origin: t}
	recs := make([]pkg, len(t.pkgs))
	firsts := make([]int32, 0, en.nFirst)
	nd := make(map[*db]*db, len(en.dbs))
	dbs := make([]db, len(en.dbs))
	for i, d := range en.dbs {
		c := &dbs[i]
		*c = *d
		c.e = ne
		c.state = make([]uint8, len(d.pkgs))
		c.pkgs = make([]*pkg, len(d.pkgs))
		c.done, c.g = false, nil
		if len(d.times) > 0 {
			c.times = make(map[string][2]int64, len(d.times))
			for k, v := range d.times {
				c.times[k] = v
			}
		}
		c.deps = make([]*db, len(d.deps))
		for j, dd := range d.deps {
			c.deps[j] = nd[dd]
		}
		nd[d] = c
	}
	for gid, p := range t.pkgs {
		r := &recs[gid]
		*r = *p
		for h := range r.first {
			if n := len(p.first[h]); n > 0 {
				r.first[h] = append(firsts, p.first[h]...)[len(firsts) : len(firsts)+n : len(firsts)+n]
				firsts = firsts[:len(firsts)+n]
			}
		}
		r.db = nd[p.db]
		ne.pkgs[gid] = r
	}
	for _, d := range en.dbs {
		c := nd[d]
		for i, p := range d.pkgs {
			c.pkgs[i] = ne.pkgs[p.gid]
		}
	}
	root := nd[en.root]
	root.recycle = recycle && len(en.markers) > 0
	if en.graph == nil {
		en.graph = newGraph(en.root)
	}
	root.gt = en.graph
	ne.compute(root)
	r := &Result{root: root}
	if !slices.Equal(firsts, en.first) {
		en.first = slices.Clone(firsts)
		en.rdeps = root.rdeps()
	}
	r.rdeps = en.rdeps
	return r
}

// ResetLogs replaces the logs of the named section with logs, as after
// listing its directories again. It reports false for a section the
// Engine does not hold.
func (en *Engine) ResetLogs(section string, logs *Logs) bool {
	d, ok := en.by[section]
	if !ok {
		return false
	}
	var key []byte
	for _, p := range d.pkgs {
		key = appendLogKey(key[:0], en.e.names[p.name], p.testVersion)
		p.logs = logs.m[string(key)]
	}
	if d == en.root {
		clear(en.markers)
		for k, f := range logs.m {
			if f&fRecycle != 0 {
				en.markers[k] = true
			}
		}
		d.times = make(map[string][2]int64, len(logs.times))
		for k, v := range logs.times {
			d.times[k] = v
		}
	}
	return true
}

// Sections returns the names of the sections the Engine holds: the
// section it was made for and its depends-sections.
func (en *Engine) Sections() []string {
	out := make([]string, 0, len(en.dbs))
	for _, d := range en.dbs {
		for name, dd := range en.by {
			if dd == d {
				out = append(out, name)
			}
		}
	}
	return out
}

// Change is a package whose state changed: Entry as it is now, Was the
// state it had.
type Change struct {
	Entry
	Was string
}

// Changes returns the packages whose state differs in r from old, both
// computed by the same Engine, in the order of the Packages files; it
// returns false when old is nil or came from another Engine.
func (r *Result) Changes(old *Result) ([]Change, bool) {
	if old == nil || r.root.e.origin == nil || old.root.e.origin != r.root.e.origin {
		return nil, false
	}
	var out []Change
	for i, p := range r.root.pkgs {
		if r.root.state[i] != old.root.state[i] {
			out = append(out, Change{Entry: Entry{Ref: p.ref, Name: r.root.e.names[p.name], TestVersion: p.testVersion,
				State: stateNames[r.root.state[i]], r: r, p: p}, Was: stateNames[old.root.state[i]]})
		}
	}
	return out, true
}

// Weight returns the weight of package name as [Result.Candidates] would
// give it, and false when the section has no such package.
func (r *Result) Weight(name string) (Weight, bool) {
	p, ok := r.own(name)
	if !ok {
		return Weight{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.countsLocked(p)
	w := Weight{Chain: min(c.ChainLen, c.Waiting), Waiting: c.Waiting}
	if r.root.recycle {
		w.Problematic = p.logs&fPass == 0
		t := r.root.times[logKey(name, p.testVersion)]
		w.Ctime = float64(-t[0]) / 3600
		w.Mtime = float64(-t[1]) / 3600
	}
	return w, true
}
