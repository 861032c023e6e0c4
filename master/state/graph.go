package state

// graph answers piupartslib's _get_dependency_cycle question: which
// dependencies of a package are on a dependency cycle with it. Its nodes are
// the interned names (0..N-1) and the packages (N+gid); a name has an edge
// to the package it resolves to, a package edges to the names of its
// dependencies (first, or preferred, alternatives). The dependency cycle of
// a package is the strongly connected component (SCC) of its name, when that
// has more than one node: piupartslib collects exactly the names reachable
// from the package that reach it back.
//
// Preferred alternatives change while states are computed, and with them the
// edges. A component of the graph that has an edge to every alternative
// (the superset graph) contains every component of any choice, so the
// superset components are computed once; the few non-trivial ones are
// recomputed, each on its own, after one of their packages changed an edge.
type graph struct {
	d *db
	n int // number of names

	comp     []int32 // superset component of each node
	compSize []int32
	subs     []*sub  // by superset component; nil for trivial ones
	local    []int32 // SCC of a node within its superset component
	localPos []int32 // scratch: node -> local index, -1 outside
	t        tarjan
}

// sub is a non-trivial superset component.
type sub struct {
	nodes     []int32
	localSize []int32 // by local SCC id
	dirty     bool
}

func newGraph(d *db) *graph {
	e := d.e
	n := len(e.names)
	total := n + len(e.pkgs)
	g := &graph{d: d, n: n}

	// The superset graph in compressed rows: names, then packages.
	off := make([]int32, total+1)
	adj := make([]int32, 0, total*2)
	for v := range n {
		if r := d.resolve[v]; r >= 0 {
			adj = append(adj, int32(n)+r)
		}
		off[v+1] = int32(len(adj))
	}
	for gid, p := range e.pkgs {
		for h := range p.alts {
			for _, alt := range p.alts[h] {
				adj = append(adj, alt...)
			}
		}
		off[n+gid+1] = int32(len(adj))
	}
	g.comp = make([]int32, total)
	g.compSize = g.t.run(total, off, adj, g.comp)

	g.subs = make([]*sub, len(g.compSize))
	for v, c := range g.comp {
		if g.compSize[c] > 1 {
			if g.subs[c] == nil {
				g.subs[c] = &sub{dirty: true}
			}
			g.subs[c].nodes = append(g.subs[c].nodes, int32(v))
		}
	}
	g.local = make([]int32, total)
	g.localPos = make([]int32, total)
	for i := range g.localPos {
		g.localPos[i] = -1
	}
	return g
}

// clone returns a graph for d that starts from g's superset components,
// which depend only on what d and g's db share (names, resolution, every
// alternative): an Engine's computations start from one prepared graph.
func (g *graph) clone(d *db) *graph {
	ng := &graph{d: d, n: g.n, comp: g.comp, compSize: g.compSize, subs: make([]*sub, len(g.subs))}
	for i, s := range g.subs {
		if s != nil {
			ng.subs[i] = &sub{nodes: s.nodes, dirty: true}
		}
	}
	ng.local = make([]int32, len(g.local))
	ng.localPos = make([]int32, len(g.localPos))
	for i := range ng.localPos {
		ng.localPos[i] = -1
	}
	return ng
}

// changed records that package gid now depends on name to instead of from.
func (g *graph) changed(gid, from, to int32) {
	c := g.comp[int32(g.n)+gid]
	if s := g.subs[c]; s != nil && (g.comp[from] == c || g.comp[to] == c) {
		s.dirty = true
	}
}

// onCycle reports whether name a is on a dependency cycle with name b.
func (g *graph) onCycle(a, b int32) bool {
	c := g.comp[b]
	s := g.subs[c]
	if s == nil || g.comp[a] != c {
		return false
	}
	if s.dirty {
		g.recompute(s, c)
	}
	return g.local[a] == g.local[b] && s.localSize[g.local[b]] > 1
}

// recompute finds the SCCs of the current graph within component c.
func (g *graph) recompute(s *sub, c int32) {
	for i, v := range s.nodes {
		g.localPos[v] = int32(i)
	}
	off := make([]int32, len(s.nodes)+1)
	var adj []int32
	add := func(w int32) {
		if g.comp[w] == c {
			adj = append(adj, g.localPos[w])
		}
	}
	for i, v := range s.nodes {
		if int(v) < g.n {
			add(int32(g.n) + g.d.resolve[v]) // in c, so it resolves
		} else {
			p := g.d.e.pkgs[int(v)-g.n]
			for h := range p.first {
				for _, w := range p.first[h] {
					add(w)
				}
			}
		}
		off[i+1] = int32(len(adj))
	}
	ids := make([]int32, len(s.nodes))
	s.localSize = g.t.run(len(s.nodes), off, adj, ids)
	for i, v := range s.nodes {
		g.local[v] = ids[i]
		g.localPos[v] = -1
	}
	s.dirty = false
}

// tarjan is the work space of Tarjan's SCC algorithm, without recursion.
type tarjan struct {
	index, low []int32
	onStack    []bool
	stack      []int32
	calls      []frame
}

type frame struct{ v, next int32 }

// run stores the SCC id of each of the n nodes of the graph in rows off/adj
// in comp and returns the SCC sizes.
func (t *tarjan) run(n int, off, adj []int32, comp []int32) []int32 {
	if cap(t.index) < n {
		t.index = make([]int32, n)
		t.low = make([]int32, n)
		t.onStack = make([]bool, n)
	}
	t.index, t.low, t.onStack = t.index[:n], t.low[:n], t.onStack[:n]
	for i := range t.index {
		t.index[i] = -1
	}
	var sizes []int32
	next := int32(0)
	visit := func(v int32) {
		t.index[v], t.low[v] = next, next
		next++
		t.stack = append(t.stack, v)
		t.onStack[v] = true
		t.calls = append(t.calls, frame{v, off[v]})
	}
	for root := range int32(n) {
		if t.index[root] >= 0 {
			continue
		}
		visit(root)
		for len(t.calls) > 0 {
			f := &t.calls[len(t.calls)-1]
			v := f.v
			if f.next < off[v+1] {
				w := adj[f.next]
				f.next++
				if t.index[w] < 0 {
					visit(w)
				} else if t.onStack[w] && t.index[w] < t.low[v] {
					t.low[v] = t.index[w]
				}
				continue
			}
			t.calls = t.calls[:len(t.calls)-1]
			if len(t.calls) > 0 {
				if u := t.calls[len(t.calls)-1].v; t.low[v] < t.low[u] {
					t.low[u] = t.low[v]
				}
			}
			if t.low[v] == t.index[v] {
				id := int32(len(sizes))
				var size int32
				for {
					w := t.stack[len(t.stack)-1]
					t.stack = t.stack[:len(t.stack)-1]
					t.onStack[w] = false
					comp[w] = id
					size++
					if w == v {
						break
					}
				}
				sizes = append(sizes, size)
			}
		}
	}
	return sizes
}
