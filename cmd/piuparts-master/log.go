package main

import (
	"io"
	"os"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
	"piuparts-server/internal/logging"
)

// prog names this program in every log line.
const prog = "piuparts-master"

// newLogger builds a logger on w at level in the config's log-format. The
// master's stdout is the protocol, so w is never stdout.
func newLogger(w io.Writer, level zerolog.Level, format string) zerolog.Logger {
	return logging.New(w, prog, level, format)
}

// globalLevel is the level of the global log (log-file, master-error.log):
// warnings and errors only, or errors only with log-level "error", so that
// it stays empty after normal connections (Debian's wrapper deletes it
// when empty).
func globalLevel(g *config.Global) zerolog.Level {
	return max(zerolog.WarnLevel, g.Level())
}

// openLog opens the log file at path for appending, or logs to fallback
// when it cannot.
func openLog(path string, fallback io.Writer, level zerolog.Level, format string) (zerolog.Logger, *os.File) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		l := newLogger(fallback, level, format)
		l.Warn().Err(err).Str("file", path).Msg("cannot open log file, logging here")
		return l, nil
	}
	return newLogger(f, level, format), f
}
