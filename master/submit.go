package master

import (
	"context"
	"errors"
	"fmt"

	"piuparts-server/internal/piuparts"
	"piuparts-server/store"
)

// cmdSubmit receives a log (pass, fail, untestable) and hands it to the
// store ([store.DB.Submit], or the committer with other connections' logs),
// which answers once the log and everything it changes are durable; only
// then does the master answer ok.
func (c *conn) cmdSubmit(ctx context.Context, kind store.Kind, pkg, version string) error {
	s := c.sec
	rcv, err := c.submit(ctx, store.Incoming{
		Section: s.name, Result: kind, Package: pkg, Version: version, By: c.holder, At: c.cfg.now(),
	})
	switch {
	case errors.Is(err, store.ErrReadLog):
		return fmt.Errorf("%w: long part of %s %s %s: %w", ErrAborted, kind, piuparts.Cut(pkg), piuparts.Cut(version), err)
	case err != nil:
		// The long part was read to its end: the connection is in step.
		c.log.Error().Err(err).Str("section", s.name).Str("package", pkg).Str("version", version).Msg("cannot store log")
		return c.fail()
	}
	ev, msg := c.log.Info(), "log received"
	switch {
	case rcv.Duplicate:
		msg = "ignoring duplicate submission"
	case rcv.Recovered:
		ev, msg = c.log.Warn(), "indexed a log that was stored but not indexed; the resent copy was dropped"
	}
	for _, k := range rcv.Replaced {
		c.log.Info().Str("section", s.name).Str("kind", string(k)).Str("package", pkg).Str("version", version).Msg("recycled")
	}
	if c.cfg.Identified && rcv.Holder != "" && rcv.Holder != c.holder {
		c.log.Warn().Str("section", s.name).Str("package", pkg).Str("version", version).Str("slave", c.holder).
			Str("holder", rcv.Holder).Msg("log from a slave that did not hold the reservation: accepted")
	}
	ev.Str("section", s.name).Str("result", string(kind)).Str("package", pkg).Str("version", version).
		Str("slave", c.holder).Int64("size", rcv.Size).Msg(msg)
	return c.ok()
}

// submit stores the log of the long part that follows.
func (c *conn) submit(ctx context.Context, in store.Incoming) (store.Received, error) {
	if c.cfg.Committer == nil {
		var rcv store.Received
		err := c.cache.Own(ctx, in.Section, true, func() ([]logChange, bool, error) {
			var err error
			rcv, err = c.db.Submit(ctx, in, c.r.LongPartReader())
			if err != nil {
				return nil, false, err
			}
			return submitted(in, rcv), true, nil
		})
		return rcv, err
	}
	p, err := c.db.Receive(ctx, in, c.r.LongPartReader())
	if err != nil {
		return store.Received{}, err
	}
	done := c.cfg.Committer.Commit(ctx, p)
	return done.Received, done.Err
}
