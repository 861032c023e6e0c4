package main

// Our port server side by side with Debian's portserver (python3-portpicker)
// on the same pool, in one run (make bench). It is a test, not a
// Benchmark: each row runs a fresh server process, and it asserts nothing
// about time.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"piuparts-server/internal/testutil"
)

const (
	benchPool     = "20000-24999" // 5,000 ports, as in the reference's baseline
	benchPoolSize = 5000
	benchGrants   = 4000 // per row: the pool never runs dry
	benchRounds   = 5    // a row's figure is the median of its rounds
)

// benchServer is one server process under test.
type benchServer struct {
	name string
	argv func(addr string) []string
}

// startBenchServer starts srv on a new abstract address and waits until it
// answers connections.
func startBenchServer(t *testing.T, srv benchServer, seq int) (addr string, cmd *exec.Cmd) {
	t.Helper()
	addr = fmt.Sprintf("@piuparts-portserver-bench-%d-%d", os.Getpid(), seq)
	argv := srv.argv(addr)
	cmd = exec.Command(argv[0], argv[1:]...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", srv.name, err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.Dial("unix", addr)
		if err == nil {
			c.Close() // an empty request: one client-request-error
			return addr, cmd
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("%s does not listen on %s: %v", srv.name, addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stopBenchServer stops a server process.
func stopBenchServer(cmd *exec.Cmd) {
	cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// cpuTicks returns a process's user plus system time in clock ticks.
func cpuTicks(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	u, _ := strconv.ParseInt(f[14-3], 10, 64)
	s, _ := strconv.ParseInt(f[15-3], 10, 64)
	return u + s
}

// ask sends one request for pid and returns the port ("" when denied). It
// is a lean client (plain blocking system calls, as portpicker makes), so
// that the client's own cost hides little of the servers'. The runtime's
// preemption signals interrupt those calls: each is tried again on EINTR
// (a connect that was interrupted never connected, so it starts over).
func ask(addr string, pid int) (string, error) {
	for {
		port, err := askOnce(addr, pid)
		if !errors.Is(err, errConnectEINTR) {
			return port, err
		}
	}
}

var errConnectEINTR = errors.New("connect: EINTR")

func askOnce(addr string, pid int) (string, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	tv := unix.Timeval{Sec: 30}
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: addr}); err == unix.EINTR {
		return "", errConnectEINTR
	} else if err != nil {
		return "", err
	}
	req := append(strconv.AppendInt(nil, int64(pid), 10), '\n')
	for len(req) > 0 {
		m, err := unix.Write(fd, req)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", err
		}
		req = req[m:]
	}
	var buf [32]byte
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return strings.TrimSpace(string(buf[:n])), nil
}

// benchRow is one measurement.
type benchRow struct {
	grantsPerSec  float64
	p50, p90, p99 time.Duration
	max           time.Duration
	p99Later      time.Duration // p99 without each client's first request
	cpuPerRequest time.Duration
	errors        int
}

// runGrants sends total requests from clients concurrent clients, client i
// for the live pid owners[i], and measures them. Each client is a process
// of its own, as portpicker's callers are, so the kernel schedules them
// as it would a farm's jobs (goroutines of one process wait for the Go
// scheduler instead, which adds tens of milliseconds to a busy client's
// tail whatever the server does). The client program is
// testdata/benchclient.c, built by the test: plain blocking system calls
// in C, so that 64 of them leave the two cores to the servers.
func runGrants(t *testing.T, client, addr string, server int, owners []int, total int) benchRow {
	t.Helper()
	clients := len(owners)
	type child struct {
		cmd    *exec.Cmd
		goPipe io.WriteCloser
		out    *bufio.Reader
	}
	kids := make([]*child, clients)
	for i := range clients {
		n := total / clients
		if i < total%clients {
			n++
		}
		c := &child{cmd: exec.Command(client, addr, strconv.Itoa(owners[i]), strconv.Itoa(n))}
		c.cmd.Stderr = os.Stderr
		stdout, err := c.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		c.out = bufio.NewReader(stdout)
		if c.goPipe, err = c.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		kids[i] = c
	}
	// Each client says "ready" once its runtime runs, then waits for its
	// go line; all get it at once.
	for i, c := range kids {
		if line, err := c.out.ReadString('\n'); line != "ready\n" {
			t.Fatalf("client %d: %q, %v", i, line, err)
		}
	}
	cpu0 := cpuTicks(server)
	for _, c := range kids {
		c.goPipe.Write([]byte{'\n'})
		c.goPipe.Close()
	}
	var lat, later []time.Duration
	var granted []string
	var first, last int64
	row := benchRow{}
	outs := make([]string, clients)
	for i, c := range kids {
		b, _ := io.ReadAll(c.out)
		outs[i] = string(b)
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	for i := range kids {
		k := 0
		for line := range strings.Lines(outs[i]) {
			f := strings.Fields(line)
			switch {
			case len(f) == 3 && f[0] == "span":
				a, _ := strconv.ParseInt(f[1], 10, 64)
				b, _ := strconv.ParseInt(f[2], 10, 64)
				if first == 0 || a < first {
					first = a
				}
				last = max(last, b)
			case len(f) >= 1 && f[0] == "error":
				if row.errors == 0 {
					t.Logf("first error: %s", line)
				}
				row.errors++
			case len(f) == 2:
				d, _ := strconv.ParseInt(f[0], 10, 64)
				lat = append(lat, time.Duration(d))
				if k > 0 {
					later = append(later, time.Duration(d))
				}
				k++
				if f[1] == "-" {
					if row.errors == 0 {
						t.Logf("first error: client %d denied", i)
					}
					row.errors++
					continue
				}
				granted = append(granted, f[1])
			}
		}
	}
	cpu := time.Duration(cpuTicks(server)-cpu0) * time.Second / 100 // CLK_TCK
	wall := time.Duration(last - first)
	slices.Sort(lat)
	row.grantsPerSec = float64(len(granted)) / wall.Seconds()
	row.p50 = lat[len(lat)/2]
	row.p90 = lat[len(lat)*90/100]
	row.p99 = lat[len(lat)*99/100]
	row.max = lat[len(lat)-1]
	slices.Sort(later)
	row.p99Later = later[len(later)*99/100]
	row.cpuPerRequest = cpu / time.Duration(total)
	if d := slices.Compact(slices.Sorted(slices.Values(granted))); len(d) != len(granted) {
		t.Errorf("%d grants but %d distinct ports", len(granted), len(d))
	}
	return row
}

// TestPortserver_Bench runs Debian's portserver and ours on a pool of
// 5,000 ports: grants per second, p50 and p99 latency and server CPU per
// request at 1, 16 and 64 concurrent clients (each a distinct live owner
// pid; a fresh server per round, 4,000 grants, median of 5 rounds), then
// the time to deny a request on a full pool. PIUPARTS_BENCH=1 enables it; PIUPARTS_BENCH_TABLE=0 runs ours without
// an owner table, PIUPARTS_BENCH_CPUPROFILE=FILE profiles our server.
func TestPortserver_Bench(t *testing.T) {
	if os.Getenv("PIUPARTS_BENCH") != "1" {
		t.Skip("set PIUPARTS_BENCH=1 (make bench) to compare with Debian's portserver")
	}
	if _, err := os.Stat("/usr/bin/portserver"); err != nil {
		t.Skip("SKIPPED, NOTHING COMPARED: no /usr/bin/portserver: install python3-portpicker (make test-deps)")
	}
	dir := t.TempDir()
	bin := testutil.Build(t, dir, "piuparts-server/cmd/piuparts-portserver")
	client := filepath.Join(dir, "benchclient")
	if out, err := exec.Command("gcc", "-O2", "-o", client, "testdata/benchclient.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc testdata/benchclient.c: %v\n%s", err, out)
	}
	load0, _ := os.ReadFile("/proc/loadavg")
	servers := []benchServer{
		{"Debian portserver", func(addr string) []string {
			return []string{"/usr/bin/python3", "/usr/bin/portserver", "--portserver_static_pool", benchPool,
				"--portserver_address", addr}
		}},
		{"ours", func(addr string) []string {
			table := filepath.Join(dir, "owners-"+strings.TrimPrefix(addr, "@")+".json")
			if os.Getenv("PIUPARTS_BENCH_TABLE") == "0" {
				table = ""
			}
			argv := []string{bin, "--portserver_static_pool", benchPool, "--portserver_address", addr,
				"--owner_table", table}
			if prof := os.Getenv("PIUPARTS_BENCH_CPUPROFILE"); prof != "" {
				argv = append(argv, "--cpuprofile", prof) // the last server's profile stays
			}
			return argv
		}},
	}
	// The owners: live processes, one per client.
	var owners []int
	for range 64 {
		cmd := exec.Command("sleep", "3600")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		owners = append(owners, cmd.Process.Pid)
	}
	seq := 0
	var rows []string
	results := map[string]map[int]benchRow{}
	for _, clients := range []int{1, 16, 64} {
		// Rounds alternate between the servers, so that both see the
		// machine's load alike.
		rounds := map[string][]benchRow{}
		for range benchRounds {
			for _, srv := range servers {
				seq++
				addr, cmd := startBenchServer(t, srv, seq)
				r := runGrants(t, client, addr, cmd.Process.Pid, owners[:clients], benchGrants)
				rounds[srv.name] = append(rounds[srv.name], r)
				if clients == 64 {
					t.Logf("round at 64 clients, %s: %.0f grants/s, p50 %s p90 %s p99 %s max %s, p99 without each client's first %s",
						srv.name, r.grantsPerSec, ms(r.p50), ms(r.p90), ms(r.p99), ms(r.max), ms(r.p99Later))
				}
				stopBenchServer(cmd)
			}
		}
		for _, srv := range servers {
			rs := rounds[srv.name]
			slices.SortFunc(rs, func(a, b benchRow) int { return int(a.grantsPerSec - b.grantsPerSec) })
			r := rs[len(rs)/2]
			if results[srv.name] == nil {
				results[srv.name] = map[int]benchRow{}
			}
			results[srv.name][clients] = r
			rows = append(rows, fmt.Sprintf("| %d | %s | %.0f | %s | %s | %s | %d |", clients, srv.name, r.grantsPerSec,
				ms(r.p50), ms(r.p99), r.cpuPerRequest.Round(time.Microsecond), r.errors))
		}
	}
	// Denials on a full pool.
	var denyRows []string
	denials := map[string]time.Duration{}
	for _, srv := range servers {
		seq++
		addr, cmd := startBenchServer(t, srv, seq)
		fill := runGrants(t, client, addr, cmd.Process.Pid, owners, benchPoolSize)
		if fill.errors != 0 {
			t.Errorf("%s: %d errors filling the pool", srv.name, fill.errors)
		}
		n := 200
		if srv.name != "ours" {
			n = 20 // about 43 ms each
		}
		var lat []time.Duration
		for range n {
			t0 := time.Now()
			port, err := ask(addr, owners[0])
			lat = append(lat, time.Since(t0))
			if err != nil || port != "" {
				t.Errorf("%s: full pool answered %q, %v", srv.name, port, err)
			}
		}
		stopBenchServer(cmd)
		slices.Sort(lat)
		var sum time.Duration
		for _, d := range lat {
			sum += d
		}
		denials[srv.name] = sum / time.Duration(n)
		denyRows = append(denyRows, fmt.Sprintf("| %s | %d | %s | %s | %s |", srv.name, n, ms(sum/time.Duration(n)),
			ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100])))
	}
	ref, ours := results[servers[0].name], results["ours"]
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("load average (/proc/loadavg) at the start: %s; at the end: %s",
		strings.TrimSpace(string(load0)), strings.TrimSpace(string(load)))
	t.Logf("port servers on a pool of %d ports (%d grants per round, median of %d rounds, a fresh server per round)\n"+
		"| clients / owner pids | server | grants/s | p50 | p99 | server CPU per request | errors |\n"+
		"|---|---|---|---|---|---|---|\n%s\n\n"+
		"denials on a full pool of %d ports\n| server | requests | mean | p50 | p99 |\n|---|---|---|---|---|\n%s\n\n"+
		"ours / Debian: grants/s at 64 clients %.1fx (p99 %s), denials %.0fx faster",
		benchPoolSize, benchGrants, benchRounds, strings.Join(rows, "\n"), benchPoolSize, strings.Join(denyRows, "\n"),
		ours[64].grantsPerSec/ref[64].grantsPerSec, ms(ours[64].p99),
		float64(denials[servers[0].name])/float64(denials["ours"]))
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}
