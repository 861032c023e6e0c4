package report

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"piuparts-server/internal/piuparts"
)

// syntheticSite is a section the size of bookworm main: 63,000 binary
// packages of 34,000 sources with 3,500 maintainers, each package
// depending on up to three earlier ones; 70% pass, 3% fail, 1%
// untestable, the rest waiting.
func syntheticSite(tb testing.TB) (*Site, *Section) {
	tb.Helper()
	const nPkg, nSrc, nMaint = 63000, 34000, 3500
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var pkgs []fixturePkg
	for i := range nPkg {
		src := i % nSrc
		p := fixturePkg{name: fmt.Sprintf("pkg%05d", i), version: "1.0-1", arch: "amd64",
			source: fmt.Sprintf("src%05d", src), maint: fmt.Sprintf("Maintainer %d <m%d@example.org>", src%nMaint, src%nMaint)}
		if i%5 == 0 {
			p.arch = "all"
			p.name = "lib" + p.name
		}
		var deps []string
		for k := 1; k <= 3 && i-k*7 >= 0; k++ {
			deps = append(deps, pkgs[i-k*7].name)
		}
		if i%11 == 0 && len(deps) > 1 {
			deps[1] += " | virtual" + fmt.Sprint(i%13)
		}
		p.depends = strings.Join(deps, ", ")
		if i%97 == 0 {
			p.provides = "virtual" + fmt.Sprint(i%13)
		}
		switch r := i % 100; {
		case r < 70:
			p.log = piuparts.KindPass
		case r < 73:
			p.log = piuparts.KindFail
		case r < 74:
			p.log = piuparts.KindUntestable
		}
		pkgs = append(pkgs, p)
	}
	var srcs []fixtureSrc
	bins := make([][]string, nSrc)
	for _, p := range pkgs {
		var n int
		fmt.Sscanf(p.source, "src%d", &n)
		bins[n] = append(bins[n], p.name)
	}
	for i := range nSrc {
		srcs = append(srcs, fixtureSrc{name: fmt.Sprintf("src%05d", i), version: "1.0-1",
			maint:     fmt.Sprintf("Maintainer %d <m%d@example.org>", i%nMaint, i%nMaint),
			uploaders: fmt.Sprintf("Uploader <u%d@example.org>", i%(nMaint/2)), binaries: strings.Join(bins[i], ", ")})
	}
	site := fixtureSite(tb)
	s := buildSection(tb, site.Config.Sections["bookworm"], now, pkgs, srcs, 3000)
	site.Sections = []*Section{s}
	return site, s
}

func BenchmarkRenderSection(b *testing.B) {
	site, s := syntheticSite(b)
	var pages, bytes int
	var mu sync.Mutex // renderSection emits from two goroutines
	emit := func(path string, data []byte) error {
		mu.Lock()
		pages++
		bytes += len(data)
		mu.Unlock()
		return nil
	}
	runtime.GC()
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		pages, bytes = 0, 0
		if err := renderSection(site, s, emit, nil, nil); err != nil {
			b.Fatal(err)
		}
		n++
	}
	// CPU time (all threads, GC included) tells more than wall time on
	// a machine others share.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(n), "cpu-s/op")
	b.ReportMetric(float64(pages), "pages")
	b.ReportMetric(float64(bytes)/1e6, "MB")
}

// cpuTime returns the user and system CPU time of the process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
