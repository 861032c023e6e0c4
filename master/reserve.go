package master

import (
	"context"
	"errors"
	"math"

	"piuparts-server/store"
)

// maxSkips bounds how many candidates one reserve passes over because the
// tree disagrees with the database (a foreign reserved/ marker, a log the
// index does not know).
const maxSkips = 10000

// cmdReserve reserves the best candidate for the slave and answers
// "ok NAME TESTVERSION", or error when there is none (reserve_package).
func (c *conn) cmdReserve(ctx context.Context) error {
	s := c.sec
	c.expireLeases(ctx)
	if err := c.ensureStates(ctx, false); err != nil {
		return c.answerTrouble(err, "reserve")
	}
	limit := 0
	if c.cfg.Identified {
		limit = s.conf.ReservedCap()
	}
	for range maxSkips {
		now := c.cfg.now()
		res, ok, err := c.db.ReserveNext(ctx, s.name, c.holder, now, s.conf.Lease(), s.after, limit)
		if errors.Is(err, store.ErrHolderCap) {
			c.log.Warn().Str("section", s.name).Str("slave", c.holder).Int("max", limit).Msg("slave holds its maximum of reservations")
			return c.fail()
		}
		if err != nil {
			return c.answerTrouble(err, "reserve")
		}
		if !ok && !s.exact {
			// States that were good enough to reserve from may lack what
			// the latest logs made ready: bring them up to date and look
			// again, from the first candidate, before saying there is
			// nothing.
			if err := c.ensureStates(ctx, true); err != nil {
				return c.answerTrouble(err, "reserve")
			}
			s.after = 0
			continue
		}
		if !ok {
			s.after = math.MaxInt
			c.setIdle(ctx)
			c.log.Info().Str("section", s.name).Msg("nothing to reserve")
			return c.fail()
		}
		// Later reserves of this session start after this candidate: the
		// ones before it were not available (_remove_unavailable_candidate).
		s.after = res.Rank
		var (
			taken    bool
			recycled []store.Kind
		)
		// Outside recycle mode taking only adds a reserved/ marker.
		err = c.cache.Own(ctx, s.name, s.recycle, func() ([]logChange, bool, error) {
			var err error
			taken, recycled, err = c.db.Take(ctx, s.name, res.Package, res.Version, s.recycle)
			if err != nil {
				return nil, false, err
			}
			if !taken {
				return nil, true, nil
			}
			ch := []logChange{
				{section: s.name, kind: store.KindReserved, pkg: res.Package, version: res.Version, present: true},
				{section: s.name, kind: store.KindRecycle, pkg: res.Package, version: res.Version},
			}
			for _, k := range recycled {
				ch = append(ch, logChange{section: s.name, kind: k, pkg: res.Package, version: res.Version})
			}
			return ch, true, nil
		})
		for _, k := range recycled {
			c.log.Info().Str("section", s.name).Str("kind", string(k)).Str("package", res.Package).Str("version", res.Version).Msg("recycled")
		}
		if err != nil || !taken {
			if _, uerr := c.db.DropReservation(ctx, s.name, res.Package, res.Version); uerr != nil {
				c.log.Error().Err(uerr).Str("section", s.name).Str("package", res.Package).Msg("cannot drop reservation")
			}
		}
		if err != nil {
			return c.answerTrouble(err, "reserve")
		}
		if !taken {
			c.log.Info().Str("section", s.name).Str("package", res.Package).Str("version", res.Version).Msg("skipping: reserved or tested in the tree")
			continue
		}
		// The reservation is durable in the database already; the marker's
		// directory is synced once when the connection ends (syncMarkers).
		if c.unsynced == nil {
			c.unsynced = make(map[string]bool)
		}
		c.unsynced[s.name] = true
		c.clearIdle(ctx)
		c.log.Info().Str("section", s.name).Str("package", res.Package).Str("version", res.Version).
			Str("slave", c.holder).Time("expires", res.ExpiresAt).Msg("reserved")
		return c.ok(res.Package, res.Version)
	}
	c.log.Warn().Str("section", s.name).Int("skipped", maxSkips).Msg("reserve gave up")
	return c.fail()
}

// syncMarkers syncs the reserved/ directories in which this connection
// created markers without syncing them.
func (c *conn) syncMarkers() {
	for section := range c.unsynced {
		if err := c.db.Tree().SyncKind(section, store.KindReserved); err != nil {
			c.log.Error().Err(err).Str("section", section).Msg("cannot sync reserved markers")
		}
	}
	c.unsynced = nil
}

// cmdUnreserve gives a reservation back (unreserve_package): the reserved/
// marker goes, and a recycle/ marker comes back when the version had a log.
// An identified slave may give back only its own reservations.
func (c *conn) cmdUnreserve(ctx context.Context, pkg, version string) error {
	holder := ""
	if c.cfg.Identified {
		holder = c.holder
	}
	_, err := c.db.Unreserve(ctx, c.sec.name, pkg, version, holder, c.cfg.now())
	c.cache.Changed(ctx, c.sec.name)
	if errors.Is(err, store.ErrNotHolder) {
		c.log.Warn().Err(err).Str("section", c.sec.name).Str("package", pkg).Str("version", version).
			Str("slave", c.holder).Msg("refused to unreserve another slave's reservation")
		return c.fail()
	}
	if err != nil {
		return c.answerTrouble(err, "unreserve")
	}
	c.log.Info().Str("section", c.sec.name).Str("package", pkg).Str("version", version).Str("slave", c.holder).Msg("unreserved")
	return c.ok()
}

// expireLeases releases the reservations whose lease ended, in every
// section, as unreserve would, logs each, and returns the sections that
// got packages back.
func (c *conn) expireLeases(ctx context.Context) map[string]bool {
	now := c.cfg.now()
	if !c.cache.expireDue(now) {
		return nil
	}
	expired, err := c.db.ExpireLeases(ctx, now)
	if err != nil {
		c.log.Error().Err(err).Msg("cannot release every expired lease")
	}
	changed := make(map[string]bool)
	for _, r := range expired {
		if !changed[r.Section] {
			changed[r.Section] = true
			c.cache.Changed(ctx, r.Section)
		}
		c.log.Info().Str("section", r.Section).Str("package", r.Package).Str("version", r.Version).
			Str("slave", r.Holder).Time("reserved", r.ReservedAt).Time("expired", r.ExpiresAt).Msg("lease expired")
	}
	return changed
}
