package debian_test

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"piuparts-server/internal/debian"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in      string
		want    debian.Version
		wantErr string
	}{
		{"1.0", debian.Version{Upstream: "1.0"}, ""},
		{"1.0-1", debian.Version{Upstream: "1.0", Revision: "1"}, ""},
		{"2:1.0-1+b1", debian.Version{Epoch: 2, Upstream: "1.0", Revision: "1+b1"}, ""},
		{"1:2.30-2-3", debian.Version{Epoch: 1, Upstream: "2.30-2", Revision: "3"}, ""},
		{"1:2:3-4", debian.Version{Epoch: 1, Upstream: "2:3", Revision: "4"}, ""},
		{"0:1..2~rc1", debian.Version{Upstream: "1..2~rc1"}, ""},
		{" 1.0-1 ", debian.Version{Upstream: "1.0", Revision: "1"}, ""},
		{"2147483647:1", debian.Version{Epoch: 2147483647, Upstream: "1"}, ""},
		{"", debian.Version{}, "version string is empty"},
		{"  ", debian.Version{}, "version string is empty"},
		{"1 0", debian.Version{}, "version string has embedded spaces"},
		{":1", debian.Version{}, "epoch in version is empty"},
		{"a:1", debian.Version{}, "epoch in version is not number"},
		{"-1:1", debian.Version{}, "epoch in version is not number"},
		{"2147483648:1", debian.Version{}, "epoch in version is too big"},
		{"1:", debian.Version{}, "nothing after colon in version number"},
		{"1.0-", debian.Version{}, "revision number is empty"},
		{"-1", debian.Version{}, "version number is empty"},
		{"a1.0", debian.Version{}, "version number does not start with digit"},
		{"1.0_1", debian.Version{}, "invalid character in version number"},
		{"1/../2", debian.Version{}, "invalid character in version number"},
		{"1.0-1=2", debian.Version{}, "invalid character in revision number"},
		{"1.0-a_b", debian.Version{}, "invalid character in revision number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := debian.ParseVersion(tt.in)
			if tt.wantErr != "" {
				var ve *debian.VersionError
				if !errors.As(err, &ve) || ve.Msg != tt.wantErr || !errors.Is(err, debian.ErrInvalidVersion) {
					t.Fatalf("ParseVersion(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseVersion(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
			}
			if again, err := debian.ParseVersion(got.String()); err != nil || again != got {
				t.Errorf("ParseVersion(%q.String() = %q) = %+v, %v", tt.in, got.String(), again, err)
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0},
		{"1.0", "1.00", 0},
		{"0:1.0", "1.0", 0},
		{"1.0-0", "1.0", 0},
		{"1.0~rc1", "1.0", -1},
		{"1.0~~", "1.0~", -1},
		{"1.0~", "1.0", -1},
		{"1.0", "1.0+b1", -1},
		{"1.0a", "1.0+", -1}, // letters before non-letters
		{"1.0", "1.0a", -1},
		{"1:0.1", "2.0", 1},
		{"1.2", "1.10", -1},
		{"9", "10", -1},
		{"1.0-1", "1.0-1.1", -1},
		{"1.0-2", "1.0-10", -1},
		{"2.36-9+deb12u7", "2.36-9+deb12u14", -1},
		{"99999999999999999999999", "100000000000000000000000", -1},
		{"1.000000000000000000000000000001", "1.1", 0},
		{"18.20.4+dfsg-1~deb12u2", "18.20.4+dfsg-1", -1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"_vs_"+tt.b, func(t *testing.T) {
			if got := debian.CompareVersions(tt.a, tt.b); got != tt.want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := debian.CompareVersions(tt.b, tt.a); got != -tt.want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

func TestValidPackageName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"libc6", true}, {"g++", true}, {"libstdc++6", true}, {"2048-qt", true}, {"a..b", true},
		{"", false}, {"a", false}, {"-ab", false}, {".ab", false}, {"..", false}, {".", false},
		{"Abc", false}, {"a_b", false}, {"a/b", false}, {"../etc", false}, {"ab\x00", false}, {"a b", false},
	}
	for _, tt := range tests {
		if got := debian.ValidPackageName(tt.in); got != tt.want {
			t.Errorf("ValidPackageName(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestValidVersion(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"1.0-1", true}, {"1:2.3~rc1-0+b1", true}, {"1..2", true},
		{"", false}, {".", false}, {"..", false}, {"../1", false}, {"1/2", false},
		{"1\x00", false}, {"1\n", false}, {" 1", false}, {"1 ", false}, {"1\x7f", false},
	}
	for _, tt := range tests {
		if got := debian.ValidVersion(tt.in); got != tt.want {
			t.Errorf("ValidVersion(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestPathSafe(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"foo_1.0-1.log", true}, {"1..2", true}, {"..a", true},
		{"", false}, {".", false}, {"..", false}, {"a/b", false}, {"/", false},
		{"a\x00b", false}, {"a\nb", false}, {"a\tb", false}, {"a\x7f", false},
	}
	for _, tt := range tests {
		if got := debian.PathSafe(tt.in); got != tt.want {
			t.Errorf("PathSafe(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// archiveVersions returns the real versions to draw pairs from: every
// Version, source version and relation version of bookworm main when that
// file is present, else testdata/versions.txt. byName maps a package name
// to the versions seen with it (its own and those other packages' relations
// ask for), which gives pairs that are close.
func archiveVersions(t *testing.T) (all []string, byName map[string][]string, from string) {
	t.Helper()
	byName = make(map[string][]string)
	set := make(map[string]bool)
	add := func(name, v string) {
		if !set[v] {
			set[v] = true
			all = append(all, v)
		}
		if name != "" && !slices.Contains(byName[name], v) {
			byName[name] = append(byName[name], v)
		}
	}
	matches, _ := bookwormGlob()
	if _, err := exec.LookPath("lz4"); len(matches) == 0 || err != nil {
		for _, v := range readLines(t, "testdata/versions.txt") {
			add("", v)
		}
		return all, byName, "testdata/versions.txt"
	}
	f, err := os.Open(bookwormPackages(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pkgs, err := debian.ReadPackages(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		add(p.Name, p.Version)
		add(p.Source, p.SourceVersion)
		for _, field := range []string{"Depends", "Pre-Depends", "Recommends", "Suggests", "Conflicts", "Breaks", "Replaces", "Provides"} {
			d, err := p.Relations(field)
			if err != nil {
				t.Fatal(err)
			}
			for _, alt := range d {
				for _, r := range alt {
					if r.Op != debian.OpNone {
						add(r.Name, r.Version)
					}
				}
			}
		}
	}
	slices.Sort(all)
	return all, byName, "bookworm main Packages"
}

// dpkgPairs returns how many version pairs TestCompareVersions_Dpkg checks:
// $DEBIAN_DPKG_PAIRS if set, else 1,000 with -short and 10,000 without.
func dpkgPairs(t *testing.T) int {
	if s := os.Getenv("DEBIAN_DPKG_PAIRS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("DEBIAN_DPKG_PAIRS=%q: want a positive number", s)
		}
		return n
	}
	if testing.Short() {
		return 1000
	}
	return 10000
}

// TestCompareVersions_Dpkg checks CompareVersions against dpkg itself on
// pairs of real archive versions: for every pair it asks
// `dpkg --compare-versions A OP B` with OP the relation our answer claims
// (lt, eq or gt), which dpkg confirms only if the answer is exactly right.
// The dpkg calls run in one shell loop per batch, batches in parallel.
// DEBIAN_DPKG_PAIRS=100000 runs the full check.
func TestCompareVersions_Dpkg(t *testing.T) {
	dpkg, err := exec.LookPath("dpkg")
	if err != nil {
		t.Skip("dpkg not found; it is the oracle for version comparison")
	}
	all, byName, from := archiveVersions(t)
	n := dpkgPairs(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var names []string
	for name, vs := range byName {
		if len(vs) > 1 {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	type pair struct{ a, b string }
	pairs := make([]pair, 0, n)
	for len(pairs) < n {
		var a, b string
		switch k := rng.IntN(10); {
		case k < 4 || len(names) == 0 && k < 7: // neighbours in sorted order share prefixes
			i := rng.IntN(len(all) - 4)
			a, b = all[i], all[i+1+rng.IntN(3)]
		case k < 7: // versions seen with one package: its own and what others ask for
			vs := byName[names[rng.IntN(len(names))]]
			a, b = vs[rng.IntN(len(vs))], vs[rng.IntN(len(vs))]
		case k < 8:
			a = all[rng.IntN(len(all))]
			b = a
		default:
			a, b = all[rng.IntN(len(all))], all[rng.IntN(len(all))]
		}
		if rng.IntN(2) == 0 {
			a, b = b, a
		}
		pairs = append(pairs, pair{a, b})
	}
	ops := map[int]string{-1: "lt", 0: "eq", 1: "gt"}
	workers := runtime.GOMAXPROCS(0)
	results := make([]string, len(pairs))
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	const script = `while read a op b; do "$0" --compare-versions "$a" "$op" "$b"; echo $?; done`
	for w := range workers {
		lo, hi := w*len(pairs)/workers, (w+1)*len(pairs)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			var in strings.Builder
			for _, p := range pairs[lo:hi] {
				fmt.Fprintf(&in, "%s %s %s\n", p.a, ops[debian.CompareVersions(p.a, p.b)], p.b)
			}
			cmd := exec.CommandContext(t.Context(), "sh", "-c", script, dpkg)
			cmd.Stdin = strings.NewReader(in.String())
			out, err := cmd.Output()
			if err != nil {
				errs <- fmt.Errorf("dpkg batch: %w", err)
				return
			}
			sc := bufio.NewScanner(strings.NewReader(string(out)))
			for i := lo; sc.Scan(); i++ {
				if i < hi {
					results[i] = sc.Text()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	bad := 0
	for i, p := range pairs {
		if results[i] != "0" {
			bad++
			if bad <= 20 {
				t.Errorf("CompareVersions(%q, %q) = %d, dpkg disagrees (exit %q)", p.a, p.b, debian.CompareVersions(p.a, p.b), results[i])
			}
		}
	}
	t.Logf("checked %d version pairs (from %d versions of %s) against dpkg: %d disagreements", len(pairs), len(all), from, bad)
}

func TestVersion_String(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0:1.0-1", "1.0-1"},
		{"1:1.0", "1:1.0"},
		{"0:0:1", "0:0:1"}, // the colon in the upstream version needs the epoch
		{"1.0-1-2", "1.0-1-2"},
	}
	for _, tt := range tests {
		v, err := debian.ParseVersion(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.String(); got != tt.want {
			t.Errorf("ParseVersion(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}
