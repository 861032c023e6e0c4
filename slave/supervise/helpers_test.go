package supervise

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestMain lets the test binary be the manager's keeper, as
// piuparts-slave's main does.
func TestMain(m *testing.M) {
	if IsKeeper() {
		os.Exit(Keeper(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fixture is a manager under test, run in this process.
type fixture struct {
	t      *testing.T
	dir    string
	opts   Options
	tr     *Transcript
	mu     sync.Mutex
	delays []time.Duration
	done   chan struct{}
	code   int
	err    error
}

// newFixture prepares options for program (a shell script) with a short
// unit; the backoff delays the manager asks for are recorded and pass at
// once.
func newFixture(t *testing.T, script string) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, dir: dir, done: make(chan struct{})}
	tr, err := OpenTranscript(filepath.Join(dir, "transcript.log"), nil, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	f.tr = tr
	f.opts = Options{
		Program:      []string{"/bin/sh", "-c", script},
		Socket:       filepath.Join(dir, "sock", "control.sock"),
		LockFile:     filepath.Join(dir, "supervise.lock"),
		Directory:    dir,
		BackoffLimit: 4,
		Unit:         200 * time.Millisecond,
		ExitCodes:    []int{0, 2},
		Transcript:   tr,
		StopTimeout:  300 * time.Millisecond,
		Self:         os.Args[0],
		// The keeper is this test binary: under -race it would sleep a
		// second at exit.
		Env:    append(os.Environ(), "GORACE=atexit_sleep_ms=0"),
		Log:    zerolog.New(tr),
		Getenv: func(string) string { return "" },
		After: func(d time.Duration) <-chan time.Time {
			f.mu.Lock()
			f.delays = append(f.delays, d)
			f.mu.Unlock()
			return time.After(0)
		},
	}
	return f
}

// start runs the manager until the test ends.
func (f *fixture) start() {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(f.done)
		f.code, f.err = Run(ctx, f.opts)
	}()
	f.t.Cleanup(func() {
		cancel()
		<-f.done
	})
}

// wait waits until the manager's status satisfies ok, or it exits.
func (f *fixture) waitFor(what string, ok func(Status) bool) Status {
	f.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-f.done:
			f.t.Fatalf("waiting for %s: the manager exited: %d, %v\n%s", what, f.code, f.err, f.transcript())
		default:
		}
		r, err := Send(f.t.Context(), f.opts.Socket, Request{Cmd: CmdStatus})
		if err == nil && r.Status != nil && ok(*r.Status) {
			return *r.Status
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.t.Fatalf("waiting for %s: timed out\n%s", what, f.transcript())
	return Status{}
}

// exited waits for Run to return.
func (f *fixture) exited() (int, error) {
	f.t.Helper()
	select {
	case <-f.done:
		return f.code, f.err
	case <-time.After(20 * time.Second):
		f.t.Fatalf("the manager did not exit\n%s", f.transcript())
	}
	return 0, nil
}

func (f *fixture) transcript() string {
	b, _ := os.ReadFile(f.tr.Path())
	return string(b)
}

// waitTranscript waits until the transcript holds s.
func (f *fixture) waitTranscript(s string) {
	f.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(f.transcript(), s) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.t.Fatalf("transcript lacks %q:\n%s", s, f.transcript())
}

func (f *fixture) recorded() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.delays...)
}

func units(u time.Duration, n ...int) []time.Duration {
	out := make([]time.Duration, len(n))
	for i, k := range n {
		out[i] = time.Duration(k) * u
	}
	return out
}

func lines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}
