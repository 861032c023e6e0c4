// Package remote is the piuparts slave's connection to a master: the
// transport (SSH, or a local master command over pipes) and the protocol
// client on top, with the semantics of Debian's piuparts-slave (class
// Slave).
//
// [Dial] connects as [Options] say: over SSH with golang.org/x/crypto/ssh,
// authenticating with the identity files and ssh-agent's keys, and
// checking the master's host key against known_hosts (an unknown host or
// a changed key is refused with a [*HostKeyError]); or, for Host "local",
// by starting the master command as a child process. The master greets
// with "hello"; then each [Client] method sends one command and reads the
// answer:
//
//	method      sends                          success answer
//	Section     section NAME                   ok (busy: ErrBusy)
//	Recycle     recycle                        ok (else ErrCantRecycle)
//	Idle        idle                           ok N (seconds to wait)
//	Reserve     reserve                        ok NAME VERSION (error: nothing to do)
//	Unreserve   unreserve NAME VERSION         ok
//	Submit      pass|fail|untestable NAME VER  ok, after the log as long part
//	Status      status                         ok WORDS...
//
// The slave may assume that a command succeeded only when its method
// returns nil. Any other well-formed answer is an [*AnswerError] and
// leaves the connection usable; a timeout, a cancelled context, a broken
// stream or a garbled answer closes it (later calls return [ErrClosed]).
//
// # Timeouts
//
// Options.ConnectTimeout bounds connecting, the SSH handshake and reading
// "hello". Options.ReadTimeout bounds the wait for any one answer, and for
// the master to accept more of a log. SSH keepalives every
// Options.KeepAlive detect a dead master or network between calls and
// during long waits. Cancelling the context of a blocked call closes the
// connection and makes the call return ctx.Err().
package remote
