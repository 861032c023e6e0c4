package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"piuparts-server/internal/debianref"
	"piuparts-server/internal/sshd"
)

// debianMaster: our slave against Debian's piuparts-master over sshd.
func debianMaster() scenario {
	return scenario{
		name:  "debian-master",
		doc:   "our slave against Debian's piuparts-master-backend over sshd: Debian's status and log tree match the simulator",
		quick: true,
		run: func(ctx context.Context, h *H) error {
			for _, p := range []string{debianref.Python, debianref.MasterBackend} {
				if _, err := os.Stat(p); err != nil {
					return h.Skip("Debian's piuparts-master is not installed (%v); make test-deps installs piuparts-master", err)
				}
			}
			if err := h.NeedSSHD(); err != nil {
				return err
			}
			f := &farm{h: h, masterDir: filepath.Join(h.root, "debian-master"), slaveConf: map[string]string{}}
			var err error
			if f.pkgs, err = readPackages(filepath.Join(h.demo, "archive", "dists", farmDistro, "main", "binary-amd64", "Packages")); err != nil {
				return err
			}
			if f.fail, err = readFailList(filepath.Join(h.demo, "fail-list")); err != nil {
				return err
			}
			var masterCmd []string
			err = h.Step("write Debian's master config (INI) and start sshd with it as the forced command", func() error {
				if err := os.MkdirAll(filepath.Join(f.masterDir, farmSection), 0o755); err != nil {
					return err
				}
				ini := filepath.Join(h.root, "piuparts.conf")
				body := fmt.Sprintf("[global]\nsections = %s\nmaster-directory = %s\n\n[%s]\nmirror = file://%s\ndistro = %s\narea = main\narch = amd64\n",
					farmSection, f.masterDir, farmSection, filepath.Join(h.demo, "archive"), farmDistro)
				if err := os.WriteFile(ini, []byte(body), 0o644); err != nil {
					return err
				}
				distros := filepath.Join(h.root, "distros.conf")
				script := filepath.Join(h.root, "debian-master.py")
				if err := os.WriteFile(distros, nil, 0o644); err != nil {
					return err
				}
				if err := os.WriteFile(script, []byte(debianref.Script), 0o644); err != nil {
					return err
				}
				masterCmd = []string{debianref.Python, script, ini, distros, debianref.MasterBackend}
				quoted := make([]string, len(masterCmd))
				for i, w := range masterCmd {
					quoted[i] = sshd.ShellQuote(w)
				}
				if f.sshd, err = h.SSHD(sshd.Config{ForcedCommand: strings.Join(quoted, " "), SetEnv: []string{"SHLVL=1"}}); err != nil {
					return err
				}
				h.Logf("sshd pid %d on %s", f.sshd.Pid, f.sshd.Addr())
				return nil
			})
			if err != nil {
				return err
			}
			id := "slave1"
			f.slaveIDs = []string{id}
			keys := fmt.Sprintf("master-host = %q\nmaster-port = %d\nmaster-user = %q\nssh-identity = %q\nssh-known-hosts = %q\n",
				f.sshd.Host, f.sshd.Port, f.sshd.User, f.sshd.Identity, f.sshd.KnownHosts)
			f.slaveConf[id] = filepath.Join(h.root, id+".toml")
			if err := os.WriteFile(f.slaveConf[id], []byte(f.config(id, farmOpts{maxReserved: 20}, keys)), 0o644); err != nil {
				return err
			}
			var initial map[string]int
			if err := h.Step("Debian's master: status from scratch", func() error {
				initial, err = debianStatus(ctx, masterCmd)
				if err != nil {
					return err
				}
				h.Logf("%s", statesLine(initial))
				if initial["total"] != len(f.pkgs) {
					return fmt.Errorf("total=%d, the archive has %d packages", initial["total"], len(f.pkgs))
				}
				return nil
			}); err != nil {
				return err
			}
			var took float64
			if err := h.Step("our slave: piuparts-slave run --until-idle against Debian's master", func() error {
				d, err := f.runSlaves(ctx, f.slaveIDs, "0")
				took = d.Seconds()
				return err
			}); err != nil {
				return err
			}
			return h.Step("check Debian's master: status, pass/ fail/ untestable/ reserved/, submissions.txt", func() error {
				st, err := debianStatus(ctx, masterCmd)
				if err != nil {
					return err
				}
				h.Logf("%s", statesLine(st))
				total := st["total"]
				delete(st, "total")
				var problems []string
				sum := 0
				for s, n := range st {
					sum += n
					if n > 0 && !slices.Contains(finalStates, s) {
						problems = append(problems, fmt.Sprintf("%d packages in %s, not a final state", n, s))
					}
				}
				if sum != len(f.pkgs) || total != len(f.pkgs) {
					problems = append(problems, fmt.Sprintf("states count %d (total=%d), the archive has %d", sum, total, len(f.pkgs)))
				}
				if e, _ := os.ReadDir(filepath.Join(f.masterDir, farmSection, "reserved")); len(e) > 0 {
					problems = append(problems, fmt.Sprintf("%d packages still reserved", len(e)))
				}
				c, more, err := checkLogs(st, filepath.Join(f.masterDir, farmSection), f.pkgs, f.fail, initial["dependency-does-not-exist"], 1)
				if err != nil {
					return err
				}
				problems = append(problems, more...)
				h.Logf("logs=%d pass=%d fail=%d dependency-failed=%d; submissions.txt %d lines", c.logs, c.pass, c.fail, c.depFailed, c.lines)
				h.Figure("tested=%d", c.logs)
				h.Figure("pass=%d fail=%d dep-failed=%d", c.pass, c.fail, c.depFailed)
				h.Figure("logs/s=%.1f", float64(c.logs)/took)
				if len(problems) > 0 {
					return fmt.Errorf("%d problems: %s", len(problems), strings.Join(problems[:min(len(problems), 8)], "; "))
				}
				return nil
			})
		},
	}
}

// debianStatus asks Debian's master (run as masterCmd on pipes) for the
// section's status: "ok STATE=N ... total=N".
func debianStatus(ctx context.Context, masterCmd []string) (map[string]int, error) {
	cmd := exec.CommandContext(ctx, masterCmd[0], masterCmd[1:]...)
	cmd.Stdin = strings.NewReader("section " + farmSection + "\nstatus\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("piuparts-master-backend status: %w: %s", err, cut(stderr.String()))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	last := lines[len(lines)-1]
	w := strings.Fields(last)
	if len(lines) != 3 || len(w) < 2 || w[0] != "ok" {
		return nil, fmt.Errorf("piuparts-master-backend answered %q", cut(string(out)))
	}
	m := map[string]int{}
	for _, kv := range w[1:] {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil {
			return nil, fmt.Errorf("piuparts-master-backend status: field %q", cut(kv))
		}
		m[k] = n
	}
	return m, nil
}

// statesLine is a status map as "state=N ..." without zeros, in order.
func statesLine(m map[string]int) string {
	var w []string
	for k, v := range m {
		if v != 0 {
			w = append(w, fmt.Sprintf("%s=%d", k, v))
		}
	}
	slices.Sort(w)
	return strings.Join(w, " ")
}
