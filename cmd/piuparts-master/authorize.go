package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"golang.org/x/crypto/ssh"

	"piuparts-server/internal/config"
	"piuparts-server/internal/piuparts"
)

// authorizedKeyOptions are the options of a slave's authorized_keys line
// after its command: what the README and Debian's README_server show, and
// what every OpenSSH since 2.x understands. OpenSSH 7.2's "restrict" would
// say the same in one word (and also forbid ~/.ssh/rc and whatever later
// versions add), but a master on an older sshd refuses the whole line, and
// the key would silently stop working; the explicit list is also what an
// operator who reads the file recognises.
const authorizedKeyOptions = "no-pty,no-port-forwarding,no-X11-forwarding,no-agent-forwarding"

const authorizeDoc = `Print the authorized_keys line that lets a slave in with its public key
KEYFILE.pub, restricted to this program as the forced command with
--slave-id=NAME (which names the holder of its reservations):

  command="/usr/bin/piuparts-master --slave-id=NAME",` + authorizedKeyOptions + ` KEY COMMENT

With --append FILE the line is appended to FILE (e.g.
~piupartsm/.ssh/authorized_keys) instead, which is created mode 0600 (and its
directory 0700) when missing, as the user who runs this command: run it as
the master user. A key that FILE already authorizes with the same line is
left alone; with another line (another slave id) it is refused.

The command is this executable's absolute path unless --command is given; a
config given with -c (or $PIUPARTS_CONFIG) is passed on as -c FILE, so that
the forced command reads the same config.`

// runAuthorize is "authorize --slave-id NAME [--append FILE] [--command
// PATH] KEYFILE.pub".
func runAuthorize(_ context.Context, e *env, args []string) error {
	f := newFlags(e, "authorize", "--slave-id NAME [--append FILE] [--command PATH] KEYFILE.pub", authorizeDoc)
	slaveID := f.String("slave-id", "", "`NAME` of the slave (e.g. its host name); "+slaveIDRule)
	appendTo := f.String("append", "", "append the line to `FILE` (an authorized_keys file) instead of printing it")
	command := f.String("command", "", "the master program's absolute `PATH` (default: this executable)")
	pos, err := f.parse(args)
	if err != nil {
		return done(err)
	}
	switch {
	case *slaveID == "":
		return f.usageError("--slave-id NAME is required")
	case !piuparts.ValidSlaveID(*slaveID):
		return f.usageError("--slave-id %s: %s", piuparts.Quote(*slaveID), slaveIDRule)
	case len(pos) != 1:
		return f.usageError("want one KEYFILE.pub, have %d arguments", len(pos))
	}
	key, comment, err := readPublicKey(pos[0])
	if err != nil {
		return err
	}
	exe := *command
	if exe != "" && !filepath.IsAbs(exe) {
		return f.usageError("--command %s: give an absolute path, as sshd runs it from the master user's home", piuparts.Quote(exe))
	}
	if exe == "" {
		exe = e.exe
	}
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("authorize: this program's path (give --command): %w", err)
		}
	}
	words := []string{exe}
	if e.configPath != "" && e.configPath != config.DefaultPath {
		p, err := filepath.Abs(e.configPath)
		if err != nil {
			return fmt.Errorf("authorize: config path: %w", err)
		}
		words = append(words, "-c", p)
	}
	line, err := authorizedKeyLine(words, *slaveID, key, comment)
	if err != nil {
		return err
	}
	if *appendTo == "" {
		fmt.Fprintln(e.stdout, line)
		return nil
	}
	added, err := appendAuthorizedKey(*appendTo, key, line)
	if err != nil {
		return err
	}
	if added {
		fmt.Fprintf(e.stdout, "authorized slave %s (%s %s) in %s\n", *slaveID, key.Type(), ssh.FingerprintSHA256(key), *appendTo)
	} else {
		fmt.Fprintf(e.stdout, "%s already authorizes slave %s (%s %s): unchanged\n", *appendTo, *slaveID, key.Type(), ssh.FingerprintSHA256(key))
	}
	return nil
}

// readPublicKey reads the one public key of an OpenSSH .pub file. It
// refuses a private key, a file with options before the key (an
// authorized_keys line) and a file with more than one key.
func readPublicKey(path string) (ssh.PublicKey, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("authorize: read public key: %w", err)
	}
	if bytes.Contains(b, []byte("PRIVATE KEY-----")) {
		return nil, "", fmt.Errorf("authorize: %s is a private key: give the public one (%s.pub), and keep the private key on the slave", path, path)
	}
	key, comment, opts, rest, err := ssh.ParseAuthorizedKey(b)
	if err != nil {
		return nil, "", fmt.Errorf("authorize: %s: not an OpenSSH public key (as ssh-keygen or piuparts-slave keygen write it): %w", path, err)
	}
	if len(opts) > 0 {
		return nil, "", fmt.Errorf("authorize: %s: the key has options already (%s): give the plain .pub file, authorize adds the options", path, piuparts.Quote(strings.Join(opts, ",")))
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, "", fmt.Errorf("authorize: %s holds more than one key: give one slave's .pub file", path)
	}
	return key, comment, nil
}

// authorizedKeyLine builds the restricted authorized_keys line: the
// command words (the program, maybe -c FILE), then --slave-id=NAME, as a
// command="..." option that sshd runs with the master user's shell. A
// word that the shell would change is quoted; one that cannot be put in
// command="..." (a double quote, a backslash, a line break) is refused.
func authorizedKeyLine(words []string, slaveID string, key ssh.PublicKey, comment string) (string, error) {
	var cmd []string
	for _, w := range words {
		if w == "" || strings.ContainsAny(w, "\"\\\n\r\x00") {
			return "", fmt.Errorf("authorize: %s cannot be put in an authorized_keys command: give another path", piuparts.Quote(w))
		}
		if strings.ContainsAny(w, " \t'$`;&|<>()*?[]#~!{}") {
			w = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
		cmd = append(cmd, w)
	}
	cmd = append(cmd, "--slave-id="+slaveID)
	line := fmt.Sprintf("command=\"%s\",%s %s", strings.Join(cmd, " "), authorizedKeyOptions,
		strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(key)), "\n"))
	// The comment is the key's, on one line, without control characters
	// (a NUL or an escape in authorized_keys helps nobody).
	comment = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, comment)
	if c := strings.Join(strings.Fields(comment), " "); c != "" {
		line += " " + c
	}
	return line, nil
}

// appendAuthorizedKey appends line to the authorized_keys file path unless
// it already holds key: with the same line it reports false and changes
// nothing; with another one it refuses, naming the line. It creates the
// file 0600 and its directory 0700 when they are missing.
func appendAuthorizedKey(path string, key ssh.PublicKey, line string) (bool, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("authorize: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return false, fmt.Errorf("authorize: %w", err)
	}
	defer f.Close()
	blob := key.Marshal()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n, last := 0, ""
	for sc.Scan() {
		n++
		last = sc.Text()
		k, _, _, _, err := ssh.ParseAuthorizedKey(sc.Bytes())
		if err != nil || !bytes.Equal(k.Marshal(), blob) {
			continue
		}
		if strings.TrimSpace(last) == line {
			return false, nil
		}
		return false, fmt.Errorf("authorize: %s:%d authorizes this key already, with other options: remove that line first, or give the slave another key", path, n)
	}
	if err := sc.Err(); err != nil {
		return false, fmt.Errorf("authorize: read %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("authorize: %w", err)
	}
	prefix := ""
	if st.Size() > 0 && !endsInNewline(f, st.Size()) {
		prefix = "\n"
	}
	if _, err := io.WriteString(f, prefix+line+"\n"); err != nil {
		return false, fmt.Errorf("authorize: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return false, fmt.Errorf("authorize: write %s: %w", path, err)
	}
	return true, f.Close()
}

// endsInNewline reports whether the file of size bytes ends in '\n'.
func endsInNewline(f *os.File, size int64) bool {
	b := make([]byte, 1)
	_, err := f.ReadAt(b, size-1)
	return err == nil && b[0] == '\n'
}
