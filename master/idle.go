package master

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// stampPath returns SECTION/idle.stamp, or SECTION/recycle.stamp in
// recycle mode.
func (c *conn) stampPath() string {
	name := "idle.stamp"
	if c.sec.recycle {
		name = "recycle.stamp"
	}
	return filepath.Join(c.cfg.Dir, c.sec.name, name)
}

// cmdIdle answers how many more seconds the section is known to have
// nothing to reserve, as the reference's _get_idle_status: 0 without a
// stamp, after IdleTTL, or when a log directory (or, beyond the reference,
// a Packages file) changed since the stamp; otherwise the rest of IdleTTL
// plus up to two random minutes, so that slaves do not come back together.
func (c *conn) cmdIdle(ctx context.Context) error {
	n, err := c.idleSeconds(ctx)
	if err != nil {
		c.log.Warn().Err(err).Str("section", c.sec.name).Msg("idle status unknown")
		n = 0
	}
	return c.ok(strconv.Itoa(n))
}

func (c *conn) idleSeconds(ctx context.Context) (int, error) {
	st, err := os.Stat(c.stampPath())
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	stamp := st.ModTime()
	ttl := stamp.Add(IdleTTL).Sub(c.cfg.now())
	if ttl <= 0 {
		return 0, nil
	}
	latest, err := c.latestMtime(c.sec.name)
	if err != nil {
		return 0, err
	}
	if stamp.Before(latest) {
		return 0, nil
	}
	// New archive data may hold new packages to test.
	in, err := c.gather(ctx, c.sec.name)
	if err != nil {
		return 0, err
	}
	for _, fp := range in.fps {
		if stamp.Before(fp.mtime) {
			return 0, nil
		}
	}
	return int(ttl/time.Second) + rand.IntN(120), nil
}

// stampSlack is how much earlier than the states an idle stamp is dated.
const stampSlack = time.Second

// setIdle records that reserve found nothing: it writes the stamp with the
// time the states were known (the reference's _set_idle).
func (c *conn) setIdle(ctx context.Context) {
	s := c.sec
	if s.idle == 1 {
		return
	}
	s.idle = 1
	p := c.stampPath()
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		c.log.Warn().Err(err).Str("file", p).Msg("cannot write idle stamp")
		return
	}
	// File times come from the kernel's coarse clock, which may lag the
	// time taken when the states were loaded: date the stamp a little
	// earlier, so a change made just after still counts as newer, but not
	// before the changes the states already saw.
	at := s.loadedAt.Add(-stampSlack)
	if s.treeAtLoad.After(at) {
		at = s.treeAtLoad
	}
	if err := os.Chtimes(p, time.Time{}, at); err != nil {
		c.log.Warn().Err(err).Str("file", p).Msg("cannot date idle stamp")
	}
	if err := c.cfg.DB.SetIdle(ctx, s.name, s.recycle, at); err != nil {
		c.log.Warn().Err(err).Str("section", s.name).Msg("cannot record idle stamp")
	}
}

// clearIdle removes the stamp once something was reserved (_clear_idle).
func (c *conn) clearIdle(ctx context.Context) {
	s := c.sec
	if s.idle == -1 {
		return
	}
	s.idle = -1
	if err := os.Remove(c.stampPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		c.log.Warn().Err(err).Msg("cannot remove idle stamp")
	}
	if err := c.cfg.DB.SetIdle(ctx, s.name, s.recycle, time.Time{}); err != nil {
		c.log.Warn().Err(err).Str("section", s.name).Msg("cannot clear idle stamp")
	}
}
