package known

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"piuparts-server/store"
)

// fakeLog returns a piuparts log of about size bytes: the usual start,
// DEBUG lines, the given lines in the middle, and the usual end.
func fakeLog(rng *rand.Rand, size int, middle ...string) string {
	var b strings.Builder
	b.WriteString("Start time: 2024-01-13 05:18:37 UTC\n\n")
	b.WriteString("0m0.0s INFO: ------------------------------------------------------------------------------\n")
	b.WriteString("0m0.0s INFO: To quit early, press Ctrl-C\n")
	i := 0
	for b.Len() < size/2 {
		fmt.Fprintf(&b, "0m%d.%ds DEBUG: Starting command: ['chroot', '/srv/piuparts/tmp/tmp%x', 'apt-get', 'install', '-y', 'pkg%d']\n", i, rng.IntN(10), rng.Uint32(), i)
		fmt.Fprintf(&b, "0m%d.%ds DUMP: \n  Reading package lists...\n  Building dependency tree...\n  Setting up libfoo%d (1.%d-1) ...\n", i, rng.IntN(10), i, i)
		i++
	}
	for _, m := range middle {
		b.WriteString(m + "\n")
	}
	for b.Len() < size {
		fmt.Fprintf(&b, "0m%d.%ds DEBUG: Command ok: ['dpkg', '--purge', 'pkg%d']\n", i, rng.IntN(10), i)
		i++
	}
	b.WriteString("0m99.9s INFO: PASS: All tests.\n0m99.9s INFO: piuparts run ends.\nEnd time: 2024-01-13 05:20:17 UTC\n")
	return b.String()
}

// fixtureLogs are the logs of the comparison: kind, package, version and
// the lines that make them interesting.
var fixtureLogs = []struct {
	kind         store.Kind
	pkg, version string
	middle       []string
}{
	{store.KindPass, "clean", "1.0-1", nil},
	{store.KindPass, "owned", "2:1.1", []string{"0m40.2s ERROR: FAIL: Package purging left files on system:", "  /etc/foo/bar.conf\t owned by: foo"}},
	{store.KindPass, "owned-local", "1", []string{"  /usr/local/share/foo\t owned by: foo"}},
	{store.KindPass, "skipped", "1", []string{"SKIP: All tests. Package cannot be tested with piuparts: x", "sh: 1: update-menus: not found"}},
	{store.KindFail, "broken", "1", []string{"  E: Unable to correct problems, you have held broken packages.", "0m30.1s ERROR: Command failed (status=100): ['chroot', '/x', 'apt-get', '-y', 'install', 'broken']"}},
	{store.KindFail, "purge", "1.2~rc1", []string{"0m40.2s ERROR: FAIL: Package purging left files on system:", "  /var/lib/purge\t not owned", "  /usr/local/lib/x\t not owned", "  /etc/alternatives/purge -> /usr/bin/p\t not owned"}},
	{store.KindFail, "symlinks", "1", []string{"0m41.0s ERROR: WARN: Broken symlinks:", "  /usr/lib/foo/libx.so -> libx.so.1 (symlinks)", "0m42.0s ERROR: FAIL: Broken symlinks:"}},
	{store.KindFail, "postinst", "1", []string{"dpkg: error processing package postinst (--configure):", " installed postinst package post-installation script subprocess returned error exit status 1"}},
	{store.KindFail, "nothing", "1", nil},
	{store.KindFail, "latin1", "1", []string{"caf\xe9 \xff\xfe E: Broken packages \xe2\x82", "dpkg: error processing package latin1\r\n pre-removal script returned error exit status 2"}},
	{store.KindFail, "crlf", "1", []string{"0m50.0s ERROR: FAIL: Processes are running inside chroot:\r", "  foo\r\n"}},
	{store.KindBugged, "bugged", "1", []string{"trying to overwrite '/usr/bin/x', which is also in package bar 1.0"}},
	{store.KindAffected, "affected", "1", []string{"E: Could not perform immediate configuration on 'x'"}},
	{store.KindAffected, "adequate", "1", []string{"0m61.0s FAIL: Running adequate resulted in foo: undefined-symbol /usr/lib/x.so => sym", "0m61.1s WARN: Running adequate resulted in less interesting tags found: foo: obsolete-conffile /etc/x"}},
	{store.KindUntestable, "untestable", "1", []string{"E: Broken packages"}},
}

// copyTree copies a directory tree, keeping modification times.
func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
		return os.Chtimes(dst, info.ModTime(), info.ModTime())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// kprFiles returns the .kpr files under root and their contents.
func kprFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	matches, _ := filepath.Glob(filepath.Join(root, "*", "*", "*.kpr"))
	for _, m := range matches {
		data, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, m)
		out[rel] = string(data)
	}
	return out
}

// dwkeScript runs the reference's dwke_get_failures steps in a section
// directory (piuparts-report's KPR_DIRS).
const dwkeScript = `
import json, os, sys
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from piupartslib.dwke import *
d = json.load(sys.stdin)
os.chdir(d["section"])
KPR_DIRS = ('pass', 'bugged', 'affected', 'fail')
problem_list = create_problem_list(d["confdir"])
problem_list = [p for p in problem_list if p.name not in d["exclude"]]
logdict = get_file_dict(KPR_DIRS, LOG_EXT)
kprdict = get_file_dict(KPR_DIRS, KPR_EXT)
del_cnt = clean_cache_files(logdict, kprdict)
kprdict = get_file_dict(KPR_DIRS, KPR_EXT)
add_cnt = make_kprs(logdict, kprdict, problem_list)
json.dump([del_cnt, add_cnt], sys.stdout)
`

// TestRefresh_Dwke runs dwke.py's clean_cache_files and make_kprs on a
// master directory and Refresh on a copy, and compares every .kpr file.
func TestRefresh_Dwke(t *testing.T) {
	needPython(t)
	ps := needConfs(t)
	if _, err := os.Stat(dwkePy); err != nil {
		t.Skipf("SKIPPED: %s is missing (install piuparts-master): %v", dwkePy, err)
	}
	for _, exclude := range [][]string{{}, {"dependency_error.conf", Unclassified}} {
		t.Run(fmt.Sprintf("Exclude%d", len(exclude)), func(t *testing.T) {
			ref, ours := t.TempDir(), t.TempDir()
			tree := store.NewLogTree(ref)
			if err := tree.EnsureSection("sid"); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(5, 6))
			old := time.Now().Add(-time.Hour)
			for i, l := range fixtureLogs {
				body := fakeLog(rng, 4096+rng.IntN(16384), l.middle...)
				if _, err := tree.WriteLog(t.Context(), "sid", l.kind, l.pkg, l.version, strings.NewReader(body), 0); err != nil {
					t.Fatal(err)
				}
				// Some .kpr files already there: fresh, stale, moved.
				switch {
				case i == 1:
					if err := tree.WriteKPR("sid", l.kind, l.pkg, l.version, []byte("pass/"+l.pkg+" fresh.conf\n")); err != nil {
						t.Fatal(err)
					}
				case i%4 == 2:
					if err := tree.WriteKPR("sid", l.kind, l.pkg, l.version, []byte("stale\n")); err != nil {
						t.Fatal(err)
					}
					p := filepath.Join(ref, "sid", string(l.kind), l.pkg+"_"+l.version+".kpr")
					os.Chtimes(p, old, old)
				case i%4 == 3:
					if l.kind != store.KindPass {
						if err := tree.WriteKPR("sid", store.KindPass, l.pkg, l.version, []byte("moved\n")); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			// The same version in pass and fail: the fail log counts.
			for _, k := range []store.Kind{store.KindPass, store.KindFail} {
				body := fakeLog(rng, 5000, "E: Broken packages", "  /etc/x\t owned by: twice")
				if _, err := tree.WriteLog(t.Context(), "sid", k, "twice", "1", strings.NewReader(body), 0); err != nil {
					t.Fatal(err)
				}
			}
			// Tiny logs: the match inside the first 8 characters.
			for _, s := range []string{"E: Broken packages\n", "", "x\nE: Broken packages", "1234567\nE: Broken packages"} {
				pkg := fmt.Sprintf("tiny%d", len(s))
				if _, err := tree.WriteLog(t.Context(), "sid", store.KindFail, pkg, "1", strings.NewReader(s), 0); err != nil {
					t.Fatal(err)
				}
			}
			copyTree(t, ref, ours)

			var counts [2]int
			runPython(t, dwkeScript, map[string]any{"section": filepath.Join(ref, "sid"), "confdir": confDir, "exclude": exclude}, &counts)
			removed, added, err := Refresh(store.NewLogTree(ours), "sid", store.KPRKinds(), Exclude(ps, exclude))
			if err != nil {
				t.Fatal(err)
			}
			if removed != counts[0] || added != counts[1] {
				t.Errorf("Refresh = %d removed, %d added; dwke.py %d, %d", removed, added, counts[0], counts[1])
			}
			want, got := kprFiles(t, ref), kprFiles(t, ours)
			if len(want) < len(fixtureLogs) {
				t.Fatalf("dwke.py wrote only %d .kpr files", len(want))
			}
			for name, w := range want {
				if g, ok := got[name]; !ok || g != w {
					t.Errorf("%s = %q (present %v), dwke.py wrote %q", name, g, ok, w)
				}
			}
			for name := range got {
				if _, ok := want[name]; !ok {
					t.Errorf("%s written, dwke.py has none", name)
				}
			}
			t.Logf("%d .kpr files agree; %d removed, %d added", len(want), removed, added)
			if testing.Verbose() {
				for n, w := range want {
					t.Logf("%s: %q", n, w)
				}
			}
		})
	}
}
