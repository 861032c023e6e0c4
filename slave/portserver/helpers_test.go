package portserver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"piuparts-server/slave/portserver"
)

var addrSeq atomic.Int64

// testAddr returns an abstract address no other test uses.
func testAddr(t testing.TB) string {
	return fmt.Sprintf("@piuparts-portserver-test-%d-%d", os.Getpid(), addrSeq.Add(1))
}

// freePorts returns n ports the kernel considers free now, from the
// ephemeral range, checked as the server checks them.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	seen := map[int]bool{}
	for len(ports) < n {
		l, err := net.Listen("tcp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !seen[p] && portserver.IsPortFree(p) {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports
}

// server is a running server for a test.
type server struct {
	*portserver.Server
	addr string
	done chan error
	stop context.CancelFunc
}

// startServer runs a server for cfg on a new abstract address until the
// test ends (or Stop).
func startServer(t testing.TB, cfg portserver.Config) *server {
	t.Helper()
	if cfg.Log.GetLevel() == zerolog.DebugLevel {
		// The zero Logger: tests that read the log pass one at info level.
		cfg.Log = zerolog.Nop()
	}
	srv, err := portserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr := testAddr(t)
	ln, err := portserver.Listen(addr, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{Server: srv, addr: addr, done: make(chan error, 1), stop: cancel}
	go func() { s.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// Stop stops the server and waits for Serve to return.
func (s *server) Stop(t testing.TB) {
	t.Helper()
	if s.stop == nil {
		return
	}
	s.stop()
	s.stop = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}

// request asks the server for a port for pid.
func (s *server) request(t testing.TB, pid int) (int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return portserver.Request(ctx, s.addr, pid)
}

// mustGrant asks for a port for pid and fails the test without one.
func (s *server) mustGrant(t testing.TB, pid int) int {
	t.Helper()
	port, err := s.request(t, pid)
	if err != nil {
		t.Fatalf("request for pid %d: %v", pid, err)
	}
	return port
}

// raw sends data as a request and returns what the server answered before
// closing.
func (s *server) raw(t testing.TB, data string) string {
	t.Helper()
	c, err := net.Dial("unix", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, data); err != nil {
		t.Fatal(err)
	}
	c.(*net.UnixConn).CloseWrite()
	answer, err := io.ReadAll(c)
	if errors.Is(err, syscall.ECONNRESET) {
		// Closed with part of the request unread.
		err = nil
	}
	if err != nil {
		t.Fatalf("request %q: the server did not close the connection: %v", data, err)
	}
	return string(answer)
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// child starts a process that lives until the test kills it or ends.
func child(t testing.TB) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

// kill kills a child and reaps it.
func kill(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	cmd.Process.Kill()
	cmd.Wait()
}

// procState returns the state letter of /proc/PID/stat ("" if gone).
func procState(pid int) string {
	data, err := os.ReadFile(filepath.Join("/proc", fmt.Sprint(pid), "stat"))
	if err != nil {
		return ""
	}
	for i := len(data) - 1; i >= 0; i-- {
		if data[i] == ')' && i+2 < len(data) {
			return string(data[i+2])
		}
	}
	return ""
}
