package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

func oneSlave() scenario {
	return scenario{
		name:  "one-slave",
		doc:   "master behind sshd + one slave on the demo archive: every package final, states match the logs and the fail list",
		quick: true,
		run: func(ctx context.Context, h *H) error {
			f, err := newFarm(ctx, h, farmOpts{slaves: 1, maxReserved: 10})
			if err != nil {
				return err
			}
			return f.runAndCheck(ctx, "0")
		},
	}
}

// runAndCheck runs every slave of the farm with --until-idle, checks the
// master and records the figures.
func (f *farm) runAndCheck(ctx context.Context, delay string) error {
	var took float64
	err := f.h.Step(fmt.Sprintf("%d slave(s): piuparts-slave run --until-idle", len(f.slaveIDs)), func() error {
		d, err := f.runSlaves(ctx, f.slaveIDs, delay)
		took = d.Seconds()
		return err
	})
	if err != nil {
		return err
	}
	c, err := f.checkFinal(ctx, 1)
	if err != nil {
		return err
	}
	f.h.Figure("packages=%d", len(f.pkgs))
	f.h.Figure("tested=%d", c.logs)
	f.h.Figure("pass=%d fail=%d dep-failed=%d", c.pass, c.fail, c.depFailed)
	if len(f.slaveIDs) > 1 {
		var per []string
		total := 0
		for _, id := range f.slaveIDs {
			ship, err := readShipping(filepath.Join(f.h.root, id, "shipping.log"))
			if err != nil {
				return err
			}
			total += len(ship)
			per = append(per, strconv.Itoa(len(ship)))
		}
		f.h.Figure("per-slave=%s", strings.Join(per, "/"))
		if total != c.logs {
			return fmt.Errorf("the slaves' shipping.logs say %d logs were acknowledged, the master holds %d", total, c.logs)
		}
	}
	f.h.Figure("run=%.1fs", took)
	f.h.Figure("logs/s=%.1f", float64(c.logs)/took)
	return nil
}
