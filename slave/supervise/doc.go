// Package supervise is piuparts-slave's manager, after zdaemon 2.0.4: it
// runs a program (by default the slave's own worker loop, `piuparts-slave
// run`), restarts it when it exits, keeps its output in a transcript and
// answers on a control socket, which the commands start, stop, status,
// kill, reopen-transcript, join and wait of piuparts-slave talk to.
//
// # Restarts, as zdaemon's (measured on its code)
//
// A run shorter than backoff-limit seconds (default 10) is short. Each
// short run in a row adds one second to the restart delay, so the delays
// are 1, 2, 3, ... s. When the count of short runs in a row reaches
// backoff-limit, the manager gives up: with the default limit, the program
// runs 10 times with 9 delays (1 to 9 s) between them, about 45 s in all.
// zdaemon then exits 1; this manager stays, in the state FAILED, which
// status shows (exit 1) and start leaves (the count starts again). With
// forever, it never gives up and the delay stays at backoff-limit seconds.
// A run of backoff-limit seconds or more resets the count, and the restart
// is immediate. An exit status listed in exit-codes (default 0 and 2) ends
// the manager with that status, even with forever; a death by a signal is
// never one of them and always counts as a run.
//
// # Beyond zdaemon
//
//   - stop sends SIGINT to the program's process group first (the slave
//     finishes its test, ships the logs, unreserves the rest), SIGTERM after
//     stop-timeout, SIGKILL after as long again; zdaemon sends SIGTERM.
//   - The program never outlives the manager. Between them sits a keeper
//     ([Keeper], the same binary) that starts the program in a process
//     group of its own and holds the read end of a pipe whose write end only
//     the manager has: when the manager dies, even by SIGKILL, the keeper
//     sees EOF, sends SIGTERM to the group (the slave stops its test, which
//     the slave's runner stops in turn, and unreserves), and SIGKILL after
//     stop-timeout. When the program exits, what is left of its group is
//     killed. piuparts runs in a group of its own under the slave, which
//     stops it on SIGTERM; if the slave itself is killed, the kernel sends
//     piuparts SIGKILL (PR_SET_PDEATHSIG).
//   - One manager per slave-directory (a lock file naming its pid); the
//     slave's `run` takes a lock of its own, so a second one is refused too.
//   - The control socket is a Unix socket of mode 0600 in a directory of mode
//     0700, never TCP. A stale socket (its manager was killed) is told from
//     a missing one and replaced by the next manager.
//   - systemd: with NOTIFY_SOCKET set, READY=1 once the program runs,
//     WATCHDOG=1 every half WATCHDOG_USEC, STOPPING=1 on stop.
//   - Inactivity: when the program wrote nothing to the transcript for
//     inactivity-timeout (default idle-sleep + 1800 s, Debian's
//     detect_slave_problems), the manager logs one warning per silence in
//     the transcript; it does not restart the program, since a long test
//     is silent too.
//   - At start, the work of Debian's slave_cleanup on tmpdir ([Cleanup]).
//
// The control socket's protocol is zdaemon's: one command line, a
// half-close, a reply read to EOF ([Send], [ParseRequest], [ParseReply]).
package supervise
