package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"piuparts-server/internal/nspawn"
)

// machineCache is where the bookworm machine image is kept between runs
// (one debootstrap a day).
const machineCache = "/var/cache/piuparts-server-test"

// Markers around the README's quickstart block.
const (
	quickstartBegin = "<!-- quickstart:begin -->"
	quickstartEnd   = "<!-- quickstart:end -->"
)

// Bounds of the quickstart's waits: what real piuparts needs on a fresh
// machine (a base tarball, then a package), with room for a slow mirror.
const (
	firstReserveWait = 5 * time.Minute
	firstLogWait     = 12 * time.Minute
)

func quickstart() scenario {
	return scenario{
		name: "quickstart",
		doc: "the README's quickstart, run as it is in a fresh bookworm machine (systemd-nspawn) with this checkout's .deb: " +
			"the slave's unit tests packages with real piuparts over sshd, the master stores the logs, the report's unit writes the report, stop unreserves",
		quick: true,
		run:   runQuickstart,
	}
}

func runQuickstart(ctx context.Context, h *H) error {
	if why := nspawn.Missing(); why != "" {
		return h.Skip("cannot boot a machine: %s", why)
	}
	repo := filepath.Dir(filepath.Dir(h.demo)) // deploy/demo -> the checkout
	script, err := quickstartScript(filepath.Join(repo, "README.md"))
	if err != nil {
		return err
	}
	var mirror, deb, image string
	if err := h.Step("find apt's mirror", func() error {
		out, err := exec.CommandContext(ctx, filepath.Join(repo, "deploy/apt-mirror"), "bookworm", "main").Output()
		mirror = strings.TrimSpace(string(out))
		if err != nil || mirror == "" {
			return fmt.Errorf("deploy/apt-mirror: %v", err)
		}
		return nil
	}); err != nil {
		return h.Skip("no Debian mirror in apt's sources: %v", err)
	}
	if err := h.Step("build the .deb (make deb)", func() error {
		deb, err = buildDeb(ctx, h, repo)
		return err
	}); err != nil {
		return err
	}
	h.Logf("%s", filepath.Base(deb))
	if err := h.Step("a bookworm machine image (debootstrap, cached for the day)", func() error {
		image, err = nspawn.Image(ctx, machineCache, "bookworm", mirror, nil)
		return err
	}); err != nil {
		return err
	}
	port, err := h.Port()
	if err != nil {
		return err
	}
	var m *nspawn.Machine
	if err := h.Step("boot it", func() error {
		m, err = nspawn.Boot(ctx, image, h.root, "quickstart", func(root string) error {
			// The machine shares this host's network: its sshd, which the
			// quickstart installs, listens on 127.0.0.1 and a port of ours.
			conf := fmt.Sprintf("# piuparts-scenario: this machine shares the host's network\nListenAddress 127.0.0.1\nPort %d\n", port)
			if err := os.MkdirAll(filepath.Join(root, "etc/ssh/sshd_config.d"), 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(root, "etc/ssh/sshd_config.d/piuparts-scenario.conf"), []byte(conf), 0o644)
		})
		return err
	}); err != nil {
		return err
	}
	defer func() {
		h.Step("power the machine off", func() error { return m.Stop(context.Background()) })
	}()
	if err := h.Step("apt-get update in the machine, copy the .deb in", func() error {
		if out, err := m.Output(ctx, "apt-get", "update", "-qq"); err != nil {
			return fmt.Errorf("%w\n%s", err, tailLines(out, 10))
		}
		return m.CopyFile(deb, "/root/"+filepath.Base(deb))
	}); err != nil {
		return err
	}

	logPath := filepath.Join(h.root, "quickstart.log")
	if err := h.Step("run the README's quickstart block (bash -eux)", func() error {
		log, err := os.Create(logPath)
		if err != nil {
			return err
		}
		defer log.Close()
		cmd := m.Command(ctx, []string{"MASTER=127.0.0.1", "SSH_PORT=" + strconv.Itoa(port), "SLAVE=slave1",
			"DEBIAN_FRONTEND=noninteractive"}, "bash", "-eux")
		cmd.Stdin = strings.NewReader(script)
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Run(); err != nil {
			b, _ := os.ReadFile(logPath)
			journal, _ := m.Output(ctx, "journalctl", "--no-pager", "-n", "25", "-p", "info")
			return fmt.Errorf("%w; its last lines:\n%s\nthe machine's journal:\n%s", err, tailLines(string(b), 25), journal)
		}
		return nil
	}); err != nil {
		return err
	}
	h.Logf("its output: %s", logPath)

	if err := h.Step("the units run", func() error {
		for _, u := range []string{"piuparts-slave.service", "piuparts-report.timer", "piuparts-master-reschedule.timer"} {
			if out, err := m.Output(ctx, "systemctl", "is-active", u); err != nil {
				return fmt.Errorf("%s is %s", u, strings.TrimSpace(out))
			}
		}
		return nil
	}); err != nil {
		return err
	}

	status := func() (*masterStatus, error) {
		out, err := m.Output(ctx, "sudo", "-u", "piupartsm", "piuparts-master", "status", "--json", "bookworm")
		if err != nil {
			return nil, fmt.Errorf("%w\n%s", err, tailLines(out, 5))
		}
		var st masterStatus
		if err := json.Unmarshal([]byte(out), &st); err != nil || len(st.Sections) != 1 {
			return nil, fmt.Errorf("piuparts-master status --json: %v: %q", err, cut(out))
		}
		return &st, nil
	}
	start := time.Now()
	if err := h.Step("the slave reserves over sshd (master status)", func() error {
		return poll(ctx, firstReserveWait, func() (bool, error) {
			st, err := status()
			if err != nil {
				return false, err
			}
			for _, r := range st.Sections[0].Reservations {
				if r.Holder == "slave1" {
					h.Logf("slave1 holds %s %s (of %d reservations)", r.Package, r.Version, len(st.Sections[0].Reservations))
					return true, nil
				}
			}
			return false, nil
		})
	}); err != nil {
		return err
	}
	h.Figure("first reserve %.0fs", time.Since(start).Seconds())

	var first string
	if err := h.Step("the first log arrives (real piuparts, base tarball first)", func() error {
		return poll(ctx, firstLogWait, func() (bool, error) {
			for _, dir := range []string{"pass", "fail", "untestable"} {
				logs, _ := filepath.Glob(filepath.Join(m.Root, "var/lib/piuparts/master/bookworm", dir, "*.log"))
				if len(logs) > 0 {
					first = logs[0]
					h.Logf("%s/%s", dir, filepath.Base(first))
					return true, nil
				}
			}
			return false, nil
		})
	}); err != nil {
		out, _ := m.Output(ctx, "journalctl", "-u", "piuparts-slave", "--no-pager", "-n", "20")
		return fmt.Errorf("%w; the slave's journal:\n%s", err, out)
	}
	h.Figure("first log %.0fs", time.Since(start).Seconds())
	if err := h.Step("the log is piuparts' own", func() error {
		b, err := os.ReadFile(first)
		if err != nil {
			return err
		}
		if strings.Contains(first, "/pass/") && !bytes.Contains(b, []byte("piuparts run ends")) {
			return fmt.Errorf("%s has no 'piuparts run ends' line", first)
		}
		if !bytes.Contains(b, []byte("Executing: ")) {
			return fmt.Errorf("%s has no 'Executing:' line of the runner", first)
		}
		return nil
	}); err != nil {
		return err
	}

	if err := h.Step("the report's unit writes the report", func() error {
		if out, err := m.Output(ctx, "systemctl", "start", "piuparts-report.service"); err != nil {
			return fmt.Errorf("%w\n%s", err, out)
		}
		htdocs := filepath.Join(m.Root, "var/lib/piuparts/htdocs")
		for _, f := range []string{"index.html", "bookworm/index.html", "bookworm/sources.txt", "bookworm/summary.json"} {
			if _, err := os.Stat(filepath.Join(htdocs, f)); err != nil {
				return fmt.Errorf("no %s in the report: %w", f, err)
			}
		}
		return nil
	}); err != nil {
		return err
	}

	if err := h.Step("stop the slave's unit (SIGINT first): it unreserves", func() error {
		t := time.Now()
		if out, err := m.Output(ctx, "systemctl", "stop", "piuparts-slave.service"); err != nil {
			return fmt.Errorf("%w\n%s", err, out)
		}
		h.Logf("stopped in %.1fs", time.Since(t).Seconds())
		st, err := status()
		if err != nil {
			return err
		}
		for _, r := range st.Sections[0].Reservations {
			if r.Holder == "slave1" {
				return fmt.Errorf("slave1 still holds %s %s after its stop", r.Package, r.Version)
			}
		}
		if n := st.Sections[0].States["successfully-tested"] + st.Sections[0].States["failed-testing"] + st.Sections[0].States["cannot-be-tested"]; n < 1 {
			return fmt.Errorf("the master's states count no tested package: %v", st.Sections[0].States)
		}
		if out, err := m.Output(ctx, "sudo", "-u", "piupartsm", "piuparts-master", "fsck"); err != nil {
			return fmt.Errorf("fsck: %w\n%s", err, out)
		}
		return nil
	}); err != nil {
		return err
	}
	return nil
}

// masterStatus is the part of `piuparts-master status --json` the
// quickstart reads.
type masterStatus struct {
	Sections []struct {
		States       map[string]int `json:"states"`
		Reservations []struct {
			Package string `json:"package"`
			Version string `json:"version"`
			Holder  string `json:"holder"`
		} `json:"reservations"`
	} `json:"sections"`
}

// quickstartScript returns the shell block between the README's quickstart
// markers, without its fence lines.
func quickstartScript(readme string) (string, error) {
	b, err := os.ReadFile(readme)
	if err != nil {
		return "", fmt.Errorf("the quickstart: %w", err)
	}
	s := string(b)
	i, j := strings.Index(s, quickstartBegin), strings.Index(s, quickstartEnd)
	if i < 0 || j < i {
		return "", fmt.Errorf("the quickstart: no %s ... %s block in %s", quickstartBegin, quickstartEnd, readme)
	}
	block := strings.TrimSpace(s[i+len(quickstartBegin) : j])
	if !strings.HasPrefix(block, "```sh\n") || !strings.HasSuffix(block, "\n```") {
		return "", errors.New("the quickstart: the block between the markers is not one ```sh fence")
	}
	return strings.TrimSuffix(strings.TrimPrefix(block, "```sh\n"), "```"), nil
}

// buildDeb runs `make deb` in the checkout and returns the package it wrote.
func buildDeb(ctx context.Context, h *H, repo string) (string, error) {
	if p := h.getenv("PIUPARTS_SCENARIO_DEB"); p != "" {
		return p, nil
	}
	cmd := exec.CommandContext(ctx, "make", "-s", "-C", repo, "deb")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("make deb: %w\n%s", err, tailLines(string(out), 15))
	}
	debs, _ := filepath.Glob(filepath.Join(repo, "bin", "piuparts-server_*_amd64.deb"))
	var newest string
	var when time.Time
	for _, d := range debs {
		if fi, err := os.Stat(d); err == nil && fi.ModTime().After(when) {
			newest, when = d, fi.ModTime()
		}
	}
	if newest == "" {
		return "", fmt.Errorf("make deb wrote no bin/piuparts-server_*_amd64.deb")
	}
	return newest, nil
}

// poll calls f every 2 s until it returns true or an error, or until wait
// has passed: waitFor's 20 ms would run a command in the machine 50 times a
// second.
func poll(ctx context.Context, wait time.Duration, f func() (bool, error)) error {
	deadline := time.Now().Add(wait)
	for {
		ok, err := f()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
