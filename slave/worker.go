package slave

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
	"piuparts-server/slave/remote"
	"piuparts-server/slave/spool"
)

// Waits of the reference's piuparts-slave, where it has no setting.
const (
	disabledWait  = 12 * time.Hour // max-reserved = 0
	misconfigWait = time.Hour      // unknown section, no distro
	lockedWait    = 15 * time.Minute
	noTarballWait = 5 * time.Minute
	recycleWait   = time.Hour // after "nothing to recycle"
	flushRetry    = 5 * time.Minute
	// logRoom is what the log needs besides piuparts' output (Start:,
	// the package stanzas, Executing:, ret=, End:), kept free under
	// max-log-size so that the master accepts every log the slave writes.
	logRoom = 256 << 10
)

// worker is one piuparts-slave: its sections, their spools under its
// directory and one connection to a master at a time.
type worker struct {
	cfg      *Config
	n        int
	dir      string
	log      zerolog.Logger
	pc       *config.Config
	sections []*section

	conn    *remote.Client
	connKey string

	flushSeen int  // the Control's flush count already handled
	aborting  bool // ctx was cancelled: unreserve everything
}

// section is the worker's view of one config section.
type section struct {
	name  string
	sec   *config.Section // nil while the config lacks the section
	spool *spool.Spool

	errorWait, idleWait, recycleWait, tarballWait time.Time
	trouble                                       error // why the section waits, if it failed
	busy                                          bool  // the master answered busy: work unknown
}

func (s *section) sleepUntil(recycle bool) time.Time {
	if recycle {
		return later(s.errorWait, s.recycleWait)
	}
	return later(s.errorWait, s.idleWait)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func newWorker(cfg *Config, n int) (*worker, error) {
	w := &worker{
		cfg: cfg,
		n:   n,
		dir: workerDir(cfg.Dir, n),
		log: cfg.Log.With().Int("worker", n).Logger(),
		pc:  cfg.Piuparts,
	}
	for _, name := range cfg.Sections {
		if _, err := cfg.Piuparts.Section(name); err != nil {
			w.log.Warn().Str("section", name).Msg("unknown section, ignored")
			continue
		}
		sp, err := spool.Open(filepath.Join(w.dir, name), spool.Options{
			Section: name,
			Master:  masterName(cfg.Piuparts, name),
			ShipLog: filepath.Join(cfg.Dir, ShipLogName),
			Now:     cfg.Now,
		})
		if err != nil {
			return nil, fmt.Errorf("open spool of section %s: %w", name, err)
		}
		w.sections = append(w.sections, &section{name: name, spool: sp})
	}
	if len(w.sections) == 0 {
		return nil, errors.New("slave: no sections found in the config")
	}
	w.reload()
	return w, nil
}

func (w *worker) now() time.Time { return w.cfg.Now() }

// masterName names a section's master in the shipping log.
func masterName(pc *config.Config, section string) string {
	sec, err := pc.Section(section)
	if err != nil || sec.MasterHost == "" {
		return ""
	}
	if sec.MasterUser != "" {
		return sec.MasterUser + "@" + sec.MasterHost
	}
	return sec.MasterHost
}

// reload picks up a changed config and each section's settings.
func (w *worker) reload() {
	if w.cfg.Reload != nil {
		pc, err := w.cfg.Reload()
		if err != nil {
			w.log.Error().Err(err).Msg("reload config; keeping the previous one")
		} else {
			w.pc = pc
		}
	}
	for _, s := range w.sections {
		sec, err := w.pc.Section(s.name)
		if err != nil {
			s.sec = nil
			continue
		}
		s.sec = sec
	}
}

// stopping reports whether the worker should test nothing more: Stop was
// called or the context cancelled.
func (w *worker) stopping(ctx context.Context) bool {
	return w.aborting || ctx.Err() != nil || w.cfg.Control.now().stop
}

// flushing reports whether a Flush or Restart is waiting to be handled.
func (w *worker) flushing() bool { return w.cfg.Control.now().flush != w.flushSeen }

// run is the reference's main loop for one worker.
func (w *worker) run(ctx context.Context) error {
	// Ship the logs a previous run left behind.
	for _, s := range w.sections {
		w.runSection(ctx, s, false, false)
	}
	for {
		if ctx.Err() != nil {
			return w.abort(ctx)
		}
		w.reload()
		tested := 0
		for _, s := range w.sorted(false) {
			tested += w.runSection(ctx, s, tested == 0, false)
		}
		if ctx.Err() != nil {
			return w.abort(ctx)
		}
		snap := w.cfg.Control.now()
		if snap.restart {
			w.log.Info().Msg("restarting")
			return ErrRestart
		}
		if tested == 0 && snap.flush != w.flushSeen {
			w.flushSeen = snap.flush
			continue
		}
		if tested == 0 && !snap.stop {
			// Nothing to test: ask the masters to recycle old logs.
			idleUntil := w.firstDue(false)
			for _, s := range w.sorted(true) {
				tested += w.runSection(ctx, s, true, true)
				if tested > 0 && idleUntil.Before(w.now()) {
					break
				}
			}
		}
		if snap.stop {
			w.log.Info().Msg("stopped")
			return nil
		}
		if tested > 0 || w.flushing() {
			continue
		}
		if w.cfg.UntilIdle {
			done, err := w.drained()
			if err != nil {
				return err
			}
			if done {
				w.log.Info().Msg("nothing left to do")
				return nil
			}
		}
		w.sleep(ctx, snap)
	}
}

// sleep waits until the first section is due, at most idle-sleep, or a
// signal arrives.
func (w *worker) sleep(ctx context.Context, snap snapshot) {
	now := w.now()
	until := now.Add(w.pc.Global.IdleSleep)
	if due := w.firstDue(false); due.Before(until) {
		until = due
	}
	d := until.Sub(now)
	if d <= 0 {
		return
	}
	w.closeConn()
	w.publish(WorkerStatus{State: StateSleeping, Until: until})
	w.log.Info().Dur("for", d.Round(time.Second)).Msg("nothing to do, sleeping")
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-snap.wake:
	case <-t.C:
	}
}

// firstDue is the earliest time a section is due.
func (w *worker) firstDue(recycle bool) time.Time {
	var first time.Time
	for i, s := range w.sections {
		if t := s.sleepUntil(recycle); i == 0 || t.Before(first) {
			first = t
		}
	}
	return first
}

// sorted orders the sections by precedence, then by the time they are due.
func (w *worker) sorted(recycle bool) []*section {
	out := slices.Clone(w.sections)
	prec := func(s *section) int {
		if s.sec == nil {
			return 0
		}
		return s.sec.Precedence
	}
	slices.SortStableFunc(out, func(a, b *section) int {
		if recycle {
			return a.sleepUntil(true).Compare(b.sleepUntil(true))
		}
		if c := prec(a) - prec(b); c != 0 {
			return c
		}
		return a.sleepUntil(false).Compare(b.sleepUntil(false))
	})
	return out
}

// drained reports whether every section's spool is empty. With a section
// whose last attempt failed (its master, its base tarball) it returns that
// failure instead, since waiting for it is not "idle".
func (w *worker) drained() (bool, error) {
	for _, s := range w.sections {
		if s.sec == nil || s.sec.TarballOnly() || s.sec.Disabled() {
			continue
		}
		if s.trouble != nil {
			return false, fmt.Errorf("section %s: %w", s.name, s.trouble)
		}
		fin, err := s.spool.Pending()
		if err != nil {
			return false, err
		}
		res, err := s.spool.Reserved()
		if err != nil {
			return false, err
		}
		if s.busy || fin+len(res) > 0 {
			return false, nil
		}
	}
	return true, nil
}

// abort is the end after ctx was cancelled: with a fresh, bounded context
// it ships finished logs and unreserves everything not tested.
func (w *worker) abort(ctx context.Context) error {
	w.aborting = true
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CleanupTimeout)
	defer cancel()
	for _, s := range w.sections {
		w.runSection(cctx, s, false, false)
	}
	w.log.Info().Msg("interrupted; finished logs shipped, untested packages unreserved")
	return nil
}

// runSection is the reference's Section.run: it returns how many packages
// it tested.
func (w *worker) runSection(ctx context.Context, s *section, process, recycle bool) int {
	log := w.log.With().Str("section", s.name).Logger()
	stopping := w.stopping(ctx)
	if !stopping && w.now().Before(s.sleepUntil(recycle)) {
		return 0
	}
	if s.sec == nil {
		log.Warn().Msg("section no longer in the config")
		s.errorWait = w.now().Add(misconfigWait)
		return 0
	}
	if !stopping {
		w.throttle(ctx, s)
	}
	if stopping || w.flushing() {
		process = false
	}
	if process && w.now().After(s.tarballWait) {
		w.checkTarball(ctx, s)
	}
	if s.sec.TarballOnly() {
		s.idleWait = s.tarballWait.Add(time.Minute)
		s.recycleWait = s.tarballWait.Add(time.Hour)
		return 0
	}
	if !process && w.submittable(s, stopping) == 0 {
		return 0
	}
	action := "running"
	switch {
	case !process:
		action = "flushing"
	case recycle:
		action = "recycling"
	}
	log.Info().Int("precedence", s.sec.Precedence).Msg(action)
	if s.sec.Disabled() {
		log.Info().Msg("disabled (max-reserved = 0)")
		s.errorWait = w.now().Add(disabledWait)
		return 0
	}
	if s.sec.GetDistro() == "" && len(s.sec.Distros()) == 0 {
		log.Error().Msg("neither distro nor upgrade-test-distros configured")
		s.errorWait = w.now().Add(misconfigWait)
		return 0
	}
	release, err := s.spool.Lock()
	if err != nil {
		log.Warn().Err(err).Msg("spool busy")
		s.errorWait = w.now().Add(lockedWait)
		return 0
	}
	defer func() {
		if err := release(); err != nil {
			log.Error().Err(err).Msg("unlock spool")
		}
	}()
	talked := w.talk(ctx, s, process, stopping, recycle)
	if !process {
		return 0
	}
	if res, err := s.spool.Reserved(); err != nil || len(res) == 0 {
		if talked && err == nil {
			// The master had nothing for us.
			s.idleWait = w.now().Add(s.sec.IdleSleep)
			if recycle {
				s.recycleWait = s.idleWait.Add(recycleWait)
			}
		}
		return 0
	}
	n := w.process(ctx, s)
	if w.flushing() {
		// Keep this section first in the round robin.
		s.idleWait, s.recycleWait = time.Time{}, time.Time{}
	} else {
		// Put it last.
		s.idleWait, s.recycleWait = w.now(), w.now()
	}
	return n
}

// submittable counts the logs waiting to be shipped and, when stopping,
// the reservations to give back.
func (w *worker) submittable(s *section, stopping bool) int {
	n, err := s.spool.Pending()
	if err != nil {
		w.log.Error().Err(err).Str("section", s.name).Msg("read spool")
		return 0
	}
	if stopping {
		un, err := s.spool.Unfinished()
		if err == nil {
			n += len(un)
		}
	}
	return n
}

// throttle sleeps while the load average is above slave-load-max, until it
// drops below slave-load-max - 1 (at least 0.9), as the reference.
func (w *worker) throttle(ctx context.Context, s *section) {
	loadMax := s.sec.SlaveLoadMax
	if loadMax < 1 || w.flushing() {
		return
	}
	load, err := loadAverage()
	if err != nil || load <= loadMax {
		return
	}
	resume := loadMax - 1
	if resume < 0.9 {
		resume = 0.9
	}
	w.closeConn()
	secs := 30 + rand.IntN(60)
	for {
		load, err := loadAverage()
		if err != nil || load <= resume {
			return
		}
		w.log.Info().Float64("load", load).Int("seconds", secs).Msg("sleeping due to high load")
		snap := w.cfg.Control.now()
		t := time.NewTimer(time.Duration(secs) * time.Second)
		select {
		case <-ctx.Done():
		case <-snap.wake:
		case <-t.C:
		}
		t.Stop()
		if w.stopping(ctx) || w.flushing() {
			return
		}
		if secs < 300 {
			secs += 30 + rand.IntN(60)
		}
	}
}

// loadAverage reads the one-minute load average.
func loadAverage() (float64, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, fmt.Errorf("read load average: %w", err)
	}
	var l float64
	if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &l); err != nil {
		return 0, fmt.Errorf("parse /proc/loadavg %q: %w", b, err)
	}
	return l, nil
}
