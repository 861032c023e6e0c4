// Package testutil holds helpers for tests only: no program imports it.
//
// [StartSSHD] runs a real OpenSSH sshd on 127.0.0.1 for one test, with a
// generated host key and one authorized key restricted to a forced
// command, and gives the client side (known_hosts, identity, an ssh_config
// and an "ssh" wrapper) that verifies the host key strictly. Tests that use
// it need root and /usr/sbin/sshd (make test-deps installs openssh-server);
// without them they skip with a message saying so.
//
// [Fixture] gives the path of an archive fixture shared by the tests of
// several packages (master/state, master, cmd/piuparts-master): one copy,
// in internal/testutil/testdata.
//
// The report's oracle: [RunDebianReport] runs Debian's piuparts-report on a
// master directory in a private mount namespace (unshare --mount), with a
// piuparts.conf written from [ReportOptions] bind-mounted over
// /etc/piuparts/piuparts.conf, and returns its output directory;
// [NeedDebianReport] skips without root or the piuparts-master package.
// [MasterDirFixture] lays out a master directory of piuparts-shaped logs for
// the packages of a Packages file (pass, fail with known-problem text,
// untestable, bugged and affected with .bug files, reserved, stale logs,
// counts.txt). [CompareReports] compares Debian's output with ours in what
// users rely on (sources.txt, summary.json, page paths, state lists, .kpr
// files), printing the first differences. [AptList] gives an uncompressed
// copy of one of apt's lists, such as all of bookworm main's Packages.
package testutil
