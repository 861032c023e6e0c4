package remote

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Compare with errors.Is: the typed errors below and the
// errors of the Client's methods wrap them.
var (
	// ErrBusy is wrapped by the *AnswerError of Client.Section when the
	// master answers "busy": another slave holds the section's lock or the
	// master is computing its states. Try again later.
	ErrBusy = errors.New("remote: master is busy")
	// ErrCantRecycle is wrapped by the *AnswerError of Client.Recycle when
	// the master does not answer "ok": there is nothing to recycle.
	ErrCantRecycle = errors.New("remote: master cannot recycle")
	// ErrUnknownHost is wrapped by the *HostKeyError for a master whose
	// host is in none of the known_hosts files.
	ErrUnknownHost = errors.New("remote: unknown host")
	// ErrChangedHostKey is wrapped by the *HostKeyError for a master whose
	// key differs from the known_hosts entries for its host.
	ErrChangedHostKey = errors.New("remote: host key changed")
	// ErrRevokedHostKey is wrapped by the *HostKeyError for a master whose
	// key is marked @revoked in a known_hosts file.
	ErrRevokedHostKey = errors.New("remote: host key revoked")
	// ErrAuth is wrapped by Dial's error when the master's SSH server
	// refused every key offered.
	ErrAuth = errors.New("remote: ssh authentication failed")
	// ErrConnectTimeout is wrapped by Dial's error when connecting, the
	// SSH handshake or the master's greeting took longer than
	// Options.ConnectTimeout.
	ErrConnectTimeout = errors.New("remote: connect timeout")
	// ErrReadTimeout is wrapped by a Client method's error when the master
	// sent no answer within Options.ReadTimeout, or accepted no byte of a
	// log for as long. The connection is closed.
	ErrReadTimeout = errors.New("remote: master did not answer in time")
	// ErrKeepAlive is wrapped by a Client method's error when the master's
	// SSH server stopped answering keepalives: the master or the network
	// is dead. The connection is closed.
	ErrKeepAlive = errors.New("remote: master stopped answering keepalives")
	// ErrClosed is wrapped by a Client method's error after Close, or after
	// an earlier error that left the connection in an unknown state (a
	// timeout, a cancelled context, a broken or garbled stream). Dial
	// again.
	ErrClosed = errors.New("remote: connection closed")
	// ErrNoCommand is returned by Dial for Host "local" without a Command.
	ErrNoCommand = errors.New("remote: local master needs a command")
)

// maxQuote is how many bytes of outside input an error message quotes.
const maxQuote = 80

// cut returns the first maxQuote bytes of s, for quoting outside input.
func cut(s string) string {
	if len(s) > maxQuote {
		return s[:maxQuote]
	}
	return s
}

// AnswerError reports an answer of the master other than the one the
// command needs to have succeeded, e.g. "error" to "section sid", or
// "ok" without the words "ok N" needs. The line was well formed, so the
// connection stays usable. Err is ErrBusy or ErrCantRecycle when that is
// what happened, and nil otherwise.
type AnswerError struct {
	// Command is the command line sent, without a long part.
	Command string
	// Answer is the master's answer line, cut to its first 80 bytes.
	Answer string
	// Err is the sentinel for the case, or nil.
	Err error
}

// Error returns, e.g., `remote: master answered "error" to "section sid"`.
func (e *AnswerError) Error() string {
	s := fmt.Sprintf("remote: master answered %q to %q", e.Answer, e.Command)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Err.
func (e *AnswerError) Unwrap() error { return e.Err }

// HostKeyError reports that the master's SSH host key was refused: its
// host is unknown (Err is ErrUnknownHost), its key differs from the known
// one (ErrChangedHostKey), or the key is revoked (ErrRevokedHostKey).
type HostKeyError struct {
	// Host is the host as looked up in known_hosts: "host", or
	// "[host]:port" for a port other than 22.
	Host string
	// KeyType is the type of the key the server offered, e.g. "ssh-ed25519".
	KeyType string
	// Fingerprint is the SHA256 fingerprint of that key, as ssh-keygen -l
	// prints it ("SHA256:...").
	Fingerprint string
	// Files are the known_hosts files consulted.
	Files []string
	// Known lists the known_hosts entries for the host that did not
	// match, as "FILE:LINE TYPE FINGERPRINT"; empty for an unknown host.
	Known []string
	// Err is ErrUnknownHost, ErrChangedHostKey or ErrRevokedHostKey.
	Err error
}

// Error says what happened, naming the host, the offered key's
// fingerprint and the known_hosts files.
func (e *HostKeyError) Error() string {
	files := "none"
	if len(e.Files) > 0 {
		files = strings.Join(e.Files, ", ")
	}
	fix := "FILE"
	if len(e.Files) == 1 {
		fix = shellWord(e.Files[0])
	}
	switch {
	case errors.Is(e.Err, ErrChangedHostKey):
		return fmt.Sprintf("remote: host key for %s changed: server offers %s %s, known_hosts has %s (known_hosts files: %s); check the master's key, then fix the entry (ssh-keygen -R %s -f %s removes it)",
			e.Host, e.KeyType, e.Fingerprint, strings.Join(e.Known, "; "), files, shellWord(e.Host), fix)
	case errors.Is(e.Err, ErrRevokedHostKey):
		return fmt.Sprintf("remote: host key for %s is revoked: server offers %s %s (known_hosts files: %s)",
			e.Host, e.KeyType, e.Fingerprint, files)
	}
	return fmt.Sprintf("remote: unknown host %s: server offers %s %s, which is in no known_hosts file (%s); check the fingerprint, then add the key (piuparts-slave known-hosts)",
		e.Host, e.KeyType, e.Fingerprint, files)
}

// Unwrap returns Err.
func (e *HostKeyError) Unwrap() error { return e.Err }

// shellWord quotes s for a shell command shown in an error when it holds
// more than letters, digits and "._-:@/".
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-:@/") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
