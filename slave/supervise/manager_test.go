package supervise

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A program that fails at once is started backoff-limit times, with
// delays of 1, 2, ... units in between, then the manager gives up: FAILED.
func TestBackoff_GivesUpAfterLimitShortRuns(t *testing.T) {
	f := newFixture(t, `echo run >> runs; exit 1`)
	f.start()
	st := f.waitFor("FAILED", func(s Status) bool { return s.State == StateFailed })
	if got := lines(t, filepath.Join(f.dir, "runs")); got != 4 {
		t.Errorf("program ran %d times, want 4 (backoff-limit)", got)
	}
	if want := units(f.opts.Unit, 1, 2, 3); !slices.Equal(f.recorded(), want) {
		t.Errorf("restart delays %v, want %v", f.recorded(), want)
	}
	if st.Backoff != 4 || st.Runs != 4 || st.LastExit != "exit status 1" || st.PID != 0 {
		t.Errorf("status %+v, want 4 short runs, 4 runs, last exit status 1, no pid", st)
	}
	// start starts it again, with a fresh count.
	if _, err := Send(t.Context(), f.opts.Socket, Request{Cmd: CmdStart}); err != nil {
		t.Fatal(err)
	}
	f.waitFor("FAILED again", func(s Status) bool { return s.State == StateFailed && s.Runs == 8 })
	if got := lines(t, filepath.Join(f.dir, "runs")); got != 8 {
		t.Errorf("after start, program ran %d times in all, want 8", got)
	}
}

// With forever, the delay stops growing at backoff-limit units and the
// manager never gives up.
func TestBackoff_Forever(t *testing.T) {
	f := newFixture(t, `exit 1`)
	f.opts.BackoffLimit = 3
	f.opts.Forever = true
	f.start()
	f.waitFor("7 runs", func(s Status) bool { return s.Runs >= 7 })
	got := f.recorded()[:6]
	if want := units(f.opts.Unit, 1, 2, 3, 3, 3, 3); !slices.Equal(got, want) {
		t.Errorf("restart delays %v, want %v", got, want)
	}
}

// A run of at least backoff-limit units resets the count: the restart is
// immediate, and giving up takes backoff-limit short runs again.
func TestBackoff_LongRunResets(t *testing.T) {
	f := newFixture(t, `n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n
if [ $n = 3 ]; then sleep 0.8; fi; exit 1`)
	f.opts.BackoffLimit = 3
	f.start()
	st := f.waitFor("FAILED", func(s Status) bool { return s.State == StateFailed })
	if want := units(f.opts.Unit, 1, 2, 0, 1, 2); !slices.Equal(f.recorded(), want) {
		t.Errorf("restart delays %v, want %v", f.recorded(), want)
	}
	if st.Runs != 6 {
		t.Errorf("runs %d, want 6 (2 short, 1 long, 3 short)", st.Runs)
	}
}

// An exit status in exit-codes stops the manager with that status, even
// with forever; a death by signal never does.
func TestExitCodes(t *testing.T) {
	t.Run("Listed", func(t *testing.T) {
		f := newFixture(t, `echo run >> runs; exit 2`)
		f.opts.Forever = true
		f.start()
		code, err := f.exited()
		if code != 2 || err != nil {
			t.Errorf("Run = %d, %v; want 2, nil", code, err)
		}
		if n := lines(t, filepath.Join(f.dir, "runs")); n != 1 {
			t.Errorf("program ran %d times, want 1", n)
		}
		if _, err := os.Stat(f.opts.Socket); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket left behind after exit: %v", err)
		}
	})
	t.Run("Signal", func(t *testing.T) {
		f := newFixture(t, `echo run >> runs; kill -KILL $$`)
		f.opts.ExitCodes = []int{0, 2, 128 + 9, 9}
		f.start()
		st := f.waitFor("FAILED", func(s Status) bool { return s.State == StateFailed })
		if st.LastExit != "killed by SIGKILL" || st.Runs != 4 {
			t.Errorf("status %+v, want 4 runs killed by SIGKILL", st)
		}
	})
}

// The scripts print their markers quoted (rea''dy) so that the command
// line in the manager's "program started" line does not match them.

// stop: SIGINT first; a program that ignores it gets SIGTERM, then SIGKILL.
func TestStop(t *testing.T) {
	t.Run("SIGINT", func(t *testing.T) {
		f := newFixture(t, `trap 'echo got" "INT; exit 0' INT; echo rea''dy; while :; do sleep 0.05; done`)
		f.start()
		f.waitTranscript("ready")
		r, err := Send(t.Context(), f.opts.Socket, Request{Cmd: CmdStop})
		if err != nil || !r.OK {
			t.Fatalf("stop = %+v, %v", r, err)
		}
		if code, err := f.exited(); code != 0 || err != nil {
			t.Errorf("Run = %d, %v; want 0, nil", code, err)
		}
		if tr := f.transcript(); !strings.Contains(tr, "got INT") || strings.Contains(tr, "escalating") {
			t.Errorf("transcript, want the program's SIGINT and no escalation:\n%s", tr)
		}
	})
	t.Run("Escalates", func(t *testing.T) {
		f := newFixture(t, `trap '' INT TERM; echo rea''dy; while :; do sleep 0.05; done`)
		f.start()
		f.waitTranscript("ready")
		if _, err := Send(t.Context(), f.opts.Socket, Request{Cmd: CmdStop}); err != nil {
			t.Fatal(err)
		}
		if code, err := f.exited(); code != 0 || err != nil {
			t.Errorf("Run = %d, %v; want 0, nil", code, err)
		}
		tr := f.transcript()
		for _, want := range []string{`"signal":"SIGTERM"`, `"signal":"SIGKILL"`, "killed by SIGKILL"} {
			if !strings.Contains(tr, want) {
				t.Errorf("transcript lacks %s:\n%s", want, tr)
			}
		}
	})
}

// kill sends a signal to the program; the reply names it.
func TestKill(t *testing.T) {
	f := newFixture(t, `trap 'echo got" "HUP' HUP; echo rea''dy; while :; do sleep 0.05; done`)
	f.start()
	f.waitTranscript("ready")
	r, err := Send(t.Context(), f.opts.Socket, Request{Cmd: CmdKill, Sig: syscall.SIGHUP})
	if err != nil || !r.OK || r.Status.PID == 0 {
		t.Fatalf("kill HUP = %+v, %v", r, err)
	}
	f.waitTranscript("got HUP")
}

// reopen-transcript after a rename: old output stays in the renamed file,
// new output goes to a new file of the same name.
func TestReopenTranscript(t *testing.T) {
	f := newFixture(t, `i=0; while :; do i=$((i+1)); echo line $i; sleep 0.02; done`)
	f.start()
	f.waitTranscript("line 3")
	old := f.tr.Path() + ".1"
	if err := os.Rename(f.tr.Path(), old); err != nil {
		t.Fatal(err)
	}
	if r, err := Send(t.Context(), f.opts.Socket, Request{Cmd: CmdReopen}); err != nil || !r.OK {
		t.Fatalf("reopen-transcript = %+v, %v", r, err)
	}
	f.waitTranscript("line ")
	b, _ := os.ReadFile(old)
	lastOld := lastLine(string(b), "line ")
	firstNew := firstLine(f.transcript(), "line ")
	if lastOld == 0 || firstNew != lastOld+1 {
		t.Errorf("renamed file ends at line %d, new file starts at line %d; want consecutive", lastOld, firstNew)
	}
	time.Sleep(50 * time.Millisecond)
	b2, _ := os.ReadFile(old)
	if lastLine(string(b2), "line ") != lastOld {
		t.Errorf("the renamed file still grows")
	}
}

func lastLine(s, prefix string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			n, _ = strconv.Atoi(v)
		}
	}
	return n
}

func firstLine(s, prefix string) int {
	for _, l := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// One manager per lock: the second is refused with the first one's pid.
func TestSecondManagerRefused(t *testing.T) {
	f := newFixture(t, `sleep 30`)
	f.start()
	f.waitFor("running", func(s Status) bool { return s.State == StateRunning })
	g := newFixture(t, `sleep 30`)
	g.opts.LockFile = f.opts.LockFile
	_, err := Run(t.Context(), g.opts)
	if !errors.Is(err, ErrManagerRunning) || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("second Run = %v, want ErrManagerRunning naming pid %d", err, os.Getpid())
	}
}

// The control socket: 0600 in a 0700 directory; no socket and a stale
// socket are told apart; a stale one is replaced; one another process
// serves is not taken.
func TestSocket(t *testing.T) {
	f := newFixture(t, `sleep 30`)
	if _, err := Send(t.Context(), f.opts.Socket, Request{Cmd: CmdStatus}); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Send without a manager = %v, want ErrNotRunning", err)
	}
	// A stale socket: bound, nobody listening.
	os.MkdirAll(filepath.Dir(f.opts.Socket), 0o700)
	ln, err := net.Listen("unix", f.opts.Socket)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := Send(t.Context(), f.opts.Socket, Request{Cmd: CmdStatus}); !errors.Is(err, ErrStaleSocket) {
		t.Errorf("Send to a stale socket = %v, want ErrStaleSocket", err)
	}
	f.start()
	f.waitFor("running", func(s Status) bool { return s.State == StateRunning })
	for path, want := range map[string]os.FileMode{f.opts.Socket: 0o600, filepath.Dir(f.opts.Socket): 0o700} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", path, fi.Mode().Perm(), err, want)
		}
	}
	if !strings.Contains(f.transcript(), "removed a stale control socket") {
		t.Errorf("transcript does not say the stale socket was removed:\n%s", f.transcript())
	}
	// Someone else's socket.
	g := newFixture(t, `sleep 30`)
	os.MkdirAll(filepath.Dir(g.opts.Socket), 0o700)
	other, err := net.Listen("unix", g.opts.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := Run(t.Context(), g.opts); !errors.Is(err, ErrSocketInUse) {
		t.Errorf("Run on a served socket = %v, want ErrSocketInUse", err)
	}
	// A request that is not a command gets an error reply.
	c, err := net.Dial("unix", f.opts.Socket)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("frobnicate\n"))
	c.(*net.UnixConn).CloseWrite()
	b := make([]byte, 100)
	n, _ := c.Read(b)
	c.Close()
	if !strings.HasPrefix(string(b[:n]), "error unknown command") {
		t.Errorf("reply to frobnicate = %q", b[:n])
	}
}

// systemd: READY=1 once the program runs, WATCHDOG=1 at half of WATCHDOG_USEC.
func TestNotify(t *testing.T) {
	f := newFixture(t, `sleep 30`)
	sock := filepath.Join(f.dir, "notify")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	env := map[string]string{"NOTIFY_SOCKET": sock, "WATCHDOG_USEC": "100000"}
	f.opts.Getenv = func(k string) string { return env[k] }
	f.start()
	seen := map[string]bool{}
	pc.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 4096)
	for !seen["READY=1"] || !seen["WATCHDOG=1"] {
		n, err := pc.Read(buf)
		if err != nil {
			t.Fatalf("read notifications: %v (seen %v)", err, seen)
		}
		for _, l := range strings.Split(string(buf[:n]), "\n") {
			seen[l] = true
		}
	}
}

// A silent program is warned about once inactivity-timeout passed.
func TestInactivity(t *testing.T) {
	f := newFixture(t, `echo started; sleep 30`)
	f.opts.InactivityTimeout = 200 * time.Millisecond
	f.start()
	f.waitTranscript("no output from the program for longer than inactivity-timeout")
}

// A program that cannot be started is a short run, said in the transcript.
func TestProgramMissing(t *testing.T) {
	f := newFixture(t, "")
	f.opts.Program = []string{"/nonexistent/program"}
	f.start()
	st := f.waitFor("FAILED", func(s Status) bool { return s.State == StateFailed })
	if st.Runs != 4 {
		t.Errorf("runs %d, want 4", st.Runs)
	}
	f.waitTranscript("cannot start program")
}

// The errors a client meets are told apart, each naming the socket.
func TestDialError(t *testing.T) {
	for _, tc := range []struct {
		errno syscall.Errno
		want  error
	}{
		{syscall.ENOENT, ErrNotRunning},
		{syscall.ECONNREFUSED, ErrStaleSocket},
		{syscall.EACCES, ErrPermission},
	} {
		err := dialError("/x/control.sock", &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", tc.errno)})
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), "/x/control.sock") || strings.Contains(err.Error(), "\n") {
			t.Errorf("dialError(%v) = %v, want %v naming the socket on one line", tc.errno, err, tc.want)
		}
	}
}

// At start the manager does slave_cleanup's work on its tmpdirs and says so.
func TestRun_CleansTmpdir(t *testing.T) {
	f := newFixture(t, `sleep 30`)
	tmpdir := filepath.Join(f.dir, "tmp")
	chroot := filepath.Join(tmpdir, "tmpQ1w2")
	os.MkdirAll(filepath.Join(chroot, "etc"), 0o755)
	os.WriteFile(filepath.Join(chroot, TmpdirMarker), nil, 0o644)
	f.opts.Tmpdirs = []string{tmpdir}
	f.start()
	f.waitFor("running", func(s Status) bool { return s.State == StateRunning })
	if _, err := os.Stat(chroot); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left: %v", chroot, err)
	}
	f.waitTranscript("cleanup: removed " + chroot)
}
