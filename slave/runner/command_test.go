package runner_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"piuparts-server/slave/runner"
)

func TestCommand(t *testing.T) {
	env := func(k string) string {
		if k == "http_proxy" {
			return "http://env-proxy:3128"
		}
		return ""
	}
	tests := []struct {
		name   string
		global string // extra [global] lines
		keys   []string
		env    func(string) string
		meta   bool // create the chroot-meta-auto file first
		want   string
	}{
		{name: "Plain", keys: []string{`distro = "sid"`},
			want: "/bin/sh P --mirror M --arch amd64 -b T -d sid --no-upgrade-test --apt hello=1.0"},
		{name: "EnvProxy", keys: []string{`distro = "sid"`}, env: env,
			want: "/bin/sh P --proxy http://env-proxy:3128 --mirror M --arch amd64 -b T -d sid --no-upgrade-test --apt hello=1.0"},
		{name: "GlobalProxyWins", global: `proxy = "http://conf-proxy:8000"`, keys: []string{`distro = "sid"`}, env: env,
			want: "/bin/sh P --proxy http://conf-proxy:8000 --mirror M --arch amd64 -b T -d sid --no-upgrade-test --apt hello=1.0"},
		{name: "Everything", keys: []string{`distro = "sid"`, `setarch = ["linux32", "-R"]`, `piuparts-flags = ["--a", "b c"]`,
			`components = ["main", "contrib"]`, `tmpdir = "/var/tmp"`, `keep-sources-list = true`},
			want: "setarch linux32 -R /bin/sh P --a 'b c' --mirror 'M main contrib' --tmpdir /var/tmp --arch amd64 -b T -d sid --no-upgrade-test --keep-sources-list --apt hello=1.0"},
		{name: "Upgrade", keys: []string{`upgrade-test-distros = ["bookworm", "trixie", "sid"]`},
			want: "/bin/sh P --mirror M --arch amd64 -b T -d bookworm -d trixie -d sid --apt hello=1.0"},
		{name: "UpgradeMetaSave", keys: []string{`upgrade-test-distros = ["bookworm", "trixie"]`, `chroot-meta-auto = "ref.dat"`},
			want: "/bin/sh P --mirror M --arch amd64 -b T -d bookworm -d trixie -S ref.dat --apt hello=1.0"},
		{name: "UpgradeMetaLoad", meta: true, keys: []string{`upgrade-test-distros = ["bookworm", "trixie"]`,
			`chroot-meta-auto = "ref.dat"`, `chroot-meta-directory = "meta"`},
			want: "/bin/sh P --mirror M --arch amd64 -b T -d bookworm -d trixie -B meta/s/ref.dat --apt hello=1.0"},
		// One upgrade distro is no upgrade test, and chroot-meta-auto
		// does not apply.
		{name: "OneUpgradeDistro", keys: []string{`upgrade-test-distros = ["trixie"]`, `chroot-meta-auto = "ref.dat"`},
			want: "/bin/sh P --mirror M --arch amd64 -b T -d trixie --no-upgrade-test --apt hello=1.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			text := strings.Replace(sectionTOML("M", "P", tt.keys...), "[global]\n", "[global]\n"+tt.global+"\n", 1)
			c := parseConfig(t, text)
			sec := section(t, c, "s")
			if tt.meta {
				if err := os.MkdirAll(filepath.Join(dir, "meta", "s"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "meta", "s", "ref.dat"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cmd, err := runner.Command(c, sec, dir, "T", "hello", "1.0", tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if got := runner.CommandString(cmd); got != tt.want {
				t.Errorf("Command = %s\nwant      %s", got, tt.want)
			}
		})
	}
}

func TestTarballCommand(t *testing.T) {
	c := parseConfig(t, sectionTOML("M", "P", `upgrade-test-distros = ["bookworm", "trixie"]`, `tmpdir = "/t"`))
	cmd, err := runner.TarballCommand(c, section(t, c, "s"), "./bookworm_amd64.tar.gz", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "/bin/sh P --mirror M --tmpdir /t --arch amd64 -d bookworm -s ./bookworm_amd64.tar.gz.new --no-install-purge-test --no-upgrade-test --apt TARBALL"
	if got := runner.CommandString(cmd); got != want {
		t.Errorf("TarballCommand = %s\nwant             %s", got, want)
	}
}

func TestTarball(t *testing.T) {
	tests := []struct {
		name string
		keys []string
		want string
	}{
		{"Default", []string{`distro = "sid"`}, "./sid_amd64.tar.gz"},
		{"UpgradeStart", []string{`upgrade-test-distros = ["bookworm", "trixie"]`}, "./bookworm_amd64.tar.gz"},
		{"MergedUsr", []string{`distro = "sid"`, `piuparts-flags = ["--merged-usr"]`}, "./sid-merged-usr_amd64.tar.gz"},
		{"Directory", []string{`distro = "sid"`, `basetgz-directory = "/srv/tgz"`}, "/srv/tgz/sid_amd64.tar.gz"},
		{"DirectorySlash", []string{`distro = "sid"`, `basetgz-directory = "/srv/tgz/"`}, "/srv/tgz/sid_amd64.tar.gz"},
		{"ChrootTgz", []string{`distro = "sid"`, `chroot-tgz = "base.tgz"`, `basetgz-directory = "tgz"`}, "tgz/base.tgz"},
		{"AbsoluteChrootTgz", []string{`distro = "sid"`, `chroot-tgz = "/x/base.tgz"`}, "/x/base.tgz"},
		{"Distribution", []string{`distro = "stable"`, "", "[distros.stable]", `distribution = "bookworm"`}, "./bookworm_amd64.tar.gz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parseConfig(t, sectionTOML("M", "P", tt.keys...))
			got, err := runner.Tarball(c, section(t, c, "s"))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Tarball = %q, want %q", got, tt.want)
			}
		})
	}
}

// quoteSamples are words for comparing CommandString with shlex.quote.
var quoteSamples = []string{
	"", "plain", "a b", "it's", "'", `"`, "$HOME", "a\nb", "tab\there", "--mirror=x", "hello=1:2.0~rc1+b1",
	"@%+=:,./-_", "ä", "\x1b[0m", "*", "a;b", "~", "!", "\\", "\xff",
}

// TestCommandString compares with Python's shlex.quote, which
// piuparts-slave's command2string uses.
func TestCommandString(t *testing.T) {
	if _, err := exec.LookPath("/usr/bin/python3"); err != nil {
		t.Skipf("no python3: %v", err)
	}
	for _, s := range quoteSamples {
		in, _ := json.Marshal(s)
		// Bytes that are not UTF-8 reach Python as surrogate escapes.
		py := exec.CommandContext(t.Context(), "/usr/bin/python3", "-c",
			`import shlex, sys; sys.stdout.buffer.write(shlex.quote(sys.argv[1]).encode("utf-8", "surrogateescape"))`, s)
		py.Env = []string{"LC_ALL=C.UTF-8"}
		want, err := py.Output()
		if err != nil {
			t.Fatalf("python3 for %s: %v", in, err)
		}
		if got := runner.CommandString([]string{s}); got != string(want) {
			t.Errorf("CommandString([%s]) = %q, want %q", in, got, want)
		}
	}
	if got := runner.CommandString([]string{"a", "", "b c"}); got != "a '' 'b c'" {
		t.Errorf("CommandString joins as %q", got)
	}
}

// unquote reads back one word that a POSIX shell would read from a
// CommandString of one word: unquoted, single-quoted and double-quoted
// parts (the latter only as shlex.quote writes them: "'").
func unquote(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch s[i] {
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return "", false
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case '"':
			if !strings.HasPrefix(s[i:], `"'"`) {
				return "", false
			}
			b.WriteByte('\'')
			i += 3
		default:
			// Outside quotes, only bytes that no shell treats specially.
			c := s[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("@%+=:,./-_", c) >= 0) {
				return "", false
			}
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), true
}

func FuzzCommandString(f *testing.F) {
	for _, s := range quoteSamples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := runner.CommandString([]string{s})
		got, ok := unquote(q)
		if !ok || got != s {
			t.Fatalf("CommandString(%q) = %q, which reads back as %q (ok %v)", s, q, got, ok)
		}
		if s != "" && !strings.ContainsAny(q, "'") && q != s {
			t.Fatalf("CommandString(%q) = %q changed a word it did not quote", s, q)
		}
		if got := runner.CommandString([]string{s, s}); got != q+" "+q {
			t.Fatalf("CommandString of two words = %q", got)
		}
	})
}

func TestExpireRefchrootMetadata(t *testing.T) {
	tests := []struct {
		name        string
		keys        []string
		age         time.Duration // of the file; 0: no file
		wantRemoved bool
	}{
		{"Old", []string{`chroot-meta-auto = "ref.dat"`}, 7 * time.Hour, true},
		{"Young", []string{`chroot-meta-auto = "ref.dat"`}, 5 * time.Hour, false},
		{"Missing", []string{`chroot-meta-auto = "ref.dat"`}, 0, false},
		{"NotConfigured", nil, 7 * time.Hour, false},
		{"InMetaDirectory", []string{`chroot-meta-auto = "ref.dat"`, `chroot-meta-directory = "meta"`}, 7 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := parseConfig(t, sectionTOML("M", "P", append([]string{`upgrade-test-distros = ["bookworm", "trixie"]`}, tt.keys...)...))
			sec := section(t, c, "s")
			p := filepath.Join(dir, "ref.dat")
			if strings.Contains(strings.Join(tt.keys, ""), "meta-directory") {
				p = filepath.Join(dir, "meta", "s", "ref.dat")
			}
			if tt.age > 0 {
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(p, fixedNow.Add(-tt.age), fixedNow.Add(-tt.age)); err != nil {
					t.Fatal(err)
				}
			}
			removed, err := runner.ExpireRefchrootMetadata(sec, dir, fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			if removed != tt.wantRemoved {
				t.Errorf("removed = %v, want %v", removed, tt.wantRemoved)
			}
			_, statErr := os.Stat(p)
			if exists := statErr == nil; exists != (tt.age > 0 && !tt.wantRemoved) {
				t.Errorf("file exists = %v after ExpireRefchrootMetadata", exists)
			}
		})
	}
}
