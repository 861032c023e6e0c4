package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"piuparts-server/internal/piuparts"
)

// DefaultDistroInfoPath is distro-info-data's table of Debian releases,
// the file python3-distro-info reads.
const DefaultDistroInfoPath = "/usr/share/distro-info/debian.csv"

// ErrDistroDataOutdated is returned when the release table does not know
// which release is devel, testing, stable or oldstable on the day asked
// (python3-distro-info's DistroDataOutdated).
var ErrDistroDataOutdated = errors.New("report: distro-info data outdated")

// DistroInfo is Debian's release table as distro-info-data ships it.
type DistroInfo struct {
	releases []distroRelease
}

// distroRelease is one row of debian.csv; a zero date is an empty column.
type distroRelease struct {
	version, codename, series string
	created, release, eol     civilDate
}

// civilDate is a calendar day as YYYYMMDD, 0 for none.
type civilDate int

func dayOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate(y*10000 + int(m)*100 + d)
}

// LoadDistroInfo reads a release table such as [DefaultDistroInfoPath].
// It returns the errors of os.Open and of [ParseDistroInfo].
func LoadDistroInfo(path string) (*DistroInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read distro-info: %w", err)
	}
	defer f.Close()
	d, err := ParseDistroInfo(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}

// ParseDistroInfo parses a distro-info CSV table: a header naming the
// columns (version, codename, series, created, release, eol, ...), then
// one row per release, oldest first. Dates are YYYY-MM-DD or YYYY-MM (the
// month's last day); created is required, the others may be empty or
// missing. It returns an error naming the line of a malformed row or date,
// or of a header without the series or created column.
func ParseDistroInfo(r io.Reader) (*DistroInfo, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("distro-info: empty table")
	}
	if err != nil {
		return nil, fmt.Errorf("distro-info: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		if _, dup := col[h]; !dup {
			col[h] = i
		}
	}
	for _, need := range []string{"series", "created"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("distro-info:1: no %s column", need)
		}
	}
	d := &DistroInfo{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return d, nil
		}
		if err != nil {
			return nil, fmt.Errorf("distro-info: %w", err)
		}
		line, _ := cr.FieldPos(0)
		field := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		var rel distroRelease
		rel.version, rel.codename, rel.series = field("version"), field("codename"), field("series")
		for _, c := range []struct {
			name     string
			dst      *civilDate
			required bool
		}{{"created", &rel.created, true}, {"release", &rel.release, false}, {"eol", &rel.eol, false}} {
			s := field(c.name)
			if s == "" && !c.required {
				continue
			}
			day, err := parseCivilDate(s)
			if err != nil {
				return nil, fmt.Errorf("distro-info:%d: %s: %w", line, c.name, err)
			}
			*c.dst = day
		}
		d.releases = append(d.releases, rel)
	}
}

// parseCivilDate parses YYYY-MM-DD, or YYYY-MM as the month's last day.
func parseCivilDate(s string) (civilDate, error) {
	parts := strings.Split(s, "-")
	if len(parts) != 2 && len(parts) != 3 {
		return 0, fmt.Errorf("date %s not YYYY-MM-DD", piuparts.Quote(s))
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("date %s not YYYY-MM-DD", piuparts.Quote(s))
		}
		n[i] = v
	}
	if n[0] < 1 || n[0] > 9999 || n[1] < 1 || n[1] > 12 {
		return 0, fmt.Errorf("date %s out of range", piuparts.Quote(s))
	}
	if len(parts) == 2 {
		last := time.Date(n[0], time.Month(n[1])+1, 0, 0, 0, 0, 0, time.UTC).Day()
		return civilDate(n[0]*10000 + n[1]*100 + last), nil
	}
	t := time.Date(n[0], time.Month(n[1]), n[2], 0, 0, 0, 0, time.UTC)
	if t.Day() != n[2] {
		return 0, fmt.Errorf("date %s out of range", piuparts.Quote(s))
	}
	return civilDate(n[0]*10000 + n[1]*100 + n[2]), nil
}

// avail returns the releases created by day, in the table's order.
func (d *DistroInfo) avail(day civilDate, keep func(distroRelease) bool) []distroRelease {
	var out []distroRelease
	for _, r := range d.releases {
		if day >= r.created && keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// supportedOn reports whether day is not past the release's end of life.
func (r distroRelease) supportedOn(day civilDate) bool { return r.eol == 0 || day <= r.eol }

// devel, testing, stable and old are distro-info's DebianDistroInfo
// functions of the same names.
func (d *DistroInfo) devel(day civilDate) (distroRelease, error) {
	l := d.avail(day, func(r distroRelease) bool {
		return r.release == 0 || (day < r.release && r.supportedOn(day))
	})
	if len(l) < 2 {
		return distroRelease{}, ErrDistroDataOutdated
	}
	return l[len(l)-2], nil
}

func (d *DistroInfo) testing(day civilDate) (distroRelease, error) {
	l := d.avail(day, func(r distroRelease) bool {
		return (r.release == 0 && r.version != "") || (r.release != 0 && day < r.release && r.supportedOn(day))
	})
	if len(l) < 1 {
		return distroRelease{}, ErrDistroDataOutdated
	}
	return l[len(l)-1], nil
}

func (d *DistroInfo) stable(day civilDate) (distroRelease, error) {
	l := d.avail(day, func(r distroRelease) bool {
		return r.release != 0 && day >= r.release && r.supportedOn(day)
	})
	if len(l) < 1 {
		return distroRelease{}, ErrDistroDataOutdated
	}
	return l[len(l)-1], nil
}

func (d *DistroInfo) old(day civilDate) (distroRelease, error) {
	l := d.avail(day, func(r distroRelease) bool { return r.release != 0 && day >= r.release })
	if len(l) < 2 {
		return distroRelease{}, ErrDistroDataOutdated
	}
	return l[len(l)-2], nil
}

// numberKey returns "Debian12" for 'Debian 12 "Bookworm"': the word the
// reference builds from the release's full name.
func (r distroRelease) numberKey() string {
	v := r.version
	if i := strings.IndexAny(v, " ."); i >= 0 {
		v = v[:i]
	}
	return "Debian" + v
}

// distroMap returns piupartslib's map from distribution names to the
// standard names on day: codenames and standard names themselves,
// "experimental" and "rc", and "DebianN" for oldstable, stable and
// testing. It returns ErrDistroDataOutdated as the reference would raise
// DistroDataOutdated.
func (d *DistroInfo) distroMap(day civilDate) (map[string]string, error) {
	var rel [4]distroRelease // old, devel, stable, testing
	var err error
	for i, f := range []func(civilDate) (distroRelease, error){d.old, d.devel, d.stable, d.testing} {
		if rel[i], err = f(day); err != nil {
			return nil, err
		}
	}
	m := map[string]string{}
	for _, kv := range [][2]string{
		{rel[0].series, "oldstable"}, {rel[1].series, "unstable"}, {rel[2].series, "stable"},
		{rel[3].series, "testing"}, {"experimental", "experimental"}, {"rc", "experimental"},
	} {
		m[kv[0]] = kv[1]
	}
	vals := make([]string, 0, len(m))
	for _, v := range m {
		vals = append(vals, v)
	}
	for _, v := range vals {
		m[v] = v
	}
	var numbered [3][2]string
	for i, r := range []distroRelease{rel[0], rel[2], rel[3]} {
		numbered[i] = [2]string{r.numberKey(), lookupDistro(m, r.series)}
	}
	for _, kv := range numbered {
		m[kv[0]] = kv[1]
	}
	return m, nil
}

func lookupDistro(m map[string]string, name string) string {
	if v, ok := m[name]; ok {
		return v
	}
	return "unknown"
}

// StdDistro returns the standard name (unstable, testing, stable,
// oldstable, experimental or unknown) that json-sections = default
// reports a section under on the day of now: of distros (the reference
// passes distro, then upgrade-test-distros), mapped without any "-" or "."
// suffix, the last that is not unknown (piupartslib's get_std_distro). It
// returns ErrDistroDataOutdated when the table has no release for one of
// the roles on that day.
func (d *DistroInfo) StdDistro(distros []string, now time.Time) (string, error) {
	m, err := d.distroMap(dayOf(now))
	if err != nil {
		return "", err
	}
	std := "unknown"
	for _, name := range distros {
		if i := strings.IndexAny(name, "-."); i >= 0 {
			name = name[:i]
		}
		if v := lookupDistro(m, name); v != "unknown" {
			std = v
		}
	}
	return std, nil
}
