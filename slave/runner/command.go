package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"piuparts-server/internal/config"
)

// Tarball returns the base tarball of a section as piuparts-slave names it:
// basetgz-directory joined with chroot-tgz, or with the distros' default name
// for the start distro and arch ([config.Distros.BaseTarball]; "-merged-usr"
// when piuparts-flags contains "--merged-usr"). The path is joined as
// Python's os.path.join does, so the default basetgz-directory "." gives
// "./bookworm_amd64.tar.gz", byte for byte the reference's -b argument; a
// relative path is relative to the section directory ([Job.Dir]). It
// returns an error wrapping [ErrNoArch] when the section has no arch, or the
// error of BaseTarball when the start distro has no real distro.
func Tarball(pc *config.Config, sec *config.Section) (string, error) {
	name := sec.ChrootTgz
	if name == "" {
		if sec.Arch == "" {
			return "", fmt.Errorf("base tarball of %s: %w", quote(sec.Name), ErrNoArch)
		}
		// The reference tests the flags as one string, so any word
		// containing "--merged-usr" counts.
		merged := strings.Contains(sec.PiupartsFlags.String(), "--merged-usr")
		var err error
		name, err = pc.Distros.BaseTarball(sec.StartDistro(), sec.Arch, merged)
		if err != nil {
			return "", fmt.Errorf("base tarball of %s: %w", quote(sec.Name), err)
		}
	}
	return pyJoin(sec.BasetgzDirectory, name), nil
}

// RefchrootMetadata returns the chroot-meta-auto file of a section, or ""
// when chroot-meta-auto is not set: chroot-meta-directory/SECTION/FILE when
// chroot-meta-directory is set, else the file as configured (relative to
// the section directory). Like the reference it does no I/O; [Command]
// creates the directory.
func RefchrootMetadata(sec *config.Section) string {
	if sec.ChrootMetaAuto == "" {
		return ""
	}
	if sec.ChrootMetaDirectory != "" {
		return pyJoin(pyJoin(sec.ChrootMetaDirectory, sec.Name), sec.ChrootMetaAuto)
	}
	return sec.ChrootMetaAuto
}

// prefix returns the words piuparts-slave puts first on both its command
// lines: setarch, piuparts-command, piuparts-flags, --proxy, --mirror,
// --tmpdir and --arch.
func prefix(pc *config.Config, sec *config.Section, env func(string) string) ([]string, error) {
	if len(sec.PiupartsCommand) == 0 {
		return nil, fmt.Errorf("command of %s: %w", quote(sec.Name), ErrNoCommand)
	}
	if sec.Arch == "" {
		return nil, fmt.Errorf("command of %s: %w", quote(sec.Name), ErrNoArch)
	}
	var cmd []string
	if len(sec.Setarch) > 0 {
		cmd = append(cmd, "setarch")
		cmd = append(cmd, sec.Setarch...)
	}
	cmd = append(cmd, sec.PiupartsCommand...)
	cmd = append(cmd, sec.PiupartsFlags...)
	if p := proxy(pc, env); p != "" {
		cmd = append(cmd, "--proxy", p)
	}
	if sec.Mirror != "" {
		m := sec.Mirror
		if len(sec.Components) > 0 {
			m += " " + strings.Join(sec.Components, " ")
		}
		cmd = append(cmd, "--mirror", m)
	}
	if sec.Tmpdir != "" {
		cmd = append(cmd, "--tmpdir", sec.Tmpdir)
	}
	return append(cmd, "--arch", sec.Arch), nil
}

// proxy returns the http_proxy the reference runs with: [global] proxy,
// which piuparts-slave copies into its environment, else $http_proxy.
func proxy(pc *config.Config, env func(string) string) string {
	if pc.Global.Proxy != "" {
		return pc.Global.Proxy
	}
	if env == nil {
		return ""
	}
	return env("http_proxy")
}

// Command returns the piuparts command line that piuparts-slave's
// _test_package runs to test version of package name with the base tarball
// tarball: setarch and its words, piuparts-command, piuparts-flags,
// "--proxy P" (from [global] proxy, else env("http_proxy"); an empty value
// counts as unset), "--mirror MIRROR COMPONENTS" as one word, "--tmpdir",
// "--arch", "-b TARBALL", then "-d DISTRO --no-upgrade-test" or one "-d" per
// upgrade-test-distro, "--keep-sources-list", for upgrade tests with
// chroot-meta-auto "-S FILE" (FILE missing: save) or "-B FILE" (load), and
// "--apt NAME=VERSION". dir is the section directory, against which a
// relative chroot-meta file is checked; like the reference, Command creates
// chroot-meta-directory/SECTION when it is missing. It returns an error
// wrapping [ErrNoArch] or [ErrNoCommand] for an incomplete section, or the
// error of creating that directory.
func Command(pc *config.Config, sec *config.Section, dir, tarball, name, version string, env func(string) string) ([]string, error) {
	cmd, err := prefix(pc, sec, env)
	if err != nil {
		return nil, err
	}
	cmd = append(cmd, "-b", tarball)
	upgrade := sec.IsDistUpgrade()
	if !upgrade {
		cmd = append(cmd, "-d", sec.GetDistro(), "--no-upgrade-test")
	} else {
		for _, d := range sec.Distros() {
			cmd = append(cmd, "-d", d)
		}
	}
	if sec.KeepSourcesList {
		cmd = append(cmd, "--keep-sources-list")
	}
	if upgrade && sec.ChrootMetaAuto != "" {
		meta := RefchrootMetadata(sec)
		if sec.ChrootMetaDirectory != "" {
			d := inDir(dir, pyJoin(sec.ChrootMetaDirectory, sec.Name))
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, fmt.Errorf("command of %s: create chroot-meta directory: %w", quote(sec.Name), err)
			}
		}
		if _, err := os.Stat(inDir(dir, meta)); err != nil {
			cmd = append(cmd, "-S", meta)
		} else {
			cmd = append(cmd, "-B", meta)
		}
	}
	return append(cmd, "--apt", name+"="+version), nil
}

// TarballCommand returns the command line with which piuparts-slave's
// create_chroot builds the base tarball of a section: the words [Command]
// starts with, then "-d START-DISTRO -s TARBALL.new
// --no-install-purge-test --no-upgrade-test --apt TARBALL" (a dummy
// package). It returns the errors of Command for an incomplete section.
func TarballCommand(pc *config.Config, sec *config.Section, tarball string, env func(string) string) ([]string, error) {
	cmd, err := prefix(pc, sec, env)
	if err != nil {
		return nil, err
	}
	return append(cmd, "-d", sec.StartDistro(), "-s", tarball+".new",
		"--no-install-purge-test", "--no-upgrade-test", "--apt", "TARBALL"), nil
}

// CommandString joins a command line into one string that a POSIX shell
// reads back as the same words, quoting each word as Python's shlex.quote
// does (piuparts-slave's command2string): a word made only of ASCII
// letters, digits and @%+=:,./-_ stays as it is, the empty word becomes two
// single quotes, and any other word is put in single quotes, each ' in it
// written as the five characters '"'"' (see the example).
func CommandString(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(shellQuote(a))
	}
	return b.String()
}

// shellQuote quotes one word as shlex.quote does.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for i := 0; i < len(s); i++ {
		if !safeByte(s[i]) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// safeByte reports whether shlex.quote leaves c unquoted: [\w@%+=:,./-]
// with \w limited to ASCII.
func safeByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("_@%+=:,./-", c) >= 0
}

// pyJoin joins two path parts as Python's os.path.join does: an absolute
// b replaces a, and a "/" is put between them unless a is empty or ends in
// one. Unlike filepath.Join it keeps "./" and does not clean the result,
// so paths appear in commands and logs as in the reference's.
func pyJoin(a, b string) string {
	switch {
	case strings.HasPrefix(b, "/"), a == "":
		return b
	case strings.HasSuffix(a, "/"):
		return a + b
	}
	return a + "/" + b
}

// inDir returns p, or p relative to dir when p is relative and dir is set:
// where the reference, running in the section directory, finds p.
func inDir(dir, p string) string {
	if dir == "" || strings.HasPrefix(p, "/") {
		return p
	}
	return pyJoin(dir, p)
}

// RefchrootMaxAge is the age after which [ExpireRefchrootMetadata] removes
// a chroot-meta-auto file, as piuparts-slave does before each round of
// tests.
const RefchrootMaxAge = 6 * time.Hour

// ExpireRefchrootMetadata removes the section's chroot-meta-auto file
// (relative to dir, the section directory) when it is older than
// [RefchrootMaxAge] at now, so that the next upgrade test saves a fresh
// one; it reports whether it removed it. A section without
// chroot-meta-auto, or a missing file, is not an error; it returns the
// error of removing the file otherwise.
func ExpireRefchrootMetadata(sec *config.Section, dir string, now time.Time) (bool, error) {
	meta := RefchrootMetadata(sec)
	if meta == "" {
		return false, nil
	}
	p := inDir(dir, meta)
	fi, err := os.Stat(p)
	if err != nil || now.Sub(fi.ModTime()) <= RefchrootMaxAge {
		return false, nil
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("expire chroot-meta file: %w", err)
	}
	return true, nil
}
