// Package store keeps the piuparts master's durable state: an SQLite
// database ([DB]) and piuparts' log tree ([LogTree]). It is the one owner of
// every file under the master directory (logs, markers, stamps, .kpr
// reports, submissions.txt, the compute lock, the section directories):
// [OpenMaster] opens both, and the rest of the program acts through its
// verbs.
//
// # Database
//
// [Open] opens one SQLite file through mattn/go-sqlite3 in WAL mode with a
// busy timeout, enforced foreign keys, synchronous=FULL and BEGIN IMMEDIATE
// transactions, so several master processes (one per slave connection) can
// share it: readers never wait, and each writing method is one transaction
// that takes the write lock when it begins. The schema comes from the
// embedded migrations/NNN_name.sql files; PRAGMA user_version records how
// many have run, Open applies the rest, one transaction each, and refuses a
// file written by a newer program ([ErrSchemaTooNew]).
//
// The database holds, per section:
//
//   - the section row ([Section]): configuration hash, the fingerprint of the
//     Packages file the packages came from, a generation bumped by every
//     change to packages or logs, what the states were computed from, and
//     piuparts' idle and recycle stamps;
//   - the package list ([Package], [DB.ReplacePackages], [DB.Packages]),
//     stored as JSON texts of about 16 packages each, cut where a hash of
//     the name says: a few thousand values cost a fraction of 63,000 rows
//     to write, and a new Packages file rewrites only the chunks whose
//     packages changed (compared by SHA-256); a touched but unchanged
//     Packages file only updates the fingerprint
//     ([DB.SetPackagesFingerprint]);
//   - their computed states, one row per package with its tested version
//     ([DB.SetStates], [DB.States], [DB.StateCounts]): the stored ones are
//     read in one value and compared in Go, and only the rows that changed
//     are written, as one JSON array through json_each; the reserve order
//     has a table of its own ([PackageState.Rank], [DB.ReserveNext]);
//   - reservations with leases and holders ([DB.ReserveNext], [DB.Take],
//     [DB.Unreserve], [DB.ExpireLeases]);
//   - the index of the log tree ([LogEntry], [DB.Submit], [DB.AddLog],
//     [DB.Logs]) and the history of submissions (what submissions.txt
//     records, [DB.Submissions]), each marked once its line is written;
//   - state counts over time for the report's chart ([DB.RecordStateCounts]).
//
// Methods take the current time as an argument rather than reading the
// clock, so leases can be tested without waiting. Times are stored as Unix
// seconds.
//
// # Log tree
//
// The master directory keeps piuparts' layout, so existing scripts keep
// working:
//
//	SECTION/pass/NAME_VERSION.log        successfully tested
//	SECTION/fail/NAME_VERSION.log        failed
//	SECTION/untestable/NAME_VERSION.log  could not be tested
//	SECTION/bugged/, SECTION/affected/   failed logs with known bugs
//	SECTION/recycle/, SECTION/reserved/  empty markers
//	SECTION/submissions.txt              "EPOCH RESULT NAME VERSION" lines
//
// The version in a file name keeps its epoch colon, as piuparts writes it
// (libgmp10_2:6.2.1+dfsg1-1.1.log). A submitted log is accepted by one
// call, [DB.Submit], whose return means "durable, say ok": the new log is
// synced and linked (a retest of a reserved version replaces the older log
// of the same name by rename) before any older log of the version and its
// reserved/ marker are removed; then one transaction indexes it, records
// the submission and drops the reservation; then the submissions.txt line
// is appended and synced, under a lock of the file, and the submission
// marked written. A crash between any two steps leaves the previous
// acknowledged state whole, and the resent log completes what was left: a
// log on disk without its row is indexed, a submission without its line
// gets it ([DB.WriteSubmissions], which a session's start and fsck run
// too). Directory fsyncs make each name durable.
//
// # Import and check
//
// [DB.ImportSection] adopts a section of an existing Debian piuparts master
// directory: logs are indexed (size, SHA-256, modification time as
// submission time), reserved/ markers become reservations held by
// [ImportHolder], submissions.txt lines are recorded; running it again
// changes nothing. [DB.CheckSection] compares the tree with the database
// ([Finding], [Problem]) and repairs what is safe to repair. Both read the
// tree without following symbolic links and skip unsafe names.
//
// The package never logs; every error says what was being done and wraps
// the sentinel errors in errors.go where a caller may branch on them.
package store
