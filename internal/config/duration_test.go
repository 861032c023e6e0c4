package config_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"piuparts-server/internal/config"
)

func TestParse_Durations(t *testing.T) {
	const head = "[global]\nsections = [\"sid\"]\n[sid]\n"
	tests := []struct {
		name string
		in   string
		get  func(*config.Section) time.Duration
		want time.Duration
	}{
		{"IntegerIsSeconds", "idle-sleep = 90", func(s *config.Section) time.Duration { return s.IdleSleep }, 90 * time.Second},
		{"Minutes", `piuparts-timeout = "90m"`, func(s *config.Section) time.Duration { return s.PiupartsTimeout }, 90 * time.Minute},
		{"HoursAndMinutes", `unreachable-wait = "1h30m"`, func(s *config.Section) time.Duration { return s.UnreachableWait }, 90 * time.Minute},
		{"Seconds", `connect-timeout = "45s"`, func(s *config.Section) time.Duration { return s.ConnectTimeout }, 45 * time.Second},
		{"Days", `reserved-expire = "2d"`, func(s *config.Section) time.Duration { return s.ReservedExpire }, 48 * time.Hour},
		{"FractionalDays", `reserved-expire = "1.5d"`, func(s *config.Section) time.Duration { return s.ReservedExpire }, 36 * time.Hour},
		{"DaysAndHours", `max-tgz-age = "1d12h"`, func(s *config.Section) time.Duration { return s.MaxTgzAge }, 36 * time.Hour},
		{"NegativeWhereAllowed", "max-tgz-age = -1", func(s *config.Section) time.Duration { return s.MaxTgzAge }, -time.Second},
		{"NegativeStringWhereAllowed", `max-tgz-age = "-2d"`, func(s *config.Section) time.Duration { return s.MaxTgzAge }, -48 * time.Hour},
		{"ZeroString", `slave-flush-interval = "0"`, func(s *config.Section) time.Duration { return s.SlaveFlushInterval }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parse(t, head+tt.in+"\n")
			if got := tt.get(section(t, c, "sid")); got != tt.want {
				t.Errorf("%s: got %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParse_DurationErrors(t *testing.T) {
	const head = "[global]\nsections = [\"sid\"]\n[sid]\n"
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr error
		key     string
	}{
		{"Bogus", `idle-sleep = "bogus"`,
			`piuparts.toml:4: section "sid": key "idle-sleep": want a duration such as "90m", "1h30m" or "2d", have "bogus"`,
			config.ErrInvalidValue, "idle-sleep"},
		{"MissingUnit", `idle-sleep = "300"`,
			`piuparts.toml:4: section "sid": key "idle-sleep": want a duration such as "90m", "1h30m" or "2d", have "300"`,
			config.ErrInvalidValue, "idle-sleep"},
		{"DaysTwice", `idle-sleep = "1d2d"`,
			`piuparts.toml:4: section "sid": key "idle-sleep": want a duration such as "90m", "1h30m" or "2d", have "1d2d"`,
			config.ErrInvalidValue, "idle-sleep"},
		{"NegativeInteger", "idle-sleep = -5",
			`piuparts.toml:4: section "sid": key "idle-sleep": want a duration >= 0s, have -5s`,
			config.ErrInvalidValue, "idle-sleep"},
		{"NegativeString", `unreachable-wait = "-1h"`,
			`piuparts.toml:4: section "sid": key "unreachable-wait": want a duration >= 0s, have -1h`,
			config.ErrInvalidValue, "unreachable-wait"},
		{"BelowMinimum", `reserved-expire = "30s"`,
			`piuparts.toml:4: section "sid": key "reserved-expire": want a duration >= 1m, have 30s`,
			config.ErrInvalidValue, "reserved-expire"},
		{"Overflow", "idle-sleep = 9223372036854775807",
			`piuparts.toml:4: section "sid": key "idle-sleep": 9223372036854775807 seconds is out of range`,
			config.ErrInvalidValue, "idle-sleep"},
		{"OverflowDays", `idle-sleep = "200000d"`,
			`piuparts.toml:4: section "sid": key "idle-sleep": want a duration such as "90m", "1h30m" or "2d", have "200000d"`,
			config.ErrInvalidValue, "idle-sleep"},
		{"Float", "idle-sleep = 1.5",
			`piuparts.toml:4: section "sid": key "idle-sleep": want an integer (seconds) or a duration string such as "90m" or "2d", have a float`,
			config.ErrWrongType, "idle-sleep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(head+tt.in+"\n"), "piuparts.toml")
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want an error", tt.in)
			}
			if err.Error() != tt.want {
				t.Errorf("Parse(%q) error = %q, want %q", tt.in, err, tt.want)
			}
			var ce *config.Error
			if !errors.As(err, &ce) || !errors.Is(err, tt.wantErr) || ce.Line != 4 || ce.Table != "sid" || ce.Key != tt.key {
				t.Errorf("Parse(%q) error = %#v, want %v at line 4, table sid, key %s", tt.in, ce, tt.wantErr, tt.key)
			}
		})
	}
}

// TestImportINI_DurationsInSeconds: piuparts.conf's integer seconds stay
// integers in the TOML, and load as the same durations.
func TestImportINI_DurationsInSeconds(t *testing.T) {
	const ini = "[global]\nsections = sid\nidle-sleep = 1800\n[sid]\nmax-tgz-age = -1\nmin-tgz-retry-delay = 3600\n"
	var out bytes.Buffer
	if err := config.ImportINI(strings.NewReader(ini), "piuparts.conf", &out); err != nil {
		t.Fatalf("ImportINI: %v", err)
	}
	for _, line := range []string{"\nidle-sleep = 1800\n", "\nmax-tgz-age = -1\n", "\nmin-tgz-retry-delay = 3600\n"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("converted file lacks %q:\n%s", strings.TrimSpace(line), out.String())
		}
	}
	c := parse(t, out.String())
	s := section(t, c, "sid")
	if s.IdleSleep != 30*time.Minute || s.MaxTgzAge != -time.Second || s.MinTgzRetryDelay != time.Hour {
		t.Errorf("loaded idle-sleep %v, max-tgz-age %v, min-tgz-retry-delay %v; want 30m0s, -1s, 1h0m0s", s.IdleSleep, s.MaxTgzAge, s.MinTgzRetryDelay)
	}
}

func TestKnownKeys_DurationDefaults(t *testing.T) {
	want := map[string]string{
		"reserved-expire":      `"2d"`,
		"read-idle-timeout":    `"15m"`,
		"piuparts-timeout":     `"1h30m"`,
		"slave-flush-interval": `"0s"`,
	}
	for _, k := range config.KnownKeys() {
		if w, ok := want[k.Name]; ok {
			if k.Default != w || k.Type != "duration" {
				t.Errorf("KnownKeys %s: default %s, type %s; want %s, duration", k.Name, k.Default, k.Type, w)
			}
			delete(want, k.Name)
		}
	}
	for k := range want {
		t.Errorf("KnownKeys lacks %s", k)
	}
}
