// Package master is the piuparts master: one forced-command connection of a
// slave ([Serve]), speaking the line protocol of package protocol on the
// connection's standard input and output, with the semantics of Debian's
// piuparts-master-backend.
//
// # Commands
//
// The master greets with "hello". Nothing but "section NAME" is accepted
// until a section was chosen; "section" may be sent again to switch, which
// starts the new section afresh (recycle mode and the idle flag are
// reset). The commands and their answers:
//
//	section NAME          ok; error for a section the config does not list;
//	                      busy when the database cannot be read
//	recycle               ok when SECTION/recycle/ holds a marker and no
//	                      state was computed yet in this section; else error
//	idle                  ok N: the idle stamp is valid N more seconds
//	                      (0: not known to be idle)
//	reserve               ok NAME TESTVERSION, or error when nothing is left
//	unreserve NAME VER    ok
//	pass|fail|untestable NAME VER + long part
//	                      ok, once the log is on disk and in the index;
//	                      a log already there is a duplicate: logged, ok
//	status                ok [(recycle)] STATE=N ... total=N
//	_state NAME           ok STATE TESTVERSION
//	_depends NAME, _recursive-depends NAME, _depcycle NAME
//	                      ok NAMES..., or error for a name that is not a
//	                      package of the section
//	_list STATE           ok NAMES... (sorted), or error for an unknown state
//
// Anything else — an unknown command, a wrong argument count, a package
// name or version that is not valid (and so could escape a directory), a
// line or log over the limits, a long part cut short, an idle timeout — ends
// the connection: the master logs why, stores nothing of that command, and
// Serve returns an error (the program exits non-zero). The master never
// runs anything a client sends.
//
// # Storage
//
// The store owns the master directory ([store.DB], opened with
// store.OpenMaster): master/ touches no file under it itself. A submitted
// log crosses from master to store once: cmdSubmit hands the long part's
// reader to [store.DB.Submit], which writes the log durably (temporary
// file, fsync, link or, for a retest of a reserved version, rename;
// directory fsync) before it removes the version's older logs and its
// reserved/ marker, then indexes it, drops the reservation and appends the
// submissions.txt line (the index is the truth: a line a crash left out is
// written by the next submission, a session's start or fsck); only when it
// returns does the master answer ok. The marker files keep piuparts'
// meaning, so Debian's cron scripts and piuparts-report keep working on the
// tree:
//
//   - reserve creates an empty SECTION/reserved/NAME_VERSION.log, as the
//     reference does, besides the reservation row with its lease
//     ([store.DB.ReserveNext], [store.DB.Take]). A marker the database does
//     not know (left by another program, or moved back by hand) blocks its
//     package, as in piuparts. In recycle mode, reserve removes the
//     package version's logs other than pass/ and its recycle/ marker; it
//     always removes the recycle/ marker of what it reserves.
//   - unreserve removes the reserved marker and the reservation, and puts
//     back a recycle/ marker when the version had a log (piupartslib's
//     unreserve_package). With an identity (Config.Identified, from
//     --slave-id) a slave may give back only its own reservations and
//     holds at most the section's max-reserved of them.
//   - an expired lease (reserved-expire) releases the reservation and its
//     marker; the master logs it.
//   - SECTION/idle.stamp and SECTION/recycle.stamp are written and removed
//     as the reference does; reschedule_oldest_logs reads them.
//
// # Cache
//
// Parsing Packages files and computing states is what makes the reference
// slow. The master keeps the parsed package list and the computed states
// (with the reserve order as ranks) in the database, keyed by the inputs
// they came from ([Cache], which any program can use: a connection holds
// one): the contents of the Packages files (of the section and of
// its depends-sections, and of the final distro of an upgrade test), the
// modification times of the log directories (pass, fail, untestable,
// bugged, affected, recycle) of those sections, the section's generation in
// the database (bumped by every indexed log) and recycle mode. The contents
// are known by a hash, taken again only when a file's name, size or
// modification time changed (store.Fingerprint.Stat): a touched but
// unchanged Packages file costs one hash and keeps the states
// (store.DB.SetPackagesFingerprint). When the key matches, status and
// reserve read the stored states and touch no Packages file; otherwise one
// process computes them (holding SECTION/.compute.lock) and stores them
// with the new key, and the others wait for that one computation and take
// its states, even when a log arrived meanwhile (reserve checks logs and
// reservations itself): a connection never waits for more than the
// computation in progress. A computation decompresses and parses the
// Packages files on other goroutines while it reconciles the log index
// with the tree, and sorts the packages by name (the store's order) while
// the states are computed. It lists each log directory
// once (for the index check and the algorithm) and writes only what
// changed: the chunks of the package list that hold changed packages, the
// rows of changed states, and the reserve order, which is new every time.
// Changes to reserved/ do not invalidate the
// states: a reservation does not change its package's state. Packages served
// over http(s) have no cheap fingerprint: they are fetched and parsed on
// every cold start, and their states are cached under the key of what was
// fetched.
//
// On bookworm main (63,436 packages) BenchmarkColdStatus (Packages file
// changed) and BenchmarkWarmStatus/BenchmarkWarmReserve measure the two
// paths; by hand:
//
//	lz4 -dc /var/lib/apt/lists/*bookworm_main_binary-amd64_Packages* \
//	    > MIRROR/dists/bookworm/main/binary-amd64/Packages
//	printf 'section bookworm\nstatus\n' | piuparts-master -c CONF
package master
