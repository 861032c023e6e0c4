package remote_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"piuparts-server/slave/remote"
)

// answerOnce connects a Client over a pipe to a master that greets,
// answers the first command with answer (raw, plus "\n") and then reads
// on. It returns the client and a function that closes it and waits for
// the master.
func answerOnce(t testing.TB, answer string) (*remote.Client, func()) {
	t.Helper()
	cli, srv := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer srv.Close()
		if _, err := io.WriteString(srv, "hello\n"); err != nil {
			return
		}
		br := bufio.NewReader(srv)
		if _, err := br.ReadString('\n'); err != nil {
			return
		}
		// Why: net.Pipe is unbuffered; a long part must be read while
		// the answer is written.
		drained := make(chan struct{})
		go func() {
			_, _ = io.Copy(io.Discard, br)
			close(drained)
		}()
		_, _ = io.WriteString(srv, answer+"\n")
		<-drained
	}()
	c, err := remote.NewClient(context.Background(), cli, "pipe", remote.Options{ReadTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c, func() {
		c.Close()
		<-done
	}
}

var digits = regexp.MustCompile(`^ok ([0-9]+)$`)

// checkAnswer calls each method against a master answering answer and
// checks that a method succeeds only on the answers it must accept, with
// what they say.
func checkAnswer(t *testing.T, answer string) {
	line, _, _ := strings.Cut(answer, "\n")
	ctx := context.Background()
	// refused checks an error: an *AnswerError quoting the line, or a
	// broken stream for a line the protocol does not allow.
	refused := func(what string, err error) {
		t.Helper()
		var ae *remote.AnswerError
		if errors.As(err, &ae) {
			want := line
			if len(want) > 80 {
				want = want[:80]
			}
			if ae.Answer != want {
				t.Errorf("%s: AnswerError.Answer = %q, want %q", what, ae.Answer, want)
			}
		}
	}

	c, end := answerOnce(t, answer)
	d, err := c.Idle(ctx)
	end()
	if err == nil {
		m := digits.FindStringSubmatch(line)
		n, perr := strconv.ParseInt(safeIndex(m, 1), 10, 64)
		if m == nil || perr != nil || d != time.Duration(n)*time.Second || d < 0 {
			t.Errorf("Idle accepted %q as %v", line, d)
		}
	} else {
		refused("Idle", err)
	}

	c, end = answerOnce(t, answer)
	name, version, ok, err := c.Reserve(ctx)
	end()
	switch {
	case err != nil:
		refused("Reserve", err)
	case ok:
		if line != "ok "+name+" "+version || strings.ContainsAny(name+version, "/ \x00") || strings.HasPrefix(name, ".") || name == "" || version == "" {
			t.Errorf("Reserve accepted %q as %q %q", line, name, version)
		}
	case line != "error":
		t.Errorf("Reserve took %q for nothing to reserve", line)
	}

	c, end = answerOnce(t, answer)
	st, err := c.Status(ctx)
	end()
	if err == nil {
		want := "ok"
		if st != "" {
			want += " " + st
		}
		if line != want {
			t.Errorf("Status accepted %q as %q", line, st)
		}
	} else {
		refused("Status", err)
	}

	for _, m := range simpleCalls(ctx) {
		c, end = answerOnce(t, answer)
		err := m.call(c)
		end()
		switch {
		case err == nil && line != "ok":
			t.Errorf("%s accepted %q", m.name, line)
		case errors.Is(err, remote.ErrBusy) && (m.name != "Section" || line != "busy"):
			t.Errorf("%s took %q for busy", m.name, line)
		case err != nil:
			refused(m.name, err)
		}
	}
}

func safeIndex(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}

func seedAnswers(f *testing.F) {
	b, err := os.ReadFile("testdata/answers.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		f.Add(l)
	}
	f.Add("ok\r")
	f.Add("ok 1\x00")
	f.Add("")
	f.Add("ok " + strings.Repeat("x", 5000))
	f.Add("ok foo 1.0\nok")
}

// FuzzAnswer feeds the master's answer to every method.
func FuzzAnswer(f *testing.F) {
	seedAnswers(f)
	f.Fuzz(func(t *testing.T, answer string) {
		checkAnswer(t, answer)
	})
}

// simpleCalls are the client calls whose only success is "ok".
func simpleCalls(ctx context.Context) []struct {
	name string
	call func(*remote.Client) error
} {
	return []struct {
		name string
		call func(*remote.Client) error
	}{
		{"Section", func(c *remote.Client) error { return c.Section(ctx, "sid") }},
		{"Recycle", func(c *remote.Client) error { return c.Recycle(ctx) }},
		{"Unreserve", func(c *remote.Client) error { return c.Unreserve(ctx, "foo", "1.0") }},
		{"Submit", func(c *remote.Client) error { return c.Submit(ctx, "pass", "foo", "1.0", strings.NewReader("log\n")) }},
	}
}

func TestClient_Answers(t *testing.T) {
	tests := []struct {
		answer  string
		idle    time.Duration // -1: refused
		reserve string        // "NAME VERSION", "none", or "" for refused
		status  string        // "-" for refused
		simple  bool          // section, recycle, unreserve, submit succeed
	}{
		{"ok", -1, "", "", true},
		{"ok 0", 0, "", "0", false},
		{"ok 3600", time.Hour, "", "3600", false},
		{"ok -1", -1, "", "-1", false},
		{"ok +5", -1, "", "+5", false},
		{"ok 99999999999999999999999", -1, "", "99999999999999999999999", false},
		{"ok foo 1.0", -1, "foo 1.0", "foo 1.0", false},
		{"ok libaudit-common 1:3.0.9-1", -1, "libaudit-common 1:3.0.9-1", "libaudit-common 1:3.0.9-1", false},
		{"ok ../etc 1.0", -1, "", "../etc 1.0", false},
		{"ok foo 1/0", -1, "", "foo 1/0", false},
		{"ok foo", -1, "", "foo", false},
		{"error", -1, "none", "-", false},
		{"busy", -1, "", "-", false},
		{"hello", -1, "", "-", false},
		{"ok  double", -1, "", "-", false},
	}
	ctx := t.Context()
	for _, tt := range tests {
		t.Run(tt.answer, func(t *testing.T) {
			checkAnswer(t, tt.answer)
			c, end := answerOnce(t, tt.answer)
			d, err := c.Idle(ctx)
			end()
			if (tt.idle < 0) != (err != nil) || (err == nil && d != tt.idle) {
				t.Errorf("Idle = %v, %v; want %v", d, err, tt.idle)
			}
			c, end = answerOnce(t, tt.answer)
			name, version, ok, err := c.Reserve(ctx)
			end()
			got := name + " " + version
			switch {
			case err != nil:
				got = ""
			case !ok:
				got = "none"
			}
			if got != tt.reserve {
				t.Errorf("Reserve = %q %q %v %v, want %q", name, version, ok, err, tt.reserve)
			}
			c, end = answerOnce(t, tt.answer)
			st, err := c.Status(ctx)
			end()
			if err != nil {
				st = "-"
			}
			if st != tt.status {
				t.Errorf("Status = %q, %v; want %q", st, err, tt.status)
			}
			for _, m := range simpleCalls(ctx) {
				c, end = answerOnce(t, tt.answer)
				err := m.call(c)
				end()
				if (err == nil) != tt.simple {
					t.Errorf("%s = %v, want success %v", m.name, err, tt.simple)
				}
			}
			c, end = answerOnce(t, tt.answer)
			err = c.Section(ctx, "sid")
			end()
			if tt.answer == "busy" && !errors.Is(err, remote.ErrBusy) {
				t.Errorf("Section on busy = %v, want ErrBusy", err)
			}
		})
	}
}
