package jobs

import (
	"path/filepath"
	"strings"
	"testing"

	"piuparts-server/internal/piuparts"
)

// FuzzLogFileArg: a --logfiles argument is accepted only as a safe
// SECTION/KIND/NAME_VERSION.log under the master directory, whatever it
// holds.
func FuzzLogFileArg(f *testing.F) {
	root := f.TempDir()
	for _, s := range []string{root + "/sid/fail/a_1.log", "sid/pass/b_2.log", root + "/../x/sid/fail/a_1.log",
		root + "/sid/recycle/a_1.log", root + "/sid/fail/../pass/a_1.log", root + "/sid/fail/a_1.log/", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		section, l, err := logFileArg(root, arg)
		if err != nil {
			return
		}
		if !piuparts.ValidSectionName(section) || !l.Kind.IsTested() {
			t.Fatalf("%q accepted as section %q, kind %q", arg, section, l.Kind)
		}
		if _, _, ok := piuparts.ParseLogName(piuparts.LogName(l.Package, l.Version)); !ok {
			t.Fatalf("%q accepted with unsafe name %q %q", arg, l.Package, l.Version)
		}
		abs, _ := filepath.Abs(arg)
		if !strings.HasPrefix(abs, root+string(filepath.Separator)) {
			t.Fatalf("%q (%s) accepted outside %s", arg, abs, root)
		}
	})
}

// FuzzGrepper: the literal prefilter finds a matching line exactly when
// the joined patterns match one of the text's lines.
func FuzzGrepper(f *testing.F) {
	for _, s := range []string{"Traceback (most\nx", "a\nNo space left on device\n", "Hash Sum mismatch", "E: Broken packages\n\n"} {
		f.Add(s)
	}
	gs := []*grepper{newGrepper(piupartsPatterns), newGrepper(networkPatterns), newGrepper(archivePatterns)}
	f.Fuzz(func(t *testing.T, text string) {
		for _, g := range gs {
			want := false
			for _, l := range strings.Split(text, "\n") {
				if g.all.MatchString(l) {
					want = true
					break
				}
			}
			if _, got, _ := g.lines(strings.NewReader(text), 0); got != want {
				t.Fatalf("%q: grepper %v, regexp %v", text, got, want)
			}
		}
	})
}
