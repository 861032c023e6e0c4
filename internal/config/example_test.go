package config_test

import (
	"fmt"
	"os"
	"strings"

	"piuparts-server/internal/config"
)

func ExampleParse() {
	const conf = `
[global]
sections = ["sid", "bookworm2trixie"]
max-reserved = 50
expire-old-days = "+30"
reschedule-old-days = 90

[sid]
distro = "sid"
piuparts-flags = "--no-symlinks --warn-on-others"

[bookworm2trixie]
upgrade-test-distros = ["bookworm", "trixie"]
depends-sections = ["sid"]
max-reserved = 20
`
	c, err := config.Parse(strings.NewReader(conf), "piuparts.toml")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range c.Global.SectionNames {
		s, _ := c.Section(name)
		fmt.Printf("%s: distro %s, max-reserved %d, flags %q, expire after %d days\n",
			name, s.GetDistro(), s.MaxReserved, []string(s.PiupartsFlags), s.ExpireOld())
	}
	// Output:
	// sid: distro sid, max-reserved 50, flags ["--no-symlinks" "--warn-on-others"], expire after 120 days
	// bookworm2trixie: distro trixie, max-reserved 20, flags [], expire after 120 days
}

func ExampleParse_error() {
	const conf = `[global]
sections = ["sid"]

[sid]
mirorr = "http://mirror.example.org/debian"
max-reserved = "50"
`
	_, err := config.Parse(strings.NewReader(conf), "piuparts.toml")
	fmt.Println(err)
	// Output:
	// piuparts.toml:5: section "sid": unknown key "mirorr" (did you mean "mirror"?)
	// piuparts.toml:6: section "sid": key "max-reserved": want an integer, have a string
}

func ExampleImportINI() {
	const ini = `[global]
sections = sid
max-reserved = 50
piuparts-command = sudo piuparts
  --scriptsdir /etc/piuparts/scripts

# install/purge tests
[sid]
description = "Debian sid / main"
distro = sid
upgrade-test-distros =
debug = no
`
	if err := config.ImportINI(strings.NewReader(ini), "piuparts.conf", os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// # Converted from piuparts.conf by piuparts-master config import.
	// [global]
	// sections = ["sid"]
	// max-reserved = 50
	// piuparts-command = ["sudo", "piuparts", "--scriptsdir", "/etc/piuparts/scripts"]
	//
	// # install/purge tests
	// [sid]
	// # The quotes are part of the value, as ConfigParser reads it; piuparts shows them.
	// description = "\"Debian sid / main\""
	// distro = "sid"
	// upgrade-test-distros = []
	// debug = false
}
