package master

import (
	"context"
	"errors"
	"fmt"
	"io"

	"piuparts-server/store"
)

// eofHook reads a long part and runs fn once it ended completely, before
// it reports the end: the log's arrival is certain, the log not yet linked.
// An error of the long part itself is kept in readErr.
type eofHook struct {
	r       io.Reader
	fn      func() error
	done    bool
	readErr error
}

func (h *eofHook) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	if err == io.EOF && !h.done {
		h.done = true
		if ferr := h.fn(); ferr != nil {
			return n, ferr
		}
	} else if err != nil && err != io.EOF {
		h.readErr = err
	}
	return n, err
}

// cmdSubmit receives a log (pass, fail, untestable) and stores it as
// _process_log does: once the long part arrived whole, a reserved version's
// older logs and its reserved/ marker go; the log is linked under its name
// (a log already there is a duplicate: ignored), indexed, recorded in
// submissions.txt, and only then answered ok.
func (c *conn) cmdSubmit(ctx context.Context, kind store.Kind, pkg, version string) error {
	s := c.sec
	hook := &eofHook{r: c.r.LongPartReader(), fn: func() error {
		return c.removeLogsIfReserved(ctx, pkg, version)
	}}
	lf, err := c.tree.WriteLog(ctx, s.name, kind, pkg, version, hook, 0)
	switch {
	case hook.readErr != nil:
		return fmt.Errorf("%w: long part of %s %s %s: %w", ErrAborted, kind, cut(pkg), cut(version), hook.readErr)
	case errors.Is(err, store.ErrLogExists):
		return c.duplicate(ctx, kind, pkg, version)
	case err != nil:
		// The long part was read to its end (or the hook failed after
		// it): the connection is still in step.
		c.log.Error().Err(err).Str("section", s.name).Str("package", pkg).Str("version", version).Msg("cannot store log")
		if !hook.done {
			if _, derr := io.Copy(io.Discard, hook.r); derr != nil {
				return fmt.Errorf("%w: long part of %s %s %s: %w", ErrAborted, kind, cut(pkg), cut(version), derr)
			}
		}
		return c.fail()
	}
	now := c.cfg.now()
	err = c.cfg.DB.AddLog(ctx, store.LogEntry{
		Section: s.name, Kind: kind, Package: pkg, Version: version,
		Path: lf.Path, Size: lf.Size, SHA256: lf.SHA256, SubmittedAt: now, SubmittedBy: c.holder,
	})
	if err != nil && !errors.Is(err, store.ErrDuplicate) {
		// The file stays: a retry finds it and indexes it (see duplicate).
		c.log.Error().Err(err).Str("section", s.name).Str("package", pkg).Msg("cannot index log")
		return c.fail()
	}
	if err := c.record(ctx, kind, pkg, version, now); err != nil {
		c.log.Error().Err(err).Str("section", s.name).Str("package", pkg).Msg("cannot record submission")
		return c.fail()
	}
	c.log.Info().Str("section", s.name).Str("result", string(kind)).Str("package", pkg).Str("version", version).
		Str("slave", c.holder).Int64("size", lf.Size).Msg("log received")
	return c.ok()
}

// record appends the submission to submissions.txt and removes the
// known-problem report of an older log.
func (c *conn) record(_ context.Context, kind store.Kind, pkg, version string, now interface{ Unix() int64 }) error {
	if err := c.tree.AppendSubmission(c.sec.name, now.Unix(), kind, pkg, version); err != nil {
		return err
	}
	return c.removeKpr(c.sec.name, kind, pkg, version)
}

// duplicate handles a log whose file already exists. When the index knows
// it, the submission is a duplicate and ignored, as in the reference; when
// it does not, an earlier submission stopped between the file and the
// index (a crash), and this one completes it.
func (c *conn) duplicate(ctx context.Context, kind store.Kind, pkg, version string) error {
	s := c.sec
	now := c.cfg.now()
	err := c.indexExisting(ctx, s.name, kind, pkg, version, now)
	switch {
	case errors.Is(err, store.ErrDuplicate):
		c.log.Info().Str("section", s.name).Str("result", string(kind)).Str("package", pkg).Str("version", version).
			Str("slave", c.holder).Msg("ignoring duplicate submission")
		if _, err := c.cfg.DB.Unreserve(ctx, s.name, pkg, version); err != nil {
			c.log.Error().Err(err).Str("section", s.name).Str("package", pkg).Msg("cannot drop reservation")
		}
		return c.ok()
	case err != nil:
		c.log.Error().Err(err).Str("section", s.name).Str("package", pkg).Msg("cannot index existing log")
		return c.fail()
	}
	if err := c.record(ctx, kind, pkg, version, now); err != nil {
		c.log.Error().Err(err).Str("section", s.name).Str("package", pkg).Msg("cannot record submission")
		return c.fail()
	}
	c.log.Warn().Str("section", s.name).Str("result", string(kind)).Str("package", pkg).Str("version", version).
		Msg("indexed a log that was stored but not indexed; the resent copy was dropped")
	return c.ok()
}

// removeLogsIfReserved is _remove_logs_if_reserved: for a reserved version,
// its logs in pass/, fail/, untestable/, bugged/, affected/ and its
// reserved/ marker are removed.
func (c *conn) removeLogsIfReserved(ctx context.Context, pkg, version string) error {
	s := c.sec
	if !c.logExists(s.name, store.KindReserved, pkg, version) {
		return nil
	}
	for _, k := range resultKinds {
		if !c.logExists(s.name, k, pkg, version) {
			continue
		}
		if err := c.removeLog(ctx, k, pkg, version); err != nil {
			return err
		}
		c.log.Info().Str("section", s.name).Str("kind", string(k)).Str("package", pkg).Str("version", version).Msg("recycled")
	}
	return c.tree.RemoveLog(s.name, store.KindReserved, pkg, version)
}
