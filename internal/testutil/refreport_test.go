package testutil_test

import (
	"os"
	"path/filepath"
	"testing"

	"piuparts-server/internal/testutil"
)

func TestRunDebianReport_Fixture(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Debian's piuparts-report (seconds); skipped under -short")
	}
	testutil.NeedDebianReport(t)
	md := testutil.MasterDirFixture(t, testutil.MasterDirOptions{
		Packages: testutil.Fixture(t, "Packages_bookworm_closure"), Seed: 1})
	var st testutil.ReportStats
	out := testutil.RunDebianReport(t, testutil.ReportOptions{
		MasterDir: md.Dir,
		Sections: []testutil.ReportSection{{Name: "bookworm",
			Packages: testutil.Fixture(t, "Packages_bookworm_closure"),
			Sources:  testutil.Fixture(t, "Sources_bookworm_closure")}},
		Stats: &st,
	})
	t.Logf("Debian's piuparts-report: %v, %d KiB peak RSS; counts %v", st.Wall, st.MaxRSS, md.Counts)
	for _, p := range []string{"bookworm/sources.txt", "bookworm/summary.json", "summary.json"} {
		if _, err := os.Stat(filepath.Join(out, p)); err != nil {
			t.Error(err)
		}
	}
}
