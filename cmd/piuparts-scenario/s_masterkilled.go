package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// masterKills is how often master-killed SIGKILLs the master server.
const masterKills = 6

// masterKilled: the master server (piuparts-master server, which the
// forced command starts on demand) SIGKILLed repeatedly while logs arrive.
// The slaves retry; every log a slave's shipping.log says was acknowledged
// is in the master directory, and fsck is clean.
func masterKilled() scenario {
	return scenario{
		name: "master-killed",
		doc:  fmt.Sprintf("the master server SIGKILLed %d times during submissions: slaves retry, no acknowledged log lost, fsck clean", masterKills),
		run: func(ctx context.Context, h *H) error {
			// A kill between the commit of a reservation and its answer leaves
			// a reservation its slave never heard of; it comes back when its
			// lease ends, so the lease is short (60 s, the least allowed).
			f, err := newFarm(ctx, h, farmOpts{slaves: 3, maxReserved: 5, reservedExpire: "60"})
			if err != nil {
				return err
			}
			var procs []*proc
			// Not --until-idle: that exits when the master cannot be reached;
			// the worker loop waits unreachable-wait and tries again.
			if err := h.Step("3 slaves: piuparts-slave run", func() error {
				for _, id := range f.slaveIDs {
					p, err := f.startSlave(id, false, "0.02")
					if err != nil {
						return err
					}
					procs = append(procs, p)
				}
				return nil
			}); err != nil {
				return err
			}
			finished := false
			running := func() bool {
				if finished {
					return false
				}
				st, err := f.status(ctx)
				finished = err == nil && f.done(st)
				return !finished
			}
			subs := filepath.Join(f.masterDir, farmSection, "submissions.txt")
			lines := func() int {
				b, _ := os.ReadFile(subs)
				return strings.Count(string(b), "\n")
			}
			kills := 0
			var pids []string
			err = h.Step(fmt.Sprintf("SIGKILL the master server %d times, each while logs arrive", masterKills), func() error {
				for kills < masterKills && running() {
					before := lines()
					var pid int
					// A server that runs, and a log that arrived since the last kill.
					if err := waitFor(ctx, time.Minute, func() bool {
						pid = f.serverPid()
						return !running() || pid != 0 && lines() > before
					}); err != nil {
						return fmt.Errorf("no submissions after kill %d: %w", kills, err)
					}
					if !running() {
						break
					}
					if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
						return fmt.Errorf("kill master server %d: %w", pid, err)
					}
					kills++
					pids = append(pids, fmt.Sprint(pid))
					if err := waitFor(ctx, 10*time.Second, func() bool { return !alive(pid) }); err != nil {
						return fmt.Errorf("master server %d survived SIGKILL", pid)
					}
					time.Sleep(300 * time.Millisecond)
				}
				h.Logf("killed master servers (pids %s) at %d submissions.txt lines", strings.Join(pids, " "), lines())
				if kills == 0 {
					return fmt.Errorf("the slaves finished before the master server could be killed")
				}
				return nil
			})
			if err != nil {
				return err
			}
			if err := h.Step("the slaves retry until every package is done", func() error {
				start := time.Now()
				if err := f.waitDone(ctx, procs); err != nil {
					return err
				}
				took := time.Since(start)
				h.Figure("after-kills=%.0fs", took.Seconds())
				if took > 50*time.Second {
					h.Logf("%.0fs: a reservation whose answer a kill swallowed came back only when its lease (60 s) ended", took.Seconds())
				}
				return nil
			}); err != nil {
				return err
			}
			acked := 0
			err = h.Step("every log a slave's shipping.log says was acknowledged is in the master directory", func() error {
				var missing []string
				for _, id := range f.slaveIDs {
					ship, err := readShipping(filepath.Join(h.root, id, "shipping.log"))
					if err != nil {
						return err
					}
					for _, s := range ship {
						acked++
						p := filepath.Join(f.masterDir, s.section, s.result, s.name+"_"+s.version+".log")
						if _, err := os.Stat(p); err != nil {
							missing = append(missing, fmt.Sprintf("%s (%s, acknowledged to %s)", p, s.result, id))
						}
					}
					if !spoolEmpty(filepath.Join(h.root, id, "1", farmSection)) {
						missing = append(missing, id+"'s spool is not empty")
					}
				}
				h.Logf("%d acknowledged logs, all present", acked)
				if len(missing) > 0 {
					return fmt.Errorf("%d lost: %s", len(missing), strings.Join(missing[:min(len(missing), 5)], "; "))
				}
				return nil
			})
			if err != nil {
				return err
			}
			// A log whose ok the kill swallowed is sent again: at least once.
			c, err := f.checkFinal(ctx, 2)
			if err != nil {
				return err
			}
			h.Figure("kills=%d", kills)
			h.Figure("acked=%d", acked)
			h.Figure("resent=%d", acked-c.logs)
			h.Figure("lost=0")
			return nil
		},
	}
}

// serverPid returns the pid of the master server running for the farm, 0
// when none runs.
func (f *farm) serverPid() int {
	for _, lp := range f.h.lingering() {
		if strings.Contains(lp.cmdline, f.masterConf+" server ") {
			return lp.pid
		}
	}
	return 0
}
