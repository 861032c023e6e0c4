package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// repeated: the same farm twice on the same directories, with Debian's
// piuparts on the five packages of real-archive (as root; skipped
// otherwise, as real-piuparts is). The first run starts from nothing: the
// slave makes its base tarball with debootstrap, as a new farm does. The
// second retests every log of the first (marked with reschedule-tests, as
// an operator retests a section) and is served from the caches the first
// left: the master server still runs with the section's archive prepared
// in memory (same pid), and the slave keeps its base tarball (not made
// again) and its spool directories. With the simulator, which makes a
// tarball in no time, there would be nothing for a cache to save.
func repeated() scenario {
	return scenario{
		name: "repeated",
		doc: "the farm twice on the same directories with Debian's piuparts on five packages (all logs marked for retesting): " +
			"the first makes the base tarball, the second is served from the caches; times and ratio",
		quick: false,
		run: func(ctx context.Context, h *H) error {
			f, err := newFarm(ctx, h, farmOpts{slaves: 1, maxReserved: 5, real: true})
			if err != nil {
				return err
			}
			id := f.slaveIDs[0]
			var first, second time.Duration
			if err := h.Step("first run: piuparts-slave run --until-idle", func() error {
				first, err = f.runSlaves(ctx, f.slaveIDs, "0")
				return err
			}); err != nil {
				return err
			}
			c1, err := f.checkFinal(ctx, 1)
			if err != nil {
				return err
			}
			server1, tgz1, err := f.caches(id)
			if err != nil {
				return err
			}
			h.Logf("master server pid %d; base tarball %s (%s)", server1, tgz1.path, tgz1.mtime.Format(time.RFC3339Nano))
			if err := h.Step("mark every log for retesting: piuparts-master reschedule-tests --logfiles", func() error {
				logs, err := f.logs()
				if err != nil {
					return err
				}
				args := []string{"-c", f.masterConf, "reschedule-tests", "--logfiles"}
				for name, kinds := range logs {
					for _, k := range kinds {
						args = append(args, filepath.Join(f.masterDir, farmSection, k, name+"_"+f.pkgs[name]+".log"))
					}
				}
				p, err := h.Start("reschedule-tests", nil, append([]string{h.master}, args...)...)
				if err != nil {
					return err
				}
				if err := h.Wait(ctx, p, time.Minute); err != nil {
					return err
				}
				marked, _ := os.ReadDir(filepath.Join(f.masterDir, farmSection, "recycle"))
				h.Logf("%d logs marked (recycle/ holds %d)", len(args)-4, len(marked))
				if len(marked) != c1.logs {
					return fmt.Errorf("recycle/ holds %d markers for %d logs", len(marked), c1.logs)
				}
				return nil
			}); err != nil {
				return err
			}
			if err := h.Step("second run on the same directories", func() error {
				second, err = f.runSlaves(ctx, f.slaveIDs, "0")
				return err
			}); err != nil {
				return err
			}
			c2, err := f.checkFinal(ctx, 2)
			if err != nil {
				return err
			}
			err = h.Step("check: everything retested once, served from the caches", func() error {
				var problems []string
				for name := range c2.submissions {
					if c2.submissions[name] != 2 {
						problems = append(problems, fmt.Sprintf("%s submitted %d times in two runs", name, c2.submissions[name]))
					}
				}
				if c2.logs != c1.logs {
					problems = append(problems, fmt.Sprintf("%d logs after the second run, %d after the first", c2.logs, c1.logs))
				}
				server2, tgz2, err := f.caches(id)
				if err != nil {
					return err
				}
				if server2 != server1 {
					problems = append(problems, fmt.Sprintf("the second run was served by master server pid %d, the first by %d", server2, server1))
				}
				if !tgz2.mtime.Equal(tgz1.mtime) {
					problems = append(problems, "the slave made its base tarball again")
				}
				h.Logf("same master server (pid %d), base tarball %s not made again", server2, filepath.Base(tgz2.path))
				if len(problems) > 0 {
					return fmt.Errorf("%s", strings.Join(problems[:min(len(problems), 8)], "; "))
				}
				return nil
			})
			if err != nil {
				return err
			}
			ratio := first.Seconds() / second.Seconds()
			h.Logf("first run %.2fs, second run %.2fs: %.2fx", first.Seconds(), second.Seconds(), ratio)
			if second >= first {
				h.Logf("WARNING: the second run was not faster than the first (timing is not asserted)")
			}
			h.Figure("tested=%d+%d", c1.logs, c2.logs)
			h.Figure("first=%.1fs second=%.1fs ratio=%.2fx", first.Seconds(), second.Seconds(), ratio)
			return nil
		},
	}
}

// fileTime is a file and its modification time.
type fileTime struct {
	path  string
	mtime time.Time
}

// caches returns the pid of the master server running for the farm and
// the slave's base tarball.
func (f *farm) caches(id string) (int, fileTime, error) {
	var server int
	for _, lp := range f.h.lingering() {
		if strings.Contains(lp.cmdline, f.masterConf+" server ") {
			server = lp.pid
		}
	}
	if server == 0 {
		return 0, fileTime{}, fmt.Errorf("no master server runs for %s", f.masterConf)
	}
	var tgz fileTime
	dir := filepath.Join(f.h.root, id)
	if f.real != nil {
		dir = f.real.basetgz
	}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".tar.gz") {
			if st, err := os.Stat(p); err == nil {
				tgz = fileTime{p, st.ModTime()}
			}
		}
		return nil
	})
	if tgz.path == "" {
		return 0, fileTime{}, fmt.Errorf("no base tarball under %s", dir)
	}
	return server, tgz, nil
}
