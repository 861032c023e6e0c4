package portserver

import (
	"os/exec"
	"testing"
)

// TestWatcher_Alive checks the identity of a watched owner without /proc:
// alive while it runs, not once it is a zombie (before its watcher has
// reclaimed it), nor once the watcher has closed its pidfd.
func TestWatcher_Alive(t *testing.T) {
	cat := exec.Command("cat")
	in, err := cat.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Start(); err != nil {
		t.Fatal(err)
	}
	defer cat.Wait()
	owner, pidfd, err := lookup(cat.Process.Pid)
	if err != nil || pidfd < 0 {
		t.Skipf("lookup %d: %v (pidfd %d)", cat.Process.Pid, err, pidfd)
	}
	f, err := pidfdFile(pidfd, owner.Pid)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	w := &watcher{pidfd: f, rc: rc}
	if !w.alive(owner) {
		t.Errorf("running %+v: alive = false", owner)
	}
	in.Close()
	for {
		st, err := readStat(owner.Pid)
		if err != nil {
			t.Fatal(err)
		}
		if st.state == 'Z' {
			break
		}
	}
	if w.alive(owner) {
		t.Errorf("zombie %+v: alive = true", owner)
	}
	w.close()
	if w.alive(owner) {
		t.Errorf("watcher closed: alive = true")
	}
}
