package master

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"
	"time"

	"piuparts-server/internal/config"
	"piuparts-server/protocol"
)

// LimitsFor returns the protocol limits the [global] table sets:
// max-command-line, max-log-size and read-idle-timeout.
func LimitsFor(g *config.Global) protocol.Limits {
	return protocol.Limits{
		MaxLine:     g.MaxCommandLine,
		MaxLongPart: int64(g.MaxLogSize),
		IdleTimeout: g.ReadIdle(),
	}
}

// Session is one forced-command session's bounded input and output:
// reads end after read-idle-timeout without a byte, writes after
// write-timeout, and both, and Ctx, at session-timeout.
type Session struct {
	// Ctx ends at session-timeout with protocol.ErrSessionTimeout as
	// its cause.
	Ctx context.Context
	// In and Out are the bounded stdin and stdout; they are the
	// arguments themselves when those are not files that can take
	// deadlines (pipes and sockets can, terminals and regular files not).
	In  io.Reader
	Out io.Writer

	done []func()
}

// BoundSession bounds a session on stdin and stdout as the [global]
// table says, starting now. Close undoes it.
func BoundSession(ctx context.Context, g *config.Global, now time.Time, stdin io.Reader, stdout io.Writer) *Session {
	end := now.Add(g.SessionTimeout)
	ctx, cancel := context.WithDeadlineCause(ctx, end, protocol.ErrSessionTimeout)
	s := &Session{Ctx: ctx, In: stdin, Out: stdout, done: []func(){cancel}}
	if f, ok := stdin.(*os.File); ok {
		if nf, restore, ok := protocol.DeadlineFile(f); ok {
			s.done = append(s.done, restore)
			s.In = &protocol.DeadlineReader{R: nf, Idle: g.ReadIdle(), Deadline: end}
		}
	}
	if f, ok := stdout.(*os.File); ok {
		if nf, restore, ok := protocol.DeadlineFile(f); ok {
			s.done = append(s.done, restore)
			s.Out = &protocol.DeadlineWriter{W: nf, Timeout: g.WriteTimeout, Deadline: end}
		}
	}
	return s
}

// Close gives stdin and stdout back as they were and releases the
// session's context.
func (s *Session) Close() {
	for i := len(s.done) - 1; i >= 0; i-- {
		s.done[i]()
	}
}

// ReasonGone is the EndReason of a client that closed the connection.
const ReasonGone = "client went away"

// EndReason says in a few words why a session ended with err, for the
// master's log.
func EndReason(err error) string {
	switch {
	case errors.Is(err, protocol.ErrSessionTimeout):
		return "session timeout"
	case errors.Is(err, protocol.ErrIdleTimeout):
		return "idle timeout"
	case errors.Is(err, protocol.ErrWriteTimeout):
		return "write timeout"
	case errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNRESET):
		return ReasonGone
	case errors.Is(err, context.Canceled):
		return "signal"
	}
	return "error"
}
