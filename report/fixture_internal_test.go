package report

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"piuparts-server/internal/config"
	"piuparts-server/internal/piuparts"
	"piuparts-server/master/state"
)

// fixtureNow is the time the fixture site is rendered at.
var fixtureNow = time.Date(2026, 12, 1, 19, 47, 6, 0, time.UTC)

const fixtureConfig = `
[global]
sections = ["bookworm", "trixie"]
mirror = "http://deb.debian.org/debian"
arch = "amd64"
doc-root = "/"
web-host = "piuparts.example.org"
max-reserved = 50

[bookworm]
distro = "bookworm"
description = "+ With a small subset of bookworm main."

[trixie]
distro = "trixie"
`

// fixturePkg is one binary package of the fixture, as a Packages stanza
// gives it.
type fixturePkg struct {
	name, version, arch, source, srcVersion, maint string
	depends, provides                              string // "a, b | c"
	log                                            piuparts.Kind
}

type fixtureSrc struct {
	name, version, maint, uploaders, binaries string
}

// bookworm packages (real names, versions of bookworm main).
var fixturePackages = []fixturePkg{
	{"libc6", "2.36-9+deb12u4", "amd64", "glibc", "", "GNU Libc Maintainers <debian-glibc@lists.debian.org>", "libgcc-s1", "", piuparts.KindPass},
	{"libc-bin", "2.36-9+deb12u4", "amd64", "glibc", "", "GNU Libc Maintainers <debian-glibc@lists.debian.org>", "libc6", "", piuparts.KindPass},
	{"gcc-12-base", "12.2.0-14", "amd64", "gcc-12", "", "Debian GCC Maintainers <debian-gcc@lists.debian.org>", "", "", piuparts.KindPass},
	{"libgcc-s1", "12.2.0-14", "amd64", "gcc-12", "", "Debian GCC Maintainers <debian-gcc@lists.debian.org>", "gcc-12-base, libc6", "", piuparts.KindPass},
	{"libstdc++6", "12.2.0-14", "amd64", "gcc-12", "", "Debian GCC Maintainers <debian-gcc@lists.debian.org>", "gcc-12-base, libc6, libgcc-s1", "", piuparts.KindPass},
	{"libgraphite2-3", "1.3.14-1", "amd64", "graphite2", "", "Debian LibreOffice Maintainers <debian-openoffice@lists.debian.org>", "libc6", "", piuparts.KindFail},
	{"libgraphite2-dev", "1.3.14-1", "amd64", "graphite2", "", "Debian LibreOffice Maintainers <debian-openoffice@lists.debian.org>", "libgraphite2-3", "", ""},
	{"fonts-dejavu-core", "2.37-6", "all", "fonts-dejavu", "", "Debian Fonts Task Force <debian-fonts@lists.debian.org>", "", "", piuparts.KindPass},
	{"fonts-dejavu-extra", "2.37-2", "all", "fonts-dejavu", "", "Debian Fonts Task Force <debian-fonts@lists.debian.org>", "fonts-dejavu-core", "", ""},
	{"apache2", "2.4.62-1~deb12u1", "amd64", "apache2", "", "Debian Apache Maintainers <debian-apache@lists.debian.org>", "apache2-bin, apache2-data, perl | perl-base", "httpd", piuparts.KindBugged},
	{"apache2-bin", "2.4.62-1~deb12u1", "amd64", "apache2", "", "Debian Apache Maintainers <debian-apache@lists.debian.org>", "libc6", "", piuparts.KindPass},
	{"apache2-data", "2.4.62-1~deb12u1", "all", "apache2", "", "Debian Apache Maintainers <debian-apache@lists.debian.org>", "", "", piuparts.KindPass},
	{"libapache2-mod-php8.2", "8.2.20-1~deb12u1", "amd64", "php8.2", "", "Debian PHP Maintainers <team+pkg-php@tracker.debian.org>", "apache2 | httpd, php8.2-common", "", piuparts.KindAffected},
	{"php8.2-common", "8.2.20-1~deb12u1", "all", "php8.2", "", "Debian PHP Maintainers <team+pkg-php@tracker.debian.org>", "libc6", "", piuparts.KindPass},
	{"libgl1-mesa-dri", "22.3.6-1+deb12u1", "amd64", "mesa", "", "Debian X Strike Force <debian-x@lists.debian.org>", "libc6", "", piuparts.KindUntestable},
	{"libglx-mesa0", "22.3.6-1+deb12u1", "amd64", "mesa", "", "Debian X Strike Force <debian-x@lists.debian.org>", "libgl1-mesa-dri", "", ""},
	{"exim4-daemon-light", "4.96-15+deb12u5", "amd64", "exim4", "", "Exim4 Maintainers <pkg-exim4-maintainers@lists.alioth.debian.org>", "libc6", "mail-transport-agent", piuparts.KindReserved},
	{"mutt", "2.2.9-1+deb12u1", "amd64", "mutt", "", "Mutt Maintainers", "libc6, mail-transport-agent", "", ""},
	{"grub-efi-amd64-signed", "1+2.06+13+deb12u1", "amd64", "grub-efi-amd64-signed", "", "GRUB Maintainers <pkg-grub-devel@alioth-lists.debian.net>", "grub-efi-amd64-bin", "", ""},
}

var fixtureSources = []fixtureSrc{
	{"apache2", "2.4.62-1~deb12u1", "Debian Apache Maintainers <debian-apache@lists.debian.org>", "Stefan Fritsch <sf@debian.org>, Arno Töll <arno@debian.org>", "apache2, apache2-bin, apache2-data, apache2-dev"},
	{"exim4", "4.96-15+deb12u5", "Exim4 Maintainers <pkg-exim4-maintainers@lists.alioth.debian.org>", "Andreas Metzler <ametzler@debian.org>", "exim4-daemon-light"},
	{"fonts-dejavu", "2.37-6", "Debian Fonts Task Force <debian-fonts@lists.debian.org>", "Fabian Greffrath <fabian@debian.org>", "fonts-dejavu-core, fonts-dejavu-extra"},
	{"gcc-12", "12.2.0-14", "Debian GCC Maintainers <debian-gcc@lists.debian.org>", "Matthias Klose <doko@debian.org>", "gcc-12-base, libgcc-s1, libstdc++6"},
	{"glibc", "2.36-9+deb12u4", "GNU Libc Maintainers <debian-glibc@lists.debian.org>", "Aurelien Jarno <aurel32@debian.org>, Matthias Klose <doko@debian.org>", "libc-bin, libc6, libc6-udeb"},
	{"graphite2", "1.3.14-1", "Debian LibreOffice Maintainers <debian-openoffice@lists.debian.org>", "Rene Engelhard <rene@debian.org>", "libgraphite2-3, libgraphite2-dev"},
	{"grub-efi-amd64-signed", "1+2.06+13+deb12u1", "GRUB Maintainers <pkg-grub-devel@alioth-lists.debian.net>", "", "grub-efi-amd64-signed"},
	{"mesa", "22.3.6-1+deb12u1", "Debian X Strike Force <debian-x@lists.debian.org>", "Timo Aaltonen <tjaalton@debian.org>", "libgl1-mesa-dri, libglx-mesa0"},
	{"mutt", "2.2.9-1+deb12u1", "Mutt Maintainers", "Antonio Radici <antonio@debian.org>", "mutt"},
	{"php8.2", "8.2.20-1~deb12u1", "Debian PHP Maintainers <team+pkg-php@tracker.debian.org>", "Ondřej Surý <ondrej@debian.org>", "libapache2-mod-php8.2, php8.2-common"},
	{"debian-installer", "20230607+deb12u6", "Debian Install System Team <debian-boot@lists.debian.org>", "", "debian-installer-udeb"},
}

func splitDeps(s string) [][]string {
	var out [][]string
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		var alts []string
		for _, a := range strings.Split(item, "|") {
			alts = append(alts, strings.TrimSpace(a))
		}
		out = append(out, alts)
	}
	return out
}

// buildSection makes a Section of the report from binary and source
// stanzas as the loader would: states computed by master/state, logs,
// known problems, reservations, submissions and days of history.
func buildSection(tb testing.TB, conf *config.Section, now time.Time, pkgs []fixturePkg, srcs []fixtureSrc, days int) *Section {
	tb.Helper()
	in := &state.Section{Name: conf.Name}
	for i, p := range pkgs {
		sp := state.Package{Name: p.name, Version: p.version, Depends: splitDeps(p.depends), Ref: i}
		if p.provides != "" {
			sp.Provides = strings.Split(p.provides, ", ")
		}
		in.Packages = append(in.Packages, sp)
		if p.log != "" {
			k := map[piuparts.Kind]state.Kind{piuparts.KindPass: state.Pass, piuparts.KindFail: state.Fail,
				piuparts.KindBugged: state.Bugged, piuparts.KindAffected: state.Affected,
				piuparts.KindUntestable: state.Untestable, piuparts.KindReserved: state.Reserved}[p.log]
			in.Logs.Add(k, p.name, p.version)
		}
	}
	res, err := state.Compute(in)
	if err != nil {
		tb.Fatalf("state.Compute: %v", err)
	}
	s := &Section{Name: conf.Name, Conf: conf, Result: res, Logs: map[piuparts.Kind][]*Log{}}
	srcVersion := map[string]string{}
	for _, src := range srcs {
		srcVersion[src.name] = src.version
	}
	byName := map[string]*Package{}
	for i, p := range pkgs {
		c, _ := res.Counts(p.name)
		pk := &Package{Name: p.name, Version: p.version, TestVersion: p.version, Architecture: p.arch,
			Source: p.source, SourceVersion: p.version, Maintainer: p.maint,
			State: res.StateOf(p.name, true, false), StateRecursive: res.State(p.name),
			Deps: splitDeps(p.depends), RRDeps: c.RRDeps, Block: c.Block}
		pk.Cruft = srcVersion[p.source] != "" && srcVersion[p.source] != pk.SourceVersion
		if p.log != "" {
			l := &Log{Kind: p.log, Package: p.name, Version: p.version, ModTime: now.Add(-time.Duration(i+1) * time.Hour)}
			if p.log == piuparts.KindBugged || p.log == piuparts.KindAffected {
				l.Bug = `<a href="https://bugs.debian.org/1012345">#1012345</a>` + "\n"
			}
			pk.Logs = []*Log{l}
			s.Logs[p.log] = append(s.Logs[p.log], l)
		}
		s.Packages = append(s.Packages, pk)
		byName[p.name] = pk
	}
	slices.SortFunc(s.Packages, func(a, b *Package) int { return strings.Compare(a.Name, b.Name) })
	for _, l := range s.Logs {
		slices.SortFunc(l, func(a, b *Log) int { return strings.Compare(a.Package, b.Package) })
	}
	for _, src := range srcs {
		so := &Source{Name: src.name, Version: src.version, Maintainer: src.maint, Uploaders: src.uploaders}
		for _, b := range strings.Split(src.binaries, ",") {
			so.Binaries = append(so.Binaries, strings.TrimSpace(b))
		}
		slices.Sort(so.Binaries)
		success, failed, any := true, false, false
		for _, b := range so.Binaries {
			pk, ok := byName[b]
			if !ok {
				continue
			}
			any = true
			switch pk.State {
			case piuparts.SuccessfullyTested, piuparts.EssentialRequired:
			default:
				success = false
			}
			switch pk.State {
			case piuparts.FailedTesting, piuparts.DependencyDoesNotExist, piuparts.CannotBeTested:
				failed = true
			}
		}
		switch {
		case !any:
			so.State = "udeb"
		case failed:
			so.State = "fail"
		case success:
			so.State = "pass"
		default:
			so.State = "unknown"
		}
		s.Sources = append(s.Sources, so)
	}
	slices.SortFunc(s.Sources, func(a, b *Source) int { return strings.Compare(a.Name, b.Name) })

	// Known problems: an error in fail/ and bugged/, an issue in pass/.
	var depErr, owned []*Log
	for _, k := range []piuparts.Kind{piuparts.KindFail, piuparts.KindBugged, piuparts.KindAffected} {
		for _, l := range s.Logs[k] {
			l.Problems = []string{"dependency_error.conf"}
			depErr = append(depErr, l)
		}
	}
	for _, l := range s.Logs[piuparts.KindPass] {
		if strings.HasPrefix(l.Package, "fonts-") {
			l.Problems = []string{"owned_files_after_purge_issue.conf"}
			owned = append(owned, l)
		}
	}
	s.Problems = []*Problem{
		{Name: "dependency_error.conf", Page: "dependency_error.html", Header: "Packages that failed to install due to unsatisfied dependencies",
			Title:    "due to unsatisfied dependencies",
			Helptext: "<p>The package failed to install <em>because of</em> unsatisfied dependencies &amp; conflicts.</p>",
			Command:  `grep -E "E: Broken packages|E: Unable to correct problems"`, Logs: depErr},
		{Name: "owned_files_after_purge_issue.conf", Page: "owned_files_after_purge_issue.html", Issue: true,
			Header: "Packages that passed but left owned files after purge", Helptext: "<p>Files owned by the package remain after purge.</p>",
			Command: `grep -E "owned by:.+"`, Logs: owned},
		{Name: "diversion_error.conf", Page: "diversion_error.html", Header: "Packages with modified diversions", Command: `grep -E "diversion"`},
	}

	// Reservations and submissions.
	for _, p := range pkgs {
		if p.log == piuparts.KindReserved {
			s.Reservations = append(s.Reservations,
				Reservation{Package: p.name, Version: p.version, Holder: "slave-a.example.org", Since: now.Add(-2 * time.Hour), Expires: now.Add(4 * time.Hour)})
		}
	}
	if len(pkgs) > 6 {
		s.Reservations = append(s.Reservations, Reservation{Package: "mutt", Version: "2.2.9-1+deb12u1", Holder: "slave-b.example.org",
			Since: now.Add(-30 * time.Hour), Expires: now.Add(-6 * time.Hour)})
	}
	for i, p := range pkgs {
		var kind piuparts.Kind
		switch p.log {
		case piuparts.KindPass, piuparts.KindFail, piuparts.KindUntestable:
			kind = p.log
		case piuparts.KindBugged, piuparts.KindAffected:
			kind = piuparts.KindFail
		default:
			continue
		}
		by := []string{"slave-a.example.org", "slave-b.example.org"}[i%2]
		at := now.Add(-time.Duration(i*7+1) * time.Hour)
		if i%3 == 0 {
			// an earlier result of the same version
			s.Submissions = append(s.Submissions, Submission{At: at.Add(-20 * 24 * time.Hour), Result: piuparts.KindFail, Package: p.name, Version: p.version, By: by})
		}
		s.Submissions = append(s.Submissions, Submission{At: at, Result: kind, Package: p.name, Version: p.version, By: by})
	}
	slices.SortStableFunc(s.Submissions, func(a, b Submission) int { return a.At.Compare(b.At) })

	// History: days rows, the last being today.
	h := &History{States: state.States()}
	inState := map[string]int{}
	for _, p := range s.Packages {
		inState[p.StateRecursive]++
	}
	for d := days - 1; d >= 0; d-- {
		counts := make([]int, len(h.States))
		for i, st := range h.States {
			n := inState[st]
			// Earlier days had fewer passes and more waiting packages.
			switch st {
			case piuparts.SuccessfullyTested:
				n = max(0, n-d/5)
			case piuparts.WaitingToBeTested:
				n += d / 5
			}
			counts[i] = n
		}
		h.Rows = append(h.Rows, HistoryRow{Date: now.AddDate(0, 0, -d).Format("20060102"), Counts: counts})
	}
	s.History = h
	return s
}

// fixtureSite is a small site: bookworm with every kind of state, and
// trixie with a few of the same packages.
func fixtureSite(tb testing.TB) *Site {
	tb.Helper()
	cfg, err := config.Parse(strings.NewReader(fixtureConfig), "fixture.toml")
	if err != nil {
		tb.Fatalf("config.Parse: %v", err)
	}
	site := &Site{Config: cfg, Now: fixtureNow, DocRoot: ""}
	site.Sections = append(site.Sections, buildSection(tb, cfg.Sections["bookworm"], fixtureNow, fixturePackages, fixtureSources, 30))
	var few []fixturePkg
	for _, p := range fixturePackages {
		if p.source == "glibc" || p.source == "gcc-12" {
			few = append(few, p)
		}
	}
	site.Sections = append(site.Sections, buildSection(tb, cfg.Sections["trixie"], fixtureNow, few, fixtureSources[3:5], 3))
	return site
}

// memFS collects emitted files. renderSection emits from two goroutines.
type memFS map[string][]byte

// memFSMu guards every memFS (tests only).
var memFSMu sync.Mutex

func (m memFS) emit(path string, data []byte) error {
	memFSMu.Lock()
	defer memFSMu.Unlock()
	if _, dup := m[path]; dup {
		return fmt.Errorf("%s emitted twice", path)
	}
	m[path] = bytes.Clone(data) // the renderer reuses its buffers
	return nil
}

// renderFixture renders the fixture site with pages of pageSize items.
func renderFixture(tb testing.TB, pageSize int) memFS {
	tb.Helper()
	site := fixtureSite(tb)
	out := memFS{}
	r := newRenderer(site, pageSize)
	if err := r.top(out.emit); err != nil {
		tb.Fatalf("render site: %v", err)
	}
	for _, s := range site.Sections {
		if err := r.section(s, out.emit); err != nil {
			tb.Fatalf("render section %s: %v", s.Name, err)
		}
	}
	return out
}
