package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"piuparts-server/internal/config"
)

const examplePath = "../../deploy/piuparts.toml"

func parse(t *testing.T, in string) *config.Config {
	t.Helper()
	c, err := config.Parse(strings.NewReader(in), "piuparts.toml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

func section(t *testing.T, c *config.Config, name string) *config.Section {
	t.Helper()
	s, err := c.Section(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoad_Example(t *testing.T) {
	c, err := config.Load(examplePath)
	if err != nil {
		t.Fatalf("Load(%s): %v", examplePath, err)
	}
	if got, want := c.Global.SectionNames, []string{"sid", "bookworm2trixie"}; !slices.Equal(got, want) {
		t.Errorf("sections = %q, want %q", got, want)
	}
	sid := section(t, c, "sid")
	up := section(t, c, "bookworm2trixie")
	tests := []struct {
		name      string
		got, want any
	}{
		{"sid distro", sid.Distro, "sid"},
		{"sid piuparts-flags", sid.PiupartsFlags, config.Args{"--no-symlinks"}},
		{"sid piuparts-command from global", sid.PiupartsCommand, config.Args{"sudo", "piuparts", "--scriptsdir", "/etc/piuparts/scripts"}},
		{"sid max-reserved from global", sid.MaxReserved, 50},
		{"sid json-sections", sid.JSONSections, []string{"unstable"}},
		{"sid expire-old-days relative to global reschedule-old-days", sid.ExpireOld(), 90 + 30},
		{"upgrade max-reserved overrides global", up.MaxReserved, 20},
		{"upgrade expire-old-days absolute", up.ExpireOld(), 120},
		{"upgrade distros", up.UpgradeTestDistros, []string{"bookworm", "trixie"}},
		{"upgrade depends-sections", up.DependsSections, []string{"sid"}},
		{"upgrade GetDistro is the last upgrade distro", up.GetDistro(), "trixie"},
		{"upgrade StartDistro", up.StartDistro(), "bookworm"},
		{"upgrade is a dist-upgrade", up.IsDistUpgrade(), true},
		{"upgrade json-sections default", up.JSONSections, []string{"default"}},
		{"global idle-sleep", c.Global.IdleSleep, 300 * time.Second},
		{"global max-tgz-age", c.Global.MaxTgzAge, 7 * 24 * time.Hour},
		{"global reserved-expire", up.ReservedExpire, config.DefaultReservedExpire},
		{"global slave-load-max", c.Global.SlaveLoadMax, 0.0},
		{"distro target-release", c.Distros["bookworm-backports"].TargetRelease, "bookworm-backports"},
		{"distro distribution", c.Distros.Distribution("bookworm/updates"), "bookworm-security"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

// TestExample_DocumentsEveryKey keeps deploy/piuparts.toml complete: every
// key appears there, set or commented out.
func TestExample_DocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, k := range config.KnownKeys() {
		name := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(k.Name, "distros.NAME."), "supervisor.environment."), "supervisor.")
		if !strings.Contains(text, "\n"+name+" = ") && !strings.Contains(text, "\n# "+name+" = ") {
			t.Errorf("%s does not show key %q", examplePath, k.Name)
		}
	}
}

func TestParse_Defaults(t *testing.T) {
	c := parse(t, "[global]\nsections = [\"sid\"]\n[sid]\n")
	s := section(t, c, "sid")
	tests := []struct {
		name      string
		got, want any
	}{
		{"idle-sleep", s.IdleSleep, 5 * time.Minute},
		{"max-tgz-age", s.MaxTgzAge, 30 * 24 * time.Hour},
		{"min-tgz-retry-delay", s.MinTgzRetryDelay, 6 * time.Hour},
		{"max-reserved", s.MaxReserved, 1},
		{"precedence", s.Precedence, 1},
		{"piuparts-command", s.PiupartsCommand, config.Args{"sudo", "piuparts"}},
		{"area", s.Area, "main"},
		{"basetgz-directory", s.BasetgzDirectory, "."},
		{"json-sections", s.JSONSections, []string{"default"}},
		{"auto-reschedule", s.AutoReschedule, true},
		{"reschedule-old-days", s.RescheduleOldDays, 180},
		{"reschedule-fail-count", s.RescheduleFailCount, 25},
		{"expire-old-days", s.ExpireOld(), 0},
		{"master-port", s.MasterPort, 22},
		{"mirror left to ApplyHost", s.Mirror, ""},
		{"arch left to ApplyHost", s.Arch, ""},
		{"master log file", s.MasterLogFile(), "sid/master.log"},
		{"master-directory", c.Global.MasterDirectory, "."},
		{"slave-count", c.Global.SlaveCount, 1},
		{"output-directory", c.Global.OutputDirectory, "html"},
		{"max-log-size", c.Global.MaxLogSize, config.DefaultMaxLogSize},
		{"read-idle-timeout", c.Global.ReadIdleTimeout, config.DefaultReadIdleTimeout},
		{"db", c.Global.DB, config.DefaultDB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestParse_Resolution(t *testing.T) {
	c := parse(t, `
[global]
sections = ["a", "b", "c"]
idle-sleep = 60
piuparts-flags = "--warn-on-others  --no-symlinks"
expire-fail-days = "+10"
[a]
idle-sleep = 10
reschedule-fail-days = 5
[b]
piuparts-flags = ["--extra-old-packages", "--scriptsdir=/etc/with space"]
precedence = 0
[c]
precedence = 0
expire-fail-days = 3
slave-load-max = 4
`)
	a, b, cc := section(t, c, "a"), section(t, c, "b"), section(t, c, "c")
	if a.IdleSleep != 10*time.Second || b.IdleSleep != time.Minute {
		t.Errorf("idle-sleep a=%v b=%v, want 10 (own) and 60 (global)", a.IdleSleep, b.IdleSleep)
	}
	if want := (config.Args{"--warn-on-others", "--no-symlinks"}); !slices.Equal(a.PiupartsFlags, want) {
		t.Errorf("a piuparts-flags = %q, want %q (global string split on whitespace)", a.PiupartsFlags, want)
	}
	if want := (config.Args{"--extra-old-packages", "--scriptsdir=/etc/with space"}); !slices.Equal(b.PiupartsFlags, want) {
		t.Errorf("b piuparts-flags = %q, want %q", b.PiupartsFlags, want)
	}
	if a.ExpireFail() != 15 || b.ExpireFail() != 40 || cc.ExpireFail() != 3 {
		t.Errorf("expire-fail-days a=%d b=%d c=%d, want 15 (5+10), 40 (30+10), 3", a.ExpireFail(), b.ExpireFail(), cc.ExpireFail())
	}
	if cc.SlaveLoadMax != 4.0 {
		t.Errorf("slave-load-max = %v, want 4 (integer accepted)", cc.SlaveLoadMax)
	}
	if got, want := c.SectionsByPrecedence(), []string{"b", "c", "a"}; !slices.Equal(got, want) {
		t.Errorf("SectionsByPrecedence = %q, want %q", got, want)
	}
	// Sections do not share slices with [global] or each other.
	a.PiupartsFlags[0] = "changed"
	if c.Global.PiupartsFlags[0] != "--warn-on-others" {
		t.Error("changing a section's list changed [global]'s")
	}
}

func TestConfig_ApplyHost(t *testing.T) {
	c := parse(t, "[global]\nsections = [\"sid\", \"i386\"]\n[sid]\n[i386]\narch = \"i386\"\nmirror = \"http://mirror.example.org/debian-ports\"\n")
	c.ApplyHost(config.Host{Arch: "amd64", Mirror: "http://apt.example.org/debian"})
	sid, i386 := section(t, c, "sid"), section(t, c, "i386")
	if sid.Arch != "amd64" || sid.Mirror != "http://apt.example.org/debian" {
		t.Errorf("sid arch, mirror = %q, %q; want the host's", sid.Arch, sid.Mirror)
	}
	if i386.Arch != "i386" || i386.Mirror != "http://mirror.example.org/debian-ports" {
		t.Errorf("i386 arch, mirror = %q, %q; want its own", i386.Arch, i386.Mirror)
	}
}

func TestSection_Distros(t *testing.T) {
	c := parse(t, `
[global]
sections = ["sid", "upgrade", "tgz"]
[sid]
distro = "sid"
[upgrade]
distro = "bookworm"
upgrade-test-distros = ["bookworm", "trixie", "sid"]
[tgz]
distro = "None"
max-reserved = 0
`)
	sid, up, tgz := section(t, c, "sid"), section(t, c, "upgrade"), section(t, c, "tgz")
	tests := []struct {
		name      string
		got, want any
	}{
		{"sid GetDistro", sid.GetDistro(), "sid"},
		{"sid StartDistro", sid.StartDistro(), "sid"},
		{"sid FinalDistro", sid.FinalDistro(), "sid"},
		{"sid not upgrade", sid.IsDistUpgrade(), false},
		{"upgrade GetDistro prefers distro", up.GetDistro(), "bookworm"},
		{"upgrade StartDistro", up.StartDistro(), "bookworm"},
		{"upgrade FinalDistro", up.FinalDistro(), "sid"},
		{"tgz TarballOnly", tgz.TarballOnly(), true},
		{"tgz Disabled", tgz.Disabled(), true},
		{"sid not Disabled", sid.Disabled(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
	if _, err := c.Section("nope"); !errors.Is(err, config.ErrMissingSection) {
		t.Errorf("Section(nope) error = %v, want ErrMissingSection", err)
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // exact message
		wantErr error
		line    int
		table   string
		key     string
	}{
		{
			name:    "UnknownKey",
			in:      "[global]\nsections = [\"sid\"]\n\n[sid]\ndistro = \"sid\"\nmirorr = \"http://mirror.example.org/debian\"\n",
			want:    `piuparts.toml:6: section "sid": unknown key "mirorr" (did you mean "mirror"?)`,
			wantErr: config.ErrUnknownKey, line: 6, table: "sid", key: "mirorr",
		},
		{
			name:    "WrongTypeInteger",
			in:      "[global]\nsections = [\"sid\"]\nmax-reserved = \"50\"\n[sid]\n",
			want:    `piuparts.toml:3: section "global": key "max-reserved": want an integer, have a string`,
			wantErr: config.ErrWrongType, line: 3, table: "global", key: "max-reserved",
		},
		{
			name:    "WrongTypeBoolean",
			in:      "[global]\nsections = [\"sid\"]\n[sid]\n\n\ndebug = \"yes\"\n",
			want:    `piuparts.toml:6: section "sid": key "debug": want a boolean (true or false), have a string`,
			wantErr: config.ErrWrongType, line: 6, table: "sid", key: "debug",
		},
		{
			name:    "WrongTypeMultilineArray",
			in:      "[global]\nsections = [\"sid\"]\n[sid]\nupgrade-test-distros = [\n  \"bookworm\",\n  2,\n]\n",
			want:    `piuparts.toml:4: section "sid": key "upgrade-test-distros": want an array of strings, have an array holding an integer`,
			wantErr: config.ErrWrongType, line: 4, table: "sid", key: "upgrade-test-distros",
		},
		{
			name:    "SyntaxError",
			in:      "[global]\nsections = [\"sid\"]\n[sid]\ndistro = sid\n",
			want:    `piuparts.toml:4: syntax error: expected value but found "sid" instead`,
			wantErr: config.ErrSyntax, line: 4,
		},
		{
			name:    "OutOfRange",
			in:      "[global]\nsections = [\"sid\"]\n[sid]\nmax-reserved = -1\n",
			want:    `piuparts.toml:4: section "sid": key "max-reserved": want an integer >= 0, have -1`,
			wantErr: config.ErrInvalidValue, line: 4, table: "sid", key: "max-reserved",
		},
		{
			name:    "GlobalOnlyKeyInSection",
			in:      "[global]\nsections = [\"sid\"]\n[sid]\nmaster-directory = \"/srv\"\n",
			want:    `piuparts.toml:4: section "sid": unknown key "master-directory" (only valid in [global])`,
			wantErr: config.ErrUnknownKey, line: 4, table: "sid", key: "master-directory",
		},
		{
			name:    "KeyOutsideTable",
			in:      "sections = [\"sid\"]\n[sid]\n",
			want:    `piuparts.toml:1: key "sections" outside any table (put it under [global])`,
			wantErr: config.ErrUnknownKey, line: 1, key: "sections",
		},
		{
			name:    "ListedWithoutTable",
			in:      "[global]\nsections = [\"sid\", \"trixie\"]\n[sid]\n",
			want:    `piuparts.toml:2: section "trixie": listed in sections but has no [trixie] table`,
			wantErr: config.ErrMissingSection, line: 2, table: "trixie",
		},
		{
			name:    "DefaultSectionWithoutTable",
			in:      "[global]\nidle-sleep = 5\n",
			want:    `piuparts.toml: section "sid": listed in sections (by default) but has no [sid] table`,
			wantErr: config.ErrMissingSection, table: "sid",
		},
		{
			name:    "UnlistedTable",
			in:      "[global]\nsections = [\"sid\"]\n[sid]\n[experimental]\ndistro = \"experimental\"\n",
			want:    `piuparts.toml:4: section "experimental": table is not listed in sections or basetgz-sections`,
			wantErr: config.ErrUnknownTable, line: 4, table: "experimental",
		},
		{
			name:    "SectionNameEscapes",
			in:      "[global]\nsections = [\"sid\", \"..\"]\n[sid]\n",
			want:    `piuparts.toml:2: section "global": key "sections": section name ".." is not a directory name`,
			wantErr: config.ErrInvalidValue, line: 2, table: "global", key: "sections",
		},
		{
			name:    "SectionNameSlash",
			in:      "[global]\nbasetgz-sections = \"tgz/sid\"\n",
			want:    `piuparts.toml:2: section "global": key "basetgz-sections": section name "tgz/sid" holds a slash`,
			wantErr: config.ErrInvalidValue, line: 2, table: "global", key: "basetgz-sections",
		},
		{
			name:    "DependsOnUnknownSection",
			in:      "[global]\nsections = [\"sid\", \"pu\"]\n[sid]\n[pu]\ndepends-sections = [\"stable\"]\n",
			want:    `piuparts.toml:5: section "pu": key "depends-sections": depends on section "stable", which is not listed in sections or basetgz-sections`,
			wantErr: config.ErrMissingSection, line: 5, table: "pu", key: "depends-sections",
		},
		{
			name:    "DistroUnknownKey",
			in:      "[global]\nsections = [\"sid\"]\n[sid]\n[distros.\"wheezy/updates\"]\nuri = \"http://mirror.example.org/debian-security\"\nurl = \"x\"\n",
			want:    `piuparts.toml:6: distro "wheezy/updates": unknown key "url"`,
			wantErr: config.ErrUnknownKey, line: 6, table: "distros.wheezy/updates", key: "url",
		},
		{
			name:    "BadDays",
			in:      "[global]\nsections = [\"sid\"]\nexpire-old-days = \"soon\"\n[sid]\n",
			want:    `piuparts.toml:3: section "global": key "expire-old-days": want a number of days or "+N", have "soon"`,
			wantErr: config.ErrInvalidValue, line: 3, table: "global", key: "expire-old-days",
		},
		{
			name:    "NulInString",
			in:      "[global]\nsections = [\"sid\"]\n[sid]\ntmpdir = \"/tmp\\u0000x\"\n",
			want:    `piuparts.toml:4: section "sid": key "tmpdir": value holds a NUL byte`,
			wantErr: config.ErrInvalidValue, line: 4, table: "sid", key: "tmpdir",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(tt.in), "piuparts.toml")
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want %q", tt.in, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse error\n got %s\nwant %s", err, tt.want)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantErr)
			}
			var ce *config.Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *config.Error", err)
			}
			if ce.Line != tt.line || ce.Table != tt.table || ce.Key != tt.key {
				t.Errorf("Error{Line: %d, Table: %q, Key: %q}, want {%d, %q, %q}", ce.Line, ce.Table, ce.Key, tt.line, tt.table, tt.key)
			}
		})
	}
}

func TestParse_SeveralErrorsInFileOrder(t *testing.T) {
	in := "[global]\nsections = [\"sid\"]\n[sid]\nzzz = 1\ndistro = 5\naaa = 2\n"
	_, err := config.Parse(strings.NewReader(in), "p.toml")
	want := `p.toml:4: section "sid": unknown key "zzz"` + "\n" +
		`p.toml:5: section "sid": key "distro": want a string, have an integer` + "\n" +
		`p.toml:6: section "sid": unknown key "aaa" (did you mean "area"?)`
	if err == nil || err.Error() != want {
		t.Errorf("Parse error\n got %v\nwant %s", err, want)
	}
}

func TestLoad_MissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "none.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(missing) error = %v, want os.ErrNotExist", err)
	}
}

func TestParse_Supervisor(t *testing.T) {
	c := parse(t, "[global]\nsections = [\"sid\"]\n[sid]\n[supervisor]\nbackoff-limit = 4\nforever = true\nexit-codes = [0, 3]\numask = \"027\"\nprogram = \"/bin/sleep 60\"\n[supervisor.environment]\nLANG = \"C\"\n")
	sv := c.Supervisor
	if sv.BackoffLimit != 4 || !sv.Forever || !slices.Equal(sv.ExitCodes, []int{0, 3}) || sv.Umask != 0o027 ||
		!slices.Equal([]string(sv.Program), []string{"/bin/sleep", "60"}) || sv.Environment["LANG"] != "C" || !sv.Daemon {
		t.Errorf("Supervisor = %+v", sv)
	}
	if !sv.Set["forever"] || sv.Set["daemon"] {
		t.Errorf("Supervisor.Set = %v, want forever set and daemon not", sv.Set)
	}
	d := parse(t, "[global]\nsections = [\"sid\"]\n[sid]\n").Supervisor
	if d.BackoffLimit != 10 || !slices.Equal(d.ExitCodes, []int{0, 2}) || d.Umask != 0o022 || !d.Daemon || d.Forever {
		t.Errorf("default Supervisor = %+v", d)
	}
	for _, bad := range []string{"exit-codes = \"0,x\"", "umask = \"999\"", "backoff-limit = 0", "colour = 1", "environment = 3"} {
		if _, err := config.Parse(strings.NewReader("[global]\nsections = [\"sid\"]\n[sid]\n[supervisor]\n"+bad+"\n"), "p.toml"); err == nil {
			t.Errorf("Parse([supervisor] %s) = nil error", bad)
		}
	}
}
