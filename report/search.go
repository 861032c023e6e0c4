package report

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"piuparts-server/master/state"
)

// SECTION/index.json is what the search page and the state pages'
// anchor redirect read. Rows are arrays to keep the file small (bookworm's
// 63,000 packages take about 3 MB), written by hand because
// encoding/json's reflection over them costs a tenth of a section's
// rendering; the bytes are what json.Marshal writes:
//
//	{"section": NAME,
//	 "states": [STATE, ...],
//	 "packages": [[NAME, SOURCE, STATE INDEX, PAGE OF ITS STATE PAGE], ...],
//	 "sources": [[NAME, "pass"|"fail"|"unknown", [MAINTAINER INDEX, ...]], ...],
//	 "maintainers": [ADDRESS, ...],
//	 "problems": [[PAGE, HEADER, NUMBER OF LOGS, ISSUE], ...]}
func (v *sectionView) searchIndex(emit Emit) error {
	states := state.ActiveStates()
	code := make(map[string]int, len(states))
	for i, st := range states {
		code[st] = i
	}
	h := hbuf{b: make([]byte, 0, 64*len(v.s.Packages)+1024)}
	var pk hbuf
	pk.b = make([]byte, 0, 48*len(v.s.Packages))
	for i, p := range v.s.Packages {
		c, ok := code[p.State]
		if !ok {
			// An obsolete state: not listed on a state page.
			states = append(states, p.State)
			c = len(states) - 1
			code[p.State] = c
		}
		if i > 0 {
			pk.raw(",")
		}
		pk.raw("[")
		pk.jsonString(p.Name)
		pk.raw(",")
		pk.jsonString(p.Source)
		pk.raw(",")
		pk.int(c)
		pk.raw(",")
		pk.int(p.page)
		pk.raw("]")
	}
	h.raw(`{"section":`)
	h.jsonString(v.s.Name)
	h.raw(`,"states":[`)
	for i, st := range states {
		if i > 0 {
			h.raw(",")
		}
		h.jsonString(st)
	}
	h.raw(`],"packages":[`)
	h.b = append(h.b, pk.b...)
	h.raw(`],"sources":[`)
	mcode := make(map[string]int, len(v.emails))
	for i, e := range v.emails {
		mcode[e] = i
	}
	srcMaint := make(map[*Source][]int)
	for _, e := range v.emails {
		for _, src := range v.byEmail[e] {
			srcMaint[src] = append(srcMaint[src], mcode[e])
		}
	}
	first := true
	for _, src := range v.s.Sources {
		if src.State == "udeb" {
			continue
		}
		if !first {
			h.raw(",")
		}
		first = false
		h.raw("[")
		h.jsonString(src.Name)
		h.raw(",")
		h.jsonString(src.State)
		h.raw(",[")
		m := srcMaint[src]
		slices.Sort(m)
		for i, x := range m {
			if i > 0 {
				h.raw(",")
			}
			h.int(x)
		}
		h.raw("]]")
	}
	h.raw(`],"maintainers":[`)
	for i, e := range v.emails {
		if i > 0 {
			h.raw(",")
		}
		h.jsonString(e)
	}
	h.raw(`],"problems":[`)
	first = true
	for _, pr := range v.s.Problems {
		if len(pr.Logs) == 0 {
			continue
		}
		if !first {
			h.raw(",")
		}
		first = false
		h.raw("[")
		h.jsonString(pr.Page)
		h.raw(",")
		h.jsonString(pr.Header)
		h.raw(",")
		h.int(len(pr.Logs))
		h.raw(",")
		h.raw(strconv.FormatBool(pr.Issue))
		h.raw("]")
	}
	h.raw("]}\n")
	if err := emit(v.s.Name+"/index.json", h.b); err != nil {
		return fmt.Errorf("emit %s/index.json: %w", v.s.Name, err)
	}
	return nil
}

// jsonString writes s as a JSON string, escaped as encoding/json escapes
// it (HTML characters, U+2028 and U+2029 included; invalid UTF-8 becomes
// U+FFFD).
func (h *hbuf) jsonString(s string) {
	const hex = "0123456789abcdef"
	h.b = append(h.b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				h.b = append(h.b, '\\', c)
			case c == '\n':
				h.b = append(h.b, '\\', 'n')
			case c == '\r':
				h.b = append(h.b, '\\', 'r')
			case c == '\t':
				h.b = append(h.b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				h.b = append(h.b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				h.b = append(h.b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			h.b = append(h.b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			h.b = append(h.b, `\u202`...)
			h.b = append(h.b, hex[r&15])
		default:
			h.b = append(h.b, s[i:i+size]...)
		}
		i += size
	}
	h.b = append(h.b, '"')
}

// siteIndex is search.json: the sections the search page reads the
// index.json of.
type siteIndex struct {
	DocRoot  string           `json:"docroot"`
	Updated  string           `json:"updated"`
	Sections []siteIndexEntry `json:"sections"`
}

type siteIndexEntry struct {
	Name     string `json:"name"`
	Index    string `json:"index"` // URL of its index.json
	Packages int    `json:"packages"`
}

func (r *renderer) siteIndex(emit Emit) error {
	idx := siteIndex{DocRoot: r.site.DocRoot, Updated: r.updated, Sections: []siteIndexEntry{}}
	for _, s := range r.site.Sections {
		idx.Sections = append(idx.Sections, siteIndexEntry{Name: s.Name, Index: r.sectionURL(s.Name) + "index.json", Packages: len(s.Packages)})
	}
	data, err := json.MarshalIndent(idx, "", " ")
	if err != nil {
		return fmt.Errorf("render search.json: %w", err)
	}
	if err := emit("search.json", append(data, '\n')); err != nil {
		return fmt.Errorf("emit search.json: %w", err)
	}
	return nil
}
