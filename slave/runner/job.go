package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"piuparts-server/internal/config"
	"piuparts-server/internal/debian"
)

// Result kinds: the spool directory and the word submitted to the master.
const (
	Pass       = "pass"
	Fail       = "fail"
	Untestable = "untestable"
)

// The ret values of the checks made before piuparts runs (all make the
// result untestable), as piuparts-slave's _test_package sets them.
const (
	RetNotFound          = -10001 // not in the distro
	RetVersionMismatch   = -10002 // the distro has another version
	RetNotFoundAnywhere  = -10003 // upgrade test: in none of the distros
	RetNotFoundFinal     = -10004 // upgrade test: not in the last distro (and version is not "None")
	RetVersionMismatchUp = -10005 // upgrade test: the last distro has another version
	RetDowngrade         = -10006 // upgrade test: the version goes down on the way
	RetNoDistros         = -10010 // the section names no distro
)

// RetKilled is ret when the timeout stopped piuparts (piuparts-slave's
// run_test_with_timeout returns -1 then). Any negative ret of a run (a
// signal, or exit status 124 or 137 from timeout(1)) is logged as killed.
const RetKilled = -1

// RetIncomplete is added to ret when piuparts' last line lacks "piuparts
// run ends".
const RetIncomplete = 1024

// Result is the outcome of one test.
type Result struct {
	Kind string // Pass, Fail or Untestable
	Ret  int    // as the log's "ret=" line
}

// Job is one package to test in one section.
type Job struct {
	Config  *config.Config
	Section *config.Section
	Archive Archive // from LoadArchive, with at least this package's name
	Name    string
	Version string
	// Tarball is the base tarball; "" means Tarball(Config, Section).
	Tarball string
	// Dir is the section directory, where piuparts runs and against which
	// relative paths of the configuration resolve (the reference runs in
	// it); "" means the current directory.
	Dir string
	// Out receives the log (it must not be nil); Test writes it as it goes
	// and never holds the whole output in memory.
	Out io.Writer
	// MaxOutput caps the bytes of piuparts' output written to Out (the
	// global max-log-size less room for the rest of the log); 0 means no
	// cap.
	MaxOutput int64
	// Timeout is piuparts-timeout; 0 means none.
	Timeout time.Duration
	// Env is piuparts' environment; nil means os.Environ(). When [global]
	// proxy is set, http_proxy is set to it, as the reference does; when
	// portserver-address is set, PORTSERVER_ADDRESS is set to it.
	Env []string
	// Now gives the Start and End times; nil means time.Now.
	Now func() time.Time
	// Grace holds the waits of the stop sequence; zero means the defaults.
	Grace Grace
}

// Test tests one package as piuparts-slave's _test_package does and writes
// its log to j.Out:
//
//	Start: 2024-05-01 12:00:00 GMT
//	(messages of the checks, the package's stanza(s))
//	Executing: setarch ... --apt hello=2.10-3
//	(piuparts' output)
//	(" *** Process KILLED - exceed maximum run time ***" or
//	 " *** PIUPARTS OUTPUT INCOMPLETE ***")
//
//	ret=0
//	End: 2024-05-01 12:05:00 GMT
//
// The checks against j.Archive come first; when one fails piuparts does
// not run and the result is Untestable with its Ret* value. Otherwise
// piuparts runs in its own process group, with the timeout and the stop
// sequence of [Grace]; the result is Pass when ret is 0, else Fail.
//
// Test returns an error, with a Result that means nothing, when the
// command cannot be built or started, when writing j.Out fails (the log is
// then incomplete), or ctx.Err() when ctx ended: piuparts has been stopped
// and the caller should abort the log, as the reference leaves it
// unfinished in new/.
func Test(ctx context.Context, j Job) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	now := j.Now
	if now == nil {
		now = time.Now
	}
	env := runEnv(j.Config, j.Env)
	sec := j.Section
	tarball := j.Tarball
	if tarball == "" {
		var err error
		if tarball, err = Tarball(j.Config, sec); err != nil {
			return Result{}, fmt.Errorf("test %s: %w", quote(j.Name), err)
		}
	}
	cmd, err := Command(j.Config, sec, j.Dir, tarball, j.Name, j.Version, lookupEnv(env))
	if err != nil {
		return Result{}, fmt.Errorf("test %s: %w", quote(j.Name), err)
	}

	log := &sink{w: j.Out}
	fmt.Fprintf(log, "Start: %s\n", stamp(now()))
	ret := check(log, sec, j.Archive, j.Name, j.Version)
	kind := Untestable
	if ret == 0 {
		fmt.Fprintf(log, "Executing: %s\n", CommandString(cmd))
		f := newFilter(log, j.MaxOutput)
		p := &process{args: cmd, dir: j.Dir, env: env, out: f, timeout: j.Timeout, grace: j.Grace}
		o, err := p.run(ctx)
		if err != nil {
			return Result{}, fmt.Errorf("test %s: %w", quote(j.Name), err)
		}
		f.finish()
		ret = o.ret
		switch {
		case o.timedOut:
			ret = RetKilled
		case ret == 124 || ret == 137:
			// timeout(1)'s statuses: piuparts was killed.
			ret = -ret
		}
		switch {
		case ret < 0:
			io.WriteString(log, " *** Process KILLED - exceed maximum run time ***\n")
		case !f.lastLineEnds():
			ret += RetIncomplete
			io.WriteString(log, " *** PIUPARTS OUTPUT INCOMPLETE ***\n")
		case sec.IsDistUpgrade() && sec.ChrootMetaAuto != "":
			// The reference chroot state is stale: let the next test
			// save a new one. Errors are ignored, as in the reference.
			if f.history.found || f.selection.found {
				os.Remove(inDir(j.Dir, RefchrootMetadata(sec)))
			}
		}
		kind = Fail
		if ret == 0 {
			kind = Pass
		}
	}
	fmt.Fprintf(log, "\nret=%d\nEnd: %s\n", ret, stamp(now()))
	if log.err != nil {
		return Result{}, fmt.Errorf("test %s: write log: %w", quote(j.Name), log.err)
	}
	return Result{Kind: kind, Ret: ret}, nil
}

// stamp formats t as the log's Start and End lines do.
func stamp(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05") + " GMT"
}

// check makes the checks of _test_package that come before piuparts runs,
// writes their messages and the package's stanza(s) to w, and returns 0
// or one of the Ret* values.
func check(w io.Writer, sec *config.Section, a Archive, name, version string) int {
	if !sec.IsDistUpgrade() {
		distro := sec.GetDistro()
		if distro == "" {
			return RetNoDistros
		}
		pkg, ok := a[distro][name]
		if !ok {
			fmt.Fprintf(w, "Package %s not found in %s\n", name, distro)
			return RetNotFound
		}
		ret := 0
		if version != pkg.Version {
			fmt.Fprintf(w, "Package %s %s not found in %s, %s is available\n", name, version, distro, pkg.Version)
			ret = RetVersionMismatch
		}
		fmt.Fprintf(w, "\n%s\n", pkg.Fields.String())
		return ret
	}

	distros := sec.Distros()
	ret := 0
	found := false
	for _, d := range distros {
		if _, ok := a[d][name]; ok {
			found = true
			break
		}
	}
	if !found {
		fmt.Fprintf(w, "Package %s not found in any distribution\n", name)
		ret = RetNotFoundAnywhere
	}
	// The version must be the one of the last distro, where the package
	// may also have disappeared (version "None").
	final := distros[len(distros)-1]
	if pkg, ok := a[final][name]; !ok {
		if version != "None" {
			fmt.Fprintf(w, "Package %s not found in %s\n", name, final)
			ret = RetNotFoundFinal
		}
	} else if version != pkg.Version {
		fmt.Fprintf(w, "Package %s %s not found in %s, %s is available\n", name, version, final, pkg.Version)
		ret = RetVersionMismatchUp
	}
	for _, d := range distros {
		fmt.Fprintf(w, "\n[%s]\n", d)
		if pkg, ok := a[d][name]; ok {
			io.WriteString(w, pkg.Fields.String())
		}
	}
	io.WriteString(w, "\n")
	if ret == 0 {
		prev := "~"
		for _, d := range distros {
			if pkg, ok := a[d][name]; ok {
				if debian.CompareVersions(prev, pkg.Version) > 0 {
					fmt.Fprintf(w, "Upgrade to %s requires downgrade: %s > %s\n", d, prev, pkg.Version)
					ret = RetDowngrade
				}
				prev = pkg.Version
			}
		}
	}
	return ret
}

// runEnv is the environment piuparts runs in: env (nil: this process's),
// with http_proxy set from [global] proxy, as piuparts-slave sets it, and
// PORTSERVER_ADDRESS from [global] portserver-address.
func runEnv(pc *config.Config, env []string) []string {
	if env == nil {
		env = os.Environ()
	}
	if p := pc.Global.Proxy; p != "" {
		env = append(env[:len(env):len(env)], "http_proxy="+p)
	}
	if a := pc.Global.PortserverAddress; a != "" {
		env = append(env[:len(env):len(env)], "PORTSERVER_ADDRESS="+a)
	}
	return env
}
