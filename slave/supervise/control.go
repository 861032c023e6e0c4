package supervise

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The control socket's protocol, zdaemon's: the client connects to the
// Unix stream socket, writes one command line ending in "\n", half-closes
// and reads the reply to EOF. A reply is "ok[ MESSAGE]" or "error
// MESSAGE" on its first line, then, for status and the commands that
// change it, the status as key=value lines (see [Status]).

// Commands of the control socket.
const (
	CmdStatus   = "status"            // the status
	CmdStop     = "stop"              // stop the program (SIGINT, SIGTERM, SIGKILL) and exit; the reply comes when it is gone
	CmdStart    = "start"             // start the program again after FAILED or during a backoff delay
	CmdKill     = "kill"              // kill SIGNAL: signal the program
	CmdReopen   = "reopen-transcript" // reopen the transcript file by its name
	maxLineSize = 256
)

// Request is one command line of the control socket.
type Request struct {
	Cmd string
	Sig syscall.Signal // for CmdKill
}

// String is the request's command line, without "\n".
func (r Request) String() string {
	if r.Cmd == CmdKill {
		return r.Cmd + " " + SignalName(r.Sig)
	}
	return r.Cmd
}

// ParseRequest reads one command line (without its "\n").
func ParseRequest(line string) (Request, error) {
	if len(line) > maxLineSize {
		return Request{}, fmt.Errorf("command line longer than %d bytes", maxLineSize)
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return Request{}, errors.New("empty command")
	}
	switch f[0] {
	case CmdStatus, CmdStop, CmdStart, CmdReopen:
		if len(f) > 1 {
			return Request{}, fmt.Errorf("%s takes no argument", f[0])
		}
		return Request{Cmd: f[0]}, nil
	case CmdKill:
		if len(f) != 2 {
			return Request{}, errors.New("kill takes one signal")
		}
		sig, err := ParseSignal(f[1])
		if err != nil {
			return Request{}, err
		}
		return Request{Cmd: CmdKill, Sig: sig}, nil
	}
	return Request{}, fmt.Errorf("unknown command %q", f[0])
}

// States of the manager's program in a [Status].
const (
	StateStarting = "starting" // being started
	StateRunning  = "running"  // running
	StateBackoff  = "backoff"  // exited after a short run; restarts after Delay
	StateFailed   = "failed"   // gave up after backoff-limit short runs in a row
	StateStopping = "stopping" // stop: signalled, waiting for it to exit
)

// Status is the manager's state as the control socket reports it.
type Status struct {
	State          string        `json:"state"`
	ManagerPID     int           `json:"manager_pid"`
	ManagerStarted time.Time     `json:"manager_started"`
	PID            int           `json:"pid,omitempty"` // the program's, while it runs
	Started        time.Time     `json:"started,omitzero"`
	Runs           int           `json:"runs"`    // programs started so far
	Backoff        int           `json:"backoff"` // short runs in a row
	BackoffLimit   int           `json:"backoff_limit"`
	Delay          time.Duration `json:"delay_ns"` // the restart delay in StateBackoff
	LastExit       string        `json:"last_exit,omitempty"`
	LastOutput     time.Time     `json:"last_output,omitzero"` // the program's last line in the transcript
	Program        string        `json:"program"`
	Transcript     string        `json:"transcript"`
}

// encode writes s as key=value lines.
func (s Status) encode(w io.Writer) {
	t := func(t time.Time) string {
		if t.IsZero() {
			return "0"
		}
		return strconv.FormatInt(t.UnixNano(), 10)
	}
	fmt.Fprintf(w, "status=%s\nmanager=%d\nmanager_started=%s\npid=%d\nstarted=%s\nruns=%d\nbackoff=%d\nbackofflimit=%d\ndelay=%d\nlast_exit=%s\nlast_output=%s\nprogram=%s\ntranscript=%s\n",
		s.State, s.ManagerPID, t(s.ManagerStarted), s.PID, t(s.Started), s.Runs, s.Backoff, s.BackoffLimit,
		s.Delay, oneLine(s.LastExit), t(s.LastOutput), oneLine(s.Program), oneLine(s.Transcript))
}

func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

// Reply is the manager's answer to a [Request].
type Reply struct {
	OK      bool
	Message string
	Status  *Status // when the reply holds one
}

// ParseReply reads a reply as the manager writes it.
func ParseReply(text string) (Reply, error) {
	first, rest, _ := strings.Cut(text, "\n")
	var r Reply
	switch {
	case first == "ok":
		r.OK = true
	case strings.HasPrefix(first, "ok "):
		r.OK, r.Message = true, first[3:]
	case strings.HasPrefix(first, "error "):
		r.Message = first[6:]
	default:
		return Reply{}, fmt.Errorf("reply %q is neither ok nor error", first)
	}
	if rest == "" {
		return r, nil
	}
	st := &Status{}
	seen := false
	for _, line := range strings.Split(strings.TrimSuffix(rest, "\n"), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return Reply{}, fmt.Errorf("status line %q is not key=value", line)
		}
		var err error
		switch k {
		case "status":
			st.State, seen = v, true
		case "manager":
			st.ManagerPID, err = strconv.Atoi(v)
		case "manager_started":
			st.ManagerStarted, err = parseNano(v)
		case "pid":
			st.PID, err = strconv.Atoi(v)
		case "started":
			st.Started, err = parseNano(v)
		case "runs":
			st.Runs, err = strconv.Atoi(v)
		case "backoff":
			st.Backoff, err = strconv.Atoi(v)
		case "backofflimit":
			st.BackoffLimit, err = strconv.Atoi(v)
		case "delay":
			var n int64
			n, err = strconv.ParseInt(v, 10, 64)
			st.Delay = time.Duration(n)
		case "last_exit":
			st.LastExit = v
		case "last_output":
			st.LastOutput, err = parseNano(v)
		case "program":
			st.Program = v
		case "transcript":
			st.Transcript = v
		default:
			// Unknown keys are a newer manager's: ignored.
		}
		if err != nil {
			return Reply{}, fmt.Errorf("status line %q: %w", line, err)
		}
	}
	if !seen {
		return Reply{}, errors.New("status without a status= line")
	}
	r.Status = st
	return r, nil
}

func parseNano(v string) (time.Time, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	if n == 0 {
		return time.Time{}, nil
	}
	return time.Unix(0, n), nil
}

// Errors of [Send], each a sentence a user can act on (the error names
// the socket).
var (
	// ErrNotRunning: no socket, so no manager.
	ErrNotRunning = errors.New("daemon manager not running")
	// ErrStaleSocket: a socket nobody listens on, left by a manager that
	// was killed (SIGKILL) or crashed; start removes it.
	ErrStaleSocket = errors.New("daemon manager not running, but its socket is left over (killed?); start removes it")
	// ErrPermission: the socket belongs to another user.
	ErrPermission = errors.New("permission denied: run as the user who started the manager, or as root")
)

// Send sends one request to the manager listening on socket and returns
// its reply. Errors wrap ErrNotRunning, ErrStaleSocket or ErrPermission
// when those are the cause. A stop's reply comes once the program is
// gone, so give ctx room.
func Send(ctx context.Context, socket string, req Request) (Reply, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return Reply{}, dialError(socket, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := io.WriteString(c, req.String()+"\n"); err != nil {
		return Reply{}, fmt.Errorf("control socket %s: %w", socket, err)
	}
	c.(*net.UnixConn).CloseWrite()
	b, err := io.ReadAll(io.LimitReader(c, 1<<16))
	if err != nil {
		if ctx.Err() != nil {
			return Reply{}, fmt.Errorf("control socket %s: %w", socket, ctx.Err())
		}
		return Reply{}, fmt.Errorf("control socket %s: %w", socket, err)
	}
	if len(b) == 0 {
		return Reply{}, fmt.Errorf("control socket %s: the manager closed without a reply", socket)
	}
	r, err := ParseReply(string(b))
	if err != nil {
		return Reply{}, fmt.Errorf("control socket %s: %w", socket, err)
	}
	return r, nil
}

func dialError(socket string, err error) error {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w (no socket %s)", ErrNotRunning, socket)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%w: %s", ErrStaleSocket, socket)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("%w (socket %s)", ErrPermission, socket)
	}
	return fmt.Errorf("control socket %s: %w", socket, err)
}

// serveConn reads one request from c and writes handle's reply.
func serveConn(c net.Conn, handle func(Request, error) string) {
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReaderSize(io.LimitReader(c, maxLineSize+1), maxLineSize+1).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		io.WriteString(c, "error no command line\n")
		return
	}
	req, perr := ParseRequest(strings.TrimSuffix(line, "\n"))
	reply := handle(req, perr)
	c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, reply)
}
