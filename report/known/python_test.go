package known

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode/utf8"
)

// The reference's files, when piuparts-master is installed.
const (
	confDir = "/usr/share/piuparts/known_problems"
	python3 = "/usr/bin/python3"
	dwkePy  = "/usr/lib/python3/dist-packages/piupartslib/dwke.py"
)

// needPython skips the test, loudly, unless python3 is there.
func needPython(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(python3); err != nil {
		t.Skipf("SKIPPED: %s is missing, so Python's re cannot be compared: %v", python3, err)
	}
}

// needConfs skips the test, loudly, unless the shipped known problems are
// there (Debian's piuparts-master package).
func needConfs(t *testing.T) []*Problem {
	t.Helper()
	if _, err := os.Stat(confDir); err != nil {
		t.Skipf("SKIPPED: %s is missing (install piuparts-master): %v", confDir, err)
	}
	ps, errs := LoadDir(confDir)
	for _, err := range errs {
		t.Errorf("LoadDir: %v", err)
	}
	return ps
}

// runPython runs a Python script with a JSON value on stdin and decodes
// its JSON answer into out.
func runPython(t *testing.T, script string, in, out any) {
	t.Helper()
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), python3, "-c", script)
	cmd.Stdin = bytes.NewReader(data)
	cmd.Env = append(os.Environ(), "PYTHONUTF8=1", "LC_ALL=C.UTF-8", "PYTHONWARNINGS=ignore")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(got, out); err != nil {
		t.Fatalf("python3 answer: %v", err)
	}
}

// reScript answers, for each pattern, which lines it matches
// (search(line)) and which bodies it matches from position 8
// (search(body, 8)); a pattern Python refuses gets null.
const reScript = `
import json, re, sys
d = json.load(sys.stdin)
out = []
for p in d["patterns"]:
    try:
        r = re.compile(p)
    except re.error:
        out.append(None)
        continue
    out.append({
        "lines": [i for i, l in enumerate(d["lines"]) if r.search(l)],
        "bodies": [i for i, b in enumerate(d["bodies"]) if r.search(b, re.MULTILINE)],
    })
json.dump(out, sys.stdout)
`

// extraPatterns exercise the translation beyond what the shipped files
// use.
var extraPatterns = []string{
	`^E: `, `failed$`, `(?m)^dpkg`, `(?m)status 1$`, `\d+ upgraded`, `\w+: error`,
	`\s\s+`, `\S+\.conf`, `[\d.]+`, `[^\w ]`, `[\W]`, `[\Ws]x`, `x{,2}y`, `x{2,}`, `a{`,
	`(?i)warn`, `(?i:fail): x`, `(?s)a.b`, `\bok\b`, `\Bok`, `\Aabc`, `abc\Z`,
	`[]a]`, `[^]a]+`, `[a-]`, `[\]]`, `\x41\u00e9\101`, `\t`, `[\t\n ]`, `(?x) a b # c`,
	`(?a)\w+\d`, `(?P<x>err)or`, `(?#c)err`, `caf.`, `é+`, `[é-ü]`, `.*`, `x*`,
	`\.\*\+\?\(\)\[\]\{\}\|\^\$\\`, `[\[]`, `[[:alpha:]]`, `-{2,3}>`, `a|`, `(|b)c`,
	`\0`, `[\0-\x1f]`, `\s$`, `$`, `^`,
}

// samples writes random strings that re matches, for a corpus.
func sample(rng *rand.Rand, re *syntax.Regexp, b *strings.Builder, depth int) {
	if depth > 20 {
		return
	}
	randRune := func() rune {
		pool := []rune("abcxyz ABC019_:-./,'\"()\tÿéü€\u00a0\u2028\u0085\x1c\v\f中")
		return pool[rng.IntN(len(pool))]
	}
	count := func(min, max int) int {
		if max < 0 || max > min+3 {
			max = min + 3
		}
		return min + rng.IntN(max-min+1)
	}
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		if len(re.Rune) == 0 {
			return
		}
		i := 2 * rng.IntN(len(re.Rune)/2)
		lo, hi := re.Rune[i], re.Rune[i+1]
		if hi-lo > 1000 {
			hi = lo + 1000
		}
		r := lo + rune(rng.IntN(int(hi-lo)+1))
		if utf8.ValidRune(r) {
			b.WriteRune(r)
		}
	case syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		b.WriteRune(randRune())
	case syntax.OpCapture:
		sample(rng, re.Sub[0], b, depth+1)
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		min, max := 0, 1
		switch re.Op {
		case syntax.OpStar:
			max = -1
		case syntax.OpPlus:
			min, max = 1, -1
		case syntax.OpRepeat:
			min, max = re.Min, re.Max
		}
		for n := count(min, max); n > 0; n-- {
			sample(rng, re.Sub[0], b, depth+1)
		}
	case syntax.OpConcat:
		for _, s := range re.Sub {
			sample(rng, s, b, depth+1)
		}
	case syntax.OpAlternate:
		sample(rng, re.Sub[rng.IntN(len(re.Sub))], b, depth+1)
	}
}

// realLines are lines of real piuparts logs.
var realLines = []string{
	"Start time: 2024-01-13 05:18:37 UTC",
	"0m0.0s INFO: ------------------------------------------------------------------------------",
	"0m0.0s INFO: To quit early, press Ctrl-C",
	"0m0.0s DEBUG: Starting command: ['dpkg', '--print-architecture']",
	"0m0.9s DEBUG: Command ok: ['debootstrap', '--variant=minbase', 'bookworm', '/srv/piuparts/tmp/tmpabc']",
	"0m30.1s ERROR: Command failed (status=100): ['chroot', '/srv/piuparts/tmp/tmpabc', 'apt-get', '-y', 'install', 'foo']",
	"  E: Unable to correct problems, you have held broken packages.",
	"  E: Broken packages",
	"dpkg: error processing package foo (--configure):",
	" installed foo package post-installation script subprocess returned error exit status 1",
	" new foo package pre-installation script subprocess returned error exit status 1",
	"0m40.2s ERROR: FAIL: Package purging left files on system:",
	"  /etc/foo/bar.conf\t owned by: foo",
	"  /usr/local/share/foo\t not owned",
	"  /etc/alternatives/foo -> /usr/bin/foo.real\t not owned",
	"  /etc/foo\t owned by: foo, bar",
	"0m41.0s ERROR: WARN: Broken symlinks:",
	"  /usr/lib/foo/libx.so -> libx.so.1 (foo)",
	"0m50.0s ERROR: FAIL: Processes are running inside chroot:",
	"0m51.0s FAIL: debsums reports modifications inside the chroot:",
	"  /etc/foo.conf (from foo package)",
	"0m52.0s ERROR: FAIL: After purging files have been modified:",
	"0m53.0s ERROR: FAIL: Running adequate resulted in less interesting tags found:",
	"foo: broken-symlink /usr/share/doc/foo/x -> y",
	"0m60.0s WARN: Running adequate resulted in less interesting tags found: foo: obsolete-conffile /etc/x",
	"0m61.0s FAIL: Running adequate resulted in foo: undefined-symbol /usr/lib/x.so => sym",
	"sh: 1: update-menus: not found",
	"/var/lib/dpkg/info/foo.postinst: 12: which: command not found",
	"dbconfig-common: foo configure: noninteractive fail.",
	"Unable to connect to MySQL server",
	"Error! Bad return status for module build on kernel: 6.1.0-18-amd64 (x86_64)",
	"E: There are problems and -y was used without --force-yes",
	"Process KILLED - exceed maximum run time",
	"0m2.0s ERROR: Command failed (status=1): ['chroot', '/tmp/x', 'dpkg', '--purge', '--pending']",
	"0m2.0s ERROR: Command failed (status=1): ['chroot', '/tmp/x', '/etc/cron.daily/foo']",
	"0m2.0s ERROR: Command failed (status=1): ['chroot', '/tmp/x', 'logrotate', '/etc/logrotate.d/foo']",
	"dpkg: cycle found while processing triggers:",
	"trying to overwrite '/usr/bin/x', which is also in package bar 1.0",
	"insserv: exiting now!",
	"update-rc.d: warning: start and stop actions are no longer supported; falling back to defaults",
	"0m9.9s INFO: PASS: All tests.",
	"E: Couldn't configure pre-depend foo:amd64 for bar:amd64, probably a dependency cycle.",
	"SKIP: All tests. Package cannot be tested with piuparts: x",
	"piuparts exception for package foo",
	"FAIL: File(s) moved between /bin and /usr/bin:",
	"UNOWNED SYMLINK /usr/lib/x86_64-linux-gnu/libfoo.so.1",
	"OBSOLETE CONFFILE /etc/foo.conf foo",
	"FILE WITHOUT MD5SUM /usr/bin/foo",
	"", " ", "\t", "é", "ERROR: FAIL: Existing diversions",
}

// corpus returns lines (from the patterns, mutated, and real log lines)
// and bodies (lines joined, and short texts whose match starts before
// position 8).
func corpus(patterns []string) (lines, bodies []string) {
	rng := rand.New(rand.NewPCG(1, 2))
	lines = append(lines, realLines...)
	for _, p := range patterns {
		goSrc, err := translate(p)
		if err != nil {
			continue
		}
		re, err := syntax.Parse(goSrc, syntax.Perl)
		if err != nil {
			continue
		}
		for range 12 {
			var b strings.Builder
			sample(rng, re, &b, 0)
			s := b.String()
			lines = append(lines, s, "x"+s+" y", strings.ToUpper(s))
			if r := []rune(s); len(r) > 1 {
				i := rng.IntN(len(r))
				lines = append(lines, string(r[:i])+string(r[i+1:]), string(r[:i]))
			}
		}
	}
	// Lines may not hold line ends: a line of the log never does.
	for i, l := range lines {
		var b strings.Builder
		eachLine([]byte(l), func(part []byte) bool { b.Write(part); return true })
		lines[i] = b.String()
	}
	for i := 0; i < len(lines); i += 7 {
		bodies = append(bodies, strings.Join(lines[i:min(i+7, len(lines))], "\n")+"\n")
	}
	for _, l := range lines[:200] {
		bodies = append(bodies, l, l+"\n", "1234567"+l, "12345678"+l, "éé"+l)
	}
	bodies = append(bodies, "", "\n", "abc")
	return lines, bodies
}

// TestPatterns_Python compares every shipped PATTERN and EXCLUDE_PATTERN,
// and extraPatterns, with Python's re on a corpus: search on each line,
// and search from position 8 on each body.
func TestPatterns_Python(t *testing.T) {
	needPython(t)
	ps := needConfs(t)
	var patterns []string
	for _, p := range ps {
		patterns = append(patterns, p.Pattern)
		if p.ExcludePattern != "" {
			patterns = append(patterns, p.ExcludePattern)
		}
	}
	if len(ps) != 78 {
		t.Errorf("LoadDir(%s) = %d problems, want 78", confDir, len(ps))
	}
	patterns = append(patterns, extraPatterns...)
	lines, bodies := corpus(patterns)
	var want []*struct{ Lines, Bodies []int }
	runPython(t, reScript, map[string]any{"patterns": patterns, "lines": lines, "bodies": bodies}, &want)
	t.Logf("%d patterns, %d lines, %d bodies", len(patterns), len(lines), len(bodies))
	for i, src := range patterns {
		p, err := compilePattern(src)
		if want[i] == nil {
			if err == nil {
				t.Errorf("compilePattern(%q) = ok, Python refuses it", src)
			}
			continue
		}
		if err != nil {
			t.Errorf("compilePattern(%q): %v", src, err)
			continue
		}
		check := func(what string, texts []string, wantIdx []int, match func([]byte) bool) {
			in := map[int]bool{}
			for _, j := range wantIdx {
				in[j] = true
			}
			bad := 0
			for j, s := range texts {
				if got := match([]byte(s)); got != in[j] && bad < 5 {
					bad++
					t.Errorf("pattern %q (Go %q) on %s %q = %v, Python says %v", src, p.line, what, s, got, in[j])
				}
			}
		}
		check("line", lines, want[i].Lines, func(b []byte) bool { return p.mayMatch(b) && p.line.Match(b) })
		check("body from 8", bodies, want[i].Bodies, func(b []byte) bool { return p.mayMatch(b) && p.searchFrom8(b) })
	}
}

// TestDecode_Python compares Decode with Python's decoding of a file
// opened with errors='backslashreplace', and eachLine with splitlines.
func TestDecode_Python(t *testing.T) {
	needPython(t)
	rng := rand.New(rand.NewPCG(3, 4))
	var ins [][]byte
	for _, s := range []string{"a\r\nb\rc\n", "\xff\xfe", "\xe2\x82", "\xe2\x82\xac", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xc0\xaf", "\xf0\x9f\x98\x80\xf0\x9f", "a\x85b\u2028c\u2029d\x1c\x1d\x1e\v\f\r\r\n\n"} {
		ins = append(ins, []byte(s))
	}
	alphabet := []byte("a\r\n\v\x1c\xc2\x85\xe2\x80\xa8\xff\xed\xa0\xf0\x9f\x98\x80")
	for range 300 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		ins = append(ins, b)
	}
	// Bytes go as latin-1 code points, so that JSON carries them.
	var latin []string
	for _, b := range ins {
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		latin = append(latin, string(r))
	}
	const script = `
import io, json, sys
out = []
for s in json.load(sys.stdin):
    f = io.TextIOWrapper(io.BytesIO(s.encode("latin-1")), encoding="utf-8", errors="backslashreplace")
    body = f.read()
    out.append([body, body.splitlines()])
json.dump(out, sys.stdout)
`
	var want [][2]json.RawMessage
	runPython(t, script, latin, &want)
	for i, in := range ins {
		var wantBody string
		var wantLines []string
		json.Unmarshal(want[i][0], &wantBody)
		json.Unmarshal(want[i][1], &wantLines)
		got := Decode(in)
		if string(got) != wantBody {
			t.Errorf("Decode(%q) = %q, Python reads %q", in, got, wantBody)
		}
		var gotLines []string
		eachLine(got, func(l []byte) bool { gotLines = append(gotLines, string(l)); return true })
		if strings.Join(gotLines, "\x00") != strings.Join(wantLines, "\x00") || len(gotLines) != len(wantLines) {
			t.Errorf("lines of %q = %q, Python's splitlines %q", got, gotLines, wantLines)
		}
	}
}
