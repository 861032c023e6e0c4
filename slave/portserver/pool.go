package portserver

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// DefaultPool is the reference's --portserver_static_pool.
const DefaultPool = "15000-24999"

// ParsePool parses a pool description, comma-separated inclusive ranges
// "N-P" of ports between 1 and 65535, and returns its ports in ascending
// order without duplicates. Like the reference it skips a bad range and
// goes on; each skipped range gives an error in bad (for the caller to
// log). Numbers are plain decimal digits; a range whose end is below its
// start is bad. A description without any good range returns no ports.
func ParsePool(s string) (ports []int, bad []error) {
	seen := make(map[int]bool)
	for _, r := range strings.Split(s, ",") {
		lo, hi, err := parseRange(r)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		for p := lo; p <= hi; p++ {
			if !seen[p] {
				seen[p] = true
				ports = append(ports, p)
			}
		}
	}
	slices.Sort(ports)
	return ports, bad
}

// parseRange parses one "N-P".
func parseRange(r string) (lo, hi int, err error) {
	quoted := r
	if len(quoted) > 80 {
		quoted = quoted[:80]
	}
	a, b, ok := strings.Cut(r, "-")
	if !ok {
		return 0, 0, fmt.Errorf("port range %q: want N-P", quoted)
	}
	num := func(s string) (int, bool) {
		if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.Atoi(s)
		return n, err == nil
	}
	lo, okA := num(a)
	hi, okB := num(b)
	switch {
	case !okA || !okB:
		return 0, 0, fmt.Errorf("port range %q: want N-P with decimal N and P", quoted)
	case lo < 1 || hi > 65535:
		return 0, 0, fmt.Errorf("port range %q: out of bounds (1-65535)", quoted)
	case hi < lo:
		return 0, 0, fmt.Errorf("port range %q: empty (end below start)", quoted)
	}
	return lo, hi, nil
}

// Pool holds the managed ports: a free list in the order ports are handed
// out (a port that comes back goes to the end) and, for every assigned
// port, its owner. Every operation takes constant time except Release and
// Snapshot, which are linear in the owner's or all assigned ports, so a
// full pool is known at once instead of by a scan. A Pool is not safe for
// concurrent use.
type Pool struct {
	free    []uint16 // ring buffer of the free ports, capacity = managed
	head, n int
	owners  map[Process][]uint16
	ownerOf map[uint16]Process
}

// NewPool returns a pool of ports (from ParsePool) in which each port of
// held already belongs to its process; held ports not in ports are
// ignored.
func NewPool(ports []int, held map[int]Process) *Pool {
	p := &Pool{
		free:    make([]uint16, len(ports)),
		owners:  make(map[Process][]uint16),
		ownerOf: make(map[uint16]Process),
	}
	for _, port := range ports {
		if owner, ok := held[port]; ok {
			p.Assign(port, owner)
			continue
		}
		p.free[p.n] = uint16(port)
		p.n++
	}
	return p
}

// Managed returns the number of ports in the pool.
func (p *Pool) Managed() int { return len(p.free) }

// Free returns the number of ports on the free list.
func (p *Pool) Free() int { return p.n }

// Owners returns the number of processes that hold ports.
func (p *Pool) Owners() int { return len(p.owners) }

// Pop takes the first port off the free list; the caller then Assigns it
// or Returns it. It returns false when the free list is empty.
func (p *Pool) Pop() (int, bool) {
	if p.n == 0 {
		return 0, false
	}
	port := p.free[p.head]
	p.head = (p.head + 1) % len(p.free)
	p.n--
	return int(port), true
}

// Return puts a port taken with Pop back at the end of the free list.
func (p *Pool) Return(port int) {
	p.push(uint16(port))
}

func (p *Pool) push(port uint16) {
	p.free[(p.head+p.n)%len(p.free)] = port
	p.n++
}

// Assign gives a port taken with Pop to owner.
func (p *Pool) Assign(port int, owner Process) {
	p.ownerOf[uint16(port)] = owner
	p.owners[owner] = append(p.owners[owner], uint16(port))
}

// Holds reports whether owner holds any port.
func (p *Pool) Holds(owner Process) bool { return len(p.owners[owner]) > 0 }

// Release puts owner's ports back at the end of the free list and returns
// them.
func (p *Pool) Release(owner Process) []int {
	ports := p.owners[owner]
	delete(p.owners, owner)
	out := make([]int, len(ports))
	for i, port := range ports {
		delete(p.ownerOf, port)
		p.push(port)
		out[i] = int(port)
	}
	return out
}

// Snapshot returns every owner with its ports, in the order they were
// assigned.
func (p *Pool) Snapshot() map[Process][]int {
	m := make(map[Process][]int, len(p.owners))
	for owner, ports := range p.owners {
		s := make([]int, len(ports))
		for i, port := range ports {
			s[i] = int(port)
		}
		m[owner] = s
	}
	return m
}
