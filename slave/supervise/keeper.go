package supervise

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

// KeeperEnv, set in its environment, makes a process started by the
// manager the keeper of the program (see [Keeper]); its value is the grace
// in nanoseconds between SIGTERM and SIGKILL when the manager dies. The
// binary's main calls [IsKeeper] first.
const KeeperEnv = "PIUPARTS_SUPERVISE_KEEPER"

// keeperTranscriptEnv names the transcript for the keeper, which writes
// the program's last words there once the manager is gone.
const keeperTranscriptEnv = "PIUPARTS_SUPERVISE_TRANSCRIPT"

// keeperCredentialEnv is "UID:GID" when the program runs as another user:
// the keeper stays root, so that it can always signal the program.
const keeperCredentialEnv = "PIUPARTS_SUPERVISE_CREDENTIAL"

// Descriptors the manager passes to the keeper.
const (
	keeperDeathFD = 3 // read end of a pipe the manager holds: EOF means it died
	keeperPIDFD   = 4 // the keeper writes the program's pid, or "error ...", and a newline
	keeperOutFD   = 5 // read end of the program's output pipe, read by the keeper once the manager is gone
)

// IsKeeper reports whether this process was started as a keeper.
func IsKeeper() bool { return os.Getenv(KeeperEnv) != "" }

// Keeper runs the program args in a process group of its own and returns
// the exit status the process should end with. It is the small process
// between the manager and its program that makes sure the program never
// outlives the manager: when the manager dies, even by SIGKILL, the pipe
// on descriptor 3 reaches EOF, and the keeper sends SIGTERM to the
// program's whole group, then SIGKILL after the grace. When the program
// exits, the keeper kills what is left of its group and ends the same way
// the program did (the same exit status, or the same signal), so the
// manager sees the program's own end. Signals sent to the keeper itself
// (a ^C on the manager's terminal) are ignored: the manager decides.
func Keeper(args []string) int {
	var grace time.Duration
	fmt.Sscan(os.Getenv(KeeperEnv), &grace)
	if grace <= 0 {
		grace = 10 * time.Second
	}
	transcript := os.Getenv(keeperTranscriptEnv)
	var cred *syscall.Credential
	if c := os.Getenv(keeperCredentialEnv); c != "" {
		cred = &syscall.Credential{Groups: []uint32{}}
		fmt.Sscanf(c, "%d:%d", &cred.Uid, &cred.Gid)
	}
	for _, k := range []string{KeeperEnv, keeperTranscriptEnv, keeperCredentialEnv} {
		os.Unsetenv(k)
	}
	for _, fd := range []int{keeperDeathFD, keeperPIDFD, keeperOutFD} {
		syscall.CloseOnExec(fd)
	}
	death := os.NewFile(keeperDeathFD, "manager")
	pidw := os.NewFile(keeperPIDFD, "pid")
	out := os.NewFile(keeperOutFD, "output")
	// Caught, not ignored: the program starts with default handlers.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGPIPE)
	go func() {
		for range sigs {
		}
	}()
	if len(args) == 0 {
		fmt.Fprintln(pidw, "error no program")
		return 127
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "PIUPARTS_SUPERVISE_") })
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(pidw, "error %s\n", oneLine(err.Error()))
		return 127
	}
	pid := cmd.Process.Pid
	fmt.Fprintf(pidw, "%d\n", pid)
	pidw.Close()

	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	managerGone := make(chan struct{})
	go func() {
		io.Copy(io.Discard, death)
		close(managerGone)
	}()
	select {
	case <-exited:
	case <-managerGone:
		// The program's output now has no reader but this one: keep it
		// (a write to a pipe without a reader would kill the program
		// with SIGPIPE before it could clean up).
		go func() {
			var w io.Writer = io.Discard
			if f, err := os.OpenFile(transcript, os.O_WRONLY|os.O_APPEND, 0); err == nil && transcript != "" {
				defer f.Close()
				w = f
				fmt.Fprintln(f, "piuparts-slave: the manager is gone: SIGTERM to the program")
			}
			io.Copy(w, out)
		}()
		syscall.Kill(-pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(grace):
		}
	}
	// Whatever is left of the group goes with the program.
	syscall.Kill(-pid, syscall.SIGKILL)
	<-exited
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		sig := ws.Signal()
		signal.Reset(sig)
		syscall.Kill(os.Getpid(), sig)
		time.Sleep(100 * time.Millisecond)
		return 128 + int(sig)
	}
	return ws.ExitStatus()
}
