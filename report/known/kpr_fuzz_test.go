package known_test

import (
	"strings"
	"testing"

	"piuparts-server/internal/piuparts"
	"piuparts-server/report/known"
)

// FuzzParseKPR: ParseKPR never panics; what FormatKPR writes for a valid
// log name and problem names reads back as the same hits.
func FuzzParseKPR(f *testing.F) {
	f.Add([]byte("fail/x_1.log dependency_error.conf\n"), "x_1.log", "dependency_error.conf")
	f.Add([]byte(""), "a_2:1.0-1.log", "unclassified_failures.conf")
	f.Add([]byte("pass/y_1.log a.conf\r\npass/y_1.log b.conf"), "y_1.log", "a.conf")
	f.Fuzz(func(t *testing.T, data []byte, logname, hit string) {
		_, _ = known.ParseKPR(data)
		if _, _, ok := piuparts.ParseLogName(logname); !ok || hit == "" || strings.ContainsAny(hit, " \t\r\n\v\f\x1c\x1d\x1e\u0085") {
			return
		}
		for _, r := range hit {
			if r == '\u2028' || r == '\u2029' {
				return
			}
		}
		kpr := known.FormatKPR(piuparts.KindFail, logname, []string{hit, hit + ".2"})
		lines, err := known.ParseKPR(kpr)
		if err != nil {
			t.Fatalf("ParseKPR(FormatKPR(%q, %q)) = %v", logname, hit, err)
		}
		if len(lines) != 2 || lines[0].Problem != hit || lines[1].Problem != hit+".2" || lines[0].Kind != piuparts.KindFail {
			t.Fatalf("ParseKPR(FormatKPR(%q, %q)) = %+v", logname, hit, lines)
		}
	})
}
