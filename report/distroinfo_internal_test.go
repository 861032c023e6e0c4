package report

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// testDistroCSV is distro-info-data 0.58+deb12u7's debian.csv, so that the
// expectations below do not move when the installed data is updated.
const testDistroCSV = `
version,codename,series,created,release,eol,eol-lts,eol-elts
1.1,Buzz,buzz,1993-08-16,1996-06-17,1997-06-05
1.2,Rex,rex,1996-06-17,1996-12-12,1998-06-05
1.3,Bo,bo,1996-12-12,1997-06-05,1999-03-09
2.0,Hamm,hamm,1997-06-05,1998-07-24,2000-03-09
2.1,Slink,slink,1998-07-24,1999-03-09,2000-10-30
2.2,Potato,potato,1999-03-09,2000-08-15,2003-06-30
3.0,Woody,woody,2000-08-15,2002-07-19,2006-06-30
3.1,Sarge,sarge,2002-07-19,2005-06-06,2008-03-31
4.0,Etch,etch,2005-06-06,2007-04-08,2010-02-15
5.0,Lenny,lenny,2007-04-08,2009-02-14,2012-02-06
6.0,Squeeze,squeeze,2009-02-14,2011-02-06,2014-05-31,2016-02-29
7,Wheezy,wheezy,2011-02-06,2013-05-04,2016-04-25,2018-05-31,2020-06-30
8,Jessie,jessie,2013-05-04,2015-04-26,2018-06-17,2020-06-30,2025-06-30
9,Stretch,stretch,2015-04-26,2017-06-17,2020-07-18,2022-06-30,2027-06-30
10,Buster,buster,2017-06-17,2019-07-06,2022-09-10,2024-06-30,2029-06-30
11,Bullseye,bullseye,2019-07-06,2021-08-14,2024-08-14,2026-08-31,2031-06-30
12,Bookworm,bookworm,2021-08-14,2023-06-10,2026-07-11,2028-06-30,2033-06-30
13,Trixie,trixie,2023-06-10,2025-08-09,2028-08-09,2030-06-30,2035-06-30
14,Forky,forky,2025-08-09
15,Duke,duke,2027-08-01
,Sid,sid,1993-08-16
,Experimental,experimental,1993-08-16
`

func testDistroInfo(t *testing.T) *DistroInfo {
	t.Helper()
	d, err := ParseDistroInfo(strings.NewReader(testDistroCSV))
	if err != nil {
		t.Fatalf("ParseDistroInfo: %v", err)
	}
	return d
}

func TestDistroInfo_StdDistro(t *testing.T) {
	d := testDistroInfo(t)
	day := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		date    string
		distros []string
		want    string
	}{
		{"2026-03-07", []string{"sid"}, "unstable"},
		{"2026-03-07", []string{"unstable"}, "unstable"},
		{"2026-03-07", []string{"bookworm"}, "oldstable"},
		{"2026-03-07", []string{"trixie"}, "stable"},
		{"2026-03-07", []string{"forky"}, "testing"},
		{"2026-03-07", []string{"experimental"}, "experimental"},
		{"2026-03-07", []string{"rc-buggy"}, "experimental"},
		{"2026-03-07", []string{"bookworm-proposed-updates"}, "oldstable"},
		{"2026-03-07", []string{"bullseye"}, "unknown"},
		{"2026-03-07", []string{"Debian12"}, "oldstable"},
		{"2026-03-07", []string{"Debian13.1"}, "stable"},
		{"2026-03-07", []string{"Debian14"}, "testing"},
		{"2026-03-07", []string{"bullseye", "bookworm"}, "oldstable"},
		{"2026-03-07", []string{"bookworm", "bullseye"}, "oldstable"},
		{"2026-03-07", []string{"trixie", "sid"}, "unstable"},
		{"2026-03-07", []string{"", "foo"}, "unknown"},
		{"2023-06-09", []string{"bookworm"}, "testing"},
		{"2023-06-10", []string{"bookworm"}, "stable"},
		{"2023-06-09", []string{"buster"}, "oldstable"},
		// Once duke is created it is "testing" and forky, still unreleased,
		// is no role at all: distro-info's rule, kept.
		{"2027-09-01", []string{"forky"}, "unknown"},
		{"2027-09-01", []string{"duke"}, "testing"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.date, strings.Join(tt.distros, "+")), func(t *testing.T) {
			got, err := d.StdDistro(tt.distros, day(tt.date))
			if err != nil || got != tt.want {
				t.Errorf("StdDistro(%q, %s) = %q, %v, want %q", tt.distros, tt.date, got, err, tt.want)
			}
		})
	}
	if _, err := d.StdDistro([]string{"sid"}, day("1995-01-01")); err != ErrDistroDataOutdated {
		t.Errorf("StdDistro on 1995-01-01 = %v, want ErrDistroDataOutdated", err)
	}
}

// stdDistroScript answers each case with piupartslib's get_std_distro,
// with distro-info's "today" set to the case's date.
const stdDistroScript = `
import datetime, json, sys
import distro_info
from piupartslib import conf
orig = distro_info.DebianDistroInfo.__init__
day = [None]
def init(self):
    orig(self)
    self._date = day[0]
distro_info.DebianDistroInfo.__init__ = init
out = []
for c in json.load(sys.stdin):
    day[0] = datetime.date.fromisoformat(c["date"])
    try:
        out.append(conf.Config("x", {}).get_std_distro(c["distros"]))
    except distro_info.DistroDataOutdated:
        out.append("ERROR")
json.dump(out, sys.stdout)
`

func TestDistroInfo_MatchesPiupartslib(t *testing.T) {
	d, err := LoadDistroInfo(DefaultDistroInfoPath)
	if err != nil {
		t.Skipf("SKIP: no distro-info data: %v", err)
	}
	type tcase struct {
		Date    string   `json:"date"`
		Distros []string `json:"distros"`
	}
	var cases []tcase
	lists := [][]string{{"sid"}, {"unstable"}, {"testing"}, {"stable"}, {"oldstable"}, {"experimental"},
		{"rc-buggy"}, {"foo"}, {""}, {"bookworm-backports"}, {"bookworm.1"}}
	for _, r := range d.releases {
		lists = append(lists, []string{r.series}, []string{r.numberKey()}, []string{r.series, "sid"}, []string{"sid", r.series})
	}
	for tm := time.Date(1996, 1, 1, 0, 0, 0, 0, time.UTC); tm.Year() < 2031; tm = tm.AddDate(0, 0, 181) {
		for _, l := range lists {
			cases = append(cases, tcase{tm.Format("2006-01-02"), l})
		}
	}
	// The days around each release and end of life.
	for _, r := range d.releases {
		for _, cd := range []civilDate{r.created, r.release, r.eol} {
			if cd == 0 {
				continue
			}
			base := time.Date(int(cd)/10000, time.Month(int(cd)/100%100), int(cd)%100, 0, 0, 0, 0, time.UTC)
			for _, off := range []int{-1, 0, 1} {
				for _, l := range lists {
					cases = append(cases, tcase{base.AddDate(0, 0, off).Format("2006-01-02"), l})
				}
			}
		}
	}
	in, _ := json.Marshal(cases)
	var want []string
	if err := json.Unmarshal(runReference(t, stdDistroScript, in, "piupartslib.conf", "distro_info"), &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(cases) {
		t.Fatalf("reference answered %d cases of %d", len(want), len(cases))
	}
	bad := 0
	for i, c := range cases {
		day, _ := time.Parse("2006-01-02", c.Date)
		got, err := d.StdDistro(c.Distros, day)
		if err != nil {
			got = "ERROR"
		}
		if got != want[i] && bad < 20 {
			bad++
			t.Errorf("StdDistro(%q, %s) = %q (%v), get_std_distro says %q", c.Distros, c.Date, got, err, want[i])
		}
	}
	t.Logf("%d cases compared", len(cases))
}

func TestParseDistroInfo_Errors(t *testing.T) {
	tests := []struct{ name, in string }{
		{"Empty", ""},
		{"NoSeries", "version,codename,created\n1,A,2000-01-01\n"},
		{"BadCreated", "version,codename,series,created\n1,A,a,2000-13-01\n"},
		{"MissingCreated", "version,codename,series,created\n1,A,a\n"},
		{"BadRelease", "version,codename,series,created,release\n1,A,a,2000-01-01,soon\n"},
		{"BadDay", "version,codename,series,created\n1,A,a,2001-02-29\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d, err := ParseDistroInfo(strings.NewReader(tt.in)); err == nil {
				t.Errorf("ParseDistroInfo(%q) = %+v, want an error", tt.in, d)
			}
		})
	}
	d, err := ParseDistroInfo(strings.NewReader("version,codename,series,created,release\n1,A,a,2000-02\n"))
	if err != nil || len(d.releases) != 1 || d.releases[0].created != 20000229 || d.releases[0].release != 0 {
		t.Errorf("ParseDistroInfo(YYYY-MM, short row) = %+v, %v; want created 20000229, no release", d, err)
	}
}

func FuzzParseDistroInfo(f *testing.F) {
	f.Add(testDistroCSV)
	if b, err := os.ReadFile(DefaultDistroInfoPath); err == nil {
		f.Add(string(b))
	}
	f.Add("version,codename,series,created,release,eol\n1,A,a,2000-01\n")
	f.Fuzz(func(t *testing.T, in string) {
		d, err := ParseDistroInfo(strings.NewReader(in))
		if err != nil {
			return
		}
		// Whatever parsed, mapping never panics and answers a known name.
		got, err := d.StdDistro([]string{"sid", "a"}, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
		if err == nil && !strings.Contains(" unstable testing stable oldstable experimental unknown ", " "+got+" ") {
			t.Errorf("StdDistro = %q", got)
		}
	})
}
