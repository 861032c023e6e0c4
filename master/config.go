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

// IdleTTL is how long an idle stamp stays valid, as in the reference.
const IdleTTL = time.Hour

// Config is what a connection needs; the caller builds it once per process.
type Config struct {
	// Piuparts is the loaded configuration: sections, their archive
	// settings (mirror and arch must be set: see config.Config.ApplyHost)
	// and the [distros.NAME] tables.
	Piuparts *config.Config
	// DB is the master's store, opened with its master directory
	// (store.OpenMaster): the database and the log tree.
	DB *store.DB
	// Cache is the state cache; nil means one built from Piuparts, DB and
	// Log for this connection.
	Cache *Cache
	// Committer, when set, commits the connection's logs in groups with
	// other connections' (a long-lived process: see Server); nil commits
	// each log alone.
	Committer *Committer
	// Log is the master's log before a section is chosen and for what
	// concerns no section; never the connection's output.
	Log zerolog.Logger
	// OpenLog opens the log file of a section (its log-file, made absolute
	// under the master directory); the connection logs there while the
	// section is chosen and closes it on switching. Nil keeps logging to
	// Log.
	OpenLog func(path string) (zerolog.Logger, io.Closer, error)
	// Limits bound command lines and logs (see protocol.Limits). Its
	// IdleTimeout is applied to the input by BoundSession; LimitsFor
	// builds them from the [global] table.
	Limits protocol.Limits
	// Holder names the slave: it holds the reservations this connection
	// makes. Empty means DefaultHolder.
	Holder string
	// Identified says Holder is the slave's identity (--slave-id), not a
	// guess: its reservations are then its own (another slave's unreserve
	// is refused) and limited by the section's max-reserved-per-slave.
	// Without it, reservations behave as the reference's.
	Identified bool
	// Now returns the current time; nil means time.Now. Tests inject it to
	// expire leases without waiting.
	Now func() time.Time
}

func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
