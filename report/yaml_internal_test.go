package report

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"piuparts-server/internal/debian"
)

// yamlScript dumps each list of the input with PyYAML as the reference
// does, and prints the texts as a JSON list.
const yamlScript = `
import json, sys, yaml
json.dump([yaml.dump(d, default_flow_style=False) for d in json.load(sys.stdin)], sys.stdout)
`

// pyYAML returns PyYAML's dump of each list (of strings, or of
// string-to-string dicts).
func pyYAML(t *testing.T, lists []any) []string {
	t.Helper()
	in, err := json.Marshal(lists)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	if err := json.Unmarshal(runReference(t, yamlScript, in, "yaml"), &out); err != nil {
		t.Fatal(err)
	}
	if len(out) != len(lists) {
		t.Fatalf("PyYAML answered %d lists of %d", len(out), len(lists))
	}
	return out
}

// ourYAMLStrings and ourYAMLMaps are the Go side of the comparisons.
func ourYAMLStrings(t *testing.T, l []string) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteYAMLStrings(&b, l); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func ourYAMLMaps(t *testing.T, l []YAMLMap) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteYAMLMaps(&b, l); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func yamlMapsJSON(l []YAMLMap) []map[string]string {
	out := make([]map[string]string, len(l))
	for i, m := range l {
		out[i] = map[string]string{}
		for _, kv := range m {
			out[i][kv[0]] = kv[1]
		}
	}
	return out
}

// compareYAML checks our dump of each list of strings, and of each as
// sources.yaml mappings, against PyYAML's.
func compareYAML(t *testing.T, name string, values []string) {
	t.Helper()
	maps := make([]YAMLMap, len(values))
	for i, v := range values {
		maps[i] = YAMLMap{{"source", v}, {"state", "pass"}, {"version", v}}
	}
	want := pyYAML(t, []any{values, yamlMapsJSON(maps)})
	if got := ourYAMLStrings(t, values); got != want[0] {
		t.Errorf("%s: list of strings differs from PyYAML at %s", name, firstDiffLine(got, want[0]))
	}
	if got := ourYAMLMaps(t, maps); got != want[1] {
		t.Errorf("%s: list of mappings differs from PyYAML at %s", name, firstDiffLine(got, want[1]))
	}
}

// firstDiffLine describes where two texts first differ.
func firstDiffLine(got, want string) string {
	g, w := strings.SplitAfter(got, "\n"), strings.SplitAfter(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			from, gto, wto := max(0, i-2), min(len(g), i+3), min(len(w), i+3)
			return "line " + strconv.Itoa(i+1) + "\n--- got\n" + strings.Join(g[min(from, len(g)):gto], "") +
				"--- want\n" + strings.Join(w[min(from, len(w)):wto], "")
		}
	}
	return "no difference"
}

func TestWriteYAML_Tricky(t *testing.T) {
	values := []string{
		"0ad", "1.0", "2:1.2-3", "1e5", "1.0e+5", "0.10", "010", "0o17", "0x1F", "0b101", "1_000", "+1", "-1",
		"1:20", "190:20:30", "1:2.5", ".5", ".inf", "-.Inf", ".NaN", "yes", "No", "ON", "off", "true", "False",
		"null", "Null", "~", "", " ", "y", "n", "<<", "=", "!", "&", "*", "2024-01-02", "2024-1-2 10:20:30",
		"2024-01-02T10:20:30.5Z", "2001-12-14 21:59:43.10 -5", "a: b", "a:b", "a #b", "a#b", "#a", "-", "-a",
		"- a", "?", "?a", "? a", ":", ":a", "a:", "---", "...", "--a", "'q'", "\"q\"", "it's", "[a]", "{a}",
		"a,b", "%a", "@a", "`a", "|a", ">a", "a b", " a", "a ", "a\nb", "a\n", "\na", "a\n\nb", "a \nb",
		"a\n b", "tab\tx", "nul\x00x", "bell\x07", "esc\x1b", "del\x7f", "nel\u0085", "nbsp\u00a0", "é",
		"ls\u2028x", "ps\u2029x", "bom\ufeffx", "emoji😀", "\\back", "1.0+dfsg-1~bpo12+1", "2:4.17.12+dfsg-0+deb12u1",
		"0.9.8-1", "1:2", "09", "08.5", "0123", "12e3", "12E+3", "1.2.3", "1-2", "Yes!", "nulls",
		strings.Repeat("word ", 30), strings.Repeat("x", 100), strings.Repeat("ab ", 40) + "end",
		strings.Repeat("é ", 50), strings.Repeat("'q' ", 30), strings.Repeat("a\"b ", 30), "  two  spaces  ",
		strings.Repeat("a", 77) + " b c", strings.Repeat("é", 100), strings.Repeat("a\n", 5), "a  \n  b",
	}
	compareYAML(t, "tricky", values)
	if got := ourYAMLStrings(t, nil); got != "[]\n" {
		t.Errorf("WriteYAMLStrings(nil) = %q, want \"[]\\n\"", got)
	}
	if got := ourYAMLMaps(t, nil); got != "[]\n" {
		t.Errorf("WriteYAMLMaps(nil) = %q, want \"[]\\n\"", got)
	}
}

// TestWriteYAML_Random compares random strings over an alphabet of the
// characters PyYAML treats specially.
func TestWriteYAML_Random(t *testing.T) {
	alphabet := []string{"a", "b", "1", "0", ".", "-", "+", ":", "#", " ", " ", " ", "'", "\"", "\n", "\t",
		"e", "é", "?", ",", "[", "~", "x", "_", "\\", "😀", "\u2028", "y", "n"}
	r := rand.New(rand.NewPCG(1, 2))
	values := make([]string, 3000)
	for i := range values {
		n := r.IntN(12)
		if i%10 == 0 {
			n = 60 + r.IntN(120) // long ones fold
		}
		var b strings.Builder
		for range n {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		values[i] = b.String()
	}
	compareYAML(t, "random", values)
}

// TestWriteYAML_BookwormSources feeds every source name and version of
// bookworm's Sources (from apt's lists) through PyYAML and ours.
func TestWriteYAML_BookwormSources(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP: slow (all of bookworm's Sources)")
	}
	files, _ := filepath.Glob("/var/lib/apt/lists/*_dists_bookworm_main_source_Sources*")
	if len(files) == 0 {
		t.Skip("SKIP: no bookworm Sources in /var/lib/apt/lists (add a deb-src entry and apt-get update)")
	}
	var data []byte
	var err error
	if strings.HasSuffix(files[0], ".lz4") {
		data, err = exec.Command("lz4", "-dc", files[0]).Output()
	} else {
		data, err = exec.Command("cat", files[0]).Output()
	}
	if err != nil {
		t.Skipf("SKIP: cannot read %s: %v", files[0], err)
	}
	srcs, err := debian.ReadSources(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatalf("ReadSources(%s): %v", files[0], err)
	}
	var names, versions []string
	for n, s := range srcs {
		names = append(names, n)
		versions = append(versions, s.Version)
	}
	sort.Strings(names)
	sort.Strings(versions)
	if len(names) < 30000 {
		t.Fatalf("only %d sources in %s", len(names), files[0])
	}
	t.Logf("%d sources from the Sources list of bookworm main", len(names))
	compareYAML(t, "names", names)
	compareYAML(t, "versions", versions)

	// And sources.yaml as the reference writes it, name with version.
	maps := make([]YAMLMap, len(names))
	for i, n := range names {
		maps[i] = YAMLMap{{"source", n}, {"state", []string{"pass", "fail", "unknown"}[i%3]}, {"version", srcs[n].Version}}
	}
	want := pyYAML(t, []any{yamlMapsJSON(maps)})
	if got := ourYAMLMaps(t, maps); got != want[0] {
		t.Errorf("sources.yaml differs from PyYAML at %s", firstDiffLine(got, want[0]))
	}
}
