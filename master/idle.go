package master

import (
	"context"
	"math/rand/v2"
	"strconv"
	"time"
)

// cmdIdle answers how many more seconds the section is known to have
// nothing to reserve, as the reference's _get_idle_status: 0 without a
// stamp, after IdleTTL, or when a log directory (or, beyond the reference,
// a Packages file) changed since the stamp; otherwise the rest of IdleTTL
// plus up to two random minutes, so that slaves do not come back together.
// Beyond the reference, leases end: it first releases the expired
// reservations, as reserve does, and answers 0 when this section got
// packages back (a slave that obeys idle would otherwise never reserve
// them while the stamp lasts).
func (c *conn) cmdIdle(ctx context.Context) error {
	n, err := c.idleSeconds(ctx)
	if err != nil {
		c.log.Warn().Err(err).Str("section", c.sec.name).Msg("idle status unknown")
		n = 0
	}
	return c.ok(strconv.Itoa(n))
}

func (c *conn) idleSeconds(ctx context.Context) (int, error) {
	s := c.sec
	if c.expireLeases(ctx)[s.name] {
		return 0, nil
	}
	stamp, ok, err := c.db.Tree().IdleStamp(s.name, s.recycle)
	if err != nil || !ok {
		return 0, err
	}
	ttl := stamp.Add(IdleTTL).Sub(c.cfg.now())
	if ttl <= 0 {
		return 0, nil
	}
	latest, err := c.cache.latestChange(s.name)
	if err != nil {
		return 0, err
	}
	if stamp.Before(latest) {
		return 0, nil
	}
	if changed, err := c.cache.PackagesChangedSince(ctx, s.name, stamp); err != nil || changed {
		return 0, err
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
	// File times come from the kernel's coarse clock, which may lag the
	// time taken when the states were loaded: date the stamp a little
	// earlier, so a change made just after still counts as newer, but not
	// before the changes the states already saw.
	at := s.loadedAt.Add(-stampSlack)
	if s.treeAtLoad.After(at) {
		at = s.treeAtLoad
	}
	if err := c.db.Tree().SetIdleStamp(s.name, s.recycle, at); err != nil {
		c.log.Warn().Err(err).Str("section", s.name).Msg("cannot write idle stamp")
		return
	}
	if err := c.db.SetIdle(ctx, s.name, s.recycle, at); err != nil {
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
	if err := c.db.Tree().ClearIdleStamp(s.name, s.recycle); err != nil {
		c.log.Warn().Err(err).Str("section", s.name).Msg("cannot remove idle stamp")
	}
	if err := c.db.SetIdle(ctx, s.name, s.recycle, time.Time{}); err != nil {
		c.log.Warn().Err(err).Str("section", s.name).Msg("cannot clear idle stamp")
	}
}
