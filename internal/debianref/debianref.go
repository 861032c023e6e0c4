// Package debianref names Debian's piuparts programs, our behaviour oracle,
// and how to run one unchanged with another configuration.
//
// Debian's piuparts-master-backend and piuparts-slave read their config from
// constants (CONFIG_FILE = /etc/piuparts/piuparts.conf, DISTRO_CONFIG_FILE).
// Those are globals of the module, and a function's __globals__ is the
// module's live dictionary, so [Script] loads the program with runpy, points
// both constants elsewhere and calls its main: no mount namespace is needed.
// The tests and the scenario harness use it alike.
package debianref

// Paths of Debian's programs (packages piuparts-master and piuparts-slave);
// Python is Debian's, which has apt_pkg.
const (
	Python        = "/usr/bin/python3"
	MasterBackend = "/usr/share/piuparts/piuparts-master-backend"
	Slave         = "/usr/share/piuparts/piuparts-slave"
)

// Script runs argv[3] (one of Debian's programs) unchanged, with its config
// constants pointed at argv[1] (piuparts.conf) and argv[2] (distros.conf).
// Run it as Python -c Script CONF DISTROS PROGRAM, or from a file.
const Script = `import runpy,sys
g=runpy.run_path(sys.argv[3], run_name="piuparts_under_test")
G=g["main"].__globals__
G["CONFIG_FILE"]=sys.argv[1]
G["DISTRO_CONFIG_FILE"]=sys.argv[2]
sys.argv=sys.argv[:1]
G["main"]()
`

// Args returns the command line that runs program with the configuration
// conf and distros (see [Script]).
func Args(program, conf, distros string) []string {
	return []string{Python, "-c", Script, conf, distros, program}
}
