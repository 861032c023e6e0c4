package portserver

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Process identifies a process for as long as it lives: its pid and its
// start time (/proc/PID/stat field 22, clock ticks after boot). A pid
// reused by a later process has a later start time.
type Process struct {
	Pid   int    `json:"pid"`
	Start uint64 `json:"start"`
}

// Reasons not to allocate to a pid, returned by lookup.
var (
	// ErrNoProcess is a pid that names no live process (never was, exited,
	// or a zombie).
	ErrNoProcess = errors.New("no such live process")
	// ErrNotProcess is a pid that names a thread of another process, init
	// or a kernel thread: none of them will ever release a port.
	ErrNotProcess = errors.New("not a process that can own a port")
)

// pfKthread is PF_KTHREAD in /proc/PID/stat's flags (field 9).
const pfKthread = 0x00200000

// procStat is what lookup needs of /proc/PID/stat.
type procStat struct {
	state byte
	flags uint64
	start uint64
}

// readStat reads /proc/PID/stat. The command name (field 2) is in
// parentheses and may hold spaces and ')', so fields are counted after the
// last ')'.
func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	// After ')': field 3 (state) is the first.
	f := bytes.Fields(data[i+1:])
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	flags, err1 := strconv.ParseUint(string(f[9-3]), 10, 64)
	start, err2 := strconv.ParseUint(string(f[22-3]), 10, 64)
	if err1 != nil || err2 != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: bad flags or start time", pid)
	}
	return procStat{state: f[0][0], flags: flags, start: start}, nil
}

// exited reports whether the process a pidfd refers to has exited (a
// zombie has).
func exited(fd uintptr) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd, 0)
	return err == nil && n > 0
}

// lookup identifies the live process pid and returns it with a pidfd (nil
// where the kernel has no pidfd_open) that the caller must close. It
// returns ErrNoProcess or ErrNotProcess (see there), or another error when
// /proc cannot be read.
func lookup(pid int) (Process, *os.File, error) {
	if pid <= 1 {
		return Process{}, nil, ErrNotProcess
	}
	// The pidfd first: it pins the process, so the stat read next is of
	// this process if the pidfd still shows it alive afterwards.
	var pidfd *os.File
	fd, err := unix.PidfdOpen(pid, 0)
	switch {
	case err == nil:
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
			return Process{}, nil, fmt.Errorf("pidfd of %d: %w", pid, err)
		}
		pidfd = os.NewFile(uintptr(fd), "pidfd:"+strconv.Itoa(pid))
	case errors.Is(err, unix.ESRCH):
		return Process{}, nil, ErrNoProcess
	case errors.Is(err, unix.EINVAL):
		// pidfd_open refuses a thread that is not its group's leader.
		return Process{}, nil, ErrNotProcess
	case errors.Is(err, unix.ENOSYS):
	default:
		return Process{}, nil, fmt.Errorf("pidfd of %d: %w", pid, err)
	}
	fail := func(err error) (Process, *os.File, error) {
		if pidfd != nil {
			pidfd.Close()
		}
		return Process{}, nil, err
	}
	st, err := readStat(pid)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fail(ErrNoProcess)
	case err != nil:
		return fail(err)
	case st.state == 'Z' || st.state == 'X':
		return fail(ErrNoProcess)
	case st.flags&pfKthread != 0:
		return fail(ErrNotProcess)
	}
	if pidfd != nil && hasExited(pidfd) {
		return fail(ErrNoProcess)
	}
	return Process{Pid: pid, Start: st.start}, pidfd, nil
}

// hasExited reports whether the process of pidfd has exited (without
// File.Fd, which would make the pidfd blocking).
func hasExited(pidfd *os.File) bool {
	rc, err := pidfd.SyscallConn()
	if err != nil {
		return true
	}
	done := false
	if err := rc.Control(func(fd uintptr) { done = exited(fd) }); err != nil {
		return true
	}
	return done
}

// alive reports whether p is still running: its pid exists, is no zombie
// and has p's start time. It is the check where there is no pidfd.
func alive(p Process) bool {
	st, err := readStat(p.Pid)
	return err == nil && st.start == p.Start && st.state != 'Z' && st.state != 'X'
}

// waitExit returns nil when the process of pidfd has exited, or an error
// when pidfd was closed first.
func waitExit(pidfd *os.File) error {
	rc, err := pidfd.SyscallConn()
	if err != nil {
		return err
	}
	// Read calls the function again each time the poller sees the pidfd
	// readable, which it becomes when the process exits.
	return rc.Read(exited)
}
