package config_test

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"piuparts-server/internal/config"
)

// importBoth converts a piuparts.conf and a distros.conf the way
// "piuparts-master config import PIUPARTS.CONF DISTROS.CONF" does and loads the result.
func importBoth(t *testing.T, conf, distros string) *config.Config {
	t.Helper()
	var out bytes.Buffer
	for _, f := range []struct {
		path    string
		import_ func(r *os.File, name string, w *bytes.Buffer) error
	}{
		{conf, func(r *os.File, name string, w *bytes.Buffer) error { return config.ImportINI(r, name, w) }},
		{distros, func(r *os.File, name string, w *bytes.Buffer) error { return config.ImportDistrosINI(r, name, w) }},
	} {
		r, err := os.Open(f.path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := f.import_(r, f.path, &out); err != nil {
			t.Fatalf("import %s: %v", f.path, err)
		}
	}
	cfg, err := config.Parse(&out, "imported.toml")
	if err != nil {
		t.Fatalf("imported config does not load: %v\n%s", err, out.String())
	}
	return cfg
}

func TestImportDistrosINI(t *testing.T) {
	cfg := importBoth(t, "testdata/multi_section.conf", "testdata/distros_partial.conf")
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"BackportsDepends", cfg.Distros.Get("bookworm-backports").Depends, []string{"bookworm"}},
		{"BackportsTarget", cfg.Distros.Get("bookworm-backports").TargetRelease, "bookworm-backports"},
		{"SlashNameDistribution", cfg.Distros.Distribution("bookworm/updates"), "bookworm-security"},
		{"Virtual", cfg.Distros.IsVirtual("bookworm-current"), true},
		{"Candidates", cfg.Distros.Candidates("bookworm-current"), []string{"bookworm", "bookworm/updates"}},
		{"EmptyComponentsUnset", cfg.Distros.Get("bookworm-current").Components, []string(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !equalAny(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func equalAny(a, b any) bool {
	as, aok := a.([]string)
	bs, bok := b.([]string)
	if aok && bok {
		return slices.Equal(as, bs)
	}
	return a == b
}

// Debian's own distros.conf, read where piuparts-master installs it (not copied into
// testdata: it names Debian's archive hosts).
func TestImportDistrosINI_Debian(t *testing.T) {
	const debian = "/etc/piuparts/distros.conf"
	if _, err := os.Stat(debian); err != nil {
		t.Skipf("Debian's %s is absent (make test-deps installs piuparts-master): %v", debian, err)
	}
	cfg := importBoth(t, "testdata/multi_section.conf", debian)
	if got := cfg.Distros.Get("squeeze-lts").Depends; !slices.Equal(got, []string{"squeeze"}) {
		t.Errorf("squeeze-lts depends = %q, want [squeeze]", got)
	}
	if !cfg.Distros.IsVirtual("wheezy-lts") {
		t.Errorf("wheezy-lts is not virtual; distros.conf gives it uri = None")
	}
	if got := cfg.Distros.Candidates("wheezy-lts"); !slices.Equal(got, []string{"wheezy", "wheezy/updates"}) {
		t.Errorf("wheezy-lts candidates = %q, want [wheezy wheezy/updates]", got)
	}
	if len(cfg.Distros) < 40 {
		t.Errorf("imported %d distros from %s, want all of them (40+)", len(cfg.Distros), debian)
	}
}

func TestImportDistrosINI_UnknownKey(t *testing.T) {
	in := "[bookworm-backports]\nuri = http://mirror.example.org/debian\ndepnds = bookworm\n"
	err := config.ImportDistrosINI(strings.NewReader(in), "distros.conf", &bytes.Buffer{})
	if !errors.Is(err, config.ErrUnknownKey) || !strings.Contains(err.Error(), "distros.conf:3") {
		t.Errorf("ImportDistrosINI(typo) = %v, want ErrUnknownKey at distros.conf:3", err)
	}
}

// TestImportDistrosINI_Default: a [DEFAULT] of distros.conf reaches every
// distro, its %(key)s expanded per distro, as DistrosConf reads it.
func TestImportDistrosINI_Default(t *testing.T) {
	const minimal = "[global]\nsections = [\"sid\"]\n[sid]\ndistro = \"sid\"\n"
	// name is no distros.conf key: a helper that %(name)s refers to.
	in := "[DEFAULT]\ntarget-release = %(name)s-backports\nname = x\ndepends = sid\n[bookworm-bpo]\nname = bookworm\n[trixie-bpo]\nname = trixie\ntarget-release = own\n"
	var out bytes.Buffer
	out.WriteString(minimal)
	if err := config.ImportDistrosINI(strings.NewReader(in), "distros.conf", &out); err != nil {
		t.Fatalf("ImportDistrosINI: %v", err)
	}
	cfg, err := config.Parse(bytes.NewReader(out.Bytes()), "out.toml")
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, out.String())
	}
	for name, want := range map[string]string{"bookworm-bpo": "bookworm-backports", "trixie-bpo": "own"} {
		if got := cfg.Distros.Get(name).TargetRelease; got != want {
			t.Errorf("%s target-release = %q, want %q\n%s", name, got, want, out.String())
		}
	}
	if got, want := cfg.Distros.Get("trixie-bpo").Depends, []string{"sid"}; !slices.Equal(got, want) {
		t.Errorf("trixie-bpo depends = %q, want %q from [DEFAULT]", got, want)
	}
}
