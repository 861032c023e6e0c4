package runner_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"piuparts-server/internal/config"
	"piuparts-server/slave/runner"
)

// watchWriter collects a log and closes seen when it first contains want.
type watchWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func newWatchWriter(want string) *watchWriter {
	return &watchWriter{want: want, seen: make(chan struct{})}
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.want != "" && strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// failWriter fails every write after the first n bytes.
type failWriter struct {
	n int
}

var errDiskFull = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// waitDead fails the test if process pid is still alive after a while.
// Killing is asynchronous: a process killed with SIGKILL may take a moment
// to go.
func waitDead(t *testing.T, pid int) {
	t.Helper()
	for range 500 {
		if !alive(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("process %d still alive", pid)
}

// readPid reads the pid a script wrote to file.
func readPid(t *testing.T, file string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// testJob returns a Job for hello 2.10-3 in bookworm whose piuparts is the
// given script.
func testJob(t *testing.T, body string) (runner.Job, string) {
	t.Helper()
	dir := t.TempDir()
	mirror := writeMirror(t, "bookworm")
	fake := script(t, dir, "fake-piuparts", body)
	c := parseConfig(t, sectionTOML(mirror, fake, `distro = "bookworm"`))
	sec := section(t, c, "s")
	a, err := runner.LoadArchive(t.Context(), c, sec, []string{"hello"})
	if err != nil {
		t.Fatal(err)
	}
	return runner.Job{
		Config: c, Section: sec, Archive: a, Name: "hello", Version: "2.10-3",
		Dir: dir, Env: []string{"PATH=/usr/bin:/bin"}, Now: now,
		Grace: runner.Grace{Int: 200 * time.Millisecond, Term: 200 * time.Millisecond, Drain: time.Second},
	}, dir
}

func TestTest_Untestable(t *testing.T) {
	mirror := writeMirror(t, "bookworm")
	c := parseConfig(t, sectionTOML(mirror, "/nonexistent/piuparts", `distro = "bookworm"`))
	sec := section(t, c, "s")
	a, err := runner.LoadArchive(t.Context(), c, sec, []string{"nosuch"})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res, err := runner.Test(t.Context(), runner.Job{Config: c, Section: sec, Archive: a,
		Name: "nosuch", Version: "1.0", Dir: t.TempDir(), Out: &log, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	want := "Start: 2024-05-01 12:00:00 GMT\nPackage nosuch not found in bookworm\n\nret=-10001\nEnd: 2024-05-01 12:00:00 GMT\n"
	if log.String() != want {
		t.Errorf("log = %q, want %q", log.String(), want)
	}
	if res != (runner.Result{Kind: runner.Untestable, Ret: runner.RetNotFound}) {
		t.Errorf("Result = %+v, want untestable %d", res, runner.RetNotFound)
	}
}

func TestTest_Pass(t *testing.T) {
	j, _ := testJob(t, "echo 'some output'\necho '0m1.0s INFO: piuparts run ends.'\n")
	var log bytes.Buffer
	j.Out = &log
	res, err := runner.Test(t.Context(), j)
	if err != nil {
		t.Fatal(err)
	}
	if res != (runner.Result{Kind: runner.Pass, Ret: 0}) {
		t.Errorf("Result = %+v, want pass 0", res)
	}
	for _, want := range []string{
		"Start: 2024-05-01 12:00:00 GMT\n\nPackage: hello\nVersion: 2.10-3\n",
		" --apt hello=2.10-3\nsome output\n0m1.0s INFO: piuparts run ends.\n\nret=0\nEnd: 2024-05-01 12:00:00 GMT\n",
	} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
}

func TestTest_MaxOutput(t *testing.T) {
	const size, max = 1000000, 65536
	j, _ := testJob(t, "head -c "+strconv.Itoa(size)+" /dev/zero | tr '\\0' x\necho\necho 'piuparts run ends.'\n")
	var log bytes.Buffer
	j.Out = &log
	j.MaxOutput = max
	res, err := runner.Test(t.Context(), j)
	if err != nil {
		t.Fatal(err)
	}
	// The last line, past the cap, was still seen.
	if res.Kind != runner.Pass {
		t.Errorf("Result = %+v, want pass", res)
	}
	total := size + 1 + len("piuparts run ends.\n")
	want := "\n" + strings.Repeat("x", max) + "\n *** " + strconv.Itoa(total-max) +
		" bytes of piuparts output dropped (over max-log-size) ***\n\nret=0\n"
	if !strings.Contains(log.String(), want) {
		t.Errorf("log does not end its output with %d x and the dropped line; it has %d bytes", max, log.Len())
	}
	if log.Len() > max+4096 {
		t.Errorf("log has %d bytes, want about %d", log.Len(), max)
	}
}

func TestTest_Timeout(t *testing.T) {
	j, dir := testJob(t, "echo $$ > pid\necho started\nexec sleep 1000\n")
	var log bytes.Buffer
	j.Out = &log
	j.Timeout = 100 * time.Millisecond
	res, err := runner.Test(t.Context(), j)
	if err != nil {
		t.Fatal(err)
	}
	if res != (runner.Result{Kind: runner.Fail, Ret: runner.RetKilled}) {
		t.Errorf("Result = %+v, want fail -1", res)
	}
	if !strings.Contains(log.String(), "\n *** Process KILLED - exceed maximum run time ***\n\nret=-1\n") {
		t.Errorf("log lacks the killed line:\n%s", log.String())
	}
	waitDead(t, readPid(t, filepath.Join(dir, "pid")))
}

// TestTest_StopSequence cancels the context once the script has set its
// traps and checks which signal ended it.
func TestTest_StopSequence(t *testing.T) {
	tests := []struct {
		name, traps string
		want        string // in the log
	}{
		{"SIGINT", `trap 'echo got INT; exit 130' INT`, "got INT\n"},
		{"SIGTERM", `trap 'echo ignored INT' INT; trap 'echo got TERM; exit 143' TERM`, "ignored INT\ngot TERM\n"},
		{"SIGKILL", `trap 'echo ignored INT' INT; trap 'echo ignored TERM' TERM`, "ignored INT\nignored TERM\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			j, dir := testJob(t, tt.traps+"\necho $$ > pid\necho ready\nwhile :; do sleep 0.05; done\n")
			w := newWatchWriter("ready\n")
			j.Out = w
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			go func() {
				select {
				case <-w.seen:
					cancel()
				case <-ctx.Done():
				}
			}()
			_, err := runner.Test(ctx, j)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Test error = %v, want context.Canceled", err)
			}
			log := w.String()
			if !strings.Contains(log, "ready\n"+tt.want) {
				t.Errorf("log does not show %q after ready:\n%s", tt.want, log)
			}
			if strings.Contains(log, "ret=") {
				t.Errorf("a cancelled test's log is finished:\n%s", log)
			}
			waitDead(t, readPid(t, filepath.Join(dir, "pid")))
		})
	}
}

func TestTest_KillsBackgroundProcesses(t *testing.T) {
	tests := []struct{ name, body string }{
		// The grandchild keeps the output pipe open.
		{"HoldsPipe", "sleep 1000 &\necho $! > pid\necho 'piuparts run ends.'\n"},
		// The grandchild writes elsewhere.
		{"Detached", "sleep 1000 >/dev/null 2>&1 &\necho $! > pid\necho 'piuparts run ends.'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, dir := testJob(t, tt.body)
			var log bytes.Buffer
			j.Out = &log
			res, err := runner.Test(t.Context(), j)
			if err != nil {
				t.Fatal(err)
			}
			if res.Kind != runner.Pass {
				t.Errorf("Result = %+v, want pass:\n%s", res, log.String())
			}
			waitDead(t, readPid(t, filepath.Join(dir, "pid")))
		})
	}
}

// TestTest_LeftGroup checks that a process that left piuparts' process
// group and keeps the output pipe open does not keep Test waiting: the
// pipe is read for Grace.Drain more.
func TestTest_LeftGroup(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid command")
	}
	j, dir := testJob(t, "setsid sleep 1000 &\necho $! > pid\necho 'piuparts run ends.'\n")
	j.Grace.Drain = 100 * time.Millisecond
	var log bytes.Buffer
	j.Out = &log
	res, err := runner.Test(t.Context(), j)
	// The process is outside the group: end it here.
	pid := readPid(t, filepath.Join(dir, "pid"))
	syscall.Kill(pid, syscall.SIGKILL)
	if err != nil {
		t.Fatal(err)
	}
	if res.Kind != runner.Pass {
		t.Errorf("Result = %+v, want pass:\n%s", res, log.String())
	}
}

func TestTest_WriteError(t *testing.T) {
	j, _ := testJob(t, "head -c 1000000 /dev/zero\necho 'piuparts run ends.'\n")
	j.Out = &failWriter{n: 2000}
	_, err := runner.Test(t.Context(), j)
	if !errors.Is(err, errDiskFull) {
		t.Errorf("Test error = %v, want %v", err, errDiskFull)
	}
}

func TestTest_Errors(t *testing.T) {
	mirror := writeMirror(t, "bookworm")
	tests := []struct {
		name    string
		keys    string // of [s], besides distro and mirror
		wantErr error
	}{
		{"NoArch", `piuparts-command = ["/bin/true"]`, runner.ErrNoArch},
		{"NoCommand", "arch = \"amd64\"\npiuparts-command = []", runner.ErrNoCommand},
		{"CannotStart", "arch = \"amd64\"\npiuparts-command = [\"/nonexistent/dir/piuparts\"]", os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := parseConfig(t, "[global]\nsections = [\"s\"]\n\n[s]\ndistro = \"bookworm\"\nmirror = \""+mirror+"\"\n"+tt.keys+"\n")
			sec := section(t, c, "s")
			hello, err := runner.LoadArchive(t.Context(), c, &config.Section{Name: "s", Distro: "bookworm", Arch: "amd64", Mirror: mirror}, []string{"hello"})
			if err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			_, err = runner.Test(t.Context(), runner.Job{Config: c, Section: sec, Archive: hello,
				Name: "hello", Version: "2.10-3", Dir: t.TempDir(), Out: &log, Now: now})
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Test error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestTest_PortserverAddress(t *testing.T) {
	for _, tt := range []struct {
		name, global, want string
	}{
		{"Set", `portserver-address = "@unittest-portserver"`, "PORTSERVER_ADDRESS=[@unittest-portserver]"},
		{"Unset", "", "PORTSERVER_ADDRESS=[]"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			j, dir := testJob(t, "echo \"PORTSERVER_ADDRESS=[$PORTSERVER_ADDRESS]\"\necho 'piuparts run ends.'\n")
			mirror := writeMirror(t, "bookworm")
			toml := strings.Replace(sectionTOML(mirror, filepath.Join(dir, "fake-piuparts"), `distro = "bookworm"`),
				"[global]\n", "[global]\n"+tt.global+"\n", 1)
			j.Config = parseConfig(t, toml)
			j.Section = section(t, j.Config, "s")
			var log bytes.Buffer
			j.Out = &log
			if _, err := runner.Test(t.Context(), j); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(log.String(), "\n"+tt.want+"\n") {
				t.Errorf("piuparts saw no %q:\n%s", tt.want, log.String())
			}
		})
	}
}
