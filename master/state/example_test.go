package state_test

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"piuparts-server/master/state"
)

// A Packages excerpt of bookworm main: libc6 and libgcc-s1 depend on each
// other; bsd-mailx needs an MTA, which this excerpt lacks.
const examplePackages = `Package: libc6
Version: 2.36-9+deb12u14
Depends: libgcc-s1

Package: libgcc-s1
Version: 12.2.0-14+deb12u1
Provides: libgcc1 (= 1:12.2.0-14+deb12u1)
Depends: gcc-12-base (= 12.2.0-14+deb12u1), libc6 (>= 2.35)

Package: gcc-12-base
Version: 12.2.0-14+deb12u1

Package: bsd-mailx
Version: 8.1.2-0.20220412cvs-1
Provides: mail-reader, mailx
Depends: default-mta | mail-transport-agent, libc6 (>= 2.33)
`

func ExampleCompute() {
	sec := &state.Section{Name: "bookworm", Packages: parsePackages(nil, strings.NewReader(examplePackages))}
	sec.Logs.Add(state.Pass, "gcc-12-base", "12.2.0-14+deb12u1")

	r, err := state.Compute(sec)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, sc := range r.Status() {
		if sc.Count > 0 {
			fmt.Println(sc.State, sc.Count)
		}
	}
	for _, name := range []string{"libc6", "libgcc1", "bsd-mailx", "default-mta"} {
		fmt.Println(name, r.State(name))
	}
	cycle, _ := r.DependencyCycle("libc6")
	fmt.Println("cycle:", cycle)
	for _, c := range r.Candidates(rand.New(rand.NewPCG(1, 2))) {
		fmt.Println("candidate:", c.Name, c.TestVersion, c.Weight.Waiting)
	}
	// Output:
	// successfully-tested 1
	// waiting-to-be-tested 2
	// dependency-does-not-exist 1
	// libc6 waiting-to-be-tested
	// libgcc1 waiting-to-be-tested
	// bsd-mailx dependency-does-not-exist
	// default-mta does-not-exist
	// cycle: [libc6 libgcc-s1]
	// candidate: libc6 2.36-9+deb12u14 1
	// candidate: libgcc-s1 12.2.0-14+deb12u1 1
}
