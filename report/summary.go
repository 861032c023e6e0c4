package report

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"piuparts-server/internal/piuparts"
)

// The header of every summary.json, as pkgsummary.py writes it.
const (
	SummaryID      = "Piuparts Package Test Results Summary"
	SummaryVersion = "1.0"
	SummaryComment = "Debian Piuparts Package Results - " +
		"https://salsa.debian.org/debian/piuparts/raw/develop/piupartslib/pkgsummary.py"
	SummaryType = "source"
	// OverallSection is the json-section of the global summary that holds
	// each source's worst result across the others.
	OverallSection = "overall"
)

// ErrInvalidSummary is returned for a flag, block count or URL that
// pkgsummary.py refuses, and for a summary file whose header is not
// pkgsummary's (its SummaryException).
var ErrInvalidSummary = errors.New("report: invalid summary")

// flagOrder lists the summary flags worst first (pkgsummary's priorities).
const flagOrder = "FXWP-"

// Flag returns the one-letter summary flag of a package state: F for
// failed-testing; X for cannot-be-tested and the dependency-* error
// states; W for the waiting states; P for successfully-tested and
// essential-required; "-" for unknown and does-not-exist. Any other state
// (outdated among them) wraps ErrInvalidSummary, as pkgsummary.get_flag
// raises.
func Flag(state string) (string, error) {
	switch state {
	case piuparts.FailedTesting:
		return "F", nil
	case piuparts.CannotBeTested, piuparts.DependencyFailedTesting,
		piuparts.DependencyCannotBeTested, piuparts.DependencyDoesNotExist:
		return "X", nil
	case piuparts.WaitingToBeTested, piuparts.WaitingForDependencyToBeTested:
		return "W", nil
	case piuparts.EssentialRequired, piuparts.SuccessfullyTested:
		return "P", nil
	case piuparts.DoesNotExist, piuparts.Unknown:
		return "-", nil
	}
	return "", fmt.Errorf("%w: unknown state %s", ErrInvalidSummary, piuparts.Quote(state))
}

// flagRank returns a flag's place in flagOrder, -1 for no flag.
func flagRank(flag string) int {
	if len(flag) != 1 {
		return -1
	}
	return strings.IndexByte(flagOrder, flag[0])
}

// SummaryEntry is one source's result in one json-section: its worst flag,
// how many packages it blocks, and the page that shows it.
type SummaryEntry struct {
	Flag  string
	Block int
	URL   string
}

// Summary is the content of a summary.json: per source, per json-section,
// one SummaryEntry.
type Summary struct {
	// Date is the "_date" header: UTC, as the reference formats it
	// ("Wed Feb 26 01:48:43 UTC 2014").
	Date string
	// Packages maps source names to json-section names to entries.
	Packages map[string]map[string]SummaryEntry
}

// NewSummary returns an empty summary dated now.
func NewSummary(now time.Time) *Summary {
	return &Summary{Date: SummaryDate(now), Packages: map[string]map[string]SummaryEntry{}}
}

// SummaryDate formats t as summary.json's "_date": Python's ctime of the
// UTC time with "UTC" before the year and single spaces.
func SummaryDate(t time.Time) string {
	t = t.UTC()
	return t.Format("Mon Jan 2 15:04:05") + " UTC " + strconv.Itoa(t.Year())
}

// Add records one binary package's result for source under jsonSection
// as pkgsummary.add_summary does: the worst flag wins, of equally bad
// results the first one's URL stays, and the block count is the maximum
// seen (and never below 0). It returns an error wrapping
// ErrInvalidSummary for an unknown flag or a URL not starting with
// "http".
func (s *Summary) Add(jsonSection, source, flag string, block int, url string) error {
	rank := flagRank(flag)
	if rank < 0 || !strings.HasPrefix(url, "http") {
		return fmt.Errorf("%w: flag %s, url %s", ErrInvalidSummary, piuparts.Quote(flag), piuparts.Quote(url))
	}
	secs := s.Packages[source]
	if secs == nil {
		secs = map[string]SummaryEntry{}
		s.Packages[source] = secs
	}
	old, seen := secs[jsonSection]
	block = max(block, old.Block)
	if !seen || rank < flagRank(old.Flag) {
		secs[jsonSection] = SummaryEntry{Flag: flag, Block: block, URL: url}
	} else {
		old.Block = block
		secs[jsonSection] = old
	}
	return nil
}

// Merge adds every entry of a section's summary to s, under its own
// json-section and under OverallSection, as pkgsummary.merge_summary does.
// Merge sections in the order of precedence: of equal results the first
// merged keeps its URL. It returns Add's errors.
func (s *Summary) Merge(sec *Summary) error {
	for _, src := range sortedKeys(sec.Packages) {
		entries := sec.Packages[src]
		for _, js := range sortedKeys(entries) {
			e := entries[js]
			if err := s.Add(js, src, e.Flag, e.Block, e.URL); err != nil {
				return err
			}
			if err := s.Add(OverallSection, src, e.Flag, e.Block, e.URL); err != nil {
				return err
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Write writes s as Python's json.dump(summary, sort_keys=True, indent=1)
// does, byte for byte: keys sorted, one space of indent per level,
// non-ASCII escaped as \uXXXX, no final newline. It returns w's error.
func (s *Summary) Write(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("{\n")
	for _, kv := range [][2]string{
		{"_comment", SummaryComment}, {"_date", s.Date}, {"_id", SummaryID},
		{"_type", SummaryType}, {"_version", SummaryVersion},
	} {
		bw.WriteString(" ")
		writeJSONString(bw, kv[0])
		bw.WriteString(": ")
		writeJSONString(bw, kv[1])
		bw.WriteString(",\n")
	}
	bw.WriteString(" ")
	writeJSONString(bw, "packages")
	bw.WriteString(": ")
	if len(s.Packages) == 0 {
		bw.WriteString("{}")
	} else {
		bw.WriteString("{\n")
		for i, src := range sortedKeys(s.Packages) {
			if i > 0 {
				bw.WriteString(",\n")
			}
			bw.WriteString("  ")
			writeJSONString(bw, src)
			bw.WriteString(": ")
			secs := s.Packages[src]
			if len(secs) == 0 {
				bw.WriteString("{}")
				continue
			}
			bw.WriteString("{\n")
			for j, js := range sortedKeys(secs) {
				if j > 0 {
					bw.WriteString(",\n")
				}
				e := secs[js]
				bw.WriteString("   ")
				writeJSONString(bw, js)
				bw.WriteString(": [\n    ")
				writeJSONString(bw, e.Flag)
				bw.WriteString(",\n    ")
				bw.WriteString(strconv.Itoa(e.Block))
				bw.WriteString(",\n    ")
				writeJSONString(bw, e.URL)
				bw.WriteString("\n   ]")
			}
			bw.WriteString("\n  }")
		}
		bw.WriteString("\n }")
	}
	bw.WriteString("\n}")
	return bw.Flush()
}

// writeJSONString writes s quoted as Python's json module does with
// ensure_ascii: \" \\ \n \r \t \b \f, any other byte outside printable
// ASCII as \u00XX, characters beyond the BMP as a surrogate pair. An
// invalid UTF-8 byte is written as \ufffd.
func writeJSONString(w *bufio.Writer, s string) {
	const hex = "0123456789abcdef"
	u := func(r rune) {
		w.WriteString(`\u`)
		w.WriteByte(hex[r>>12&15])
		w.WriteByte(hex[r>>8&15])
		w.WriteByte(hex[r>>4&15])
		w.WriteByte(hex[r&15])
	}
	w.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			w.WriteString(`\"`)
		case r == '\\':
			w.WriteString(`\\`)
		case r == '\n':
			w.WriteString(`\n`)
		case r == '\r':
			w.WriteString(`\r`)
		case r == '\t':
			w.WriteString(`\t`)
		case r == '\b':
			w.WriteString(`\b`)
		case r == '\f':
			w.WriteString(`\f`)
		case r >= 0x20 && r <= 0x7e:
			w.WriteByte(byte(r))
		case r > 0xffff:
			r -= 0x10000
			u(0xd800 | (r>>10)&0x3ff)
			u(0xdc00 | r&0x3ff)
		default:
			u(r)
		}
	}
	w.WriteByte('"')
}

// ReadSummary parses a summary.json (a section's, as the global summary
// reads them back). It returns an error wrapping ErrInvalidSummary when
// "_id" or "_version" is not pkgsummary's or an entry is not
// [flag, count, url], and json's errors for malformed input.
func ReadSummary(r io.Reader) (*Summary, error) {
	var raw struct {
		ID       string                                  `json:"_id"`
		Version  string                                  `json:"_version"`
		Date     string                                  `json:"_date"`
		Packages map[string]map[string][]json.RawMessage `json:"packages"`
	}
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, fmt.Errorf("read summary: %w", err)
	}
	if raw.ID != SummaryID || raw.Version != SummaryVersion {
		return nil, fmt.Errorf("%w: header mismatch (_id %s, _version %s)", ErrInvalidSummary, piuparts.Quote(raw.ID), piuparts.Quote(raw.Version))
	}
	s := &Summary{Date: raw.Date, Packages: make(map[string]map[string]SummaryEntry, len(raw.Packages))}
	for src, secs := range raw.Packages {
		out := make(map[string]SummaryEntry, len(secs))
		for js, v := range secs {
			var e SummaryEntry
			if len(v) != 3 || json.Unmarshal(v[0], &e.Flag) != nil ||
				json.Unmarshal(v[1], &e.Block) != nil || json.Unmarshal(v[2], &e.URL) != nil {
				return nil, fmt.Errorf("%w: entry %s of %s", ErrInvalidSummary, piuparts.Quote(js), piuparts.Quote(src))
			}
			out[js] = e
		}
		s.Packages[src] = out
	}
	return s, nil
}

// SourceURL returns the page of a source in a section, as summary.json
// links it: https://WEB-HOST DOC-ROOT/SECTION/source/X/SRC.html.
func SourceURL(site *Site, section, source string) string {
	return "https://" + site.Config.Global.WebHost + site.DocRoot + "/" + section +
		"/source/" + SourceDir(source) + "/" + source + ".html"
}

// JSONSections returns the json-sections a section reports its summary
// under, and false for json-sections = none: for an empty setting or one
// starting with "default", the standard name of the section's distro (see
// [DistroInfo.StdDistro]) on the day of site.Now. It returns an error
// when that mapping is needed and site.DistroInfo is nil, and
// StdDistro's errors.
func JSONSections(site *Site, s *Section) ([]string, bool, error) {
	names := s.Conf.JSONSections
	if len(names) == 0 || names[0] == "default" {
		if site.DistroInfo == nil {
			return nil, false, fmt.Errorf("json-sections of %s: no distro-info data", s.Name)
		}
		std, err := site.DistroInfo.StdDistro(append([]string{s.Conf.GetDistro()}, s.Conf.Distros()...), site.Now)
		if err != nil {
			return nil, false, fmt.Errorf("json-sections of %s: %w", s.Name, err)
		}
		names = []string{std}
	}
	if names[0] == "none" {
		return nil, false, nil
	}
	return names, true, nil
}

// SectionSummary builds a section's summary.json as generate_summary
// does: for each json-section, each binary package's flag (from its
// recursive state), its block count when the flag is F, and its source's
// page. It returns false when json-sections is none (the caller removes
// the section's summary.json, as the reference does), and the errors of
// [JSONSections], and of [Flag] for a package in a state with no flag
// (outdated).
func SectionSummary(site *Site, s *Section) (*Summary, bool, error) {
	names, ok, err := JSONSections(site, s)
	if err != nil || !ok {
		return nil, false, err
	}
	sum := NewSummary(site.Now)
	for _, js := range names {
		for _, p := range s.Packages {
			flag, err := Flag(p.StateRecursive)
			if err != nil {
				return nil, false, fmt.Errorf("summary of %s: package %s: %w", s.Name, p.Name, err)
			}
			block := 0
			if flag == "F" {
				block = p.Block
			}
			if err := sum.Add(js, p.Source, flag, block, SourceURL(site, s.Name, p.Source)); err != nil {
				return nil, false, fmt.Errorf("summary of %s: %w", s.Name, err)
			}
		}
	}
	return sum, true, nil
}

// GlobalSummary merges the sections' summaries into the top-level
// summary.json as generate_global_summary does: the config's sections
// ordered by precedence (ties in the sections key's order), each merged
// when summaries holds it (the reference merges the files that exist).
// It returns Merge's errors.
func GlobalSummary(site *Site, summaries map[string]*Summary) (*Summary, error) {
	names := slices.Clone(site.Config.Global.SectionNames)
	slices.SortStableFunc(names, func(a, b string) int {
		return precedence(site, a) - precedence(site, b)
	})
	g := NewSummary(site.Now)
	for _, n := range names {
		if sum := summaries[n]; sum != nil {
			if err := g.Merge(sum); err != nil {
				return nil, fmt.Errorf("global summary: section %s: %w", n, err)
			}
		}
	}
	return g, nil
}

func precedence(site *Site, section string) int {
	if c := site.Config.Sections[section]; c != nil {
		return c.Precedence
	}
	return site.Config.Global.Precedence
}
