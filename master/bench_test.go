package master_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
	"piuparts-server/master"
	"piuparts-server/protocol"
	"piuparts-server/store"
)

// bookwormBench is a master directory serving one section, bookworm, from
// the real bookworm main amd64 Packages file in a file:// mirror.
type bookwormBench struct {
	cfg      master.Config
	packages string // the mirror's Packages file
}

// newBookwormBench skips the benchmark when the machine lacks the apt list
// or the lz4 command.
func newBookwormBench(b *testing.B) *bookwormBench {
	b.Helper()
	matches, _ := filepath.Glob("/var/lib/apt/lists/*bookworm_main_binary-amd64_Packages*")
	if len(matches) == 0 {
		b.Skip("no bookworm main amd64 Packages file in /var/lib/apt/lists")
	}
	lz4, err := exec.LookPath("lz4")
	if err != nil {
		b.Skip("no lz4 command to decompress the bookworm Packages file")
	}
	data, err := exec.Command(lz4, "-dc", matches[0]).Output()
	if err != nil {
		b.Fatalf("lz4 -dc %s: %v", matches[0], err)
	}
	root := b.TempDir()
	dir, mirror := filepath.Join(root, "master"), filepath.Join(root, "mirror")
	bb := &bookwormBench{packages: filepath.Join(mirror, "dists", "bookworm", "main", "binary-amd64", "Packages")}
	if err := os.MkdirAll(filepath.Dir(bb.packages), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(bb.packages, data, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	writeBenchLogs(b, filepath.Join(dir, "bookworm"), data)
	conf := filepath.Join(root, "piuparts.toml")
	toml := fmt.Sprintf("[global]\nsections = [\"bookworm\"]\nmaster-directory = %q\nmirror = %q\narch = \"amd64\"\n\n[bookworm]\ndistro = \"bookworm\"\n",
		dir, "file://"+mirror)
	if err := os.WriteFile(conf, []byte(toml), 0o644); err != nil {
		b.Fatal(err)
	}
	pc, err := config.Load(conf)
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.OpenMaster(context.Background(), dir, "piuparts-master.db")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	bb.cfg = master.Config{Piuparts: pc, DB: db, Log: zerolog.Nop(), Holder: "bench",
		Limits: protocol.Limits{MaxLine: 4096, MaxLongPart: 1 << 20}}
	return bb
}

// writeBenchLogs fills the section directory with empty logs as a farm's
// are spread: about 70% of the packages of the Packages file data have a
// pass/ log of their version, 3% a fail/ and 1% an untestable/ one, chosen
// by the position of the package in the file.
func writeBenchLogs(b *testing.B, section string, data []byte) {
	b.Helper()
	for _, k := range []string{"pass", "fail", "untestable"} {
		if err := os.MkdirAll(filepath.Join(section, k), 0o755); err != nil {
			b.Fatal(err)
		}
	}
	var name string
	n := 0
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "Package: "); ok {
			name = v
			continue
		}
		v, ok := strings.CutPrefix(line, "Version: ")
		if !ok || name == "" {
			continue
		}
		var kind string
		switch r := (n * 7919) % 100; {
		case r < 70:
			kind = "pass"
		case r < 73:
			kind = "fail"
		case r < 74:
			kind = "untestable"
		}
		n++
		if kind != "" {
			if err := os.WriteFile(filepath.Join(section, kind, name+"_"+v+".log"), nil, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		name = ""
	}
}

// serve runs one connection with the given command lines and returns the
// answers after the greeting.
func (bb *bookwormBench) serve(b *testing.B, lines ...string) []string {
	var out bytes.Buffer
	in := strings.NewReader(strings.Join(lines, "\n") + "\n")
	if err := master.Serve(context.Background(), bb.cfg, in, &out); err != nil {
		b.Fatalf("Serve(%q): %v", lines, err)
	}
	answers := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(answers) != len(lines)+1 || answers[0] != "hello" {
		b.Fatalf("Serve(%q) answered %q", lines, answers)
	}
	for i, a := range answers[1:] {
		if !strings.HasPrefix(a, "ok") {
			b.Fatalf("Serve: %q answered %q", lines[i], a)
		}
	}
	return answers[1:]
}

// changePackages changes the Packages file's contents (a trailing empty
// line, which parses to the same packages) and time: the next connection
// starts cold.
func (bb *bookwormBench) changePackages(b *testing.B) {
	f, err := os.OpenFile(bb.packages, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.WriteString("\n"); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	later := time.Now().Add(time.Duration(b.N) * time.Second)
	if err := os.Chtimes(bb.packages, later, later); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkColdStatus measures the first connection after the Packages
// file changed: parse it, compute the states, store packages and states.
func BenchmarkColdStatus(b *testing.B) {
	bb := newBookwormBench(b)
	b.ResetTimer() // not the writing of the logs
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		bb.changePackages(b)
		b.StartTimer()
		got := bb.serve(b, "section bookworm", "status")
		if !strings.Contains(got[1], " total=") {
			b.Fatalf("status = %q", got[1])
		}
	}
}

// BenchmarkWarmStatus measures a connection whose states are stored.
func BenchmarkWarmStatus(b *testing.B) {
	bb := newBookwormBench(b)
	bb.serve(b, "section bookworm", "status")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bb.serve(b, "section bookworm", "status")
	}
}

// BenchmarkWarmReserve measures a connection that reserves a package from
// stored states; the reservation is given back outside the timer.
func BenchmarkWarmReserve(b *testing.B) {
	bb := newBookwormBench(b)
	bb.serve(b, "section bookworm", "status")
	tree := bb.cfg.DB.Tree()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got := bb.serve(b, "section bookworm", "reserve")
		b.StopTimer()
		f := strings.Fields(got[1])
		if len(f) != 3 {
			b.Fatalf("reserve = %q", got[1])
		}
		if _, err := bb.cfg.DB.Unreserve(ctx, "bookworm", f[1], f[2], "", time.Now()); err != nil {
			b.Fatal(err)
		}
		if err := tree.RemoveLog("bookworm", store.KindReserved, f[1], f[2]); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
