package slave

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
	"piuparts-server/internal/fsutil"
	"piuparts-server/slave/remote"
)

// ShipLogName is the shipping log's name under slave-directory: one line
// per log the master acknowledged, from every worker and section.
const ShipLogName = "shipping.log"

// CleanupTimeout bounds the talk with the master that unreserves what was
// not tested once the context was cancelled.
const CleanupTimeout = 2 * time.Minute

// ErrRestart is returned by Run after Control.Restart, once every worker
// has shipped its finished logs.
var ErrRestart = errors.New("slave: restart requested")

// ErrUnreachable is wrapped by the error Run returns with Config.UntilIdle
// when a section's master could not be reached or failed and nothing else
// is left to do.
var ErrUnreachable = errors.New("master unreachable")

// ErrBusy is wrapped by the error Run returns when another slave works in
// slave-directory.
var ErrBusy = errors.New("slave: already running")

// ErrNoTarball is wrapped by the error Run returns with Config.UntilIdle
// when a section has packages to test but no base tarball.
var ErrNoTarball = errors.New("no base tarball")

// Config is what Run needs.
type Config struct {
	// Piuparts is the loaded configuration, with Mirror and Arch set
	// (config.Config.ApplyHost).
	Piuparts *config.Config
	// Reload, when set, is called before each round to pick up changes to
	// the config file, as the reference re-reads it; an error is logged
	// and the previous config kept.
	Reload func() (*config.Config, error)
	// Sections are the sections to work on, in order; nil means [global]
	// sections followed by basetgz-sections.
	Sections []string
	// Dir is slave-directory, absolute; worker N works in Dir/N.
	Dir string
	// Workers is the number of workers; 0 means slave-count.
	Workers int
	// UntilIdle makes Run return nil once no section has work for a
	// worker and its spools are empty, instead of sleeping.
	UntilIdle bool
	// Control carries SIGINT, SIGHUP and SIGUSR1; nil means none arrive.
	Control *Control
	// Log receives the slave's log.
	Log zerolog.Logger
	// Stderr receives the master command's standard error (local
	// transport) or the SSH session's; nil discards it.
	Stderr io.Writer
	// Getenv reads the environment (HOME, SSH_AUTH_SOCK, http_proxy); nil
	// means os.Getenv.
	Getenv func(string) string
	// Environ is the environment of piuparts runs; nil means os.Environ().
	Environ []string
	// Dial connects to a master; nil means remote.Dial. Tests use it to
	// count or break connections.
	Dial func(ctx context.Context, o remote.Options) (*remote.Client, error)
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Run runs the workers until ctx is cancelled, Control.Stop was called, or
// (with UntilIdle) nothing is left to do. It returns nil then, ErrRestart
// after Control.Restart, and an error for a config it cannot work with
// (no sections, no slave-directory) or, with UntilIdle, an error wrapping
// ErrUnreachable when a master could not be reached or ErrNoTarball when
// a base tarball could not be made. Cancelling ctx stops
// running tests; their packages are unreserved.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Piuparts == nil {
		return errors.New("slave: no config")
	}
	if cfg.Control == nil {
		cfg.Control = NewControl()
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Environ == nil {
		cfg.Environ = os.Environ()
	}
	if cfg.Dial == nil {
		cfg.Dial = remote.Dial
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	if cfg.Dir == "" {
		return errors.New("slave: slave-directory not set")
	}
	if cfg.Sections == nil {
		g := cfg.Piuparts.Global
		cfg.Sections = append(slices.Clone(g.SectionNames), g.BasetgzSections...)
	}
	if len(cfg.Sections) == 0 {
		return errors.New("slave: no sections")
	}
	n := cfg.Workers
	if n <= 0 {
		n = cfg.Piuparts.Global.SlaveCount
	}
	if n <= 0 {
		n = 1
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return fmt.Errorf("create slave-directory: %w", err)
	}
	// One slave per slave-directory: a second one would only find its
	// spools busy and loiter.
	lock, err := fsutil.LockPID(filepath.Join(cfg.Dir, RunLockFile))
	if err != nil {
		var le *fsutil.LockedError
		if errors.As(err, &le) {
			return fmt.Errorf("%w: slave-directory %s is in use by piuparts-slave run, pid %d", ErrBusy, cfg.Dir, le.PID)
		}
		return fmt.Errorf("slave-directory %s: %w", cfg.Dir, err)
	}
	defer lock.Close()

	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		w, err := newWorker(&cfg, i+1)
		if err != nil {
			return err
		}
		wg.Go(func() {
			defer w.closeConn()
			w.publish(WorkerStatus{State: StateStarting})
			errs[i] = w.run(ctx)
			w.publish(WorkerStatus{State: StateStopped})
		})
	}
	wg.Wait()
	restart := false
	for _, err := range errs {
		switch {
		case errors.Is(err, ErrRestart):
			restart = true
		case err != nil:
			return err
		}
	}
	if restart {
		return ErrRestart
	}
	return nil
}

// workerDir is worker n's directory under slave-directory.
func workerDir(dir string, n int) string { return filepath.Join(dir, strconv.Itoa(n)) }
