package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"piuparts-server/internal/testutil"
	"piuparts-server/slave/portserver"
)

// syncBuffer is a bytes.Buffer safe for a logger and a test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRun_Version(t *testing.T) {
	var out bytes.Buffer
	if err := run(t.Context(), []string{"--version"}, &out, &out, nil); err != nil {
		t.Fatal(err)
	}
	if out.String() != "piuparts-portserver dev\n" {
		t.Errorf("--version printed %q", out.String())
	}
}

func TestRun_BadCommandLines(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in the error or the output
	}{
		{"UnknownFlag", []string{"--portserver_tcp_port", "1"}, "flag provided but not defined"},
		{"Argument", []string{"extra"}, "unexpected argument"},
		{"NoGoodRange", []string{"--portserver_static_pool", "x-y,9-3", "--owner_table", ""}, "no ports"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(t.Context(), tt.args, &out, &out, nil)
			if err == nil || !strings.Contains(err.Error()+out.String(), tt.want) {
				t.Errorf("run(%q) = %v, output %q; want an error about %q", tt.args, err, out.String(), tt.want)
			}
		})
	}
}

// TestRun_ServesAndLogsStatistics runs the command on an abstract address
// with the reference's old flag name for it, asks for a port, and checks
// that SIGUSR1's statistics carry the reference's names.
func TestRun_ServesAndLogsStatistics(t *testing.T) {
	addr := fmt.Sprintf("@piuparts-portserver-main-test-%d", os.Getpid())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	usr1 := make(chan os.Signal, 1)
	var log syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--portserver_static_pool", "abc,40000-40009", "--portserver_unix_socket_address", addr,
			"--owner_table", filepath.Join(t.TempDir(), "owners")}, &log, &log, usr1)
	}()
	sleeper := exec.Command("sleep", "1000")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleeper.Process.Kill(); sleeper.Wait() }()
	var port int
	var err error
	for range 200 {
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		port, err = portserver.Request(rctx, addr, sleeper.Process.Pid)
		rcancel()
		if err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil || port < 40000 || port > 40009 {
		t.Fatalf("request: %d, %v\n%s", port, err, log.String())
	}
	usr1 <- syscall.SIGUSR1
	for range 500 {
		if strings.Contains(log.String(), "statistics") {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	out := log.String()
	for _, want := range []string{`"port range ignored"`, `"total-allocations":1`, `"client-request-errors":0`,
		`"denied-allocations":0`, `"num-ports-managed":10`, `"num-ports-checked-for-last-request":1`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
}

// TestUnit_ExecStart checks that the systemd unit's command line is one
// this command accepts and that it listens on a Unix socket.
func TestUnit_ExecStart(t *testing.T) {
	data, err := os.ReadFile("../../deploy/systemd/piuparts-portserver.service")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	var exec []string
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
			exec = strings.Fields(v)
		}
	}
	if len(exec) < 2 || exec[0] != "/usr/bin/piuparts-portserver" {
		t.Fatalf("ExecStart = %q", exec)
	}
	var out bytes.Buffer
	if err := run(t.Context(), append(exec[1:], "--version"), &out, &out, nil); err != nil {
		t.Fatalf("the unit's flags %q: %v\n%s", exec[1:], err, out.String())
	}
	for i, a := range exec {
		if a == "--portserver_address" && (i+1 == len(exec) || strings.Contains(exec[i+1], ":")) {
			t.Errorf("the unit's address %q is not a Unix socket", exec[i+1:])
		}
	}
}

// TestBinary_IdleConnectionsWith256Fds is the reference's measured
// failure: with 256 file descriptors, 300 idle connections left a real
// client unanswered. The binary runs under that limit; a client opening
// connection 301 is answered while the 300 are still open.
func TestBinary_IdleConnectionsWith256Fds(t *testing.T) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("SKIPPED: no prlimit (util-linux) to limit the server's file descriptors")
	}
	bin := testutil.Build(t, t.TempDir(), "piuparts-server/cmd/piuparts-portserver")
	addr := fmt.Sprintf("@piuparts-portserver-fd-test-%d", os.Getpid())
	srv := exec.Command(prlimit, "--nofile=256:256", bin, "--portserver_static_pool", "40010-40019",
		"--portserver_address", addr, "--owner_table", "")
	var log syncBuffer
	srv.Stderr = &log
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	var idle []net.Conn
	deadline := time.Now().Add(10 * time.Second)
	for len(idle) < 300 {
		c, err := net.Dial("unix", addr)
		if err != nil {
			if len(idle) == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond) // not listening yet
				continue
			}
			t.Fatalf("idle connection %d: %v", len(idle), err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if port, err := portserver.Request(ctx, addr, os.Getpid()); err != nil || port < 40010 || port > 40019 {
		t.Fatalf("request behind 300 idle connections: %d, %v\n%s", port, err, log.String())
	}
}
