package report

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// referenceCountsHeader is counts.txt's header as piuparts-report writes
// it: "date" and PackagesDB._states.
const referenceCountsHeader = "date, successfully-tested, failed-testing, cannot-be-tested, essential-required, " +
	"waiting-to-be-tested, waiting-for-dependency-to-be-tested, dependency-failed-testing, " +
	"dependency-cannot-be-tested, dependency-does-not-exist, circular-dependency, unknown, " +
	"unknown-preferred-alternative, no-dependency-from-alternatives-exists, outdated\n"

func TestCountsLines(t *testing.T) {
	now := time.Date(2026, 1, 2, 23, 59, 0, 0, time.UTC)
	header, row := CountsLines(&Section{Name: "sid"}, now)
	if header != referenceCountsHeader {
		t.Errorf("header = %q, want %q", header, referenceCountsHeader)
	}
	if want := "20260102" + strings.Repeat(", 0", 14) + "\n"; row != want {
		t.Errorf("row = %q, want %q", row, want)
	}
	h, err := ParseHistory(strings.NewReader(header + row))
	if err != nil || len(h.States) != 14 || len(h.Rows) != 1 || h.Rows[0].Date != "20260102" {
		t.Errorf("ParseHistory(CountsLines) = %+v, %v", h, err)
	}
}

func TestParseHistory(t *testing.T) {
	t.Run("Rows", func(t *testing.T) {
		in := "date, a, b\n20250101, 1, 2\n20250102,3,4\n20250103 , 5 , 60"
		h, err := ParseHistory(strings.NewReader(in))
		want := &History{States: []string{"a", "b"}, Rows: []HistoryRow{
			{"20250101", []int{1, 2}}, {"20250102", []int{3, 4}}, {"20250103", []int{5, 60}}}}
		if err != nil || !reflect.DeepEqual(h, want) {
			t.Errorf("ParseHistory(%q) = %+v, %v, want %+v", in, h, err, want)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		h, err := ParseHistory(strings.NewReader(""))
		if err != nil || len(h.States) != 0 || len(h.Rows) != 0 {
			t.Errorf("ParseHistory(\"\") = %+v, %v, want an empty History", h, err)
		}
	})
	tests := []struct {
		name, in string
		line     int
	}{
		{"NoDate", "day, a\n", 1},
		{"EmptyState", "date, a,, b\n", 1},
		{"ShortDate", "date, a\n2025011, 1\n", 2},
		{"LetterDate", "date, a\n2025010x, 1\n", 2},
		{"TooFewCounts", "date, a, b\n20250101, 1\n", 2},
		{"TooManyCounts", "date, a\n20250101, 1\n20250102, 1, 2\n", 3},
		{"NotNumber", "date, a\n20250101, one\n", 2},
		{"Negative", "date, a\n20250101, -1\n", 2},
		{"Plus", "date, a\n20250101, +1\n", 2},
		{"BlankLine", "date, a\n20250101, 1\n\n20250102, 1\n", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseHistory(strings.NewReader(tt.in))
			var he *HistoryError
			if !errors.As(err, &he) || he.Line != tt.line {
				t.Errorf("ParseHistory(%q) = %+v, %v, want a *HistoryError at line %d", tt.in, h, err, tt.line)
			}
		})
	}
}

func FuzzParseHistory(f *testing.F) {
	_, row := CountsLines(&Section{}, time.Date(2025, 5, 20, 0, 0, 0, 0, time.UTC))
	f.Add(referenceCountsHeader + row)
	f.Add("date, a, b\n20250101, 1, 2\n20250102,3,4")
	f.Add("")
	f.Add("date\n20250101\n")
	f.Fuzz(func(t *testing.T, in string) {
		h, err := ParseHistory(strings.NewReader(in))
		if err != nil {
			var he *HistoryError
			if !errors.As(err, &he) && !strings.Contains(err.Error(), "too long") {
				t.Fatalf("ParseHistory(%q) error %v is not a *HistoryError", in, err)
			}
			return
		}
		// What parsed formats back to a history that parses the same.
		if len(h.States) == 0 && len(h.Rows) == 0 {
			return
		}
		var b strings.Builder
		b.WriteString("date")
		for _, s := range h.States {
			b.WriteString(", " + s)
		}
		b.WriteString("\n")
		for _, r := range h.Rows {
			b.WriteString(r.Date)
			for _, c := range r.Counts {
				b.WriteString(", " + strconv.Itoa(c))
			}
			b.WriteString("\n")
		}
		back, err := ParseHistory(strings.NewReader(b.String()))
		if err != nil || !reflect.DeepEqual(back, h) {
			t.Errorf("ParseHistory(format(%+v)) = %+v, %v", h, back, err)
		}
	})
}
