package state_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"piuparts-server/internal/debian"
	"piuparts-server/internal/testutil"
	"piuparts-server/master/state"
)

// The shared fixtures, in internal/testutil/testdata.
const (
	baseFixture     = "Packages_bookworm_closure"
	securityFixture = "Packages_bookworm-security_for_closure"
)

// allNames returns every name the packages of files mention: packages,
// dependencies (all alternatives), provided names, and some that exist
// nowhere or are on piupartslib's foreign and ignored lists.
func allNames(t testing.TB, files ...string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, f := range files {
		for _, p := range readPackages(t, f) {
			add(p.Name)
			for _, rel := range append(p.Depends, p.PreDepends...) {
				for _, a := range rel {
					add(a)
				}
			}
			for _, v := range p.Provides {
				add(v)
			}
		}
	}
	for _, n := range []string{"ia32-libs-i386", "kbdcontrol", "no-such-package"} {
		add(n)
	}
	return out
}

// testVersions maps the package names of a section to their test versions.
func testVersions(t testing.TB, spec sectionSpec) map[string]string {
	sc := scenario{Main: spec.Name, Sections: []sectionSpec{spec}}
	// Only the packages and test versions matter here.
	spec.Logs, spec.Depends = nil, nil
	sc.Sections = []sectionSpec{spec}
	sec := writeMaster(t, t.TempDir(), sc)
	out := map[string]string{}
	for _, p := range sec.Packages {
		tv := p.TestVersion
		if tv == "" {
			tv = p.Version
		}
		out[p.Name] = tv
	}
	return out
}

// handLogs gives every package a pass/ log except the named ones, which get
// the given logs ("stale" puts a pass/ log for another version).
func handLogs(tv map[string]string, special map[string][]string) []logEntry {
	kinds := map[string]state.Kind{
		"pass": state.Pass, "fail": state.Fail, "untestable": state.Untestable,
		"reserved": state.Reserved, "bugged": state.Bugged, "affected": state.Affected,
		"recycle": state.Recycle,
	}
	var logs []logEntry
	for _, n := range sortedKeys(tv) {
		ks, ok := special[n]
		if !ok {
			ks = []string{"pass"}
		}
		for _, k := range ks {
			if k == "stale" {
				logs = append(logs, logEntry{state.Pass, n, "0~stale"})
				continue
			}
			if k == "none" {
				continue
			}
			logs = append(logs, logEntry{kinds[k], n, tv[n]})
		}
	}
	return logs
}

func runCase(t *testing.T, sc scenario, candidates bool) {
	t.Helper()
	master := t.TempDir()
	sec := writeMaster(t, master, sc)
	o := oracleOrSkip(t, master, sc, candidates)
	r, err := state.Compute(sec)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, r, o)
	// The same on prepared tables, computed twice (the first must leave
	// them as they were).
	en, err := state.NewEngine(sec)
	if err != nil {
		t.Fatal(err)
	}
	en.Compute(sec.Recycle)
	compare(t, en.Compute(sec.Recycle), o)
}

func TestCompute_Oracle(t *testing.T) {
	base := testutil.Fixture(t, baseFixture)
	security := testutil.Fixture(t, securityFixture)
	names := allNames(t, base, security)
	baseNames := allNames(t, base)
	baseTV := testVersions(t, sectionSpec{Name: "bookworm", Packages: []string{base}})
	secTV := testVersions(t, sectionSpec{Name: "security", Packages: []string{security}})
	special := map[string][]string{
		"libpcre2-8-0":       {"fail"},
		"adduser":            {"untestable"},
		"cron":               {"reserved"},
		"logrotate":          {"bugged"},
		"ucf":                {"affected"},
		"python3-six":        {"none"},
		"git":                {"none"},
		"libc6":              {"none"},
		"libgcc-s1":          {"none"},
		"perl":               {"none"},
		"perl-modules-5.36":  {"none"},
		"curl":               {"stale"},
		"exim4-daemon-light": {"none"},
		"python3-minimal":    {"none"},
		"dbus":               {"pass", "recycle"},
		"bsd-mailx":          {"fail", "recycle"},
		"wget":               {"reserved", "recycle"},
		"tar":                {"recycle"},
		"mount":              {"pass", "reserved"},
	}
	tests := []struct {
		name       string
		sc         scenario
		candidates bool
	}{
		{"NoLogs", scenario{Main: "bookworm", Sections: []sectionSpec{
			{Name: "bookworm", Packages: []string{base}},
		}}, true},
		{"AllPass", scenario{Main: "bookworm", Sections: []sectionSpec{
			{Name: "bookworm", Packages: []string{base}, Logs: handLogs(baseTV, nil)},
		}}, true},
		{"HandPlaced", scenario{Main: "bookworm", Sections: []sectionSpec{
			{Name: "bookworm", Packages: []string{base}, Logs: handLogs(baseTV, special)},
		}}, true},
		{"Recycle", scenario{Main: "bookworm", Recycle: true, Sections: []sectionSpec{
			{Name: "bookworm", Packages: []string{base}, Logs: handLogs(baseTV, special)},
		}}, true},
		{"RecycleWithoutMarkers", scenario{Main: "bookworm", Recycle: true, Sections: []sectionSpec{
			{Name: "bookworm", Packages: []string{base}, Logs: handLogs(baseTV, map[string][]string{"libc6": {"none"}})},
		}}, true},
		{"DependsSection", scenario{Main: "security", Sections: []sectionSpec{
			{Name: "security", Packages: []string{security}, Depends: []string{"bookworm"},
				Logs: handLogs(secTV, map[string][]string{"libc6": {"none"}, "curl": {"fail"}})},
			{Name: "bookworm", Packages: []string{base}, Logs: handLogs(baseTV, special)},
		}}, true},
		{"Outdated", scenario{Main: "bookworm", Sections: []sectionSpec{
			{Name: "bookworm", Packages: []string{base}, Depends: []string{"security"}, Logs: handLogs(baseTV, special)},
			{Name: "security", Packages: []string{security},
				Logs: handLogs(secTV, map[string][]string{"libxml2": {"fail"}, "git": {"none"}})},
		}}, true},
		{"MergedPackagesFiles", scenario{Main: "bookworm", Sections: []sectionSpec{
			{Name: "bookworm", Packages: []string{base, security}, Logs: handLogs(baseTV, special)},
		}}, true},
		{"FinalDistro", scenario{Main: "bookworm", Sections: []sectionSpec{
			{Name: "bookworm", Packages: []string{base}, Final: []string{security}, Logs: handLogs(secTV, nil)},
		}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.sc.Queries = names
			tt.sc.Debug = baseNames
			tt.sc.Counts = baseNames
			runCase(t, tt.sc, tt.candidates)
		})
	}
}

// randomLogs gives the packages random logs: about 70% pass, 3% fail, 1%
// untestable, 2% bugged or affected, some reserved, some recycle markers
// and some logs of stale versions.
func randomLogs(rng *rand.Rand, tv map[string]string) []logEntry {
	var logs []logEntry
	for _, n := range sortedKeys(tv) {
		v := tv[n]
		if rng.IntN(20) == 0 {
			v = "0~stale"
		}
		x := rng.IntN(100)
		switch {
		case x < 70:
			logs = append(logs, logEntry{state.Pass, n, v})
		case x < 73:
			logs = append(logs, logEntry{state.Fail, n, v})
		case x < 74:
			logs = append(logs, logEntry{state.Untestable, n, v})
		case x < 75:
			logs = append(logs, logEntry{state.Bugged, n, v})
		case x < 76:
			logs = append(logs, logEntry{state.Affected, n, v})
		}
		if rng.IntN(25) == 0 {
			logs = append(logs, logEntry{state.Reserved, n, tv[n]})
		}
		if rng.IntN(12) == 0 {
			logs = append(logs, logEntry{state.Recycle, n, tv[n]})
		}
	}
	return logs
}

func TestCompute_OracleRandom(t *testing.T) {
	base := testutil.Fixture(t, baseFixture)
	security := testutil.Fixture(t, securityFixture)
	names := allNames(t, base, security)
	baseTV := testVersions(t, sectionSpec{Name: "bookworm", Packages: []string{base}})
	secTV := testVersions(t, sectionSpec{Name: "security", Packages: []string{security}})
	seeds := 6
	if testing.Short() {
		seeds = 2
	}
	for seed := range uint64(seeds) {
		for _, recycle := range []bool{false, true} {
			for _, layout := range []string{"alone", "depends", "outdated"} {
				t.Run(fmt.Sprintf("seed%d/recycle=%v/%s", seed, recycle, layout), func(t *testing.T) {
					rng := rand.New(rand.NewPCG(seed, 42))
					sc := scenario{Main: "bookworm", Recycle: recycle, Queries: names}
					bookworm := sectionSpec{Name: "bookworm", Packages: []string{base}, Logs: randomLogs(rng, baseTV)}
					sec := sectionSpec{Name: "security", Packages: []string{security}, Logs: randomLogs(rng, secTV)}
					switch layout {
					case "alone":
						sc.Sections = []sectionSpec{bookworm}
					case "depends":
						sc.Main = "security"
						sec.Depends = []string{"bookworm"}
						sc.Sections = []sectionSpec{sec, bookworm}
					case "outdated":
						bookworm.Depends = []string{"security"}
						sc.Sections = []sectionSpec{bookworm, sec}
					}
					sc.Debug = allNames(t, base)[:60]
					sc.Counts = sc.Debug
					runCase(t, sc, true)
				})
			}
		}
	}
}

// TestCompute_OracleFull compares all of bookworm main with a synthetic
// master directory (about 70% pass, 3% fail, 1% untestable logs), alone,
// in recycle mode, and with bookworm-security as depends-section or
// depending on it. It runs only with PIUPARTS_COMPAT_FULL=1 (make
// compat-full): piupartslib takes about half a minute per layout.
func TestCompute_OracleFull(t *testing.T) {
	if os.Getenv("PIUPARTS_COMPAT_FULL") == "" {
		t.Skip("set PIUPARTS_COMPAT_FULL=1 to compare all of bookworm main with piupartslib")
	}
	dir := t.TempDir()
	full := fullArchive(t, dir)
	security := ""
	if m, _ := filepath.Glob("/var/lib/apt/lists/*bookworm-security_main_binary-amd64_Packages*"); len(m) > 0 {
		security = filepath.Join(dir, "security.Packages")
		data, err := exec.Command("lz4", "-dc", m[0]).Output()
		if err != nil {
			t.Fatalf("lz4 -dc %s: %v", m[0], err)
		}
		if err := os.WriteFile(security, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	versions := func(path string) map[string]string {
		tv := map[string]string{}
		for _, p := range readPackages(t, path) {
			if old, ok := tv[p.Name]; !ok || debian.CompareVersions(p.Version, old) > 0 {
				tv[p.Name] = p.Version
			}
		}
		return tv
	}
	tv := versions(full)
	queries := allNames(t, full)
	for _, layout := range []string{"alone", "recycle", "security-depends-on-main", "main-depends-on-security"} {
		t.Run(layout, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 7))
			main := sectionSpec{Name: "bookworm", Packages: []string{full}, Logs: randomLogs(rng, tv)}
			sc := scenario{Main: "bookworm", Recycle: layout == "recycle", Sections: []sectionSpec{main}}
			if strings.Contains(layout, "security") {
				if security == "" {
					t.Skip("no bookworm-security Packages list in /var/lib/apt/lists")
				}
				sec := sectionSpec{Name: "security", Packages: []string{security}, Logs: randomLogs(rng, versions(security))}
				if layout == "security-depends-on-main" {
					sc.Main = "security"
					sec.Depends = []string{"bookworm"}
				} else {
					sc.Sections[0].Depends = []string{"security"}
				}
				sc.Sections = append(sc.Sections, sec)
			}
			sc.Debug = []string{"libc6", "perl", "perl-base", "python3", "apt", "dpkg", "debconf", "bsd-mailx", "curl", "openssl"}
			sc.Counts = sc.Debug
			sc.Queries = queries
			master := t.TempDir()
			sec := writeMaster(t, master, sc)
			o := oracleOrSkip(t, master, sc, true)
			r, err := state.Compute(sec)
			if err != nil {
				t.Fatal(err)
			}
			compare(t, r, o)
			t.Logf("piupartslib: states %.1fs, candidates %.1fs; status %v", o.Seconds, o.SecondsC, r.Status())
		})
	}
}

// synthPackages writes a random Packages file of n packages named
// prefix0.. whose dependencies (with alternatives, ":any" qualifiers,
// missing, provided, foreign and ignored names) form many cycles; some names
// occur twice with other versions.
func synthPackages(t *testing.T, rng *rand.Rand, path string, n int) map[string]string {
	t.Helper()
	name := func() string {
		switch rng.IntN(30) {
		case 0:
			return "kbdcontrol"
		case 1:
			return "ia32-libs-i386"
		}
		return fmt.Sprintf("p%d", rng.IntN(n+n/4))
	}
	var b strings.Builder
	tv := map[string]string{}
	for i := range n + n/8 {
		id := i
		if i >= n {
			id = rng.IntN(n)
		}
		version := fmt.Sprintf("1.%d", rng.IntN(3))
		fmt.Fprintf(&b, "Package: p%d\nVersion: %s\n", id, version)
		for _, field := range []string{"Depends", "Pre-Depends"} {
			items := rng.IntN(4)
			if field == "Pre-Depends" && rng.IntN(4) != 0 {
				items = 0
			}
			var parts []string
			for range items {
				var alts []string
				for range 1 + rng.IntN(3)*rng.IntN(2) {
					a := name()
					if rng.IntN(8) == 0 {
						a += ":any"
					}
					if rng.IntN(4) == 0 {
						a += " (>= 0.1)"
					}
					alts = append(alts, a)
				}
				parts = append(parts, strings.Join(alts, " | "))
			}
			if len(parts) > 0 {
				fmt.Fprintf(&b, "%s: %s\n", field, strings.Join(parts, ", "))
			}
		}
		if rng.IntN(5) == 0 {
			fmt.Fprintf(&b, "Provides: p%d (= 1), p%d\n", n+rng.IntN(n/4), rng.IntN(n+n/4))
		}
		b.WriteString("\n")
		key := fmt.Sprintf("p%d", id)
		if old, ok := tv[key]; !ok || debian.CompareVersions(version, old) > 0 {
			tv[key] = version
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return tv
}

// TestCompute_OracleSynthetic compares random, cycle-rich sections (not
// archive data) with piupartslib, alone and with a depends-section.
func TestCompute_OracleSynthetic(t *testing.T) {
	seeds := 12
	if testing.Short() {
		seeds = 3
	}
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 77))
			dir := t.TempDir()
			mainPkgs, depPkgs := filepath.Join(dir, "main.Packages"), filepath.Join(dir, "dep.Packages")
			mainTV := synthPackages(t, rng, mainPkgs, 60)
			depTV := synthPackages(t, rng, depPkgs, 40)
			sc := scenario{Main: "main", Recycle: seed%2 == 1, Sections: []sectionSpec{
				{Name: "main", Packages: []string{mainPkgs}, Logs: randomLogs(rng, mainTV)},
			}}
			if seed%3 != 0 {
				sc.Sections[0].Depends = []string{"dep"}
				sc.Sections = append(sc.Sections, sectionSpec{Name: "dep", Packages: []string{depPkgs}, Logs: randomLogs(rng, depTV)})
			}
			sc.Queries = allNames(t, mainPkgs, depPkgs)
			sc.Debug = sortedKeys(mainTV)
			sc.Counts = sc.Debug
			runCase(t, sc, true)
		})
	}
}
