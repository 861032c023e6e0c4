package store_test

import (
	"bufio"
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"piuparts-server/store"
)

// bookwormSize is the number of packages in bookworm main amd64.
const bookwormSize = 63440

// archivePackages returns the packages of the real bookworm main amd64
// Packages file when the machine has it, parsed just enough for the store,
// and otherwise bookwormSize synthetic packages.
func archivePackages(tb testing.TB) []store.Package {
	tb.Helper()
	matches, _ := filepath.Glob("/var/lib/apt/lists/*bookworm_main_binary-amd64_Packages*")
	if len(matches) > 0 {
		if lz4, err := exec.LookPath("lz4"); err == nil {
			out, err := exec.Command(lz4, "-dc", matches[0]).Output()
			if err == nil {
				if ps := parsePackages(out); len(ps) > 0 {
					return ps
				}
			}
		}
	}
	tb.Logf("no bookworm Packages file or lz4 command: using %d synthetic packages", bookwormSize)
	return syntheticPackages(bookwormSize)
}

// parsePackages is a minimal Packages file reader for benchmarks: fields on
// one line only, first dependency alternatives, no version constraints. Of a
// package listed twice (linux-doc) it keeps the later stanza; the master
// keeps the higher version, as piupartslib does.
func parsePackages(data []byte) []store.Package {
	var (
		ps    []store.Package
		p     store.Package
		index = make(map[string]int)
	)
	flush := func() {
		if p.Name != "" && p.Version != "" {
			if p.Source == "" {
				p.Source = p.Name
			}
			if p.SourceVersion == "" {
				p.SourceVersion = p.Version
			}
			p.Dependencies = append(firstAlternatives(p.Depends), firstAlternatives(p.PreDepends)...)
			if i, ok := index[p.Name]; ok {
				ps[i] = p
			} else {
				index[p.Name] = len(ps)
				ps = append(ps, p)
			}
		}
		p = store.Package{}
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			flush()
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.HasPrefix(line, " ") {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Package":
			p.Name = v
		case "Version":
			p.Version = v
		case "Source":
			src, ver, _ := strings.Cut(v, " ")
			p.Source, p.SourceVersion = src, strings.Trim(ver, "()")
		case "Maintainer":
			p.Maintainer = v
		case "Uploaders":
			p.Uploaders = v
		case "Depends":
			p.Depends = v
		case "Pre-Depends":
			p.PreDepends = v
		case "Provides":
			p.Provides = v
		}
	}
	flush()
	return ps
}

func firstAlternatives(field string) []string {
	var names []string
	for _, dep := range strings.Split(field, ",") {
		alt, _, _ := strings.Cut(dep, "|")
		name := strings.Fields(strings.NewReplacer("(", " ", ":", " ").Replace(alt))
		if len(name) > 0 {
			names = append(names, name[0])
		}
	}
	return names
}

func BenchmarkReplacePackages(b *testing.B) {
	pkgs := archivePackages(b)
	db := openDB(b)
	ctx := context.Background()
	b.ReportMetric(float64(len(pkgs)), "packages")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Replacing a full section is the common case after the first load.
		if err := db.ReplacePackages(ctx, "sid", store.Fingerprint{Size: int64(i)}, t0, pkgs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPackages(b *testing.B) {
	pkgs := archivePackages(b)
	db := openDB(b)
	ctx := context.Background()
	if err := db.ReplacePackages(ctx, "sid", store.Fingerprint{}, t0, pkgs); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, err := db.Packages(ctx, "sid")
		if err != nil || len(got) != len(pkgs) {
			b.Fatalf("Packages = %d, %v", len(got), err)
		}
	}
}

// BenchmarkReserveNext reserves as the master does, in a section of the
// size of bookworm ranked by name.
func BenchmarkReserveNext(b *testing.B) {
	pkgs := archivePackages(b)
	ctx := context.Background()
	for _, bm := range []struct {
		name string
		// next returns the after argument of the next reserve, given the
		// rank of the last reservation.
		next func(rank int) int
	}{
		// Every reserve starts at the first rank (a new session each
		// time) and skips what is reserved already.
		{"FromStart", func(int) int { return 0 }},
		// A session continues after the last candidate it got.
		{"Continue", func(rank int) int { return rank }},
	} {
		b.Run(bm.name, func(b *testing.B) {
			db := openDB(b)
			loadSection(b, db, "sid", pkgs, store.StateWaitingToBeTested)
			now, after := t0, 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, ok, err := db.ReserveNext(ctx, "sid", "slave1", now, time.Hour, after, 0)
				if err != nil {
					b.Fatal(err)
				}
				if !ok {
					// Everything is reserved: let the leases run out.
					now, after = now.Add(2*time.Hour), 0
					continue
				}
				after = bm.next(res.Rank)
			}
		})
	}
}
