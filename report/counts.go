package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"piuparts-server/internal/piuparts"
	"piuparts-server/master/state"
)

// HistoryError is a malformed line of counts.txt.
type HistoryError struct {
	Line int // 1-based
	Msg  string
}

func (e *HistoryError) Error() string { return fmt.Sprintf("counts.txt:%d: %s", e.Line, e.Msg) }

// ParseHistory parses a section's counts.txt: a header "date, STATE, ..."
// and one row "YYYYMMDD, N, ..." per day with a count for each state of
// the header. Fields are separated by commas, spaces around them are
// ignored, and the last line may lack its newline. Empty input is a
// History with no states and no rows. It returns a *HistoryError naming
// the line of a header not starting with "date", an empty field or line,
// a date that is not eight digits, a count that is not a number, or a
// row whose number of counts differs from the header's, and the reader's
// error.
func ParseHistory(r io.Reader) (*History, error) {
	h := &History{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		fields := strings.Split(sc.Text(), ",")
		for i := range fields {
			fields[i] = strings.TrimSpace(fields[i])
			if fields[i] == "" {
				return nil, &HistoryError{n, fmt.Sprintf("empty field %d", i+1)}
			}
		}
		if n == 1 {
			if fields[0] != "date" {
				return nil, &HistoryError{n, fmt.Sprintf("header starts with %s, not \"date\"", piuparts.Quote(fields[0]))}
			}
			h.States = fields[1:]
			continue
		}
		if !isDate(fields[0]) {
			return nil, &HistoryError{n, fmt.Sprintf("date %s is not YYYYMMDD", piuparts.Quote(fields[0]))}
		}
		if len(fields)-1 != len(h.States) {
			return nil, &HistoryError{n, fmt.Sprintf("%d counts for %d states", len(fields)-1, len(h.States))}
		}
		row := HistoryRow{Date: fields[0], Counts: make([]int, len(fields)-1)}
		for i, f := range fields[1:] {
			c, err := strconv.Atoi(f)
			if err != nil || c < 0 || f[0] == '+' {
				return nil, &HistoryError{n, fmt.Sprintf("count %s of %s is not a number", piuparts.Quote(f), h.States[i])}
			}
			row.Counts[i] = c
		}
		h.Rows = append(h.Rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("counts.txt:%d: %w", n+1, err)
	}
	return h, nil
}

func isDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// CountsDay returns the day of t as counts.txt writes it, YYYYMMDD in t's
// location.
func CountsDay(t time.Time) string { return t.Format("20060102") }

// CountsLines returns counts.txt's header and the row of a section for
// the day of now, as write_counts_summary formats them ("date, STATE,
// ..." and "YYYYMMDD, N, ..." with a newline): the number of the
// section's packages in each of the fourteen states, in piupartslib's
// order. A section with no Result counts none.
func CountsLines(s *Section, now time.Time) (header, row string) {
	states := state.States()
	n := make(map[string]int, len(states))
	if s.Result != nil {
		s.Result.Each(func(e state.Entry) { n[e.State]++ })
	}
	var hb, rb strings.Builder
	hb.WriteString("date")
	rb.WriteString(CountsDay(now))
	for _, st := range states {
		hb.WriteString(", " + st)
		rb.WriteString(", " + strconv.Itoa(n[st]))
	}
	return hb.String() + "\n", rb.String() + "\n"
}
