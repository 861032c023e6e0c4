package slave

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"piuparts-server/internal/config"
	"piuparts-server/slave/remote"
	"piuparts-server/slave/runner"
	"piuparts-server/slave/spool"
)

// options are the connection settings of a section.
func (w *worker) options(sec *config.Section) remote.Options {
	o := remote.Options{
		Host:           sec.MasterHost,
		Port:           sec.MasterPort,
		User:           sec.MasterUser,
		Command:        sec.MasterCommand,
		ConnectTimeout: sec.ConnectTimeout,
		ReadTimeout:    w.pc.Global.ReadIdle(),
		Getenv:         w.cfg.Getenv,
		Stderr:         w.cfg.Stderr,
	}
	if sec.SSHIdentity != "" {
		o.Identities = []string{w.expandHome(sec.SSHIdentity)}
	}
	if sec.SSHKnownHosts != "" {
		o.KnownHosts = []string{w.expandHome(sec.SSHKnownHosts)}
	}
	return o
}

// expandHome expands a leading "~/" as ssh does.
func (w *worker) expandHome(p string) string { return remote.ExpandHome(p, w.cfg.Getenv) }

// connect returns a connection to the section's master with the section
// chosen (and recycle mode on), reusing the open one when it goes to the
// same master, as the reference's persistent connection.
func (w *worker) connect(ctx context.Context, s *section, recycle bool) (*remote.Client, error) {
	if s.sec.MasterHost == "" {
		return nil, errors.New("master-host is not set")
	}
	o := w.options(s.sec)
	key := fmt.Sprintf("%s\x00%d\x00%s\x00%s\x00%q\x00%q", o.Host, o.Port, o.User, o.Command, o.Identities, o.KnownHosts)
	if w.conn != nil && w.connKey == key {
		err := w.conn.Section(ctx, s.name)
		if err == nil || errors.Is(err, remote.ErrBusy) {
			return w.withRecycle(ctx, recycle, err)
		}
		// The master may have closed an idle connection: dial again.
		w.log.Debug().Err(err).Msg("reused connection failed, reconnecting")
	}
	w.closeConn()
	w.log.Info().Str("master", o.Host).Msg("connecting")
	c, err := w.cfg.Dial(ctx, o)
	if err != nil {
		return nil, err
	}
	w.conn, w.connKey = c, key
	return w.withRecycle(ctx, recycle, c.Section(ctx, s.name))
}

func (w *worker) withRecycle(ctx context.Context, recycle bool, err error) (*remote.Client, error) {
	if err == nil && recycle {
		err = w.conn.Recycle(ctx)
	}
	if err != nil {
		return nil, err
	}
	return w.conn, nil
}

func (w *worker) closeConn() {
	if w.conn == nil {
		return
	}
	if err := w.conn.Close(); err != nil {
		w.log.Debug().Err(err).Msg("close connection to master")
	}
	w.conn, w.connKey = nil, ""
}

// talk is the reference's _talk_to_master: ship finished logs, give back
// reservations when unreserve is set, and with fetch (and nothing reserved)
// ask idle, then reserve up to max-reserved packages and ask status. It
// reports whether the talk went well and reserving was not skipped because
// the master was idle.
func (w *worker) talk(ctx context.Context, s *section, fetch, unreserve, recycle bool) bool {
	log := w.log.With().Str("section", s.name).Logger()
	reserved, err := s.spool.Reserved()
	if err != nil {
		log.Error().Err(err).Msg("read reservations")
		s.errorWait = w.now().Add(w.unreachableWait(s))
		return false
	}
	fetch = fetch && len(reserved) == 0
	if w.submittable(s, unreserve) == 0 && !fetch {
		return true
	}
	c, err := w.connect(ctx, s, recycle)
	switch {
	case err == nil:
	case errors.Is(err, remote.ErrBusy):
		log.Warn().Msg("master is busy")
		s.busy = true
		s.errorWait = w.now().Add(time.Duration(60+rand.IntN(120)) * time.Second)
		return false
	case errors.Is(err, remote.ErrCantRecycle):
		log.Info().Msg("master has nothing to recycle")
		s.recycleWait = later(w.now(), s.idleWait).Add(recycleWait)
		return false
	default:
		log.Error().Err(err).Msg("connection to master failed")
		w.fail(s, err)
		return false
	}
	s.trouble, s.busy = nil, false

	n, err := s.spool.Ship(ctx, func(ctx context.Context, e spool.Entry, r io.Reader) error {
		log.Info().Str("package", e.Name).Str("version", e.Version).Str("result", e.Result).Msg("sending log")
		return c.Submit(ctx, e.Result, e.Name, e.Version, r)
	})
	if n > 0 {
		log.Info().Int("logs", n).Msg("logs sent")
	}
	if err != nil {
		log.Error().Err(err).Msg("sending logs failed")
		w.fail(s, err)
		return false
	}
	if unreserve {
		un, err := s.spool.Unfinished()
		if err != nil {
			log.Error().Err(err).Msg("read reservations")
		}
		for _, e := range un {
			log.Info().Str("package", e.Name).Str("version", e.Version).Msg("unreserve")
			if err := c.Unreserve(ctx, e.Name, e.Version); err != nil {
				log.Error().Err(err).Msg("unreserve failed")
				w.fail(s, err)
				return false
			}
			if err := s.spool.Drop(e.Name, e.Version); err != nil {
				log.Error().Err(err).Msg("forget reservation")
			}
		}
	}
	if !fetch {
		return true
	}
	idle, err := c.Idle(ctx)
	if err != nil {
		log.Error().Err(err).Msg("idle failed")
		w.fail(s, err)
		return false
	}
	if idle > 0 {
		idle = min(idle, s.sec.IdleSleep)
		log.Info().Dur("idle", idle).Msg("master is idle")
		if recycle {
			s.recycleWait = w.now().Add(idle)
		} else {
			s.idleWait = w.now().Add(idle)
		}
		return false
	}
	for got := len(reserved); got < s.sec.MaxReserved; got++ {
		name, version, ok, err := c.Reserve(ctx)
		if err != nil {
			log.Error().Err(err).Msg("reserve failed")
			w.fail(s, err)
			return false
		}
		if !ok {
			log.Info().Msg("master reserved nothing (more) for us")
			break
		}
		log.Info().Str("package", name).Str("version", version).Msg("reserved")
		if err := s.spool.Reserve(name, version); err != nil {
			// The lease brings it back on the master.
			log.Error().Err(err).Msg("remember reservation")
			break
		}
	}
	status, err := c.Status(ctx)
	if err != nil {
		log.Error().Err(err).Msg("status failed")
		w.fail(s, err)
		return false
	}
	log.Info().Str("status", status).Msg("master status")
	return true
}

// fail leaves the section alone for unreachable-wait after its master
// failed.
func (w *worker) fail(s *section, err error) {
	s.trouble = fmt.Errorf("%w: %w", ErrUnreachable, err)
	s.errorWait = w.now().Add(w.unreachableWait(s))
	w.closeConn()
}

func (w *worker) unreachableWait(s *section) time.Duration {
	return s.sec.UnreachableWait
}

// process is the reference's Section._process: test the reserved
// packages, then ship their logs.
func (w *worker) process(ctx context.Context, s *section) int {
	log := w.log.With().Str("section", s.name).Logger()
	reserved, err := s.spool.Reserved()
	if err != nil {
		log.Error().Err(err).Msg("read reservations")
		return 0
	}
	names := make([]string, len(reserved))
	for i, e := range reserved {
		names[i] = e.Name
	}
	archive, err := runner.LoadArchive(ctx, w.pc, s.sec, names)
	if err != nil {
		log.Error().Err(err).Msg("fetch Packages files")
		s.errorWait = w.now().Add(w.unreachableWait(s))
		return 0
	}
	w.checkTarball(ctx, s)
	tarball, err := runner.Tarball(w.pc, s.sec)
	if err != nil {
		log.Error().Err(err).Msg("base tarball")
		s.errorWait = w.now().Add(misconfigWait)
		return 0
	}
	// Relative paths are relative to the section's directory, where the
	// reference runs piuparts.
	tarballPath := under(s.spool.Dir(), tarball)
	if !exists(tarballPath) {
		s.errorWait = w.now().Add(noTarballWait)
	}
	// As the reference: a reference chroot's metadata older than 6 hours
	// goes, so that the next upgrade test saves it anew.
	if gone, err := runner.ExpireRefchrootMetadata(s.sec, s.spool.Dir(), w.now()); err != nil {
		log.Error().Err(err).Msg("expire chroot-meta file")
	} else if gone {
		log.Info().Str("file", runner.RefchrootMetadata(s.sec)).Msg("old chroot-meta file removed")
	}
	lastFlush := w.now()
	tested := 0
	defer w.publish(WorkerStatus{State: StateWorking, Section: s.name})
	for i, e := range reserved {
		w.throttle(ctx, s)
		if w.stopping(ctx) || w.flushing() {
			break
		}
		if iv := s.sec.SlaveFlushInterval; iv > 0 && w.now().Sub(lastFlush) > iv {
			lastFlush = lastFlush.Add(flushRetry)
			if w.talk(ctx, s, false, false, false) {
				lastFlush = w.now()
			}
		}
		if !exists(tarballPath) {
			log.Error().Str("tarball", tarballPath).Msg("missing chroot-tgz")
			s.trouble = fmt.Errorf("%w: %s", ErrNoTarball, tarballPath)
			break
		}
		tested++
		w.publish(WorkerStatus{State: StateTesting, Section: s.name, Package: e.Name, Version: e.Version,
			N: i + 1, Batch: len(reserved), MaxReserved: s.sec.MaxReserved})
		if err := w.test(ctx, s, archive, tarball, e.Name, e.Version); err != nil {
			if ctx.Err() == nil {
				log.Error().Err(err).Str("package", e.Name).Msg("test")
			}
			break
		}
	}
	w.talk(ctx, s, false, w.stopping(ctx), false)
	return tested
}

// test runs piuparts on one package into the spool.
func (w *worker) test(ctx context.Context, s *section, archive runner.Archive, tarball, name, version string) error {
	w.closeConn()
	w.log.Info().Str("section", s.name).Str("package", name).Str("version", version).Msg("testing")
	out, err := s.spool.Create(name, version)
	if err != nil {
		return err
	}
	maxOutput := max(int64(w.pc.Global.MaxLogSize)-logRoom, 1024)
	start := w.now()
	res, err := runner.Test(ctx, runner.Job{
		Config:    w.pc,
		Section:   s.sec,
		Archive:   archive,
		Name:      name,
		Version:   version,
		Tarball:   tarball,
		Dir:       s.spool.Dir(),
		Out:       out,
		MaxOutput: maxOutput,
		Timeout:   s.sec.PiupartsTimeout,
		Env:       w.cfg.Environ,
		Now:       w.cfg.Now,
	})
	if err != nil {
		if aerr := out.Abort(); aerr != nil {
			w.log.Error().Err(aerr).Msg("remove unfinished log")
		}
		return fmt.Errorf("test %s %s: %w", name, version, err)
	}
	if err := out.Commit(res.Kind); err != nil {
		return fmt.Errorf("keep log of %s %s: %w", name, version, err)
	}
	w.log.Info().Str("section", s.name).Str("package", name).Str("version", version).
		Str("result", res.Kind).Int("ret", res.Ret).Dur("took", w.now().Sub(start).Round(time.Millisecond)).Msg("tested")
	return nil
}

// checkTarball creates or refreshes the section's base tarball when due.
func (w *worker) checkTarball(ctx context.Context, s *section) {
	tarball, err := runner.Tarball(w.pc, s.sec)
	if err != nil {
		w.log.Error().Err(err).Str("section", s.name).Msg("base tarball")
		s.tarballWait = w.now().Add(misconfigWait)
		return
	}
	// The reference leaves basetgz-directory to the operator; an operator
	// expects the slave to make it.
	if err := os.MkdirAll(filepath.Dir(under(s.spool.Dir(), tarball)), 0o755); err != nil {
		w.log.Error().Err(err).Str("section", s.name).Msg("base tarball directory")
	}
	next, err := runner.EnsureTarball(ctx, runner.TarballJob{
		Config:  w.pc,
		Section: s.sec,
		Tarball: tarball,
		Dir:     s.spool.Dir(),
		Env:     w.cfg.Environ,
		Timeout: s.sec.PiupartsTimeout,
		Now:     w.cfg.Now,
	})
	if err != nil {
		w.log.Error().Err(err).Str("section", s.name).Msg("base tarball")
	}
	s.tarballWait = next
}

// under makes p absolute under dir.
func under(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
