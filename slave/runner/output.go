package runner

import (
	"fmt"
	"io"
)

// Markers that piuparts-slave looks for in piuparts' output.
const (
	// runEnds is what the last line of a complete run contains.
	runEnds = "piuparts run ends"
	// historyMismatch and selectionsMismatch make the slave delete the
	// chroot-meta-auto file of an upgrade test.
	historyMismatch    = "History of available packages does not match - reference chroot may be outdated"
	selectionsMismatch = "Initial package selections do not match - ignoring loaded reference chroot state"
)

// matcher finds a fixed string in a stream fed one byte at a time
// (Knuth-Morris-Pratt), so no part of the stream has to be kept.
type matcher struct {
	pat   string
	fail  []int // fail[i]: length of the longest proper border of pat[:i+1]
	state int   // bytes of pat matched so far
	found bool
}

func newMatcher(pat string) *matcher {
	m := &matcher{pat: pat, fail: make([]int, len(pat))}
	for i, k := 1, 0; i < len(pat); i++ {
		for k > 0 && pat[i] != pat[k] {
			k = m.fail[k-1]
		}
		if pat[i] == pat[k] {
			k++
		}
		m.fail[i] = k
	}
	return m
}

func (m *matcher) feed(c byte) {
	for m.state > 0 && c != m.pat[m.state] {
		m.state = m.fail[m.state-1]
	}
	if c == m.pat[m.state] {
		m.state++
	}
	if m.state == len(m.pat) {
		m.found = true
		m.state = m.fail[m.state-1]
	}
}

func (m *matcher) reset() { m.state, m.found = 0, false }

// filter turns piuparts' output into the part of the log between
// "Executing:" and the status lines, as it streams by:
//
//   - line ends are Python's universal newlines ("\r\n" and a lone "\r"
//     become "\n"), as piuparts-slave reads the output as text;
//   - ESC becomes "[ESC]";
//   - after max bytes (max <= 0: no limit) the rest is dropped, but still
//     read and looked at;
//   - it remembers whether the last line holds "piuparts run ends" and
//     whether the whole output holds the chroot-meta mismatch messages.
//
// Other bytes, invalid UTF-8 included, pass unchanged. Write never fails
// before w does and always reports len(p), so the child is never blocked;
// the first error of w is kept in err and later output is dropped.
type filter struct {
	w   io.Writer
	max int64

	written int64 // bytes of output written to w
	dropped int64 // bytes of output not written because of max
	skipLF  bool  // the previous byte was "\r": a "\n" right after it is dropped
	empty   bool  // nothing has been seen yet
	open    bool  // the last byte seen (after conversion) was not "\n"
	last    byte  // last byte written to w (after newline conversion)
	err     error

	line      *matcher // runEnds in the current line
	lastFound bool     // runEnds was in the last complete line
	history   *matcher
	selection *matcher

	buf []byte // scratch for the converted chunk
}

func newFilter(w io.Writer, max int64) *filter {
	return &filter{
		w: w, max: max, empty: true,
		line:      newMatcher(runEnds),
		history:   newMatcher(historyMismatch),
		selection: newMatcher(selectionsMismatch),
		buf:       make([]byte, 0, 40<<10),
	}
}

// Write converts and writes p; see filter.
func (f *filter) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		// Converted bytes grow at most 5 times ("[ESC]"); work in
		// pieces that fit the scratch buffer.
		n := min(len(p), cap(f.buf)/5)
		f.convert(p[:n])
		p = p[n:]
	}
	return total, nil
}

// convert converts one piece into f.buf and writes it.
func (f *filter) convert(p []byte) {
	out := f.buf[:0]
	for _, c := range p {
		if f.skipLF {
			f.skipLF = false
			if c == '\n' {
				continue
			}
		}
		if c == '\r' {
			c = '\n'
			f.skipLF = true
		}
		f.empty = false
		f.open = c != '\n'
		f.history.feed(c)
		f.selection.feed(c)
		if c == '\n' {
			f.lastFound = f.line.found
			f.line.reset()
		} else {
			f.line.feed(c)
		}
		if c == 0x1b {
			out = append(out, "[ESC]"...)
		} else {
			out = append(out, c)
		}
	}
	f.emit(out)
}

// emit writes out, up to the limit.
func (f *filter) emit(out []byte) {
	if f.max > 0 && f.written+int64(len(out)) > f.max {
		keep := max(f.max-f.written, 0)
		f.dropped += int64(len(out)) - keep
		out = out[:keep]
	}
	if len(out) == 0 {
		return
	}
	f.written += int64(len(out))
	f.last = out[len(out)-1]
	if f.err != nil {
		return
	}
	if _, err := f.w.Write(out); err != nil {
		f.err = err
	}
}

// lastLineEnds reports whether the last line of the output holds
// "piuparts run ends", the line after the last "\n" if the output does
// not end in one.
func (f *filter) lastLineEnds() bool {
	if f.empty {
		return false
	}
	if f.open {
		return f.line.found
	}
	return f.lastFound
}

// finish writes what ends the output part: a "\n" if what was written does
// not end in one, and a line counting the dropped bytes. It returns the
// first error of the writer.
func (f *filter) finish() error {
	if f.written == 0 || f.last != '\n' {
		f.write("\n")
	}
	if f.dropped > 0 {
		f.write(fmt.Sprintf(" *** %d bytes of piuparts output dropped (over max-log-size) ***\n", f.dropped))
	}
	return f.err
}

func (f *filter) write(s string) {
	if f.err == nil {
		_, f.err = io.WriteString(f.w, s)
	}
}
