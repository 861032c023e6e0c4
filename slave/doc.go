// Package slave is the worker loop of piuparts-slave: it picks a section,
// asks the master for packages, tests them with piuparts and sends the logs
// back, the way Debian's piuparts-slave does, so that it works against
// Debian's piuparts-master as well as ours.
//
// One [Run] drives slave-count workers. Worker N keeps its spools under
// slave-directory/N/SECTION (the layout of Debian's slave_run), so two
// workers never share a reservation and the master, which hands out every
// package once, never gives them the same package.
//
// Run holds slave-directory/run.lock while it runs, so that a second slave
// on the same directory is refused at once, naming the pid of the first.
// Each worker publishes what it does (testing which package of which
// section, n of the batch, sleeping until when) in slave-directory/N/
// status.json, written atomically at each change; [ReadStatus] reads them
// for piuparts-slave status.
//
// A worker's round, as in the reference:
//   - sections are tried by precedence, then by the time they are due
//     (round-robin within one precedence); only the first section that gets
//     work tests in a round, the others just ship finished logs;
//   - a section ships its finished logs ([spool.Spool.Ship]), asks idle,
//     then reserves up to max-reserved packages, asks status and closes the
//     connection before testing;
//   - a master that answers busy is left alone for 60–180 s, one that cannot
//     be reached or breaks the protocol for unreachable-wait seconds;
//   - when no section had work, sections are asked to recycle; when that
//     gives nothing either, the worker sleeps until the first section is due
//     (at most idle-sleep).
//
// Signals arrive through a [Control]: Stop (SIGINT) lets the running test
// finish, ships what is done, unreserves the rest and returns; cancelling
// the context (a second SIGINT, SIGTERM) also stops the running test, whose
// package is unreserved too. Flush (SIGHUP) ships finished logs before
// going on; Restart (SIGUSR1) makes Run return [ErrRestart] after the round.
package slave
