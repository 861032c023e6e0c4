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
	"slices"
	"strings"
	"time"
)

// realPiuparts: `make demo PIUPARTS=real` (deploy/demo/run with
// PIUPARTS=real), checked as its user would check it.
func realPiuparts() scenario {
	return scenario{
		name: "real-piuparts",
		doc: "make demo PIUPARTS=real: our master and slave run Debian's piuparts on five bookworm packages; " +
			"each log is piuparts' own and passed, status and submissions.txt agree, the report is written",
		quick: true,
		run:   runRealPiuparts,
	}
}

func runRealPiuparts(ctx context.Context, h *H) error {
	want, _, err := realPackages(ctx, h, filepath.Join(h.root, "probe"))
	if err != nil {
		return err
	}
	path := sbinPath()

	state := filepath.Join(h.root, "demo")
	if err := h.Step("deploy/demo/run with PIUPARTS=real", func() error {
		p, err := h.Start("demo-real", []string{"PIUPARTS=real", "PATH=" + path},
			filepath.Join(h.demo, "run"), filepath.Dir(h.master), state)
		if err != nil {
			return err
		}
		t := time.Now()
		if err := h.Wait(ctx, p, 15*time.Minute); err != nil {
			return fmt.Errorf("%w\n%s", err, tailFile(p.log, 20))
		}
		h.Figure("run=%.0fs", time.Since(t).Seconds())
		return nil
	}); err != nil {
		return err
	}

	dir := filepath.Join(state, "master", farmDistro)
	if err := h.Step("every package's log is piuparts' own, in pass/", func() error {
		for name, version := range want {
			log := filepath.Join(dir, "pass", name+"_"+version+".log")
			data, err := os.ReadFile(log)
			if err != nil {
				return fmt.Errorf("%s %s: no log in pass/: %w", name, version, err)
			}
			for _, marker := range []string{
				"\nExecuting: ",
				" --apt " + name + "=" + version + "\n",
				"INFO: PASS: Installation and purging test.\n",
				"INFO: PASS: All tests.\n",
				"INFO: piuparts run ends.\n\nret=0\nEnd: ",
			} {
				if !strings.Contains(string(data), marker) {
					return fmt.Errorf("%s: no %q", log, marker)
				}
			}
			if strings.Contains(string(data), "SIMULATED") {
				return fmt.Errorf("%s: written by the simulator, not by piuparts", log)
			}
		}
		return nil
	}); err != nil {
		return err
	}

	if err := h.Step("status says successfully-tested, submissions.txt one line each, the report is there", func() error {
		out, err := exec.CommandContext(ctx, h.master, "-c", filepath.Join(state, "master.toml"), "status", "--json").Output()
		if err != nil {
			return fmt.Errorf("piuparts-master status --json: %w", err)
		}
		var st struct {
			Sections []struct {
				Section string         `json:"section"`
				States  map[string]int `json:"states"`
			} `json:"sections"`
		}
		if err := json.Unmarshal(out, &st); err != nil || len(st.Sections) != 1 {
			return fmt.Errorf("piuparts-master status --json: %v: %s", err, cut(string(out)))
		}
		got := st.Sections[0].States
		tested := got["successfully-tested"]
		delete(got, "successfully-tested")
		for k, v := range got {
			if v == 0 {
				delete(got, k)
			}
		}
		if tested != len(want) || len(got) != 0 {
			return fmt.Errorf("states: successfully-tested=%d and %v, want %d and nothing else", tested, got, len(want))
		}
		subs, err := readSubmissions(filepath.Join(dir, "submissions.txt"))
		if err != nil {
			return err
		}
		var names []string
		for k, n := range subs {
			if n != 1 {
				return fmt.Errorf("submissions.txt: %s %d times, want once", k, n)
			}
			names = append(names, k)
		}
		var wantNames []string
		for name := range want {
			wantNames = append(wantNames, name)
		}
		slices.Sort(names)
		slices.Sort(wantNames)
		if !slices.Equal(names, wantNames) {
			return fmt.Errorf("submissions.txt lists %q, want %q", names, wantNames)
		}
		if _, err := os.Stat(filepath.Join(state, "html", "index.html")); err != nil {
			return fmt.Errorf("no report: %w", err)
		}
		h.Figure("pass=%d", tested)
		return nil
	}); err != nil {
		return err
	}
	return nil
}

// realPackages is the step every scenario of Debian's piuparts starts
// with: root, piuparts and debootstrap are there (else a skip), and
// deploy/demo/real-archive writes its five packages of bookworm into dir
// (no mirror or no apt list, its exit status 2, is a skip too). It
// returns the packages (name -> version) and the mirror real-archive
// found in the apt sources.
func realPackages(ctx context.Context, h *H, dir string) (map[string]string, string, error) {
	if os.Geteuid() != 0 {
		return nil, "", h.Skip("not root: real piuparts needs root")
	}
	for _, tool := range []string{"/usr/sbin/piuparts", "/usr/sbin/debootstrap"} {
		if _, err := os.Stat(tool); err != nil {
			return nil, "", h.Skip("no %s (make test-deps installs piuparts and debootstrap)", tool)
		}
	}
	var want map[string]string
	var mirror string
	if err := h.Step("the five packages from apt's bookworm list (real-archive)", func() error {
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, filepath.Join(h.demo, "real-archive"), dir)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
		}
		mirror = strings.TrimSpace(stdout.String())
		var err error
		want, err = readPackages(filepath.Join(dir, "dists/bookworm/main/binary-amd64/Packages"))
		if err == nil && len(want) != 5 {
			err = fmt.Errorf("real-archive listed %d packages, want 5: %v", len(want), want)
		}
		return err
	}); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 2 {
			return nil, "", h.Skip("%v", err)
		}
		return nil, "", err
	}
	return want, mirror, nil
}

// sbinPath is this PATH with /usr/sbin and /sbin, where debootstrap is:
// piuparts runs it from the PATH it inherits.
func sbinPath() string { return os.Getenv("PATH") + ":/usr/sbin:/sbin" }
