// Package logging builds the programs' zerolog loggers: one place that
// decides between human-readable text and JSON lines, so piuparts-master
// and piuparts-slave format their logs alike.
package logging

import (
	"encoding/json"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"piuparts-server/internal/config"
)

// New returns a logger that writes to w at level and above, every event
// with a timestamp and a "prog" field naming the program. format is a
// value of the config's log-format: config.FormatText (zerolog's
// ConsoleWriter), config.FormatJSON (one object per line) or
// config.FormatAuto (text when w is a terminal, JSON otherwise); any other
// value is taken as config.FormatAuto. Text on a terminal is coloured, text elsewhere is not.
func New(w io.Writer, prog string, level zerolog.Level, format string) zerolog.Logger {
	tty := IsTerminal(w)
	if format == config.FormatText || (format != config.FormatJSON && tty) {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.RFC3339, NoColor: !tty}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Str("prog", prog).Logger()
}

// IsTerminal reports whether w is an *os.File open on a terminal (not
// merely a character device such as /dev/null).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// IsError reports whether line, one line of a log that [New] wrote in
// either format, is an event at error level or above: a JSON object whose
// "level" is error, fatal or panic, or a text line whose level word (after
// the timestamp) is ERR, FTL or PNC.
func IsError(line string) bool {
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "{") {
		// A map, not a struct: the field is "level" exactly, as zerolog
		// writes it (a struct would match "LEVEL" too).
		var ev map[string]any
		if json.Unmarshal([]byte(line), &ev) != nil {
			return false
		}
		level, _ := ev["level"].(string)
		switch level {
		case zerolog.LevelErrorValue, zerolog.LevelFatalValue, zerolog.LevelPanicValue:
			return true
		}
		return false
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		return false
	}
	switch f[1] {
	case "ERR", "FTL", "PNC":
		return true
	}
	return false
}
