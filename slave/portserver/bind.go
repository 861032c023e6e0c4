package portserver

import "golang.org/x/sys/unix"

// IsPortFree reports whether port can be bound for both TCP and UDP, as
// the reference's _is_port_free checks it: for each protocol, a socket of
// each family that the kernel can create (AF_INET6, then AF_INET) with
// SO_REUSEADDR must bind the wildcard address, and a TCP socket must
// listen. At least one family must exist. A TCP port in TIME_WAIT counts
// as free, as there.
//
// One socket fewer per protocol than there: where the AF_INET6 socket is
// dual-stack (IPV6_V6ONLY off, as net.ipv6.bindv6only=0 makes it), its
// bind to [::] already conflicts with every socket on the port that a bind
// to 0.0.0.0 conflicts with, IPv4 ones included, so the AF_INET socket
// could not fail after it and is not made. Where it is IPv6-only, the
// AF_INET socket is tried as there.
func IsPortFree(port int) bool {
	return bindable(port, unix.SOCK_STREAM) && bindable(port, unix.SOCK_DGRAM)
}

// bindable is IsPortFree for one socket type.
func bindable(port, typ int) bool {
	listen := typ == unix.SOCK_STREAM
	fd, err := rawSocket(unix.AF_INET6, typ|unix.SOCK_CLOEXEC, 0)
	if err == nil {
		ok := bindOne(fd, unix.AF_INET6, port, listen)
		dual := false
		if ok {
			v6only, err := rawGetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY)
			dual = err == nil && v6only == 0
		}
		rawClose(fd)
		if !ok || dual {
			return ok
		}
	}
	fd4, err4 := rawSocket(unix.AF_INET, typ|unix.SOCK_CLOEXEC, 0)
	if err4 != nil {
		// Without IPv4, the IPv6 socket (if any) was the whole check.
		return err == nil
	}
	ok := bindOne(fd4, unix.AF_INET, port, listen)
	rawClose(fd4)
	return ok
}

// bindOne binds fd with SO_REUSEADDR to the wildcard address of family
// at port, and listens when listen is set.
func bindOne(fd, family, port int, listen bool) bool {
	if rawSetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) != nil {
		return false
	}
	if rawBindAny(fd, family, port) != nil {
		return false
	}
	return !listen || rawListen(fd, 1) == nil
}
