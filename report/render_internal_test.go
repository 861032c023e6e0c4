package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"piuparts-server/master/state"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixturePageSize splits the fixture's longer lists into pages.
const fixturePageSize = 4

// goldenPages are the fixture's files compared with testdata/: one or
// more of each kind of page.
var goldenPages = []string{
	"index.html",
	"search.html",
	"slaves.html",
	"search.json",
	"history.svg",
	"bookworm/index.html",
	"bookworm/states.svg",
	"bookworm/index.json",
	"bookworm/state-successfully-tested.html",
	"bookworm/state-successfully-tested-2.html",
	"bookworm/state-failed-testing.html",
	"bookworm/state-dependency-failed-testing.html",
	"bookworm/state-waiting-for-dependency-to-be-tested.html",
	"bookworm/state-dependency-does-not-exist.html",
	"bookworm/state-unknown.html",
	"bookworm/pass.html",
	"bookworm/pass-2.html",
	"bookworm/bugged.html",
	"bookworm/reserved.html",
	"bookworm/source/a/apache2.html",
	"bookworm/source/g/glibc.html",
	"bookworm/source/m/mutt.html",
	"bookworm/maintainer/d/debian-apache@lists.debian.org.html",
	"bookworm/maintainer/d/doko@debian.org.html",
	"bookworm/dependency_error.html",
	"bookworm/owned_files_after_purge_issue.html",
}

func goldenName(path string) string {
	ext := filepath.Ext(path)
	return filepath.Join("testdata", strings.ReplaceAll(strings.TrimSuffix(path, ext), "/", "_")+".golden"+ext)
}

func TestRender_Golden(t *testing.T) {
	out := renderFixture(t, fixturePageSize)
	for _, path := range goldenPages {
		t.Run(strings.ReplaceAll(path, "/", "_"), func(t *testing.T) {
			got, ok := out[path]
			if !ok {
				t.Fatalf("%s was not rendered", path)
			}
			golden := goldenName(path)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./report -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s; got:\n%s", path, golden, got)
			}
		})
	}
}

func TestRender_Deterministic(t *testing.T) {
	a, b := renderFixture(t, fixturePageSize), renderFixture(t, fixturePageSize)
	if len(a) != len(b) {
		t.Fatalf("renders emitted %d and %d files", len(a), len(b))
	}
	for p, data := range a {
		if !bytes.Equal(data, b[p]) {
			t.Errorf("%s differs between two renders", p)
		}
	}
}

func TestRender_Paths(t *testing.T) {
	out := renderFixture(t, DefaultPageSize)
	var want []string
	for _, sec := range []string{"bookworm", "trixie"} {
		for _, st := range state.ActiveStates() {
			want = append(want, sec+"/state-"+st+".html")
		}
		for _, d := range logDirs {
			want = append(want, sec+"/"+string(d)+".html")
		}
		want = append(want, sec+"/index.html", sec+"/states.svg", sec+"/index.json",
			sec+"/source/g/gcc-12.html", sec+"/source/g/glibc.html",
			sec+"/maintainer/d/debian-glibc@lists.debian.org.html")
	}
	want = append(want, "bookworm/source/p/php8.2.html",
		"bookworm/maintainer/a/aurel32@debian.org.html", "bookworm/maintainer/o/ondrej@debian.org.html",
		"bookworm/maintainer/t/team+pkg-php@tracker.debian.org.html",
		"static/style.css", "static/site.js", "index.html", "search.html", "search.json", "slaves.html", "history.svg")
	for _, p := range want {
		if _, ok := out[p]; !ok {
			t.Errorf("%s was not rendered", p)
		}
	}
	for p := range out {
		switch {
		case strings.Contains(p, "debian-installer"):
			t.Errorf("%s: a source without binaries in Packages got a page", p)
		case strings.Contains(p, "/maintainer/") && strings.Contains(p, "Mutt"):
			t.Errorf("%s: an entry without an address got a page", p)
		case strings.Contains(p, "diversion_error"):
			t.Errorf("%s: a known problem without logs got a page", p)
		case strings.Contains(p, "-2.html"):
			t.Errorf("%s: a second page with DefaultPageSize", p)
		}
	}
}

// TestRender_Content checks what the reference shows where, on top of
// the golden files.
func TestRender_Content(t *testing.T) {
	out := renderFixture(t, fixturePageSize)
	tests := []struct {
		path string
		want []string
	}{
		{"bookworm/state-failed-testing.html", []string{
			`<li id="apache2"><a href="/bookworm/source/a/apache2.html">apache2</a> (1, 1) (Debian Apache Maintainers &lt;debian-apache@lists.debian.org&gt;)`,
			`dependency <a href="state-successfully-tested.html#apache2-bin">apache2-bin</a> is successfully-tested`,
			`alternative dependency perl-base is <em class="bad">does-not-exist</em>`,
		}},
		{"bookworm/state-waiting-for-dependency-to-be-tested.html", []string{
			`dependency mail-transport-agent is virtual`,
			`provider <a href="state-waiting-to-be-tested.html#exim4-daemon-light">exim4-daemon-light</a> is waiting-to-be-tested`,
		}},
		{"bookworm/state-successfully-tested.html", []string{`data-redirect="successfully-tested"`, `<a rel="next" href="state-successfully-tested-2.html">`}},
		{"bookworm/state-successfully-tested-2.html", []string{`<li id="libstdc__6">`}},
		{"bookworm/state-successfully-tested-3.html", []string{`php8.2-common</a>:all`}},
		{"bookworm/source/f/fonts-dejavu.html", []string{`fonts-dejavu-extra:all`, `2.37-2 [cruft]`, `https://tracker.debian.org/pkg/fonts-dejavu`}},
		{"bookworm/source/a/apache2.html", []string{`href="/bookworm/bugged/apache2_2.4.62-1~deb12u1.log"`, `bug filed`, `apache2-dev</th><td colspan="4">unknown package`}},
		{"bookworm/fail.html", []string{`The list has 1 packages.`, `<a href="fail/libgraphite2-3_1.3.14-1.log">1.3.14-1</a>`}},
		{"bookworm/index.html", []string{`<a href="dependency_error.html">`, `1 bugged, 1 affected, <strong class="needs-bugging">1 failed</strong>`, `: 1 passed`}},
		{"bookworm/maintainer/d/doko@debian.org.html", []string{`<a href="/trixie/maintainer/d/doko@debian.org.html">trixie</a>`}},
	}
	for _, tt := range tests {
		page := string(out[tt.path])
		for _, w := range tt.want {
			if !strings.Contains(page, w) {
				t.Errorf("%s lacks %q", tt.path, w)
			}
		}
	}
}

// TestRender_HTML parses every page of the fixture with html5lib's
// strict parser, and every SVG and JSON file with Go's parsers.
func TestRender_HTML(t *testing.T) {
	out := renderFixture(t, fixturePageSize)
	var paths []string
	for p := range out {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	dir := t.TempDir()
	var htmlFiles []string
	for _, p := range paths {
		switch filepath.Ext(p) {
		case ".html":
			f := filepath.Join(dir, strings.ReplaceAll(p, "/", "_"))
			if err := os.WriteFile(f, out[p], 0o644); err != nil {
				t.Fatal(err)
			}
			htmlFiles = append(htmlFiles, f)
		case ".svg":
			d := xml.NewDecoder(bytes.NewReader(out[p]))
			for {
				_, err := d.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Errorf("%s: %v", p, err)
					break
				}
			}
		case ".json":
			if !json.Valid(out[p]) {
				t.Errorf("%s is not valid JSON", p)
			}
		}
	}
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import html5lib").Run(); err != nil {
		t.Skipf("SKIPPED: html5lib is missing (apt-get install -y python3-html5lib): %v", err)
	}
	script := `
import sys, html5lib
bad = 0
for f in sys.argv[1:]:
    p = html5lib.HTMLParser(strict=True)
    try:
        with open(f, "rb") as fh:
            p.parse(fh)
    except Exception as e:
        bad += 1
        print("%s: %s %s" % (f, e, p.errors[:3]))
sys.exit(1 if bad else 0)
`
	cmd := exec.Command(py, append([]string{"-c", script}, htmlFiles...)...)
	msg, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("html5lib strict parse: %v\n%s", err, msg)
	}
	t.Logf("html5lib parsed %d pages", len(htmlFiles))
}

func TestEmailAddress(t *testing.T) {
	re := regexp.MustCompile(`^(.+)(<)(.+@.+)(>)`)
	tests := []string{
		"Debian Apache Maintainers <debian-apache@lists.debian.org>",
		"Mutt Maintainers", "<a@b>", "x <a@b>", "x <a@b> y", "x <@b>", "x <a@>", "x <a@b", "a <b> <c@d>",
		"a <b@c> <d>", "a <b@c> d>", "a <<b@c>>", "a <b@c>\nd <e@f>", "a\n<b@c>", "x<a@b>>", "x <@@>", "x <a@@>",
		"x <@a@>", "Ondřej Surý <ondrej@debian.org>", "", "<", "x <a@b>\n", "a <b@c<d@e>",
	}
	for _, in := range tests {
		want, wantOK := "", false
		if m := re.FindStringSubmatch(in); m != nil {
			want, wantOK = m[3], true
		}
		if got, ok := EmailAddress(in); got != want || ok != wantOK {
			t.Errorf("EmailAddress(%q) = %q, %v, want %q, %v", in, got, ok, want, wantOK)
		}
	}
}

// TestRenderSection_Empty renders a section that has nothing yet: no
// packages, no state result, no history, no config.
func TestRenderSection_Empty(t *testing.T) {
	out := memFS{}
	site := &Site{Now: fixtureNow}
	s := &Section{Name: "sid"}
	site.Sections = []*Section{s}
	if err := renderSection(site, s, out.emit, nil, nil); err != nil {
		t.Fatalf("renderSection: %v", err)
	}
	if err := RenderSite(site, out.emit); err != nil {
		t.Fatalf("RenderSite: %v", err)
	}
	for _, st := range state.ActiveStates() {
		if _, ok := out["sid/state-"+st+".html"]; !ok {
			t.Errorf("sid/state-%s.html was not rendered", st)
		}
	}
	if !bytes.Contains(out["sid/states.svg"], []byte("no history yet")) {
		t.Errorf("states.svg of an empty history:\n%s", out["sid/states.svg"])
	}
}

func TestJSONString(t *testing.T) {
	for _, in := range []string{"", "apache2", `a"b\c`, "tab\tnl\nret\r", "\x01\x1f", "<&>", "Ondřej Surý", "\u2028\u2029", "bad\xffutf8", "libstdc++6"} {
		var h hbuf
		h.jsonString(in)
		want, _ := json.Marshal(in)
		if string(h.b) != string(want) {
			t.Errorf("jsonString(%q) = %s, want %s", in, h.b, want)
		}
	}
}
