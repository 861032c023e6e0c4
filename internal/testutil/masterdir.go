package testutil

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"piuparts-server/internal/debian"
)

// LogMix says how many packages in a thousand get which log from
// [MasterDirFixture]; the rest get none (waiting to be tested).
type LogMix struct {
	Pass, Fail, Untestable, Bugged, Affected int
	// Reserved packages get an empty reserved/ marker; half of them also a
	// pass log (reserved again, as when recycling).
	Reserved int
	// Stale packages get a pass or fail log of an older version, which the
	// report moves to SECTION/archive/.
	Stale int
	// PassIssue is how many pass logs in a thousand carry a known issue
	// (an *_issue.conf pattern).
	PassIssue int
	// Unclassified is how many fail logs in a thousand match no known
	// problem (the report gives them unclassified_failures.conf).
	Unclassified int
}

// DefaultLogMix covers every kind of log on a fixture of a few hundred
// packages.
var DefaultLogMix = LogMix{Pass: 640, Fail: 90, Untestable: 30, Bugged: 30, Affected: 20, Reserved: 30,
	Stale: 40, PassIssue: 200, Unclassified: 150}

// BenchLogMix is the archive-wide mix of reference/report.md section 5:
// about 70% pass, 3% fail (with known-problem lines), 1% untestable and
// 0.5% reserved; bugged and affected are exact counts there
// ([MasterDirOptions.BuggedCount]).
var BenchLogMix = LogMix{Pass: 700, Fail: 30, Untestable: 10, Reserved: 5, PassIssue: 50}

// MasterDirOptions say what [MasterDirFixture] lays out.
type MasterDirOptions struct {
	// Dir is the master directory; "" makes one under t.TempDir().
	Dir string
	// Section is the section directory's name; default "bookworm".
	Section string
	// Distro is the distro of the logs' command lines; default "bookworm".
	Distro string
	// Packages is the (plain) Packages file whose packages get logs. Required.
	Packages string
	// Mix is the share of each kind of log; the zero value is DefaultLogMix.
	Mix  LogMix
	Seed uint64
	// BuggedCount and AffectedCount, when set, move exactly that many
	// fail logs (spread over the alphabet) to bugged/ and affected/, with a
	// .bug file each, in place of Mix's shares.
	BuggedCount, AffectedCount int
	// CountsDays is the number of days of counts.txt history, ending
	// yesterday (UTC); default 5.
	CountsDays int
}

// MasterDir is what [MasterDirFixture] laid out.
type MasterDir struct {
	Dir     string // the master directory
	Section string
	// Logs maps each package that got a file to its paths relative to the
	// section directory, such as "fail/foo_1.0-1.log" (with its .bug).
	Logs map[string][]string
	// Counts is the number of logs in each of pass, fail, untestable,
	// bugged, affected and reserved, and "stale" and "gone" for the logs
	// of versions or packages not in the archive.
	Counts map[string]int

	pkgs   map[string]*debian.Package
	distro string
	rng    *rand.Rand
	stamp  time.Time
}

// failSnippets are lines of real piuparts failures, each matched by the
// known-problem file it names (PATTERN, not EXCLUDE_PATTERN, of
// /usr/share/piuparts/known_problems). %[1]s is the package, %[2]s its version.
var failSnippets = []struct{ conf, text string }{
	{"dependency_error.conf", "0m4.1s ERROR: Command failed (status=100): ['apt-get', '-y', 'install', '%[1]s=%[2]s']\n" +
		"  Reading package lists...\n  Building dependency tree...\n  Some packages could not be installed.\n" +
		"  The following packages have unmet dependencies:\n   %[1]s : Depends: libfoo1 (>= 9) but it is not installable\n" +
		"  E: Unable to correct problems, you have held broken packages.\n"},
	{"command_not_found_error.conf", "  Setting up %[1]s (%[2]s) ...\n  /var/lib/dpkg/info/%[1]s.postinst: 27: update-foo: not found\n" +
		"  dpkg: error processing package %[1]s (--configure):\n" +
		"   installed %[1]s package post-installation script subprocess returned error exit status 127\n"},
	{"owned_files_after_purge_error.conf", "0m31.5s ERROR: FAIL: Package purging left files on system:\n" +
		"  /etc/%[1]s/\t owned by: %[1]s\n  /etc/%[1]s/%[1]s.conf\t owned by: %[1]s\n"},
	{"unowned_files_after_purge_error.conf", "0m33.0s ERROR: FAIL: Package purging left files on system:\n" +
		"  /var/lib/%[1]s/\t not owned\n  /var/lib/%[1]s/cache.db\t not owned\n"},
	{"files_in_usr_local_error.conf", "0m33.2s ERROR: FAIL: Package purging left files on system:\n" +
		"  /usr/local/share/%[1]s/\t not owned\n"},
	{"overwrite_other_packages_files_error.conf", "  Unpacking %[1]s (%[2]s) ...\n" +
		"  dpkg: error processing archive /var/cache/apt/archives/%[1]s_%[2]s_amd64.deb (--unpack):\n" +
		"   trying to overwrite '/usr/bin/%[1]s', which is also in package %[1]s-legacy 1.0-1\n"},
	{"processes_running_error.conf", "0m40.2s ERROR: FAIL: Processes are running inside chroot:\n" +
		"    PID TTY      STAT   TIME COMMAND\n   4242 ?        Ss     0:00 /usr/sbin/%[1]sd --daemon\n"},
	{"broken_symlinks_error.conf", "0m38.7s ERROR: FAIL: Broken symlinks:\n" +
		"  /usr/lib/%[1]s/plugin.so -> /usr/lib/x86_64-linux-gnu/%[1]s/plugin.so.0 (%[1]s)\n"},
	{"pre_removal_script_error.conf", "  Removing %[1]s (%[2]s) ...\n  dpkg: error processing package %[1]s (--remove):\n" +
		"   installed %[1]s package pre-removal script subprocess returned error exit status 1\n"},
}

// passIssueSnippets are warnings of real piuparts runs that passed, each
// matched by the *_issue.conf it names.
var passIssueSnippets = []struct{ conf, text string }{
	{"broken_symlinks_issue.conf", "0m38.7s WARN: Broken symlinks:\n  /usr/share/doc/%[1]s/README -> ../%[1]s-common/README (%[1]s)\n"},
	{"maintainer_script_issue.conf", "  dpkg: warning: old %[1]s package post-removal script subprocess returned error exit status 1\n"},
	{"packages_have_been_kept_back_issue.conf", "  0 upgraded, 0 newly installed, 0 to remove and 3 not upgraded.\n" +
		"0m12.0s DEBUG: The following packages have been kept back:\n"},
	{"command_not_found_issue.conf", "  /var/lib/dpkg/info/%[1]s.postrm: 11: deb-systemd-helper: not found\n"},
}

// unclassifiedSnippet is a failure no known problem matches.
const unclassifiedSnippet = "0m20.3s ERROR: Command failed (status=2): ['chroot', '/srv/piuparts/tmp/tmpq1w2e3', 'sh', '-c', 'true']\n" +
	"  Segmentation fault (core dumped)\n"

// MasterDirFixture lays out a master directory for the packages of a
// Packages file: SECTION/{pass,fail,untestable,bugged,affected,reserved}/
// NAME_VERSION.log files shaped like the logs of Debian's piuparts-slave
// (Start:, the package stanza, Executing:, piuparts' output, ret=, End:),
// chosen by opts.Mix from a generator seeded with opts.Seed, so the same
// options give the same directory. Fail logs carry the text of real
// piuparts failures that Debian's known problems match (some match none),
// bugged and affected ones a .bug file with a BTS link, some pass logs a
// known issue; a few logs are of versions or packages not in the archive.
// counts.txt holds opts.CountsDays days of history. It fails the test on
// an error.
func MasterDirFixture(t testing.TB, opts MasterDirOptions) *MasterDir {
	t.Helper()
	if opts.Packages == "" {
		t.Fatal("MasterDirFixture: Packages is required")
	}
	if opts.Dir == "" {
		opts.Dir = filepath.Join(t.TempDir(), "master")
	}
	if opts.Section == "" {
		opts.Section = "bookworm"
	}
	if opts.Distro == "" {
		opts.Distro = "bookworm"
	}
	if opts.Mix == (LogMix{}) {
		opts.Mix = DefaultLogMix
	}
	if opts.CountsDays == 0 {
		opts.CountsDays = 5
	}
	pkgs, err := debian.LoadPackages(context.Background(), opts.Packages)
	if err != nil {
		t.Fatalf("MasterDirFixture: %v", err)
	}
	names := make([]string, 0, len(pkgs))
	for n := range pkgs {
		names = append(names, n)
	}
	slices.Sort(names)

	md := &MasterDir{Dir: opts.Dir, Section: opts.Section, Logs: map[string][]string{}, Counts: map[string]int{},
		pkgs: pkgs, distro: opts.Distro}
	base := filepath.Join(opts.Dir, opts.Section)
	for _, d := range []string{"pass", "fail", "untestable", "reserved", "bugged", "affected"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Why: fixed times keep the logs older than anything the report writes
	// (it drops a .kpr older than its log) and the directory reproducible.
	end := time.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
	stamp := end.Add(-72 * time.Hour)
	put := func(dir, name, version, text string) string {
		rel := filepath.Join(dir, name+"_"+version+".log")
		p := filepath.Join(base, rel)
		putFile(t, p, []byte(text))
		stamp = stamp.Add(7 * time.Second)
		if err := os.Chtimes(p, stamp, stamp); err != nil {
			t.Fatal(err)
		}
		md.Logs[name] = append(md.Logs[name], rel)
		return p
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15))
	var fails []string // package names with a fail log, for BuggedCount
	mix := opts.Mix
	for _, name := range names {
		p := pkgs[name]
		r := rng.IntN(1000)
		kind := ""
		for _, c := range []struct {
			n    int
			kind string
		}{{mix.Pass, "pass"}, {mix.Fail, "fail"}, {mix.Untestable, "untestable"}, {mix.Bugged, "bugged"},
			{mix.Affected, "affected"}, {mix.Reserved, "reserved"}, {mix.Stale, "stale"}} {
			if r < c.n {
				kind = c.kind
				break
			}
			r -= c.n
		}
		switch kind {
		case "":
		case "pass":
			put("pass", name, p.Version, passLog(rng, opts.Distro, p, mix.PassIssue))
			md.Counts["pass"]++
		case "fail", "bugged", "affected":
			put(kind, name, p.Version, failLog(rng, opts.Distro, p, mix.Unclassified))
			md.Counts[kind]++
			if kind != "fail" {
				writeBug(t, base, kind, name, p.Version, rng)
			} else {
				fails = append(fails, name)
			}
		case "untestable":
			put("untestable", name, p.Version, untestableLog(opts.Distro, p))
			md.Counts["untestable"]++
		case "reserved":
			put("reserved", name, p.Version, "")
			md.Counts["reserved"]++
			if rng.IntN(2) == 0 {
				put("pass", name, p.Version, passLog(rng, opts.Distro, p, mix.PassIssue))
				md.Counts["pass"]++
			}
		case "stale":
			old := *p
			old.Version = p.Version + "~old1"
			if rng.IntN(2) == 0 {
				put("pass", name, old.Version, passLog(rng, opts.Distro, &old, mix.PassIssue))
			} else {
				put("fail", name, old.Version, failLog(rng, opts.Distro, &old, mix.Unclassified))
			}
			md.Counts["stale"]++
		}
	}
	// Why: the reference's benchmark moved exact numbers of failures to
	// bugged/ and affected/, as piuparts-analyze does once bugs are filed.
	move := func(kind string, n int) {
		if n <= 0 || len(fails) == 0 {
			return
		}
		step := max(1, len(fails)/n)
		var kept []string
		moved := 0
		for i, name := range fails {
			if moved < n && i%step == 0 {
				v := pkgs[name].Version
				from := filepath.Join(base, "fail", name+"_"+v+".log")
				to := filepath.Join(base, kind, name+"_"+v+".log")
				if err := os.Rename(from, to); err != nil {
					t.Fatal(err)
				}
				md.Logs[name] = []string{filepath.Join(kind, name+"_"+v+".log")}
				writeBug(t, base, kind, name, v, rng)
				md.Counts["fail"]--
				md.Counts[kind]++
				moved++
				continue
			}
			kept = append(kept, name)
		}
		fails = kept
	}
	move("bugged", opts.BuggedCount)
	move("affected", opts.AffectedCount)
	// A package gone from the archive, and a file that is no log.
	gone := &debian.Package{Name: "gone-from-the-archive", Version: "1.0-1", Architecture: "all"}
	put("pass", gone.Name, gone.Version, passLog(rng, opts.Distro, gone, 0))
	md.Counts["gone"]++
	putFile(t, filepath.Join(base, "pass", "README"), []byte("not a log\n"))
	writeCounts(t, filepath.Join(base, "counts.txt"), end, opts.CountsDays, len(names), md.Counts)
	md.rng, md.stamp = rng, stamp
	return md
}

// AddPassLogs writes pass logs, dated now, for the first n packages (in
// name order) that have no file yet, as a slave's submissions between two
// report runs do, and returns their paths relative to the section
// directory. It fails the test on an error.
func (md *MasterDir) AddPassLogs(t testing.TB, n int) []string {
	t.Helper()
	names := make([]string, 0, len(md.pkgs))
	for name := range md.pkgs {
		if len(md.Logs[name]) == 0 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var out []string
	for _, name := range names[:min(n, len(names))] {
		p := md.pkgs[name]
		rel := filepath.Join("pass", name+"_"+p.Version+".log")
		putFile(t, filepath.Join(md.Dir, md.Section, rel), []byte(passLog(md.rng, md.distro, p, DefaultLogMix.PassIssue)))
		md.Logs[name] = append(md.Logs[name], rel)
		md.Counts["pass"]++
		out = append(out, rel)
	}
	return out
}

// CountsStates are piupartslib's PackagesDB._states in their order: the
// columns of counts.txt.
var CountsStates = []string{
	"successfully-tested", "failed-testing", "cannot-be-tested", "essential-required",
	"waiting-to-be-tested", "waiting-for-dependency-to-be-tested", "dependency-failed-testing",
	"dependency-cannot-be-tested", "dependency-does-not-exist", "circular-dependency", "unknown",
	"unknown-preferred-alternative", "no-dependency-from-alternatives-exists", "outdated",
}

// writeCounts writes days rows of plausible history ending on end, the
// last one close to counts.
func writeCounts(t testing.TB, path string, end time.Time, days, total int, counts map[string]int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("date, " + strings.Join(CountsStates, ", ") + "\n")
	for i := days - 1; i >= 0; i-- {
		day := end.Add(-time.Duration(i) * 24 * time.Hour)
		// Why: the history grows towards today's numbers, as a farm's does.
		pass := counts["pass"] * (days - i) / days
		fail := counts["fail"] + counts["bugged"] + counts["affected"]
		untestable := counts["untestable"]
		waiting := max(0, total-pass-fail-untestable)
		row := []int{pass, fail, untestable, 0, waiting / 3, waiting - waiting/3, fail / 2, untestable / 2, 1, 0, 0, 0, 0, 0}
		b.WriteString(day.Format("20060102"))
		for _, n := range row {
			b.WriteString(", " + itoa(n))
		}
		b.WriteByte('\n')
	}
	putFile(t, path, []byte(b.String()))
}

func writeBug(t testing.TB, base, kind, name, version string, rng *rand.Rand) {
	t.Helper()
	n := 1000000 + rng.IntN(90000)
	text := fmt.Sprintf("<a href=\"https://bugs.debian.org/%d\" target=\"_blank\">#%d</a>\n", n, n)
	putFile(t, filepath.Join(base, kind, name+"_"+version+".bug"), []byte(text))
}

// logHead is a log up to piuparts' output, as Debian's slave writes it.
func logHead(distro string, p *debian.Package) string {
	var b strings.Builder
	b.WriteString("Start: 2026-11-28 06:12:01 GMT\n\n")
	if len(p.Fields.Fields) > 0 {
		b.WriteString(p.Fields.String())
	} else {
		fmt.Fprintf(&b, "Package: %s\nVersion: %s\nArchitecture: %s\n", p.Name, p.Version, p.Architecture)
	}
	b.WriteByte('\n')
	fmt.Fprintf(&b, "Executing: sudo timeout -s INT -k 5m 35m /usr/sbin/piuparts --arch amd64 -b /srv/piuparts/slave/basetgz/%[1]s_amd64.tar.gz "+
		"-d %[1]s --no-upgrade-test --apt %[2]s=%[3]s\n", distro, p.Name, p.Version)
	b.WriteString("0m0.0s INFO: ------------------------------------------------------------------------------\n")
	b.WriteString("0m0.0s INFO: To quickly glance what went wrong, scroll down to the bottom of this logfile.\n")
	b.WriteString("0m0.0s INFO: FAQ available at https://wiki.debian.org/piuparts/FAQ\n")
	b.WriteString("0m0.0s INFO: The FAQ also explains how to contact us in case you think piuparts is wrong.\n")
	b.WriteString("0m0.0s INFO: ------------------------------------------------------------------------------\n")
	b.WriteString("0m0.0s INFO: piuparts version 1.1.7 starting up.\n")
	fmt.Fprintf(&b, "0m0.0s INFO: Command line arguments: /usr/sbin/piuparts --arch amd64 -d %s --apt %s=%s\n", distro, p.Name, p.Version)
	b.WriteString("0m0.0s INFO: Running on: Linux piu-slave-1 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 x86_64\n")
	b.WriteString("0m0.0s DEBUG: Created temporary directory /srv/piuparts/tmp/tmpq1w2e3\n")
	b.WriteString("0m0.1s DEBUG: Unpacking /srv/piuparts/slave/basetgz/" + distro + "_amd64.tar.gz into /srv/piuparts/tmp/tmpq1w2e3\n")
	fmt.Fprintf(&b, "0m3.2s DEBUG: Starting command: ['chroot', '/srv/piuparts/tmp/tmpq1w2e3', 'apt-get', '-y', 'install', '%s=%s']\n", p.Name, p.Version)
	return b.String()
}

func logTail(ret int) string {
	return fmt.Sprintf("\nret=%d\nEnd: 2026-11-28 06:14:37 GMT\n", ret)
}

func passLog(rng *rand.Rand, distro string, p *debian.Package, issue int) string {
	var b strings.Builder
	b.WriteString(logHead(distro, p))
	fmt.Fprintf(&b, "  Setting up %s (%s) ...\n", p.Name, p.Version)
	if rng.IntN(1000) < issue {
		s := passIssueSnippets[rng.IntN(len(passIssueSnippets))]
		fmt.Fprintf(&b, s.text, p.Name, p.Version)
	}
	b.WriteString("0m58.9s INFO: PASS: Installation and purging test.\n")
	b.WriteString("0m59.8s INFO: PASS: All tests.\n0m59.8s INFO: piuparts run ends.\n")
	b.WriteString(logTail(0))
	return b.String()
}

func failLog(rng *rand.Rand, distro string, p *debian.Package, unclassified int) string {
	var b strings.Builder
	b.WriteString(logHead(distro, p))
	if rng.IntN(1000) < unclassified {
		b.WriteString(unclassifiedSnippet)
	} else {
		s := failSnippets[rng.IntN(len(failSnippets))]
		fmt.Fprintf(&b, s.text, p.Name, p.Version)
	}
	b.WriteString("0m41.0s ERROR: piuparts run ends.\n")
	b.WriteString(logTail(1))
	return b.String()
}

func untestableLog(distro string, p *debian.Package) string {
	return fmt.Sprintf("Start: 2026-11-28 06:12:01 GMT\n\nPackage %s %s~new1 not found in %s, %s is available\n\n\nret=-10002\n"+
		"End: 2026-11-28 06:12:01 GMT\n", p.Name, p.Version, distro, p.Version)
}
