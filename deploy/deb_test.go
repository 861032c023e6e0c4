package deploy_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"piuparts-server/internal/config"
)

// cacheDir keeps the bookworm base chroots as tarballs, one a day, so
// that a second run takes seconds instead of a debootstrap.
const cacheDir = "/var/cache/piuparts-server-test"

// baseFormat changes when the way the base is made changes, so that an
// older cached base is not used.
const baseFormat = "2: / is 0755"

// chrootEnv is the environment of every command run in the chroot.
var chrootEnv = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "DEBIAN_FRONTEND=noninteractive", "HOME=/root"}

// TestDeb_InstallRemovePurge builds the package with `make deb`, runs
// lintian on it, and installs it in a fresh bookworm chroot (debootstrap
// --variant=minbase), where it checks what an admin would: the programs
// run and know the package's version, the users, the directories and
// their owners, the shipped configuration, the units; then that remove
// keeps the conffiles and purge leaves nothing behind but the users.
func TestDeb_InstallRemovePurge(t *testing.T) {
	needPackaging(t)
	start := time.Now()
	deb := buildDeb(t)
	version := debField(t, deb, "Version")
	t.Logf("built %s (%s) in %s", filepath.Base(deb), version, time.Since(start).Round(time.Second))
	t.Run("Lintian", func(t *testing.T) { lintian(t, deb) })
	t.Run("NoFileOfDebians", func(t *testing.T) { noCommonFiles(t, deb) })

	root := baseChroot(t, dependsOf(t, deb))
	defer checkNoMounts(t, root)
	if err := copyFile(deb, filepath.Join(root, "tmp", "piuparts-server.deb")); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)

	// Installed twice: the second run of postinst finds everything made.
	for range 2 {
		inChroot(t, root, "dpkg", "-i", "/tmp/piuparts-server.deb")
	}
	bins := packageBinaries(t, root)
	if want := []string{"/usr/bin/piuparts-master", "/usr/bin/piuparts-portserver", "/usr/bin/piuparts-report", "/usr/bin/piuparts-slave"}; !containsAll(bins, want) {
		t.Errorf("package's programs = %q, want at least %q", bins, want)
	}
	if containsAll(bins, []string{"/usr/bin/piuparts-scenario"}) {
		t.Errorf("the package ships piuparts-scenario, which runs from a checkout")
	}
	t.Run("Programs", func(t *testing.T) {
		for _, b := range bins {
			if out := inChroot(t, root, b, "--version"); !strings.Contains(out, version) {
				t.Errorf("%s --version = %q, want the package version %q", b, out, version)
			}
			inChroot(t, root, b, "--help")
		}
	})
	t.Run("Users", func(t *testing.T) {
		for _, u := range []string{"piupartsm", "piupartss"} {
			pw := strings.Split(strings.TrimSpace(inChroot(t, root, "getent", "passwd", u)), ":")
			grp := strings.Split(strings.TrimSpace(inChroot(t, root, "getent", "group", "piuparts")), ":")
			if len(pw) != 7 || len(grp) < 3 {
				t.Fatalf("getent passwd %s = %q, group piuparts = %q", u, pw, grp)
			}
			if home := "/var/lib/piuparts/" + u; pw[5] != home || pw[6] != "/bin/sh" || pw[3] != grp[2] {
				t.Errorf("passwd %s: home %q shell %q gid %s, want %s, /bin/sh, piuparts' gid %s", u, pw[5], pw[6], pw[3], home, grp[2])
			}
			// "*", not "!": OpenSSH's sshd without PAM refuses locked accounts.
			if sh := strings.Split(inChroot(t, root, "getent", "shadow", u), ":"); len(sh) < 2 || sh[1] != "*" {
				t.Errorf("shadow %s: password field %q, want \"*\"", u, sh)
			}
		}
	})
	t.Run("Directories", func(t *testing.T) {
		for _, d := range []struct{ path, owner, mode string }{
			{"/var/lib/piuparts/master", "piupartsm:piuparts", "755"},
			{"/var/lib/piuparts/backup", "piupartsm:piuparts", "755"},
			{"/var/lib/piuparts/htdocs", "piupartsm:piuparts", "755"},
			{"/var/lib/piuparts/piupartsm/.ssh", "piupartsm:piuparts", "700"},
			{"/var/lib/piuparts/slave", "piupartss:piuparts", "755"},
			{"/var/cache/piuparts/basetgz", "piupartss:piuparts", "755"},
			{"/var/cache/piuparts/tmp", "piupartss:piuparts", "755"},
			{"/var/lib/piuparts/piupartss/.ssh", "piupartss:piuparts", "700"},
		} {
			got := strings.TrimSpace(inChroot(t, root, "stat", "-c", "%F %U:%G %a", d.path))
			if want := "directory " + d.owner + " " + d.mode; got != want {
				t.Errorf("%s: %s, want %s", d.path, got, want)
			}
		}
	})
	t.Run("ConfigCheck", func(t *testing.T) {
		inChroot(t, root, "piuparts-master", "-c", "/etc/piuparts/piuparts.toml", "config", "check")
		// The directories the shipped config names are the ones postinst made.
		text, err := os.ReadFile(filepath.Join(root, "etc/piuparts/piuparts.toml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, dir := range []string{`master-directory = "/var/lib/piuparts/master"`, `slave-directory = "/var/lib/piuparts/slave"`,
			`output-directory = "/var/lib/piuparts/htdocs"`, `basetgz-directory = "/var/cache/piuparts/basetgz"`, `tmpdir = "/var/cache/piuparts/tmp"`} {
			if !strings.Contains(string(text), "\n"+dir+"\n") {
				t.Errorf("/etc/piuparts/piuparts.toml lacks %s", dir)
			}
		}
	})
	t.Run("Units", func(t *testing.T) { verifyUnits(t, root) })
	t.Run("Sudoers", func(t *testing.T) {
		if _, err := exec.LookPath("visudo"); err != nil {
			t.Skip("################ no visudo on this machine (sudo): the sudoers example is not checked")
		}
		run(t, "visudo", "-c", "-f", filepath.Join(root, "usr/share/doc/piuparts-server/examples/piuparts-slave.sudoers"))
	})

	inChroot(t, root, "dpkg", "-r", "piuparts-server")
	if st := inChroot(t, root, "dpkg-query", "-W", "-f=${Status}", "piuparts-server"); st != "deinstall ok config-files" {
		t.Errorf("after dpkg -r: status %q, want deinstall ok config-files", st)
	}
	for _, c := range strings.Fields(readDeb(t, deb, "conffiles")) {
		if _, err := os.Stat(filepath.Join(root, c)); err != nil {
			t.Errorf("after dpkg -r, conffile %s is gone: %v", c, err)
		}
	}
	for _, b := range bins {
		if _, err := os.Lstat(filepath.Join(root, b)); err == nil {
			t.Errorf("after dpkg -r, %s is still there", b)
		}
	}

	inChroot(t, root, "dpkg", "-P", "piuparts-server")
	compareAfterPurge(t, before, snapshot(t, root))
	t.Logf("install, checks, remove, purge: %s in all", time.Since(start).Round(time.Second))
}

// TestDeb_Piuparts runs Debian's piuparts on the package, with the cached
// bookworm base as its base tarball: piuparts' own install, remove and
// purge test (files left, changed or missing, processes left).
func TestDeb_Piuparts(t *testing.T) {
	needPackaging(t)
	if _, err := exec.LookPath("piuparts"); err != nil {
		t.Skip("################ no piuparts on this machine (apt-get install piuparts, or make test-deps): Debian's check of the .deb skipped")
	}
	deb := buildDeb(t)
	tarball := baseTarball(t, dependsOf(t, deb))
	tgz := strings.TrimSuffix(tarball, ".tar") + ".tgz"
	if _, err := os.Stat(tgz); err != nil {
		// piuparts unpacks its base with tar -z.
		run(t, "sh", "-c", `gzip -1c "$1" >"$2.new" && mv "$2.new" "$2"`, "sh", tarball, tgz)
	}
	start := time.Now()
	cmd := exec.CommandContext(t.Context(), "piuparts", "--distribution=bookworm", "--mirror="+hostMirror(t)+" main",
		"--basetgz="+tgz, "--no-upgrade-test", deb)
	out, err := cmd.CombinedOutput()
	verdict := "no verdict"
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "PASS: All tests.") || strings.Contains(l, "FAIL: ") {
			verdict = strings.TrimSpace(l)
		}
	}
	if err != nil {
		t.Fatalf("piuparts %s: %v\n%s", filepath.Base(deb), err, lastLines(string(out), 60))
	}
	t.Logf("piuparts in %s: %s", time.Since(start).Round(time.Second), verdict)
	if !strings.Contains(string(out), "PASS: All tests.") {
		t.Errorf("piuparts did not say PASS:\n%s", lastLines(string(out), 60))
	}
}

// needPackaging skips, loudly, when the test cannot run here.
func needPackaging(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("################ slow (builds the .deb and a bookworm chroot): skipped under -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("################ NOT ROOT: installing the .deb in a chroot needs root; skipped")
	}
	for _, tool := range []string{"make", "dpkg-deb", "debootstrap", "chroot", "strip", "dpkg-shlibdeps"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("################ no %s on this machine (make test-deps installs debootstrap; dpkg-dev for dpkg-shlibdeps): skipped", tool)
		}
	}
}

// buildDeb runs `make deb` in the repository once per test binary and
// returns the path of the package.
func buildDeb(t *testing.T) string {
	t.Helper()
	debOnce.Do(func() {
		repo, err := filepath.Abs("..")
		if err != nil {
			debErr = err
			return
		}
		cmd := exec.Command("make", "-s", "deb")
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			debErr = fmt.Errorf("make deb: %v\n%s", err, lastLines(string(out), 30))
			return
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		debPath = filepath.Join(repo, lines[len(lines)-1])
		if !strings.HasSuffix(debPath, ".deb") {
			debErr = fmt.Errorf("make deb did not end with the package's path:\n%s", lastLines(string(out), 10))
		}
	})
	if debErr != nil {
		t.Fatal(debErr)
	}
	return debPath
}

var (
	debOnce sync.Once
	debPath string
	debErr  error
)

// lintian fails on errors; warnings and information are logged.
func lintian(t *testing.T, deb string) {
	if _, err := exec.LookPath("lintian"); err != nil {
		t.Skip("################ no lintian on this machine (make test-deps installs it): skipped")
	}
	out, _ := exec.CommandContext(t.Context(), "lintian", "--display-info", "--pedantic", deb).CombinedOutput()
	var errs []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "E: ") {
			errs = append(errs, l)
		}
	}
	t.Logf("lintian:\n%s", out)
	if len(errs) > 0 {
		t.Errorf("lintian errors:\n%s", strings.Join(errs, "\n"))
	}
}

// noCommonFiles checks that the package can be installed beside Debian's
// piuparts packages: none of its files is one of theirs (directories and
// the users they share).
func noCommonFiles(t *testing.T, deb string) {
	theirs := map[string]string{}
	for _, p := range []string{"piuparts-master", "piuparts-slave", "piuparts-common", "piuparts"} {
		out, err := exec.CommandContext(t.Context(), "dpkg", "-L", p).Output()
		if err != nil {
			t.Logf("################ %s is not installed here: not compared", p)
			continue
		}
		for _, f := range strings.Fields(string(out)) {
			if fi, err := os.Stat(f); err == nil && !fi.IsDir() {
				theirs[f] = p
			}
		}
	}
	if len(theirs) == 0 {
		t.Skip("################ none of Debian's piuparts packages is installed (make test-deps installs them): skipped")
	}
	for _, l := range strings.Split(run(t, "dpkg-deb", "--contents", deb), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 || strings.HasSuffix(f[5], "/") {
			continue
		}
		if p, ok := theirs[strings.TrimPrefix(f[5], ".")]; ok {
			t.Errorf("%s is also in Debian's %s: the packages would conflict", f[5], p)
		}
	}
}

// dependsOf returns the names in the package's Depends, the first of each
// alternative: they go in the base chroot, so that dpkg -i needs no apt.
func dependsOf(t *testing.T, deb string) []string {
	var names []string
	for _, dep := range strings.Split(debField(t, deb, "Depends"), ",") {
		alt, _, _ := strings.Cut(dep, "|")
		name, _, _ := strings.Cut(strings.TrimSpace(alt), " ")
		if name != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// hostMirror is the first Debian archive of this machine's apt sources.
func hostMirror(t *testing.T) string {
	t.Helper()
	files, err := config.AptSourcesFiles("/etc/apt")
	if err == nil {
		var m string
		if m, err = config.DefaultMirror(files...); err == nil {
			return m
		}
	}
	t.Skipf("################ no Debian mirror in this machine's apt sources (%v): skipped", err)
	return ""
}

// baseTarball returns the cached tarball of a bookworm minbase chroot with
// the given packages, made today with debootstrap if it is not there.
func baseTarball(t *testing.T, include []string) string {
	t.Helper()
	mirror := hostMirror(t)
	sum := sha256.Sum256([]byte(baseFormat + "\n" + mirror + "\n" + strings.Join(include, ",")))
	name := fmt.Sprintf("bookworm-minbase-%s-%s.tar", time.Now().UTC().Format("20060102"), hex.EncodeToString(sum[:4]))
	path := filepath.Join(cacheDir, name)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(cacheDir, "debootstrap-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	defer checkNoMounts(t, dir)
	// The tarball's "./" is the chroot's /: MkdirTemp's 0700 would shut
	// every user but root out of the whole system.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	args := []string{"--variant=minbase", "--include=" + strings.Join(include, ","), "bookworm", dir, mirror}
	if out, err := exec.CommandContext(t.Context(), "debootstrap", args...).CombinedOutput(); err != nil {
		t.Fatalf("debootstrap %s: %v\n%s", strings.Join(args, " "), err, lastLines(string(out), 30))
	}
	run(t, "tar", "-C", dir, "--numeric-owner", "-cf", path+".new", ".")
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	// Yesterday's bases are of no more use.
	old, _ := filepath.Glob(filepath.Join(cacheDir, "bookworm-minbase-*"))
	for _, o := range old {
		if strings.TrimSuffix(strings.TrimSuffix(o, ".tgz"), ".tar") != strings.TrimSuffix(path, ".tar") {
			os.Remove(o)
		}
	}
	t.Logf("debootstrap of bookworm into %s: %s", path, time.Since(start).Round(time.Second))
	return path
}

// baseChroot unpacks the cached base into a new directory.
func baseChroot(t *testing.T, include []string) string {
	t.Helper()
	tarball := baseTarball(t, include)
	root := t.TempDir()
	run(t, "tar", "-C", root, "--numeric-owner", "-xf", tarball)
	return root
}

// inChroot runs a command in the chroot and returns its standard output;
// it fails the test if the command fails.
func inChroot(t *testing.T, root string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "chroot", append([]string{root}, args...)...)
	cmd.Env = chrootEnv
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("in the chroot: %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), lastLines(stderr.String(), 20))
	}
	return stdout.String()
}

// run runs a command on the host and fails the test if it fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, lastLines(string(out), 20))
	}
	return string(out)
}

func debField(t *testing.T, deb, field string) string {
	t.Helper()
	return strings.TrimSpace(run(t, "dpkg-deb", "--field", deb, field))
}

// readDeb returns a file of the package's control archive.
func readDeb(t *testing.T, deb, name string) string {
	t.Helper()
	return run(t, "sh", "-c", `dpkg-deb --ctrl-tarfile "$1" | tar -xOf - "./$2"`, "sh", deb, name)
}

// packageBinaries lists the package's programs as dpkg has them installed.
func packageBinaries(t *testing.T, root string) []string {
	t.Helper()
	var bins []string
	for _, p := range strings.Fields(inChroot(t, root, "dpkg", "-L", "piuparts-server")) {
		if filepath.Dir(p) == "/usr/bin" {
			bins = append(bins, p)
		}
	}
	slices.Sort(bins)
	return bins
}

// verifyUnits runs systemd-analyze verify on the installed units. A
// chroot has no systemd (no sysinit.target), so they are verified on the
// host, each ExecStart pointing at the chroot's program.
func verifyUnits(t *testing.T, root string) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("################ no systemd-analyze on this machine: the units are not verified")
	}
	units, err := filepath.Glob(filepath.Join(root, "lib/systemd/system/piuparts-*"))
	if err != nil || len(units) == 0 {
		t.Fatalf("no piuparts-* units in the package (%v)", err)
	}
	dir := t.TempDir()
	var paths []string
	exe := regexp.MustCompile(`(?m)^(Exec[A-Za-z]*=)(/\S+)`)
	for _, u := range units {
		data, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range exe.FindAllSubmatch(data, -1) {
			if fi, err := os.Stat(filepath.Join(root, string(m[2]))); err != nil || fi.Mode()&0o111 == 0 {
				t.Errorf("%s: %s%s is not an installed program (%v)", filepath.Base(u), m[1], m[2], err)
			}
		}
		data = exe.ReplaceAll(data, []byte("${1}"+root+"${2}"))
		p := filepath.Join(dir, filepath.Base(u))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	// --man=no: the man pages named in Documentation= are the host's business.
	out, err := exec.CommandContext(t.Context(), "systemd-analyze", append([]string{"verify", "--man=no"}, paths...)...).CombinedOutput()
	if err != nil || bytes.Contains(out, []byte(dir)) {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// entry is what snapshot records of a path.
type entry struct {
	kind       fs.FileMode
	mode       fs.FileMode
	uid, gid   uint32
	sum, link  string
	lines      []string // of the account files
	isAccounts bool
}

// accountFiles may keep the users and the group after purge (Debian
// policy leaves system users); their other lines must not change.
var accountFiles = map[string]bool{"/etc/passwd": true, "/etc/group": true, "/etc/shadow": true, "/etc/gshadow": true}

// changedByTools are the files that dpkg and the account tools keep for
// themselves: their content may change, and they may appear.
//   - dpkg's database and log;
//   - the backups the shadow tools write of the account files (passwd- ...);
//   - /run/adduser, adduser's lock file (on a running system /run is a
//     tmpfs, empty at each boot).
var changedByTools = map[string]bool{
	"/var/lib/dpkg/status": true, "/var/lib/dpkg/status-old": true, "/var/log/dpkg.log": true,
	"/var/lib/dpkg/lock": true, "/var/lib/dpkg/lock-frontend": true, "/var/lib/dpkg/triggers/Lock": true,
	"/etc/passwd-": true, "/etc/group-": true, "/etc/shadow-": true, "/etc/gshadow-": true,
	"/run/adduser": true,
}

// snapshot records every path of the chroot below /.
func snapshot(t *testing.T, root string) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := "/" + strings.TrimPrefix(strings.TrimPrefix(path, root), "/")
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		e := entry{kind: fi.Mode().Type(), mode: fi.Mode().Perm(), uid: st.Uid, gid: st.Gid}
		switch {
		case fi.Mode().IsRegular() && accountFiles[rel]:
			e.isAccounts = true
			e.lines, err = readLines(path)
		case fi.Mode().IsRegular() && !changedByTools[rel]:
			e.sum, err = fileSum(path)
		case fi.Mode()&fs.ModeSymlink != 0:
			e.link, err = os.Readlink(path)
		}
		out[rel] = e
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// compareAfterPurge fails on any path added, removed or changed by the
// package's life, except dpkg's own files and the accounts it made.
func compareAfterPurge(t *testing.T, before, after map[string]entry) {
	t.Helper()
	var diffs []string
	for p, a := range after {
		b, ok := before[p]
		switch {
		case changedByTools[p]:
		case !ok:
			diffs = append(diffs, "left after purge: "+p)
		case a.isAccounts:
			for _, l := range a.lines {
				if !slices.Contains(b.lines, l) {
					name, _, _ := strings.Cut(l, ":")
					if name != "piupartsm" && name != "piupartss" && name != "piuparts" {
						diffs = append(diffs, fmt.Sprintf("%s: line added: %q", p, l))
					}
				}
			}
			for _, l := range b.lines {
				if !slices.Contains(a.lines, l) {
					diffs = append(diffs, fmt.Sprintf("%s: line removed: %q", p, l))
				}
			}
		case a.kind != b.kind || a.mode != b.mode || a.uid != b.uid || a.gid != b.gid || a.sum != b.sum || a.link != b.link:
			diffs = append(diffs, fmt.Sprintf("changed by install and purge: %s (%+v, was %+v)", p, a, b))
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			diffs = append(diffs, "removed by install and purge: "+p)
		}
	}
	slices.Sort(diffs)
	if len(diffs) > 0 {
		t.Errorf("the chroot after purge differs from before install:\n%s", strings.Join(diffs, "\n"))
	}
	// The accounts stay (Debian policy 9.2.2), and say so.
	for _, want := range []string{"piupartsm:", "piupartss:"} {
		if !slices.ContainsFunc(after["/etc/passwd"].lines, func(l string) bool { return strings.HasPrefix(l, want) }) {
			t.Errorf("after purge, /etc/passwd has no %s line: the users are meant to stay", want)
		}
	}
}

// checkNoMounts fails if anything is mounted at or below dir.
func checkNoMounts(t *testing.T, dir string) {
	t.Helper()
	data, err := os.ReadFile("/proc/mounts")
	if err != nil {
		t.Error(err)
		return
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 1 && (f[1] == dir || strings.HasPrefix(f[1], dir+"/")) {
			t.Errorf("left mounted: %s", l)
		}
	}
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var lines []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		lines = append(lines, s.Text())
	}
	return lines, s.Err()
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o644)
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
