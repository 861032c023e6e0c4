package config

import (
	"cmp"
	"slices"
	"strconv"
	"time"
)

// kind is the type of a key's value.
type kind int

const (
	kindString   kind = iota // TOML string
	kindInt                  // TOML integer
	kindFloat                // TOML float (an integer is accepted)
	kindBool                 // TOML boolean
	kindNames                // array of names without whitespace (a string is split on whitespace)
	kindArgs                 // command-line words: array of strings, or a string split on whitespace
	kindDays                 // integer days, or a string "+N" relative to another key
	kindDuration             // integer seconds, or a string such as "90m" or "2d"
)

func (k kind) String() string {
	switch k {
	case kindInt:
		return "integer"
	case kindFloat:
		return "float"
	case kindBool:
		return "boolean"
	case kindNames:
		return "list"
	case kindArgs:
		return "command"
	case kindDays:
		return "days"
	case kindDuration:
		return "duration"
	}
	return "string"
}

// nameRule says how the elements of a kindNames list are checked.
type nameRule int

const (
	anyName     nameRule = iota // non-empty, no whitespace or control characters
	sectionName                 // also path-safe, see checkSectionName
)

// keyDef describes one key: its type, where it may appear, its builtin
// default and a one-line description (the example file and [KnownKeys]
// show them).
type keyDef struct {
	name   string
	kind   kind
	global bool  // only valid in [global]
	min    int64 // for a duration: in seconds
	max    int64 // 0: no maximum
	rule   nameRule
	// choices, if set, are the values a string key accepts.
	choices []string
	def     any // builtin default, typed like the field
	defDoc  string
	doc     string
	// sec or glob points at the field that holds the value.
	sec  func(*Section) any
	glob func(*Global) any
}

const noMin = -1 << 62

// keyDefs is every key of piuparts.conf plus our own. Defaults are the
// reference's (piuparts-slave, piuparts-report, piuparts-master-backend and
// the master/slave shell scripts); where they disagree the one that acts on
// the key wins, and the choice is noted.
var keyDefs = []keyDef{
	// Keys only meaningful in [global].
	{name: "sections", kind: kindNames, global: true, rule: sectionName, def: []string{"sid"},
		doc:  "sections processed in master-slave mode, in this order; each needs a table",
		glob: func(g *Global) any { return &g.SectionNames }},
	{name: "basetgz-sections", kind: kindNames, global: true, rule: sectionName, def: []string(nil),
		doc:  "sections only used by the slave to maintain base tarballs; each needs a table",
		glob: func(g *Global) any { return &g.BasetgzSections }},
	{name: "master-directory", kind: kindString, global: true, def: ".",
		doc:  "directory where the master keeps its files (relative: to the master user's home)",
		glob: func(g *Global) any { return &g.MasterDirectory }},
	{name: "slave-directory", kind: kindString, global: true, def: "",
		doc:  "directory where the slave keeps its files (relative: to the slave user's home)",
		glob: func(g *Global) any { return &g.SlaveDirectory }},
	{name: "slave-count", kind: kindInt, global: true, min: 1, def: 1,
		doc:  "number of concurrent slave workers to start",
		glob: func(g *Global) any { return &g.SlaveCount }},
	{name: "output-directory", kind: kindString, global: true, def: "html",
		doc:  "where piuparts-report writes logs, HTML pages and charts for the web server",
		glob: func(g *Global) any { return &g.OutputDirectory }},
	{name: "backup-directory", kind: kindString, global: true, def: "",
		doc:  "where prepare_backup copies the history data; empty: no backups",
		glob: func(g *Global) any { return &g.BackupDirectory }},
	{name: "web-host", kind: kindString, global: true, def: "piuparts.debian.org",
		doc:  "domain name of the report web server (used in summary.json URLs)",
		glob: func(g *Global) any { return &g.WebHost }},
	{name: "doc-root", kind: kindString, global: true, def: "/",
		doc:  "path under which the web server serves the report",
		glob: func(g *Global) any { return &g.DocRoot }},
	{name: "urlbase", kind: kindString, global: true, def: "https://piuparts.debian.org",
		doc:  "base URL of the report, for links in e-mailed reports",
		glob: func(g *Global) any { return &g.URLBase }},
	{name: "known-problem-directory", kind: kindString, global: true, def: "/usr/share/piuparts/known_problems",
		doc:  "directory holding the known-problem definitions (*.conf)",
		glob: func(g *Global) any { return &g.KnownProblemDirectory }},
	{name: "proxy", kind: kindString, global: true, def: "",
		doc:  "http_proxy for fetching Packages files and .debs; empty: the environment's http_proxy",
		glob: func(g *Global) any { return &g.Proxy }},
	{name: "portserver-address", kind: kindString, global: true, def: "",
		doc:  "PORTSERVER_ADDRESS given to piuparts jobs (a piuparts-portserver's socket, @NAME: abstract); empty: none",
		glob: func(g *Global) any { return &g.PortserverAddress }},
	{name: "PYTHONPATH", kind: kindString, global: true, def: "",
		doc:  "search path of the Python piupartslib (ignored by these programs, kept for the reference's scripts)",
		glob: func(g *Global) any { return &g.PythonPath }},
	{name: "testing-suite", kind: kindString, global: true, def: "",
		doc:  "name of the current testing suite, for the reference's maintenance scripts",
		glob: func(g *Global) any { return &g.TestingSuite }},
	{name: "reschedule-untestable-days", kind: kindInt, global: true, min: 0, def: 7,
		doc:  "days after which untestable packages are rescheduled",
		glob: func(g *Global) any { return &g.RescheduleUntestableDays }},
	{name: "db", kind: kindString, global: true, def: DefaultDB,
		doc:  "the master's SQLite database (relative: to master-directory)",
		glob: func(g *Global) any { return &g.DB }},
	{name: "max-command-line", kind: kindInt, global: true, min: 64, def: DefaultMaxCommandLine,
		doc:  "longest protocol command line the master accepts, in bytes",
		glob: func(g *Global) any { return &g.MaxCommandLine }},
	{name: "max-log-size", kind: kindInt, global: true, min: 1024, max: 1 << 40, def: DefaultMaxLogSize,
		doc:  "largest log (long part) the master accepts, in bytes",
		glob: func(g *Global) any { return &g.MaxLogSize }},
	{name: "read-idle-timeout", kind: kindDuration, global: true, min: 1, def: DefaultReadIdleTimeout,
		doc:  "how long the master waits for the next line before it hangs up",
		glob: func(g *Global) any { return &g.ReadIdleTimeout }},
	{name: "session-timeout", kind: kindDuration, global: true, min: 1, def: DefaultSessionTimeout,
		doc:  "longest a master session may last in all, however busy (Debian's wrapper: timeout 15m)",
		glob: func(g *Global) any { return &g.SessionTimeout }},
	{name: "write-timeout", kind: kindDuration, global: true, min: 1, def: DefaultWriteTimeout,
		doc:  "how long the master waits for the client to take one answer before it hangs up",
		glob: func(g *Global) any { return &g.WriteTimeout }},
	{name: "master-server", kind: kindBool, global: true, def: true,
		doc:  "serve the slaves' connections from one long-lived process per master directory, started by the first connection: states stay in memory and logs commit in groups (false: each connection works alone, as the reference's)",
		glob: func(g *Global) any { return &g.MasterServer }},
	{name: "master-server-idle", kind: kindDuration, global: true, min: 1, def: DefaultMasterServerIdle,
		doc:  "how long the master server waits without a connection before it exits",
		glob: func(g *Global) any { return &g.MasterServerIdle }},
	{name: "log-format", kind: kindString, global: true, def: DefaultLogFormat, choices: []string{FormatText, FormatJSON, FormatAuto},
		defDoc: `"" (text on a terminal, JSON otherwise)`,
		doc:    "format of the programs' logs: \"text\", \"json\" or \"\" (automatic)",
		glob:   func(g *Global) any { return &g.LogFormat }},

	// Section keys: valid in a section and, as a default, in [global].
	{name: "master-host", kind: kindString, def: "",
		doc: "host the slave connects to with ssh (mandatory for the slave)",
		sec: func(s *Section) any { return &s.MasterHost }},
	{name: "master-user", kind: kindString, def: "",
		doc: "user the slave logs in as on master-host (mandatory for the slave)",
		sec: func(s *Section) any { return &s.MasterUser }},
	{name: "master-command", kind: kindString, def: "",
		doc: "command run on master-host; better forced in the master's authorized_keys",
		sec: func(s *Section) any { return &s.MasterCommand }},
	{name: "master-port", kind: kindInt, min: 1, max: 65535, def: DefaultMasterPort,
		doc: "ssh port of master-host",
		sec: func(s *Section) any { return &s.MasterPort }},
	{name: "ssh-identity", kind: kindString, def: "",
		doc: "private key file the slave authenticates with; empty: ssh's defaults in ~/.ssh",
		sec: func(s *Section) any { return &s.SSHIdentity }},
	{name: "ssh-known-hosts", kind: kindString, def: "",
		doc: "known_hosts file holding master-host's key; empty: ~/.ssh/known_hosts",
		sec: func(s *Section) any { return &s.SSHKnownHosts }},
	{name: "connect-timeout", kind: kindDuration, min: 1, def: DefaultConnectTimeout,
		doc: "how long the slave waits for the master's ssh connection and its hello",
		sec: func(s *Section) any { return &s.ConnectTimeout }},
	{name: "unreachable-wait", kind: kindDuration, min: 0, def: DefaultUnreachableWait,
		doc: "how long the slave leaves a section alone after its master could not be reached or failed",
		sec: func(s *Section) any { return &s.UnreachableWait }},
	{name: "piuparts-timeout", kind: kindDuration, min: 0, def: DefaultPiupartsTimeout,
		doc: "how long one piuparts run may take before its process group is stopped; 0: no limit",
		sec: func(s *Section) any { return &s.PiupartsTimeout }},
	{name: "reserved-expire", kind: kindDuration, min: 60, def: DefaultReservedExpire,
		doc: "time after which the master takes back a reservation the slave did not submit",
		sec: func(s *Section) any { return &s.ReservedExpire }},
	{name: "idle-sleep", kind: kindDuration, min: 0, def: DefaultIdleSleep,
		doc: "how long the slave waits before asking again when the master had nothing to test",
		sec: func(s *Section) any { return &s.IdleSleep }},
	{name: "max-tgz-age", kind: kindDuration, min: noMin, def: DefaultMaxTgzAge,
		doc: "age after which base tarballs are recreated; 0: never, negative: never check",
		sec: func(s *Section) any { return &s.MaxTgzAge }},
	{name: "min-tgz-retry-delay", kind: kindDuration, min: 0, def: DefaultMinTgzRetryDelay,
		doc: "minimum time between attempts to recreate an outdated tarball",
		sec: func(s *Section) any { return &s.MinTgzRetryDelay }},
	{name: "log-file", kind: kindString, def: "", defDoc: `"" (section: SECTION/master.log; global: master-error.log)`,
		doc: "file the master logs to; \"/dev/null\" disables logging",
		sec: func(s *Section) any { return &s.LogFile }},
	{name: "setarch", kind: kindArgs, def: Args(nil),
		doc: "arguments of a setarch command put before piuparts-command (e.g. linux32)",
		sec: func(s *Section) any { return &s.Setarch }},
	{name: "piuparts-command", kind: kindArgs, def: Args{"sudo", "piuparts"},
		doc: "command that starts piuparts, with the flags common to all sections",
		sec: func(s *Section) any { return &s.PiupartsCommand }},
	{name: "piuparts-flags", kind: kindArgs, def: Args(nil),
		doc: "section-specific flags appended to piuparts-command",
		sec: func(s *Section) any { return &s.PiupartsFlags }},
	{name: "tmpdir", kind: kindString, def: "",
		doc: "scratch area for the chroots; not on a nodev or nosuid file system (mandatory for the slave)",
		sec: func(s *Section) any { return &s.Tmpdir }},
	{name: "description", kind: kindString, def: "",
		doc: "synopsis for the report; a leading (trailing) \"+\" appends to (prepends to) the generated one",
		sec: func(s *Section) any { return &s.Description }},
	{name: "mirror", kind: kindString, def: "", defDoc: `"" (the first Debian URI in this machine's apt sources)`,
		doc: "archive the slave gives piuparts and the master and report fetch Packages/Sources from",
		sec: func(s *Section) any { return &s.Mirror }},
	{name: "distro", kind: kindString, def: "",
		doc: "distribution to test; with upgrade-test-distros, where packages come from; \"None\": tarball only",
		sec: func(s *Section) any { return &s.Distro }},
	{name: "area", kind: kindString, def: "main",
		doc: "archive area whose Packages file lists the packages to test",
		sec: func(s *Section) any { return &s.Area }},
	{name: "components", kind: kindNames, def: []string(nil), defDoc: "[] (all components)",
		doc: "archive areas enabled in the chroot's sources.list",
		sec: func(s *Section) any { return &s.Components }},
	{name: "arch", kind: kindString, def: "", defDoc: `"" (dpkg --print-architecture)`,
		doc: "architecture to test",
		sec: func(s *Section) any { return &s.Arch }},
	{name: "chroot-tgz", kind: kindString, def: "", defDoc: `"" (named after the start distro and arch)`,
		doc: "file name of the base chroot tarball",
		sec: func(s *Section) any { return &s.ChrootTgz }},
	{name: "basetgz-directory", kind: kindString, def: ".",
		doc: "directory holding chroot-tgz",
		sec: func(s *Section) any { return &s.BasetgzDirectory }},
	{name: "chroot-meta-auto", kind: kindString, def: "",
		doc: "file caching the reference chroot metadata for dist-upgrade tests; empty: off",
		sec: func(s *Section) any { return &s.ChrootMetaAuto }},
	{name: "chroot-meta-directory", kind: kindString, def: "",
		doc: "directory for chroot-meta-auto; empty: the section directory",
		sec: func(s *Section) any { return &s.ChrootMetaDirectory }},
	{name: "upgrade-test-distros", kind: kindNames, def: []string(nil),
		doc: "distributions to upgrade through; set: dist-upgrade tests instead of install/purge",
		sec: func(s *Section) any { return &s.UpgradeTestDistros }},
	{name: "max-reserved", kind: kindInt, min: 0, def: 1,
		doc: "packages the slave reserves at once; 0 disables the section",
		sec: func(s *Section) any { return &s.MaxReserved }},
	{name: "max-reserved-per-slave", kind: kindInt, min: 0, def: DefaultMaxReservedPerSlave, defDoc: "0 (max-reserved)",
		doc: "most packages the master lets one slave hold reserved in a section; 0: max-reserved",
		sec: func(s *Section) any { return &s.MaxReservedPerSlave }},
	{name: "keep-sources-list", kind: kindBool, def: false,
		doc: "run piuparts with --keep-sources-list (not for upgrade tests)",
		sec: func(s *Section) any { return &s.KeepSourcesList }},
	{name: "precedence", kind: kindInt, min: noMin, def: 1,
		doc: "order of sections in the slave: smaller runs first, equal ones round-robin",
		sec: func(s *Section) any { return &s.Precedence }},
	{name: "depends-sections", kind: kindNames, rule: sectionName, def: []string(nil),
		doc: "sections searched for dependencies missing from this (partial) one",
		sec: func(s *Section) any { return &s.DependsSections }},
	{name: "debug", kind: kindBool, def: false,
		doc: "log debug messages in the slave",
		sec: func(s *Section) any { return &s.Debug }},
	{name: "log-level", kind: kindString, def: DefaultLogLevel, choices: []string{LevelError, LevelWarn, LevelInfo, LevelDebug},
		doc: "least severe messages logged: error, warn, info or debug (debug = true: debug)",
		sec: func(s *Section) any { return &s.LogLevel }},
	{name: "reschedule-old-days", kind: kindInt, min: 0, def: 180,
		doc: "age in days after which passed logs are marked for retesting",
		sec: func(s *Section) any { return &s.RescheduleOldDays }},
	{name: "reschedule-old-count", kind: kindInt, min: 0, def: 200,
		doc: "most passed logs marked for retesting per run; 0: none",
		sec: func(s *Section) any { return &s.RescheduleOldCount }},
	{name: "expire-old-days", kind: kindDays, def: Days{}, defDoc: "0 (disabled)",
		doc: "age in days after which passed logs marked for retesting are deleted; \"+N\": reschedule-old-days + N",
		sec: func(s *Section) any { return &s.ExpireOldDays }},
	{name: "reschedule-fail-days", kind: kindInt, min: 0, def: 30,
		doc: "age in days after which failed logs are marked for retesting",
		sec: func(s *Section) any { return &s.RescheduleFailDays }},
	{name: "reschedule-fail-count", kind: kindInt, min: 0, def: 25,
		doc: "most failed logs marked for retesting per run; 0: none",
		sec: func(s *Section) any { return &s.RescheduleFailCount }},
	{name: "expire-fail-days", kind: kindDays, def: Days{}, defDoc: "0 (disabled)",
		doc: "age in days after which failed logs marked for retesting are deleted; \"+N\": reschedule-fail-days + N",
		sec: func(s *Section) any { return &s.ExpireFailDays }},
	{name: "auto-reschedule", kind: kindBool, def: true,
		doc: "mark old passed and failed logs for retesting",
		sec: func(s *Section) any { return &s.AutoReschedule }},
	{name: "keep-bugged", kind: kindBool, def: false,
		doc: "keep logs in bugged/ instead of moving them back to fail/ when their bug is closed",
		sec: func(s *Section) any { return &s.KeepBugged }},
	{name: "json-sections", kind: kindNames, def: []string{"default"},
		doc: "names under which results go in summary.json; [\"default\"]: guessed, [\"none\"]: no summary",
		sec: func(s *Section) any { return &s.JSONSections }},
	{name: "exclude-known-problems", kind: kindNames, def: []string(nil),
		doc: "known-problem files (with .conf) not applied to this section",
		sec: func(s *Section) any { return &s.ExcludeKnownProblems }},
	{name: "slave-load-max", kind: kindFloat, def: 0.0,
		doc: "load average above which the slave sleeps until it drops below this - 1; below 1: off",
		sec: func(s *Section) any { return &s.SlaveLoadMax }},
	{name: "slave-flush-interval", kind: kindDuration, min: 0, def: time.Duration(0),
		doc: "time of work on a busy section after which the slave submits finished logs; 0: off",
		sec: func(s *Section) any { return &s.SlaveFlushInterval }},
}

// distroKeyDefs are the keys of a [distros.NAME] table, as in Debian's
// /etc/piuparts/distros.conf.
var distroKeyDefs = []keyDef{
	{name: "uri", kind: kindString, doc: "archive URI; \"None\": a virtual distro made of its depends"},
	{name: "distribution", kind: kindString, doc: "name of the distribution in the archive (dists/NAME)"},
	{name: "components", kind: kindNames, doc: "components available from this distro"},
	{name: "target-release", kind: kindString, doc: "adds apt-get -t TARGET-RELEASE"},
	{name: "depends", kind: kindNames, doc: "parent distros, also put in sources.list (resolved recursively)"},
	{name: "candidates", kind: kindNames, doc: "distros whose Packages files are merged to pick the packages to test"},
}

// keyIndex finds a key definition by its exact name.
var keyIndex = func() map[string]*keyDef {
	m := make(map[string]*keyDef, len(keyDefs))
	for i := range keyDefs {
		m[keyDefs[i].name] = &keyDefs[i]
	}
	return m
}()

// KeyInfo describes one configuration key for documentation and tools.
type KeyInfo struct {
	Name       string // as written in the file, e.g. "max-reserved"
	Type       string // string, integer, float, boolean, list, command or days
	GlobalOnly bool   // only valid in [global]; otherwise also per section
	Default    string // builtin default, in TOML syntax (with a note where it is computed)
	Doc        string // one line
}

// KnownKeys returns every key of [global] and of a section, in the order of
// the example file, then the keys of a [distros.NAME] table with names
// prefixed by "distros.NAME.".
func KnownKeys() []KeyInfo {
	out := make([]KeyInfo, 0, len(keyDefs)+len(distroKeyDefs))
	for _, d := range keyDefs {
		def := d.defDoc
		switch {
		case def != "":
		case d.kind == kindDuration:
			def = tomlString(formatDuration(d.def.(time.Duration)))
		default:
			def = tomlValue(d.kind, d.def)
		}
		out = append(out, KeyInfo{Name: d.name, Type: d.kind.String(), GlobalOnly: d.global, Default: def, Doc: d.doc})
	}
	for _, d := range distroKeyDefs {
		out = append(out, KeyInfo{Name: "distros.NAME." + d.name, Type: d.kind.String(), Default: `""`, Doc: d.doc})
	}
	sv := defaultSupervisor()
	defaults := map[string]string{
		"daemon": "true", "backoff-limit": strconv.Itoa(sv.BackoffLimit), "forever": "false",
		"exit-codes": `"0,2"`, "umask": `"022"`, "stop-timeout": tomlString(formatDuration(sv.StopTimeout)),
		"inactivity-timeout": "0",
	}
	for _, d := range supervisorKeyDefs {
		def, ok := defaults[d.name]
		if !ok {
			def = `""`
		}
		out = append(out, KeyInfo{Name: "supervisor." + d.name, Type: d.kind.String(), GlobalOnly: true, Default: def, Doc: d.doc})
	}
	return append(out, supervisorEnvDoc)
}

// sortErrors orders problems by line (unknown lines last), then by text.
func sortErrors(errs []*Error) {
	slices.SortStableFunc(errs, func(a, b *Error) int {
		la, lb := a.Line, b.Line
		if la == 0 {
			la = 1 << 62
		}
		if lb == 0 {
			lb = 1 << 62
		}
		if c := cmp.Compare(la, lb); c != 0 {
			return c
		}
		return cmp.Compare(a.Error(), b.Error())
	})
}
