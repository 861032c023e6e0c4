package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"piuparts-server/internal/sshd"
)

// The demo archive's one section.
const (
	farmSection = "bookworm"
	farmDistro  = "bookworm"
)

// runGuard bounds a slave run or a wait for the farm to finish: a guard
// against a hang, not a speed check.
const runGuard = 5 * time.Minute

// finalStates are the states a package can end in once the farm is done.
var finalStates = []string{
	"successfully-tested", "failed-testing", "cannot-be-tested",
	"dependency-failed-testing", "dependency-cannot-be-tested", "dependency-does-not-exist",
}

// farmOpts shape a farm: our master behind sshd, n slaves.
type farmOpts struct {
	slaves         int
	maxReserved    int
	reservedExpire string // TOML value of reserved-expire; "" for the default
	// firstID is the --slave-id of sshd's first key (sshd.Server.Identity,
	// which its ssh wrapper uses); "" is "operator".
	firstID string
	// real: Debian's piuparts (as root) on the five packages of
	// deploy/demo/real-archive, base tarball in a new directory of this
	// run (farm.basetgz), instead of the simulator on the demo archive.
	real bool
}

// farm is our master behind sshd with one key (and forced command) per
// slave, over the demo archive tested by the simulator.
type farm struct {
	h          *H
	masterDir  string
	masterConf string
	sshd       *sshd.Server
	slaveIDs   []string
	slaveConf  map[string]string
	pkgs       map[string]string // the archive: name -> version
	fail       map[string]bool   // the simulator's fail list
	initial    *sectionStatus    // the status before any test
	real       *realArchive      // with farmOpts.real
}

// realArchive is what a farm of Debian's piuparts tests.
type realArchive struct {
	dir     string // the five-package archive real-archive wrote
	mirror  string // the mirror of this machine's apt sources, for piuparts
	basetgz string // basetgz-directory, new for this run
}

// newFarm writes the configs, starts sshd and takes the master's status
// from scratch (which also prepares its database).
func newFarm(ctx context.Context, h *H, o farmOpts) (*farm, error) {
	if err := h.NeedSSHD(); err != nil {
		return nil, err
	}
	f := &farm{h: h, masterDir: filepath.Join(h.root, "master"), slaveConf: map[string]string{}}
	if o.real {
		if err := f.prepareReal(ctx); err != nil {
			return nil, err
		}
	}
	err := h.Step("read the demo archive and fail list", func() error {
		if f.real != nil {
			h.Logf("%d packages of bookworm (real-archive), tested by Debian's piuparts", len(f.pkgs))
			f.fail = map[string]bool{}
			return os.MkdirAll(f.masterDir, 0o755)
		}
		var err error
		if f.pkgs, err = readPackages(filepath.Join(h.demo, "archive", "dists", farmDistro, "main", "binary-amd64", "Packages")); err != nil {
			return err
		}
		if f.fail, err = readFailList(filepath.Join(h.demo, "fail-list")); err != nil {
			return err
		}
		h.Logf("%d packages, %d in the fail list", len(f.pkgs), len(f.fail))
		return os.MkdirAll(f.masterDir, 0o755)
	})
	if err != nil {
		return nil, err
	}
	f.masterConf = filepath.Join(h.root, "master.toml")
	if err := os.WriteFile(f.masterConf, []byte(f.config("master", o, "")), 0o644); err != nil {
		return nil, err
	}
	for i := 1; i <= o.slaves; i++ {
		f.slaveIDs = append(f.slaveIDs, fmt.Sprintf("slave%d", i))
	}
	err = h.Step(fmt.Sprintf("start sshd with %d forced commands (piuparts-master --slave-id=slaveN)", o.slaves), func() error {
		cfg := sshd.Config{
			ForcedCommand: f.forced(cmpOr(o.firstID, "operator")),
			SetEnv:        []string{"SHLVL=1"},
			MaxStartups:   "100",
		}
		for _, id := range f.slaveIDs {
			cfg.ForcedCommands = append(cfg.ForcedCommands, f.forced(id))
		}
		var err error
		if f.sshd, err = h.SSHD(cfg); err != nil {
			return err
		}
		h.Logf("sshd pid %d on %s, known_hosts %s", f.sshd.Pid, f.sshd.Addr(), f.sshd.KnownHosts)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, id := range f.slaveIDs {
		keys := fmt.Sprintf("master-host = %q\nmaster-port = %d\nmaster-user = %q\nssh-identity = %q\nssh-known-hosts = %q\n",
			f.sshd.Host, f.sshd.Port, f.sshd.User, f.sshd.Identities[i], f.sshd.KnownHosts)
		f.slaveConf[id] = filepath.Join(h.root, id+".toml")
		if err := os.WriteFile(f.slaveConf[id], []byte(f.config(id, o, keys)), 0o644); err != nil {
			return nil, err
		}
	}
	err = h.Step("piuparts-master status --json from scratch", func() error {
		var err error
		if f.initial, err = f.status(ctx); err != nil {
			return err
		}
		if got := f.initial.total(); got != len(f.pkgs) {
			return fmt.Errorf("status counts %d packages, the archive has %d", got, len(f.pkgs))
		}
		if w := f.initial.States["waiting-to-be-tested"] + f.initial.States["waiting-for-dependency-to-be-tested"] + f.initial.States["dependency-does-not-exist"]; w != len(f.pkgs) {
			return fmt.Errorf("from scratch, %d of %d packages wait (or lack a dependency): %v", w, len(f.pkgs), f.initial.States)
		}
		h.Logf("%s", f.initial.line())
		return nil
	})
	return f, err
}

// prepareReal makes f a farm of Debian's piuparts: the five packages of
// real-archive and a basetgz-directory of its own, empty, so that the
// first test makes the base tarball with debootstrap.
func (f *farm) prepareReal(ctx context.Context) error {
	r := &realArchive{dir: filepath.Join(f.h.root, "archive"), basetgz: filepath.Join(f.h.root, "basetgz")}
	pkgs, mirror, err := realPackages(ctx, f.h, r.dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(r.basetgz, "tmp"), 0o755); err != nil {
		return err
	}
	r.mirror, f.pkgs, f.real = mirror, pkgs, r
	return nil
}

// forced is the forced command of slave id's key.
func (f *farm) forced(id string) string {
	return sshd.ShellQuote(f.h.master) + " -c " + sshd.ShellQuote(f.masterConf) + " --slave-id=" + id
}

// config is the piuparts.toml of program id.
func (f *farm) config(id string, o farmOpts, keys string) string {
	extra := ""
	if o.reservedExpire != "" {
		extra = "reserved-expire = " + o.reservedExpire + "\n"
	}
	mirror := "file://" + filepath.Join(f.h.demo, "archive")
	command := filepath.Join(f.h.demo, "piuparts-simulator")
	tables := ""
	if r := f.real; r != nil {
		// piuparts gets the mirror; the packages to test come from the
		// five-package subset, as in deploy/demo/run with PIUPARTS=real.
		mirror, command = r.mirror, "/usr/sbin/piuparts"
		extra += fmt.Sprintf("basetgz-directory = %q\ntmpdir = %q\npiuparts-timeout = \"15m\"\n",
			r.basetgz, filepath.Join(r.basetgz, "tmp"))
		tables = fmt.Sprintf("\n[distros.%s]\ncandidates = [\"scenario-subset\"]\n\n[distros.scenario-subset]\nuri = %q\ndistribution = %q\n",
			farmDistro, "file://"+r.dir, farmDistro)
	}
	return fmt.Sprintf(`# written by piuparts-scenario %s
[global]
sections = [%q]
master-directory = %q
output-directory = %q
slave-directory = %q
slave-count = 1
idle-sleep = 1
master-server-idle = "5m"

[%s]
mirror = %q
distro = %q
area = "main"
arch = "amd64"
components = ["main"]
piuparts-command = [%q]
piuparts-flags = []
max-reserved = %d
idle-sleep = 1
connect-timeout = 30
unreachable-wait = 1
%s%s%s`, f.h.name, farmSection, f.masterDir, filepath.Join(f.h.root, "html"), filepath.Join(f.h.root, id),
		farmSection, mirror, farmDistro, command, o.maxReserved, extra, keys, tables)
}

// startSlave starts slave id's `piuparts-slave run` (--until-idle when
// untilIdle) with the simulator sleeping delay seconds per test.
func (f *farm) startSlave(id string, untilIdle bool, delay string) (*proc, error) {
	args := []string{f.h.slave, "-c", f.slaveConf[id], "run"}
	if untilIdle {
		args = append(args, "--until-idle")
	}
	env := []string{"PIUPARTS_SIMULATOR_DELAY=" + delay}
	if f.real != nil {
		env = append(env, "PATH="+sbinPath())
	}
	return f.h.Start(id, env, args...)
}

// runSlaves runs the slaves' `run --until-idle` side by side to their end
// and returns how long it took.
func (f *farm) runSlaves(ctx context.Context, ids []string, delay string) (time.Duration, error) {
	start := time.Now()
	var procs []*proc
	for _, id := range ids {
		p, err := f.startSlave(id, true, delay)
		if err != nil {
			return 0, err
		}
		procs = append(procs, p)
	}
	for _, p := range procs {
		if err := f.h.Wait(ctx, p, runGuard); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// sectionStatus is one section of `piuparts-master status --json`.
type sectionStatus struct {
	Section      string         `json:"section"`
	States       map[string]int `json:"states"`
	Waiting      int            `json:"waiting"`
	Reservations []struct {
		Package string `json:"package"`
		Version string `json:"version"`
		Holder  string `json:"holder"`
		Expired bool   `json:"expired"`
	} `json:"reservations"`
	Slaves []struct {
		Slave   string `json:"slave"`
		Logs24h int    `json:"logs_24h"`
	} `json:"slaves"`
}

// total is the number of packages the states count.
func (s *sectionStatus) total() int {
	n := 0
	for _, c := range s.States {
		n += c
	}
	return n
}

// line is the states as "state=N ..." in a fixed order.
func (s *sectionStatus) line() string {
	keys := make([]string, 0, len(s.States))
	for k := range s.States {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		if s.States[k] > 0 {
			fmt.Fprintf(&b, "%s=%d ", k, s.States[k])
		}
	}
	fmt.Fprintf(&b, "waiting=%d reserved=%d", s.Waiting, len(s.Reservations))
	return b.String()
}

// status runs `piuparts-master -c CFG status --json` and returns the section.
func (f *farm) status(ctx context.Context) (*sectionStatus, error) {
	cmd := exec.CommandContext(ctx, f.h.master, "-c", f.masterConf, "status", "--json", farmSection)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("piuparts-master status --json: %w: %s", err, cut(stderr.String()))
	}
	var st struct {
		Sections []sectionStatus `json:"sections"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return nil, fmt.Errorf("piuparts-master status --json: %w", err)
	}
	for i := range st.Sections {
		if st.Sections[i].Section == farmSection {
			return &st.Sections[i], nil
		}
	}
	return nil, fmt.Errorf("piuparts-master status --json: no section %s", farmSection)
}

// counts is what checkFinal found.
type counts struct {
	logs, pass, fail, untestable, depFailed int
	submissions                             map[string]int // package -> submissions.txt lines
	lines                                   int            // submissions.txt lines
}

// checkFinal checks what a user would once the farm is done: nothing
// waits or is reserved, every package is in a final state, the states
// match the logs in pass/, fail/ and untestable/ (one per package at
// most), pass/ holds no package of the fail list and fail/ nothing else,
// every other package is dependency-failed or lacks a dependency as from
// scratch, submissions.txt has one line per log, and fsck is clean.
// maxSubmissions is how often a package may appear in submissions.txt.
func (f *farm) checkFinal(ctx context.Context, maxSubmissions int) (*counts, error) {
	var c *counts
	err := f.h.Step("check the master: status --json, pass/ fail/ untestable/, submissions.txt, fsck", func() error {
		st, err := f.status(ctx)
		if err != nil {
			return err
		}
		f.h.Logf("%s", st.line())
		var problems []string
		if st.Waiting != 0 {
			problems = append(problems, fmt.Sprintf("%d packages still waiting", st.Waiting))
		}
		if len(st.Reservations) != 0 {
			problems = append(problems, fmt.Sprintf("%d reservations left, the first %s held by %s", len(st.Reservations), st.Reservations[0].Package, st.Reservations[0].Holder))
		}
		if got := st.total(); got != len(f.pkgs) {
			problems = append(problems, fmt.Sprintf("states count %d packages, the archive has %d", got, len(f.pkgs)))
		}
		for s, n := range st.States {
			if n > 0 && !slices.Contains(finalStates, s) {
				problems = append(problems, fmt.Sprintf("%d packages in %s, not a final state", n, s))
			}
		}
		var more []string
		c, more, err = checkLogs(st.States, filepath.Join(f.masterDir, farmSection), f.pkgs, f.fail, f.initial.States["dependency-does-not-exist"], maxSubmissions)
		if err != nil {
			return err
		}
		problems = append(problems, more...)
		if err := f.fsck(ctx); err != nil {
			problems = append(problems, err.Error())
		}
		f.h.Logf("logs=%d pass=%d fail=%d untestable=%d dependency-failed=%d; submissions.txt %d lines", c.logs, c.pass, c.fail, c.untestable, c.depFailed, c.lines)
		if len(problems) > 0 {
			return fmt.Errorf("%d problems: %s", len(problems), strings.Join(problems[:min(len(problems), 8)], "; "))
		}
		return nil
	})
	return c, err
}

// checkLogs compares a section's final states with its log directory dir
// (pass/, fail/, untestable/, submissions.txt): at most one log per package,
// pass/ free of the fail list and fail/ only of it, the states' counts equal
// to the logs', every package without a log dependency-failed (or as
// from scratch, ddne, lacking a dependency), and submissions.txt naming no
// package more than maxSubmissions times (with 1: one line per log).
func checkLogs(states map[string]int, dir string, pkgs map[string]string, fail map[string]bool, ddne, maxSubmissions int) (*counts, []string, error) {
	logs, err := masterLogs(dir)
	if err != nil {
		return nil, nil, err
	}
	c := &counts{}
	var problems []string
	st := struct{ States map[string]int }{states}
	for name, kinds := range logs {
		if len(kinds) > 1 {
			problems = append(problems, fmt.Sprintf("%s has %d logs (%v): tested twice", name, len(kinds), kinds))
		}
		if _, ok := pkgs[name]; !ok {
			problems = append(problems, fmt.Sprintf("a log for %s, which is not in the archive", name))
		}
		c.logs += len(kinds)
		for _, k := range kinds {
			switch {
			case k == "pass" && fail[name]:
				problems = append(problems, fmt.Sprintf("%s passed, but the simulator fails it (fail-list)", name))
			case k == "fail" && !fail[name]:
				problems = append(problems, fmt.Sprintf("%s failed, but the simulator passes it", name))
			}
			switch k {
			case "pass":
				c.pass++
			case "fail":
				c.fail++
			case "untestable":
				c.untestable++
			}
		}
	}
	for _, m := range []struct {
		state string
		n     int
	}{{"successfully-tested", c.pass}, {"failed-testing", c.fail}, {"cannot-be-tested", c.untestable}} {
		if st.States[m.state] != m.n {
			problems = append(problems, fmt.Sprintf("status says %s=%d, the master directory holds %d such logs", m.state, st.States[m.state], m.n))
		}
	}
	c.depFailed = st.States["dependency-failed-testing"]
	if want := len(pkgs) - c.logs - ddne; c.depFailed+st.States["dependency-cannot-be-tested"] != want {
		problems = append(problems, fmt.Sprintf("%d packages without a log are dependency-failed or -cannot-be-tested, want %d (the rest of the archive)", c.depFailed+st.States["dependency-cannot-be-tested"], want))
	}
	if c.depFailed > 0 && c.fail == 0 {
		problems = append(problems, "packages are dependency-failed-testing though nothing failed")
	}
	if st.States["dependency-does-not-exist"] != ddne {
		problems = append(problems, fmt.Sprintf("dependency-does-not-exist=%d, from scratch %d", st.States["dependency-does-not-exist"], ddne))
	}
	if c.submissions, err = readSubmissions(filepath.Join(dir, "submissions.txt")); err != nil {
		return nil, nil, err
	}
	for name, n := range c.submissions {
		c.lines += n
		if n > maxSubmissions {
			problems = append(problems, fmt.Sprintf("%s is %d times in submissions.txt", name, n))
		}
		if _, ok := logs[name]; !ok {
			problems = append(problems, fmt.Sprintf("%s is in submissions.txt but has no log", name))
		}
	}
	if maxSubmissions == 1 && c.lines != c.logs {
		problems = append(problems, fmt.Sprintf("submissions.txt has %d lines for %d logs", c.lines, c.logs))
	}
	return c, problems, nil
}

// fsck runs `piuparts-master fsck` and returns an error unless it is clean.
func (f *farm) fsck(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, f.h.master, "-c", f.masterConf, "fsck").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "clean") {
		return fmt.Errorf("piuparts-master fsck: %v: %s", err, cut(strings.TrimSpace(string(out))))
	}
	return nil
}

// logs lists the master's logs: package -> the directories (pass, fail,
// untestable) holding a log of it.
func (f *farm) logs() (map[string][]string, error) {
	return masterLogs(filepath.Join(f.masterDir, farmSection))
}

// masterLogs lists the logs of a piuparts section directory.
func masterLogs(dir string) (map[string][]string, error) {
	logs := map[string][]string{}
	for _, kind := range []string{"pass", "fail", "untestable"} {
		entries, err := os.ReadDir(filepath.Join(dir, kind))
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		for _, e := range entries {
			if name, _, ok := strings.Cut(e.Name(), "_"); ok && strings.HasSuffix(e.Name(), ".log") {
				logs[name] = append(logs[name], kind)
			}
		}
	}
	return logs, nil
}

// readSubmissions counts submissions.txt's lines ("EPOCH RESULT NAME
// VERSION") per package.
func readSubmissions(path string) (map[string]int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	n := map[string]int{}
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		w := strings.Fields(line)
		if len(w) != 4 {
			return nil, fmt.Errorf("%s:%d: %q is not EPOCH RESULT NAME VERSION", path, i+1, cut(line))
		}
		n[w[2]]++
	}
	return n, nil
}

// shipped is one line of a slave's shipping.log.
type shipped struct{ section, name, version, result string }

// readShipping reads slave-directory/shipping.log (a missing file: none).
func readShipping(path string) ([]shipped, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []shipped
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		w := strings.Split(line, "\t")
		if len(w) != 8 {
			return nil, fmt.Errorf("%s:%d: %q is not a shipping log line", path, i+1, cut(line))
		}
		out = append(out, shipped{w[2], w[3], w[4], w[5]})
	}
	return out, nil
}

// readPackages reads a Packages file's names and versions.
func readPackages(path string) (map[string]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	pkgs := map[string]string{}
	var name string
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "Package: "); ok {
			name = strings.TrimSpace(v)
		} else if v, ok := strings.CutPrefix(line, "Version: "); ok && name != "" {
			pkgs[name] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("%s lists no packages", path)
	}
	return pkgs, nil
}

// readFailList reads the simulator's fail list ("#" starts a comment).
func readFailList(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	fail := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line != "" {
			fail[line] = true
		}
	}
	if len(fail) == 0 {
		return nil, fmt.Errorf("%s names no package", path)
	}
	return fail, nil
}

// done reports whether st shows a finished farm: nothing waits or is
// reserved, no package waits for a dependency.
func (f *farm) done(st *sectionStatus) bool {
	return st.Waiting == 0 && len(st.Reservations) == 0 && st.States["waiting-to-be-tested"] == 0 &&
		st.States["waiting-for-dependency-to-be-tested"] == 0
}

// waitDone waits until the master's status shows the farm done and the
// slaves' spools are empty (their last logs shipped), then stops the
// slaves (SIGINT first). A slave that exits before fails it.
func (f *farm) waitDone(ctx context.Context, procs []*proc) error {
	var exited *proc
	cond := func() bool {
		for _, p := range procs {
			if closed(p.done) {
				exited = p
				return true
			}
		}
		st, err := f.status(ctx)
		if err != nil || !f.done(st) {
			return false
		}
		for _, p := range procs {
			if !spoolEmpty(filepath.Join(f.h.root, p.name, "1", farmSection)) {
				return false
			}
		}
		return true
	}
	if err := waitFor(ctx, runGuard, cond); err != nil {
		st, _ := f.status(ctx)
		line := ""
		if st != nil {
			line = st.line()
		}
		return fmt.Errorf("the farm did not finish (%s): %w", line, err)
	}
	if exited != nil {
		return fmt.Errorf("%s exited before the farm was done: %v\n%s", exited.name, exited.err, tailFile(exited.log, 15))
	}
	for _, p := range procs {
		f.h.Logf("%s: %s", p.name, f.h.Stop(p))
	}
	return nil
}

// cmpOr returns a unless it is empty, else b.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
