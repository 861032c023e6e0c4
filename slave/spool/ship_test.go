package spool_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"piuparts-server/slave/spool"
)

// fakeClock returns base, base+250ms, base+500ms, ...: each call a quarter
// second later.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	t := base
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now := t
		t = t.Add(250 * time.Millisecond)
		return now
	}
}

// recorder is a send that keeps what it got, and fails for the names in
// fail.
type recorder struct {
	got  []string // "result/name_version:content"
	fail map[string]error
}

func (r *recorder) send(ctx context.Context, e spool.Entry, rd io.Reader) error {
	if err := r.fail[e.Name]; err != nil {
		return err
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	r.got = append(r.got, e.Result+"/"+spool.LogName(e.Name, e.Version)+":"+string(b))
	return nil
}

func shipLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return []string{}
	}
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

func TestSpool_Ship(t *testing.T) {
	shipLog := filepath.Join(t.TempDir(), "shipping.log")
	s := openSpool(t, spool.Options{Master: "piupartsm@master:22", ShipLog: shipLog, Now: fakeClock()})
	writeFile(t, s, "pass/aaa_1.0.log", "pass log\n", 3)
	writeFile(t, s, "fail/bbb_2:1.0-1.log", "fail log\n", 1)
	writeFile(t, s, "untestable/ccc_None.log", "untestable log\n", 2)
	writeFile(t, s, "pass/aaa_1.0.log.tmp", "foreign", 0)
	writeFile(t, s, "reserved/ddd_1.0.log", "", 0)

	r := &recorder{}
	n, err := s.Ship(t.Context(), r.send)
	if n != 3 || err != nil {
		t.Fatalf("Ship = %d, %v, want 3, nil", n, err)
	}
	want := []string{"fail/bbb_2:1.0-1.log:fail log\n", "untestable/ccc_None.log:untestable log\n", "pass/aaa_1.0.log:pass log\n"}
	if !slices.Equal(r.got, want) {
		t.Errorf("sent %q, want %q (oldest first)", r.got, want)
	}
	if got := mustFinished(t, s); len(got) != 0 {
		t.Errorf("Finished() after Ship = %q, want nothing", got)
	}
	if got, want := dirNames(t, s, "pass"), []string{"aaa_1.0.log.tmp"}; !slices.Equal(got, want) {
		t.Errorf("pass/ after Ship holds %q, want the foreign file only", got)
	}
	if got, want := mustReserved(t, s), []string{"reserved/ddd_1.0.log"}; !slices.Equal(got, want) {
		t.Errorf("Reserved() after Ship = %q, want %q", got, want)
	}
	wantLines := []string{
		"2024-05-01T12:00:00Z\tpiupartsm@master:22\tsid\tbbb\t2:1.0-1\tfail\t9\t0.250\n",
		"2024-05-01T12:00:00Z\tpiupartsm@master:22\tsid\tccc\tNone\tuntestable\t15\t0.250\n",
		"2024-05-01T12:00:01Z\tpiupartsm@master:22\tsid\taaa\t1.0\tpass\t9\t0.250\n",
	}
	if got := shipLines(t, shipLog); !slices.Equal(got, wantLines) {
		t.Errorf("shipping log = %q, want %q", got, wantLines)
	}

	// Nothing left: nothing sent.
	n, err = s.Ship(t.Context(), r.send)
	if n != 0 || err != nil || len(r.got) != 3 {
		t.Errorf("second Ship = %d, %v after %d sends, want 0, nil, 3", n, err, len(r.got))
	}
}

func TestSpool_Ship_FailsMidway(t *testing.T) {
	shipLog := filepath.Join(t.TempDir(), "shipping.log")
	s := openSpool(t, spool.Options{ShipLog: shipLog, Now: fakeClock()})
	writeFile(t, s, "pass/first_1.0.log", "1\n", 1)
	writeFile(t, s, "fail/second_1.0.log", "2\n", 2)
	writeFile(t, s, "pass/third_1.0.log", "3\n", 3)
	errMaster := errors.New("master did not answer ok")
	r := &recorder{fail: map[string]error{"second": errMaster}}

	n, err := s.Ship(t.Context(), r.send)
	if n != 1 || !errors.Is(err, errMaster) {
		t.Fatalf("Ship = %d, %v, want 1, %v", n, err, errMaster)
	}
	if !strings.Contains(err.Error(), "fail/second_1.0.log") {
		t.Errorf("error %q does not name the log fail/second_1.0.log", err)
	}
	if got, want := mustFinished(t, s), []string{"fail/second_1.0.log", "pass/third_1.0.log"}; !slices.Equal(got, want) {
		t.Errorf("Finished() = %q, want %q", got, want)
	}
	lines := shipLines(t, shipLog)
	if len(lines) != 1 || !strings.Contains(lines[0], "\tfirst\t1.0\tpass\t2\t") {
		t.Errorf("shipping log = %q, want one line for first", lines)
	}

	// Next time the master answers: the rest goes.
	r.fail = nil
	n, err = s.Ship(t.Context(), r.send)
	if n != 2 || err != nil {
		t.Fatalf("Ship again = %d, %v, want 2, nil", n, err)
	}
	want := []string{"pass/first_1.0.log:1\n", "fail/second_1.0.log:2\n", "pass/third_1.0.log:3\n"}
	if !slices.Equal(r.got, want) {
		t.Errorf("sent %q, want %q", r.got, want)
	}
	if got := shipLines(t, shipLog); len(got) != 3 {
		t.Errorf("shipping log has %d lines, want 3", len(got))
	}
}

func TestSpool_Ship_PartialRead(t *testing.T) {
	errCut := errors.New("connection lost")
	tests := []struct {
		name    string
		ret     error
		wantErr error
	}{
		{"ReturnsError", errCut, errCut},
		{"ReturnsNil", nil, spool.ErrIncomplete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shipLog := filepath.Join(t.TempDir(), "shipping.log")
			s := openSpool(t, spool.Options{ShipLog: shipLog})
			data := strings.Repeat("a log line\n", 1000)
			writeFile(t, s, "fail/hello_1.0.log", data, 0)
			half := func(ctx context.Context, e spool.Entry, r io.Reader) error {
				if _, err := io.CopyN(io.Discard, r, e.Size/2); err != nil {
					return err
				}
				return tt.ret
			}
			n, err := s.Ship(t.Context(), half)
			if n != 0 || !errors.Is(err, tt.wantErr) {
				t.Fatalf("Ship = %d, %v, want 0, %v", n, err, tt.wantErr)
			}
			if got := readFile(t, filepath.Join(s.Dir(), "fail", "hello_1.0.log")); got != data {
				t.Errorf("log changed to %d bytes, want it kept whole (%d)", len(got), len(data))
			}
			if got := shipLines(t, shipLog); len(got) != 0 {
				t.Errorf("shipping log = %q, want nothing", got)
			}
		})
	}
}

// countWriter counts the bytes written to it.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

func TestSpool_Ship_Large(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 50 MiB log")
	}
	const size = 50 << 20
	s := openSpool(t, spool.Options{})
	l, err := s.Create("bigpackage", "1.0-1")
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(strings.Repeat("x", 1023) + "\n")
	for i := 0; i < size/len(line); i++ {
		if _, err := l.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit("fail"); err != nil {
		t.Fatal(err)
	}

	var cw countWriter
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	n, err := s.Ship(t.Context(), func(ctx context.Context, e spool.Entry, r io.Reader) error {
		if e.Size != size {
			return fmt.Errorf("entry size %d, want %d", e.Size, size)
		}
		_, err := io.Copy(io.Discard, io.TeeReader(r, &cw))
		return err
	})
	runtime.ReadMemStats(&after)
	if n != 1 || err != nil {
		t.Fatalf("Ship = %d, %v, want 1, nil", n, err)
	}
	if cw.n != size {
		t.Errorf("send read %d bytes, want %d", cw.n, size)
	}
	// Streaming: far less allocated than the log's size.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > size/4 {
		t.Errorf("Ship allocated %d bytes for a %d-byte log, want it streamed", alloc, size)
	}
}

func TestSpool_Ship_Busy(t *testing.T) {
	t.Run("LockHeldByAnotherSpool", func(t *testing.T) {
		s := openSpool(t, spool.Options{})
		writeFile(t, s, "pass/hello_1.0.log", "log\n", 0)
		other := reopen(t, s)
		release, err := other.Lock()
		if err != nil {
			t.Fatal(err)
		}
		r := &recorder{}
		if n, err := s.Ship(t.Context(), r.send); n != 0 || !errors.Is(err, spool.ErrBusy) {
			t.Errorf("Ship while locked = %d, %v, want 0, %v", n, err, spool.ErrBusy)
		}
		if len(r.got) != 0 {
			t.Errorf("sent %q while locked, want nothing", r.got)
		}
		release()
		if n, err := s.Ship(t.Context(), r.send); n != 1 || err != nil {
			t.Errorf("Ship after release = %d, %v, want 1, nil", n, err)
		}
	})
	t.Run("LockHeldBySameSpool", func(t *testing.T) {
		s := openSpool(t, spool.Options{})
		writeFile(t, s, "pass/hello_1.0.log", "log\n", 0)
		release, err := s.Lock()
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		r := &recorder{}
		if n, err := s.Ship(t.Context(), r.send); n != 1 || err != nil {
			t.Errorf("Ship under its own Lock = %d, %v, want 1, nil", n, err)
		}
		// Still held after Ship: another Spool is refused.
		if _, err := reopen(t, s).Lock(); !errors.Is(err, spool.ErrBusy) {
			t.Errorf("Lock of another Spool after Ship = %v, want %v", err, spool.ErrBusy)
		}
	})
	t.Run("ConcurrentShips", func(t *testing.T) {
		for _, same := range []bool{true, false} {
			t.Run(fmt.Sprintf("SameSpool=%v", same), func(t *testing.T) {
				s := openSpool(t, spool.Options{})
				writeFile(t, s, "pass/hello_1.0.log", "log\n", 0)
				s2 := s
				if !same {
					s2 = reopen(t, s)
				}
				inSend, proceed := make(chan struct{}), make(chan struct{})
				done := make(chan error, 1)
				go func() {
					_, err := s.Ship(t.Context(), func(ctx context.Context, e spool.Entry, r io.Reader) error {
						close(inSend)
						<-proceed
						_, err := io.Copy(io.Discard, r)
						return err
					})
					done <- err
				}()
				<-inSend
				r := &recorder{}
				n, err := s2.Ship(t.Context(), r.send)
				close(proceed)
				if n != 0 || !errors.Is(err, spool.ErrBusy) {
					t.Errorf("second Ship = %d, %v, want 0, %v", n, err, spool.ErrBusy)
				}
				if len(r.got) != 0 {
					t.Errorf("second Ship sent %q, want nothing", r.got)
				}
				if err := <-done; err != nil {
					t.Errorf("first Ship: %v", err)
				}
			})
		}
	})
}

func TestSpool_Ship_Canceled(t *testing.T) {
	s := openSpool(t, spool.Options{})
	writeFile(t, s, "pass/hello_1.0.log", "log\n", 0)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := &recorder{}
	if n, err := s.Ship(ctx, r.send); n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Ship with a canceled context = %d, %v, want 0, %v", n, err, context.Canceled)
	}
	if len(r.got) != 0 || len(mustFinished(t, s)) != 1 {
		t.Errorf("sent %q, want nothing sent and the log kept", r.got)
	}
}

func TestSpool_Ship_Crash(t *testing.T) {
	tests := []struct {
		step         string
		wantN        int
		wantFinished []string
	}{
		// The master has the log, but the slave did not remove it: it
		// is sent again (at least once).
		{"sent", 0, []string{"pass/hello_1.0.log"}},
		{"removed", 1, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			shipLog := filepath.Join(t.TempDir(), "shipping.log")
			s := openSpool(t, spool.Options{ShipLog: shipLog})
			writeFile(t, s, "pass/hello_1.0.log", "log\n", 0)
			spool.SetHook(s, crashAt(tt.step))
			r := &recorder{}
			n, err := s.Ship(t.Context(), r.send)
			if n != tt.wantN || !errors.Is(err, errCrash) {
				t.Fatalf("Ship = %d, %v, want %d, %v", n, err, tt.wantN, errCrash)
			}
			if got := mustFinished(t, reopen(t, s)); !slices.Equal(got, tt.wantFinished) {
				t.Errorf("Finished() after restart = %q, want %q", got, tt.wantFinished)
			}
		})
	}
}

func TestSpool_Ship_SharedLog(t *testing.T) {
	shipLog := filepath.Join(t.TempDir(), "shipping.log")
	root := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for _, section := range []string{"sid", "trixie", "bookworm", "bookworm2trixie"} {
		s, err := spool.Open(filepath.Join(root, section), spool.Options{ShipLog: shipLog, Master: "local"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 25 {
			writeFile(t, s, fmt.Sprintf("pass/pkg%d_1.0.log", i), "log\n", i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Ship(t.Context(), (&recorder{}).send)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Ship: %v", err)
		}
	}
	lines := shipLines(t, shipLog)
	if len(lines) != 100 {
		t.Fatalf("shipping log has %d lines, want 100", len(lines))
	}
	for _, l := range lines {
		if f := strings.Split(strings.TrimSuffix(l, "\n"), "\t"); len(f) != 8 || f[1] != "local" {
			t.Errorf("shipping log line %q, want 8 tab-separated fields with master local", l)
		}
	}
}

func TestSpool_Ship_LinkNotShipped(t *testing.T) {
	s := openSpool(t, spool.Options{})
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(s.Dir(), "pass", "hello_1.0.log")); err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	if n, err := s.Ship(t.Context(), r.send); n != 0 || err != nil || len(r.got) != 0 {
		t.Errorf("Ship = %d, %v, sent %q, want 0, nil, nothing", n, err, r.got)
	}
}
