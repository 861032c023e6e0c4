package master

import (
	"context"
	"errors"
	"strconv"
	"time"

	"piuparts-server/internal/config"
	"piuparts-server/master/state"
	"piuparts-server/store"
)

// session is the chosen section of a connection, as the reference's
// _init_section resets it.
type session struct {
	name    string
	conf    *config.Section
	recycle bool
	idle    int8 // 0 unknown, 1 idle (stamp written), -1 not idle (stamp removed)

	// loaded is set once the states are known in the database for this
	// session (the reference's _init_db): recycle is then too late. exact
	// says they were brought up to date for status and the debug
	// commands, not only for reserve.
	loaded   bool
	exact    bool
	loadedAt time.Time
	// treeAtLoad is the latest change of the log directories seen when
	// the states were loaded.
	treeAtLoad time.Time
	// after is the rank (store.PackageState.Rank) of the last candidate
	// reserve passed: later reserves of this session continue after it.
	after int
	// res is the computed result, when this session computed it (cold
	// start) or a debug command needed it.
	res *state.Result
}

// cmdSection chooses (or switches to) a section.
func (c *conn) cmdSection(ctx context.Context, name string) error {
	c.sec = nil
	conf, err := c.cfg.Piuparts.Section(name)
	if err != nil {
		c.log.Info().Str("section", name).Msg("unknown section")
		return c.fail()
	}
	if err := c.db.Tree().EnsureSection(name); err != nil {
		c.log.Error().Err(err).Str("section", name).Msg("section")
		return c.fail()
	}
	c.switchLog(conf.MasterLogFile())
	// A database that cannot even be read is the one reason to be busy:
	// the reference is busy when another connection holds the section.
	if _, err := c.db.Section(ctx, name); err != nil && !errors.Is(err, store.ErrNoSection) {
		c.log.Error().Err(err).Str("section", name).Msg("section busy")
		return c.busy()
	}
	// Submissions a crashed master indexed and did not write out.
	if n, err := c.db.WriteSubmissions(ctx, name); err != nil {
		c.log.Error().Err(err).Str("section", name).Msg("cannot write pending submissions")
	} else if n > 0 {
		c.log.Warn().Str("section", name).Int("lines", n).Msg("wrote submissions.txt lines a crashed master left out")
	}
	c.sec = &session{name: name, conf: conf}
	c.log.Debug().Str("section", name).Str("slave", c.holder).Msg("connected")
	return c.ok()
}

// cmdRecycle turns recycle mode on when there is something to recycle, as
// enable_recycling does: not after the states were loaded.
func (c *conn) cmdRecycle(context.Context) error {
	s := c.sec
	if s.recycle {
		return c.ok()
	}
	if s.loaded {
		c.log.Info().Str("section", s.name).Msg("too late for recycling")
		return c.fail()
	}
	found, err := c.db.Tree().HasAnyLog(s.name, store.KindRecycle)
	if err != nil {
		return c.answerTrouble(err, "recycle")
	}
	if !found {
		c.log.Info().Str("section", s.name).Msg("nothing to recycle")
		return c.fail()
	}
	s.recycle = true
	s.idle = 0
	return c.ok()
}

// ensureStates makes sure the store holds the states of the session's
// section for its current inputs (the reference's _init_db), once per
// session; with exact, as status and the debug commands need them, not
// only as reserve does (see Cache.RefreshForReserve).
func (c *conn) ensureStates(ctx context.Context, exact bool) error {
	s := c.sec
	if s.loaded && (s.exact || !exact) {
		return nil
	}
	refresh := c.cache.RefreshForReserve
	if exact {
		refresh = c.cache.Refresh
	}
	f, err := refresh(ctx, s.name, s.recycle)
	if err != nil {
		return err
	}
	if !s.loaded {
		s.loadedAt, s.treeAtLoad, s.after = f.At, f.TreeAt, 0
	}
	s.loaded, s.exact = true, exact
	if f.Result != nil {
		s.res = f.Result
	}
	return nil
}

// cmdStatus answers the number of packages in each active state.
func (c *conn) cmdStatus(ctx context.Context) error {
	s := c.sec
	if err := c.ensureStates(ctx, true); err != nil {
		return c.answerTrouble(err, "status")
	}
	var args []string
	if s.recycle {
		args = append(args, "(recycle)")
	}
	var counts map[string]int
	if s.res != nil {
		counts = make(map[string]int)
		for _, sc := range s.res.Status() {
			counts[sc.State] = sc.Count
		}
	} else {
		var err error
		if counts, err = c.db.StateCounts(ctx, s.name); err != nil {
			return c.answerTrouble(err, "status")
		}
	}
	total := 0
	for _, st := range state.ActiveStates() {
		n := counts[st]
		total += n
		args = append(args, st+"="+strconv.Itoa(n))
	}
	args = append(args, "total="+strconv.Itoa(total))
	return c.ok(args...)
}

// answerTrouble logs a storage or archive failure that keeps the master
// from answering a command, and answers error: the slave tries again later.
func (c *conn) answerTrouble(err error, what string) error {
	c.log.Error().Err(err).Str("section", c.sec.name).Str("command", what).Msg("cannot answer")
	return c.fail()
}
