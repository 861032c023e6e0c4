package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"piuparts-server/internal/debianref"
)

// debianSlave: Debian's piuparts-slave and ours side by side against our
// master over sshd.
func debianSlave() scenario {
	return scenario{
		name:  "debian-slave",
		doc:   "Debian's piuparts-slave and ours side by side against our master over sshd: all done, none twice",
		quick: true,
		run: func(ctx context.Context, h *H) error {
			for _, p := range []string{debianref.Python, debianref.Slave} {
				if _, err := os.Stat(p); err != nil {
					return h.Skip("Debian's piuparts-slave is not installed (%v); make test-deps installs piuparts-slave", err)
				}
			}
			f, err := newFarm(ctx, h, farmOpts{slaves: 1, maxReserved: 10, firstID: "debian-slave"})
			if err != nil {
				return err
			}
			dir := filepath.Join(h.root, "debian-slave")
			ini := filepath.Join(h.root, "piuparts-debian-slave.conf")
			tgz := filepath.Join(dir, "bookworm_amd64.tar.gz")
			err = h.Step("write Debian's slave config (INI) and a base tarball it never rebuilds", func() error {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return err
				}
				// max-tgz-age = 0 ("disables recreation"): the simulator never opens it.
				if err := os.WriteFile(tgz, nil, 0o644); err != nil {
					return err
				}
				body := fmt.Sprintf(`[global]
sections = %[1]s
mirror = file://%[2]s
master-host = %[3]s
master-user = %[4]s
idle-sleep = 300

[%[1]s]
distro = %[5]s
area = main
arch = amd64
piuparts-command = %[6]s
max-reserved = 10
chroot-tgz = %[7]s
max-tgz-age = 0
`, farmSection, filepath.Join(h.demo, "archive"), f.sshd.Host, f.sshd.User, farmDistro, filepath.Join(h.demo, "piuparts-simulator"), tgz)
				if err := os.WriteFile(ini, []byte(body), 0o644); err != nil {
					return err
				}
				return os.WriteFile(filepath.Join(h.root, "distros.conf"), nil, 0o644)
			})
			if err != nil {
				return err
			}
			var procs []*proc
			err = h.Step("start Debian's piuparts-slave (ssh through the known_hosts wrapper) and ours", func() error {
				script := filepath.Join(h.root, "debian-slave.py")
				if err := os.WriteFile(script, []byte(debianref.Script), 0o644); err != nil {
					return err
				}
				d, err := h.StartIn(dir, "debian-slave", []string{
					"PATH=" + f.sshd.BinDir + ":/usr/sbin:/usr/bin:/sbin:/bin",
					"HOME=" + h.root, "LANG=C.UTF-8", "PIUPARTS_SIMULATOR_DELAY=0.02",
				}, debianref.Python, script, ini, filepath.Join(h.root, "distros.conf"), debianref.Slave)
				if err != nil {
					return err
				}
				o, err := f.startSlave(f.slaveIDs[0], false, "0.02")
				if err != nil {
					return err
				}
				procs = []*proc{d, o}
				return nil
			})
			if err != nil {
				return err
			}
			// Debian's slave sleeps at least 60 s when idle and has no
			// one-shot mode: stop both once the master says all is done.
			if err := h.Step("wait until every package is done, then stop both", func() error {
				return f.waitDone(ctx, procs)
			}); err != nil {
				return err
			}
			c, err := f.checkFinal(ctx, 1)
			if err != nil {
				return err
			}
			return h.Step("check: both slaves tested, and the master counts each one's logs", func() error {
				ours, err := readShipping(filepath.Join(h.root, f.slaveIDs[0], "shipping.log"))
				if err != nil {
					return err
				}
				st, err := f.status(ctx)
				if err != nil {
					return err
				}
				per := map[string]int{}
				for _, s := range st.Slaves {
					per[s.Slave] = s.Logs24h
				}
				h.Logf("the master counts debian-slave=%d %s=%d; our slave's shipping.log %d", per["debian-slave"], f.slaveIDs[0], per[f.slaveIDs[0]], len(ours))
				h.Figure("tested=%d", c.logs)
				h.Figure("by-debian=%d by-ours=%d", per["debian-slave"], per[f.slaveIDs[0]])
				var problems []string
				if per["debian-slave"] == 0 {
					problems = append(problems, "Debian's slave submitted nothing:\n"+tailFile(procs[0].log, 15))
				}
				if per[f.slaveIDs[0]] != len(ours) {
					problems = append(problems, fmt.Sprintf("the master counts %d logs of %s, its shipping.log %d", per[f.slaveIDs[0]], f.slaveIDs[0], len(ours)))
				}
				if per["debian-slave"]+per[f.slaveIDs[0]] != c.logs {
					problems = append(problems, fmt.Sprintf("%d + %d logs by slave, %d in the master directory", per["debian-slave"], per[f.slaveIDs[0]], c.logs))
				}
				if len(problems) > 0 {
					return fmt.Errorf("%s", strings.Join(problems, "; "))
				}
				return nil
			})
		},
	}
}
