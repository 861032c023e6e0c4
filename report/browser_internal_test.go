package report

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowser renders the fixture site, serves it on 127.0.0.1 and drives
// Debian's headless chromium through it with chromedp: the front page, a
// section, a state page with its filter, an #anchor to a later page, a
// source page at phone width and the search box. It checks the text a
// person would see and saves a screenshot of each step; set
// REPORT_SCREENSHOTS to choose their directory.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED: browser test under -short")
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("SKIPPED: Debian's chromium is missing (apt-get install -y chromium); the pages were not checked in a browser")
	}

	// The site, as files, behind net/http.
	dir := t.TempDir()
	for p, data := range renderFixture(t, fixturePageSize) {
		f := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	base := "http://" + ln.Addr().String()

	shots := os.Getenv("REPORT_SCREENSHOTS")
	if shots == "" {
		shots, err = os.MkdirTemp("", "report-browser-")
		if err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)

	opts := append(slices.Clone(chromedp.DefaultExecAllocatorOptions[:]),
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The first run starts the browser, which lives as long as bctx: no
	// timeout on it, one per step instead.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	step := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		t.Cleanup(cancel)
		return ctx
	}

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.CaptureScreenshot()(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		})
	}
	// texts returns the visible text of the elements selector matches.
	texts := func(t *testing.T, ctx context.Context, selector string) []string {
		t.Helper()
		out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(`+jsString(selector)+
			`)).filter(e => e.offsetParent !== null).map(e => e.innerText.trim())`))
		if err != nil {
			t.Fatalf("texts of %s: %v", selector, err)
		}
		return out
	}
	eval := func(t *testing.T, ctx context.Context, expr string) string {
		t.Helper()
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluate %s: %v", expr, err)
		}
		return out
	}
	do := func(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	// waitFor evaluates expr until it is true, across navigations (which
	// chromedp.Poll does not survive).
	waitFor := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				if ok, err := chromedp.Evaluate[bool](expr)(ctx, tg); err == nil && ok {
					return nil
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("wait for %s: %w", expr, ctx.Err())
				case <-tick.C:
				}
			}
		})
	}

	t.Run("Front", func(t *testing.T) {
		ctx := step(t)
		do(t, ctx, chromedp.Navigate(base+"/"), shot("front"))
		title := eval(t, ctx, "document.title")
		rows := texts(t, ctx, "table.front tbody th")
		if title != "piuparts results" || len(rows) != 2 || !strings.HasPrefix(rows[0], "bookworm") || !strings.HasPrefix(rows[1], "trixie") {
			t.Errorf("front page: title %q, section rows %q", title, rows)
		}
	})

	t.Run("Section", func(t *testing.T) {
		ctx := step(t)
		do(t, ctx, chromedp.Navigate(base+"/bookworm/"), shot("section"))
		joined := strings.Join(texts(t, ctx, "table.states tbody tr"), "\n")
		for _, w := range []string{"successfully-tested", "failed-testing", "1 bugged, 1 affected, 1 failed", "Packages that passed but left owned files after purge: 1 passed"} {
			if !strings.Contains(joined, w) {
				t.Errorf("section index lacks %q; rows:\n%s", w, joined)
			}
		}
	})

	t.Run("StateFilter", func(t *testing.T) {
		ctx := step(t)
		do(t, ctx, chromedp.Navigate(base+"/bookworm/state-failed-testing.html"))
		before := texts(t, ctx, "#list > li")
		do(t, ctx, chromedp.SendKeys("#filter", "graphite"), shot("state-filter"))
		after := texts(t, ctx, "#list > li")
		count := eval(t, ctx, `document.getElementById("filter-count").textContent`)
		if len(before) != 3 || len(after) != 1 || !strings.HasPrefix(after[0], "libgraphite2-3 (1, 1)") || count != "1 of 3 shown" {
			t.Errorf("filter: before %q, after %q, count %q", before, after, count)
		}
	})

	t.Run("AnchorOnLaterPage", func(t *testing.T) {
		ctx := step(t)
		do(t, ctx, chromedp.Navigate(base+"/bookworm/state-successfully-tested.html#php8.2-common"),
			waitFor(`location.pathname.endsWith("-3.html") && document.getElementById("php8.2-common") !== null`), shot("anchor"))
		path := eval(t, ctx, `location.pathname + location.hash`)
		item := eval(t, ctx, `document.getElementById("php8.2-common").innerText`)
		if path != "/bookworm/state-successfully-tested-3.html#php8.2-common" || !strings.HasPrefix(item, "php8.2-common:all") {
			t.Errorf("redirect landed on %q showing %q", path, item)
		}
	})

	t.Run("SourcePhone", func(t *testing.T) {
		ctx := step(t)
		do(t, ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/bookworm/source/a/apache2.html"), shot("source-phone"))
		rows := texts(t, ctx, "table.binaries tbody tr")
		overflow := eval(t, ctx, `String(document.documentElement.scrollWidth > document.documentElement.clientWidth)`)
		do(t, ctx, chromedp.EmulateViewport(1280, 900))
		if len(rows) != 4 || !strings.Contains(rows[0], "failed-testing") || !strings.Contains(rows[0], "bug filed") || !strings.Contains(rows[3], "unknown package") {
			t.Errorf("source page rows: %q", rows)
		}
		if overflow != "false" {
			t.Errorf("source page at phone width scrolls sideways")
		}
	})

	t.Run("Search", func(t *testing.T) {
		ctx := step(t)
		do(t, ctx, chromedp.Navigate(base+"/search.html?q=apache2"), waitFor(`document.querySelectorAll("#results li").length > 0`), shot("search-url"))
		byURL := texts(t, ctx, "#results li")
		do(t, ctx, chromedp.Navigate(base+"/search.html"), chromedp.WaitVisible("#q"),
			waitFor(`document.getElementById("search-status").textContent.indexOf("Type") === 0`),
			chromedp.SendKeys("#q", "doko"), waitFor(`document.querySelectorAll("#results li").length > 0`), shot("search-typed"))
		typed := texts(t, ctx, "#results li")
		if !slices.Contains(byURL, "package apache2 is failed-testing, source apache2") || !slices.Contains(byURL, "source apache2: fail") {
			t.Errorf("search for apache2 shows %q", byURL)
		}
		if !slices.Contains(typed, "maintainer doko@debian.org") {
			t.Errorf("search for doko shows %q", typed)
		}
	})
}

// jsString quotes s for JavaScript.
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
