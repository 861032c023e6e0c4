package main

import "context"

func sixSlaves() scenario {
	return scenario{
		name:  "six-slaves",
		doc:   "master + six slaves on one section: every package tested exactly once (logs and submissions.txt)",
		quick: true,
		run: func(ctx context.Context, h *H) error {
			f, err := newFarm(ctx, h, farmOpts{slaves: 6, maxReserved: 5})
			if err != nil {
				return err
			}
			return f.runAndCheck(ctx, "0.02")
		},
	}
}
