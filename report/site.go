package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"piuparts-server/internal/piuparts"
	"piuparts-server/master/state"
)

// top renders what RenderSite writes.
func (r *renderer) top(emit Emit) error {
	steps := []func(Emit) error{r.static, r.front, r.searchPage, r.siteIndex, r.slaves}
	for _, step := range steps {
		if err := step(emit); err != nil {
			return err
		}
	}
	return nil
}

type frontPage struct {
	H           head
	ChartHeight int
	States      []frontState
	Sections    []frontSection
}

type frontState struct {
	State string
	Bad   bool
}

type frontSection struct {
	Name, URL   string
	Description string
	Counts      []frontCount
	Total       int
	LastCounted string
}

type frontCount struct {
	N   int
	URL string
}

func (r *renderer) front(emit Emit) error {
	p := frontPage{H: r.dated("", "piuparts results")}
	states := state.ActiveStates()
	for _, st := range states {
		p.States = append(p.States, frontState{State: st, Bad: badStates[st]})
	}
	var hs []*History
	for _, s := range r.site.Sections {
		n := map[string]int{}
		for _, pk := range s.Packages {
			n[pk.State]++
		}
		fs := frontSection{Name: s.Name, URL: r.sectionURL(s.Name), Total: len(s.Packages)}
		if s.Conf != nil {
			fs.Description = (&sectionView{r: r, s: s}).description()
		}
		for _, st := range states {
			fs.Counts = append(fs.Counts, frontCount{N: n[st], URL: r.sectionURL(s.Name) + "state-" + st + ".html"})
		}
		if s.History != nil && len(s.History.Rows) > 0 {
			fs.LastCounted = chartDate(s.History.Rows[len(s.History.Rows)-1].Date)
		}
		p.Sections = append(p.Sections, fs)
		hs = append(hs, s.History)
	}
	merged := mergeHistory(hs)
	p.ChartHeight = chartSize(merged)
	if err := r.exec(emit, "index.html", "front.html", p); err != nil {
		return err
	}
	data := historyChart("Binary packages per state in all sections", merged)
	if err := emit("history.svg", data); err != nil {
		return fmt.Errorf("emit history.svg: %w", err)
	}
	return nil
}

func (r *renderer) searchPage(emit Emit) error {
	return r.exec(emit, "search.html", "search.html", struct{ H head }{r.head("", "Search piuparts results")})
}

type slavesPage struct {
	H       head
	Holders []slaveHolder
	Last    []slaveLast
	Days    []slaveDay
	Kinds   []string
}

type slaveHolder struct {
	Holder       string
	Reservations []slaveReservation
}

type slaveReservation struct {
	Section, Package, Version string
	URL                       string
	Since, Expires            string
	Expired                   bool
}

type slaveLast struct {
	Slave, At, Section, Package, Version, Result string
	Bad                                          bool
	Count                                        int
}

type slaveDay struct {
	Date   string
	Counts []int // by slavesPage.Kinds
	Total  int
}

// slaveDays is how many days, up to Site.Now, the slaves page counts.
const slaveDays = 14

func (r *renderer) slaves(emit Emit) error {
	p := slavesPage{H: r.dated("", "piuparts slaves"),
		Kinds: []string{string(piuparts.KindPass), string(piuparts.KindFail), string(piuparts.KindUntestable)}}
	holders := map[string]*slaveHolder{}
	last := map[string]*slaveLast{}
	today := r.site.Now.UTC().Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, -(slaveDays - 1))
	days := make([]slaveDay, slaveDays)
	for i := range days {
		days[i] = slaveDay{Date: first.AddDate(0, 0, i).Format("2006-01-02"), Counts: make([]int, len(p.Kinds))}
	}
	for _, s := range r.site.Sections {
		for _, res := range s.Reservations {
			h := holders[res.Holder]
			if h == nil {
				h = &slaveHolder{Holder: res.Holder}
				holders[res.Holder] = h
			}
			sr := slaveReservation{Section: s.Name, Package: res.Package, Version: res.Version,
				Since: formatTime(res.Since), Expires: formatTime(res.Expires), Expired: !res.Expires.After(r.site.Now)}
			if pk := findPackage(s, res.Package); pk != nil {
				sr.URL = r.sourceURL(s.Name, pk.Source)
			}
			h.Reservations = append(h.Reservations, sr)
		}
		for _, sub := range s.Submissions {
			by := sub.By
			if by == "" {
				by = "unknown"
			}
			l := last[by]
			if l == nil {
				l = &slaveLast{Slave: by}
				last[by] = l
			}
			l.Count++
			if at := formatTime(sub.At); at >= l.At {
				l.At, l.Section, l.Package, l.Version, l.Result = at, s.Name, sub.Package, sub.Version, string(sub.Result)
				l.Bad = sub.Result != piuparts.KindPass
			}
			day := sub.At.UTC().Truncate(24 * time.Hour)
			if d := int(day.Sub(first) / (24 * time.Hour)); d >= 0 && d < slaveDays {
				if k := slices.Index(p.Kinds, string(sub.Result)); k >= 0 {
					days[d].Counts[k]++
				}
				days[d].Total++
			}
		}
	}
	for _, h := range holders {
		slices.SortFunc(h.Reservations, func(a, b slaveReservation) int {
			return cmp.Or(strings.Compare(a.Expires, b.Expires), strings.Compare(a.Section, b.Section), strings.Compare(a.Package, b.Package))
		})
		p.Holders = append(p.Holders, *h)
	}
	slices.SortFunc(p.Holders, func(a, b slaveHolder) int { return strings.Compare(a.Holder, b.Holder) })
	for _, l := range last {
		p.Last = append(p.Last, *l)
	}
	slices.SortFunc(p.Last, func(a, b slaveLast) int { return strings.Compare(a.Slave, b.Slave) })
	slices.Reverse(days)
	p.Days = days
	return r.exec(emit, "slaves.html", "slaves.html", p)
}

// findPackage looks a package up without relying on the section's own
// index, which the caller may not have built.
func findPackage(s *Section, name string) *Package {
	if p, ok := s.Package(name); ok {
		return p
	}
	i, ok := slices.BinarySearchFunc(s.Packages, name, func(p *Package, n string) int { return strings.Compare(p.Name, n) })
	if ok {
		return s.Packages[i]
	}
	return nil
}
