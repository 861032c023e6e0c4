package slave

import "sync"

// Control carries the operator's signals to running workers: the command
// calls Stop on SIGINT, Flush on SIGHUP and Restart on SIGUSR1. Each
// worker notices a signal once, at the next point where the reference's
// slave would. The zero value is not usable; call NewControl.
type Control struct {
	mu      sync.Mutex
	stop    bool
	flush   int
	restart bool
	wake    chan struct{}
}

// NewControl returns a Control with no signal pending.
func NewControl() *Control { return &Control{wake: make(chan struct{})} }

// Stop asks the workers to finish the test they run, ship the finished
// logs, unreserve what they have not tested and return.
func (c *Control) Stop() { c.signal(func() { c.stop = true }) }

// Flush asks the workers to ship their finished logs now, between two tests.
func (c *Control) Flush() { c.signal(func() { c.flush++ }) }

// Restart asks the workers to ship their finished logs and return
// ErrRestart, so that the program can start again with a new binary or
// config.
func (c *Control) Restart() {
	c.signal(func() {
		c.restart = true
		c.flush++
	})
}

func (c *Control) signal(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f()
	close(c.wake)
	c.wake = make(chan struct{})
}

// snapshot is what a worker sees of the Control at one moment.
type snapshot struct {
	stop    bool
	flush   int
	restart bool
	wake    <-chan struct{} // closed at the next signal
}

func (c *Control) now() snapshot {
	c.mu.Lock()
	defer c.mu.Unlock()
	return snapshot{stop: c.stop, flush: c.flush, restart: c.restart, wake: c.wake}
}
