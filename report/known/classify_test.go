package known

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"piuparts-server/internal/piuparts"
)

// classifySlow is Classify the plain way: every problem's match on the
// whole log, as has_problem does it.
func classifySlow(kind piuparts.Kind, log []byte, ps []*Problem) []string {
	text := Decode(log)
	var hits []string
	for _, p := range ps {
		if p.appliesTo(string(kind)) && p.match(text) {
			hits = append(hits, p.Name)
		}
	}
	if kind != piuparts.KindPass && len(hits) == 0 {
		hits = []string{Unclassified}
	}
	return hits
}

// testProblems are the shipped problems, or a few of our own without them.
func testProblems(t testing.TB) []*Problem {
	ps, errs := LoadDir(confDir)
	if len(errs) == 0 && len(ps) > 0 {
		return ps
	}
	for i, pat := range []string{"E: Broken packages", "owned by:", "(WARN|FAIL): Broken symlink", "not owned", `\d+ not upgraded$`} {
		p, err := Parse("p"+string(rune('a'+i))+".conf", []byte("PATTERN='"+pat+"'\nEXCLUDE_PATTERN='usr/local'\nWHERE='pass fail'\nISSUE=0\nHEADER=h\nHELPTEXT=h\n"))
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func TestClassify(t *testing.T) {
	ps := testProblems(t)
	var patterns []string
	for _, p := range ps {
		patterns = append(patterns, p.Pattern)
	}
	lines, bodies := corpus(patterns)
	rng := rand.New(rand.NewPCG(9, 10))
	for _, l := range fixtureLogs {
		bodies = append(bodies, fakeLog(rng, 6000, l.middle...))
	}
	for i := 0; i+3 < len(lines); i += 3 {
		bodies = append(bodies, strings.Join(lines[i:i+3], "\v"), "\xff"+strings.Join(lines[i:i+3], "\r\n"))
	}
	n := 0
	for _, b := range bodies {
		for _, kind := range []piuparts.Kind{piuparts.KindPass, piuparts.KindFail} {
			got, want := Classify(kind, []byte(b), ps), classifySlow(kind, []byte(b), ps)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Classify(%s, %q) = %q, has_problem's way %q", kind, b, got, want)
			}
			if len(want) > 0 && want[0] != Unclassified {
				n++
			}
		}
	}
	if n == 0 {
		t.Error("no log of the corpus shows a problem")
	}
	if got := Classify(piuparts.KindPass, nil, ps); got != nil {
		t.Errorf("Classify(pass, empty) = %q, want none", got)
	}
	if got := Classify(piuparts.KindUntestable, nil, ps); !reflect.DeepEqual(got, []string{Unclassified}) {
		t.Errorf("Classify(untestable, empty) = %q, want unclassified", got)
	}
}

// FuzzClassify checks that the one-pass scan gives what has_problem's
// way gives.
func FuzzClassify(f *testing.F) {
	for _, l := range fixtureLogs {
		f.Add(strings.Join(l.middle, "\n"))
	}
	f.Add("x\vE: Broken packages\xc2\x85owned by: /usr/local\u2028FAIL: Broken symlinks")
	ps := testProblems(f)
	f.Fuzz(func(t *testing.T, log string) {
		for _, kind := range []piuparts.Kind{piuparts.KindPass, piuparts.KindFail} {
			got, want := Classify(kind, []byte(log), ps), classifySlow(kind, []byte(log), ps)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Classify(%s, %q) = %q, has_problem's way %q", kind, log, got, want)
			}
		}
	})
}
