// Package spool is the slave's durable store-and-forward spool of test logs
// for one section: a log is written here while piuparts runs and kept until
// the master has answered "ok" to its submission.
//
// The on-disk layout is the one Debian's piuparts-slave uses, so that a
// Debian slave directory can be taken over by this slave and back:
//
//	slave-directory/SECTION/
//	    slave.lock                      flock(2)ed while a slave works on the section
//	    reserved/NAME_VERSION.log       empty marker: the master reserved this version for us
//	    new/NAME_VERSION.log            the log of the test running now
//	    pass/NAME_VERSION.log           finished logs waiting to be shipped,
//	    fail/NAME_VERSION.log           one directory per result
//	    untestable/NAME_VERSION.log
//
// The version keeps its epoch colon ("libgmp10_2:6.2.1+dfsg1-1.1.log").
// Only names that [ParseLogName] accepts are spool entries; other files
// (temporary files, hidden files, links, names that are not a Debian package
// name and version) are ignored and never shipped.
//
// A version goes through the spool like this:
//
//	[Spool.Reserve]            reserved/x created with O_EXCL, directory fsynced
//	[Spool.Create]             new/x (a stale new/x from a crash is replaced)
//	[Log.Write] ...
//	[Log.Commit]("fail")       fsync new/x, rename to fail/x, fsync fail/ and new/,
//	                           remove reserved/x, fsync reserved/
//	[Spool.Ship]               send fail/x; only when send returned nil: remove fail/x,
//	                           fsync fail/, one line in the shipping log
//
// A crash at any point leaves either the finished log, to be shipped again,
// or the reservation, to be tested again: [Spool.Reserved] drops a marker
// whose log is already finished, and a finished log is never partial because
// it is synced before it is renamed. Shipping is at least once: a crash after
// the master answered "ok" but before the log was removed ships it again.
//
// [Spool.Lock] takes the same lock as Debian's piuparts-slave, an exclusive
// non-blocking flock on SECTION/slave.lock, so that our slave and Debian's
// never work on one section at once. [Spool.Ship] takes that lock itself
// unless the Spool already holds it.
//
// # Shipping log
//
// When [Options.ShipLog] names a file, each shipped log appends one line to
// it, written with O_APPEND in a single write so that several spools (all
// the sections of a slave) can share the file. The fields are separated by
// one tab:
//
//	TIME MASTER SECTION PACKAGE VERSION RESULT BYTES SECONDS
//	2024-05-01T12:00:03Z	piupartsm@master:22	sid	hello	2.10-3	pass	48213	0.125
//
// TIME is RFC 3339 in UTC, when the master answered; MASTER is
// [Options.Master] ("-" when empty); BYTES the log's size; SECONDS how long
// sending took, with millisecond precision.
package spool
