package testutil

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Fixture returns the absolute path of the shared fixture name in
// internal/testutil/testdata (its README.md lists them), such as
// "Packages_bookworm_closure", so that the tests of every package read the
// one copy. It fails the test when the file does not exist.
func Fixture(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(fixtureDir(t), name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("testutil.Fixture: %v", err)
	}
	return p
}

// fixtureDir returns the absolute path of internal/testutil/testdata.
func fixtureDir(t testing.TB) string {
	t.Helper()
	// Why: a test runs in its own package's directory; the path of this
	// file, recorded at compile time, finds testdata from any of them.
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		return filepath.Join(filepath.Dir(file), "testdata")
	}
	// Why: under -trimpath that path is relative to the module; the module
	// root is the first directory above the test's that holds go.mod.
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("testutil.Fixture: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "internal", "testutil", "testdata")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testutil.Fixture: no go.mod above the test's directory")
		}
		dir = parent
	}
}
