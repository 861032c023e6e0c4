package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
)

func TestParse_SectionNames(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
		line int
		key  string
	}{
		{"Tilde", "[global]\nsections = [\"sid~exp\"]\n[\"sid~exp\"]\n", true, 0, ""},
		{"TildeInDepends", "[global]\nsections = [\"sid\", \"sid~exp\"]\n[sid]\n[\"sid~exp\"]\ndepends-sections = [\"sid\"]\n", true, 0, ""},
		{"Slash", "[global]\nsections = [\"a/b\"]\n[\"a/b\"]\n", false, 2, "sections"},
		{"Hidden", "[global]\nsections = [\".x\"]\n[\".x\"]\n", false, 2, "sections"},
		{"Dash", "[global]\nsections = [\"-x\"]\n[\"-x\"]\n", false, 2, "sections"},
		{"DotDot", "[global]\nsections = [\"..\"]\n", false, 2, "sections"},
		{"TooLong", "[global]\nsections = [\"" + strings.Repeat("a", 126) + "\"]\n", false, 2, "sections"},
		{"BasetgzDash", "[global]\nsections = []\n\nbasetgz-sections = [\"-x\"]\n", false, 4, "basetgz-sections"},
		{"DependsHidden", "[global]\nsections = [\"sid\"]\n[sid]\n\ndepends-sections = [\".git\"]\n", false, 5, "depends-sections"},
		{"Reserved", "[global]\nsections = [\"distros\"]\n", false, 2, "sections"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(tt.in), "piuparts.toml")
			if tt.ok {
				if err != nil {
					t.Fatalf("Parse(%q) = %v, want success", tt.in, err)
				}
				return
			}
			var ce *config.Error
			if !errors.As(err, &ce) || !errors.Is(err, config.ErrInvalidValue) {
				t.Fatalf("Parse(%q) error = %v, want a *config.Error wrapping ErrInvalidValue", tt.in, err)
			}
			if ce.Line != tt.line || ce.Key != tt.key {
				t.Errorf("Parse(%q) error at line %d key %q, want line %d key %q (%v)", tt.in, ce.Line, ce.Key, tt.line, tt.key, err)
			}
			if !strings.Contains(err.Error(), "section name") {
				t.Errorf("Parse(%q) error = %v, want it to say the section name is refused", tt.in, err)
			}
		})
	}
}

func TestParse_NewKeys(t *testing.T) {
	c := parse(t, `
[global]
sections = ["a", "b"]
session-timeout = "2s"
write-timeout = 30
log-format = "json"
log-level = "warn"
[a]
max-reserved = 10
max-reserved-per-slave = 3
log-level = "error"
[b]
debug = true
`)
	a, b := section(t, c, "a"), section(t, c, "b")
	tests := []struct {
		name      string
		got, want any
	}{
		{"session-timeout", c.Global.SessionTimeout, 2 * time.Second},
		{"write-timeout", c.Global.WriteTimeout, 30 * time.Second},
		{"log-format", c.Global.LogFormat, config.FormatJSON},
		{"global log-level", c.Global.Level(), zerolog.WarnLevel},
		{"own log-level", a.Level(), zerolog.ErrorLevel},
		{"debug raises the inherited level", b.Level(), zerolog.DebugLevel},
		{"max-reserved-per-slave", a.MaxReservedPerSlave, 3},
		{"cap is max-reserved-per-slave", a.ReservedCap(), 3},
		{"cap is max-reserved by default", b.ReservedCap(), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestParse_NewKeyDefaults(t *testing.T) {
	c := parse(t, "[global]\nsections = [\"sid\"]\n[sid]\n")
	s := section(t, c, "sid")
	tests := []struct {
		name      string
		got, want any
	}{
		{"session-timeout", c.Global.SessionTimeout, config.DefaultSessionTimeout},
		{"session-timeout is 15m", config.DefaultSessionTimeout, 15 * time.Minute},
		{"write-timeout", c.Global.WriteTimeout, time.Minute},
		{"log-format", c.Global.LogFormat, config.FormatAuto},
		{"log-level", s.LogLevel, config.LevelInfo},
		{"level", s.Level(), zerolog.InfoLevel},
		{"max-reserved-per-slave", s.MaxReservedPerSlave, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestSection_ReservedCap(t *testing.T) {
	tests := []struct {
		maxReserved, perSlave, want int
	}{
		{50, 0, 50},
		{50, 5, 5},
		{5, 50, 50},
		{0, 0, 0},
		{0, 3, 3},
	}
	for _, tt := range tests {
		s := config.Section{MaxReserved: tt.maxReserved, MaxReservedPerSlave: tt.perSlave}
		if got := s.ReservedCap(); got != tt.want {
			t.Errorf("ReservedCap(max-reserved %d, per slave %d) = %d, want %d", tt.maxReserved, tt.perSlave, got, tt.want)
		}
	}
}

func TestParse_NewKeyErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"LogLevel", "[global]\nsections = []\nlog-level = \"verbose\"\n",
			`piuparts.toml:3: section "global": key "log-level": want one of "error", "warn", "info", "debug", have "verbose"`},
		{"LogFormat", "[global]\nsections = []\nlog-format = \"xml\"\n",
			`piuparts.toml:3: section "global": key "log-format": want one of "text", "json", "", have "xml"`},
		{"LogFormatInSection", "[global]\nsections = [\"sid\"]\n[sid]\nlog-format = \"json\"\n",
			`piuparts.toml:4: section "sid": unknown key "log-format" (only valid in [global])`},
		{"SessionTimeoutZero", "[global]\nsections = []\nsession-timeout = 0\n",
			`piuparts.toml:3: section "global": key "session-timeout": want a duration >= 1s, have 0s`},
		{"WriteTimeoutBogus", "[global]\nsections = []\nwrite-timeout = \"soon\"\n",
			`piuparts.toml:3: section "global": key "write-timeout": want a duration such as "90m", "1h30m" or "2d", have "soon"`},
		{"PerSlaveNegative", "[global]\nsections = []\nmax-reserved-per-slave = -1\n",
			`piuparts.toml:3: section "global": key "max-reserved-per-slave": want an integer >= 0, have -1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(tt.in), "piuparts.toml")
			if err == nil || err.Error() != tt.want {
				t.Errorf("Parse(%q) error = %v, want %q", tt.in, err, tt.want)
			}
		})
	}
}
