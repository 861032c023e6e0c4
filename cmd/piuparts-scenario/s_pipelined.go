package main

import "context"

func pipelined() scenario {
	return scenario{
		name:  "pipelined",
		doc:   "two slaves reserving 100 packages per connection: all done, none twice",
		quick: true,
		run: func(ctx context.Context, h *H) error {
			f, err := newFarm(ctx, h, farmOpts{slaves: 2, maxReserved: 100})
			if err != nil {
				return err
			}
			return f.runAndCheck(ctx, "0")
		},
	}
}
