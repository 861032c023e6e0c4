package report

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The pages there are tens of thousands of (source and maintainer
// pages) and the long lists (state pages, log lists) are written by the
// code below rather than by html/template, whose reflection costs about
// 5 s for a section the size of bookworm. It escapes as html/template
// does, so the markup is the same either way.

// hbuf is an HTML writer.
type hbuf struct{ b []byte }

func (h *hbuf) raw(s string) { h.b = append(h.b, s...) }

// link writes <a href="url">text</a>, both escaped.
func (h *hbuf) link(url, text string) {
	h.raw(`<a href="`)
	h.url(url)
	h.raw(`">`)
	h.text(text)
	h.raw("</a>")
}

// Write appends p, for templates executed into the buffer.
func (h *hbuf) Write(p []byte) (int, error) {
	h.b = append(h.b, p...)
	return len(p), nil
}

func (h *hbuf) int(n int) { h.b = strconv.AppendInt(h.b, int64(n), 10) }

// text writes s escaped for text and quoted attributes, as html/template
// does.
func (h *hbuf) text(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case 0:
			rep = "\uFFFD"
		case '"':
			rep = "&#34;"
		case '&':
			rep = "&amp;"
		case '\'':
			rep = "&#39;"
		case '+':
			rep = "&#43;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		default:
			continue
		}
		h.b = append(h.b, s[last:i]...)
		h.b = append(h.b, rep...)
		last = i + 1
	}
	h.b = append(h.b, s[last:]...)
}

// urlPlain are the bytes an href keeps as they are.
var urlPlain = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("-._~!#$*,/:;=?@[]", byte(c)) >= 0
	}
	return t
}()

// url writes s as the value of an href: bytes that may not appear in a
// URL percent-encoded, then escaped as text, as html/template does.
func (h *hbuf) url(s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case urlPlain[c]:
			h.b = append(h.b, c)
		case c == '&':
			h.b = append(h.b, "&amp;"...)
		case c == '+':
			h.b = append(h.b, "&#43;"...)
		default:
			h.b = append(h.b, '%', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		}
	}
}

// layout is the head and foot of a page, rendered once by the "head" and
// "foot" templates with a marker for the title.
type layout struct {
	pre, post, foot []byte
}

const titleMarker = "@@TITLE@@"

func (r *renderer) layout(section string) (*layout, error) {
	var b bytes.Buffer
	if err := r.t.ExecuteTemplate(&b, "head", r.head(section, titleMarker)); err != nil {
		return nil, fmt.Errorf("render layout: %w", err)
	}
	pre, post, ok := bytes.Cut(b.Bytes(), []byte(titleMarker))
	if !ok {
		return nil, fmt.Errorf("render layout: the title marker is missing")
	}
	l := &layout{pre: pre, post: post}
	var f bytes.Buffer
	if err := r.t.ExecuteTemplate(&f, "foot", r.head(section, "")); err != nil {
		return nil, fmt.Errorf("render layout: %w", err)
	}
	l.foot = f.Bytes()
	return l, nil
}

// start writes the layout's head with title; the caller writes the body
// and then l.foot.
func (l *layout) start(h *hbuf, title string) {
	h.b = append(h.b, l.pre...)
	h.text(title)
	h.b = append(h.b, l.post...)
}

// stateName writes a state, emphasized when bad.
func (h *hbuf) stateName(st string) {
	if badStates[st] {
		h.raw(`<em class="bad">`)
		h.text(st)
		h.raw(`</em>`)
		return
	}
	h.text(st)
}

// dep writes one "dependency D is STATE" item, with the providers of D
// and, for the first alternative, the other alternatives
// (write_state_pages, _show_providers).
func (v *sectionView) dep(h *hbuf, kind, name string, resolveVirtual bool, alts []string) {
	h.raw("<li>")
	h.raw(kind)
	h.raw(" ")
	if u := v.stateLink(name); u != "" {
		h.link(u, name)
	} else {
		h.text(name)
	}
	h.raw(" is ")
	h.stateName(v.stateOf(name, resolveVirtual))
	if kind != "provider" {
		if provs := v.providers(name); len(provs) > 0 {
			h.raw("\n<ul>\n")
			for _, p := range provs {
				v.dep(h, "provider", p, true, nil)
			}
			h.raw("</ul>")
		}
	}
	if len(alts) > 0 {
		h.raw("\n<ul>\n")
		for _, a := range alts {
			v.dep(h, "alternative dependency", a, false, nil)
		}
		h.raw("</ul>")
	}
	h.raw("</li>\n")
}

// plainDep returns the item of a dependency without alternatives, as
// dep writes it: the same on every state page that lists it (libc6's is
// on thousands), so it is written once per view.
func (v *sectionView) plainDep(name string) []byte {
	if b, ok := v.deps[name]; ok {
		return b
	}
	if v.deps == nil {
		v.deps = make(map[string][]byte)
	}
	v.depScratch.b = v.depScratch.b[:0]
	v.dep(&v.depScratch, "dependency", name, false, nil)
	b := v.depSlab.keep(v.depScratch.b)
	v.deps[name] = b
	return b
}

// slab keeps many small byte slices in a few large arrays: each kept
// slice is a copy in the current chunk, and a full chunk is left to the
// slices in it.
type slab struct{ chunk []byte }

// slabChunkSize is the size of a slab's chunk (a larger slice gets one of
// its own size).
const slabChunkSize = 1 << 20

// keep returns a copy of b in the slab, which nothing appends to.
func (s *slab) keep(b []byte) []byte {
	n := len(b)
	if cap(s.chunk)-len(s.chunk) < n {
		s.chunk = make([]byte, 0, max(slabChunkSize, n))
	}
	s.chunk = append(s.chunk, b...)
	return s.chunk[len(s.chunk)-n : len(s.chunk) : len(s.chunk)]
}

// stateItem writes a package's item of its state page.
func (v *sectionView) stateItem(h *hbuf, p *Package, counts bool) {
	h.raw(`<li id="`)
	h.text(PackageID(p.Name))
	h.raw(`"><a href="`)
	h.url(v.r.site.DocRoot)
	h.raw("/")
	h.url(v.s.Name)
	h.raw("/source/")
	h.url(SourceDir(p.Source))
	h.raw("/")
	h.url(p.Source)
	h.raw(`.html">`)
	h.text(p.Name)
	h.raw("</a>")
	if p.Architecture == "all" {
		h.raw(":all")
	}
	if p.Cruft {
		h.raw(" [cruft]")
	}
	if counts {
		h.raw(" (")
		h.int(p.RRDeps)
		h.raw(", ")
		h.int(p.Block)
		h.raw(")")
	}
	h.raw(" (")
	h.text(p.Maintainer)
	h.raw(")")
	first := true
	for _, alts := range p.Deps {
		if len(alts) == 0 {
			continue
		}
		if first {
			h.raw("\n<ul>\n")
			first = false
		}
		if len(alts) == 1 {
			h.b = append(h.b, v.plainDep(alts[0])...)
			continue
		}
		v.dep(h, "dependency", alts[0], false, alts[1:])
	}
	if !first {
		h.raw("</ul>")
	}
	h.raw("</li>\n")
}

// logRow writes a package's row of a log list.
func (h *hbuf) logRow(row logRow) {
	h.raw(`<tr id="`)
	h.text(row.ID)
	h.raw(`"><td>`)
	h.text(row.Package)
	h.raw("</td><td>")
	for i, l := range row.Logs {
		if i > 0 {
			h.raw(", ")
		}
		h.link(l.URL, l.Version)
		if l.Cruft {
			h.raw(" [cruft]")
		}
	}
	h.raw("</td></tr>\n")
}

func (h *hbuf) person(p personLink) {
	if p.URL == "" {
		h.text(p.Name)
		return
	}
	h.link(p.URL, p.Name)
}

// sourceBlock writes the part of a source page that the maintainer pages
// repeat: the source's facts and a row per binary (create_source_summary).
func (v *sectionView) writeSourceBlock(h *hbuf, b sourceBlock) {
	h.raw(`<section class="source" id="`)
	h.text(b.ID)
	h.raw("\">\n<h2>")
	h.text(b.Name)
	h.raw(" in ")
	h.text(b.Section)
	h.raw("</h2>\n<dl class=\"facts\">\n<dt>Source</dt><dd><a href=\"https://tracker.debian.org/pkg/")
	h.url(b.Name)
	h.raw(`">`)
	h.text(b.Name)
	h.raw(`</a> (<a href="https://bugs.debian.org/src:`)
	h.url(b.Name)
	h.raw("\">bugs</a>)</dd>\n<dt>piuparts summary</dt><dd>")
	h.sourceState(b.State)
	h.raw("</dd>\n<dt>Version</dt><dd>")
	h.text(b.Version)
	h.raw("</dd>\n<dt>Maintainer</dt><dd>")
	h.person(b.Maintainer)
	h.raw("</dd>\n")
	if len(b.Uploaders) > 0 {
		h.raw("<dt>Uploaders</dt><dd>")
		for i, u := range b.Uploaders {
			if i > 0 {
				h.raw(", ")
			}
			h.person(u)
		}
		h.raw("</dd>\n")
	}
	h.raw("</dl>\n<div class=\"scroll\">\n<table class=\"binaries\">\n<caption>Binary packages of ")
	h.text(b.Name)
	h.raw("</caption>\n<thead><tr><th scope=\"col\">Binary</th><th scope=\"col\">piuparts result</th><th scope=\"col\">Logs</th><th scope=\"col\">Version</th><th scope=\"col\">Last result</th></tr></thead>\n<tbody>\n")
	for _, r := range b.Binaries {
		h.raw(`<tr><th scope="row">`)
		h.text(r.Name)
		if r.All {
			h.raw(":all")
		}
		h.raw("</th>")
		if !r.Known {
			h.raw("<td colspan=\"4\">unknown package</td></tr>\n")
			continue
		}
		h.raw("<td>")
		if r.StateURL != "" {
			h.raw(`<a href="`)
			h.url(r.StateURL)
			h.raw(`">`)
			h.stateName(r.State)
			h.raw("</a>")
		} else {
			h.stateName(r.State)
		}
		h.raw("</td><td>")
		if r.WithLinks {
			for i, l := range r.Logs {
				if i > 0 {
					h.raw(", ")
				}
				h.link(l.URL, l.Version)
			}
			if r.BugFiled {
				h.raw(` – <a class="bugged" href="https://bugs.debian.org/cgi-bin/pkgreport.cgi?package=`)
				h.url(r.Name)
				h.raw(`">bug filed</a>`)
			}
		} else {
			h.raw("N/A")
		}
		h.raw("</td><td>")
		h.text(r.Version)
		if r.Cruft {
			h.raw(" [cruft]")
		}
		h.raw("</td><td>")
		if r.LastTest != "" {
			h.text(r.LastKind)
			h.raw(", ")
			h.text(r.LastTest)
			if r.LastBy != "" {
				h.raw(", by ")
				h.text(r.LastBy)
			}
		}
		h.raw("</td></tr>\n")
	}
	h.raw("</tbody>\n</table>\n</div>\n</section>\n")
}

// sourceBody writes the main part of a source page around block, the
// source's block (or, for the page's input key, the block's key).
func (v *sectionView) sourceBody(h *hbuf, p *sourcePage, src *Source, block []byte) {
	h.raw("\n<h1>Source package ")
	h.text(p.Name)
	h.raw(" in ")
	h.text(v.s.Name)
	h.raw("</h1>\n")
	h.b = append(h.b, block...)
	v.otherSections(h, src)
	h.raw("<section class=\"history\">\n<h2>Test history</h2>\n")
	if len(p.History) == 0 {
		h.raw("<p>No submission of these packages is recorded.</p>\n</section>\n")
		return
	}
	h.raw("<div class=\"scroll\">\n<table>\n<caption>Results as they arrived, newest first</caption>\n<thead><tr><th scope=\"col\">When</th><th scope=\"col\">Package</th><th scope=\"col\">Version</th><th scope=\"col\">Result</th><th scope=\"col\">Slave</th></tr></thead>\n<tbody>\n")
	for _, r := range p.History {
		h.raw("<tr><td><time>")
		h.text(r.At)
		h.raw("</time></td><td>")
		h.text(r.Package)
		h.raw("</td><td>")
		h.text(r.Version)
		h.raw("</td><td>")
		if r.Bad {
			h.raw(`<em class="bad">`)
			h.text(r.Result)
			h.raw("</em>")
		} else {
			h.text(r.Result)
		}
		h.raw("</td><td>")
		h.text(r.By)
		h.raw("</td></tr>\n")
	}
	h.raw("</tbody>\n</table>\n</div>\n</section>\n")
}

// sourceState writes a source's summary state (sources.txt's pass, fail
// or unknown) in words and a sign, not by colour alone.
func (h *hbuf) sourceState(st string) {
	switch st {
	case "pass":
		h.raw(`<span class="ok">✔ success</span>`)
	case "fail":
		h.raw(`<strong class="bad">✘ failed</strong>`)
	default:
		h.raw("unknown")
	}
}

// otherSections writes the source's summary in each other section of the
// site that has it, with a link to its page there.
func (v *sectionView) otherSections(h *hbuf, src *Source) {
	open := false
	for _, o := range v.r.site.Sections {
		if o == v.s {
			continue
		}
		i, ok := slices.BinarySearchFunc(o.Sources, src.Name, func(s *Source, name string) int { return strings.Compare(s.Name, name) })
		if !ok || o.Sources[i].State == "udeb" || o.Sources[i].State == "" {
			continue
		}
		os := o.Sources[i]
		if !open {
			h.raw("<section class=\"other-sections\">\n<h2>In other sections</h2>\n<ul>\n")
			open = true
		}
		h.raw(`<li><a href="`)
		h.url(v.r.sourceURL(o.Name, os.Name))
		h.raw(`">`)
		h.text(o.Name)
		h.raw("</a>: ")
		h.sourceState(os.State)
		h.raw(", version ")
		if os.TestVersion != "" {
			h.text(os.TestVersion)
		} else {
			h.text(os.Version)
		}
		h.raw("</li>\n")
	}
	if open {
		h.raw("</ul>\n</section>\n")
	}
}

// maintainerBody writes the main part of a maintainer page; block
// writes the block of each of its sources (or, for the page's input key,
// the block's key).
func (v *sectionView) maintainerBody(h *hbuf, p *maintainerPage, block func(h *hbuf, src string)) {
	h.raw("\n<h1>")
	h.text(p.Email)
	h.raw(" in ")
	h.text(v.s.Name)
	h.raw("</h1>\n")
	if len(p.Others) > 0 {
		h.raw("<p>Other distributions: ")
		for i, o := range p.Others {
			if i > 0 {
				h.raw(", ")
			}
			h.link(o.URL, o.Section)
		}
		h.raw("</p>\n")
	}
	h.raw("<table class=\"counts\">\n<caption>Source packages by result</caption>\n<tbody>\n")
	for _, c := range p.Counts {
		h.raw(`<tr><th scope="row">`)
		h.text(c.State)
		h.raw(`</th><td class="num">`)
		h.int(len(c.Sources))
		h.raw("</td><td>")
		for i, s := range c.Sources {
			if i > 0 {
				h.raw(" ")
			}
			h.raw(`<a href="#`)
			h.url(s.ID)
			h.raw(`">`)
			h.text(s.Name)
			h.raw("</a>")
		}
		h.raw("</td></tr>\n")
	}
	h.raw("</tbody>\n</table>\n")
	for _, c := range p.Counts {
		for _, s := range c.Sources {
			block(h, s.Name)
		}
	}
}
