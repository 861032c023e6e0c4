package config_test

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"piuparts-server/internal/config"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.toml")

// importAndLoad converts an INI file and loads the result.
func importAndLoad(t *testing.T, ini []byte, name string) (*config.Config, string) {
	t.Helper()
	var out bytes.Buffer
	if err := config.ImportINI(bytes.NewReader(ini), name, &out); err != nil {
		t.Fatalf("ImportINI(%s): %v", name, err)
	}
	c, err := config.Parse(bytes.NewReader(out.Bytes()), name+".toml")
	if err != nil {
		t.Fatalf("Parse(ImportINI(%s)): %v\n%s", name, err, out.String())
	}
	return c, out.String()
}

// TestImportINI_Debian converts the example Debian installs with
// piuparts-common. It is read where it is installed, not copied into
// testdata, because it names a mirror host.
func TestImportINI_Debian(t *testing.T) {
	const path = "/etc/piuparts/piuparts.conf"
	ini, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("Debian's example is not installed (%v); apt-get install piuparts-common", err)
	}
	c, _ := importAndLoad(t, ini, path)
	sid := section(t, c, "sid")
	tests := []struct {
		name      string
		got, want any
	}{
		{"sections", c.Global.SectionNames, []string{"sid"}},
		{"description keeps its quotes", sid.Description, `"Debian sid / main"`},
		{"piuparts-flags", sid.PiupartsFlags, config.Args{"--no-symlinks"}},
		{"piuparts-command", sid.PiupartsCommand, config.Args{"sudo", "piuparts", "--scriptsdir", "/etc/piuparts/scripts"}},
		{"max-reserved from global", sid.MaxReserved, 50},
		{"max-tgz-age", sid.MaxTgzAge, 7 * 24 * time.Hour},
		{"expire-old-days", sid.ExpireOld(), 120},
		{"upgrade-test-distros empty", len(sid.UpgradeTestDistros), 0},
		{"debug", sid.Debug, false},
		{"doc-root", c.Global.DocRoot, "/piuparts/"},
		{"mirror as in the file", sid.Mirror, iniValue(t, ini, "mirror")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

// iniValue finds "key = value" in an INI file, the simple way.
func iniValue(t *testing.T, ini []byte, key string) string {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(ini))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in INI file", key)
	return ""
}

func TestImportINI_MultiSection(t *testing.T) {
	ini, err := os.ReadFile("testdata/multi_section.conf")
	if err != nil {
		t.Fatal(err)
	}
	c, out := importAndLoad(t, ini, "multi_section.conf")
	sid, up, pu := section(t, c, "sid"), section(t, c, "bookworm2trixie"), section(t, c, "trixie-pu")
	tgz := section(t, c, "bookworm-tarball")
	tests := []struct {
		name      string
		got, want any
	}{
		{"sections from continuation lines", c.Global.SectionNames, []string{"sid", "bookworm2trixie", "trixie-pu"}},
		{"basetgz-sections", c.Global.BasetgzSections, []string{"bookworm-tarball"}},
		{"key with colon", sid.MasterUser, "piupartsm"},
		{"interpolated, continued command", sid.PiupartsCommand, config.Args{"sudo", "env", "PYTHONPATH=/opt/piuparts/lib",
			"timeout", "-s", "INT", "-k", "5m", "35m", "piuparts", "--scriptsdir", "/etc/piuparts/scripts"}},
		{"upper-case key", c.Global.PythonPath, "/opt/piuparts/lib"},
		{"slave-count", c.Global.SlaveCount, 2},
		{"float", sid.SlaveLoadMax, 3.5},
		{"empty float left to global", pu.SlaveLoadMax, 3.5},
		{"relative expiry", sid.ExpireOldDays, config.Days{N: 30, Relative: true}},
		{"relative expiry resolved", sid.ExpireOld(), 120},
		{"quotes kept", sid.Description, `"Debian sid / main"`},
		{"%% is %", up.Description, "+ 100% upgrades"},
		{"no is false", sid.Debug, false},
		{"No is false", sid.KeepSourcesList, false},
		{"yes is true", up.AutoReschedule, true},
		{"empty list", len(sid.UpgradeTestDistros), 0},
		{"continued list", up.UpgradeTestDistros, []string{"bookworm", "trixie"}},
		{"depends-sections", pu.DependsSections, []string{"bookworm2trixie", "sid"}},
		{"exclude-known-problems", up.ExcludeKnownProblems, []string{"command_not_found_issue.conf", "broken_symlinks_issue.conf"}},
		{"section max-reserved", up.MaxReserved, 20},
		{"global max-reserved", sid.MaxReserved, 50},
		{"setarch", pu.Setarch, config.Args{"linux32"}},
		{"tarball-only section", tgz.TarballOnly(), true},
		{"precedence order", c.SectionsByPrecedence(), []string{"sid", "bookworm-tarball", "trixie-pu", "bookworm2trixie"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
	// Comments stay before what they preceded; the unlisted section and the
	// global-only key inside a section survive as comments.
	for _, want := range []string{
		"# a comment inside the value stays before the key\nmax-reserved = 20\n",
		"# install/purge tests in sid\n[sid]\n",
		"# [s-p-u-i386]\n# distro = stable-proposed-updates\n# # area = main\n# arch = i386\n",
		"# sections = not read from here\n",
		"# end of file\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("converted file lacks %q", want)
		}
	}
	golden := "testdata/multi_section.golden.toml"
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if out != string(want) {
		t.Errorf("converted file differs from %s (review, then go test -update):\n%s", golden, out)
	}
}

func TestImportINI_Errors(t *testing.T) {
	const head = "[global]\nsections = sid\n[sid]\n"
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
	}{
		{"UnknownKey", head + "distro = sid\nmirorr = http://mirror.example.org/debian\n",
			`piuparts.conf:5: section "sid": unknown key "mirorr" (did you mean "mirror"?)`, config.ErrUnknownKey},
		{"BadInteger", head + "max-reserved = fifty\n",
			`piuparts.conf:4: section "sid": key "max-reserved": want an integer, have "fifty"`, config.ErrInvalidValue},
		{"BadBoolean", head + "debug = maybe\n",
			`piuparts.conf:4: section "sid": key "debug": want yes or no, have "maybe"`, config.ErrInvalidValue},
		{"NoGlobal", "[sid]\ndistro = sid\n",
			`piuparts.conf: no [global] section (piuparts needs one)`, config.ErrMissingSection},
		{"ListedWithoutSection", "[global]\nsections = sid experimental\n[sid]\n",
			`piuparts.conf:2: section "experimental": listed in sections but has no [experimental] section`, config.ErrMissingSection},
		{"DuplicateKey", head + "distro = sid\nDistro = trixie\n",
			`piuparts.conf:5: section "sid": key "Distro" defined twice (first on line 4)`, config.ErrSyntax},
		{"DuplicateSection", head + "[sid]\n",
			`piuparts.conf:4: section "sid": section defined twice (first on line 3)`, config.ErrSyntax},
		{"NoHeader", "sections = sid\n",
			`piuparts.conf:1: key outside any section: "sections = sid"`, config.ErrSyntax},
		{"NoDelimiter", head + "distro sid\n",
			`piuparts.conf:4: section "sid": want "key = value", have "distro sid"`, config.ErrSyntax},
		{"BadPercent", head + "description = 100% fun\n",
			`piuparts.conf:4: section "sid": key "description": % must be followed by % or (, found "% fun" (write %% for a %)`, config.ErrInvalidValue},
		{"MissingReference", head + "tmpdir = %(base)s/tmp\n",
			`piuparts.conf:4: section "sid": key "tmpdir": %(base)s refers to a key not in this section`, config.ErrInvalidValue},
		{"DefaultMissingReference", "[DEFAULT]\ntmpdir = %(base)s/tmp\n" + head,
			`piuparts.conf:2: section "DEFAULT": key "tmpdir" of [DEFAULT], read in section "global": %(base)s refers to a key neither in section "global" nor in [DEFAULT]`, config.ErrInvalidValue},
		{"DefaultBadValue", "[DEFAULT]\nprecedence = %(p)s\np = x\n" + head + "p = 1\n",
			`piuparts.conf:2: section "DEFAULT": read in section "global": key "precedence": want an integer, have "x"`, config.ErrInvalidValue},
		{"DefaultKeyTwice", "[DEFAULT]\na = 1\n" + head + "[DEFAULT]\nA = 2\n",
			`piuparts.conf:7: section "DEFAULT": key "A" defined twice (first on line 2)`, config.ErrSyntax},
		{"RenameCollides", "[global]\nsections = a/b a-b\n[a/b]\n[a-b]\n",
			`piuparts.conf:3: section "a/b": section "a/b" would be renamed "a-b" (no slash), which is the section on line 4`, config.ErrInvalidValue},
		{"BadSectionName", "[global]\nsections = sid ../etc\n[sid]\n",
			`piuparts.conf:2: section "global": key "sections": section name "../etc" holds a slash`, config.ErrInvalidValue},
		{"DependsOnUnlisted", head + "depends-sections = stable\n[stable]\n",
			`piuparts.conf:4: section "sid": key "depends-sections": depends on section "stable", which is not listed in sections or basetgz-sections`, config.ErrMissingSection},
		{"NotUTF8", head + "description = caf\xe9\n",
			`piuparts.conf:4: line is not valid UTF-8`, config.ErrSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := config.ImportINI(strings.NewReader(tt.in), "piuparts.conf", &out)
			if err == nil {
				t.Fatalf("ImportINI(%q) succeeded:\n%s", tt.in, out.String())
			}
			if err.Error() != tt.want {
				t.Errorf("ImportINI error\n got %s\nwant %s", err, tt.want)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantErr)
			}
			if out.Len() != 0 {
				t.Errorf("ImportINI wrote %d bytes on error", out.Len())
			}
		})
	}
}

func TestImportINI_Values(t *testing.T) {
	const head = "[global]\nsections = sid\n[sid]\n"
	tests := []struct {
		name string
		ini  string
		get  func(*config.Section) any
		want any
	}{
		{"OnIsTrue", "debug = On", func(s *config.Section) any { return s.Debug }, true},
		{"ZeroIsFalse", "auto-reschedule = 0", func(s *config.Section) any { return s.AutoReschedule }, false},
		{"EmptyBoolKeepsDefault", "auto-reschedule =", func(s *config.Section) any { return s.AutoReschedule }, true},
		{"SignedInteger", "precedence = -2", func(s *config.Section) any { return s.Precedence }, -2},
		{"PythonUnderscores", "idle-sleep = 1_000", func(s *config.Section) any { return s.IdleSleep }, 1000 * time.Second},
		{"EmptyStringIsSet", "distro =", func(s *config.Section) any { return s.Distro }, ""},
		{"ContinuationWithBlankLine", "description = first\n  second\n\n  fourth", func(s *config.Section) any { return s.Description }, "first\nsecond\n\nfourth"},
		// A key piuparts does not know is a helper when something refers to
		// it (kept as a comment), and a mistake otherwise.
		{"ReferenceToUnknownKey", "distro = %(a_helper)s\na_helper = x", func(s *config.Section) any { return s.Distro }, "x"},
		{"UnreferencedUnknownKey", "distro = sid\na_unused = x", nil, nil},
		{"Interpolation", "chroot-tgz = %(distro)s.tgz\ndistro = sid", func(s *config.Section) any { return s.ChrootTgz }, "sid.tgz"},
		{"DoublePercentThroughReference", "distro = a%%b\nchroot-tgz = %(distro)s", func(s *config.Section) any { return s.ChrootTgz }, "a%b"},
		{"IndentedCommentIsComment", "distro = sid\n  # not a value\narea = main", func(s *config.Section) any { return s.Distro }, "sid"},
		{"CRLF", "distro = sid\r\narea = contrib\r\n", func(s *config.Section) any { return s.Area }, "contrib"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := config.ImportINI(strings.NewReader(head+tt.ini+"\n"), "piuparts.conf", &out)
			if tt.get == nil {
				if !errors.Is(err, config.ErrUnknownKey) {
					t.Errorf("ImportINI error = %v, want ErrUnknownKey", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ImportINI: %v", err)
			}
			c, err := config.Parse(&out, "out.toml")
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(section(t, c, "sid")); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestKnownKeys(t *testing.T) {
	keys := config.KnownKeys()
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
		if k.Doc == "" || k.Default == "" || k.Type == "" {
			t.Errorf("key %q lacks doc, default or type: %+v", k.Name, k)
		}
	}
	for _, want := range []string{"sections", "mirror", "reserved-expire", "expire-old-days", "distros.NAME.target-release"} {
		if !slices.Contains(names, want) {
			t.Errorf("KnownKeys lacks %q", want)
		}
	}
}

func TestImportINI_InterpolationBomb(t *testing.T) {
	ini := "[global]\nsections = sid\n[sid]\ndescription = " + strings.Repeat("%(description)s", 20) + "\n"
	err := config.ImportINI(strings.NewReader(ini), "piuparts.conf", &bytes.Buffer{})
	if !errors.Is(err, config.ErrInvalidValue) {
		t.Errorf("ImportINI(self-referencing description) error = %v, want ErrInvalidValue", err)
	}
}

// TestImportINI_Default: [DEFAULT]'s keys reach every section, each
// expanding %(key)s against the section that reads it, as ConfigParser does.
func TestImportINI_Default(t *testing.T) {
	ini := "[DEFAULT]\nflags = --a %(extra)s\nextra =\npiuparts-flags = %(flags)s\n" +
		"[global]\nsections = sid stable/main\n[sid]\nextra = --sid\n[stable/main]\ndepends-sections = sid\n" +
		"[unlisted]\nextra = %(nope)s\n"
	c, out := importAndLoad(t, []byte(ini), "default.conf")
	if got, want := c.Global.PiupartsFlags, []string{"--a"}; !slices.Equal(got, want) {
		t.Errorf("[global] piuparts-flags = %q, want %q\n%s", got, want, out)
	}
	tests := []struct {
		section string
		want    []string
	}{
		{"sid", []string{"--a", "--sid"}},
		{"stable-main", []string{"--a"}}, // renamed: no slash in our section names
	}
	for _, tt := range tests {
		s, err := c.Section(tt.section)
		if err != nil {
			t.Fatalf("Section(%q): %v\n%s", tt.section, err, out)
		}
		if !slices.Equal(s.PiupartsFlags, tt.want) {
			t.Errorf("[%s] piuparts-flags = %q, want %q\n%s", tt.section, s.PiupartsFlags, tt.want, out)
		}
	}
	if got, want := c.Global.SectionNames, []string{"sid", "stable-main"}; !slices.Equal(got, want) {
		t.Errorf("sections = %q, want %q", got, want)
	}
	if !strings.Contains(out, "#   stable/main -> stable-main\n") {
		t.Errorf("output does not tell which section was renamed:\n%s", out)
	}
}
