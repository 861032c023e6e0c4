package portserver

import "golang.org/x/sys/unix"

// IsPortFree reports whether port can be bound for both TCP and UDP, as
// the reference's _is_port_free checks it: for each protocol, a socket of
// each family that the kernel can create (AF_INET6, dual-stack where
// net.ipv6.bindv6only is 0, then AF_INET) with SO_REUSEADDR must bind the
// wildcard address, and a TCP socket must listen. At least one family must
// exist. A TCP port in TIME_WAIT counts as free, as there.
func IsPortFree(port int) bool {
	return bindable(port, unix.SOCK_STREAM) && bindable(port, unix.SOCK_DGRAM)
}

// bindable is IsPortFree for one socket type.
func bindable(port, typ int) bool {
	got := false
	for _, family := range [...]int{unix.AF_INET6, unix.AF_INET} {
		fd, err := unix.Socket(family, typ|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			continue
		}
		got = true
		ok := bindOne(fd, family, port, typ == unix.SOCK_STREAM)
		unix.Close(fd)
		if !ok {
			return false
		}
	}
	return got
}

// bindOne binds fd to the wildcard address of family at port, and listens
// when listen is set.
func bindOne(fd, family, port int, listen bool) bool {
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) != nil {
		return false
	}
	var sa unix.Sockaddr = &unix.SockaddrInet4{Port: port}
	if family == unix.AF_INET6 {
		sa = &unix.SockaddrInet6{Port: port}
	}
	if unix.Bind(fd, sa) != nil {
		return false
	}
	return !listen || unix.Listen(fd, 1) == nil
}
