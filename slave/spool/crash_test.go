package spool_test

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"piuparts-server/slave/spool"
)

var errCrash = errors.New("simulated crash")

// crashAt returns a hook that stops at step.
func crashAt(step string) func(string) error {
	return func(s string) error {
		if s == step {
			return errCrash
		}
		return nil
	}
}

// TestCrash_Commit stops Commit between its steps and checks what a
// restarted slave sees: the reservation to test again or the finished log
// to ship, never both, and never a partial finished log.
func TestCrash_Commit(t *testing.T) {
	const log = "Start\nlots of output\nEnd\n"
	tests := []struct {
		step         string
		wantReserved []string
		wantFinished []string
	}{
		{"synced", []string{"reserved/hello_2.10-3.log"}, []string{}},
		{"renamed", []string{}, []string{"fail/hello_2.10-3.log"}},
		{"dirsynced", []string{}, []string{"fail/hello_2.10-3.log"}},
		{"none", []string{}, []string{"fail/hello_2.10-3.log"}},
	}
	for _, tt := range tests {
		t.Run(tt.step, func(t *testing.T) {
			s := openSpool(t, spool.Options{})
			spool.SetHook(s, crashAt(tt.step))
			if err := s.Reserve("hello", "2.10-3"); err != nil {
				t.Fatal(err)
			}
			l, err := s.Create("hello", "2.10-3")
			if err != nil {
				t.Fatal(err)
			}
			l.Write([]byte(log))
			err = l.Commit("fail")
			if wantErr := tt.step != "none"; (err != nil) != wantErr || (wantErr && !errors.Is(err, errCrash)) {
				t.Fatalf("Commit = %v, want crash: %v", err, wantErr)
			}

			// Restart.
			s2 := reopen(t, s)
			if got := mustReserved(t, s2); !slices.Equal(got, tt.wantReserved) {
				t.Errorf("Reserved() after restart = %q, want %q", got, tt.wantReserved)
			}
			if got := mustFinished(t, s2); !slices.Equal(got, tt.wantFinished) {
				t.Errorf("Finished() after restart = %q, want %q", got, tt.wantFinished)
			}
			for _, f := range tt.wantFinished {
				if got := readFile(t, filepath.Join(s2.Dir(), f)); got != log {
					t.Errorf("%s = %q, want %q", f, got, log)
				}
			}
			if len(tt.wantReserved) > 0 {
				// Tested again: the stale new/ file is replaced.
				finish(t, s2, "hello", "2.10-3", "pass", "second run\n")
				if got, want := mustFinished(t, s2), []string{"pass/hello_2.10-3.log"}; !slices.Equal(got, want) {
					t.Errorf("Finished() after the second run = %q, want %q", got, want)
				}
				if got := mustReserved(t, s2); len(got) != 0 {
					t.Errorf("Reserved() after the second run = %q, want nothing", got)
				}
			}
		})
	}
}

// TestCrash_States builds the on-disk states a crash can leave, as Debian's
// slave would leave them too.
func TestCrash_States(t *testing.T) {
	tests := []struct {
		name           string
		files          map[string]string
		wantReserved   []string
		wantFinished   []string
		wantUnfinished []string
	}{{
		name:           "DuringTest",
		files:          map[string]string{"reserved/hello_1.0.log": "", "new/hello_1.0.log": "Start\nhalf"},
		wantReserved:   []string{"reserved/hello_1.0.log"},
		wantFinished:   []string{},
		wantUnfinished: []string{"reserved/hello_1.0.log"},
	}, {
		name:           "AfterRename",
		files:          map[string]string{"reserved/hello_1.0.log": "", "pass/hello_1.0.log": "Start\nEnd\n"},
		wantReserved:   []string{},
		wantFinished:   []string{"pass/hello_1.0.log"},
		wantUnfinished: []string{},
	}, {
		name:           "TempFilesOnly",
		files:          map[string]string{"pass/.hello_1.0.log.tmp": "half", "fail/hello_1.0.log.new": "half", "untestable/hello_1.0.log~": ""},
		wantReserved:   []string{},
		wantFinished:   []string{},
		wantUnfinished: []string{},
	}, {
		name:           "BeforeMarker",
		files:          map[string]string{},
		wantReserved:   []string{},
		wantFinished:   []string{},
		wantUnfinished: []string{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openSpool(t, spool.Options{})
			for rel, data := range tt.files {
				writeFile(t, s, rel, data, 0)
			}
			// Unfinished first: it must not see a marker Reserved
			// would drop either.
			es, err := s.Unfinished()
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(es); !slices.Equal(got, tt.wantUnfinished) {
				t.Errorf("Unfinished() = %q, want %q", got, tt.wantUnfinished)
			}
			if got := mustReserved(t, s); !slices.Equal(got, tt.wantReserved) {
				t.Errorf("Reserved() = %q, want %q", got, tt.wantReserved)
			}
			if got := mustFinished(t, s); !slices.Equal(got, tt.wantFinished) {
				t.Errorf("Finished() = %q, want %q", got, tt.wantFinished)
			}
		})
	}
}
