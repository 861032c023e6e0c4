package portserver_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"piuparts-server/slave/portserver"
)

// needPortpicker skips the test, loudly, when Debian's portpicker client
// cannot be imported.
func needPortpicker(t *testing.T) {
	t.Helper()
	out, err := exec.Command("/usr/bin/python3", "-c", "import portpicker").CombinedOutput()
	if err != nil {
		msg := "install python3-portpicker (make test-deps)"
		if os.Geteuid() != 0 {
			msg = "run make test-deps as root to install python3-portpicker"
		}
		t.Skipf("SKIPPED, NOTHING COMPARED: Debian's portpicker client is not available (%v: %s); %s",
			err, strings.TrimSpace(string(out)), msg)
	}
}

// pickerScript picks a port from $PORTSERVER_ADDRESS for its own pid,
// prints it, and lives until its stdin closes.
const pickerScript = `import os, sys, portpicker
print(portpicker.pick_unused_port(), os.getpid(), flush=True)
sys.stdin.read()
`

// picker is one running client process.
type picker struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	port  int
}

// startPickers starts n portpicker processes at once and returns them
// once each has printed its port.
func startPickers(t *testing.T, addr string, n int) []*picker {
	t.Helper()
	ps := make([]*picker, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range ps {
		cmd := exec.Command("/usr/bin/python3", "-c", pickerScript)
		cmd.Env = append(os.Environ(), "PORTSERVER_ADDRESS="+addr)
		cmd.Stderr = os.Stderr
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p := &picker{cmd: cmd, stdin: stdin}
		ps[i] = p
		t.Cleanup(func() { stdin.Close(); cmd.Wait() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			var pid int
			if _, serr := fmt.Sscan(line, &p.port, &pid); serr != nil || pid != cmd.Process.Pid {
				errs <- fmt.Errorf("picker %d printed %q (%v, %v)", cmd.Process.Pid, line, err, serr)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return ps
}

func TestPortpicker_ManyProcessesAtOnce(t *testing.T) {
	needPortpicker(t)
	const n = 24
	ports := freePorts(t, n+4)
	s := startServer(t, portserver.Config{Ports: ports})
	for round := range 2 {
		t.Run("Round"+strconv.Itoa(round+1), func(t *testing.T) {
			ps := startPickers(t, s.addr, n)
			var got []int
			for _, p := range ps {
				if !slices.Contains(ports, p.port) {
					t.Errorf("pid %d got %d, not from the pool (the client fell back to its own pick)", p.cmd.Process.Pid, p.port)
				}
				got = append(got, p.port)
			}
			if d := slices.Compact(slices.Sorted(slices.Values(got))); len(d) != n {
				t.Errorf("%d processes got %d distinct ports: %v", n, len(d), got)
			}
			if st := s.Stats(); st.Owners != n || st.FreePorts != len(ports)-n {
				t.Errorf("stats %+v: want %d owners", st, n)
			}
			for _, p := range ps {
				p.stdin.Close()
				p.cmd.Wait()
			}
			waitFor(t, "every port reclaimed after the clients exited", func() bool {
				return s.Stats().FreePorts == len(ports)
			})
		})
	}
	if st := s.Stats(); st.TotalAllocations != 2*n || st.DeniedAllocations != 0 {
		t.Errorf("stats %+v: want %d allocations, no denial", st, 2*n)
	}
}
