package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Supervisor is the [supervisor] table: the options of piuparts-slave's
// manager (start, stop, status, ...), with zdaemon's names and defaults.
// Set records which keys the file set, so that the command line can
// override the file and the file the defaults.
type Supervisor struct {
	Program           Args              // program: the command to run; empty means the slave's own worker loop
	SocketName        string            // socket-name: the control socket; "" means slave-directory/supervise/control.sock
	Daemon            bool              // daemon: detach on start (default true)
	Directory         string            // directory: the program's working directory; "" means the current one
	BackoffLimit      int               // backoff-limit: seconds; runs shorter than this count as short (default 10)
	Forever           bool              // forever: never give up after backoff-limit short runs
	ExitCodes         []int             // exit-codes: exit statuses that stop the manager (default 0, 2)
	User              string            // user: run as this user (root only)
	Umask             int               // umask (default 022)
	Transcript        string            // transcript: the program's output; "" means slave-directory/transcript.log
	StopTimeout       time.Duration     // stop-timeout: SIGINT to SIGTERM, and SIGTERM to SIGKILL (default 10m)
	InactivityTimeout time.Duration     // inactivity-timeout: a silent transcript this long is warned about; 0 means idle-sleep + 30m
	Environment       map[string]string // [supervisor.environment]: variables set for the program
	Set               map[string]bool   // keys the file set
}

// Defaults of the [supervisor] table.
const (
	DefaultBackoffLimit = 10
	DefaultUmask        = 0o022
	DefaultStopTimeout  = 10 * time.Minute
)

// DefaultExitCodes is exit-codes' default, zdaemon's "0,2".
var DefaultExitCodes = []int{0, 2}

// supervisorKeyDefs are the keys of the [supervisor] table; exit-codes,
// umask and environment are read by supervisorTable itself.
var supervisorKeyDefs = []keyDef{
	{name: "program", kind: kindArgs, doc: "the command the manager runs and restarts; default: this binary's `run` with the same config"},
	{name: "socket-name", kind: kindString, doc: "the control socket (a Unix socket, mode 0600 in a 0700 directory); default: slave-directory/supervise/control.sock"},
	{name: "daemon", kind: kindBool, doc: "start detaches the manager (setsid, stdin from /dev/null); false: it stays in the foreground (systemd)"},
	{name: "directory", kind: kindString, doc: "the program's working directory; default: the directory start was run in"},
	{name: "backoff-limit", kind: kindInt, min: 1, doc: "seconds: a shorter run adds 1 s to the restart delay; that many short runs in a row and the manager gives up (FAILED)"},
	{name: "forever", kind: kindBool, doc: "never give up: the restart delay stays at backoff-limit seconds"},
	{name: "exit-codes", kind: kindString, doc: "exit statuses of the program that stop the manager with that status, e.g. \"0,2\" or [0, 2]"},
	{name: "user", kind: kindString, doc: "run the manager and the program as this user (needs root)"},
	{name: "umask", kind: kindString, doc: "umask of the manager and the program, octal"},
	{name: "transcript", kind: kindString, doc: "file receiving the program's output; reopened by reopen-transcript; default: slave-directory/transcript.log"},
	{name: "stop-timeout", kind: kindDuration, min: 0, doc: "stop: SIGINT, SIGTERM after this long, SIGKILL after as long again"},
	{name: "inactivity-timeout", kind: kindDuration, min: 0, doc: "warn when the transcript has been silent this long; 0: idle-sleep + 1800 s (detect_slave_problems)"},
}

// supervisorEnvDoc documents the [supervisor.environment] sub-table for KnownKeys.
var supervisorEnvDoc = KeyInfo{Name: "supervisor.environment.NAME", Type: "string", Default: `""`, Doc: "an environment variable set for the program"}

func defaultSupervisor() Supervisor {
	return Supervisor{
		Daemon:       true,
		BackoffLimit: DefaultBackoffLimit,
		ExitCodes:    slices.Clone(DefaultExitCodes),
		Umask:        DefaultUmask,
		StopTimeout:  DefaultStopTimeout,
		Set:          map[string]bool{},
	}
}

// supervisor reads the [supervisor] table into out.
func (p *parser) supervisor(t *table, out *Supervisor) {
	for _, k := range t.keys {
		v := t.vals[k]
		line := t.keyLine(k)
		switch k {
		case "environment":
			env, ok := v.(map[string]any)
			if !ok {
				p.errs.add(line, "supervisor", k, ErrWrongType, "key %s: want a table [supervisor.environment], have %s", quote(k), typeName(v))
				continue
			}
			out.Environment = map[string]string{}
			for name, val := range env {
				s, ok := val.(string)
				switch {
				case !ok:
					p.errs.add(line, "supervisor.environment", name, ErrWrongType, "key %s: want a string, have %s", quote(name), typeName(val))
				case name == "" || strings.ContainsAny(name, "=\x00") || strings.ContainsRune(s, 0):
					p.errs.add(line, "supervisor.environment", name, ErrInvalidValue, "key %s: not an environment variable", quote(name))
				default:
					out.Environment[name] = s
				}
			}
			out.Set[k] = true
			continue
		case "exit-codes":
			codes, err := exitCodes(v)
			if err != nil {
				p.errs.add(line, "supervisor", k, ErrInvalidValue, "key %s: %v", quote(k), err)
				continue
			}
			out.ExitCodes = codes
			out.Set[k] = true
			continue
		case "umask":
			var m int64
			var err error
			switch x := v.(type) {
			case int64:
				m = x
			case string:
				m, err = strconv.ParseInt(x, 8, 32)
			default:
				err = fmt.Errorf("want an octal string such as \"022\", have %s", typeName(v))
			}
			if err == nil && (m < 0 || m > 0o777) {
				err = fmt.Errorf("%o is not a umask", m)
			}
			if err != nil {
				p.errs.add(line, "supervisor", k, ErrInvalidValue, "key %s: %v", quote(k), err)
				continue
			}
			out.Umask = int(m)
			out.Set[k] = true
			continue
		}
		i := slices.IndexFunc(supervisorKeyDefs, func(d keyDef) bool { return d.name == k })
		if i < 0 {
			p.errs.add(line, "supervisor", k, ErrUnknownKey, "unknown key %s", quote(k))
			continue
		}
		cv, verr := convert(&supervisorKeyDefs[i], v)
		if verr != nil {
			p.errs.add(line, "supervisor", k, verr.sentinel, "key %s: %s", quote(k), verr.msg)
			continue
		}
		out.Set[k] = true
		switch k {
		case "program":
			out.Program = cv.(Args)
		case "socket-name":
			out.SocketName = cv.(string)
		case "daemon":
			out.Daemon = cv.(bool)
		case "directory":
			out.Directory = cv.(string)
		case "backoff-limit":
			out.BackoffLimit = cv.(int)
		case "forever":
			out.Forever = cv.(bool)
		case "user":
			out.User = cv.(string)
		case "transcript":
			out.Transcript = cv.(string)
		case "stop-timeout":
			out.StopTimeout = cv.(time.Duration)
		case "inactivity-timeout":
			out.InactivityTimeout = cv.(time.Duration)
		}
	}
}

// exitCodes reads exit-codes: a string of comma-separated numbers
// ("0,2", zdaemon's form) or an array of integers.
func exitCodes(v any) ([]int, error) {
	switch x := v.(type) {
	case string:
		return ParseExitCodes(x)
	case []any:
		out := make([]int, 0, len(x))
		for _, e := range x {
			n, ok := e.(int64)
			if !ok || n < 0 || n > 255 {
				return nil, fmt.Errorf("want exit statuses 0-255, have %v", e)
			}
			out = append(out, int(n))
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a string such as \"0,2\" or an array of integers, have %s", typeName(v))
}

// ParseExitCodes reads a comma-separated list of exit statuses (0-255),
// zdaemon's -x syntax: "0,2". An empty string is an empty list.
func ParseExitCodes(s string) ([]int, error) {
	out := []int{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 || n > 255 || f[0] == '+' {
			return nil, fmt.Errorf("exit status %q is not a number 0-255", f)
		}
		out = append(out, n)
	}
	return out, nil
}
