package debian_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"piuparts-server/internal/debian"
)

// readPackagesSequential is the reference ReadPackages: one paragraph at a
// time, merged as piupartslib's PackagesFile does (the higher version wins,
// the first of equal versions stays, names keep the place where they first
// appeared).
func readPackagesSequential(data []byte) (map[string]*debian.Package, error) {
	p := debian.NewParser(bytes.NewReader(data))
	pkgs := make(map[string]*debian.Package)
	for {
		para, err := p.Next()
		if err == io.EOF {
			return pkgs, nil
		}
		if err != nil {
			return nil, err
		}
		pkg, err := debian.NewPackage(para)
		if err != nil {
			return nil, err
		}
		old, ok := pkgs[pkg.Name]
		switch {
		case !ok:
			pkg.Order = len(pkgs)
		case debian.CompareVersions(pkg.Version, old.Version) > 0:
			pkg.Order = old.Order
		default:
			continue
		}
		pkgs[pkg.Name] = pkg
	}
}

// samePackages reports the first difference between two results.
func samePackages(got, want map[string]*debian.Package) error {
	if len(got) != len(want) {
		return fmt.Errorf("got %d packages, want %d", len(got), len(want))
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			return fmt.Errorf("%s missing", name)
		}
		if !reflect.DeepEqual(g, w) {
			return fmt.Errorf("%s = %+v, want %+v", name, g, w)
		}
	}
	return nil
}

// duplicatesInput is the main and security fixtures three times over, in
// both orders, so that names recur within blocks and across them, with
// lower, equal and higher versions.
func duplicatesInput(t *testing.T) []byte {
	main := readFixture(t, "Packages_bookworm_subset")
	sec := readFixture(t, "Packages_bookworm-security_subset")
	var b bytes.Buffer
	for _, part := range [][]byte{main, sec, main, sec, sec, main} {
		b.Write(part)
		b.WriteString("\n# between files\n\n")
	}
	return b.Bytes()
}

func TestReadPackages_ParallelMatchesSequential(t *testing.T) {
	inputs := map[string][]byte{
		"Main":       readFixture(t, "Packages_bookworm_subset"),
		"Duplicates": duplicatesInput(t),
		"CRLF":       bytes.ReplaceAll(readFixture(t, "Packages_bookworm-security_subset"), []byte("\n"), []byte("\r\n")),
		"Empty":      nil,
	}
	for name, data := range inputs {
		want, err := readPackagesSequential(data)
		if err != nil {
			t.Fatalf("%s: sequential: %v", name, err)
		}
		for _, block := range []int{1, 100, 1000, 10_000, 1 << 20} {
			for _, workers := range []int{1, 3} {
				t.Run(fmt.Sprintf("%s/Block%d/Workers%d", name, block, workers), func(t *testing.T) {
					// HalfReader makes short reads, as a network body does.
					got, err := debian.ReadPackagesBlock(t.Context(), iotest.HalfReader(bytes.NewReader(data)), block, workers)
					if err != nil {
						t.Fatal(err)
					}
					if err := samePackages(got, want); err != nil {
						t.Error(err)
					}
				})
			}
		}
	}
}

func TestReadPackages_Order(t *testing.T) {
	const in = "Package: b\nVersion: 1\n\nPackage: a\nVersion: 1\n\n" +
		"Package: b\nVersion: 2\n\nPackage: c\nVersion: 1\n\nPackage: a\nVersion: 0.9\n"
	for _, block := range []int{1, 1 << 20} {
		t.Run(fmt.Sprintf("Block%d", block), func(t *testing.T) {
			pkgs, err := debian.ReadPackagesBlock(t.Context(), strings.NewReader(in), block, 2)
			if err != nil {
				t.Fatal(err)
			}
			want := []struct {
				name, version string
				order, line   int
			}{{"b", "2", 0, 7}, {"a", "1", 1, 4}, {"c", "1", 2, 10}}
			for _, w := range want {
				p := pkgs[w.name]
				if p == nil || p.Version != w.version || p.Order != w.order || p.Fields.Line != w.line {
					t.Errorf("%s = %+v, want version %s, Order %d, line %d", w.name, p, w.version, w.order, w.line)
				}
			}
		})
	}
}

func TestReadPackages_Bookworm(t *testing.T) {
	if testing.Short() {
		t.Skip("parses all of bookworm main twice; skipped with -short")
	}
	data, err := os.ReadFile(bookwormPackages(t))
	if err != nil {
		t.Fatal(err)
	}
	want, err := readPackagesSequential(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := debian.ReadPackages(t.Context(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := samePackages(got, want); err != nil {
		t.Error(err)
	}
}

// manyStanzas returns n small stanzas of 3 lines each (2 fields and a
// blank line): stanza i starts at line 3*i+1.
func manyStanzas(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("Package: p%d\nVersion: 1.%d\n\n", i, i)
	}
	return s
}

func TestReadPackages_ErrorLine(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(s []string) // changes some of 500 stanzas
		wantLine int
		wantMsg  string
	}{
		{"LateSyntaxError", func(s []string) { s[470] = "Package: p470\nVersion 1\n\n" }, 3*470 + 2, "missing colon"},
		{"LateStanzaError", func(s []string) { s[480] = "Package: p480\n\n" }, 3*480 + 1, "no Version field"},
		{"FirstOfTwo", func(s []string) {
			s[200] = "Package: p200\n\n"
			s[400] = "Package: p400\nVersion 1\n\n"
		}, 3*200 + 1, "no Version field"},
		{"StanzaErrorBeforeSyntaxError", func(s []string) {
			s[300] = "Package: p300\n\n"
			s[301] = "Package: p301\n Version: 1\nVersion 1\n\n" // two lines more from here
		}, 3*300 + 1, "no Version field"},
		{"LastLineWithoutNewline", func(s []string) { s[499] = "Package: p499\nVersion: 1\nbad" }, 3*499 + 3, "missing colon"},
	}
	for _, tt := range tests {
		stanzas := manyStanzas(500)
		tt.edit(stanzas)
		in := strings.Join(stanzas, "")
		for _, block := range []int{1, 64, 1000, 1 << 20} {
			t.Run(fmt.Sprintf("%s/Block%d", tt.name, block), func(t *testing.T) {
				_, err := debian.ReadPackagesBlock(t.Context(), strings.NewReader(in), block, 4)
				var se *debian.SyntaxError
				if !errors.As(err, &se) || se.Line != tt.wantLine || !strings.Contains(se.Msg, tt.wantMsg) {
					t.Errorf("error = %v, want a *SyntaxError at line %d with %q", err, tt.wantLine, tt.wantMsg)
				}
			})
		}
	}
}

// TestReadPackages_ReadError checks that a reader's error comes back, and
// that a syntax error before it wins.
func TestReadPackages_ReadError(t *testing.T) {
	errBroken := errors.New("connection reset")
	good := strings.Join(manyStanzas(100), "")
	bad := strings.Join(manyStanzas(10), "") + "no colon\n\n" + strings.Join(manyStanzas(90), "")
	tests := []struct {
		name, in string
		want     func(error) bool
	}{
		{"ReadError", good, func(err error) bool { return errors.Is(err, errBroken) }},
		{"SyntaxErrorFirst", bad, func(err error) bool {
			var se *debian.SyntaxError
			return errors.As(err, &se) && se.Line == 31
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := io.MultiReader(strings.NewReader(tt.in), iotest.ErrReader(errBroken))
			_, err := debian.ReadPackagesBlock(t.Context(), r, 100, 2)
			if !tt.want(err) {
				t.Errorf("error = %v", err)
			}
		})
	}
}

// cancelReader cancels its context once it has given n bytes, and then goes
// on giving data.
type cancelReader struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

// TestReadPackages_Goroutines checks that ReadPackages has stopped its
// goroutines when it returns, whether it finished, met an error or was
// cancelled.
func TestReadPackages_Goroutines(t *testing.T) {
	in := strings.Join(manyStanzas(20_000), "")
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		in   func(cancel context.CancelFunc) io.Reader
		want func(error) bool
	}{
		{"Finished", func() (context.Context, context.CancelFunc) { return t.Context(), func() {} },
			func(context.CancelFunc) io.Reader { return strings.NewReader(in) },
			func(err error) bool { return err == nil }},
		{"EarlyError", func() (context.Context, context.CancelFunc) { return t.Context(), func() {} },
			func(context.CancelFunc) io.Reader { return strings.NewReader("bad\n\n" + in) },
			func(err error) bool { var se *debian.SyntaxError; return errors.As(err, &se) && se.Line == 1 }},
		{"Cancelled", func() (context.Context, context.CancelFunc) { return context.WithCancel(t.Context()) },
			func(cancel context.CancelFunc) io.Reader {
				return &cancelReader{r: strings.NewReader(in), n: len(in) / 3, cancel: cancel}
			},
			func(err error) bool { return errors.Is(err, context.Canceled) }},
		{"CancelledBefore", func() (context.Context, context.CancelFunc) { return cancelled, func() {} },
			func(context.CancelFunc) io.Reader { return strings.NewReader(in) },
			func(err error) bool { return errors.Is(err, context.Canceled) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			r := tt.in(cancel)
			_, err := debian.ReadPackagesBlock(ctx, r, 1000, 4)
			if !tt.want(err) {
				t.Errorf("error = %v", err)
			}
			// Look for the parser's own goroutines by their frames, not by
			// counting: other tests and the runtime start goroutines too.
			if stacks := parserGoroutines(); stacks != "" {
				t.Errorf("parser goroutines still running after ReadPackages returned:\n%s", stacks)
			}
		})
	}
}

// parserGoroutines returns the stacks of goroutines running the parallel
// parser's code, or "".
func parserGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "internal/debian.parseParallel") {
			found = append(found, g)
		}
	}
	return strings.Join(found, "\n\n")
}
