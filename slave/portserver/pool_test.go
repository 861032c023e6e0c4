package portserver_test

import (
	"reflect"
	"testing"

	"piuparts-server/slave/portserver"
)

func TestParsePool(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []int
		badRngs int
	}{
		{"Default", portserver.DefaultPool, nil, 0},
		{"One", "100-100", []int{100}, 0},
		{"TwoOverlapping", "5-7,6-8", []int{5, 6, 7, 8}, 0},
		{"Unordered", "20-21,10-11", []int{10, 11, 20, 21}, 0},
		{"BadSkipped", "x-3,5-6,7", []int{5, 6}, 2},
		{"OutOfBounds", "0-3,65535-65536,65535-65535", []int{65535}, 2},
		{"Reversed", "9-3", nil, 1},
		{"Signs", "+3-5,3- 5", nil, 2},
		{"Empty", "", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bad := portserver.ParsePool(tt.in)
			if tt.name == "Default" {
				if len(got) != 10000 || got[0] != 15000 || got[9999] != 24999 || len(bad) != 0 {
					t.Errorf("default pool: %d ports from %v, %v", len(got), got[:1], bad)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) || len(bad) != tt.badRngs {
				t.Errorf("ParsePool(%q) = %v, %v; want %v and %d bad ranges", tt.in, got, bad, tt.want, tt.badRngs)
			}
		})
	}
}

func TestPool_FreeList(t *testing.T) {
	a := portserver.Process{Pid: 10, Start: 1}
	b := portserver.Process{Pid: 11, Start: 1}
	p := portserver.NewPool([]int{1, 2, 3, 4}, map[int]portserver.Process{2: a, 99: b})
	if p.Managed() != 4 || p.Free() != 3 || p.Owners() != 1 {
		t.Fatalf("new pool: managed %d free %d owners %d, want 4 3 1", p.Managed(), p.Free(), p.Owners())
	}
	var order []int
	for {
		port, ok := p.Pop()
		if !ok {
			break
		}
		order = append(order, port)
		if port == 3 {
			p.Return(port) // in use: to the back
			continue
		}
		p.Assign(port, b)
		if port == 1 {
			break
		}
	}
	if !reflect.DeepEqual(order, []int{1}) {
		t.Fatalf("pops = %v, want [1]", order)
	}
	if port, _ := p.Pop(); port != 3 {
		t.Fatalf("second pop = %d, want 3", port)
	}
	p.Return(3)
	if port, _ := p.Pop(); port != 4 {
		t.Fatalf("third pop = %d, want 4 (3 went to the back)", port)
	}
	p.Assign(4, b)
	if got := p.Release(b); !reflect.DeepEqual(got, []int{1, 4}) {
		t.Errorf("Release = %v, want [1 4]", got)
	}
	var rest []int
	for {
		port, ok := p.Pop()
		if !ok {
			break
		}
		rest = append(rest, port)
	}
	if !reflect.DeepEqual(rest, []int{3, 1, 4}) {
		t.Errorf("free list after release = %v, want [3 1 4] (released ports at the back)", rest)
	}
	if !p.Holds(a) || p.Holds(b) {
		t.Errorf("Holds: a %v b %v, want true false", p.Holds(a), p.Holds(b))
	}
}
