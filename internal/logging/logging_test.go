package logging_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
	"piuparts-server/internal/logging"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name     string
		format   string
		level    zerolog.Level
		wantJSON bool
		wantInfo bool // the info line is written
	}{
		{"JSON", config.FormatJSON, zerolog.InfoLevel, true, true},
		{"Text", config.FormatText, zerolog.InfoLevel, false, true},
		{"AutoOnABufferIsJSON", config.FormatAuto, zerolog.InfoLevel, true, true},
		{"UnknownIsAuto", "xml", zerolog.InfoLevel, true, true},
		{"WarnDropsInfo", config.FormatJSON, zerolog.WarnLevel, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := logging.New(&buf, "piuparts-test", tt.level, tt.format)
			log.Debug().Msg("a debug line")
			log.Info().Str("section", "sid").Msg("an info line")
			log.Warn().Msg("a warning")
			out := buf.String()
			if strings.Contains(out, "a debug line") {
				t.Errorf("debug line written at level %v:\n%s", tt.level, out)
			}
			if got := strings.Contains(out, "an info line"); got != tt.wantInfo {
				t.Errorf("info line written = %v, want %v:\n%s", got, tt.wantInfo, out)
			}
			if !strings.Contains(out, "a warning") || !strings.Contains(out, "piuparts-test") {
				t.Errorf("warning or prog missing:\n%s", out)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			for _, l := range lines {
				var m map[string]any
				isJSON := json.Unmarshal([]byte(l), &m) == nil
				if isJSON != tt.wantJSON {
					t.Errorf("line %q: JSON = %v, want %v", l, isJSON, tt.wantJSON)
				}
				if isJSON && (m["prog"] != "piuparts-test" || m["time"] == nil) {
					t.Errorf("line %q lacks prog or time", l)
				}
			}
			if !tt.wantJSON && strings.Contains(out, "\x1b[") {
				t.Errorf("text on a buffer is coloured:\n%q", out)
			}
		})
	}
}

func TestIsTerminal(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	tests := []struct {
		name string
		w    any
	}{
		{"DevNullIsACharDeviceNotATerminal", null},
		{"Pipe", w},
		{"Buffer", &bytes.Buffer{}},
	}
	for _, tt := range tests {
		if logging.IsTerminal(tt.w.(interface{ Write([]byte) (int, error) })) {
			t.Errorf("%s: IsTerminal = true, want false", tt.name)
		}
	}
}

func TestIsError(t *testing.T) {
	for _, format := range []string{config.FormatJSON, config.FormatText} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			log := logging.New(&buf, "piuparts-test", zerolog.DebugLevel, format)
			log.Info().Str("section", "sid").Msg("reserved")
			log.Warn().Msg("a warning about ERR")
			log.Error().Str("section", "sid").Msg("cannot write")
			var errs []string
			for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				if logging.IsError(l) {
					errs = append(errs, l)
				}
			}
			if len(errs) != 1 || !strings.Contains(errs[0], "cannot write") {
				t.Errorf("IsError picked %q from\n%s\nwant the one error line", errs, buf.String())
			}
		})
	}
}

// FuzzIsError: IsError never panics, and a JSON line's answer follows its
// level alone.
func FuzzIsError(f *testing.F) {
	f.Add(`{"level":"error","message":"x"}`)
	f.Add(`2026-01-02T03:04:05Z ERR cannot write section=sid`)
	f.Add(`2026-01-02T03:04:05Z INF reserved`)
	f.Fuzz(func(t *testing.T, line string) {
		got := logging.IsError(line)
		var ev map[string]any
		if strings.HasPrefix(strings.TrimSpace(line), "{") {
			if json.Unmarshal([]byte(strings.TrimSpace(line)), &ev) != nil {
				if got {
					t.Fatalf("IsError(%q) = true for a line that is not JSON", line)
				}
				return
			}
			lv, _ := ev["level"].(string)
			if want := lv == "error" || lv == "fatal" || lv == "panic"; got != want {
				t.Fatalf("IsError(%q) = %v, want %v", line, got, want)
			}
		}
	})
}
