// Package config reads the configuration shared by piuparts-master,
// piuparts-slave and piuparts-report: the keys of piuparts'
// /etc/piuparts/piuparts.conf, with the same names and meanings, written
// in TOML.
//
//	[global]                         # farm-wide keys, and defaults for every section
//	sections = ["sid", "bookworm2trixie"]
//	master-host = "localhost"
//	max-reserved = 50
//
//	[sid]                            # one table per listed section
//	distro = "sid"
//	piuparts-flags = ["--no-symlinks"]
//
//	[bookworm2trixie]
//	upgrade-test-distros = ["bookworm", "trixie"]
//	depends-sections = ["sid"]
//	max-reserved = 20                # overrides [global]
//
//	[distros.bookworm-backports]     # what Debian keeps in distros.conf
//	depends = ["bookworm"]
//	target-release = "bookworm-backports"
//
// As in the reference, a section's value of a key is its own, else the one
// in [global], else the builtin default; [Parse] resolves them all, so
// [Config.Section] returns settings with nothing left to look up except
// what depends on the machine: arch and mirror stay empty unless set, and
// [Config.ApplyHost] fills them from [DetectHost] (dpkg and the apt
// sources) when the caller wants the reference's behaviour.
//
// Values are typed: integers, floats, booleans, and TOML arrays for lists.
// Where piuparts splits a value on whitespace (lists and the command keys
// piuparts-command, piuparts-flags and setarch) a string is accepted and
// split the same way; an array lets a command word hold spaces.
// expire-old-days and expire-fail-days take a number or a string "+N"
// ([Days]). Durations (timeouts, waits, ages) are time.Duration: an
// integer is seconds, as in piuparts.conf, and a string is Go's duration
// syntax with a leading number of days allowed ("45s", "90m", "1h30m",
// "2d", "1.5d", "1d12h"). Keys this implementation adds: master-port, ssh-identity,
// ssh-known-hosts, reserved-expire (the reservation lease), db,
// max-command-line, max-log-size, read-idle-timeout, session-timeout and
// write-timeout (the master's session limits), max-reserved-per-slave
// ([Section.ReservedCap]), log-level ([Section.Level]) and log-format.
// Section names (in sections, basetgz-sections and depends-sections)
// follow the farm's one rule, piuparts.ValidSectionName. [KnownKeys] lists
// them all with their defaults; deploy/piuparts.toml is the annotated
// example.
//
// Checking is strict, unlike ConfigParser's: an unknown key, a wrong type,
// a listed section without a table, a table nobody lists, or a section name
// that could escape its directory is an [*Error] naming the place:
//
//	piuparts.toml:12: section "sid": unknown key "mirorr" (did you mean "mirror"?)
//
// [ImportINI] converts an existing piuparts.conf, comments included.
package config
