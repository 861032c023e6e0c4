package master_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"piuparts-server/master"
)

// serverClient is a connection to a master.Server, as the forced command
// makes it: the header, then the protocol, then the session's end.
type serverClient struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialServer(t *testing.T, addr string, h master.SessionHeader) *serverClient {
	t.Helper()
	nc, err := net.Dial("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if err := master.WriteSessionHeader(nc, h); err != nil {
		t.Fatal(err)
	}
	c := &serverClient{t: t, nc: nc, br: bufio.NewReader(nc)}
	if hello := c.line(); hello != "hello" {
		t.Fatalf("greeting %q, want hello", hello)
	}
	return c
}

func (c *serverClient) line() string {
	c.t.Helper()
	l, err := c.br.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read answer: %v (got %q)", err, l)
	}
	return strings.TrimSuffix(l, "\n")
}

// ask sends one command (a long part included) and returns the answer.
func (c *serverClient) ask(cmd string) string {
	c.t.Helper()
	if _, err := io.WriteString(c.nc, cmd); err != nil {
		c.t.Fatal(err)
	}
	return c.line()
}

// end closes the input and returns the session's end.
func (c *serverClient) end() master.SessionEnd {
	c.t.Helper()
	c.nc.(*net.UnixConn).CloseWrite()
	rest, err := io.ReadAll(c.br)
	if err != nil {
		c.t.Fatal(err)
	}
	i := bytes.IndexByte(rest, 0)
	if i != 0 {
		c.t.Fatalf("after the last answer %q, want a NUL and the end", rest)
	}
	var end master.SessionEnd
	if err := json.Unmarshal(rest[1:], &end); err != nil {
		c.t.Fatalf("session end %q: %v", rest[1:], err)
	}
	return end
}

// startServer runs a master.Server for e on an abstract socket of its own
// and returns the socket's name, a function that stops it and waits, and
// a channel that gets Serve's error when it returns by itself.
func startServer(t *testing.T, e *env, srv *master.Server) (string, func() error, <-chan error) {
	t.Helper()
	addr := fmt.Sprintf("@piuparts-master-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	ln, err := net.Listen("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config = e.config("")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ended := make(chan error, 1)
	go func() {
		err := srv.Serve(ctx, ln)
		done <- err
		ended <- err
	}()
	var once sync.Once
	var serr error
	stop := func() error {
		once.Do(func() {
			cancel()
			serr = <-done
		})
		return serr
	}
	t.Cleanup(func() { stop() })
	return addr, stop, ended
}

// TestServer_Sessions runs several slaves' sessions at once on one server:
// each gets its own reservations, every acknowledged log is in the tree,
// the holder comes from the header, a later session's status counts the
// logs, and a session that breaks the protocol ends with its error.
func TestServer_Sessions(t *testing.T) {
	e := newEnv(t)
	addr, stop, _ := startServer(t, e, &master.Server{})
	const slaves = 4
	var wg sync.WaitGroup
	got := make([][]string, slaves)
	for i := range slaves {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := dialServer(t, addr, master.SessionHeader{Holder: fmt.Sprintf("slave%d", i), Identified: true})
			if a := c.ask("section sid\n"); a != "ok" {
				t.Errorf("section: %q", a)
				return
			}
			for range 2 {
				f := strings.Fields(c.ask("reserve\n"))
				if len(f) != 3 || f[0] != "ok" {
					t.Errorf("reserve: %q", f)
					return
				}
				if a := c.ask("pass " + f[1] + " " + f[2] + "\n log of " + f[1] + "\n.\n"); a != "ok" {
					t.Errorf("pass %s: %q", f[1], a)
					return
				}
				got[i] = append(got[i], f[1]+"_"+f[2])
			}
			if end := c.end(); end.Err != "" {
				t.Errorf("session end: %+v", end)
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, logs := range got {
		for _, l := range logs {
			if seen[l] {
				t.Errorf("%s handed out twice", l)
			}
			seen[l] = true
			if _, err := os.Stat(filepath.Join(e.dir, "sid", "pass", l+".log")); err != nil {
				t.Errorf("acknowledged log %s: %v", l, err)
			}
		}
	}
	c := dialServer(t, addr, master.SessionHeader{})
	c.ask("section sid\n")
	if st := c.ask("status\n"); !strings.Contains(st, fmt.Sprintf("successfully-tested=%d ", 2*slaves)) {
		t.Errorf("status after %d logs: %q", 2*slaves, st)
	}
	c.end()
	bad := dialServer(t, addr, master.SessionHeader{Holder: "bad"})
	if _, err := io.WriteString(bad.nc, "reserve\n"); err != nil {
		t.Fatal(err)
	}
	if end := bad.end(); !strings.Contains(end.Err, "expected section command") || end.Reason != "error" {
		t.Errorf("end of a session without section: %+v", end)
	}
	if err := stop(); err != nil {
		t.Errorf("Serve: %v", err)
	}
	if !strings.Contains(e.logs(), `"slave":"slave1"`) {
		t.Error("the log does not name the slave of the header")
	}
}

// TestServer_Stops ends Serve after Idle without a connection, and when
// Alive says no.
func TestServer_Stops(t *testing.T) {
	for _, tc := range []struct {
		name string
		srv  *master.Server
	}{
		{"Idle", &master.Server{Idle: 50 * time.Millisecond, AliveInterval: 10 * time.Millisecond}},
		{"Alive", &master.Server{Alive: func() bool { return false }, AliveInterval: 10 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			_, _, ended := startServer(t, e, tc.srv)
			select {
			case err := <-ended:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Serve did not stop")
			}
		})
	}
}
