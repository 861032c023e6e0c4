package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"piuparts-server/internal/config"
	"piuparts-server/internal/fsutil"
)

// DefaultTarballRecheck is when a section with max-tgz-age 0 (create the
// tarball when missing, never refresh it) looks again: a day later.
const DefaultTarballRecheck = 86400 * time.Second

// TarballJob is the base tarball of one section to keep fresh.
type TarballJob struct {
	Config  *config.Config
	Section *config.Section
	// Tarball is the base tarball; "" means Tarball(Config, Section).
	Tarball string
	// Dir is the section directory, where piuparts runs and against which
	// a relative Tarball resolves; "" means the current directory.
	Dir string
	// Env is piuparts' environment; nil means os.Environ(). When [global]
	// proxy is set, http_proxy is set to it; when portserver-address is
	// set, PORTSERVER_ADDRESS is set to it.
	Env []string
	// Timeout bounds the creation; 0 means none, as in the reference.
	Timeout time.Duration
	// Now gives the time; nil means time.Now.
	Now func() time.Time
	// Grace holds the waits of the stop sequence; zero means the defaults.
	Grace Grace
}

// EnsureTarball checks the section's base tarball as piuparts-slave's
// _check_tarball does, creates it when needed, and returns when to check
// again:
//
//   - max-tgz-age < 0: never checked; EnsureTarball does nothing and
//     returns the zero Time.
//   - max-tgz-age 0: created when missing; next check in a day.
//   - max-tgz-age > 0: also recreated once older than max-tgz-age, but not
//     until min-tgz-retry-delay has passed since the last attempt (the
//     modification time of TARBALL.log); next check when one of these
//     comes due.
//
// After an attempt the next check is min-tgz-retry-delay later. To create
// the tarball it runs [TarballCommand] in its own process group (stopped
// as [Test] stops piuparts when ctx ends or Timeout passes), logging to
// TARBALL.log while holding an exclusive flock on it:
//
//	Start: 2024-05-01 12:00:00 GMT
//
//	Executing: sudo piuparts ... --apt TARBALL
//
//	(piuparts' output, as it is)
//	End: 2024-05-01 12:10:00 GMT
//
// and, when piuparts wrote TARBALL.new, renames it to TARBALL (whatever
// piuparts' exit status, as the reference).
//
// With the next time it returns an error wrapping [ErrTarballBusy] when
// another process holds the lock, [ErrTarballNotCreated] when piuparts did
// not write TARBALL.new, the error of starting piuparts (the log then ends
// in a "FAIL:" line), ctx.Err() when ctx ended, or the error of a file
// operation; and without next time the errors of [Tarball] and
// [TarballCommand].
func EnsureTarball(ctx context.Context, j TarballJob) (time.Time, error) {
	sec := j.Section
	if sec.MaxTgzAge < 0 {
		return time.Time{}, nil
	}
	now := j.Now
	if now == nil {
		now = time.Now
	}
	tarball := j.Tarball
	if tarball == "" {
		var err error
		if tarball, err = Tarball(j.Config, sec); err != nil {
			return time.Time{}, fmt.Errorf("ensure tarball: %w", err)
		}
	}
	env := runEnv(j.Config, j.Env)
	cmd, err := TarballCommand(j.Config, sec, tarball, lookupEnv(env))
	if err != nil {
		return time.Time{}, fmt.Errorf("ensure tarball: %w", err)
	}

	t := now()
	maxAge := sec.MaxTgzAge
	retry := sec.MinTgzRetryDelay
	path := inDir(j.Dir, tarball)
	var ttl time.Duration
	if sec.MaxTgzAge == 0 {
		ttl = DefaultTarballRecheck
	}
	fi, err := os.Stat(path)
	needed := err != nil
	if !needed && maxAge > 0 {
		age := t.Sub(fi.ModTime())
		ttl = maxAge - age
		if ttl < 0 {
			// Too old; but the last attempt may be too recent. Without
			// a log, the tarball's own age counts, as in the reference.
			if li, err := os.Stat(path + ".log"); err == nil {
				age = t.Sub(li.ModTime())
			}
			ttl = retry - age
			needed = ttl < 0
		}
	}
	if !needed {
		return t.Add(ttl), nil
	}
	next := t.Add(retry)
	if err := ctx.Err(); err != nil {
		return next, err
	}
	if err := createTarball(ctx, j, cmd, tarball, env, now); err != nil {
		return next, fmt.Errorf("ensure tarball %s: %w", quote(tarball), err)
	}
	return next, nil
}

// createTarball runs cmd under the lock of TARBALL.log and renames
// TARBALL.new to TARBALL when it was written.
func createTarball(ctx context.Context, j TarballJob, cmd []string, tarball string, env []string, now func() time.Time) (err error) {
	path := inDir(j.Dir, tarball)
	// Not truncated before the lock is held: a running creation keeps its
	// log (the reference truncates it).
	f, err := os.OpenFile(path+".log", os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	if err := fsutil.Flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return ErrTarballBusy
		}
		return fmt.Errorf("lock log: %w", err)
	}
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("truncate log: %w", err)
	}
	log := &sink{w: f}
	fmt.Fprintf(log, "Start: %s\n\n", stamp(now()))
	fmt.Fprintf(log, "Executing: %s\n\n", CommandString(cmd))
	p := &process{args: cmd, dir: j.Dir, env: env, out: log, timeout: j.Timeout, grace: j.Grace}
	if _, err := p.run(ctx); err != nil {
		if ctx.Err() == nil {
			fmt.Fprintf(log, "\nFAIL: %s\n", stamp(now()))
		}
		return err
	}
	fmt.Fprintf(log, "\nEnd: %s\n", stamp(now()))
	if log.err != nil {
		return fmt.Errorf("write log: %w", log.err)
	}
	if _, err := os.Stat(path + ".new"); err != nil {
		return fmt.Errorf("%w (see %s)", ErrTarballNotCreated, quote(path+".log"))
	}
	if err := os.Rename(path+".new", path); err != nil {
		return err
	}
	return nil
}
