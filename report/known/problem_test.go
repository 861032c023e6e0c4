package known

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const goodConf = `#
# comment
#
PATTERN='E: Broken packages|E: Unable'
WHERE='fail bugged affected'
ISSUE=0
HEADER='Packages with failed logs'
HELPTEXT='
<p>
Usually this.
</p>

'
`

func TestParse(t *testing.T) {
	p, err := Parse("dependency_error.conf", []byte(goodConf))
	if err != nil {
		t.Fatal(err)
	}
	want := &Problem{
		Name: "dependency_error.conf", Pattern: "E: Broken packages|E: Unable",
		Where: []string{"fail", "bugged", "affected"}, Issue: "0",
		Header: "Packages with failed logs", Helptext: "\n<p>\nUsually this.\n</p>\n\n",
	}
	p.inc, p.exc = nil, nil
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Parse = %+v, want %+v", p, want)
	}
	if got, want := (&Problem{Pattern: "a|b", ExcludePattern: "c"}).Command(), `grep -E "a|b" | grep -v -E "c"`; got != want {
		t.Errorf("Command = %q, want %q", got, want)
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name, in, msg string
		want          error
	}{
		{"Unknown", goodConf + "FOO='x'\n", "x.conf:14: unknown key FOO", ErrUnknownKey},
		{"Missing", strings.Replace(goodConf, "ISSUE=0\n", "", 1), "x.conf: missing key ISSUE", ErrMissingKey},
		{"Empty", strings.Replace(goodConf, "ISSUE=0", "ISSUE=", 1), "x.conf:6: empty value for ISSUE", ErrEmptyValue},
		{"Hdr", goodConf + "X <hdr>oops\n", "x.conf:14: \"<hdr>\" starts a chunk without \"=\"", ErrNoEquals},
		{"UTF8", goodConf + "\xff", "x.conf:14: not UTF-8", ErrNotUTF8},
		{"Pattern", strings.Replace(goodConf, "'E: Broken", "'(E: Broken", 1), "x.conf:4: PATTERN: missing ), unterminated subpattern", nil},
		{"Backref", strings.Replace(goodConf, "'E: Broken", `'(E)\1 Broken`, 1), "x.conf:4: PATTERN: backreferences are not supported", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.conf", []byte(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v, want a *ParseError", err)
			}
			if !strings.HasPrefix(err.Error(), tt.msg) {
				t.Errorf("Parse error = %q, want it to start with %q", err, tt.msg)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Parse error = %v, want one wrapping %v", err, tt.want)
			}
		})
	}
}

// parseScript loads each file with dwke.Problem and dumps what it read,
// null for a file that dwke.py skips or crashes on.
const parseScript = `
import json, sys
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from piupartslib.dwke import Problem
out = []
for path in json.load(sys.stdin):
    try:
        p = Problem(path)
    except Exception:
        out.append(None)
        continue
    if not p.valid():
        out.append(None)
        continue
    out.append({k: getattr(p, k, None) for k in
        ["PATTERN", "EXCLUDE_PATTERN", "WHERE", "ISSUE", "HEADER", "HELPTEXT", "EXPLAIN", "PRIORITY"]})
json.dump(out, sys.stdout)
`

// TestParse_Python compares Parse with dwke.py's Problem on tricky files
// and on every shipped one.
func TestParse_Python(t *testing.T) {
	needPython(t)
	if _, err := os.Stat(dwkePy); err != nil {
		t.Skipf("SKIPPED: %s is missing (install piuparts-master): %v", dwkePy, err)
	}
	base := "PATTERN='p'\nWHERE='fail'\nISSUE=0\nHEADER='h'\n"
	inputs := []string{
		goodConf,
		base + "HELPTEXT='x'",
		base + "HELPTEXT=\"dq\"\n\n\n",
		base + "HELPTEXT='unclosed\n",
		base + "HELPTEXT=''\n",
		base + "HELPTEXT='a'\n'b'\n",
		base + "HELPTEXT=x\n'b'\n",
		base + "HELPTEXT=é\n'b'",
		base + "HELPTEXT='a\nNOTE=b'\n",
		base + "HELPTEXT='a <hdr>B=c'\n",
		base + "HELPTEXT='a'\nEXPLAIN='e'\nPRIORITY=3\n",
		base + "HELPTEXT='a'\nEXCLUDE_PATTERN='x|y'\n",
		base + "HELPTEXT='a'\r\nISSUE=1\r",
		base + "HELPTEXT='a'\nHEADER='second'\n",
		strings.Replace(base, "WHERE='fail'", "WHERE='fail  pass '", 1) + "HELPTEXT=h",
		strings.Replace(base, "WHERE='fail'", "WHERE=\"'fail'\"", 1) + "HELPTEXT=h",
		"junk before\n" + base + "HELPTEXT=h",
		base + "HELPTEXT= 'x' ",
		base + "HELPTEXT='\"'",
		base + "HELPTEXT='x\"\n\"y'\n",
		base + "Helptext='x'\n",
		base + "HELPTEXT='x'\nX=\n",
		base + "HELPTEXT='x'\nA_B='x'\n",
		base + "HELPTEXT==='x'\n",
	}
	dir := t.TempDir()
	var paths []string
	for i, in := range inputs {
		p := filepath.Join(dir, "c"+string(rune('a'+i))+".conf")
		if err := os.WriteFile(p, []byte(in), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	shipped, _ := filepath.Glob(filepath.Join(confDir, "*.conf"))
	for _, p := range shipped {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, string(data))
		paths = append(paths, p)
	}
	var want []map[string]any
	runPython(t, parseScript, paths, &want)
	for i, in := range inputs {
		p, err := Parse(filepath.Base(paths[i]), []byte(in))
		if want[i] == nil {
			if err == nil {
				t.Errorf("Parse(%q) = ok, dwke.py skips it", in)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v, dwke.py reads it", in, err)
			continue
		}
		str := func(k string) string { s, _ := want[i][k].(string); return s }
		var where []string
		for _, w := range want[i]["WHERE"].([]any) {
			where = append(where, w.(string))
		}
		got := []any{p.Pattern, p.ExcludePattern, p.Where, p.Issue, p.Header, p.Helptext, p.Explain, p.Priority}
		exp := []any{str("PATTERN"), str("EXCLUDE_PATTERN"), where, str("ISSUE"), str("HEADER"), str("HELPTEXT"), str("EXPLAIN"), str("PRIORITY")}
		if !reflect.DeepEqual(got, exp) {
			t.Errorf("Parse(%q) = %q, dwke.py reads %q", in, got, exp)
		}
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b_issue.conf", goodConf)
	write("unclassified_failures.conf", goodConf)
	write("a_error.conf", goodConf)
	write("bad.conf", goodConf+"FOO=1\n")
	write("notes.txt", goodConf)
	ps, errs := LoadDir(dir)
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if want := []string{"a_error.conf", "b_issue.conf", "unclassified_failures.conf"}; !reflect.DeepEqual(names, want) {
		t.Errorf("LoadDir names = %q, want %q", names, want)
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrUnknownKey) {
		t.Errorf("LoadDir errors = %v, want one unknown key", errs)
	}
	ex := Exclude(ps, []string{"b_issue.conf", "nope.conf"})
	if len(ex) != 2 || ex[0].Name != "a_error.conf" || ex[1].Name != Unclassified {
		t.Errorf("Exclude = %v", ex)
	}
}

func TestParseKPR(t *testing.T) {
	tests := []struct {
		in   string
		want []KPRLine
		err  bool
	}{
		{"", nil, false},
		{"fail/x_1.log dependency_error.conf\n", []KPRLine{{"fail", "x_1.log", "dependency_error.conf"}}, false},
		{"pass/a_1.log p.conf\npass/a_1.log q.conf", []KPRLine{{"pass", "a_1.log", "p.conf"}, {"pass", "a_1.log", "q.conf"}}, false},
		{"fail/a b c\n", []KPRLine{{"fail", "a b", "c"}}, false},
		{"fail/a b \n", []KPRLine{{"fail", "a", "b "}}, false},
		{"fail/a_1.log\n", nil, true},
		{"\n\n", nil, true},
		{"Fail/a b\n", nil, true},
		{"fail/ b\n", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseKPR([]byte(tt.in))
		if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseKPR(%q) = %v, %v, want %v (error %v)", tt.in, got, err, tt.want, tt.err)
		}
	}
	hits := []string{"a.conf", "b.conf"}
	data := FormatKPR("fail", "x_1:2.log", hits)
	if string(data) != "fail/x_1:2.log a.conf\nfail/x_1:2.log b.conf\n" {
		t.Errorf("FormatKPR = %q", data)
	}
	back, err := ParseKPR(data)
	if err != nil || len(back) != 2 || back[1].Problem != "b.conf" || back[0].Log != "x_1:2.log" {
		t.Errorf("ParseKPR(FormatKPR) = %v, %v", back, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(goodConf))
	f.Add([]byte("PATTERN='a'\nWHERE=pass\nISSUE=1\nHEADER=h\nHELPTEXT=\"x\"\nEXCLUDE_PATTERN='(?i)b|[\\d]'\n"))
	f.Add([]byte("A=<hdr>B='\r\n'"))
	if shipped, err := filepath.Glob(filepath.Join(confDir, "*.conf")); err == nil {
		for _, p := range shipped[:min(len(shipped), 10)] {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("f.conf", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error %v is not a *ParseError", err)
			}
			return
		}
		if p.Pattern == "" || p.inc == nil || len(p.Where) == 0 || (p.ExcludePattern != "") != (p.exc != nil) {
			t.Fatalf("Parse = %+v: incomplete", p)
		}
		p.Match(data)
		Classify("fail", data, []*Problem{p})
	})
}

// FuzzTranslate checks that the translation of any expression either
// fails with a *PatternError or compiles, and that the literals it
// requires are in every match.
func FuzzTranslate(f *testing.F) {
	for _, s := range extraPatterns {
		f.Add(s, "E: Broken packages é 12 ok")
	}
	f.Fuzz(func(t *testing.T, src, text string) {
		p, err := compilePattern(src)
		if err != nil {
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Fatalf("compilePattern(%q) error %v is not a *PatternError", src, err)
			}
			return
		}
		// Logs are decoded first: the text is UTF-8.
		text = string(Decode([]byte(text)))
		for _, loc := range p.line.FindAllStringIndex(text, -1) {
			if m := text[loc[0]:loc[1]]; !p.mayMatch([]byte(m)) {
				t.Fatalf("compilePattern(%q) requires %q, missing from the match %q", src, p.lits, m)
			}
		}
		p.searchFrom8([]byte(text))
	})
}
