package main

import "context"

// scenario is one named end-to-end scenario. Adding one is a function in a
// file of its own returning its scenario, and its line in scenarios.
type scenario struct {
	name  string // the command-line name: lowercase words joined by "-"
	doc   string // one line: what it runs and what it checks
	quick bool   // in make test's set (TestScenarios_Quick): well under a minute
	// run runs the scenario's steps on h; an error is a failure (its
	// message is the reason), and h.Skip's error a skip.
	run func(ctx context.Context, h *H) error
}

// scenarios returns every scenario, in the order "all" runs them.
func scenarios() []scenario {
	return []scenario{
		oneSlave(),
		sixSlaves(),
		repeated(),
		pipelined(),
		slaveKilled(),
		masterKilled(),
		debianSlave(),
		debianMaster(),
		realPiuparts(),
		quickstart(),
	}
}

// lookup returns the scenario called name.
func lookup(name string) (scenario, bool) {
	for _, s := range scenarios() {
		if s.name == name {
			return s, true
		}
	}
	return scenario{}, false
}
