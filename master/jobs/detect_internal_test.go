package jobs

import (
	"regexp"
	"strings"
	"testing"
)

// The literal prefilter never changes what matches: every pattern's
// lines are found as a plain regexp finds them.
func TestGrepper_SameAsRegexp(t *testing.T) {
	lines := []string{
		"Traceback (most recent call last):", "  Traceback indented", "tar (child): x.tar.gz: Cannot open: No such file or directory",
		"E: Sub-process Popen returned an error code (2)", "useradd: cannot lock /etc/passwd", "groupadd: unable to lock group file",
		`invoke-rc.d: initscript mysql, action "restart" failed.`, "Package foo 1.0 not found in bar", "nothing here",
		"W: GPG error: x InRelease: Clearsigned file isn't valid, got 'NODATA'", "E: Version '1' for 'x' was not found",
	}
	for _, set := range [][]string{piupartsPatterns, networkPatterns, archivePatterns} {
		g := newGrepper(set)
		for _, p := range set {
			re := regexp.MustCompile(p)
			for _, l := range lines {
				text := "first line\n" + l + "\nlast line\n"
				got, ok, err := g.lines(strings.NewReader(text), 0)
				want := re.MatchString(l)
				if err != nil {
					t.Fatal(err)
				}
				if want && (!ok || len(got) == 0 || got[0] != l) {
					t.Errorf("pattern %q matches %q, the grepper found %q", p, l, got)
				}
			}
		}
		for _, l := range lines {
			_, ok, _ := g.lines(strings.NewReader(l+"\n"), 0)
			if ok != g.all.MatchString(l) {
				t.Errorf("%q: grepper %v, regexp %v", l, ok, !ok)
			}
		}
	}
}
