// Package sshd starts a real OpenSSH sshd on 127.0.0.1 whose authorized keys
// carry forced commands, with the client files (known_hosts, identities, an
// ssh_config and an ssh wrapper) a slave needs to reach it with the host key
// verified. Tests use it through testutil.StartSSHD; the scenario harness
// (cmd/piuparts-scenario) uses it directly.
package sshd
