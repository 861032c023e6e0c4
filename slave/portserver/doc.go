// Package portserver is a port allocator that speaks the protocol of
// Debian's portserver (python3-portpicker), so that portpicker clients
// work unchanged: a test that needs a network port asks the server for
// one instead of guessing, and no two live processes get the same port.
//
// # Wire protocol
//
// The server listens on an AF_UNIX stream socket; an address with a
// leading "@" is in the abstract namespace (see [Listen]). A client
// connects, writes the decimal pid of the process the port is for and a
// newline, and reads the answer: a port and a newline, then the server
// closes. When it will not allocate (a malformed request, a pid that is
// not a live process, a full pool) it closes without writing a byte.
// One request per connection:
//
//	C: 4242\n
//	S: 15001\n
//	(server closes)
//
// # Ownership
//
// A port belongs to one process, identified by its pid and its start time
// (/proc/PID/stat field 22), so a reused pid never inherits a dead
// process's ports. The server watches each owner through a pidfd and puts
// its ports back in the pool as soon as it exits (a zombie counts as
// exited). Before a port is handed out it is checked free for TCP and UDP
// on IPv6 and IPv4 ([IsPortFree]), as the reference does.
//
// # Files
//
// request.go parses a request ([ReadRequest], [ParseRequest]); pool.go
// holds the ports, their owners and the free list ([ParsePool], [Pool]);
// proc.go identifies processes (pid, start time, pidfd); bind.go is the
// free-port check; raw.go has the system calls of a grant that cannot
// block, made without the scheduler's bookkeeping; table.go keeps the
// owner table on disk, an append-only change log, so that grants survive
// a restart; listen.go opens the socket ([Listen]); server.go is the
// server loop ([Server]); client.go is a client ([Request]) for tests and
// tools.
package portserver
