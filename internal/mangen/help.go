package mangen

import (
	"strings"
)

// Help is a program's or a command's help text as its --help prints it,
// split into the parts a manual page shows.
type Help struct {
	// Synopsis are the usage lines without "usage: ": the first, and each
	// following line that names the same program.
	Synopsis []string
	// Blocks are the paragraphs after the synopsis, in order.
	Blocks []Block
}

// Block is one paragraph of a help text: prose, or a heading line ending
// in ":" ("commands:", "flags:") and the indented lines under it.
type Block struct {
	// Heading is the heading without its ":"; "" for a paragraph.
	Heading string
	// Lines are the paragraph's lines, or those under the heading, with
	// their indentation; tabs are expanded.
	Lines []string
}

// Def is one entry of a definition list in a help text: a command or a
// flag and what it does.
type Def struct {
	Term string
	Desc string
}

// ParseHelp splits a help text into its synopsis and paragraphs. It
// accepts any text: lines that fit no rule are prose.
func ParseHelp(text string) Help {
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		lines = append(lines, strings.TrimRight(expandTabs(l), " "))
	}
	var h Help
	i := 0
	for i < len(lines) && lines[i] == "" {
		i++
	}
	if i < len(lines) && strings.HasPrefix(lines[i], "usage: ") {
		first := strings.TrimSpace(strings.TrimPrefix(lines[i], "usage: "))
		h.Synopsis = append(h.Synopsis, first)
		prog, _, _ := strings.Cut(first, " ")
		for i++; i < len(lines) && indent(lines[i]) > 0; i++ {
			l := strings.TrimSpace(lines[i])
			if l != prog && !strings.HasPrefix(l, prog+" ") {
				break
			}
			h.Synopsis = append(h.Synopsis, l)
		}
	}
	var para []string
	flush := func() {
		if len(para) == 0 {
			return
		}
		b := Block{Lines: para}
		if head := para[0]; len(para) > 1 && indent(head) == 0 && strings.HasSuffix(head, ":") && indent(para[1]) > 0 {
			b = Block{Heading: strings.TrimSuffix(head, ":"), Lines: para[1:]}
		}
		h.Blocks = append(h.Blocks, b)
		para = nil
	}
	for ; i < len(lines); i++ {
		if lines[i] == "" {
			flush()
			continue
		}
		para = append(para, lines[i])
	}
	flush()
	return h
}

// Block returns the first block with the heading (compared without case)
// and whether there is one.
func (h Help) Block(heading string) (Block, bool) {
	for _, b := range h.Blocks {
		if strings.EqualFold(b.Heading, heading) {
			return b, true
		}
	}
	return Block{}, false
}

// Commands returns the names of the commands listed under the heading
// ("commands", "Subcommands"): the first word of each entry.
func (h Help) Commands(heading string) []string {
	b, ok := h.Block(heading)
	if !ok {
		return nil
	}
	var names []string
	for _, d := range b.Defs() {
		if name, _, _ := strings.Cut(d.Term, " "); name != "" && !strings.HasPrefix(name, "-") {
			names = append(names, name)
		}
	}
	return names
}

// Defs reads the block as a definition list: an entry starts on each line
// of the block's least indentation, its term ends at a tab or at two
// spaces, and more deeply indented lines continue its description. A block
// whose first line is not an entry has no definitions.
func (b Block) Defs() []Def {
	if len(b.Lines) == 0 {
		return nil
	}
	min := indent(b.Lines[0])
	for _, l := range b.Lines {
		if indent(l) < min {
			return nil
		}
	}
	var defs []Def
	for _, l := range b.Lines {
		t := strings.TrimSpace(l)
		if indent(l) == min {
			term, desc := t, ""
			if j := strings.Index(t, "  "); j >= 0 {
				term, desc = t[:j], strings.TrimSpace(t[j:])
			}
			defs = append(defs, Def{Term: term, Desc: desc})
			continue
		}
		d := &defs[len(defs)-1]
		d.Desc = strings.TrimSpace(d.Desc + " " + t)
	}
	return defs
}

// maxProseWord is the longest word of running text; a longer one (an
// example line) cannot be filled.
const maxProseWord = 50

// IsProse reports whether the block is running text: no heading, every
// line indented alike, no column layout (a run of two spaces inside a
// line) and no word longer than maxProseWord.
func (b Block) IsProse() bool {
	if b.Heading != "" || len(b.Lines) == 0 {
		return false
	}
	in := indent(b.Lines[0])
	for _, l := range b.Lines {
		if indent(l) != in || strings.Contains(strings.TrimSpace(l), "  ") {
			return false
		}
		for _, w := range strings.Fields(l) {
			if len(w) > maxProseWord {
				return false
			}
		}
	}
	return true
}

// indent is the number of leading spaces of l.
func indent(l string) int {
	return len(l) - len(strings.TrimLeft(l, " "))
}

// expandTabs replaces tabs by spaces up to the next multiple of 8 columns.
func expandTabs(l string) string {
	if !strings.Contains(l, "\t") {
		return l
	}
	var b strings.Builder
	col := 0
	for _, r := range l {
		if r == '\t' {
			n := 8 - col%8
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		}
		b.WriteRune(r)
		col++
	}
	return b.String()
}
