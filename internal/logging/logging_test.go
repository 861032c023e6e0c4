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
