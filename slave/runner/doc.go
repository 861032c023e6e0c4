// Package runner runs one piuparts test the way Debian's piuparts-slave
// does, and keeps a section's base tarball fresh.
//
// # Command lines
//
// [Command] builds the piuparts command line of _test_package word for
// word, [TarballCommand] the one of create_chroot, and [CommandString]
// quotes a command as shlex.quote does, for the log's "Executing:" line.
// Relative paths (basetgz-directory, chroot-meta-auto) are relative to the
// section directory, where the reference runs ([Job.Dir]); [Tarball] and
// [RefchrootMetadata] join paths as Python's os.path.join, so the words
// are the reference's byte for byte. [ExpireRefchrootMetadata] drops a
// chroot-meta-auto file older than six hours, as the slave does before
// each round of tests.
//
// # Tests
//
// [LoadArchive] loads the section's Packages files, keeping only the
// reserved packages. [Test] first makes the reference's checks against
// that archive (the package is missing, has another version, would be
// downgraded on the upgrade path...), which make the result untestable
// with ret -10001 to -10010 ([RetNotFound] and following); otherwise it
// runs piuparts and writes the log as the reference does:
//
//	Start: 2024-05-01 12:00:00 GMT
//
//	Package: hello
//	Version: 2.10-3
//	...
//
//	Executing: sudo piuparts --arch amd64 -b ./bookworm_amd64.tar.gz -d bookworm --no-upgrade-test --apt hello=2.10-3
//	0m0.0s INFO: ------------------------------------------------------------------------------
//	...
//	0m59.8s INFO: PASS: All tests.
//	0m59.8s INFO: piuparts run ends.
//
//	ret=0
//	End: 2024-05-01 12:01:00 GMT
//
// The times are in UTC, written "GMT" as the reference's
// time.strftime("%Z", time.gmtime()) writes it on glibc, so the logs are
// byte-compatible with those of Debian's slave.
//
// An upgrade test dumps the stanza of each distro after a "[DISTRO]" line.
// A stanza is written as "Field: value" lines in the order of the Packages
// file, continuation lines as they were (the reference copies the file's
// lines; the two differ only for fields written without the space after
// the colon, or with trailing white space).
//
// piuparts' output goes to the log as it comes, never whole in memory:
// ESC becomes "[ESC]", and line ends are Python's universal newlines, as
// the reference reads the output as text: "\r\n" and a lone "\r" become
// "\n". Other bytes pass unchanged; invalid UTF-8, which makes the
// reference fail, is kept. A "\n" ends the output if it did not end in
// one. Past [Job.MaxOutput] bytes the rest is read but dropped, and one
// line, " *** 123456 bytes of piuparts output dropped (over max-log-size)
// ***", says how many bytes were dropped.
//
// Then, as in the reference, " *** Process KILLED - exceed maximum run
// time ***" when ret is negative (the timeout, a signal, or exit status
// 124 or 137 of timeout(1)), or " *** PIUPARTS OUTPUT INCOMPLETE ***" and
// ret+1024 when the last line lacks "piuparts run ends". The result is
// pass when ret is 0, else fail. Unlike the reference, which loses the
// output of a run that timed out, the log keeps it.
//
// # Processes
//
// piuparts runs in its own process group with stdin from /dev/null. When
// [Job.Timeout] passes or the context ends, the group gets SIGINT; after
// [Grace.Int] (30 s) piuparts gets SIGTERM, after [Grace.Term] (5 s) the
// group gets SIGKILL. However piuparts ends, what is left of its group is
// killed before piuparts is reaped, so no background process outlives a
// test. A process that left the group (setsid) is not found; if it keeps
// the output pipe open, reading stops [Grace.Drain] after piuparts ended.
// The package needs Linux (waitid).
//
// # Base tarballs
//
// [EnsureTarball] applies max-tgz-age and min-tgz-retry-delay as
// _check_tarball does, creates the tarball under a lock on TARBALL.log
// and returns when to check again.
package runner
