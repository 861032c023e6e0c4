package master_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"piuparts-server/master"
	"piuparts-server/store"
)

// TestCache_WaitersTakeOneComputation: while one process computes a
// section's states (it holds the compute lock) and logs keep arriving, 32
// connections that find the states stale wait for that one computation and
// take its states: none computes again after it, so none waits for more
// than the computation in progress (the old code made each waiter compute
// once more, one after the other, because a log had arrived meanwhile).
func TestCache_WaitersTakeOneComputation(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	computer := &master.Cache{Piuparts: e.pc, DB: e.db, Log: zerolog.Nop()}
	if _, err := computer.Refresh(ctx, "sid", false); err != nil {
		t.Fatal(err)
	}
	// A new log makes the stored states stale.
	if _, err := e.db.Submit(ctx, store.Incoming{Section: "sid", Result: store.KindPass, Package: "hello", Version: "2.10-3", At: time.Now()},
		bytes.NewReader([]byte("log\n"))); err != nil {
		t.Fatal(err)
	}
	// Another process is computing: it holds the lock.
	unlock, ok, err := e.db.Tree().TryLockCompute("sid")
	if err != nil || !ok {
		t.Fatalf("TryLockCompute = %v, %v", ok, err)
	}
	before, err := e.db.Section(ctx, "sid")
	if err != nil {
		t.Fatal(err)
	}
	const waiters = 32
	var wg sync.WaitGroup
	results := make(chan master.Fresh, waiters)
	errs := make(chan error, waiters)
	started := make(chan struct{}, waiters)
	for range waiters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &master.Cache{Piuparts: e.pc, DB: e.db, Log: zerolog.Nop()}
			master.SetOnWait(c, func() { started <- struct{}{} })
			f, err := c.Refresh(ctx, "sid", false)
			results <- f
			errs <- err
		}()
	}
	for range waiters {
		<-started
	}
	// The other process computes (as a computation under the lock would:
	// the states it stores count as one computation), and meanwhile
	// another log arrives, so its states are already stale when stored.
	if err := e.db.SetStates(ctx, "sid", "computed by the other process", false, time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Submit(ctx, store.Incoming{Section: "sid", Result: store.KindPass, Package: "libc6", Version: "2.36-9+deb12u4", At: time.Now()},
		bytes.NewReader([]byte("log\n"))); err != nil {
		t.Fatal(err)
	}
	unlock()
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for f := range results {
		if f.Result != nil {
			t.Errorf("a waiter computed the states again after the computation it waited for")
		}
	}
	after, err := e.db.Section(ctx, "sid")
	if err != nil {
		t.Fatal(err)
	}
	if n := after.StatesSeq - before.StatesSeq; n != 1 {
		t.Errorf("%d computations stored while 32 connections waited, want the one in progress", n)
	}
	// The next connection, which waited for nothing, brings the states up
	// to date.
	f, err := computer.Refresh(ctx, "sid", false)
	if err != nil || f.Result == nil {
		t.Errorf("Refresh after the wait = %v, computed %t; want a computation", err, f.Result != nil)
	}
}
