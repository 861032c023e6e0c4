package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
	"piuparts-server/master"
	"piuparts-server/protocol"
	"piuparts-server/store"
)

// serveOptions are the flags of the serving mode.
type serveOptions struct {
	configPath string
	slaveID    string
}

// holderFrom names the slave: --slave-id, else the client address of
// SSH_CONNECTION ("CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT"), else
// master.DefaultHolder.
func holderFrom(slaveID string, getenv func(string) string) string {
	if slaveID != "" {
		return slaveID
	}
	if f := strings.Fields(getenv("SSH_CONNECTION")); len(f) > 0 {
		return f[0]
	}
	return master.DefaultHolder
}

// serve runs the protocol on stdin/stdout: what sshd's forced command
// starts. Its logs go to files under the master directory, never to stdout.
// Run as root on a master directory of another user, it refuses before
// touching anything.
func serve(ctx context.Context, e *env, opts serveOptions) error {
	stdin, stdout, stderr, getenv := e.stdin, e.stdout, e.stderr, e.getenv
	cfg, err := config.LoadForHost(ctx, opts.configPath, "/etc/apt")
	if err != nil {
		return err
	}
	dir, err := filepath.Abs(cfg.Global.MasterDirectory)
	if err != nil {
		return fmt.Errorf("master directory: %w", err)
	}
	if err := store.CheckOwner(dir); err != nil {
		return e.asMasterUser(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("master directory: %w", err)
	}
	// The global log (the reference's master-error.log): warnings and
	// errors before a section is chosen, and everything of that level when
	// no section log opens.
	format := cfg.Global.LogFormat
	log, logFile := openLog(under(dir, cfg.Global.ErrorLogFile()), stderr, globalLevel(&cfg.Global), format)
	if logFile != nil {
		defer logFile.Close()
	}
	holder := holderFrom(opts.slaveID, getenv)
	// A section's log (SECTION/master.log) is at the section's log-level.
	levels := map[string]zerolog.Level{}
	for _, name := range cfg.SectionsByPrecedence() {
		s := cfg.Sections[name]
		p := under(dir, s.MasterLogFile())
		if _, ok := levels[p]; !ok {
			levels[p] = s.Level()
		}
	}
	// A forced command runs this program whatever the client asked; the
	// request is only recorded, at debug level in the first section log.
	origCmd := getenv("SSH_ORIGINAL_COMMAND")
	db, err := store.OpenMaster(ctx, dir, cfg.Global.DB)
	if err != nil {
		log.Error().Err(err).Msg("ABORT")
		return err
	}
	defer db.Close()
	sess := master.BoundSession(ctx, &cfg.Global, time.Now(), stdin, stdout)
	defer sess.Close()
	ctx = sess.Ctx
	err = master.Serve(ctx, master.Config{
		Piuparts: cfg,
		DB:       db,
		Log:      log,
		OpenLog: func(path string) (zerolog.Logger, io.Closer, error) {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return zerolog.Logger{}, nil, err
			}
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				return zerolog.Logger{}, nil, err
			}
			level, ok := levels[path]
			if !ok {
				level = cfg.Global.Level()
			}
			l := newLogger(f, level, format)
			if origCmd != "" {
				l.Debug().Str("slave", holder).Str("ssh_original_command", cut(origCmd, 200)).Msg("ignoring the client's command")
				origCmd = ""
			}
			return l, f, nil
		},
		Limits:     master.LimitsFor(&cfg.Global),
		Holder:     holder,
		Identified: opts.slaveID != "",
	}, sess.In, sess.Out)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && errors.Is(context.Cause(ctx), protocol.ErrSessionTimeout) {
			err = fmt.Errorf("%w: %w", protocol.ErrSessionTimeout, err)
		}
		reason := endReason(err)
		ev := log.Error()
		if reason == reasonGone {
			ev = log.Warn()
		}
		ev.Err(err).Str("slave", holder).Str("reason", reason).Msg("connection ended")
	}
	return err
}

// reasonGone is the endReason of a client that closed the connection.
const reasonGone = "client went away"

// endReason says in a few words why a session ended with err.
func endReason(err error) string {
	switch {
	case errors.Is(err, protocol.ErrSessionTimeout):
		return "session timeout"
	case errors.Is(err, protocol.ErrIdleTimeout):
		return "idle timeout"
	case errors.Is(err, protocol.ErrWriteTimeout):
		return "write timeout"
	case errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNRESET):
		return reasonGone
	case errors.Is(err, context.Canceled):
		return "signal"
	}
	return "error"
}

// under makes p absolute under dir.
func under(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
