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
package testutil
