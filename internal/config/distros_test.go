package config_test

import (
	"errors"
	"slices"
	"testing"

	"piuparts-server/internal/config"
)

// distrosTOML models a part of Debian's /etc/piuparts/distros.conf.
const distrosTOML = `
[global]
sections = ["sid"]
[sid]

[distros."bullseye-security"]
uri = "http://security.example.org/debian-security"
depends = ["bullseye"]

[distros.bullseye-backports]
depends = ["bullseye", "bullseye-security"]
target-release = "bullseye-backports"

[distros.bullseye-next]
uri = "None"
depends = ["bullseye", "bullseye-security"]
candidates = ["bullseye", "bullseye-security"]

[distros.stable]
distribution = "bullseye"

[distros.only-virtual]
uri = "None"

[distros.main-only]
components = ["main"]
`

func TestDistros(t *testing.T) {
	c := parse(t, distrosTOML)
	ds := c.Distros
	const m = "http://mirror.example.org/debian"
	exp, err := ds.ExpandDepends("bullseye-backports")
	if want := []string{"bullseye", "bullseye-security", "bullseye-backports"}; err != nil || !slices.Equal(exp, want) {
		t.Errorf("ExpandDepends(bullseye-backports) = %q, %v; want %q", exp, err, want)
	}
	exp, err = ds.ExpandDepends("bullseye-next")
	if want := []string{"bullseye", "bullseye-security"}; err != nil || !slices.Equal(exp, want) {
		t.Errorf("ExpandDepends(bullseye-next) = %q, %v; want %q (virtual left out)", exp, err, want)
	}
	if _, err := ds.ExpandDepends("only-virtual"); !errors.Is(err, config.ErrVirtualOnly) {
		t.Errorf("ExpandDepends(only-virtual) error = %v, want ErrVirtualOnly", err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"packages URL of a plain distro", ds.PackagesURLs("sid", "main", "amd64", m), []string{m + "/dists/sid/main/binary-amd64/Packages"}},
		{"alias distribution", ds.PackagesURLs("stable", "main", "amd64", m), []string{m + "/dists/bullseye/main/binary-amd64/Packages"}},
		{"candidates", ds.PackagesURLs("bullseye-next", "contrib", "i386", m), []string{
			m + "/dists/bullseye/contrib/binary-i386/Packages",
			"http://security.example.org/debian-security/dists/bullseye-security/contrib/binary-i386/Packages"}},
		{"sources URL", ds.SourcesURLs("sid", "main", m), []string{m + "/dists/sid/main/source/Sources"}},
		{"virtual mirror is its first real dependency's", ds.Mirror("bullseye-next", m), m},
		{"target flags", ds.TargetFlags("bullseye-backports"), []string{"-t", "bullseye-backports"}},
		{"no target flags", ds.TargetFlags("sid"), []string(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !slices.Equal(toStrings(tt.got), toStrings(tt.want)) {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
	lines, err := ds.DebLines("bullseye-backports", []string{"main", "contrib"}, m)
	want := []string{
		"deb " + m + " bullseye main", "deb " + m + " bullseye contrib",
		"deb http://security.example.org/debian-security bullseye-security main",
		"deb http://security.example.org/debian-security bullseye-security contrib",
		"deb " + m + " bullseye-backports main", "deb " + m + " bullseye-backports contrib",
	}
	if err != nil || !slices.Equal(lines, want) {
		t.Errorf("DebLines = %q, %v\nwant %q", lines, err, want)
	}
	if lines, _ := ds.DebLines("main-only", []string{"main", "contrib"}, m); !slices.Equal(lines, []string{"deb " + m + " main-only main"}) {
		t.Errorf("DebLines(main-only) = %q, want only main", lines)
	}
	tgz, err := ds.BaseTarball("bullseye-backports", "amd64", true)
	if err != nil || tgz != "bullseye-merged-usr_amd64.tar.gz" {
		t.Errorf("BaseTarball = %q, %v; want bullseye-merged-usr_amd64.tar.gz", tgz, err)
	}
}

func toStrings(v any) []string {
	switch x := v.(type) {
	case []string:
		return x
	case string:
		return []string{x}
	}
	return nil
}
