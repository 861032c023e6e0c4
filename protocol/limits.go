package protocol

import "time"

// Defaults for Limits. A zero field in Limits means its default.
const (
	// DefaultMaxLine is the longest command or response line, in bytes
	// without its "\n". Real commands are far shorter (bookworm's longest
	// package name is 75 bytes, its longest version 52); answers to the
	// debug command _list can be longer and need a larger MaxLine.
	DefaultMaxLine = 4096
	// DefaultMaxLongPart is the largest long-part payload (a piuparts log),
	// in bytes after the leading spaces are removed: 100 MiB, the config's
	// max-log-size default. The largest piuparts logs are a few tens of MiB.
	DefaultMaxLongPart int64 = 100 << 20
	// DefaultIdleTimeout is a suggested idle timeout for reads, the config's
	// read-idle-timeout default: the reference runs each master session
	// under "timeout 15m", and Debian's master may spend minutes parsing
	// Packages files before it answers reserve or status.
	DefaultIdleTimeout = 15 * time.Minute
)

// Limits bounds what a Reader accepts. The Reader checks MaxLine and
// MaxLongPart while it reads, before it allocates memory for the data;
// a violation is a *LimitError. A zero or negative field means its default.
type Limits struct {
	// MaxLine is the longest command or response line in bytes, without
	// its "\n". Long-part lines have no length limit of their own: they
	// are streamed and count towards MaxLongPart.
	MaxLine int
	// MaxLongPart is the largest payload of one long part in bytes,
	// counting each line's "\n" but not its leading space.
	MaxLongPart int64
	// IdleTimeout is for the caller, which applies it as a read deadline
	// (see DeadlineReader); the Reader itself does not use it.
	IdleTimeout time.Duration
}

// DefaultLimits returns Limits with every field at its default.
func DefaultLimits() Limits {
	return Limits{
		MaxLine:     DefaultMaxLine,
		MaxLongPart: DefaultMaxLongPart,
		IdleTimeout: DefaultIdleTimeout,
	}
}

func (l Limits) maxLine() int {
	if l.MaxLine <= 0 {
		return DefaultMaxLine
	}
	return l.MaxLine
}

func (l Limits) maxLongPart() int64 {
	if l.MaxLongPart <= 0 {
		return DefaultMaxLongPart
	}
	return l.MaxLongPart
}
