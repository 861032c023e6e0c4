package runner

import (
	"errors"
	"strconv"
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrNoArch is a section without arch: call config.Config.ApplyHost
	// or set arch.
	ErrNoArch = errors.New("runner: section has no arch")
	// ErrNoCommand is a section whose piuparts-command is empty.
	ErrNoCommand = errors.New("runner: section has no piuparts-command")
	// ErrNoDistro is a section with neither distro nor
	// upgrade-test-distros, for which there is no archive to load.
	ErrNoDistro = errors.New("runner: section has no distro")
	// ErrTarballBusy is returned by [EnsureTarball] when another process
	// holds the lock on TARBALL.log: a creation is already in progress.
	ErrTarballBusy = errors.New("runner: tarball creation already in progress")
	// ErrTarballNotCreated is returned by [EnsureTarball] when piuparts
	// ended without writing TARBALL.new; TARBALL.log says why.
	ErrTarballNotCreated = errors.New("runner: tarball not created")
)

// quote quotes outside input for an error message, cut to its first 80
// bytes.
func quote(s string) string {
	if len(s) > 80 {
		s = s[:80]
	}
	return strconv.Quote(s)
}
