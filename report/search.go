package report

import (
	"encoding/json"
	"fmt"
	"slices"

	"piuparts-server/master/state"
)

// sectionIndex is SECTION/index.json, what the search page and the state
// pages' anchor redirect read. Rows are arrays to keep the file small:
// bookworm's 63,000 packages take about 3 MB.
type sectionIndex struct {
	Section string   `json:"section"`
	States  []string `json:"states"`
	// Packages are [name, source, state index, page of its state page].
	Packages [][4]any `json:"packages"`
	// Sources are [name, "pass"|"fail"|"unknown", maintainer indexes].
	Sources [][3]any `json:"sources"`
	// Maintainers are the addresses with a page.
	Maintainers []string `json:"maintainers"`
	// Problems are [page, header, number of logs, issue].
	Problems [][4]any `json:"problems"`
}

func (v *sectionView) searchIndex(emit Emit) error {
	states := state.ActiveStates()
	idx := sectionIndex{Section: v.s.Name, States: states, Packages: make([][4]any, 0, len(v.s.Packages))}
	code := make(map[string]int, len(states))
	for i, st := range states {
		code[st] = i
	}
	for _, p := range v.s.Packages {
		c, ok := code[p.StateRecursive]
		if !ok {
			// An obsolete state: not listed on a state page.
			idx.States = append(idx.States, p.StateRecursive)
			c = len(idx.States) - 1
			code[p.StateRecursive] = c
		}
		idx.Packages = append(idx.Packages, [4]any{p.Name, p.Source, c, v.page[p.Name]})
	}
	by, emails := v.byEmail, v.emails
	idx.Maintainers = emails
	mcode := make(map[string]int, len(emails))
	for i, e := range emails {
		mcode[e] = i
	}
	srcMaint := make(map[*Source][]int)
	for _, e := range emails {
		for _, src := range by[e] {
			srcMaint[src] = append(srcMaint[src], mcode[e])
		}
	}
	for _, src := range v.s.Sources {
		if src.State == "udeb" {
			continue
		}
		m := srcMaint[src]
		if m == nil {
			m = []int{}
		}
		slices.Sort(m)
		idx.Sources = append(idx.Sources, [3]any{src.Name, src.State, m})
	}
	idx.Problems = [][4]any{}
	for _, pr := range v.s.Problems {
		if len(pr.Logs) > 0 {
			idx.Problems = append(idx.Problems, [4]any{pr.Page, pr.Header, len(pr.Logs), pr.Issue})
		}
	}
	data, err := json.Marshal(idx)
	if err != nil {
		return fmt.Errorf("render %s/index.json: %w", v.s.Name, err)
	}
	if err := emit(v.s.Name+"/index.json", append(data, '\n')); err != nil {
		return fmt.Errorf("emit %s/index.json: %w", v.s.Name, err)
	}
	return nil
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
