package testutil

import (
	"os/exec"
	"path"
	"path/filepath"
	"testing"
)

// Build compiles the main package importPath (e.g.
// "piuparts-server/cmd/piuparts-master") into dir and returns the binary's
// path. It uses the go command in PATH (else /usr/local/go/bin/go, where
// this machine kind keeps it) and fails the test with the compiler's output when the
// build fails: a binary that does not build is a failure, not a skip.
func Build(t testing.TB, dir, importPath string) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = "/usr/local/go/bin/go"
	}
	bin := filepath.Join(dir, path.Base(importPath))
	out, err := exec.Command(goCmd, "build", "-o", bin, importPath).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", importPath, err, out)
	}
	return bin
}
