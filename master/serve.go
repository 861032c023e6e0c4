package master

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/rs/zerolog"

	"piuparts-server/internal/piuparts"
	"piuparts-server/protocol"
	"piuparts-server/store"
)

// ErrAborted is wrapped by the error Serve returns when it ended the
// connection because of what the client sent: garbage, a command out of
// place, a refused name, input over the limits, a long part cut short.
var ErrAborted = errors.New("master: connection aborted")

// conn is one connection: the protocol streams and the chosen section.
type conn struct {
	cfg    *Config
	db     *store.DB
	cache  *Cache
	r      *protocol.Reader
	w      *protocol.Writer
	log    zerolog.Logger
	logC   io.Closer // the section's log file, if open
	sec    *session  // nil until a section was chosen
	holder string
	// ownCache says the cache is this connection's (Config.Cache was
	// nil): its log follows the connection's.
	ownCache bool
	// unsynced holds the sections whose reserved/ directory got markers
	// that are not synced yet (see syncMarkers).
	unsynced map[string]bool
}

// Serve greets the client with "hello" and answers its commands read from
// in on out until in ends. It returns nil when the input ends cleanly
// between commands; an error wrapping ErrAborted when it ended the
// connection because of the client (see the package documentation; the
// cause is wrapped too, e.g. a *protocol.SyntaxError, a *protocol.LimitError
// or io.ErrUnexpectedEOF); and the error of writing an answer, of ctx, or of
// the storage that made it impossible to answer. Nothing is ever written to
// out but the protocol.
func Serve(ctx context.Context, cfg Config, in io.Reader, out io.Writer) error {
	if cfg.Piuparts == nil || cfg.DB == nil || cfg.DB.Tree() == nil {
		return errors.New("serve: config needs Piuparts and a DB opened with its master directory")
	}
	c := &conn{cfg: &cfg, db: cfg.DB, cache: cfg.Cache, log: cfg.Log, holder: cfg.Holder}
	if c.cache == nil {
		// The connection's own: it logs where the connection logs.
		c.cache = &Cache{Piuparts: cfg.Piuparts, DB: cfg.DB, Log: cfg.Log, Now: cfg.Now}
		c.ownCache = true
	}
	if c.holder == "" {
		c.holder = DefaultHolder
	}
	c.r = protocol.NewReader(bufio.NewReaderSize(in, 64<<10))
	c.r.Limits = cfg.Limits
	c.w = protocol.NewWriter(bufio.NewWriter(out))
	defer c.closeLog()
	defer c.syncMarkers()
	c.log.Debug().Str("slave", c.holder).Msg("connected")
	if err := c.w.WriteHello(); err != nil {
		return fmt.Errorf("greet: %w", err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		cmd, err := c.r.ReadCommand()
		if err == io.EOF {
			c.log.Debug().Str("slave", c.holder).Msg("disconnected")
			return nil
		}
		if err != nil {
			return c.abort(fmt.Errorf("read command: %w", err))
		}
		c.log.Debug().Str("command", piuparts.Cut(cmd.String())).Msg(">>")
		if err := cmd.Validate(); err != nil {
			return c.abort(err)
		}
		if c.sec == nil && cmd.Keyword != protocol.CmdSection {
			return c.abort(fmt.Errorf("expected section command, got %q", piuparts.Cut(cmd.Keyword)))
		}
		if err := c.dispatch(ctx, cmd); err != nil {
			if errors.Is(err, ErrAborted) {
				return c.abort(err)
			}
			c.log.Error().Err(err).Str("command", piuparts.Cut(cmd.String())).Msg("ABORT")
			return err
		}
	}
}

// abort logs why the connection ends and returns err wrapped in ErrAborted.
func (c *conn) abort(err error) error {
	if !errors.Is(err, ErrAborted) {
		err = fmt.Errorf("%w: %w", ErrAborted, err)
	}
	c.log.Error().Err(err).Str("slave", c.holder).Msg("ABORT")
	return err
}

// dispatch runs one valid command.
func (c *conn) dispatch(ctx context.Context, cmd protocol.Command) error {
	switch cmd.Keyword {
	case protocol.CmdSection:
		return c.cmdSection(ctx, cmd.Args[0])
	case protocol.CmdRecycle:
		return c.cmdRecycle(ctx)
	case protocol.CmdIdle:
		return c.cmdIdle(ctx)
	case protocol.CmdStatus:
		return c.cmdStatus(ctx)
	case protocol.CmdReserve:
		return c.cmdReserve(ctx)
	case protocol.CmdUnreserve:
		return c.cmdUnreserve(ctx, cmd.Args[0], cmd.Args[1])
	case protocol.CmdPass:
		return c.cmdSubmit(ctx, store.KindPass, cmd.Args[0], cmd.Args[1])
	case protocol.CmdFail:
		return c.cmdSubmit(ctx, store.KindFail, cmd.Args[0], cmd.Args[1])
	case protocol.CmdUntestable:
		return c.cmdSubmit(ctx, store.KindUntestable, cmd.Args[0], cmd.Args[1])
	case protocol.CmdDebugState, protocol.CmdDebugDepends, protocol.CmdDebugRecDepends,
		protocol.CmdDebugDepCycle, protocol.CmdDebugList:
		return c.cmdDebug(ctx, cmd.Keyword, cmd.Args[0])
	}
	// Validate knows no other command.
	return fmt.Errorf("%w: unknown command %q", ErrAborted, piuparts.Cut(cmd.Keyword))
}

// ok, fail and busy write an answer and log it.
func (c *conn) ok(args ...string) error {
	if len(args) <= 12 {
		c.log.Debug().Strs("answer", args).Msg("<< ok")
	} else {
		c.log.Debug().Int("words", len(args)).Msg("<< ok")
	}
	return c.w.WriteOK(args...)
}

func (c *conn) fail() error {
	c.log.Debug().Msg("<< error")
	return c.w.WriteError()
}

func (c *conn) busy() error {
	c.log.Debug().Msg("<< busy")
	return c.w.WriteBusy()
}

// switchLog logs to the section's log file from now on.
func (c *conn) switchLog(path string) {
	if c.cfg.OpenLog == nil {
		return
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(c.db.Tree().Root(), path)
	}
	l, closer, err := c.cfg.OpenLog(path)
	if err != nil {
		c.log.Error().Err(err).Str("file", path).Msg("cannot open section log, keeping this one")
		return
	}
	c.closeLog()
	c.log, c.logC = l, closer
	if c.ownCache {
		c.cache.Log = l
	}
}

func (c *conn) closeLog() {
	if c.logC != nil {
		c.logC.Close()
		c.logC = nil
		c.log = c.cfg.Log
		if c.ownCache {
			c.cache.Log = c.log
		}
	}
}
