package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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

// master is what serving needs, set up from the config: the master
// directory, the global log and the opener of the sections' logs.
type masterSetup struct {
	cfg     *config.Config
	dir     string
	log     zerolog.Logger
	logFile *os.File
	openLog func(path string) (zerolog.Logger, io.Closer, error)
}

// setup loads the config and prepares the master directory and the logs.
// Run as root on a master directory of another user, it refuses before
// touching anything.
func setup(ctx context.Context, e *env) (*masterSetup, error) {
	cfg, err := config.LoadForHost(ctx, e.configPath, "/etc/apt")
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(cfg.Global.MasterDirectory)
	if err != nil {
		return nil, fmt.Errorf("master directory: %w", err)
	}
	if err := store.CheckOwner(dir); err != nil {
		return nil, e.asMasterUser(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("master directory: %w", err)
	}
	// The global log (the reference's master-error.log): warnings and
	// errors before a section is chosen, and everything of that level when
	// no section log opens.
	format := cfg.Global.LogFormat
	ms := &masterSetup{cfg: cfg, dir: dir}
	ms.log, ms.logFile = openLog(under(dir, cfg.Global.ErrorLogFile()), e.stderr, globalLevel(&cfg.Global), format)
	// A section's log (SECTION/master.log) is at the section's log-level.
	levels := map[string]zerolog.Level{}
	for _, name := range cfg.SectionsByPrecedence() {
		s := cfg.Sections[name]
		p := under(dir, s.MasterLogFile())
		if _, ok := levels[p]; !ok {
			levels[p] = s.Level()
		}
	}
	ms.openLog = func(path string) (zerolog.Logger, io.Closer, error) {
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
		return newLogger(f, level, format), f, nil
	}
	return ms, nil
}

func (ms *masterSetup) close() {
	if ms.logFile != nil {
		ms.logFile.Close()
	}
}

// serve runs the protocol on stdin/stdout: what sshd's forced command
// starts. With master-server (the default) it hands the session to the
// master directory's server, starting the server when none runs, and
// serves it itself only when that fails. Its logs go to files under the
// master directory, never to stdout.
func serve(ctx context.Context, e *env, opts serveOptions) error {
	ms, err := setup(ctx, e)
	if err != nil {
		return err
	}
	defer ms.close()
	holder := holderFrom(opts.slaveID, e.getenv)
	h := master.SessionHeader{Holder: holder, Identified: opts.slaveID != "", OriginalCommand: cut(e.getenv("SSH_ORIGINAL_COMMAND"), 200)}
	if ms.cfg.Global.MasterServer && e.exe != "" {
		nc, err := dialServer(ctx, e, ms)
		if err == nil {
			return ms.ended(holder, proxy(ctx, ms, nc, h, e.stdin, e.stdout))
		}
		ms.log.Warn().Err(err).Msg("no master server: serving this connection alone")
	}
	db, err := store.OpenMaster(ctx, ms.dir, ms.cfg.Global.DB)
	if err != nil {
		ms.log.Error().Err(err).Msg("ABORT")
		return err
	}
	defer db.Close()
	sess := master.BoundSession(ctx, &ms.cfg.Global, time.Now(), e.stdin, e.stdout)
	defer sess.Close()
	// A forced command runs this program whatever the client asked; the
	// request is only recorded, at debug level in the first section log.
	origCmd := h.OriginalCommand
	err = master.Serve(sess.Ctx, master.Config{
		Piuparts: ms.cfg,
		DB:       db,
		Log:      ms.log,
		OpenLog: func(path string) (zerolog.Logger, io.Closer, error) {
			l, c, err := ms.openLog(path)
			if err == nil && origCmd != "" {
				l.Debug().Str("slave", holder).Str("ssh_original_command", origCmd).Msg("ignoring the client's command")
				origCmd = ""
			}
			return l, c, err
		},
		Limits:     master.LimitsFor(&ms.cfg.Global),
		Holder:     holder,
		Identified: h.Identified,
	}, sess.In, sess.Out)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && errors.Is(context.Cause(sess.Ctx), protocol.ErrSessionTimeout) {
		err = fmt.Errorf("%w: %w", protocol.ErrSessionTimeout, err)
	}
	return ms.ended(holder, err)
}

// ended logs why a session ended with err, if it did not end cleanly, and
// returns err.
func (ms *masterSetup) ended(holder string, err error) error {
	if err == nil {
		return nil
	}
	reason := master.EndReason(err)
	var se *sessionError
	if errors.As(err, &se) && se.reason != "" {
		reason = se.reason
	}
	ev := ms.log.Error()
	if reason == master.ReasonGone {
		ev = ms.log.Warn()
	}
	ev.Err(err).Str("slave", holder).Str("reason", reason).Msg("connection ended")
	return err
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
