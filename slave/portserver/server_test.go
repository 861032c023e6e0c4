package portserver_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"piuparts-server/slave/portserver"
)

func TestServer_GrantsDistinctPortsAndReclaimsPromptly(t *testing.T) {
	ports := freePorts(t, 4)
	s := startServer(t, portserver.Config{Ports: ports})
	a, b := child(t), child(t)
	got := []int{s.mustGrant(t, a.Process.Pid), s.mustGrant(t, a.Process.Pid), s.mustGrant(t, b.Process.Pid)}
	if len(slices.Compact(slices.Sorted(slices.Values(got)))) != 3 {
		t.Fatalf("ports %v: not distinct", got)
	}
	for _, p := range got {
		if !slices.Contains(ports, p) {
			t.Fatalf("port %d not in the pool %v", p, ports)
		}
	}
	kill(t, a)
	// No request comes meanwhile: the server learns of the exit by itself.
	waitFor(t, "a's two ports back on the free list", func() bool { return s.Stats().FreePorts == 3 })
	if st := s.Stats(); st.Owners != 1 || st.TotalAllocations != 3 {
		t.Errorf("stats %+v: want 1 owner, 3 allocations", st)
	}
}

func TestServer_Denials(t *testing.T) {
	s := startServer(t, portserver.Config{Ports: freePorts(t, 2)})
	// A thread of this process that is not its leader.
	var thread int
	entries, _ := os.ReadDir("/proc/self/task")
	for _, e := range entries {
		if tid, _ := strconv.Atoi(e.Name()); tid != os.Getpid() {
			thread = tid
		}
	}
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pid  int
	}{
		{"Init", 1},
		{"NoSuchProcess", exited.Process.Pid},
		{"Thread", thread},
		{"MaxPidUnused", portserver.MaxPid},
	}
	if data, err := os.ReadFile("/proc/2/stat"); err == nil && strings.Contains(string(data), "(kthreadd)") {
		tests = append(tests, struct {
			name string
			pid  int
		}{"KernelThread", 2})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.pid == 0 {
				t.Skip("no second thread found")
			}
			if port, err := s.request(t, tt.pid); !errors.Is(err, portserver.ErrDenied) {
				t.Errorf("request for pid %d = %d, %v; want a close without a byte", tt.pid, port, err)
			}
		})
	}
	if st := s.Stats(); st.DeniedAllocations != len(tests) || st.FreePorts != 2 {
		t.Errorf("stats %+v: want %d denials, 2 free ports", st, len(tests))
	}
}

func TestServer_MalformedRequestsAreClosed(t *testing.T) {
	s := startServer(t, portserver.Config{Ports: freePorts(t, 2)})
	bad := []string{"-5\n", "99999999999\n", "+5\n", " 5\n", "0_5\n", "abc\n", "\n", "",
		strings.Repeat("1", 100), "1\x00\n", "42\r\n"}
	for _, req := range bad {
		if answer := s.raw(t, req); answer != "" {
			t.Errorf("request %q answered %q, want nothing", req, answer)
		}
	}
	// The server still serves.
	s.mustGrant(t, child(t).Process.Pid)
	if st := s.Stats(); st.ClientRequestErrors != len(bad) || st.TotalAllocations != 1 {
		t.Errorf("stats %+v: want %d request errors, 1 allocation", st, len(bad))
	}
}

// ownersOnDisk reads the owner table: pid to ports, replaying its
// changes.
func ownersOnDisk(t *testing.T, path string) map[int][]int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if !strings.HasPrefix(lines[0], "piuparts-portserver owners ") {
		t.Fatalf("owner table %s: header %q", path, lines[0])
	}
	m := map[int][]int{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		pid, _ := strconv.Atoi(f[1])
		switch {
		case f[0] == "+" && len(f) == 4:
			port, _ := strconv.Atoi(f[3])
			m[pid] = append(m[pid], port)
		case f[0] == "-" && len(f) == 3:
			delete(m, pid)
		default:
			t.Fatalf("owner table %s: line %q", path, l)
		}
	}
	return m
}

func TestServer_SplitWriteReadToTheNewline(t *testing.T) {
	table := filepath.Join(t.TempDir(), "owners.json")
	s := startServer(t, portserver.Config{Ports: freePorts(t, 1), TablePath: table})
	owner := child(t)
	pid := strconv.Itoa(owner.Process.Pid)
	c, err := net.Dial("unix", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte(pid[:1]))
	time.Sleep(50 * time.Millisecond) // let the first part arrive alone
	c.Write([]byte(pid[1:] + "\n"))
	buf := make([]byte, 16)
	n, _ := c.Read(buf)
	port, err := strconv.Atoi(strings.TrimSuffix(string(buf[:n]), "\n"))
	if err != nil {
		t.Fatalf("answer %q: %v", buf[:n], err)
	}
	if got := ownersOnDisk(t, table); !slices.Equal(got[owner.Process.Pid], []int{port}) || len(got) != 1 {
		t.Errorf("owners %v, want pid %s holding %d (not pid %s)", got, pid, port, pid[:1])
	}
}

func TestServer_IdleConnectionsDoNotStarveAClient(t *testing.T) {
	s := startServer(t, portserver.Config{Ports: freePorts(t, 1), MaxConns: 16, ReadTimeout: time.Hour})
	var idle []net.Conn
	for range 300 {
		c, err := net.Dial("unix", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	// An hour of read timeout: only the cap can make room.
	s.mustGrant(t, child(t).Process.Pid)
	// The oldest idle connections were closed, without an answer.
	idle[0].SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := idle[0].Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("oldest idle connection: read %d, %v; want it closed", n, err)
	}
}

func TestServer_ReadDeadline(t *testing.T) {
	s := startServer(t, portserver.Config{Ports: freePorts(t, 1), ReadTimeout: 100 * time.Millisecond})
	c, err := net.Dial("unix", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("12")) // and never the rest
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(make([]byte, 8))
	if n != 0 || err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read %d, %v; want the server to close the connection", n, err)
	}
	waitFor(t, "the stalled request counted as an error", func() bool { return s.Stats().ClientRequestErrors == 1 })
}

func TestServer_ZombieOwnersCountAsDead(t *testing.T) {
	s := startServer(t, portserver.Config{Ports: freePorts(t, 1)})
	// cat exits when its stdin closes; it is not reaped (no Wait) and
	// stays a zombie.
	cat := exec.Command("cat")
	in, err := cat.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Start(); err != nil {
		t.Fatal(err)
	}
	defer cat.Wait()
	s.mustGrant(t, cat.Process.Pid)
	in.Close()
	waitFor(t, "cat a zombie", func() bool { return procState(cat.Process.Pid) == "Z" })
	waitFor(t, "the zombie's port back", func() bool { return s.Stats().FreePorts == 1 })
	if port, err := s.request(t, cat.Process.Pid); !errors.Is(err, portserver.ErrDenied) {
		t.Errorf("request for zombie %d = %d, %v; want denied", cat.Process.Pid, port, err)
	}
	if procState(cat.Process.Pid) != "Z" {
		t.Fatal("the zombie was reaped meanwhile: the test proves nothing")
	}
}

func TestServer_PortInUseIsSkipped(t *testing.T) {
	for _, network := range []string{"tcp", "udp", "tcp4", "udp6"} {
		t.Run(network, func(t *testing.T) {
			port := freePorts(t, 1)[0]
			s := startServer(t, portserver.Config{Ports: []int{port}})
			var closer interface{ Close() error }
			var err error
			if strings.HasPrefix(network, "tcp") {
				closer, err = net.Listen(network, ":"+strconv.Itoa(port))
			} else {
				closer, err = net.ListenPacket(network, ":"+strconv.Itoa(port))
			}
			if err != nil {
				t.Skipf("cannot %s-listen on %d: %v", network, port, err)
			}
			owner := child(t).Process.Pid
			if got, err := s.request(t, owner); !errors.Is(err, portserver.ErrDenied) {
				t.Fatalf("port %d in use for %s: granted %d, %v", port, network, got, err)
			}
			closer.Close()
			if got := s.mustGrant(t, owner); got != port {
				t.Errorf("granted %d, want %d", got, port)
			}
		})
	}
}

func TestServer_FullPoolDeniesWithoutAScan(t *testing.T) {
	ports := freePorts(t, 50)
	s := startServer(t, portserver.Config{Ports: ports})
	owner := child(t).Process.Pid
	for range ports {
		s.mustGrant(t, owner)
	}
	if port, err := s.request(t, child(t).Process.Pid); !errors.Is(err, portserver.ErrDenied) {
		t.Fatalf("full pool granted %d, %v", port, err)
	}
	if st := s.Stats(); st.NumPortsCheckedForLastRequest != 0 || st.DeniedAllocations != 1 {
		t.Errorf("stats %+v: a full pool should deny after checking 0 ports", st)
	}
}

func TestServer_GrantsSurviveARestart(t *testing.T) {
	table := filepath.Join(t.TempDir(), "sub", "owners.json")
	ports := freePorts(t, 2)
	holder, leaver := child(t), child(t)
	s1 := startServer(t, portserver.Config{Ports: ports, TablePath: table})
	held := s1.mustGrant(t, holder.Process.Pid)
	s1.mustGrant(t, leaver.Process.Pid)
	s1.Stop(t)
	kill(t, leaver) // exits while no server runs

	s2 := startServer(t, portserver.Config{Ports: ports, TablePath: table})
	if st := s2.Stats(); st.FreePorts != 1 || st.Owners != 1 {
		t.Fatalf("after restart: stats %+v; want the holder's port kept and the leaver's free", st)
	}
	other := child(t).Process.Pid
	if got := s2.mustGrant(t, other); got == held {
		t.Fatalf("restarted server gave %d, held by live pid %d, to %d", got, holder.Process.Pid, other)
	}
	if _, err := s2.request(t, other); !errors.Is(err, portserver.ErrDenied) {
		t.Fatalf("third port from a pool of two: %v", err)
	}
	kill(t, holder)
	waitFor(t, "the holder's port reclaimed after restart", func() bool { return s2.Stats().FreePorts == 1 })
	if got := s2.mustGrant(t, other); got != held {
		t.Errorf("granted %d, want the reclaimed %d", got, held)
	}
}

func TestServer_ReusedPidDoesNotInheritPorts(t *testing.T) {
	// The table says the live pid P holds a port, with another start time
	// than P's: an earlier process that had the same pid.
	dir := t.TempDir()
	table := filepath.Join(dir, "owners.json")
	ports := freePorts(t, 1)
	s1 := startServer(t, portserver.Config{Ports: ports, TablePath: table})
	p := child(t).Process.Pid
	s1.mustGrant(t, p)
	s1.Stop(t)
	data, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	f := strings.Fields(lines[1]) // + PID START PORT
	start, _ := strconv.ParseUint(f[2], 10, 64)
	lines[1] = fmt.Sprintf("+ %s %d %s", f[1], start-1, f[3])
	if err := os.WriteFile(table, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}

	s2 := startServer(t, portserver.Config{Ports: ports, TablePath: table})
	if st := s2.Stats(); st.FreePorts != 1 {
		t.Errorf("stats %+v: the port of the earlier process with pid %d should be free", st, p)
	}
}

// failingListener fails its first Accept with a permanent error.
type failingListener struct{ net.Listener }

func (failingListener) Accept() (net.Conn, error) { return nil, errors.New("listener broken") }

func TestServer_ServeReturnsOnAListenerError(t *testing.T) {
	srv, err := portserver.New(portserver.Config{Ports: freePorts(t, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := portserver.Listen(testAddr(t), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), failingListener{ln}) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "listener broken") {
			t.Errorf("Serve = %v, want the listener's error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its listener failed")
	}
}

// wrappedListener hides the *net.UnixListener, so that Serve accepts
// through the net.Listener interface.
type wrappedListener struct{ net.Listener }

func TestServer_AnyListener(t *testing.T) {
	srv, err := portserver.New(portserver.Config{Ports: freePorts(t, 1), ReadTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	addr := testAddr(t)
	ln, err := portserver.Listen(addr, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, wrappedListener{ln}) }()
	s := &server{Server: srv, addr: addr}
	if answer := s.raw(t, "-5\n"); answer != "" {
		t.Errorf("malformed request answered %q", answer)
	}
	s.mustGrant(t, child(t).Process.Pid)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if st := srv.Stats(); st.TotalAllocations != 1 || st.ClientRequestErrors != 1 {
		t.Errorf("stats %+v: want 1 allocation, 1 request error", st)
	}
}
