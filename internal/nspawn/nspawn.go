// Package nspawn boots a throwaway Debian machine with systemd-nspawn, so
// that the tests and the scenario harness can install the .deb, start its
// units under a real systemd and run the README's quickstart the way an
// admin runs it on a fresh machine, without touching this one.
//
// An image is a tar of a debootstrap'ed root (minbase plus systemd and what
// the caller includes), built once per day and cached. A [Machine] is that
// tar unpacked into a directory and booted with `systemd-nspawn --boot`
// (its own pid, mount, IPC and UTS namespaces, this host's network, not
// registered with a host systemd, which this host may not run); commands
// run inside it through nsenter. Stop powers it off and removes its root.
package nspawn

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Tools the package runs, by absolute path: it runs as root.
const (
	DebootstrapPath = "/usr/sbin/debootstrap"
	NspawnPath      = "/usr/bin/systemd-nspawn"
	NsenterPath     = "/usr/bin/nsenter"
	tarPath         = "/usr/bin/tar"
)

// BaseInclude are the packages every image has beyond debootstrap's minbase:
// an init to boot and the bus systemctl speaks over.
var BaseInclude = []string{"systemd", "systemd-sysv", "dbus"}

// bootTimeout bounds the wait for the machine's systemd to finish starting,
// so a machine that cannot boot fails the caller instead of hanging it.
const bootTimeout = 2 * time.Minute

// Missing returns a sentence naming what this host lacks to boot machines
// (not root, no debootstrap, no systemd-nspawn), or "" when nothing is.
func Missing() string {
	if os.Geteuid() != 0 {
		return "not root: systemd-nspawn and debootstrap need root"
	}
	for _, p := range []string{DebootstrapPath, NspawnPath, NsenterPath, tarPath} {
		if _, err := os.Stat(p); err != nil {
			return p + " is missing (make test-deps installs debootstrap and systemd-container)"
		}
	}
	return ""
}

// Image returns the path of a tar of a bookworm root with BaseInclude and
// include installed from mirror, building it with debootstrap when cacheDir
// has none of today's. The name records the package list, so images with
// different packages do not mix; older ones are removed.
func Image(ctx context.Context, cacheDir, suite, mirror string, include []string) (string, error) {
	pkgs := append(append([]string(nil), BaseInclude...), include...)
	key := suite + "-" + strings.Join(pkgs, ",")
	name := fmt.Sprintf("machine-%s-%s.tar", time.Now().UTC().Format("20060102"), shortHash(key))
	path := filepath.Join(cacheDir, name)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", fmt.Errorf("image cache: %w", err)
	}
	root, err := os.MkdirTemp(cacheDir, ".build-")
	if err != nil {
		return "", fmt.Errorf("image cache: %w", err)
	}
	defer os.RemoveAll(root)
	// MkdirTemp made it 0700, and tar records the mode of ".": a machine
	// whose / only root may enter has no working dbus.
	if err := os.Chmod(root, 0o755); err != nil {
		return "", fmt.Errorf("image cache: %w", err)
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, DebootstrapPath, "--variant=minbase", "--include="+strings.Join(pkgs, ","), suite, root, mirror)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("debootstrap %s: %w\n%s", suite, err, tail(out.String(), 20))
	}
	tmp := path + ".tmp"
	cmd = exec.CommandContext(ctx, tarPath, "--numeric-owner", "-C", root, "-cf", tmp, ".")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("tar the image: %w\n%s", err, tail(out.String(), 5))
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("image cache: %w", err)
	}
	old, _ := filepath.Glob(filepath.Join(cacheDir, "machine-*.tar"))
	for _, o := range old {
		if o != path && strings.HasSuffix(o, "-"+shortHash(key)+".tar") {
			os.Remove(o)
		}
	}
	return path, nil
}

// Machine is a booted machine; Stop ends it.
type Machine struct {
	// Root is the machine's root directory on this host: files put there
	// are in the machine (the caller copies the .deb in this way).
	Root string
	name string
	cmd  *exec.Cmd
	init int // the machine's systemd, pid 1 inside
	log  *os.File
	done chan struct{}
	err  error // of cmd.Wait, once done is closed
}

// Boot unpacks image into a new directory under dir and boots it as a
// machine called name. setup, when not nil, runs on the unpacked root
// before the boot (to drop in files such as an sshd_config.d snippet).
// The console goes to dir/NAME.console. It returns once the machine's
// systemd has started every unit it starts at boot.
func Boot(ctx context.Context, image, dir, name string, setup func(root string) error) (*Machine, error) {
	root := filepath.Join(dir, name)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("boot %s: %w", name, err)
	}
	var out bytes.Buffer
	untar := exec.CommandContext(ctx, tarPath, "--numeric-owner", "-C", root, "-xf", image)
	untar.Stdout, untar.Stderr = &out, &out
	if err := untar.Run(); err != nil {
		return nil, fmt.Errorf("boot %s: unpack %s: %w\n%s", name, image, err, tail(out.String(), 5))
	}
	if err := os.Chmod(root, 0o755); err != nil {
		return nil, fmt.Errorf("boot %s: %w", name, err)
	}
	// The machine's name, resolvable as an installer writes it (sudo
	// complains about every command otherwise).
	hosts := "127.0.0.1\tlocalhost\n127.0.1.1\t" + name + "\n::1\tlocalhost ip6-localhost ip6-loopback\n"
	if err := os.WriteFile(filepath.Join(root, "etc/hostname"), []byte(name+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("boot %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc/hosts"), []byte(hosts), 0o644); err != nil {
		return nil, fmt.Errorf("boot %s: %w", name, err)
	}
	if setup != nil {
		if err := setup(root); err != nil {
			return nil, fmt.Errorf("boot %s: setup: %w", name, err)
		}
	}
	log, err := os.Create(filepath.Join(dir, name+".console"))
	if err != nil {
		return nil, fmt.Errorf("boot %s: %w", name, err)
	}
	m := &Machine{Root: root, name: name, log: log, done: make(chan struct{})}
	// Not CommandContext: the machine must be powered off, not killed, when
	// the caller is done; Stop does that.
	m.cmd = exec.Command(NspawnPath, "--quiet", "--boot", "--register=no", "--keep-unit",
		"--console=pipe", "--machine="+name, "--directory="+root)
	m.cmd.Stdin = nil
	m.cmd.Stdout, m.cmd.Stderr = log, log
	m.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := m.cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("boot %s: %w", name, err)
	}
	go func() { m.err = m.cmd.Wait(); close(m.done) }()
	if err := m.waitBooted(ctx); err != nil {
		m.Stop(context.Background())
		return nil, fmt.Errorf("boot %s: %w\n%s", name, err, m.Console(20))
	}
	return m, nil
}

// waitBooted finds the machine's init (the child of systemd-nspawn named
// systemd) and waits until `systemctl is-system-running` says running or
// degraded.
func (m *Machine) waitBooted(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, bootTimeout)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	state := ""
	for {
		select {
		case <-m.done:
			return fmt.Errorf("systemd-nspawn exited: %v", m.err)
		case <-ctx.Done():
			return fmt.Errorf("not booted after %s (systemctl is-system-running: %q)", bootTimeout, state)
		case <-tick.C:
		}
		if m.init == 0 {
			m.init = childNamed(m.cmd.Process.Pid, "systemd")
			continue
		}
		out, _ := m.Output(ctx, "systemctl", "is-system-running")
		state = strings.TrimSpace(out)
		if state == "running" || state == "degraded" {
			return nil
		}
	}
}

// Command returns a command that runs args inside the machine, as root, in
// /root, with a clean environment (PATH, HOME, LANG=C.UTF-8) plus env.
func (m *Machine) Command(ctx context.Context, env []string, args ...string) *exec.Cmd {
	full := []string{"-t", strconv.Itoa(m.init), "-a", "--wdns=/root", "--",
		"/usr/bin/env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "LANG=C.UTF-8"}
	full = append(full, env...)
	full = append(full, args...)
	return exec.CommandContext(ctx, NsenterPath, full...)
}

// Output runs args inside the machine and returns what it printed (stdout
// and stderr together). The error says what ran and how it ended.
func (m *Machine) Output(ctx context.Context, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := m.Command(ctx, nil, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("in %s: %s: %w", m.name, strings.Join(args, " "), err)
	}
	return out.String(), nil
}

// Console returns the last n lines the machine wrote to its console.
func (m *Machine) Console(n int) string {
	b, _ := os.ReadFile(m.log.Name())
	return tail(string(b), n)
}

// Stop powers the machine off (systemd-nspawn turns SIGTERM into an orderly
// shutdown of the machine's systemd), kills it if it is not gone within
// 90 s or when ctx ends, and removes its root directory. No process of the
// machine survives it: they all live in its pid namespace.
func (m *Machine) Stop(ctx context.Context) error {
	if m.cmd.Process != nil {
		_ = m.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-m.done:
		case <-time.After(90 * time.Second):
		case <-ctx.Done():
		}
		select {
		case <-m.done:
		default:
			_ = syscall.Kill(-m.cmd.Process.Pid, syscall.SIGKILL)
			<-m.done
		}
	}
	m.log.Close()
	if err := os.RemoveAll(m.Root); err != nil {
		return fmt.Errorf("remove %s: %w", m.Root, err)
	}
	return nil
}

// childNamed returns the pid of a child of parent whose comm is name, or 0.
func childNamed(parent int, name string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", parent, parent))
	if err != nil {
		return 0
	}
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err == nil && strings.TrimSpace(string(comm)) == name {
			return pid
		}
	}
	return 0
}

// shortHash is a stable 8-hex-digit digest (FNV-1a) of s for file names.
func shortHash(s string) string {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return fmt.Sprintf("%08x", h)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// CopyFile copies src on this host to dst inside the machine (a path in
// the machine's own terms, such as /root/x.deb).
func (m *Machine) CopyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(filepath.Join(m.Root, dst))
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s into %s: %w", src, m.name, err)
	}
	return out.Close()
}
