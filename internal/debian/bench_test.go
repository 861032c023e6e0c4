// Benchmarks on all of bookworm main amd64 (about 50 MB, 63,440 stanzas),
// decompressed once from /var/lib/apt/lists into os.TempDir().
//
// Ours (BenchmarkParsePackages: the paragraphs only; BenchmarkReadPackages:
// the name → Package map, the same work as piupartslib's PackagesFile):
//
//	go test ./internal/debian -run='^$' -bench=. -benchmem -count=3
//
// piupartslib's PackagesFile on the same plain file (the path is printed by
// the benchmarks as "bookworm Packages: PATH", e.g.
// /tmp/piuparts-server-debian-HOST_debian_dists_bookworm_main_binary-amd64_Packages-SIZE-MTIME):
//
//	/usr/bin/python3 internal/debian/testdata/bench_piupartslib.py PATH 3
//
// ReadPackages parses in parallel (runtime.GOMAXPROCS(0) workers on 1 MB
// blocks); ParsePackages is one Parser, sequential.
//
// On the 2-core development machine, shared with other jobs (load 1.2 to
// 1.8 while measuring, so single runs vary by 30% or more), same session:
// BenchmarkParsePackages 48-65 ms/op, 316 allocs/op; BenchmarkReadPackages
// 49-89 ms/op (best of 5: 49 ms), 776 allocs/op; piupartslib best of 3:
// 1.31 s (1.01 s at the quietest moment of the day). Best against best,
// 1.01 s / 49 ms: 21 times faster to build the map (it was 10 times before
// the parallel parse). ReadPackages uses about 95 ms of CPU time per run.
package debian_test

import (
	"bytes"
	"io"
	"os"
	"testing"

	"piuparts-server/internal/debian"
)

func bookwormBytes(b *testing.B) []byte {
	b.Helper()
	path := bookwormPackages(b)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("bookworm Packages: %s", path)
	return data
}

// BenchmarkParsePackages parses every paragraph of bookworm main.
func BenchmarkParsePackages(b *testing.B) {
	data := bookwormBytes(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p := debian.NewParser(bytes.NewReader(data))
		n := 0
		for {
			_, err := p.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 63440 {
			b.Fatalf("parsed %d paragraphs", n)
		}
	}
}

// BenchmarkReadPackages builds the name → Package map of bookworm main, as
// piupartslib's PackagesFile does.
func BenchmarkReadPackages(b *testing.B) {
	data := bookwormBytes(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		pkgs, err := debian.ReadPackages(b.Context(), bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if len(pkgs) != 63436 {
			b.Fatalf("loaded %d packages", len(pkgs))
		}
	}
}

func BenchmarkCompareVersions(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		debian.CompareVersions("1:2.36-9+deb12u14", "1:2.36-9+deb12u7")
	}
}

func BenchmarkParseDepends(b *testing.B) {
	const field = "libbz2-1.0, libc6 (>= 2.34), liblzma5 (>= 5.4.0), libmd0 (>= 0.0.0), libselinux1 (>= 3.1~), libzstd1 (>= 1.5.2), zlib1g (>= 1:1.1.4), gcc:amd64 | g++-x86-64-linux-gnu (>= 4:10.2)"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := debian.ParseDepends(field); err != nil {
			b.Fatal(err)
		}
	}
}
