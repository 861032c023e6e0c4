package portserver

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The system calls of a grant that cannot block (socket, on non-blocking sockets,
// a socket's options and bind, close of a socket without SO_LINGER, a
// poll that does not wait) are made raw: without telling the Go
// scheduler, which would otherwise prepare to hand the thread's P to
// another thread and wake its monitor thread (sysmon) for each of them.

// rawErr turns an errno into an error (nil for 0).
func rawErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// rawRead reads from the non-blocking fd.
func rawRead(fd int, p []byte) (int, error) {
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// rawWrite writes to the non-blocking fd.
func rawWrite(fd int, p []byte) (int, error) {
	n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

// rawClose closes a socket (without SO_LINGER) or a pidfd.
func rawClose(fd int) {
	_, _, _ = unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}

// rawSetsockoptInt sets an int option.
func rawSetsockoptInt(fd, level, opt, v int) error {
	v32 := int32(v)
	_, _, e := unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&v32)), 4, 0)
	return rawErr(e)
}

// rawGetsockoptInt gets an int option.
func rawGetsockoptInt(fd, level, opt int) (int, error) {
	var v int32
	l := uint32(4)
	_, _, e := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
	return int(v), rawErr(e)
}

// rawBindAny binds fd of family (AF_INET6 or AF_INET) to the wildcard
// address at port.
func rawBindAny(fd, family, port int) error {
	var e unix.Errno
	if family == unix.AF_INET6 {
		sa := unix.RawSockaddrInet6{Family: unix.AF_INET6, Port: uint16(port>>8 | port<<8)}
		_, _, e = unix.RawSyscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	} else {
		sa := unix.RawSockaddrInet4{Family: unix.AF_INET, Port: uint16(port>>8 | port<<8)}
		_, _, e = unix.RawSyscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	}
	return rawErr(e)
}

// rawListen listens on fd.
func rawListen(fd, backlog int) error {
	_, _, e := unix.RawSyscall(unix.SYS_LISTEN, uintptr(fd), uintptr(backlog), 0)
	return rawErr(e)
}

// rawPollIn polls fd for POLLIN without waiting and returns whether it is
// readable.
func rawPollIn(fd int) (bool, error) {
	pfd := unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	var ts unix.Timespec
	n, _, e := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
	if e != 0 {
		return false, e
	}
	return n > 0, nil
}

// rawSocket creates a socket; it does not block.
func rawSocket(domain, typ, proto int) (int, error) {
	fd, _, e := unix.RawSyscall(unix.SYS_SOCKET, uintptr(domain), uintptr(typ), uintptr(proto))
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}
