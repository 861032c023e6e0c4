package master

import (
	"context"

	"piuparts-server/internal/piuparts"
	"piuparts-server/protocol"
)

// cmdDebug answers the reference's debug commands, from the states
// computed in memory.
func (c *conn) cmdDebug(ctx context.Context, keyword, arg string) error {
	s := c.sec
	if err := c.ensureStates(ctx, true); err != nil {
		return c.answerTrouble(err, keyword)
	}
	if s.res == nil {
		res, err := c.cache.Result(ctx, s.name, s.recycle)
		if err != nil {
			return c.answerTrouble(err, keyword)
		}
		s.res = res
	}
	res := s.res
	var words []string
	var ok bool
	switch keyword {
	case protocol.CmdDebugState:
		tv, found := res.TestVersion(arg)
		if !found {
			// piupartslib has no test version for a name that is not a
			// package of the section (and crashes); answer "None".
			tv = piuparts.TestVersionNone
		}
		return c.ok(res.State(arg), tv)
	case protocol.CmdDebugDepends:
		words, ok = res.Dependencies(arg)
	case protocol.CmdDebugRecDepends:
		words, ok = res.RecursiveDependencies(arg)
	case protocol.CmdDebugDepCycle:
		words, ok = res.DependencyCycle(arg)
	case protocol.CmdDebugList:
		words, ok = res.InState(arg)
	}
	if !ok {
		return c.fail()
	}
	return c.ok(words...)
}
