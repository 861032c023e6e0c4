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
// last ')'. (Plain system calls into a buffer on the stack: os.ReadFile
// costs twice as many.)
func readStat(pid int) (procStat, error) {
	var buf [1024]byte
	path := strconv.AppendInt(append(buf[:0:64], "/proc/"...), int64(pid), 10)
	path = append(path, "/stat"...)
	fd, err := unix.Open(string(path), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
			return procStat{}, os.ErrNotExist
		}
		return procStat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	n, err := unix.Read(fd, buf[64:])
	unix.Close(fd)
	if errors.Is(err, unix.ESRCH) {
		return procStat{}, os.ErrNotExist
	}
	if err != nil || n <= 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: read: %v", pid, err)
	}
	data := buf[64 : 64+n]
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
	readable, err := rawPollIn(int(fd))
	return err == nil && readable
}

// running reports whether the process a pidfd refers to certainly has not
// exited: poll says the pidfd is not readable (an error says nothing).
func running(fd uintptr) bool {
	readable, err := rawPollIn(int(fd))
	return err == nil && !readable
}

// lookup identifies the live process pid and returns it with a pidfd
// (-1 where the kernel has no pidfd_open) that the caller must close. It
// returns ErrNoProcess or ErrNotProcess (see there), or another error when
// /proc cannot be read.
func lookup(pid int) (Process, int, error) {
	if pid <= 1 {
		return Process{}, -1, ErrNotProcess
	}
	// The pidfd first: it pins the process, so the stat read next is of
	// this process if the pidfd still shows it alive afterwards.
	pidfd, err := unix.PidfdOpen(pid, 0)
	switch {
	case err == nil:
	case errors.Is(err, unix.ESRCH):
		return Process{}, -1, ErrNoProcess
	case errors.Is(err, unix.EINVAL):
		// pidfd_open refuses a thread that is not its group's leader.
		return Process{}, -1, ErrNotProcess
	case errors.Is(err, unix.ENOSYS):
		pidfd = -1
	default:
		return Process{}, -1, fmt.Errorf("pidfd of %d: %w", pid, err)
	}
	fail := func(err error) (Process, int, error) {
		if pidfd >= 0 {
			unix.Close(pidfd)
		}
		return Process{}, -1, err
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
	if pidfd >= 0 && exited(uintptr(pidfd)) {
		return fail(ErrNoProcess)
	}
	return Process{Pid: pid, Start: st.start}, pidfd, nil
}

// pidfdFile makes a pidfd from lookup a non-blocking *os.File, which the
// runtime's poller watches; it closes the pidfd on failure.
func pidfdFile(pidfd, pid int) (*os.File, error) {
	if err := unix.SetNonblock(pidfd, true); err != nil {
		unix.Close(pidfd)
		return nil, fmt.Errorf("pidfd of %d: %w", pid, err)
	}
	return os.NewFile(uintptr(pidfd), "pidfd:"+strconv.Itoa(pid)), nil
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
