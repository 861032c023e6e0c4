package testutil

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ulikunitz/xz"
)

// Paths of Debian's piuparts-report, the report's oracle (package
// piuparts-master).
const (
	DebianPython = "/usr/bin/python3"
	DebianReport = "/usr/share/piuparts/piuparts-report"
	DebianHTDocs = "/usr/share/piuparts/htdocs"
	// DebianKnownProblems is the known-problem directory of piuparts-common.
	DebianKnownProblems = "/usr/share/piuparts/known_problems"
)

// DefaultReportTimeout bounds one run of Debian's piuparts-report when
// [ReportOptions.Timeout] is zero: a few seconds on the fixtures, about a
// minute on all of bookworm main.
const DefaultReportTimeout = 10 * time.Minute

// DefaultWebHost is the web-host of the configs [RunDebianReport] writes
// (summary.json's URLs); the same value must go to our report.
const DefaultWebHost = "piuparts.example.org"

// ReportSection is one section of the piuparts.conf [RunDebianReport]
// writes. Packages and Sources, paths of plain (uncompressed) index files,
// are put into a file:// mirror under dists/DISTRO/AREA/, compressed with
// xz as piupartslib needs; with Mirror set (a file:// URL or a directory
// already holding dists/DISTRO/AREA/{binary-ARCH/Packages.xz,source/Sources.xz})
// they are not used.
type ReportSection struct {
	Name            string
	Distro          string // default "bookworm"
	Area            string // default "main"
	Arch            string // default "amd64"
	DependsSections []string
	Description     string // a leading or trailing "+" extends the default
	JSONSections    string // "" leaves the key out (piuparts' "default")
	Precedence      string // "" leaves the key out
	MaxReserved     int    // 0 writes 50 (piuparts-report skips a section whose max-reserved is 0)
	Packages        string
	Sources         string
	Mirror          string
}

// ReportOptions describe one run of Debian's piuparts-report.
type ReportOptions struct {
	Sections []ReportSection
	// MasterDir is the master directory (holding SECTION/...). The run
	// changes it: it writes .kpr files, moves logs to SECTION/archive/ and
	// appends to counts.txt. Required.
	MasterDir string
	// OutDir is the output-directory; "" makes a temporary one. The tpl
	// files are copied into it when they are missing.
	OutDir string
	// Args are the command line's section names; nil processes all.
	Args            []string
	DocRoot         string // doc-root; "" writes "/"
	WebHost         string // default DefaultWebHost
	KnownProblemDir string // default DebianKnownProblems
	// DistrosConf is the content of /etc/piuparts/distros.conf during the
	// run; "" is an empty file (every distro is its own candidate).
	DistrosConf string
	Timeout     time.Duration // default DefaultReportTimeout
	// Prefix are words run before python3 in the namespace, such as
	// "/usr/bin/time", "-v" (its report goes to ReportStats.Log).
	Prefix []string
	// Stats, when not nil, receives the run's cost and output.
	Stats *ReportStats
}

// ReportStats is what one run of Debian's piuparts-report cost.
type ReportStats struct {
	Wall   time.Duration
	MaxRSS int64  // peak resident set size, KiB
	Log    string // its stderr (logging at DEBUG level)
	Config string // the piuparts.conf it read
}

// NeedDebianReport skips the test, loudly, unless Debian's piuparts-report
// can run here in its own mount namespace: it needs root, unshare(1), the
// piuparts-master package and the /etc/piuparts/piuparts.conf and
// distros.conf to mount over (make test-deps installs them).
func NeedDebianReport(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED, NOTHING COMPARED: Debian's piuparts-report needs root (a private mount " +
			"namespace with its config bind-mounted over /etc/piuparts/piuparts.conf); run the tests as root")
	}
	for _, p := range []string{DebianPython, DebianReport, DebianHTDocs, DebianKnownProblems,
		"/etc/piuparts/piuparts.conf", "/etc/piuparts/distros.conf"} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("SKIPPED, NOTHING COMPARED: Debian's piuparts-report is not installed (%v); "+
				"install the piuparts-master package (make test-deps) to run this oracle test", err)
		}
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skipf("SKIPPED, NOTHING COMPARED: no unshare(1) (util-linux) to run Debian's piuparts-report: %v", err)
	}
}

// RunDebianReport runs Debian's piuparts-report once, as
// `/usr/bin/python3 /usr/share/piuparts/piuparts-report [SECTION...]` in a
// private mount namespace where a piuparts.conf written from opts and a
// distros.conf are bind-mounted over those of /etc/piuparts, and returns
// the output directory. It skips the test as [NeedDebianReport] does and
// fails it when the run exits non-zero or outlasts its timeout (with the
// end of its log). The mirror, configs and a temporary output directory
// live under t.TempDir().
func RunDebianReport(t testing.TB, opts ReportOptions) string {
	t.Helper()
	NeedDebianReport(t)
	if opts.MasterDir == "" || len(opts.Sections) == 0 {
		t.Fatal("RunDebianReport: MasterDir and Sections are required")
	}
	root := t.TempDir()
	out := opts.OutDir
	if out == "" {
		out = filepath.Join(root, "out")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	// Why: a missing OUT/*.tpl makes piuparts-report exit 1 after all the
	// sections are done.
	for _, page := range []string{"index", "news", "bug_howto"} {
		dst := filepath.Join(out, page+".tpl")
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		copyFile(t, filepath.Join(DebianHTDocs, page+".tpl"), dst)
	}
	conf := WriteReportConfig(t, root, opts, out)
	etc := filepath.Join(root, "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	distros := filepath.Join(etc, "distros.conf")
	putFile(t, distros, []byte(opts.DistrosConf))

	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultReportTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// Why: the config paths are constants in the Python code; only this
	// process's namespace sees the mounts, and they go with it.
	script := `set -e
mount --bind "$1" /etc/piuparts/piuparts.conf
mount --bind "$2" /etc/piuparts/distros.conf
shift 2
exec "$@"`
	argv := []string{"--mount", "--propagation", "private", "/bin/sh", "-c", script, "sh", conf, distros}
	argv = append(append(append(argv, opts.Prefix...), DebianPython, DebianReport), opts.Args...)
	cmd := exec.CommandContext(ctx, "unshare", argv...)
	cmd.Dir = root
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + root, "LC_ALL=C.UTF-8", "TZ=UTC"}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	// Why: a timeout must end the Python process too, not only sh.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if opts.Stats != nil {
		*opts.Stats = ReportStats{Wall: wall, Log: stderr.String(), Config: readString(conf)}
		if cmd.ProcessState != nil {
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				opts.Stats.MaxRSS = ru.Maxrss
			}
		}
	}
	if ctx.Err() != nil {
		t.Fatalf("Debian's piuparts-report did not finish within %v\nconfig:\n%s\nlog:\n%s", timeout, readString(conf), tail(stderr.String(), 4000))
	}
	if err != nil {
		t.Fatalf("Debian's piuparts-report: %v\nconfig:\n%s\nlog:\n%s", err, readString(conf), tail(stderr.String(), 4000))
	}
	return out
}

// WriteReportConfig writes the INI piuparts.conf of opts for the output
// directory out into dir and returns its path. Sections without a Mirror
// get one under dir/mirror built by [WriteMirror].
func WriteReportConfig(t testing.TB, dir string, opts ReportOptions, out string) string {
	t.Helper()
	kp := opts.KnownProblemDir
	if kp == "" {
		kp = DebianKnownProblems
	}
	web := opts.WebHost
	if web == "" {
		web = DefaultWebHost
	}
	doc := opts.DocRoot
	if doc == "" {
		doc = "/"
	}
	names := make([]string, len(opts.Sections))
	for i, s := range opts.Sections {
		names[i] = s.Name
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[global]\nsections = %s\nmaster-directory = %s\noutput-directory = %s\ndoc-root = %s\n"+
		"web-host = %s\nknown-problem-directory = %s\n",
		strings.Join(names, " "), opts.MasterDir, out, doc, web, kp)
	sections := WriteMirror(t, filepath.Join(dir, "mirror"), opts.Sections)
	for _, s := range sections {
		s = s.withDefaults()
		mirror := s.Mirror
		if !strings.Contains(mirror, "://") {
			mirror = "file://" + mirror
		}
		fmt.Fprintf(&b, "\n[%s]\nmirror = %s\ndistro = %s\narea = %s\narch = %s\nmax-reserved = %d\n",
			s.Name, mirror, s.Distro, s.Area, s.Arch, s.MaxReserved)
		if len(s.DependsSections) > 0 {
			fmt.Fprintf(&b, "depends-sections = %s\n", strings.Join(s.DependsSections, " "))
		}
		if s.Description != "" {
			fmt.Fprintf(&b, "description = %s\n", s.Description)
		}
		if s.JSONSections != "" {
			fmt.Fprintf(&b, "json-sections = %s\n", s.JSONSections)
		}
		if s.Precedence != "" {
			fmt.Fprintf(&b, "precedence = %s\n", s.Precedence)
		}
	}
	p := filepath.Join(dir, "piuparts.conf")
	putFile(t, p, []byte(b.String()))
	return p
}

// WriteMirror writes the Packages and Sources files of the sections
// without a Mirror into a file:// mirror at dir (xz-compressed, as
// piupartslib reads a file:// mirror) and returns the sections with Mirror
// set to dir, so that several runs can share one mirror. It fails the test
// when such a section lacks a file or two sections put different files at
// one path.
func WriteMirror(t testing.TB, dir string, sections []ReportSection) []ReportSection {
	t.Helper()
	out := slices.Clone(sections)
	built := map[string]string{} // mirror path → source file
	for i, s := range out {
		if s.Mirror != "" {
			continue
		}
		s = s.withDefaults()
		for _, f := range []struct{ src, rel string }{
			{s.Packages, filepath.Join("dists", s.Distro, s.Area, "binary-"+s.Arch, "Packages.xz")},
			{s.Sources, filepath.Join("dists", s.Distro, s.Area, "source", "Sources.xz")},
		} {
			if f.src == "" {
				t.Fatalf("WriteMirror: section %s: no Mirror, so Packages and Sources are required", s.Name)
			}
			if prev, ok := built[f.rel]; ok {
				if prev != f.src {
					t.Fatalf("WriteMirror: section %s: mirror/%s is already %s, not %s", s.Name, f.rel, prev, f.src)
				}
				continue
			}
			built[f.rel] = f.src
			WriteXZ(t, filepath.Join(dir, f.rel), f.src)
		}
		out[i].Mirror = dir
	}
	return out
}

func (s ReportSection) withDefaults() ReportSection {
	if s.Distro == "" {
		s.Distro = "bookworm"
	}
	if s.Area == "" {
		s.Area = "main"
	}
	if s.Arch == "" {
		s.Arch = "amd64"
	}
	if s.MaxReserved == 0 {
		s.MaxReserved = 50
	}
	return s
}

// WriteXZ compresses the file src into dst (creating its directory), with
// the xz command when there is one (fast on the whole archive), else in
// Go. It fails the test on an error.
func WriteXZ(t testing.TB, dst, src string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if xzBin, err := exec.LookPath("xz"); err == nil {
		cmd := exec.Command(xzBin, "-T2", "-1", "-c")
		var stderr bytes.Buffer
		cmd.Stdin, cmd.Stdout, cmd.Stderr = in, f, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("xz %s: %v\n%s", src, err, stderr.String())
		}
	} else {
		w, err := xz.NewWriter(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, in); err != nil {
			t.Fatalf("xz %s: %v", src, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	putFile(t, dst, data)
}

func putFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func readString(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// CopyTree copies the directory tree src to dst (which must not exist yet):
// regular files by content with their modification times, directories and
// symbolic links; for running two reports on copies of one master
// directory. It fails the test on an error.
func CopyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&os.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, target)
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(target, data, info.Mode().Perm()); err != nil {
				return err
			}
			return os.Chtimes(target, info.ModTime(), info.ModTime())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("copy %s to %s: %v", src, dst, err)
	}
}

// itoa is strconv.Itoa, short for the builders.
func itoa(n int) string { return strconv.Itoa(n) }

// FixtureReportSections are the report sections of the committed
// fixtures: bookworm, and bookworm-security depending on it (its own
// json-sections), each with its real Packages and Sources subset. Both
// set precedence: the reference raises TypeError when only some do.
func FixtureReportSections(t testing.TB) []ReportSection {
	t.Helper()
	return []ReportSection{
		{Name: "bookworm", Description: "+ (fixture)", Precedence: "1",
			Packages: Fixture(t, "Packages_bookworm_closure"),
			Sources:  Fixture(t, "Sources_bookworm_closure")},
		{Name: "bookworm-security", Distro: "bookworm-security", DependsSections: []string{"bookworm"},
			JSONSections: "stable-security", Precedence: "2",
			Packages: Fixture(t, "Packages_bookworm-security_for_closure"),
			Sources:  Fixture(t, "Sources_bookworm-security_for_closure")},
	}
}
