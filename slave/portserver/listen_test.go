package portserver_test

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"piuparts-server/slave/portserver"
)

func TestListen_ServedPathIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portserver.sock")
	first, err := portserver.Listen(path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	second, err := portserver.Listen(path, zerolog.Nop())
	if !errors.Is(err, portserver.ErrAddressInUse) {
		if second != nil {
			second.Close()
		}
		t.Fatalf("second Listen on a served path: %v, want ErrAddressInUse", err)
	}
	// The first server still answers on its path.
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("the first server lost its socket: %v", err)
	}
	c.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o666 {
		t.Errorf("socket mode: %v, %v; want 0666", fi, err)
	}
}

func TestListen_StaleSocketIsReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portserver.sock")
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	old.Close() // a server that died: its file stays, nobody listens
	var log bytes.Buffer
	ln, err := portserver.Listen(path, zerolog.New(&log))
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	defer ln.Close()
	if !strings.Contains(log.String(), "stale socket") {
		t.Errorf("no log line about the stale socket: %q", log.String())
	}
	ln.Close()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket file left after Close: %v", err)
	}
}

func TestListen_OtherFileIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(path, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ln, err := portserver.Listen(path, zerolog.Nop()); err == nil {
		ln.Close()
		t.Fatal("Listen took over a regular file")
	}
	if data, _ := os.ReadFile(path); string(data) != "data" {
		t.Errorf("the file was changed: %q", data)
	}
}

func TestListen_AbstractInUse(t *testing.T) {
	addr := testAddr(t)
	first, err := portserver.Listen(addr, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if _, err := portserver.Listen(addr, zerolog.Nop()); !errors.Is(err, portserver.ErrAddressInUse) {
		t.Errorf("second Listen on %s: %v, want ErrAddressInUse", addr, err)
	}
}
