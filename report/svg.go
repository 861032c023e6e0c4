package report

import (
	"bytes"
	"fmt"
	"html"
	"slices"
	"strconv"
)

// Chart geometry, in SVG user units.
const (
	chartWidth   = 800
	chartHeight  = 400
	chartLeft    = 70
	chartRight   = 20
	chartTop     = 40
	chartBottom  = 40
	chartPoints  = 400 // at most this many days are drawn; longer histories are sampled
	legendRow    = 18
	legendColumn = 260
)

// chartPalette is the reference's Tango palette, by the position of the
// state in counts.txt.
var chartPalette = []string{"#4e9a06", "#ef2929", "#d3d7cf", "#5c3566", "#c4a000",
	"#fce94f", "#a40000", "#888a85", "#2e3436", "#729fcf", "#3465a4", "#204a87", "#555753", "#ce5c00"}

// historyChart draws h as stacked areas, one per state with a count other
// than 0, bottom to top in the order of h.States, with axes, a legend
// that names each state and its latest count, and a <title> and <desc>.
func historyChart(title string, h *History) []byte {
	var b bytes.Buffer
	var rows []HistoryRow
	var states []int // indexes of h.States that are drawn
	if h != nil {
		rows = sampleRows(h.Rows, chartPoints)
		if len(rows) == 1 {
			// One day (a new farm): drawn as that day across the chart,
			// not as an area of no width.
			rows = append(rows, rows[0])
		}
		for i := range h.States {
			for _, r := range h.Rows {
				if i < len(r.Counts) && r.Counts[i] != 0 {
					states = append(states, i)
					break
				}
			}
		}
	}
	height := chartHeight + (len(states)+2)/3*legendRow
	plotW := float64(chartWidth - chartLeft - chartRight)
	plotH := float64(chartHeight - chartTop - chartBottom)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="chart-title chart-desc" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, "<title id=\"chart-title\">%s</title>\n", html.EscapeString(title))
	fmt.Fprintf(&b, "<desc id=\"chart-desc\">%s</desc>\n", html.EscapeString(chartDesc(h, rows, states)))
	b.WriteString(`<rect width="100%" height="100%" fill="#ffffff"/>` + "\n")
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16" font-weight="bold">%s</text>`+"\n", chartLeft, html.EscapeString(title))

	// The stack's top decides the y scale.
	top := 0
	for _, r := range rows {
		sum := 0
		for _, i := range states {
			sum += r.Counts[i]
		}
		top = max(top, sum)
	}
	step := niceStep(top)
	ymax := max(step, (top+step-1)/step*step)
	x := func(i int) float64 {
		if len(rows) <= 1 {
			return chartLeft + plotW/2
		}
		return chartLeft + plotW*float64(i)/float64(len(rows)-1)
	}
	y := func(v int) float64 { return chartTop + plotH - plotH*float64(v)/float64(ymax) }

	// Grid and y axis labels.
	for v := 0; v <= ymax; v += step {
		fmt.Fprintf(&b, `<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#dddddd"/>`+"\n", chartLeft, num(y(v)), chartWidth-chartRight, num(y(v)))
		fmt.Fprintf(&b, `<text x="%d" y="%s" text-anchor="end">%d</text>`+"\n", chartLeft-6, num(y(v)+4), v)
	}
	fmt.Fprintf(&b, `<text transform="translate(16 %s) rotate(-90)" text-anchor="middle">binary packages</text>`+"\n", num(chartTop+plotH/2))

	// One polygon per state, on top of the ones before it.
	base := make([]int, len(rows))
	for _, i := range states {
		var pts bytes.Buffer
		for j, r := range rows {
			fmt.Fprintf(&pts, "%s,%s ", num(x(j)), num(y(base[j]+r.Counts[i])))
		}
		for j := len(rows) - 1; j >= 0; j-- {
			fmt.Fprintf(&pts, "%s,%s ", num(x(j)), num(y(base[j])))
		}
		for j, r := range rows {
			base[j] += r.Counts[i]
		}
		fmt.Fprintf(&b, `<polygon points="%s" fill="%s"><title>%s</title></polygon>`+"\n",
			bytes.TrimSpace(pts.Bytes()), chartPalette[i%len(chartPalette)], html.EscapeString(h.States[i]))
	}

	// x axis: the first, middle and last dates.
	fmt.Fprintf(&b, `<line x1="%d" y1="%s" x2="%d" y2="%s" stroke="#000000"/>`+"\n", chartLeft, num(y(0)), chartWidth-chartRight, num(y(0)))
	if n := len(rows); n > 0 {
		ticks := []int{0, n / 2, n - 1}
		ticks = slices.Compact(ticks)
		for k, j := range ticks {
			anchor := "middle"
			switch {
			case len(ticks) > 1 && k == 0:
				anchor = "start"
			case len(ticks) > 1 && k == len(ticks)-1:
				anchor = "end"
			}
			fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="%s">%s</text>`+"\n", num(x(j)), num(y(0)+18), anchor, chartDate(rows[j].Date))
		}
	} else {
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">no history yet</text>`+"\n", num(chartLeft+plotW/2), num(chartTop+plotH/2))
	}

	// Legend: a swatch and the state's name with its latest count.
	for k, i := range states {
		lx := chartLeft + (k%3)*legendColumn
		ly := chartHeight + (k/3)*legendRow
		last := 0
		if len(rows) > 0 {
			last = rows[len(rows)-1].Counts[i]
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s" stroke="#000000"/>`+"\n", lx, ly-10, chartPalette[i%len(chartPalette)])
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s: %d</text>`+"\n", lx+18, ly, html.EscapeString(h.States[i]), last)
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// chartSize returns the height historyChart gives h's chart.
func chartSize(h *History) int {
	n := 0
	if h != nil {
		for i := range h.States {
			for _, r := range h.Rows {
				if i < len(r.Counts) && r.Counts[i] != 0 {
					n++
					break
				}
			}
		}
	}
	return chartHeight + (n+2)/3*legendRow
}

func chartDesc(h *History, rows []HistoryRow, states []int) string {
	if len(rows) == 0 {
		return "No history has been recorded."
	}
	last := rows[len(rows)-1]
	d := "Stacked areas of the number of binary packages in each state from " + chartDate(rows[0].Date) +
		" to " + chartDate(last.Date) + ". On the last day:"
	for k, i := range states {
		if k > 0 {
			d += ","
		}
		d += " " + h.States[i] + " " + strconv.Itoa(last.Counts[i])
	}
	return d + "."
}

// sampleRows keeps at most n rows, evenly spaced, always the last; rows
// shorter than the others are padded with zeros.
func sampleRows(rows []HistoryRow, n int) []HistoryRow {
	width := 0
	for _, r := range rows {
		width = max(width, len(r.Counts))
	}
	pad := func(r HistoryRow) HistoryRow {
		if len(r.Counts) < width {
			c := make([]int, width)
			copy(c, r.Counts)
			r.Counts = c
		}
		return r
	}
	if len(rows) <= n {
		out := make([]HistoryRow, len(rows))
		for i, r := range rows {
			out[i] = pad(r)
		}
		return out
	}
	out := make([]HistoryRow, 0, n)
	for k := range n {
		out = append(out, pad(rows[k*(len(rows)-1)/(n-1)]))
	}
	return out
}

// niceStep returns a grid step of 1, 2 or 5 times a power of ten that
// splits 0..top into at most 8 parts.
func niceStep(top int) int {
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 5} {
			if top <= 8*m*p {
				return m * p
			}
		}
	}
}

// chartDate turns counts.txt's YYYYMMDD into YYYY-MM-DD.
func chartDate(d string) string {
	if len(d) == 8 {
		return d[:4] + "-" + d[4:6] + "-" + d[6:]
	}
	return html.EscapeString(d)
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// mergeHistory sums the histories of several sections by date, with the
// union of their states in the order they first appear.
func mergeHistory(hs []*History) *History {
	out := &History{}
	col := map[string]int{}
	for _, h := range hs {
		if h == nil {
			continue
		}
		for _, s := range h.States {
			if _, ok := col[s]; !ok {
				col[s] = len(out.States)
				out.States = append(out.States, s)
			}
		}
	}
	byDate := map[string][]int{}
	for _, h := range hs {
		if h == nil {
			continue
		}
		for _, r := range h.Rows {
			c := byDate[r.Date]
			if c == nil {
				c = make([]int, len(out.States))
				byDate[r.Date] = c
			}
			for i, n := range r.Counts {
				if i < len(h.States) {
					c[col[h.States[i]]] += n
				}
			}
		}
	}
	dates := make([]string, 0, len(byDate))
	for d := range byDate {
		dates = append(dates, d)
	}
	slices.Sort(dates)
	for _, d := range dates {
		out.Rows = append(out.Rows, HistoryRow{Date: d, Counts: byDate[d]})
	}
	return out
}

func (v *sectionView) chart(emit Emit) error {
	data := historyChart("Binary packages per state in "+v.s.Name, v.s.History)
	if err := emit(v.s.Name+"/states.svg", data); err != nil {
		return fmt.Errorf("emit %s/states.svg: %w", v.s.Name, err)
	}
	return nil
}
