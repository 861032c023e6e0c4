package master

import (
	"io"
	"time"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
	"piuparts-server/protocol"
	"piuparts-server/store"
)

// DefaultHolder names the holder of reservations when Config.Holder is
// empty, as when the slave's address is unknown.
const DefaultHolder = "unknown"

// DefaultComputeWait is how long a connection waits for another one that
// computes the same section's states before it answers busy or error.
const DefaultComputeWait = 2 * time.Minute

// IdleTTL is how long an idle stamp stays valid, as in the reference.
const IdleTTL = time.Hour

// Config is what a connection needs; the caller builds it once per process.
type Config struct {
	// Piuparts is the loaded configuration: sections, their archive
	// settings (mirror and arch must be set: see config.Config.ApplyHost)
	// and the [distros.NAME] tables.
	Piuparts *config.Config
	// Dir is the master directory; section directories live under it.
	Dir string
	// DB is the master's database.
	DB *store.DB
	// Tree is the log tree; nil means store.NewLogTree(Dir).
	Tree *store.LogTree
	// Log is the master's log before a section is chosen and for what
	// concerns no section; never the connection's output.
	Log zerolog.Logger
	// OpenLog opens the log file of a section (its log-file, made absolute
	// under Dir); the connection logs there while the section is chosen and
	// closes it on switching. Nil keeps logging to Log.
	OpenLog func(path string) (zerolog.Logger, io.Closer, error)
	// Limits bound command lines and logs (see protocol.Limits). Its
	// IdleTimeout is applied by the caller (protocol.DeadlineReader).
	Limits protocol.Limits
	// Holder names the slave: it holds the reservations this connection
	// makes. Empty means DefaultHolder.
	Holder string
	// Now returns the current time; nil means time.Now. Tests inject it to
	// expire leases without waiting.
	Now func() time.Time
	// ComputeWait bounds the wait for another connection's computation of
	// the same states; zero means DefaultComputeWait.
	ComputeWait time.Duration
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
