package master

import (
	"context"

	"piuparts-server/internal/piuparts"
	"piuparts-server/protocol"
)

// cmdDebug answers the reference's debug commands, from the states
// computed in memory.
func (c *conn) cmdDebug(ctx context.Context, keyword, arg string) error {
	res, err := c.ensureResult(ctx)
	if err != nil {
		return c.answerTrouble(err, keyword)
	}
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
