package testutil

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// AptList returns the path of an uncompressed copy of the one apt list of
// /var/lib/apt/lists whose name matches pattern (a filepath.Match glob
// such as "*_debian_dists_bookworm_main_source_Sources*"), decompressed
// with lz4 (as apt keeps its lists) into the temporary directory once and
// reused while the list is unchanged. It skips the test, loudly, when there
// is no such list or no lz4 command (make test-deps adds both), and fails
// it when the pattern matches several.
func AptList(t testing.TB, pattern string) string {
	t.Helper()
	lists, _ := filepath.Glob(filepath.Join("/var/lib/apt/lists", pattern))
	switch len(lists) {
	case 0:
		t.Skipf("SKIPPED: no apt list matching %s in /var/lib/apt/lists (make test-deps adds the deb-src entry "+
			"for Sources, then apt-get update)", pattern)
	case 1:
	default:
		t.Fatalf("AptList: %s matches %d lists: %v", pattern, len(lists), lists)
	}
	src := lists[0]
	info, err := os.Stat(src)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimSuffix(filepath.Base(src), ".lz4")
	dst := filepath.Join(os.TempDir(), fmt.Sprintf("piuparts-server-aptlist-%s-%d-%d", name, info.Size(), info.ModTime().Unix()))
	if _, err := os.Stat(dst); err == nil {
		return dst
	}
	if !strings.HasSuffix(src, ".lz4") {
		copyFile(t, src, dst)
		return dst
	}
	lz4, err := exec.LookPath("lz4")
	if err != nil {
		t.Skipf("SKIPPED: no lz4 command to read %s (make test-deps installs lz4)", src)
	}
	f, err := os.Create(dst + ".tmp")
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(lz4, "-dc", src)
	cmd.Stdout, cmd.Stderr = f, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("lz4 -dc %s: %v\n%s", src, err, stderr.String())
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dst+".tmp", dst); err != nil {
		t.Fatal(err)
	}
	return dst
}
