package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"

	"piuparts-server/internal/config"
	"piuparts-server/internal/piuparts"
	"piuparts-server/slave/remote"
)

// defaultMasterUser is the master's account in Debian's packaging, for
// the command keygen prints when the config names none.
const defaultMasterUser = "piupartsm"

// keysConfig loads the config for keygen and known-hosts. A config that
// does not exist is no error: both work without one, on ssh's defaults.
func keysConfig(path string) (*config.Config, error) {
	cfg, err := config.Load(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return cfg, err
}

// errHelpShown is returned by keyFlags when it printed the help.
var errHelpShown = errors.New("help shown")

// keyFlags parses the flags of keygen or known-hosts; on -h or --help it
// prints the command's help to stdout and returns errHelpShown.
func keyFlags(fs *flag.FlagSet, name string, args []string, stdout io.Writer) ([]string, error) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			if err := printHelp(stdout, name); err != nil {
				return nil, err
			}
			return nil, errHelpShown
		}
		return nil, fmt.Errorf("%s: %v (see piuparts-slave help %s): %w", name, err, name, errUsage)
	}
	return fs.Args(), nil
}

// helpDone turns errHelpShown into success.
func helpDone(err error) error {
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}

// runKeygen is `piuparts-slave keygen [--force] [--slave-id NAME]`.
func runKeygen(_ context.Context, args []string, path string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("piuparts-slave keygen", flag.ContinueOnError)
	force := fs.Bool("force", false, "")
	slaveID := fs.String("slave-id", "", "")
	configPath := fs.String("c", "", "")
	pos, err := keyFlags(fs, "keygen", args, stdout)
	if err != nil {
		return helpDone(err)
	}
	if len(pos) > 0 {
		return fmt.Errorf("keygen: unexpected argument %q (see piuparts-slave help keygen): %w", pos[0], errUsage)
	}
	if *configPath != "" {
		path = *configPath
	}
	cfg, err := keysConfig(path)
	if err != nil {
		return err
	}
	o := remote.Options{Getenv: getenv}
	file, masterUser, masterHost := o.DefaultIdentity(), defaultMasterUser, ""
	if cfg != nil {
		for _, name := range cfg.SectionsByPrecedence() {
			sec, err := cfg.Section(name)
			if err != nil {
				return err
			}
			if sec.SSHIdentity != "" && file == o.DefaultIdentity() {
				file = remote.ExpandHome(sec.SSHIdentity, getenv)
			}
			if sec.MasterHost != "" && sec.MasterHost != remote.LocalHost && masterHost == "" {
				masterHost = sec.MasterHost
				if sec.MasterUser != "" {
					masterUser = sec.MasterUser
				}
			}
		}
	}
	if file == "" {
		return errors.New("keygen: no HOME and no ssh-identity in the config: set ssh-identity")
	}
	id := *slaveID
	if id == "" {
		h, err := os.Hostname()
		if err != nil {
			return fmt.Errorf("keygen: host name (give --slave-id): %w", err)
		}
		id = h
	}
	if !piuparts.ValidSlaveID(id) {
		return fmt.Errorf("keygen: slave id %s: not letters, digits and ._-+@: (give --slave-id): %w", piuparts.Quote(id), errUsage)
	}
	user := getenv("USER")
	if user == "" {
		user = "piuparts"
	}
	pub, err := generateKey(file, user+"@"+id, *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s and %s:\n%s\n", file, file+".pub", pub)
	master := "the master"
	if masterHost != "" {
		master += " (" + masterHost + ")"
	}
	fmt.Fprintf(stdout, "To let this slave in, copy %s.pub to %s and run there:\n\n", file, master)
	fmt.Fprintf(stdout, "  sudo -u %s piuparts-master authorize --slave-id %s --append ~%s/.ssh/authorized_keys %s.pub\n\n",
		masterUser, id, masterUser, filepath.Base(file))
	fmt.Fprintf(stdout, "The slave id is this host's name (--slave-id overrides it); it names the holder of the slave's reservations.\n"+
		"Then check and record the master's host key here: piuparts-slave known-hosts\n")
	return nil
}

// generateKey writes a new ed25519 key pair to file (OpenSSH's private key
// format, mode 0600) and file.pub (0644), creating the directory 0700, and
// returns the public key line. Without force it refuses when either file
// exists.
func generateKey(file, comment string, force bool) (string, error) {
	if !force {
		for _, p := range []string{file, file + ".pub"} {
			if _, err := os.Lstat(p); err == nil {
				return "", fmt.Errorf("keygen: %s exists: keep it (its .pub is what the master needs), or give --force to replace it (the master must then authorize the new key)", p)
			}
		}
	}
	pubKey, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("keygen: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return "", fmt.Errorf("keygen: %w", err)
	}
	sshPub, err := ssh.NewPublicKey(pubKey)
	if err != nil {
		return "", fmt.Errorf("keygen: %w", err)
	}
	line := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(sshPub)), "\n") + " " + comment
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return "", fmt.Errorf("keygen: %w", err)
	}
	if err := writeAtomic(file, pem.EncodeToMemory(block), 0o600); err != nil {
		return "", err
	}
	if err := writeAtomic(file+".pub", []byte(line+"\n"), 0o644); err != nil {
		return "", err
	}
	return line, nil
}

// writeAtomic writes b to path through a temporary file in its directory,
// with mode perm whatever the umask.
func writeAtomic(path string, b []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("keygen: write %s: %w", path, err)
	}
	return nil
}

// DefaultScanTimeout bounds known-hosts' connection to a master whose
// section sets no connect-timeout.
const DefaultScanTimeout = 30 * time.Second

// runKnownHosts is `piuparts-slave known-hosts [--yes] [--file F]
// [HOST[:PORT]...]`.
func runKnownHosts(ctx context.Context, args []string, path string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("piuparts-slave known-hosts", flag.ContinueOnError)
	yes := fs.Bool("yes", false, "")
	file := fs.String("file", "", "")
	configPath := fs.String("c", "", "")
	pos, err := keyFlags(fs, "known-hosts", args, stdout)
	if err != nil {
		return helpDone(err)
	}
	if *configPath != "" {
		path = *configPath
	}
	var targets []remote.Options
	for _, a := range pos {
		o, err := parseHostPort(a)
		if err != nil {
			return fmt.Errorf("known-hosts: %w: %w", err, errUsage)
		}
		o.ConnectTimeout = DefaultScanTimeout
		targets = append(targets, o)
	}
	if len(targets) == 0 {
		cfg, err := keysConfig(path)
		if err != nil {
			return err
		}
		if cfg == nil {
			return fmt.Errorf("known-hosts: no config at %s: name the master as HOST[:PORT], or give -c FILE: %w", path, errUsage)
		}
		for _, name := range cfg.SectionsByPrecedence() {
			sec, err := cfg.Section(name)
			if err != nil {
				return err
			}
			if sec.MasterHost == "" || sec.MasterHost == remote.LocalHost {
				continue
			}
			o := remote.Options{Host: sec.MasterHost, Port: sec.MasterPort, ConnectTimeout: sec.ConnectTimeout}
			if sec.SSHKnownHosts != "" {
				o.KnownHosts = []string{remote.ExpandHome(sec.SSHKnownHosts, getenv)}
			}
			targets = append(targets, o)
		}
		if len(targets) == 0 {
			return fmt.Errorf("known-hosts: no section of %s has a master-host other than %q: nothing to do", path, remote.LocalHost)
		}
	}
	seen := map[string]bool{}
	terminal := isTerminal(stdin)
	in := bufio.NewReader(orEmpty(stdin))
	for _, o := range targets {
		o.Getenv = getenv
		if *file != "" {
			o.KnownHosts = []string{*file}
		}
		files := o.KnownHostsFiles()
		if len(files) == 0 {
			return errors.New("known-hosts: no HOME and no ssh-known-hosts in the config: give --file FILE")
		}
		if k := o.Addr() + "\x00" + strings.Join(files, "\x00"); seen[k] {
			continue
		} else {
			seen[k] = true
		}
		if err := addKnownHost(ctx, o, files[0], *yes, terminal, in, stdout); err != nil {
			return err
		}
	}
	return nil
}

// addKnownHost does known-hosts' work for one master.
func addKnownHost(ctx context.Context, o remote.Options, file string, yes, terminal bool, in *bufio.Reader, stdout io.Writer) error {
	key, err := remote.ScanHostKey(ctx, o)
	if err != nil {
		return fmt.Errorf("known-hosts: %w", err)
	}
	fmt.Fprintf(stdout, "%s\n", fingerprintLine(key, o.Addr()))
	err = remote.CheckHostKey(o, key)
	var hke *remote.HostKeyError
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "%s is known with this key already (%s): unchanged\n", o.Addr(), strings.Join(o.KnownHostsFiles(), ", "))
		return nil
	case errors.Is(err, remote.ErrUnknownHost):
	case errors.As(err, &hke) && errors.Is(err, remote.ErrChangedHostKey):
		return fmt.Errorf("known-hosts: WARNING: POSSIBLE MAN-IN-THE-MIDDLE ATTACK, nothing changed: %w; "+
			"only if the master's key really changed, remove the old line and run known-hosts again", err)
	default:
		return fmt.Errorf("known-hosts: %w", err)
	}
	switch {
	case yes:
	case terminal:
		fmt.Fprintf(stdout, "Check this fingerprint on the master (ssh-keygen -l -f /etc/ssh/ssh_host_%s_key.pub); add it to %s? [y/N] ", keyFile(key), file)
		answer, _ := in.ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return fmt.Errorf("known-hosts: %s not added", o.Addr())
		}
	default:
		return fmt.Errorf("known-hosts: standard input is no terminal to ask on: check the fingerprint above on the master, then run again with --yes: %w", errUsage)
	}
	if err := remote.AddKnownHost(file, o, key); err != nil {
		return fmt.Errorf("known-hosts: %w", err)
	}
	fmt.Fprintf(stdout, "added %s to %s\n", o.Addr(), file)
	return nil
}

// parseHostPort parses known-hosts' HOST, HOST:PORT or [HOST]:PORT.
func parseHostPort(s string) (remote.Options, error) {
	host, port := s, 0
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return remote.Options{}, fmt.Errorf("%s: bad port", piuparts.Quote(s))
		}
		host, port = h, n
	}
	// A colon left in the host is an IPv6 address's ("::1"), or a mistake.
	if host == "" || host == remote.LocalHost || strings.ContainsAny(host, " \t\n/@[]") ||
		strings.Contains(host, ":") && net.ParseIP(host) == nil {
		return remote.Options{}, fmt.Errorf("%s is no master host: want HOST, HOST:PORT or [HOST]:PORT", piuparts.Quote(s))
	}
	return remote.Options{Host: host, Port: port}, nil
}

// fingerprintLine describes key as ssh-keygen -l does: "256
// SHA256:... HOST (ED25519)".
func fingerprintLine(key ssh.PublicKey, host string) string {
	bits := 0
	if ck, ok := key.(ssh.CryptoPublicKey); ok {
		switch k := ck.CryptoPublicKey().(type) {
		case ed25519.PublicKey:
			bits = 256
		case *rsa.PublicKey:
			bits = k.N.BitLen()
		case *ecdsa.PublicKey:
			bits = k.Curve.Params().BitSize
		}
	}
	return fmt.Sprintf("%d %s %s (%s)", bits, ssh.FingerprintSHA256(key), host, keyLabel(key))
}

// keyLabel is ssh-keygen -l's name of the key's type.
func keyLabel(key ssh.PublicKey) string {
	switch t := key.Type(); {
	case t == ssh.KeyAlgoED25519:
		return "ED25519"
	case t == ssh.KeyAlgoRSA:
		return "RSA"
	case strings.HasPrefix(t, "ecdsa-sha2-"):
		return "ECDSA"
	case t == ssh.KeyAlgoSKED25519:
		return "ED25519-SK"
	case t == ssh.KeyAlgoSKECDSA256:
		return "ECDSA-SK"
	default:
		return strings.ToUpper(t)
	}
}

// keyFile is the part of sshd's host key file name for key's type.
func keyFile(key ssh.PublicKey) string {
	switch l := keyLabel(key); l {
	case "ED25519", "RSA", "ECDSA":
		return strings.ToLower(l)
	}
	return "*"
}

// isTerminal reports whether r is a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok || f == nil {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// orEmpty returns r, or an empty reader for nil.
func orEmpty(r io.Reader) io.Reader {
	if r == nil {
		return strings.NewReader("")
	}
	return r
}
