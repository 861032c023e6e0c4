package runner_test

import (
	"fmt"
	"strings"

	"piuparts-server/internal/config"
	"piuparts-server/slave/runner"
)

func ExampleCommand() {
	c, err := config.Parse(strings.NewReader(`
[global]
sections = ["sid", "bookworm2trixie"]
mirror = "http://mirror.invalid/debian"
arch = "amd64"

[sid]
distro = "sid"
piuparts-flags = ["--no-symlinks"]

[bookworm2trixie]
upgrade-test-distros = ["bookworm", "trixie"]
components = ["main", "contrib"]
`), "piuparts.toml")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range []string{"sid", "bookworm2trixie"} {
		sec, _ := c.Section(name)
		tgz, _ := runner.Tarball(c, sec)
		cmd, _ := runner.Command(c, sec, "", tgz, "hello", "2.10-3", nil)
		fmt.Println(runner.CommandString(cmd))
	}
	// Output:
	// sudo piuparts --no-symlinks --mirror http://mirror.invalid/debian --arch amd64 -b ./sid_amd64.tar.gz -d sid --no-upgrade-test --apt hello=2.10-3
	// sudo piuparts --mirror 'http://mirror.invalid/debian main contrib' --arch amd64 -b ./bookworm_amd64.tar.gz -d bookworm -d trixie --apt hello=2.10-3
}

func ExampleCommandString() {
	fmt.Println(runner.CommandString([]string{"piuparts", "--mirror", "http://mirror.invalid/debian main", "--apt", "hello=2.10-3", "it's", ""}))
	// Output:
	// piuparts --mirror 'http://mirror.invalid/debian main' --apt hello=2.10-3 'it'"'"'s' ''
}
