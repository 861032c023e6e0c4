package main

// A live farm's load on the master: many concurrent sessions reserving
// and submitting logs against all of bookworm main (issue 13's
// measurement). It is a test, not a Benchmark: each session is a process,
// and it asserts nothing about time, only that no package was handed out
// twice and that the states at the end equal a fresh computation.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"piuparts-server/internal/testutil"
)

// loadLog is the long part of each submitted log: 4 KiB.
var loadLog = strings.Repeat(" "+strings.Repeat("x", 63)+"\n", 64)

// loadStats is what the sessions measured.
type loadStats struct {
	mu                         sync.Mutex
	connect                    []time.Duration // dial to hello
	firstReserve, laterReserve []time.Duration
	pass                       []time.Duration
	acked, sessions, errors    int
	idle                       int            // sessions that found nothing to reserve
	reserved                   map[string]int // package version → times handed out
	firstErr                   error
}

func (s *loadStats) add(first bool, reserve, pass time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case reserve > 0 && first:
		s.firstReserve = append(s.firstReserve, reserve)
	case reserve > 0:
		s.laterReserve = append(s.laterReserve, reserve)
	case pass > 0:
		s.pass = append(s.pass, pass)
		s.acked++
	}
}

func (s *loadStats) connected(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connect = append(s.connect, d)
}

func (s *loadStats) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errors++
	if s.firstErr == nil {
		s.firstErr = err
	}
}

// loadConn is the transport of one session: the master's standard input
// and output.
type loadConn struct {
	in  io.WriteCloser
	out io.Reader
	// stderr returns what the master (or sshd) said on standard error.
	stderr func() string
	// wait returns once the master exited, after in was closed.
	wait func() error
}

// loadDial starts a session of the master as slave.
type loadDial func(ctx context.Context, slave string) (*loadConn, error)

// pipeDial runs bin over pipes, as the local transport or a forced
// command does.
func pipeDial(bin, conf, dir string) loadDial {
	return func(ctx context.Context, slave string) (*loadConn, error) {
		cmd := exec.CommandContext(ctx, bin, "-c", conf, "--slave-id="+slave)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "LC_ALL=C.UTF-8"}
		in, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		stderr := &testutil.SyncBuffer{}
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		return &loadConn{in: in, out: out, stderr: stderr.String, wait: cmd.Wait}, nil
	}
}

// sshDial connects to sshd with slave's key (keys[slave]), checking the
// host key against known_hosts, and opens a session without a command:
// the key's forced command runs the master.
func sshDial(t *testing.T, s *testutil.SSHD, keys map[string]string) loadDial {
	t.Helper()
	hostKeys, err := knownhosts.New(s.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	signers := make(map[string]ssh.Signer, len(keys))
	for slave, path := range keys {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if signers[slave], err = ssh.ParsePrivateKey(b); err != nil {
			t.Fatalf("key of %s: %v", slave, err)
		}
	}
	return func(ctx context.Context, slave string) (*loadConn, error) {
		signer, ok := signers[slave]
		if !ok {
			return nil, fmt.Errorf("no key for %s", slave)
		}
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", s.Addr())
		if err != nil {
			return nil, err
		}
		cc, chans, reqs, err := ssh.NewClientConn(nc, s.Addr(), &ssh.ClientConfig{
			User:            s.User,
			Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
			HostKeyCallback: hostKeys,
		})
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("ssh %s: %w", s.Addr(), err)
		}
		client := ssh.NewClient(cc, chans, reqs)
		sess, err := client.NewSession()
		if err != nil {
			client.Close()
			return nil, err
		}
		in, err := sess.StdinPipe()
		if err != nil {
			client.Close()
			return nil, err
		}
		out, err := sess.StdoutPipe()
		if err != nil {
			client.Close()
			return nil, err
		}
		stderr := &testutil.SyncBuffer{}
		sess.Stderr = stderr
		if err := sess.Shell(); err != nil {
			client.Close()
			return nil, err
		}
		wait := func() error {
			defer client.Close()
			return sess.Wait()
		}
		return &loadConn{in: in, out: out, stderr: stderr.String, wait: wait}, nil
	}
}

// loadSession is one slave connection: rounds of 3 reserve and 3 pass.
// It reports whether the master had nothing to reserve, after which a
// slave idles before it connects again.
// With recycle it asks for recycle mode first; a master with nothing to
// recycle counts as idle.
func loadSession(ctx context.Context, dial loadDial, section, slave string, rounds int, recycle bool, st *loadStats) (idle bool, err error) {
	t0 := time.Now()
	c, err := dial(ctx, slave)
	if err != nil {
		return false, err
	}
	defer c.wait() //nolint:errcheck // the session's error is what matters
	defer c.in.Close()
	w := bufio.NewWriter(c.in)
	r := bufio.NewReader(c.out)
	ask := func(line string) (string, time.Duration, error) {
		t0 := time.Now()
		if _, err := w.WriteString(line); err != nil {
			return "", 0, err
		}
		if err := w.Flush(); err != nil {
			return "", 0, err
		}
		ans, err := r.ReadString('\n')
		if err != nil {
			return "", 0, fmt.Errorf("after %q: %w (stderr: %s)", strings.SplitN(line, "\n", 2)[0], err, c.stderr())
		}
		return strings.TrimSpace(ans), time.Since(t0), nil
	}
	if hello, err := r.ReadString('\n'); err != nil || hello != "hello\n" {
		return false, fmt.Errorf("no hello: %q %v (stderr: %s)", hello, err, c.stderr())
	}
	st.connected(time.Since(t0))
	if ans, _, err := ask("section " + section + "\n"); err != nil || ans != "ok" {
		return false, fmt.Errorf("section: %q %v", ans, err)
	}
	if recycle {
		ans, _, err := ask("recycle\n")
		if err != nil {
			return false, err
		}
		if ans != "ok" {
			return true, nil
		}
	}
	first := true
	for range rounds {
		var got [][2]string
		for range 3 {
			ans, d, err := ask("reserve\n")
			if err != nil {
				return false, err
			}
			st.add(first, d, 0)
			first = false
			f := strings.Fields(ans)
			if len(f) != 3 || f[0] != "ok" {
				idle = true
				break // nothing to reserve (max-reserved is 3): submit what we hold
			}
			got = append(got, [2]string{f[1], f[2]})
			st.mu.Lock()
			st.reserved[f[1]+" "+f[2]]++
			st.mu.Unlock()
		}
		for _, pv := range got {
			ans, d, err := ask("pass " + pv[0] + " " + pv[1] + "\n" + loadLog + ".\n")
			if err != nil {
				return idle, err
			}
			if ans != "ok" {
				return idle, fmt.Errorf("pass %s %s: %q", pv[0], pv[1], ans)
			}
			st.add(false, 0, d)
		}
		if idle {
			break
		}
	}
	return idle, nil
}

// pct returns the p-th percentile of ds.
func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// TestLoad_Bench runs PIUPARTS_LOAD_SESSIONS (32) concurrent sessions for
// PIUPARTS_LOAD_SECONDS (60), each 1-6 rounds of 3 reserve and 3 pass
// (4 KiB logs), against all of bookworm main, and prints acknowledged logs
// per second and the latencies of connecting (to the master's hello),
// reserve (first of a session and later) and pass, one row per variant.
// A session that the master answers it has nothing to reserve submits what
// it holds and ends, and its slave waits PIUPARTS_LOAD_IDLE_MS (1000)
// before it connects again, as a slave sleeps idle-sleep (300 s in Debian's
// farm): the runs' "idle" sessions. Without it the sessions that found
// nothing would reconnect at once and the load would measure connections
// that do no work. As a slave does, a session that found nothing is
// followed by one in recycle mode, and only when that finds nothing too
// does the slave sleep. The section starts without logs, and each slave
// reserves 3 at once (max-reserved = 3).
//
//   - pipes: each session runs the master binary over pipes, as the local
//     transport does and as sshd runs a forced command;
//   - ssh: each session is a new SSH connection (golang.org/x/crypto/ssh,
//     the host key checked against known_hosts) to an OpenSSH sshd on
//     127.0.0.1 in which slaveN's key forces
//     "BIN -c CONF --slave-id=slaveN", as on a Debian farm. It needs root
//     and openssh-server (make test-deps) and is skipped, saying why,
//     without them; PIUPARTS_LOAD_SSH=0 leaves it out.
//
// PIUPARTS_LOAD_BASELINE names another piuparts-master binary (e.g. built
// from an earlier commit) run the same ways first. PIUPARTS_BENCH=1
// (make bench) enables it.
func TestLoad_Bench(t *testing.T) {
	if os.Getenv("PIUPARTS_BENCH") != "1" {
		t.Skip("set PIUPARTS_BENCH=1 (make bench) to put a live farm's load on the master (minutes)")
	}
	sessions := benchRuns("PIUPARTS_LOAD_SESSIONS", 32)
	seconds := benchRuns("PIUPARTS_LOAD_SECONDS", 60)
	idleSleep := time.Duration(benchRuns("PIUPARTS_LOAD_IDLE_MS", 1000)) * time.Millisecond
	transports := []string{"pipes", "ssh"}
	if os.Getenv("PIUPARTS_LOAD_SSH") == "0" {
		transports = transports[:1]
	}
	bin := buildMaster(t)
	// A section tested from the start (no logs): at the goal's rate the
	// sessions test most of the archive in a minute, and the untested
	// packages of refArchiveMix (about 14,000 with those waiting for
	// their dependencies) would be gone in seconds; random failed logs
	// (3% of refArchiveMix) block half the archive behind them.
	f := refArchiveFarm(t, bin, refLogMix{}, false)
	type prog struct{ name, bin string }
	progs := []prog{{"ours", bin}}
	if base := os.Getenv("PIUPARTS_LOAD_BASELINE"); base != "" {
		progs = append([]prog{{"baseline", base}}, progs...)
	}
	// The runs' master directories are moved here and removed only at
	// the end: removing tens of thousands of files makes this disk's
	// next file creations slow for minutes (ext4 without a journal skips
	// recently freed inodes), which would weigh on the next run.
	trash := t.TempDir()
	var rows []string
	for _, p := range progs {
		for _, tr := range transports {
			t.Run(p.name+"-"+tr, func(t *testing.T) {
				rows = append(rows, loadRun(t, f, p.name+", "+tr, p.bin, bin, trash, tr == "ssh", sessions, seconds, idleSleep))
			})
		}
	}
	table := fmt.Sprintf("\n%d concurrent sessions for %d s, each 1-6 rounds of 3 reserve + 3 pass (4 KiB logs), a new connection each, "+
		"a session that found nothing to reserve (idle) followed by one recycling, waiting %v when that found nothing too; "+
		"ssh: OpenSSH's sshd on 127.0.0.1 and golang.org/x/crypto/ssh clients in the test process, on the same %d cores as the master; load average %s\n"+
		"| master | sessions / packages | acknowledged logs/s | sessions run | connect p50 / p99 / max | first reserve p50 / p99 / max | later reserve p50 / p99 / max | pass p50 / p99 / max | duplicate reservations |\n"+
		"|---|---|---|---|---|---|---|---|---|\n%s\n", sessions, seconds, idleSleep, runtime.NumCPU(), benchLoad(), strings.Join(rows, "\n"))
	fmt.Fprint(os.Stdout, table)
	t.Log(table)
}

// loadRun puts the load on bin in a fresh copy of f's master directory,
// over pipes or through sshd, checks that no package was handed out twice
// and that the states at the end equal a fresh computation, and returns
// the variant's row of the table.
//
// The states at the end are checked with ours, the binary under test,
// serving alone. The run's copy goes to trash when it ends, and its master
// server with it.
func loadRun(t *testing.T, f *refFarm, label, bin, ours, trash string, overSSH bool, sessions, seconds int, idleSleep time.Duration) string {
	t.Helper()
	section := f.sections[0].name
	dir := f.refCopy(t)
	t.Cleanup(func() {
		if err := os.Rename(dir, filepath.Join(trash, filepath.Base(dir))); err != nil {
			t.Error(err)
		}
	})
	// The config names the master directory absolutely: a forced command
	// starts in the user's home.
	toml := refReadString(f.toml)
	rel := `master-directory = "master"`
	if !strings.Contains(toml, rel) {
		t.Fatalf("%s lacks %s", f.toml, rel)
	}
	conf := filepath.Join(dir, "piuparts.toml")
	toml = strings.Replace(toml, rel, fmt.Sprintf("master-directory = %q", filepath.Join(dir, "master")), 1)
	// Each slave reserves 3 at once (max-reserved, 1 by default, is
	// also the most the master lets one slave hold).
	if !strings.Contains(toml, "[global]\n") {
		t.Fatalf("%s has no [global] table", f.toml)
	}
	toml = strings.Replace(toml, "[global]\n", "[global]\nmax-reserved = 3\n", 1)
	refWrite(t, conf, []byte(toml))
	prog := refProgram{name: label, argv: []string{bin, "-c", conf}}

	dial := pipeDial(bin, conf, dir)
	if overSSH {
		commands := make([]string, sessions)
		keys := make(map[string]string, sessions)
		for i := range sessions {
			commands[i] = fmt.Sprintf("%s -c %s --slave-id=slave%d", testutil.ShellQuote(bin), testutil.ShellQuote(conf), i)
		}
		sshd := testutil.StartSSHD(t, testutil.SSHDConfig{
			ForcedCommands: commands,
			// All sessions may be in their key exchange at once.
			MaxStartups: strconv.Itoa(2 * sessions),
			// sshd runs the forced command through the user's shell: here
			// root's bash, which reads ~/.bashrc for a command from sshd
			// (this machine's runs pyenv init: 0.5 s a connection) unless
			// it is not the top-level shell. A farm's master user has
			// /bin/sh (Debian's piupartsm), which reads nothing.
			SetEnv: []string{"SHLVL=1"},
		})
		for i, id := range sshd.Identities {
			keys[fmt.Sprintf("slave%d", i)] = id
		}
		dial = sshDial(t, sshd, keys)
	}

	// A warm start: the states computed once before the load.
	start0, err := prog.run(t.Context(), dir, []string{"section " + section, "status"})
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := prog.run(t.Context(), dir, []string{"section " + section, "recycle", "status"}); err == nil {
		t.Logf("%s: at the start, recycling: %s", label, strings.Join(rec.lines[2:], " "))
	}
	t.Logf("%s: at the start: %s", label, strings.Join(start0.lines[2:], " "))
	st := &loadStats{reserved: make(map[string]int)}
	ctx, cancel := context.WithTimeout(t.Context(), time.Duration(seconds)*time.Second)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 13))
			recycle := false
			for ctx.Err() == nil {
				idle, err := loadSession(context.WithoutCancel(ctx), dial, section, fmt.Sprintf("slave%d", i), 1+rng.IntN(6), recycle, st)
				if err != nil && ctx.Err() == nil {
					st.fail(err)
				}
				st.mu.Lock()
				st.sessions++
				if idle {
					st.idle++
				}
				st.mu.Unlock()
				// As a slave does: a section with nothing to test is
				// recycled (its oldest logs tested again), and when
				// that finds nothing either it sleeps (idle-sleep,
				// scaled down) before asking again.
				switch {
				case idle && !recycle:
					recycle = true
				case idle:
					recycle = false
					select {
					case <-ctx.Done():
					case <-time.After(idleSleep):
					}
				default:
					recycle = false
				}
			}
		}()
	}
	<-ctx.Done()
	cancel()
	wg.Wait()
	wall := time.Since(start)
	dups := 0
	for pv, n := range st.reserved {
		if n > 1 {
			dups++
			t.Errorf("%s: %s handed out %d times", label, pv, n)
		}
	}
	if st.firstErr != nil {
		t.Errorf("%s: %d session errors, the first: %v", label, st.errors, st.firstErr)
	}
	// The states at the end equal a computation from the tree: the
	// master server's answers, then those of the program serving alone
	// after the pass/ directory's time changed (a new inputs' key: the
	// states are computed again from the archive and the log tree).
	cmds := []string{"section " + section, "status"}
	for _, st := range refStates {
		cmds = append(cmds, "_list "+st)
	}
	before, err := prog.run(t.Context(), dir, cmds)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: at the end: %s", label, before.lines[2])
	alone := filepath.Join(dir, "alone.toml")
	if !strings.Contains(refReadString(conf), "[global]\n") {
		t.Fatalf("%s has no [global] table", conf)
	}
	refWrite(t, alone, []byte(strings.Replace(refReadString(conf), "[global]\n", "[global]\nmaster-server = false\n", 1)))
	now := time.Now()
	if err := os.Chtimes(filepath.Join(dir, "master", section, "pass"), now, now); err != nil {
		t.Fatal(err)
	}
	after, err := refProgram{name: label + ", ours alone", argv: []string{ours, "-c", alone}}.run(t.Context(), dir, cmds)
	if err != nil {
		t.Fatal(err)
	}
	if diff, _ := refCompare(cmds, before.lines, after.lines); diff != "" {
		t.Errorf("%s: the states after the load differ from a computation from the tree:\n%s", label, diff)
	}
	ms := func(ds []time.Duration, round time.Duration) string {
		return fmt.Sprintf("%v / %v / %v", pct(ds, .5).Round(round), pct(ds, .99).Round(round), pct(ds, 1).Round(time.Millisecond))
	}
	return fmt.Sprintf("| %s | %d / %d | %.0f | %d (%d idle) | %s | %s | %s | %s | %d |",
		label, sessions, len(f.sections[0].pkgs), float64(st.acked)/wall.Seconds(), st.sessions, st.idle,
		ms(st.connect, time.Millisecond), ms(st.firstReserve, time.Millisecond),
		ms(st.laterReserve, 100*time.Microsecond), ms(st.pass, 100*time.Microsecond), dups)
}
