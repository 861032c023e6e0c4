package remote

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// Dial connects to the master that o names and reads its greeting: over
// SSH, running o.Command (or ForcedCommand) as o.User, with the host key
// checked against o.KnownHosts; or, for Host "local", by starting
// o.Command here. o.ConnectTimeout and ctx bound the whole; ctx is not
// used after Dial returns.
//
// It returns a *HostKeyError wrapping ErrUnknownHost, ErrChangedHostKey
// or ErrRevokedHostKey for a refused host key; an error wrapping ErrAuth
// when the server refused every key (it also says which key files were
// skipped and why, e.g. a passphrase); one wrapping ErrConnectTimeout
// after o.ConnectTimeout, and ctx.Err() when ctx ended first; ErrNoCommand
// for "local" without a command; one wrapping protocol.ErrNoHello or
// io.ErrUnexpectedEOF when the master did not greet with "hello"; and
// otherwise the error of connecting, reading the known_hosts files or
// starting the command, wrapped with the master's name.
func Dial(ctx context.Context, o Options) (*Client, error) {
	master := o.master()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dial %s: %w", master, err)
	}
	cctx := ctx
	if o.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeoutCause(ctx, o.ConnectTimeout,
			fmt.Errorf("%w after %v", ErrConnectTimeout, o.ConnectTimeout))
		defer cancel()
	}
	var t transport
	if o.Host == LocalHost {
		lt, err := startLocal(&o)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", master, err)
		}
		t = lt
	} else {
		st, err := dialSSH(cctx, &o)
		if err != nil {
			if cctx.Err() != nil {
				err = ctxReason(cctx)
			}
			return nil, fmt.Errorf("dial %s: %w", master, err)
		}
		t = st
	}
	c, err := newClient(cctx, t, master, &o)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", master, err)
	}
	if st, ok := t.(*sshTransport); ok && o.keepAlive() > 0 {
		st.keepAlive(o.keepAlive(), c.abort)
	}
	return c, nil
}

// NewClient returns a Client that talks to a master over conn, for
// example one end of a net.Pipe whose other end a master serves, after it
// read the master's greeting within o.ConnectTimeout and ctx. name is
// what Master returns. Of o, only ConnectTimeout and ReadTimeout are
// used. Close closes conn. It returns the errors of Dial's greeting.
func NewClient(ctx context.Context, conn io.ReadWriteCloser, name string, o Options) (*Client, error) {
	if o.ConnectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, o.ConnectTimeout,
			fmt.Errorf("%w after %v", ErrConnectTimeout, o.ConnectTimeout))
		defer cancel()
	}
	c, err := newClient(ctx, &connTransport{rwc: conn}, name, &o)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", name, err)
	}
	return c, nil
}

// connTransport is a plain io.ReadWriteCloser.
type connTransport struct {
	rwc  io.ReadWriteCloser
	once sync.Once
	err  error
}

func (t *connTransport) Read(p []byte) (int, error)  { return t.rwc.Read(p) }
func (t *connTransport) Write(p []byte) (int, error) { return t.rwc.Write(p) }
func (t *connTransport) kill()                       { t.once.Do(func() { t.err = t.rwc.Close() }) }
func (t *connTransport) close(time.Duration) error {
	t.kill()
	return t.err
}
