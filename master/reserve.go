package master

import (
	"context"
	"errors"
	"fmt"
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
	if err := c.ensureStates(ctx); err != nil {
		return c.answerTrouble(err, "reserve")
	}
	for range maxSkips {
		now := c.cfg.now()
		res, ok, err := c.cfg.DB.ReserveNext(ctx, s.name, c.holder, now, s.conf.Lease(), s.after)
		if err != nil {
			return c.answerTrouble(err, "reserve")
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
		taken, err := c.takeInTree(ctx, res.Package, res.Version)
		if err != nil {
			c.dropReservation(ctx, res.Package, res.Version)
			return c.answerTrouble(err, "reserve")
		}
		if !taken {
			c.dropReservation(ctx, res.Package, res.Version)
			continue
		}
		c.clearIdle(ctx)
		c.log.Info().Str("section", s.name).Str("package", res.Package).Str("version", res.Version).
			Str("slave", c.holder).Time("expires", res.ExpiresAt).Msg("reserved")
		return c.ok(res.Package, res.Version)
	}
	c.log.Warn().Str("section", s.name).Int("skipped", maxSkips).Msg("reserve gave up")
	return c.fail()
}

// takeInTree applies a reservation to the log tree as reserve_package does:
// it reports false for a version that is already reserved there, or
// (outside recycle mode) already has a log; in recycle mode it removes the
// version's logs other than pass/; it removes the recycle/ marker and
// creates the reserved/ marker.
func (c *conn) takeInTree(ctx context.Context, pkg, version string) (bool, error) {
	s := c.sec
	if c.logExists(s.name, store.KindReserved, pkg, version) {
		c.log.Info().Str("section", s.name).Str("package", pkg).Str("version", version).Msg("skipping: reserved/ marker without reservation")
		return false, nil
	}
	recycled := c.logExists(s.name, store.KindRecycle, pkg, version)
	switch {
	case s.recycle && recycled:
		for _, k := range resultKinds {
			if k == store.KindPass || !c.logExists(s.name, k, pkg, version) {
				continue
			}
			if err := c.removeLog(ctx, k, pkg, version); err != nil {
				return false, err
			}
			c.log.Info().Str("section", s.name).Str("kind", string(k)).Str("package", pkg).Str("version", version).Msg("recycled")
		}
	case c.logExistsIn(s.name, resultKinds, pkg, version):
		c.log.Info().Str("section", s.name).Str("package", pkg).Str("version", version).Msg("skipping: already tested")
		return false, nil
	}
	if recycled {
		if err := c.removeLog(ctx, store.KindRecycle, pkg, version); err != nil {
			return false, err
		}
	}
	// The reservation is durable in the database already; the marker's
	// directory is synced once when the connection ends (syncMarkers),
	// not once per reserve.
	err := c.tree.CreateMarkerNoSync(s.name, store.KindReserved, pkg, version)
	if errors.Is(err, store.ErrLogExists) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if c.unsynced == nil {
		c.unsynced = make(map[string]bool)
	}
	c.unsynced[s.name] = true
	return true, nil
}

// syncMarkers syncs the reserved/ directories in which this connection
// created markers without syncing them.
func (c *conn) syncMarkers() {
	for section := range c.unsynced {
		if err := c.tree.SyncKind(section, store.KindReserved); err != nil {
			c.log.Error().Err(err).Str("section", section).Msg("cannot sync reserved markers")
		}
	}
	c.unsynced = nil
}

// removeLog removes a log from the tree and from the index.
func (c *conn) removeLog(ctx context.Context, k store.Kind, pkg, version string) error {
	if err := c.tree.RemoveLog(c.sec.name, k, pkg, version); err != nil {
		return err
	}
	if _, err := c.cfg.DB.RemoveLog(ctx, c.sec.name, k, pkg, version); err != nil {
		return err
	}
	return nil
}

// dropReservation undoes a reservation the tree refused.
func (c *conn) dropReservation(ctx context.Context, pkg, version string) {
	if _, err := c.cfg.DB.Unreserve(ctx, c.sec.name, pkg, version); err != nil {
		c.log.Error().Err(err).Str("section", c.sec.name).Str("package", pkg).Msg("cannot drop reservation")
	}
}

// cmdUnreserve gives a reservation back (unreserve_package): the reserved/
// marker goes, and a recycle/ marker comes back when the version had a log.
func (c *conn) cmdUnreserve(ctx context.Context, pkg, version string) error {
	if err := c.unreserve(ctx, c.sec.name, pkg, version); err != nil {
		return c.answerTrouble(err, "unreserve")
	}
	if _, err := c.cfg.DB.Unreserve(ctx, c.sec.name, pkg, version); err != nil {
		return c.answerTrouble(err, "unreserve")
	}
	c.log.Info().Str("section", c.sec.name).Str("package", pkg).Str("version", version).Str("slave", c.holder).Msg("unreserved")
	return c.ok()
}

// unreserve applies unreserve_package to the tree of a section.
func (c *conn) unreserve(ctx context.Context, section, pkg, version string) error {
	if c.logExists(section, store.KindReserved, pkg, version) &&
		!c.logExists(section, store.KindRecycle, pkg, version) &&
		c.logExistsIn(section, resultKinds, pkg, version) {
		err := c.tree.CreateMarker(section, store.KindRecycle, pkg, version)
		if err != nil && !errors.Is(err, store.ErrLogExists) {
			return err
		}
		if err == nil {
			if err := c.indexExisting(ctx, section, store.KindRecycle, pkg, version, c.cfg.now()); err != nil && !errors.Is(err, store.ErrDuplicate) {
				return err
			}
		}
	}
	return c.tree.RemoveLog(section, store.KindReserved, pkg, version)
}

// expireLeases releases the reservations whose lease ended, in every
// section, as unreserve would, and logs each.
func (c *conn) expireLeases(ctx context.Context) {
	expired, err := c.cfg.DB.ExpireLeases(ctx, c.cfg.now())
	if err != nil {
		c.log.Error().Err(err).Msg("cannot expire leases")
		return
	}
	for _, r := range expired {
		err := c.unreserve(ctx, r.Section, r.Package, r.Version)
		ev := c.log.Info()
		if err != nil {
			ev = c.log.Error().Err(fmt.Errorf("release marker: %w", err))
		}
		ev.Str("section", r.Section).Str("package", r.Package).Str("version", r.Version).
			Str("slave", r.Holder).Time("reserved", r.ReservedAt).Time("expired", r.ExpiresAt).Msg("lease expired")
	}
}
