package debian_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bookwormPackages returns the path of the plain (decompressed) bookworm
// main amd64 Packages file, decompressing apt's lz4 file once into a cache
// in os.TempDir(). It skips the test when the file or lz4 is absent.
func bookwormPackages(tb testing.TB) string {
	tb.Helper()
	matches, _ := bookwormGlob()
	if len(matches) == 0 {
		tb.Skip("no bookworm main amd64 Packages file in /var/lib/apt/lists (run apt-get update on bookworm)")
	}
	src := matches[0]
	if !strings.HasSuffix(src, ".lz4") {
		return src
	}
	lz4, err := exec.LookPath("lz4")
	if err != nil {
		tb.Skip("lz4 command not found; needed to decompress " + src)
	}
	fi, err := os.Stat(src)
	if err != nil {
		tb.Fatal(err)
	}
	cache := filepath.Join(os.TempDir(), fmt.Sprintf("piuparts-server-debian-%s-%d-%d",
		strings.TrimSuffix(filepath.Base(src), ".lz4"), fi.Size(), fi.ModTime().Unix()))
	if _, err := os.Stat(cache); err == nil {
		return cache
	}
	tmp, err := os.CreateTemp(os.TempDir(), "piuparts-server-debian-*.tmp")
	if err != nil {
		tb.Fatal(err)
	}
	defer os.Remove(tmp.Name())
	cmd := exec.Command(lz4, "-dc", src)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = tmp, &stderr
	if err := cmd.Run(); err != nil {
		tmp.Close()
		tb.Fatalf("lz4 -dc %s: %v: %s", src, err, stderr.String())
	}
	if err := tmp.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), cache); err != nil {
		tb.Fatal(err)
	}
	return cache
}

// readLines returns the non-empty, non-comment lines of a testdata file.
func readLines(tb testing.TB, path string) []string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return lines
}

// bookwormGlob finds the bookworm main Packages file apt keeps.
func bookwormGlob() ([]string, error) {
	return filepath.Glob("/var/lib/apt/lists/*bookworm_main_binary-amd64_Packages*")
}
