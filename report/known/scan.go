package known

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// scanWidth is how many leading bytes of a literal the scan hashes: the
// shortest literal it handles (the shipped ones are 8 bytes at least).
const scanWidth = 8

// scanKey is the first scanWidth bytes of one problem's literal.
type scanKey struct {
	key  uint64
	lit  []byte
	prob int // index of the problem in Classify's list
}

// scanner finds, in one pass over a log, every occurrence of the literals
// of many problems: each position's next 8 bytes are hashed into a 64 Kib
// filter of the literals' first 8 bytes, and only a hit there is looked
// up and compared.
type scanner struct {
	keys   []scanKey
	filter [1 << 10]uint64
	occ    [][]int // by problem: the positions of its literals, ascending
}

// hash8 maps 8 bytes to 16 bits.
func hash8(x uint64) uint64 { return (x * 0x9e3779b97f4a7c15) >> 48 }

// add registers the literals of problem i. It reports false, and adds
// nothing, when there are none or one is shorter than scanWidth.
func (s *scanner) add(i int, lits [][]byte) bool {
	if len(lits) == 0 {
		return false
	}
	for _, l := range lits {
		if len(l) < scanWidth {
			return false
		}
	}
	for _, l := range lits {
		s.keys = append(s.keys, scanKey{key: binary.LittleEndian.Uint64(l), lit: l, prob: i})
	}
	for len(s.occ) <= i {
		s.occ = append(s.occ, nil)
	}
	return true
}

// found returns the positions of problem i's literals that scan found.
func (s *scanner) found(i int) []int {
	if i < len(s.occ) {
		return s.occ[i]
	}
	return nil
}

// scan records where the literals occur in text.
func (s *scanner) scan(text []byte) {
	if len(s.keys) == 0 {
		return
	}
	slices.SortFunc(s.keys, func(a, b scanKey) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return a.prob - b.prob
	})
	for _, k := range s.keys {
		h := hash8(k.key)
		s.filter[h>>6] |= 1 << (h & 63)
	}
	for i, n := 0, len(text)-scanWidth; i <= n; i++ {
		x := binary.LittleEndian.Uint64(text[i:])
		h := hash8(x)
		if s.filter[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		j, _ := slices.BinarySearchFunc(s.keys, x, func(k scanKey, x uint64) int {
			switch {
			case k.key < x:
				return -1
			case k.key > x:
				return 1
			}
			return 0
		})
		for ; j < len(s.keys) && s.keys[j].key == x; j++ {
			if k := s.keys[j]; bytes.HasPrefix(text[i:], k.lit) {
				s.occ[k.prob] = append(s.occ[k.prob], i)
			}
		}
	}
}

// lineAround returns the bounds of the line of text that holds position
// pos, with eachLine's line ends. pos must be at a character's start.
func lineAround(text []byte, pos int) (start, end int) {
	start = 0
	for j := pos - 1; j >= 0; j-- {
		switch c := text[j]; {
		case c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x1c || c == 0x1d || c == 0x1e,
			c == 0x85 && j >= 1 && text[j-1] == 0xc2,
			(c == 0xa8 || c == 0xa9) && j >= 2 && text[j-1] == 0x80 && text[j-2] == 0xe2:
			start = j + 1
		default:
			continue
		}
		break
	}
	end = len(text)
	for j := pos; j < len(text); j++ {
		switch c := text[j]; {
		case c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x1c || c == 0x1d || c == 0x1e,
			c == 0xc2 && j+1 < len(text) && text[j+1] == 0x85,
			c == 0xe2 && j+2 < len(text) && text[j+1] == 0x80 && (text[j+2] == 0xa8 || text[j+2] == 0xa9):
			end = j
		default:
			continue
		}
		break
	}
	return start, end
}
