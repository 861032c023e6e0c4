// Package logging builds the programs' zerolog loggers: one place that
// decides between human-readable text and JSON lines, so piuparts-master
// and piuparts-slave format their logs alike.
package logging

import (
	"io"
	"os"
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
