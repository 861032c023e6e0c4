package portserver_test

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"piuparts-server/slave/portserver"
)

// occupant is a socket put on a port before the check.
type occupant struct {
	name      string
	family    int
	typ       int
	addr      string // "" is the wildcard address
	reuse     bool   // SO_REUSEADDR
	reusePort bool   // SO_REUSEPORT
	v6only    int    // IPV6_V6ONLY: 1 on, 0 off, -1 the system's default
	listen    bool
}

// occupy opens o on port, or skips the test when the system cannot.
func occupy(t *testing.T, o occupant, port int) {
	t.Helper()
	fd, err := unix.Socket(o.family, o.typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("socket: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	set := func(level, opt int, on bool) {
		v := 0
		if on {
			v = 1
		}
		if err := unix.SetsockoptInt(fd, level, opt, v); err != nil {
			t.Fatalf("setsockopt: %v", err)
		}
	}
	set(unix.SOL_SOCKET, unix.SO_REUSEADDR, o.reuse)
	set(unix.SOL_SOCKET, unix.SO_REUSEPORT, o.reusePort)
	var sa unix.Sockaddr
	if o.family == unix.AF_INET6 {
		if o.v6only >= 0 {
			set(unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, o.v6only == 1)
		}
		a := &unix.SockaddrInet6{Port: port}
		if o.addr != "" {
			copy(a.Addr[:], net.ParseIP(o.addr).To16())
		}
		sa = a
	} else {
		a := &unix.SockaddrInet4{Port: port}
		if o.addr != "" {
			copy(a.Addr[:], net.ParseIP(o.addr).To4())
		}
		sa = a
	}
	if err := unix.Bind(fd, sa); err != nil {
		t.Skipf("bind %s: %v", o.name, err)
	}
	if o.listen {
		if err := unix.Listen(fd, 1); err != nil {
			t.Fatalf("listen: %v", err)
		}
	}
}

// TestIsPortFree_AsPortpicker checks each kind of socket on a port with
// IsPortFree and with Debian's portpicker.is_port_free, which must agree.
func TestIsPortFree_AsPortpicker(t *testing.T) {
	needPortpicker(t)
	py := exec.Command("/usr/bin/python3", "-c",
		"import sys, portpicker\nfor line in sys.stdin: print(bool(portpicker.is_port_free(int(line))), flush=True)\n")
	in, _ := py.StdinPipe()
	out, _ := py.StdoutPipe()
	if err := py.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { in.Close(); py.Wait() }()
	answers := bufio.NewReader(out)
	reference := func(port int) bool {
		t.Helper()
		fmt.Fprintln(in, port)
		line, err := answers.ReadString('\n')
		if err != nil {
			t.Fatalf("portpicker: %v", err)
		}
		return strings.TrimSpace(line) == "True"
	}
	const tcp, udp, v4, v6 = unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.AF_INET, unix.AF_INET6
	tests := []occupant{
		{name: "Nothing"},
		{name: "TCP4ListenAny", family: v4, typ: tcp, listen: true},
		{name: "TCP4ListenLoopback", family: v4, typ: tcp, addr: "127.0.0.1", listen: true},
		{name: "TCP4ListenLoopbackReuse", family: v4, typ: tcp, addr: "127.0.0.1", reuse: true, listen: true},
		{name: "TCP4BoundLoopback", family: v4, typ: tcp, addr: "127.0.0.1"},
		{name: "TCP4BoundLoopbackReuse", family: v4, typ: tcp, addr: "127.0.0.1", reuse: true},
		{name: "TCP4BoundAnyReuse", family: v4, typ: tcp, reuse: true},
		{name: "TCP4ListenReusePort", family: v4, typ: tcp, addr: "127.0.0.1", reuse: true, reusePort: true, listen: true},
		{name: "TCP6ListenLoopback", family: v6, typ: tcp, addr: "::1", v6only: -1, listen: true},
		{name: "TCP6ListenAnyV6Only", family: v6, typ: tcp, v6only: 1, listen: true},
		{name: "TCP6ListenAnyDual", family: v6, typ: tcp, v6only: 0, listen: true},
		{name: "TCP6ListenMapped", family: v6, typ: tcp, addr: "::ffff:127.0.0.1", v6only: 0, listen: true},
		{name: "TCP6BoundAnyV6OnlyReuse", family: v6, typ: tcp, v6only: 1, reuse: true},
		{name: "TCP6BoundAnyDualReuse", family: v6, typ: tcp, v6only: 0, reuse: true},
		{name: "UDP4Loopback", family: v4, typ: udp, addr: "127.0.0.1"},
		{name: "UDP4AnyReuse", family: v4, typ: udp, reuse: true},
		{name: "UDP4LoopbackReusePort", family: v4, typ: udp, addr: "127.0.0.1", reusePort: true},
		{name: "UDP6Loopback", family: v6, typ: udp, addr: "::1", v6only: -1},
		{name: "UDP6AnyV6Only", family: v6, typ: udp, v6only: 1},
		{name: "UDP6AnyDualReuse", family: v6, typ: udp, v6only: 0, reuse: true},
		{name: "UDP6Mapped", family: v6, typ: udp, addr: "::ffff:127.0.0.1", v6only: 0},
	}
	for _, o := range tests {
		t.Run(o.name, func(t *testing.T) {
			port := freePorts(t, 1)[0]
			if o.family != 0 {
				occupy(t, o, port)
			}
			if got, want := portserver.IsPortFree(port), reference(port); got != want {
				t.Errorf("IsPortFree(%d) = %v, portpicker says %v", port, got, want)
			}
		})
	}
	t.Run("TimeWait", func(t *testing.T) {
		// The side on the port closes first, so the port is in TIME_WAIT.
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		c, err := net.Dial("tcp4", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		ln.Close()
		s.Close()
		c.Close()
		if got, want := portserver.IsPortFree(port), reference(port); got != want {
			t.Errorf("IsPortFree(%d) in TIME_WAIT = %v, portpicker says %v", port, got, want)
		}
	})
	t.Run("ConnectedFromPort", func(t *testing.T) {
		// A client connection whose local port is the port.
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		port := freePorts(t, 1)[0]
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}}
		c, err := d.Dial("tcp4", ln.Addr().String())
		if err != nil {
			t.Skipf("dial from port %d: %v", port, err)
		}
		defer c.Close()
		if got, want := portserver.IsPortFree(port), reference(port); got != want {
			t.Errorf("IsPortFree(%d) with a connection from it = %v, portpicker says %v", port, got, want)
		}
	})
}
