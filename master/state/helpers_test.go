package state_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"piuparts-server/internal/debian"
	"piuparts-server/master/state"
)

// readPackages parses a Packages file in file order (debian.ReadPackages
// returns a map, and the order matters).
func readPackages(t testing.TB, path string) []state.Package {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return parsePackages(t, f)
}

// parsePackages parses Packages data in order; t may be nil (examples),
// then it panics on errors.
func parsePackages(t testing.TB, r io.Reader) []state.Package {
	fail := func(err error) {
		if t == nil {
			panic(err)
		}
		t.Helper()
		t.Fatal(err)
	}
	var out []state.Package
	p := debian.NewParser(r)
	for {
		para, err := p.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			fail(err)
		}
		dp, err := debian.NewPackage(para)
		if err != nil {
			fail(err)
		}
		sp, err := state.NewPackage(dp)
		if err != nil {
			fail(err)
		}
		out = append(out, sp)
	}
}

// fullArchive decompresses bookworm main's Packages into dir, or skips.
func fullArchive(t testing.TB, dir string) string {
	t.Helper()
	m, _ := filepath.Glob("/var/lib/apt/lists/*bookworm_main_binary-amd64_Packages*")
	if len(m) == 0 {
		t.Skip("no bookworm main Packages list in /var/lib/apt/lists")
	}
	if _, err := exec.LookPath("lz4"); err != nil {
		t.Skip("lz4 command not found")
	}
	out := filepath.Join(dir, "bookworm.Packages")
	data, err := exec.Command("lz4", "-dc", m[0]).Output()
	if err != nil {
		t.Fatalf("lz4 -dc %s: %v", m[0], err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// logEntry is one log file to place in a section's directory.
type logEntry struct {
	Kind          state.Kind
	Name, Version string
}

// sectionSpec describes one section of a test master directory.
type sectionSpec struct {
	Name     string
	Packages []string // Packages files, loaded in order
	Final    []string // final distro Packages files, or nil
	Depends  []string
	Logs     []logEntry
}

// scenario is a master directory with sections and what to ask.
type scenario struct {
	Main     string
	Recycle  bool
	Sections []sectionSpec
	Queries  []string // extra names for get_package_state
	Debug    []string // names for _depends, _recursive-depends, _depcycle
	Counts   []string // names for the reverse-dependency counts
}

// oracleOut is what testdata/oracle.py prints.
type oracleOut struct {
	RecycleMode  bool                `json:"recycle_mode"`
	Status       [][2]any            `json:"status"`
	Lists        map[string][]string `json:"lists"`
	States       map[string]string   `json:"states"`
	TestVersions map[string]*string  `json:"test_versions"`
	Order        []string            `json:"order"`
	Debug        map[string]*struct {
		Depends   []string `json:"depends"`
		Recursive []string `json:"recursive"`
		Cycle     []string `json:"cycle"`
	} `json:"debug"`
	Candidates [][]any           `json:"candidates"`
	Counts     map[string][4]int `json:"counts"`
	Seconds    float64           `json:"seconds_compute"`
	SecondsC   float64           `json:"seconds_candidates"`
}

// writeMaster writes the log files of sc under master and returns the
// sections for Compute, their logs stat'ed for recycle times.
func writeMaster(t testing.TB, master string, sc scenario) *state.Section {
	t.Helper()
	specs := map[string]sectionSpec{}
	for _, s := range sc.Sections {
		specs[s.Name] = s
		for k := state.Pass; k <= state.Recycle; k++ {
			if err := os.MkdirAll(filepath.Join(master, s.Name, k.String()), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, l := range s.Logs {
			p := filepath.Join(master, s.Name, l.Kind.String(), l.Name+"_"+l.Version+".log")
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	built := map[string]*state.Section{}
	var build func(name string) *state.Section
	build = func(name string) *state.Section {
		if s, ok := built[name]; ok {
			return s
		}
		spec := specs[name]
		sec := &state.Section{Name: name}
		built[name] = sec
		for _, d := range spec.Depends {
			sec.Depends = append(sec.Depends, build(d))
		}
		for _, f := range spec.Packages {
			sec.Packages = append(sec.Packages, readPackages(t, f)...)
		}
		if spec.Final != nil {
			final := map[string]string{}
			for _, f := range spec.Final {
				for _, p := range readPackages(t, f) {
					if v, ok := final[p.Name]; !ok || debian.CompareVersions(p.Version, v) > 0 {
						final[p.Name] = p.Version
					}
				}
			}
			for i := range sec.Packages {
				if v, ok := final[sec.Packages[i].Name]; ok {
					sec.Packages[i].TestVersion = v
				} else {
					sec.Packages[i].TestVersion = "None"
				}
			}
		}
		for _, l := range spec.Logs {
			if l.Kind == state.Recycle {
				var st syscall.Stat_t
				p := filepath.Join(master, name, "recycle", l.Name+"_"+l.Version+".log")
				if err := syscall.Stat(p, &st); err != nil {
					t.Fatal(err)
				}
				sec.Logs.AddRecycle(l.Name, l.Version, time.Unix(st.Ctim.Sec, 0), time.Unix(st.Mtim.Sec, 0))
				continue
			}
			sec.Logs.Add(l.Kind, l.Name, l.Version)
		}
		return sec
	}
	root := build(sc.Main)
	root.Recycle = sc.Recycle
	return root
}

var errNoOracle = errors.New("no oracle")

// runOracle runs testdata/oracle.py on the master directory.
func runOracle(t testing.TB, master string, sc scenario, candidates bool) (*oracleOut, error) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		return nil, fmt.Errorf("%w: /usr/bin/python3 not found", errNoOracle)
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import piupartslib.packagesdb").Run(); err != nil {
		return nil, fmt.Errorf("%w: piupartslib not importable: %v", errNoOracle, err)
	}
	secs := map[string]any{}
	for _, s := range sc.Sections {
		secs[s.Name] = map[string]any{"packages": s.Packages, "final": s.Final, "depends": s.Depends}
	}
	cfg := map[string]any{
		"master": master, "main": sc.Main, "recycle": sc.Recycle, "sections": secs,
		"queries": sc.Queries, "debug": sc.Debug, "counts": sc.Counts, "candidates": candidates,
	}
	cfgPath := filepath.Join(t.TempDir(), "oracle.json")
	data, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgPath, data, 0o644); err != nil {
		return nil, err
	}
	script, _ := filepath.Abs("testdata/oracle.py")
	cmd := exec.Command("/usr/bin/python3", script, cfgPath)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("oracle: %v: %s", err, stderr.String())
	}
	var o oracleOut
	if err := json.Unmarshal(out, &o); err != nil {
		return nil, fmt.Errorf("oracle output: %v", err)
	}
	return &o, nil
}

// oracleOrSkip runs the oracle, skipping the test when it is absent.
func oracleOrSkip(t *testing.T, master string, sc scenario, candidates bool) *oracleOut {
	t.Helper()
	o, err := runOracle(t, master, sc, candidates)
	if errors.Is(err, errNoOracle) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// compare checks every answer of r against the oracle's and reports the
// disagreeing packages readably.
func compare(t *testing.T, r *state.Result, o *oracleOut) {
	t.Helper()
	if r.RecycleMode() != o.RecycleMode {
		t.Errorf("RecycleMode() = %v, oracle %v", r.RecycleMode(), o.RecycleMode)
	}
	if got := r.Names(); !slicesEqual(got, o.Order) {
		t.Errorf("Names() order differs from the oracle's (%d vs %d names)", len(got), len(o.Order))
	}
	var diffs []string
	for _, n := range sortedKeys(o.States) {
		if got := r.State(n); got != o.States[n] {
			diffs = append(diffs, fmt.Sprintf("  %-40s ours %-36s piupartslib %s", n, got, o.States[n]))
		}
	}
	if len(diffs) > 0 {
		max := min(len(diffs), 40)
		t.Errorf("%d of %d states disagree:\n%s", len(diffs), len(o.States), strings.Join(diffs[:max], "\n"))
	}
	for _, n := range sortedKeys(o.TestVersions) {
		got, ok := r.TestVersion(n)
		if want := o.TestVersions[n]; want == nil || !ok || got != *want {
			t.Errorf("TestVersion(%q) = %q, %v; oracle %v", n, got, ok, want)
		}
	}
	for _, s := range state.States() {
		got, ok := r.InState(s)
		if !ok {
			t.Errorf("InState(%q) not known", s)
		}
		if !slicesEqual(got, o.Lists[s]) {
			t.Errorf("InState(%q) = %d names, oracle %d: %s", s, len(got), len(o.Lists[s]), setDiff(got, o.Lists[s]))
		}
	}
	st := r.Status()
	if len(st) != len(o.Status) {
		t.Fatalf("Status() has %d states, oracle %d", len(st), len(o.Status))
	}
	for i, sc := range st {
		if sc.State != o.Status[i][0].(string) || float64(sc.Count) != o.Status[i][1].(float64) {
			t.Errorf("Status()[%d] = %v, oracle %v", i, sc, o.Status[i])
		}
	}
	for _, n := range sortedKeys(o.Debug) {
		want := o.Debug[n]
		deps, ok := r.Dependencies(n)
		if want == nil {
			if ok {
				t.Errorf("Dependencies(%q) found, oracle has no such package", n)
			}
			continue
		}
		if !ok || !slicesEqual(deps, want.Depends) {
			t.Errorf("Dependencies(%q) = %v, oracle %v", n, deps, want.Depends)
		}
		if got, _ := r.RecursiveDependencies(n); !slicesEqual(got, want.Recursive) {
			t.Errorf("RecursiveDependencies(%q) = %v, oracle %v", n, got, want.Recursive)
		}
		if got, _ := r.DependencyCycle(n); !slicesEqual(got, want.Cycle) {
			t.Errorf("DependencyCycle(%q) = %v, oracle %v", n, got, want.Cycle)
		}
	}
	for _, n := range sortedKeys(o.Counts) {
		c, ok := r.Counts(n)
		w := o.Counts[n]
		got := [4]int{c.Block, c.RRDeps, c.Waiting, c.ChainLen}
		if !ok {
			got = [4]int{-1, -1, -1, -1}
		}
		if got != w {
			t.Errorf("Counts(%q) = block,rrdep,waiting,chain %v, oracle %v", n, got, w)
		}
	}
	if o.Candidates != nil {
		compareCandidates(t, r, o)
	}
}

// compareCandidates checks the candidate set and weights against the
// oracle's, and that our order does not increase in weight.
func compareCandidates(t *testing.T, r *state.Result, o *oracleOut) {
	t.Helper()
	got := r.Candidates(rand.New(rand.NewPCG(1, 2)))
	want := map[string]state.Weight{}
	wantTV := map[string]string{}
	for _, c := range o.Candidates {
		w := c[2].([]any)
		wt := state.Weight{Chain: int(w[0].(float64)), Waiting: int(w[1].(float64))}
		if len(w) > 2 {
			wt.Problematic = w[2].(bool)
			wt.Ctime = w[3].(float64)
			wt.Mtime = w[4].(float64)
		}
		want[c[0].(string)] = wt
		wantTV[c[0].(string)] = c[1].(string)
	}
	if len(got) != len(want) {
		t.Errorf("Candidates() has %d packages, oracle %d", len(got), len(want))
	}
	for i, c := range got {
		w, ok := want[c.Name]
		if !ok {
			t.Errorf("candidate %q not a candidate of the oracle", c.Name)
			continue
		}
		if c.Weight != w || c.TestVersion != wantTV[c.Name] {
			t.Errorf("candidate %q %s weight %+v, oracle %s %+v", c.Name, c.TestVersion, c.Weight, wantTV[c.Name], w)
		}
		if i > 0 && got[i-1].Weight.Compare(c.Weight) < 0 {
			t.Errorf("candidate %d %q weight %+v above the previous one's %+v", i, c.Name, c.Weight, got[i-1].Weight)
		}
	}
	// The oracle's own order is by non-increasing weight too.
	for i := 1; i < len(o.Candidates); i++ {
		a, b := want[o.Candidates[i-1][0].(string)], want[o.Candidates[i][0].(string)]
		if a.Compare(b) < 0 {
			t.Errorf("oracle candidate order not by weight at %d", i)
		}
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func setDiff(got, want []string) string {
	g, w := map[string]bool{}, map[string]bool{}
	for _, x := range got {
		g[x] = true
	}
	for _, x := range want {
		w[x] = true
	}
	var only, missing []string
	for x := range g {
		if !w[x] {
			only = append(only, x)
		}
	}
	for x := range w {
		if !g[x] {
			missing = append(missing, x)
		}
	}
	sort.Strings(only)
	sort.Strings(missing)
	return fmt.Sprintf("only ours %v, only oracle %v", head(only), head(missing))
}

func head(s []string) []string {
	if len(s) > 20 {
		return s[:20]
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
