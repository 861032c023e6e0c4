package slave

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
	"piuparts-server/protocol"
	"piuparts-server/slave/remote"
)

// fakeMaster is a scripted master on the far end of a net.Pipe: it hands
// out its packages per section and records what the slave sends.
type fakeMaster struct {
	mu        sync.Mutex
	queue     map[string][][2]string // section -> packages to reserve
	busy      int                    // answer busy to this many section commands
	commands  []string               // every command, in order
	submitted []string               // "SECTION RESULT NAME VERSION", in order
	dials     int
}

func (m *fakeMaster) dial(ctx context.Context, o remote.Options) (*remote.Client, error) {
	m.mu.Lock()
	m.dials++
	m.mu.Unlock()
	a, b := net.Pipe()
	go m.serve(b)
	return remote.NewClient(ctx, a, "fake", o)
}

func (m *fakeMaster) serve(conn net.Conn) {
	defer conn.Close()
	r := protocol.NewReader(bufio.NewReader(conn))
	w := protocol.NewWriter(bufio.NewWriter(conn))
	if w.WriteHello() != nil {
		return
	}
	section := ""
	for {
		cmd, err := r.ReadCommand()
		if err != nil {
			return
		}
		m.mu.Lock()
		m.commands = append(m.commands, cmd.String())
		m.mu.Unlock()
		switch cmd.Keyword {
		case protocol.CmdSection:
			m.mu.Lock()
			busy := m.busy > 0
			if busy {
				m.busy--
			}
			m.mu.Unlock()
			if busy {
				err = w.WriteBusy()
				break
			}
			section = cmd.Args[0]
			err = w.WriteOK()
		case protocol.CmdIdle:
			err = w.WriteOK("0")
		case protocol.CmdReserve:
			m.mu.Lock()
			q := m.queue[section]
			if len(q) == 0 {
				m.mu.Unlock()
				err = w.WriteError()
				break
			}
			m.queue[section] = q[1:]
			m.mu.Unlock()
			err = w.WriteOK(q[0][0], q[0][1])
		case protocol.CmdPass, protocol.CmdFail, protocol.CmdUntestable:
			if _, err = r.ReadLongPart(); err != nil {
				return
			}
			m.mu.Lock()
			m.submitted = append(m.submitted, strings.Join(append([]string{section, cmd.Keyword}, cmd.Args...), " "))
			m.mu.Unlock()
			err = w.WriteOK()
		case protocol.CmdStatus:
			err = w.WriteOK("total=0")
		case protocol.CmdUnreserve:
			err = w.WriteOK()
		default:
			err = w.WriteError()
		}
		if err != nil {
			return
		}
	}
}

func (m *fakeMaster) sent(prefix string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, c := range m.commands {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

// testConfig is a config for the sections given as TOML tables, testing
// with the demo's simulator on the demo archive.
func testConfig(t *testing.T, sections []string, tables string) *config.Config {
	t.Helper()
	archive, err := filepath.Abs("../deploy/demo/archive")
	if err != nil {
		t.Fatal(err)
	}
	sim, err := filepath.Abs("../deploy/demo/piuparts-simulator")
	if err != nil {
		t.Fatal(err)
	}
	quoted := make([]string, len(sections))
	for i, n := range sections {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	body := fmt.Sprintf(`[global]
sections = [%s]
idle-sleep = 1
mirror = "file://%s"
arch = "amd64"
distro = "bookworm"
piuparts-command = [%q]
master-host = "local"
master-command = "unused: the test dials"
max-reserved = 2
%s`, strings.Join(quoted, ", "), archive, sim, tables)
	pc, err := config.Parse(strings.NewReader(body), "test.toml")
	if err != nil {
		t.Fatalf("config: %v\n%s", err, body)
	}
	return pc
}

func runFake(t *testing.T, pc *config.Config, m *fakeMaster, ctl *Control) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // a guard against a hang
	defer cancel()
	return Run(ctx, Config{
		Piuparts:  pc,
		Dir:       t.TempDir(),
		UntilIdle: true,
		Control:   ctl,
		Log:       zerolog.New(io.Discard),
		Dial:      m.dial,
		Environ:   append(os.Environ(), "PIUPARTS_SIMULATOR_DELAY=0"),
	})
}

// TestRun_Precedence: a section of lower precedence number is worked on
// first, to its end, and every package is submitted with the simulator's
// result (hello is in its fail-list).
func TestRun_Precedence(t *testing.T) {
	pc := testConfig(t, []string{"later", "first"}, "[later]\nprecedence = 2\n[first]\nprecedence = 1\n")
	m := &fakeMaster{queue: map[string][][2]string{
		"later": {{"bc", "1.07.1-3+b1"}, {"ed", "1.19-1"}},
		"first": {{"hello", "2.10-3"}, {"gzip", "1.12-1"}, {"zip", "3.0-13"}},
	}}
	if err := runFake(t, pc, m, nil); err != nil {
		t.Fatal(err)
	}
	// In submission order, sorted only within a section (logs finished in
	// the same batch go in any order).
	got := slices.Clone(m.submitted)
	for i := 0; i < len(got); {
		j := i
		for j < len(got) && strings.Fields(got[j])[0] == strings.Fields(got[i])[0] {
			j++
		}
		slices.Sort(got[i:j])
		i = j
	}
	want := []string{
		"first fail hello 2.10-3", "first pass gzip 1.12-1", "first pass zip 3.0-13",
		"later pass bc 1.07.1-3+b1", "later pass ed 1.19-1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("submitted:\n%s\nwant:\n%s", strings.Join(m.submitted, "\n"), strings.Join(want, "\n"))
	}
	// max-reserved = 2: never more than two reservations before a test.
	m.mu.Lock()
	defer m.mu.Unlock()
	run := 0
	for _, c := range m.commands {
		switch {
		case c == "reserve":
			run++
			if run > 3 { // two granted and the "error" that ends a batch at most
				t.Errorf("more than max-reserved reserve commands in a row: %q", m.commands)
			}
		case strings.HasPrefix(c, "section"):
			run = 0
		}
	}
}

// TestRun_NoMasterContact: a section with max-reserved = 0 is disabled and
// one with distro "None" only keeps its base tarball; neither talks to the
// master.
func TestRun_NoMasterContact(t *testing.T) {
	pc := testConfig(t, []string{"off", "tgz"}, "[off]\nmax-reserved = 0\n[tgz]\ndistro = \"None\"\nupgrade-test-distros = [\"bookworm\"]\n")
	m := &fakeMaster{queue: map[string][][2]string{"off": {{"bc", "1.07.1-3+b1"}}}}
	if err := runFake(t, pc, m, nil); err != nil {
		t.Fatal(err)
	}
	if m.dials != 0 {
		t.Errorf("%d connections to the master: %q", m.dials, m.commands)
	}
}

// TestRun_Restart: after Control.Restart, Run ships what is done and
// returns ErrRestart.
func TestRun_Restart(t *testing.T) {
	pc := testConfig(t, []string{"s"}, "[s]\n")
	m := &fakeMaster{queue: map[string][][2]string{"s": {{"bc", "1.07.1-3+b1"}}}}
	ctl := NewControl()
	ctl.Restart()
	if err := runFake(t, pc, m, ctl); !errors.Is(err, ErrRestart) {
		t.Fatalf("Run = %v, want ErrRestart", err)
	}
	if m.sent("reserve") != 0 {
		t.Errorf("reserved after a restart was asked: %q", m.commands)
	}
}

// TestRun_Unreachable: with --until-idle, a master that cannot be reached
// is an error, not "idle".
func TestRun_Unreachable(t *testing.T) {
	pc := testConfig(t, []string{"s"}, "[s]\n")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	err := Run(ctx, Config{
		Piuparts:  pc,
		Dir:       t.TempDir(),
		UntilIdle: true,
		Log:       zerolog.New(io.Discard),
		Dial: func(context.Context, remote.Options) (*remote.Client, error) {
			return nil, errors.New("connection refused")
		},
	})
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Run = %v, want ErrUnreachable with the cause", err)
	}
}

// TestTalk_Busy: a busy master leaves the section alone for 60 to 180
// seconds, as the reference, and the section is not idle meanwhile.
func TestTalk_Busy(t *testing.T) {
	pc := testConfig(t, []string{"s"}, "[s]\n")
	m := &fakeMaster{busy: 1, queue: map[string][][2]string{"s": {{"bc", "1.07.1-3+b1"}}}}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cfg := &Config{Piuparts: pc, Sections: []string{"s"}, Dir: t.TempDir(), Control: NewControl(), Log: zerolog.New(io.Discard),
		Dial: m.dial, Now: func() time.Time { return now }, Getenv: os.Getenv}
	w, err := newWorker(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.closeConn()
	s := w.sections[0]
	if w.talk(t.Context(), s, true, false, false) {
		t.Fatal("talk succeeded against a busy master")
	}
	if wait := s.errorWait.Sub(now); wait < 60*time.Second || wait > 180*time.Second {
		t.Errorf("waits %v after busy, want 60-180 s", wait)
	}
	if done, err := w.drained(); done || err != nil {
		t.Errorf("drained() = %v, %v after busy: want not done, no error", done, err)
	}
	if !w.talk(t.Context(), s, true, false, false) {
		t.Fatal("second talk failed")
	}
	if res, _ := s.spool.Reserved(); len(res) != 1 {
		t.Errorf("reserved %v after the master was no longer busy", res)
	}
}

// TestRun_ExpiresRefchrootMetadata: before testing, a section's
// chroot-meta-auto file older than 6 hours is removed, as the reference
// does, and a recent one is kept.
func TestRun_ExpiresRefchrootMetadata(t *testing.T) {
	meta := t.TempDir()
	pc := testConfig(t, []string{"old", "fresh"}, fmt.Sprintf(`chroot-meta-directory = %q
chroot-meta-auto = "meta.yaml"
[old]
[fresh]
`, meta))
	for name, age := range map[string]time.Duration{"old": 7 * time.Hour, "fresh": time.Hour} {
		p := filepath.Join(meta, name, "meta.yaml")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("meta\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(-age)
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
	}
	m := &fakeMaster{queue: map[string][][2]string{"old": {{"bc", "1.07.1-3+b1"}}, "fresh": {{"ed", "1.19-1"}}}}
	if err := runFake(t, pc, m, nil); err != nil {
		t.Fatal(err)
	}
	if len(m.submitted) != 2 {
		t.Errorf("submitted %q, want both packages tested", m.submitted)
	}
	if _, err := os.Stat(filepath.Join(meta, "old", "meta.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("7-hour-old chroot-meta file: stat = %v, want it removed", err)
	}
	if _, err := os.Stat(filepath.Join(meta, "fresh", "meta.yaml")); err != nil {
		t.Errorf("1-hour-old chroot-meta file: %v, want it kept", err)
	}
}
