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

	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// loadLog is the long part of each submitted log: 4 KiB.
var loadLog = strings.Repeat(" "+strings.Repeat("x", 63)+"\n", 64)

// loadStats is what the sessions measured.
type loadStats struct {
	mu                         sync.Mutex
	firstReserve, laterReserve []time.Duration
	pass                       []time.Duration
	acked, sessions, errors    int
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

func (s *loadStats) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errors++
	if s.firstErr == nil {
		s.firstErr = err
	}
}

// loadSession is one slave connection: rounds of 3 reserve and 3 pass.
func loadSession(ctx context.Context, bin, conf, dir, section, slave string, rounds int, st *loadStats) error {
	cmd := exec.CommandContext(ctx, bin, "-c", conf, "--slave-id="+slave)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "LC_ALL=C.UTF-8"}
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	outp, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Wait() //nolint:errcheck // the session's error is what matters
	w := bufio.NewWriter(in)
	r := bufio.NewReader(outp)
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
			return "", 0, fmt.Errorf("after %q: %w (stderr: %s)", strings.SplitN(line, "\n", 2)[0], err, stderr.String())
		}
		return strings.TrimSpace(ans), time.Since(t0), nil
	}
	if hello, err := r.ReadString('\n'); err != nil || hello != "hello\n" {
		return fmt.Errorf("no hello: %q %v (stderr: %s)", hello, err, stderr.String())
	}
	if ans, _, err := ask("section " + section + "\n"); err != nil || ans != "ok" {
		return fmt.Errorf("section: %q %v", ans, err)
	}
	first := true
	for range rounds {
		var got [][2]string
		for range 3 {
			ans, d, err := ask("reserve\n")
			if err != nil {
				return err
			}
			st.add(first, d, 0)
			first = false
			f := strings.Fields(ans)
			if len(f) != 3 || f[0] != "ok" {
				break // nothing to reserve (or the cap): submit what we hold
			}
			got = append(got, [2]string{f[1], f[2]})
			st.mu.Lock()
			st.reserved[f[1]+" "+f[2]]++
			st.mu.Unlock()
		}
		for _, pv := range got {
			ans, d, err := ask("pass " + pv[0] + " " + pv[1] + "\n" + loadLog + ".\n")
			if err != nil {
				return err
			}
			if ans != "ok" {
				return fmt.Errorf("pass %s %s: %q", pv[0], pv[1], ans)
			}
			st.add(false, 0, d)
		}
		if len(got) == 0 {
			break
		}
	}
	in.Close()
	return nil
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

// TestLoad_Bench runs PIUPARTS_LOAD_SESSIONS (32) concurrent sessions over
// pipes for PIUPARTS_LOAD_SECONDS (60), each 1-6 rounds of 3 reserve and 3
// pass (4 KiB logs), against all of bookworm main, and prints acknowledged
// logs per second and the latencies of reserve (first of a session and
// later) and pass. PIUPARTS_LOAD_BASELINE names another piuparts-master
// binary (e.g. built from an earlier commit) run the same way first.
// PIUPARTS_BENCH=1 (make bench) enables it.
func TestLoad_Bench(t *testing.T) {
	if os.Getenv("PIUPARTS_BENCH") != "1" {
		t.Skip("set PIUPARTS_BENCH=1 (make bench) to put a live farm's load on the master (minutes)")
	}
	sessions := benchRuns("PIUPARTS_LOAD_SESSIONS", 32)
	seconds := benchRuns("PIUPARTS_LOAD_SECONDS", 60)
	bin := buildMaster(t)
	f := refArchiveFarm(t, bin, refArchiveMix, false)
	section := f.sections[0].name
	type prog struct{ name, bin string }
	progs := []prog{{"ours", bin}}
	if base := os.Getenv("PIUPARTS_LOAD_BASELINE"); base != "" {
		progs = append([]prog{{"baseline", base}}, progs...)
	}
	var rows []string
	for _, p := range progs {
		dir := f.refCopy(t)
		// A warm start: the states computed once before the load.
		if _, err := (refProgram{name: p.name, argv: []string{p.bin, "-c", f.toml}}).run(t.Context(), dir, []string{"section " + section, "status"}); err != nil {
			t.Fatal(err)
		}
		st := &loadStats{reserved: make(map[string]int)}
		ctx, cancel := context.WithTimeout(t.Context(), time.Duration(seconds)*time.Second)
		start := time.Now()
		var wg sync.WaitGroup
		for i := range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(i), 13))
				for n := 0; ctx.Err() == nil; n++ {
					err := loadSession(context.WithoutCancel(ctx), p.bin, f.toml, dir, section, fmt.Sprintf("slave%d", i), 1+rng.IntN(6), st)
					if err != nil && ctx.Err() == nil {
						st.fail(err)
					}
					st.mu.Lock()
					st.sessions++
					st.mu.Unlock()
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
				t.Errorf("%s: %s handed out %d times", p.name, pv, n)
			}
		}
		if st.firstErr != nil {
			t.Errorf("%s: %d session errors, the first: %v", p.name, st.errors, st.firstErr)
		}
		// The states at the end equal a fresh computation: status, then
		// status again after the Packages file was touched (which makes
		// the master compute them from scratch).
		prog := refProgram{name: p.name, argv: []string{p.bin, "-c", f.toml}}
		before, err := prog.run(t.Context(), dir, []string{"section " + section, "status"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if err := os.Chtimes(f.indexes[0], now, now); err != nil {
			t.Fatal(err)
		}
		after, err := prog.run(t.Context(), dir, []string{"section " + section, "status"})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(before.lines, after.lines) {
			t.Errorf("%s: status after the load %q, computed afresh %q", p.name, before.lines, after.lines)
		}
		rows = append(rows, fmt.Sprintf("| %s | %d / %d | %.0f | %d | %v / %v / %v | %v / %v / %v | %v / %v / %v | %d |",
			p.name, sessions, len(f.sections[0].pkgs), float64(st.acked)/wall.Seconds(), st.sessions,
			pct(st.firstReserve, .5).Round(time.Millisecond), pct(st.firstReserve, .99).Round(time.Millisecond), pct(st.firstReserve, 1).Round(time.Millisecond),
			pct(st.laterReserve, .5).Round(100*time.Microsecond), pct(st.laterReserve, .99).Round(100*time.Microsecond), pct(st.laterReserve, 1).Round(time.Millisecond),
			pct(st.pass, .5).Round(100*time.Microsecond), pct(st.pass, .99).Round(100*time.Microsecond), pct(st.pass, 1).Round(time.Millisecond), dups))
	}
	table := fmt.Sprintf("\n%d concurrent sessions over pipes for %d s, each 1-6 rounds of 3 reserve + 3 pass (4 KiB logs); load average %s\n"+
		"| master | sessions / packages | acknowledged logs/s | sessions run | first reserve p50 / p99 / max | later reserve p50 / p99 / max | pass p50 / p99 / max | duplicate reservations |\n"+
		"|---|---|---|---|---|---|---|---|\n%s\n", sessions, seconds, benchLoad(), strings.Join(rows, "\n"))
	fmt.Fprint(os.Stdout, table)
	t.Log(table)
}
