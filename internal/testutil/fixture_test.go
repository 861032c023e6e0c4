package testutil_test

import (
	"os"
	"path/filepath"
	"testing"

	"piuparts-server/internal/testutil"
)

// TestFixture checks that Fixture finds each shared fixture by an absolute
// path from this package's directory, as from any other.
func TestFixture(t *testing.T) {
	for _, name := range []string{"Packages_bookworm_closure", "Packages_bookworm-security_for_closure"} {
		t.Run(name, func(t *testing.T) {
			p := testutil.Fixture(t, name)
			if !filepath.IsAbs(p) {
				t.Errorf("Fixture(%q) = %q, want an absolute path", name, p)
			}
			if st, err := os.Stat(p); err != nil || st.Size() == 0 {
				t.Errorf("Fixture(%q) = %q: %v, size %v", name, p, err, st)
			}
		})
	}
}
