package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// slaveKilled: a slave SIGKILLed in the middle of a test; its lease
// (reserved-expire = 60 s, the shortest the config allows) runs out and
// another slave tests what it held.
func slaveKilled() scenario {
	return scenario{
		name: "slave-killed",
		doc:  "a slave SIGKILLed during a test: its leases (reserved-expire 60 s) expire and another slave finishes every package, none twice",
		run: func(ctx context.Context, h *H) error {
			f, err := newFarm(ctx, h, farmOpts{slaves: 2, maxReserved: 10, reservedExpire: "60"})
			if err != nil {
				return err
			}
			victim, rescuer := f.slaveIDs[0], f.slaveIDs[1]
			var p *proc
			if err := h.Step(victim+": piuparts-slave run, the simulator sleeping 0.5 s per test", func() error {
				p, err = f.startSlave(victim, false, "0.5")
				return err
			}); err != nil {
				return err
			}
			held := map[string]bool{}
			var killedAt time.Time
			err = h.Step("SIGKILL "+victim+" once it shipped logs and is in a test", func() error {
				spoolNew := filepath.Join(h.root, victim, "1", farmSection, "new")
				ship := filepath.Join(h.root, victim, "shipping.log")
				if err := waitFor(ctx, 2*time.Minute, func() bool {
					lines, _ := readShipping(ship)
					running, _ := os.ReadDir(spoolNew)
					return len(lines) >= 3 && len(running) > 0 || closed(p.done)
				}); err != nil || closed(p.done) {
					return fmt.Errorf("%s shipped no logs or ran no test (%v):\n%s", victim, err, tailFile(p.log, 15))
				}
				if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); err != nil {
					return err
				}
				killedAt = time.Now()
				<-p.done
				st, err := f.status(ctx)
				if err != nil {
					return err
				}
				for _, r := range st.Reservations {
					if r.Holder == victim {
						held[r.Package] = true
					}
				}
				shippedBefore, _ := readShipping(ship)
				h.Logf("killed with %d logs shipped; the master holds %d reservations for it: %s", len(shippedBefore), len(held), strings.Join(sortedKeys(held), " "))
				if len(held) == 0 {
					return fmt.Errorf("the master holds no reservation of the killed slave")
				}
				return nil
			})
			if err != nil {
				return err
			}
			var q *proc
			var expiredAfter atomic.Int64 // nanoseconds from the kill
			err = h.Step(rescuer+": piuparts-slave run until every package is done (the leases expire first)", func() error {
				if q, err = f.startSlave(rescuer, false, "0"); err != nil {
					return err
				}
				// Report when the killed slave's reservations are gone.
				go func() {
					for range time.Tick(200 * time.Millisecond) {
						st, err := f.status(ctx)
						if err != nil || closed(q.done) {
							return
						}
						still := 0
						for _, r := range st.Reservations {
							if r.Holder == victim {
								still++
							}
						}
						if still == 0 {
							expiredAfter.Store(int64(time.Since(killedAt)))
							return
						}
					}
				}()
				if err := f.waitDone(ctx, []*proc{q}); err != nil {
					return err
				}
				h.Logf("the killed slave's reservations were gone %.1fs after the kill", time.Duration(expiredAfter.Load()).Seconds())
				return nil
			})
			if err != nil {
				return err
			}
			if _, err := f.checkFinal(ctx, 1); err != nil {
				return err
			}
			return h.Step("check: the killed slave's reservations came back and were tested once, by the other slave", func() error {
				a, err := readShipping(filepath.Join(h.root, victim, "shipping.log"))
				if err != nil {
					return err
				}
				b, err := readShipping(filepath.Join(h.root, rescuer, "shipping.log"))
				if err != nil {
					return err
				}
				byA, byB := map[string]bool{}, map[string]bool{}
				for _, s := range a {
					byA[s.name] = true
				}
				for _, s := range b {
					byB[s.name] = true
				}
				var problems []string
				for name := range held {
					if !byB[name] {
						problems = append(problems, name+" (held by the killed slave) was not tested by "+rescuer)
					}
					if byA[name] {
						problems = append(problems, name+" was shipped by the killed slave though the master held it reserved")
					}
				}
				for name := range byA {
					if byB[name] {
						problems = append(problems, name+" shipped by both slaves")
					}
				}
				h.Figure("killed-held=%d", len(held))
				h.Figure("lease-back=%.0fs", time.Duration(expiredAfter.Load()).Seconds())
				h.Figure("shipped=%d+%d", len(a), len(b))
				h.Logf("%s shipped %d, %s shipped %d (all %d reservations of the killed slave among them)", victim, len(a), rescuer, len(b), len(held))
				if len(problems) > 0 {
					return fmt.Errorf("%s", strings.Join(problems[:min(len(problems), 8)], "; "))
				}
				return nil
			})
		},
	}
}

// spoolEmpty reports whether a slave's section spool holds no finished
// log, no running test and no reservation.
func spoolEmpty(dir string) bool {
	for _, d := range []string{"new", "pass", "fail", "untestable", "reserved"} {
		if e, _ := os.ReadDir(filepath.Join(dir, d)); len(e) > 0 {
			return false
		}
	}
	return true
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
