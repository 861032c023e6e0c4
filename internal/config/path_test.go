package config_test

import (
	"testing"

	"piuparts-server/internal/config"
)

func TestResolvePath(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == config.PathEnv {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		name, flag, env, want string
	}{
		{"FlagWins", "/srv/a.toml", "/srv/b.toml", "/srv/a.toml"},
		{"Env", "", "/srv/b.toml", "/srv/b.toml"},
		{"Default", "", "", "/etc/piuparts/piuparts.toml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := config.ResolvePath(tc.flag, env(tc.env)); got != tc.want {
				t.Errorf("ResolvePath(%q) with $PIUPARTS_CONFIG=%q = %q, want %q", tc.flag, tc.env, got, tc.want)
			}
		})
	}
}
