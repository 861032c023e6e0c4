package supervise

import (
	"strings"
	"testing"
	"time"
)

func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"status", "stop", "kill HUP", "kill 15", "kill SIGusr1", "reopen-transcript", "start", "kill", "", "kill 0", "kill 99 x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := ParseRequest(line)
		if err != nil {
			return
		}
		// What parses is what the client writes back.
		r2, err := ParseRequest(r.String())
		if err != nil || r2 != r {
			t.Errorf("ParseRequest(%q) = %+v; its String %q parses as %+v, %v", line, r, r.String(), r2, err)
		}
	})
}

func FuzzParseReply(f *testing.F) {
	var b strings.Builder
	b.WriteString("ok\n")
	Status{State: StateRunning, ManagerPID: 3, PID: 4, Started: time.Unix(5, 6), Program: "a b", Transcript: "/t"}.encode(&b)
	f.Add(b.String())
	f.Add("error no\n")
	f.Add("ok stopped\n")
	f.Add("ok\nstatus=running\npid=x\n")
	f.Fuzz(func(t *testing.T, text string) {
		r, err := ParseReply(text)
		if err != nil || r.Status == nil {
			return
		}
		var b strings.Builder
		b.WriteString("ok\n")
		r.Status.encode(&b)
		r2, err := ParseReply(b.String())
		if err != nil {
			t.Fatalf("re-encoded status %q does not parse: %v", b.String(), err)
		}
		s1, s2 := *r.Status, *r2.Status
		if s1.State != s2.State || s1.PID != s2.PID || !s1.Started.Equal(s2.Started) || s1.Delay != s2.Delay {
			t.Errorf("status %+v re-encoded as %+v", s1, s2)
		}
	})
}

func FuzzParseSignal(f *testing.F) {
	for _, s := range []string{"TERM", "SIGHUP", "int", "9", "64", "0", "65", "-1", "SIGFOO", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := ParseSignal(s)
		if err != nil {
			return
		}
		if sig < 1 || sig > 64 {
			t.Fatalf("ParseSignal(%q) = %d, out of range", s, sig)
		}
		if back, err := ParseSignal(SignalName(sig)); err != nil || back != sig {
			t.Errorf("ParseSignal(SignalName(%d) = %q) = %d, %v", sig, SignalName(sig), back, err)
		}
	})
}
