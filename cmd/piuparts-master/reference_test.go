package main

// Oracle tests at the program level: Debian's piuparts-master-backend and
// this program read the same Packages files (a file:// mirror) and the same
// master directory of logs (each its own copy), and must give the same
// answers to status, _list STATE for every state of piupartslib and _state
// for every package, in normal and in recycle mode.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ulikunitz/xz"

	"piuparts-server/internal/debian"
	"piuparts-server/internal/debianref"
	"piuparts-server/internal/testutil"
)

const (
	refPython  = debianref.Python
	refBackend = debianref.MasterBackend
)

// refStates is piupartslib's PackagesDB._states, in its order: the states
// _list accepts, obsolete ones included.
var refStates = []string{
	"successfully-tested",
	"failed-testing",
	"cannot-be-tested",
	"essential-required",
	"waiting-to-be-tested",
	"waiting-for-dependency-to-be-tested",
	"dependency-failed-testing",
	"dependency-cannot-be-tested",
	"dependency-does-not-exist",
	"circular-dependency",
	"unknown",
	"unknown-preferred-alternative",
	"no-dependency-from-alternatives-exists",
	"outdated",
}

// refNeedReference skips the test when Debian's master is not installed.
func refNeedReference(t testing.TB) {
	t.Helper()
	for _, p := range []string{refPython, refBackend} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("SKIPPED, NOTHING COMPARED: Debian's reference master is not installed (%v); "+
				"install the piuparts-master package (make test-deps) to run this oracle test", err)
		}
	}
}

// refStanza is one paragraph of a Packages file.
type refStanza struct{ name, version, text string }

// refStanzas splits a Packages file into its paragraphs, in file order.
func refStanzas(t testing.TB, data []byte) []refStanza {
	t.Helper()
	var out []refStanza
	for _, block := range strings.Split(string(data), "\n\n") {
		block = strings.Trim(block, "\n")
		if block == "" {
			continue
		}
		var s refStanza
		for _, line := range strings.Split(block, "\n") {
			if v, ok := strings.CutPrefix(line, "Package: "); ok {
				s.name = strings.TrimSpace(v)
			} else if v, ok := strings.CutPrefix(line, "Version: "); ok {
				s.version = strings.TrimSpace(v)
			}
		}
		if s.name == "" || s.version == "" {
			t.Fatalf("paragraph without Package or Version: %.80q", block)
		}
		s.text = block + "\n"
		out = append(out, s)
	}
	return out
}

// refJoin writes paragraphs back as a Packages file.
func refJoin(ss []refStanza) []byte {
	var b bytes.Buffer
	for i, s := range ss {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s.text)
	}
	return b.Bytes()
}

// refVersions maps each name to its highest version, as piupartslib's
// PackagesFile keeps it.
func refVersions(lists ...[]refStanza) map[string]string {
	m := map[string]string{}
	for _, ss := range lists {
		for _, s := range ss {
			if v, ok := m[s.name]; !ok || debian.CompareVersions(s.version, v) > 0 {
				m[s.name] = s.version
			}
		}
	}
	return m
}

// refWriteXZ writes the Packages file of dist as Packages.xz under mirror:
// the first name piupartslib tries, and the only one it can fall back from
// for file:// URLs (a missing .xz raises URLError, which it does not catch).
// It uses xz(1) when present (fast on the whole archive), else the Go
// encoder.
func refWriteXZ(t testing.TB, mirror, dist string, src io.Reader) string {
	t.Helper()
	dir := filepath.Join(mirror, "dists", dist, "main", "binary-amd64")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "Packages.xz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if xzBin, err := exec.LookPath("xz"); err == nil {
		cmd := exec.Command(xzBin, "-T1", "-1", "-c")
		cmd.Stdin, cmd.Stdout = src, f
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("xz: %v: %s", err, stderr.Bytes())
		}
	} else {
		w, err := xz.NewWriter(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, src); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// refSection is one section of the test farm.
type refSection struct {
	name, distro string
	upgrade      []string          // upgrade-test-distros
	depends      []string          // depends-sections
	pkgs         map[string]string // the section's packages and their test versions
	noRecycle    bool              // put nothing in recycle/ (recycle answers error)
}

// refFarm is a mirror, a master directory of logs and the configs of both
// programs, under root. master-directory is the relative "master", so a
// run happens in a directory holding a copy of template.
type refFarm struct {
	root     string
	ini      string // piuparts.conf for Debian's master
	distros  string // distros.conf for Debian's master
	toml     string // the same settings for ours, imported from ini
	template string // directory holding master/ with the logs
	sections []refSection
	indexes  []string // the Packages.xz files
	alt      string   // another version of indexes[0] (refArchiveFarm)
}

// refWriteConfigs writes the INI config (and distros.conf) for Debian's
// master, converts it with our `config import`, appends the distros tables
// and checks the result with `config check`.
func (f *refFarm) refWriteConfigs(t testing.TB, bin string, distros map[string][]string) {
	t.Helper()
	var ini strings.Builder
	names := make([]string, len(f.sections))
	for i, s := range f.sections {
		names[i] = s.name
	}
	fmt.Fprintf(&ini, "[global]\nsections = %s\nmaster-directory = master\nmirror = file://%s\narch = amd64\narea = main\n",
		strings.Join(names, " "), filepath.Join(f.root, "mirror"))
	for _, s := range f.sections {
		fmt.Fprintf(&ini, "\n[%s]\ndistro = %s\n", s.name, s.distro)
		if len(s.upgrade) > 0 {
			fmt.Fprintf(&ini, "upgrade-test-distros = %s\n", strings.Join(s.upgrade, " "))
		}
		if len(s.depends) > 0 {
			fmt.Fprintf(&ini, "depends-sections = %s\n", strings.Join(s.depends, " "))
		}
	}
	f.ini = filepath.Join(f.root, "piuparts.conf")
	refWrite(t, f.ini, []byte(ini.String()))

	var dc, dt strings.Builder
	for _, name := range slices.Sorted(maps.Keys(distros)) {
		fmt.Fprintf(&dc, "[%s]\ncandidates = %s\n\n", name, strings.Join(distros[name], " "))
		fmt.Fprintf(&dt, "\n[distros.%s]\ncandidates = [\"%s\"]\n", name, strings.Join(distros[name], `", "`))
	}
	f.distros = filepath.Join(f.root, "distros.conf")
	refWrite(t, f.distros, []byte(dc.String()))

	out, err := exec.Command(bin, "config", "import", f.ini).Output()
	if err != nil {
		t.Fatalf("piuparts-master config import %s: %v\n%s", f.ini, err, refStderr(err))
	}
	f.toml = filepath.Join(f.root, "piuparts.toml")
	refWrite(t, f.toml, append(out, dt.String()...))
	if out, err := exec.Command(bin, "-c", f.toml, "config", "check").CombinedOutput(); err != nil {
		t.Fatalf("piuparts-master config check on the imported config: %v\n%s\n%s", err, out, refReadString(f.toml))
	}
}

func refWrite(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func refReadString(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func refStderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// refLogMix says how many packages in a thousand get which log.
type refLogMix struct {
	pass, fail, untestable, bugged, affected int
	reserved                                 int // a reserved/ marker, half of them with a pass log
	stalePass, staleFail                     int // a log of another version
	recycle                                  int // of those with a current log, per thousand
}

// refSmallMix covers every kind of log a master directory holds.
var refSmallMix = refLogMix{pass: 450, fail: 70, untestable: 30, bugged: 20, affected: 20,
	reserved: 40, stalePass: 40, staleFail: 30, recycle: 300}

// refArchiveMix is the brief's archive-wide directory: ~70% pass, 3% fail,
// 1% untestable.
var refArchiveMix = refLogMix{pass: 700, fail: 30, untestable: 10}

// refWriteLogs fills master/SECTION/{pass,fail,...}/ of the template with
// logs named NAME_TESTVERSION.log chosen by mix from a seeded generator.
func (f *refFarm) refWriteLogs(t testing.TB, s refSection, mix refLogMix, seed uint64) {
	t.Helper()
	base := filepath.Join(f.template, "master", s.name)
	for _, d := range []string{"pass", "fail", "untestable", "reserved", "bugged", "affected", "recycle"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	put := func(dir, name, version string) {
		p := filepath.Join(base, dir, name+"_"+version+".log")
		if err := os.WriteFile(p, []byte("Start: synthetic\n"+name+" "+version+"\nEnd: synthetic\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	for _, name := range slices.Sorted(maps.Keys(s.pkgs)) {
		tv := s.pkgs[name]
		r := rng.IntN(1000)
		current := ""
		for _, c := range []struct {
			n   int
			dir string
		}{{mix.pass, "pass"}, {mix.fail, "fail"}, {mix.untestable, "untestable"}, {mix.bugged, "bugged"},
			{mix.affected, "affected"}, {mix.reserved, "reserved"}, {mix.stalePass, "stale-pass"}, {mix.staleFail, "stale-fail"}} {
			if r < c.n {
				current = c.dir
				break
			}
			r -= c.n
		}
		switch current {
		case "":
		case "stale-pass":
			put("pass", name, tv+"~old1")
		case "stale-fail":
			put("fail", name, tv+"~old1")
		case "reserved":
			put("reserved", name, tv)
			if rng.IntN(2) == 0 { // reserved again after a pass, as in recycling
				put("pass", name, tv)
			}
		default:
			put(current, name, tv)
		}
		if s.noRecycle || mix.recycle == 0 {
			continue
		}
		if x := rng.IntN(1000); (current != "" && x < mix.recycle) || x < 10 {
			put("recycle", name, tv)
		}
	}
	if mix.stalePass > 0 {
		// Logs of packages gone from the archive, and files that are no log.
		put("pass", "gone-from-the-archive", "1.0-1")
		put("fail", "gone-from-the-archive", "0.9-1")
		refWrite(t, filepath.Join(base, "fail", "gone-from-the-archive_0.9-1.kpr"), []byte("known problem\n"))
		refWrite(t, filepath.Join(base, "pass", "README"), []byte("not a log\n"))
	}
}

// refSmallFarm builds the farm of the committed fixtures: five sections
// over three distros of a file:// mirror.
//
//	bookworm            the closure of a few seeds in bookworm main
//	bookworm-security   bookworm-security, depends-sections bookworm
//	bookworm-outdated   bookworm, depends-sections bookworm-security: the
//	                    packages with a security update are "outdated"
//	bookworm2final      upgrade test bookworm → bookworm-final, where one
//	                    package disappeared (test version None) and the
//	                    security updates arrived (test version ≠ version)
//	bookworm-merged     distros.conf: candidates bookworm bookworm-security
func refSmallFarm(t testing.TB, bin string) *refFarm {
	t.Helper()
	f := &refFarm{root: t.TempDir()}
	f.template = filepath.Join(f.root, "template")
	read := func(name string) []refStanza {
		data, err := os.ReadFile(testutil.Fixture(t, name))
		if err != nil {
			t.Fatal(err)
		}
		return refStanzas(t, data)
	}
	base := read("Packages_bookworm_closure")
	sec := read("Packages_bookworm-security_for_closure")

	// bookworm-final: bookworm with the security updates, minus one package
	// that others depend on.
	const gone = "libxml2"
	secBy := map[string]refStanza{}
	for _, s := range sec {
		secBy[s.name] = s
	}
	var final []refStanza
	found := false
	for _, s := range base {
		if s.name == gone {
			found = true
			continue
		}
		if u, ok := secBy[s.name]; ok {
			s = u
		}
		final = append(final, s)
	}
	if !found {
		t.Fatalf("fixture lacks %s", gone)
	}
	mirror := filepath.Join(f.root, "mirror")
	for _, d := range []struct {
		dist string
		ss   []refStanza
	}{{"bookworm", base}, {"bookworm-security", sec}, {"bookworm-final", final}} {
		f.indexes = append(f.indexes, refWriteXZ(t, mirror, d.dist, bytes.NewReader(refJoin(d.ss))))
	}

	baseV, secV, finalV := refVersions(base), refVersions(sec), refVersions(final)
	upgradeV := map[string]string{}
	for n := range baseV {
		if v, ok := finalV[n]; ok {
			upgradeV[n] = v
		} else {
			upgradeV[n] = "None"
		}
	}
	f.sections = []refSection{
		{name: "bookworm", distro: "bookworm", pkgs: baseV},
		{name: "bookworm-security", distro: "bookworm-security", depends: []string{"bookworm"}, pkgs: secV},
		{name: "bookworm-outdated", distro: "bookworm", depends: []string{"bookworm-security"}, pkgs: baseV},
		{name: "bookworm2final", distro: "bookworm", upgrade: []string{"bookworm", "bookworm-final"}, pkgs: upgradeV},
		{name: "bookworm-merged", distro: "bookworm-merged", pkgs: refVersions(base, sec), noRecycle: true},
	}
	f.refWriteConfigs(t, bin, map[string][]string{"bookworm-merged": {"bookworm", "bookworm-security"}})
	for i, s := range f.sections {
		f.refWriteLogs(t, s, refSmallMix, uint64(i+1))
	}
	// The upgrade section also has logs of the plain versions (stale there)
	// and a pass log of the package that disappeared, under "None".
	up := f.sections[3]
	f.refWriteLogs(t, refSection{name: up.name, pkgs: baseV, noRecycle: true}, refLogMix{pass: 100, fail: 50}, 99)
	refWrite(t, filepath.Join(f.template, "master", up.name, "pass", gone+"_None.log"), []byte("passed\n"))
	return f
}

// refProgram is one of the two masters, started in a directory holding
// master/.
type refProgram struct {
	name string
	argv []string
}

func (f *refFarm) debianProgram() refProgram {
	return refProgram{name: "Debian", argv: debianref.Args(refBackend, f.ini, f.distros)}
}

// oursProgram runs our master without a slave identity: Debian's knows
// none, and without one ours behaves as the reference (no per-slave cap,
// anyone may unreserve).
func (f *refFarm) oursProgram(bin string) refProgram {
	return refProgram{name: "ours", argv: []string{bin, "-c", f.toml}}
}

// refResult is what one run of a master gave.
type refResult struct {
	lines  []string      // the answers, "hello" first
	wall   time.Duration // from start to exit
	maxRSS int64         // peak resident set, KiB
	stderr string
}

// run starts the program in dir, feeds it the commands and waits for it
// to exit.
func (p refProgram) run(ctx context.Context, dir string, commands []string) (refResult, error) {
	cmd := exec.CommandContext(ctx, p.argv[0], p.argv[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "LC_ALL=C.UTF-8"}
	cmd.Stdin = strings.NewReader(strings.Join(commands, "\n") + "\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	res := refResult{wall: time.Since(start), stderr: stderr.String()}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			res.maxRSS = ru.Maxrss
		}
	}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for sc.Scan() {
		res.lines = append(res.lines, sc.Text())
	}
	if err != nil {
		return res, fmt.Errorf("%s master: %w\nstderr:\n%s", p.name, err, refTail(res.stderr, 3000))
	}
	if len(res.lines) != len(commands)+1 {
		return res, fmt.Errorf("%s master answered %d lines to %d commands (want hello and one each)\nstderr:\n%s",
			p.name, len(res.lines), len(commands), refTail(res.stderr, 3000))
	}
	return res, nil
}

func refTail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// refCopy copies the template's master directory into a fresh directory
// and returns it.
func (f *refFarm) refCopy(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp(f.root, "run-")
	if err != nil {
		t.Fatal(err)
	}
	refCopyTree(t, f.template, dir)
	return dir
}

// refCopyTree copies the tree src into the existing directory dst as
// cp -a does, keeping modification times: our master keys its cached
// states on the log directories' mtimes, as piupartslib's idle stamp does.
func refCopyTree(t testing.TB, src, dst string) {
	t.Helper()
	refCopyTreeWith(t, src, dst, func(string) copyHow { return copyFile })
}

// copyHow is what refCopyTreeWith does with one regular file.
type copyHow int

const (
	copyFile copyHow = iota // a copy with the file's time
	linkFile                // a hard link
	skipFile                // nothing
)

// refCopyTreeWith is refCopyTree, asking how for each regular file (by
// its path in src) whether to copy, link or skip it.
func refCopyTreeWith(t testing.TB, src, dst string, how func(path string) copyHow) {
	t.Helper()
	type stamp struct {
		path  string
		mtime time.Time
	}
	var dirs []stamp
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			dirs = append(dirs, stamp{to, info.ModTime()})
			return os.MkdirAll(to, info.Mode().Perm())
		case !info.Mode().IsRegular():
			return nil // sockets, symlinks: a master directory has none
		case how(path) == skipFile:
			return nil
		case how(path) == linkFile:
			return os.Link(path, to)
		default:
			in, err := os.Open(path)
			if err != nil {
				return err
			}
			defer in.Close()
			out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, in); err != nil {
				out.Close()
				return err
			}
			if err := out.Close(); err != nil {
				return err
			}
			return os.Chtimes(to, info.ModTime(), info.ModTime())
		}
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chtimes(dirs[i].path, dirs[i].mtime, dirs[i].mtime); err != nil {
			t.Fatal(err)
		}
	}
}

// refSession is the commands that query every state of one section.
func refSession(section string, recycle bool, names []string) []string {
	cmds := []string{"section " + section}
	if recycle {
		cmds = append(cmds, "recycle")
	}
	cmds = append(cmds, "status")
	for _, st := range refStates {
		cmds = append(cmds, "_list "+st)
	}
	for _, n := range names {
		cmds = append(cmds, "_state "+n)
	}
	return cmds
}

// refWords returns the words after "ok" of a _list answer as a set: the
// reference prints a Python set, in no particular order.
func refWords(line string) (map[string]bool, bool) {
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != "ok" {
		return nil, false
	}
	m := make(map[string]bool, len(f)-1)
	for _, w := range f[1:] {
		m[w] = true
	}
	return m, true
}

// refCompare compares the answers of both programs command by command and
// returns a readable report of every difference, with the names that are
// in one program's _list and not in the other's.
func refCompare(cmds, deb, ours []string) (diff string, odd []string) {
	var b strings.Builder
	oddSet := map[string]bool{}
	for i, c := range cmds {
		d, o := deb[i+1], ours[i+1]
		if !strings.HasPrefix(c, "_list ") {
			if d != o {
				fmt.Fprintf(&b, "  %s\n    Debian: %s\n    ours:   %s\n", c, refCut(d), refCut(o))
				if n, ok := strings.CutPrefix(c, "_state "); ok {
					oddSet[n] = true
				}
			}
			continue
		}
		ds, dok := refWords(d)
		ourSet, ook := refWords(o)
		if dok != ook {
			fmt.Fprintf(&b, "  %s\n    Debian: %s\n    ours:   %s\n", c, refCut(d), refCut(o))
			continue
		}
		var onlyD, onlyO []string
		for n := range ds {
			if !ourSet[n] {
				onlyD = append(onlyD, n)
			}
		}
		for n := range ourSet {
			if !ds[n] {
				onlyO = append(onlyO, n)
			}
		}
		if len(onlyD)+len(onlyO) == 0 {
			continue
		}
		sort.Strings(onlyD)
		sort.Strings(onlyO)
		fmt.Fprintf(&b, "  %s: Debian lists %d, ours %d\n    only Debian's: %s\n    only ours:     %s\n",
			c, len(ds), len(ourSet), refCutList(onlyD), refCutList(onlyO))
		for _, n := range append(onlyD, onlyO...) {
			oddSet[n] = true
		}
	}
	return b.String(), slices.Sorted(maps.Keys(oddSet))
}

func refCut(s string) string {
	if len(s) > 300 {
		return s[:300] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}

func refCutList(l []string) string {
	if len(l) > 25 {
		return strings.Join(l[:25], " ") + fmt.Sprintf(" ... (%d in all)", len(l))
	}
	return strings.Join(l, " ")
}

// refCheck runs one session on both programs, each in a fresh copy of the
// master directory, and reports every difference.
func refCheck(t *testing.T, f *refFarm, bin, section string, recycle bool, names []string) {
	t.Helper()
	cmds := refSession(section, recycle, names)
	deb, err := f.debianProgram().run(t.Context(), f.refCopy(t), cmds)
	if err != nil {
		t.Fatal(err)
	}
	oursDir := f.refCopy(t)
	ours, err := f.oursProgram(bin).run(t.Context(), oursDir, cmds)
	if err != nil {
		t.Fatalf("%v\n%s", err, refOurLogs(oursDir, section))
	}
	if deb.lines[1] != "ok" {
		t.Fatalf("Debian's master answered %q to section %s", deb.lines[1], section)
	}
	diff, odd := refCompare(cmds, deb.lines, ours.lines)
	if diff == "" {
		i := slices.Index(cmds, "status")
		t.Logf("%s (recycle %v): equal: %s; %d _list and %d _state answers (Debian %v, ours %v)",
			section, recycle, deb.lines[i+1], len(refStates), len(names), deb.wall.Round(time.Millisecond), ours.wall.Round(time.Millisecond))
		return
	}
	t.Errorf("section %s (recycle %v): the masters disagree:\n%s%s", section, recycle, diff, refOurLogs(oursDir, section))
	// The states each program gives the names in question, side by side.
	if len(odd) > 40 {
		odd = odd[:40]
	}
	var known []string
	for _, n := range odd {
		// _state of a name outside the section crashes the reference.
		if _, ok := refFindSection(f, section).pkgs[n]; ok && !slices.Contains(names, n) {
			known = append(known, n)
		}
	}
	if len(known) == 0 {
		return
	}
	q := []string{"section " + section}
	if recycle {
		q = append(q, "recycle")
	}
	for _, n := range known {
		q = append(q, "_state "+n, "_depends "+n)
	}
	d2, err1 := f.debianProgram().run(t.Context(), f.refCopy(t), q)
	o2, err2 := f.oursProgram(bin).run(t.Context(), f.refCopy(t), q)
	if err1 != nil || err2 != nil {
		t.Logf("follow-up queries: %v %v", err1, err2)
		return
	}
	var b strings.Builder
	for i, c := range q {
		if strings.HasPrefix(c, "_state ") {
			fmt.Fprintf(&b, "  %-50s Debian: %-45s ours: %s\n", c, d2.lines[i+1], o2.lines[i+1])
		} else if strings.HasPrefix(c, "_depends ") {
			fmt.Fprintf(&b, "  %-50s %s\n", c, refCut(d2.lines[i+1]))
		}
	}
	t.Logf("states of the names in question:\n%s", b.String())
}

// refOurLogs returns the warnings and errors in our master's logs in dir.
func refOurLogs(dir, section string) string {
	var b strings.Builder
	for _, p := range []string{filepath.Join(dir, "master", section, "master.log"), filepath.Join(dir, "master", "master-error.log")} {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var bad []string
		for _, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, `"level":"error"`) || strings.Contains(l, `"level":"warn"`) {
				bad = append(bad, refCut(l))
			}
		}
		if len(bad) > 0 {
			fmt.Fprintf(&b, "our log %s (errors and warnings, last 20):\n%s\n", p, strings.Join(bad[max(0, len(bad)-20):], "\n"))
		}
	}
	return b.String()
}

func refFindSection(f *refFarm, name string) refSection {
	for _, s := range f.sections {
		if s.name == name {
			return s
		}
	}
	return refSection{}
}

// TestReference_States runs Debian's piuparts-master-backend and ours on
// the same mirror and master directory and compares status, _list for
// every state and _state for every package of five sections (plain,
// depends-sections, outdated, upgrade test, distros.conf candidates), in
// normal and in recycle mode.
func TestReference_States(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs Debian's master")
	}
	refNeedReference(t)
	bin := buildMaster(t)
	f := refSmallFarm(t, bin)
	for _, s := range f.sections {
		names := slices.Sorted(maps.Keys(s.pkgs))
		for _, recycle := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/recycle=%v", s.name, recycle), func(t *testing.T) {
				refCheck(t, f, bin, s.name, recycle, names)
			})
		}
	}
}

// TestReference_Reserve checks that both masters hand out a package that
// is waiting to be tested, with its test version, or both answer error.
func TestReference_Reserve(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs Debian's master")
	}
	refNeedReference(t)
	bin := buildMaster(t)
	f := refSmallFarm(t, bin)
	for _, s := range f.sections {
		t.Run(s.name, func(t *testing.T) {
			// The reference's debug commands do not load the archive:
			// status does, so it comes first.
			cmds := []string{"section " + s.name, "status", "_list waiting-to-be-tested", "reserve", "reserve", "reserve"}
			var answers [2][]string
			for i, p := range []refProgram{f.debianProgram(), f.oursProgram(bin)} {
				res, err := p.run(t.Context(), f.refCopy(t), cmds)
				if err != nil {
					t.Fatal(err)
				}
				waiting, _ := refWords(res.lines[3])
				seen := map[string]bool{}
				for _, a := range res.lines[4:] {
					w := strings.Fields(a)
					if a == "error" {
						answers[i] = append(answers[i], "error")
						continue
					}
					if len(w) != 3 || w[0] != "ok" || !waiting[w[1]] || seen[w[1]] || s.pkgs[w[1]] != w[2] {
						t.Errorf("%s master: reserve = %q, want ok, a new package waiting to be tested and its test version %q ",
							p.name, a, s.pkgs[w[1]])
					}
					seen[w[1]] = true
					answers[i] = append(answers[i], "ok")
				}
			}
			if !slices.Equal(answers[0], answers[1]) {
				t.Errorf("reserve answers: Debian %v, ours %v", answers[0], answers[1])
			}
		})
	}
}

// refArchiveFarm builds a farm with one section, bookworm, holding all of
// bookworm main from apt's lists, and a master directory of logs mixed as
// mix. With alt it also writes f.alt, the same Packages.xz
// without its last paragraph, to swap in when the archive must change. It
// skips the test when the list or lz4 is absent.
func refArchiveFarm(t testing.TB, bin string, mix refLogMix, alt bool) *refFarm {
	t.Helper()
	lists, _ := filepath.Glob("/var/lib/apt/lists/*_dists_bookworm_main_binary-amd64_Packages*")
	if len(lists) == 0 {
		t.Skip("SKIPPED: no bookworm main Packages list in /var/lib/apt/lists (add a bookworm deb line and run apt-get update)")
	}
	lz4, err := exec.LookPath("lz4")
	if err != nil {
		t.Skip("SKIPPED: no lz4 command to read apt's lists (apt-get install lz4)")
	}
	f := &refFarm{root: t.TempDir()}
	f.template = filepath.Join(f.root, "template")
	plain := filepath.Join(f.root, "Packages")
	out, err := os.Create(plain)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(lz4, "-dc", lists[0])
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("lz4 -dc %s: %v %s", lists[0], err, stderr.Bytes())
	}
	out.Close()
	in, err := os.Open(plain)
	if err != nil {
		t.Fatal(err)
	}
	// Names and versions, the highest version of a name winning.
	pkgs := map[string]string{}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	name := ""
	var offset, last int64 // where the line and the last paragraph start
	for sc.Scan() {
		line := sc.Text()
		offset += int64(len(line)) + 1
		if v, ok := strings.CutPrefix(line, "Package: "); ok {
			last = offset - int64(len(line)) - 1
			name = strings.TrimSpace(v)
		} else if v, ok := strings.CutPrefix(line, "Version: "); ok && name != "" {
			v = strings.TrimSpace(v)
			if old, ok := pkgs[name]; !ok || debian.CompareVersions(v, old) > 0 {
				pkgs[name] = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	f.indexes = append(f.indexes, refWriteXZ(t, filepath.Join(f.root, "mirror"), "bookworm", in))
	if alt {
		f.alt = refWriteXZ(t, filepath.Join(f.root, "alt"), "bookworm", io.NewSectionReader(in, 0, last))
	}
	in.Close()
	os.Remove(plain)
	f.sections = []refSection{{name: "bookworm", distro: "bookworm", pkgs: pkgs}}
	f.refWriteConfigs(t, bin, nil)
	f.refWriteLogs(t, f.sections[0], mix, 20240610)
	return f
}

// TestReference_FullArchive compares status, every _list and _state for
// a sample of packages on all of bookworm main, in normal and recycle
// mode. It runs with PIUPARTS_COMPAT_FULL=1 (make compat-full).
func TestReference_FullArchive(t *testing.T) {
	if os.Getenv("PIUPARTS_COMPAT_FULL") != "1" {
		t.Skip("set PIUPARTS_COMPAT_FULL=1 to compare with Debian's master on all of bookworm main (minutes)")
	}
	refNeedReference(t)
	bin := buildMaster(t)
	// The bench's mix, with some reservations and logs to recycle.
	mix := refArchiveMix
	mix.reserved, mix.recycle = 5, 30
	f := refArchiveFarm(t, bin, mix, false)
	s := f.sections[0]
	names := slices.Sorted(maps.Keys(s.pkgs))
	rng := rand.New(rand.NewPCG(7, 7))
	rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	names = names[:min(len(names), 500)]
	slices.Sort(names)
	t.Logf("%d packages; comparing status, %d _list and %d _state answers", len(s.pkgs), len(refStates), len(names))
	for _, recycle := range []bool{false, true} {
		t.Run(fmt.Sprintf("recycle=%v", recycle), func(t *testing.T) {
			refCheck(t, f, bin, s.name, recycle, names)
		})
	}
}

// TestRefCompare checks the comparison itself: _list answers are sets,
// everything else is compared byte for byte.
func TestRefCompare(t *testing.T) {
	cmds := []string{"section s", "status", "_list failed-testing", "_state apt"}
	same := []string{"hello", "ok", "ok total=3", "ok apt cron dpkg", "ok failed-testing 2.6.1"}
	tests := []struct {
		name     string
		ours     []string
		wantDiff []string // substrings of the report; none: equal
		wantOdd  []string
	}{
		{"Equal", same, nil, nil},
		{"ListOrderIgnored", []string{"hello", "ok", "ok total=3", "ok dpkg apt cron", "ok failed-testing 2.6.1"}, nil, nil},
		{"ListDiffers", []string{"hello", "ok", "ok total=3", "ok apt dpkg perl", "ok failed-testing 2.6.1"},
			[]string{"_list failed-testing: Debian lists 3, ours 3", "only Debian's: cron", "only ours:     perl"},
			[]string{"cron", "perl"}},
		{"StatusDiffers", []string{"hello", "ok", "ok total=4", "ok apt cron dpkg", "ok failed-testing 2.6.1"},
			[]string{"status\n    Debian: ok total=3\n    ours:   ok total=4"}, nil},
		{"StateDiffers", []string{"hello", "ok", "ok total=3", "ok apt cron dpkg", "ok waiting-to-be-tested 2.6.1"},
			[]string{"ours:   ok waiting-to-be-tested 2.6.1"}, []string{"apt"}},
		{"ErrorForList", []string{"hello", "ok", "ok total=3", "error", "ok failed-testing 2.6.1"},
			[]string{"_list failed-testing\n    Debian: ok apt cron dpkg\n    ours:   error"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diff, odd := refCompare(cmds, same, tt.ours)
			if (diff == "") != (tt.wantDiff == nil) {
				t.Fatalf("refCompare(%q) = %q, want a difference: %v", tt.ours, diff, tt.wantDiff != nil)
			}
			for _, w := range tt.wantDiff {
				if !strings.Contains(diff, w) {
					t.Errorf("report lacks %q:\n%s", w, diff)
				}
			}
			if !slices.Equal(odd, tt.wantOdd) {
				t.Errorf("names in question = %q, want %q", odd, tt.wantOdd)
			}
		})
	}
}
