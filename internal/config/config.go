package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/rs/zerolog"
)

// Defaults of the keys this implementation adds to piuparts.conf.
const (
	// DefaultReservedExpire is reserved-expire: two days. The reference
	// has no lease; its cron job report_stale_reserved_packages moves
	// reservations older than `find -mtime +1` (at least 48 hours) back
	// to recycle/, so a reservation lives as long as it did there. A
	// slave's batch (max-reserved packages, each limited to 90 minutes
	// by piuparts-slave) fits easily for any sensible max-reserved.
	DefaultReservedExpire = 48 * time.Hour
	// DefaultConnectTimeout is connect-timeout.
	DefaultConnectTimeout = 60 * time.Second
	// DefaultUnreachableWait is unreachable-wait: the reference's
	// piuparts-slave waits 15 minutes after a failed connection.
	DefaultUnreachableWait = 15 * time.Minute
	// DefaultPiupartsTimeout is piuparts-timeout: the reference's
	// MAX_WAIT_TEST_RUN, 90 minutes.
	DefaultPiupartsTimeout = 90 * time.Minute
	// DefaultIdleSleep is idle-sleep, as in piuparts-slave.
	DefaultIdleSleep = 5 * time.Minute
	// DefaultMaxTgzAge is max-tgz-age, as in piuparts-slave: 30 days.
	DefaultMaxTgzAge = 30 * 24 * time.Hour
	// DefaultMinTgzRetryDelay is min-tgz-retry-delay, as in
	// piuparts-slave: 6 hours.
	DefaultMinTgzRetryDelay = 6 * time.Hour
	// DefaultMasterPort is master-port, ssh's port.
	DefaultMasterPort = 22
	// DefaultMaxCommandLine is max-command-line in bytes: ample for
	// "pass NAME VERSION" with Debian's longest names and versions.
	DefaultMaxCommandLine = 4096
	// DefaultMaxLogSize is max-log-size in bytes (100 MiB): larger than
	// any piuparts log, small enough to stop a runaway sender.
	DefaultMaxLogSize = 100 << 20
	// DefaultReadIdleTimeout is read-idle-timeout: the reference runs
	// each master session under `timeout 15m`, so a slave that works
	// with it never waits longer than this for an answer.
	DefaultReadIdleTimeout = 15 * time.Minute
	// DefaultSessionTimeout is session-timeout: Debian's wrapper
	// script runs every master session under `timeout 15m`.
	DefaultSessionTimeout = 15 * time.Minute
	// DefaultWriteTimeout is write-timeout: how long the master waits
	// for the client to take one answer.
	DefaultWriteTimeout = time.Minute
	// DefaultMasterServerIdle is master-server-idle: long enough to
	// keep the states in memory between a slave's connections.
	DefaultMasterServerIdle = 10 * time.Minute
	// DefaultMaxReservedPerSlave is max-reserved-per-slave: 0, the
	// section's max-reserved (see [Section.ReservedCap]).
	DefaultMaxReservedPerSlave = 0
	// DefaultLogLevel is log-level.
	DefaultLogLevel = LevelInfo
	// DefaultLogFormat is log-format: text on a terminal, JSON otherwise.
	DefaultLogFormat = FormatAuto
	// DefaultDB is db, relative to master-directory.
	DefaultDB = "piuparts-master.db"
	// MaxFileSize bounds a configuration file: Parse and ImportINI refuse
	// larger ones (ErrSyntax) rather than spend minutes on them.
	MaxFileSize = 1 << 20
)

// Config is a whole piuparts TOML file, with every default filled in.
type Config struct {
	// File is the name the configuration was read from, for messages.
	File string
	// Global holds [global]: the keys only valid there, and the section
	// keys' values as [global] sets them (builtin default otherwise).
	Global Global
	// Sections holds one resolved Section for every name in
	// Global.SectionNames and Global.BasetgzSections.
	Sections map[string]*Section
	// Distros holds the [distros.NAME] tables.
	Distros Distros
	// Supervisor holds the [supervisor] table, defaults filled in.
	Supervisor Supervisor
}

// Global is the [global] table. Its embedded Section (named "global")
// holds the defaults of every section key, as the reference's
// Config(section="global") sees them.
type Global struct {
	SectionNames             []string      // sections
	BasetgzSections          []string      // basetgz-sections
	MasterDirectory          string        // master-directory
	SlaveDirectory           string        // slave-directory
	SlaveCount               int           // slave-count
	OutputDirectory          string        // output-directory
	BackupDirectory          string        // backup-directory
	WebHost                  string        // web-host
	DocRoot                  string        // doc-root
	URLBase                  string        // urlbase
	KnownProblemDirectory    string        // known-problem-directory
	Proxy                    string        // proxy
	PortserverAddress        string        // portserver-address
	PythonPath               string        // PYTHONPATH
	TestingSuite             string        // testing-suite
	RescheduleUntestableDays int           // reschedule-untestable-days
	DB                       string        // db
	MaxCommandLine           int           // max-command-line, bytes
	MaxLogSize               int           // max-log-size, bytes
	ReadIdleTimeout          time.Duration // read-idle-timeout
	SessionTimeout           time.Duration // session-timeout
	WriteTimeout             time.Duration // write-timeout
	LogFormat                string        // log-format: FormatText, FormatJSON or FormatAuto
	MasterServer             bool          // master-server
	MasterServerIdle         time.Duration // master-server-idle

	Section
}

// Section is the resolved settings of one section: for every key the
// section's own value, else the [global] value, else the builtin default.
// Durations are time.Duration; the file gives them in seconds (an
// integer, as in piuparts.conf) or as a string such as "90m" or "2d".
type Section struct {
	Name string // the table's name, "global" for Global's defaults

	MasterHost           string        // master-host
	MasterUser           string        // master-user
	MasterCommand        string        // master-command
	MasterPort           int           // master-port
	SSHIdentity          string        // ssh-identity
	SSHKnownHosts        string        // ssh-known-hosts
	ConnectTimeout       time.Duration // connect-timeout
	UnreachableWait      time.Duration // unreachable-wait
	PiupartsTimeout      time.Duration // piuparts-timeout
	ReservedExpire       time.Duration // reserved-expire
	IdleSleep            time.Duration // idle-sleep
	MaxTgzAge            time.Duration // max-tgz-age
	MinTgzRetryDelay     time.Duration // min-tgz-retry-delay
	LogFile              string        // log-file
	Setarch              Args          // setarch
	PiupartsCommand      Args          // piuparts-command
	PiupartsFlags        Args          // piuparts-flags
	Tmpdir               string        // tmpdir
	Description          string        // description
	Mirror               string        // mirror; "" until Config.ApplyHost
	Distro               string        // distro
	Area                 string        // area
	Components           []string      // components
	Arch                 string        // arch; "" until Config.ApplyHost
	ChrootTgz            string        // chroot-tgz
	BasetgzDirectory     string        // basetgz-directory
	ChrootMetaAuto       string        // chroot-meta-auto
	ChrootMetaDirectory  string        // chroot-meta-directory
	UpgradeTestDistros   []string      // upgrade-test-distros
	MaxReserved          int           // max-reserved
	MaxReservedPerSlave  int           // max-reserved-per-slave
	KeepSourcesList      bool          // keep-sources-list
	Precedence           int           // precedence
	DependsSections      []string      // depends-sections
	Debug                bool          // debug
	LogLevel             string        // log-level: LevelError, LevelWarn, LevelInfo or LevelDebug
	RescheduleOldDays    int           // reschedule-old-days
	RescheduleOldCount   int           // reschedule-old-count
	ExpireOldDays        Days          // expire-old-days
	RescheduleFailDays   int           // reschedule-fail-days
	RescheduleFailCount  int           // reschedule-fail-count
	ExpireFailDays       Days          // expire-fail-days
	AutoReschedule       bool          // auto-reschedule
	KeepBugged           bool          // keep-bugged
	JSONSections         []string      // json-sections
	ExcludeKnownProblems []string      // exclude-known-problems
	SlaveLoadMax         float64       // slave-load-max
	SlaveFlushInterval   time.Duration // slave-flush-interval
}

// Host holds what the reference computes from the machine it runs on when
// arch or mirror is not set. [DetectHost] fills it.
type Host struct {
	Arch   string // dpkg --print-architecture
	Mirror string // first Debian URI of the apt sources
}

// Load reads and checks the TOML configuration file at path. Errors are
// those of [Parse], or the *os.PathError of opening the file.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads a TOML configuration from r; name is used in messages.
// Every problem found is reported as an [*Error] naming the line, the
// table and the key (several are joined with errors.Join, in file order):
// a TOML syntax error (ErrSyntax), an unknown key (ErrUnknownKey), a value
// of the wrong type (ErrWrongType) or out of range (ErrInvalidValue), a
// table that is not a listed section (ErrUnknownTable), a listed section
// without a table (ErrMissingSection). A read error of r is returned
// wrapped.
func Parse(r io.Reader, name string) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	p := &parser{errs: errorList{file: name}}
	if len(data) > MaxFileSize {
		p.errs.add(0, "", "", ErrSyntax, "file larger than %d bytes", MaxFileSize)
		return nil, p.errs.err()
	}
	var top map[string]toml.Primitive
	md, err := toml.Decode(string(data), &top)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			p.errs.add(pe.Position.Line, "", "", ErrSyntax, "syntax error: %s", pe.Message)
		} else {
			p.errs.add(0, "", "", ErrSyntax, "syntax error: %v", err)
		}
		return nil, p.errs.err()
	}
	p.md = &md
	c := p.build(top)
	c.File = name
	if err := p.errs.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// parser turns decoded TOML into a Config, collecting errors.
type parser struct {
	md      *toml.MetaData
	errs    errorList
	badList bool // sections or basetgz-sections could not be read
}

// table is one decoded table: its keys' decoded values. Lines are only
// looked up for error messages: finding one costs a pass over the file.
type table struct {
	p     *parser
	name  string
	prim  toml.Primitive
	keys  []string // sorted
	vals  map[string]any
	prims map[string]toml.Primitive
}

// keyLine returns the line of key k, or 0.
func (t *table) keyLine(k string) int {
	if prim, ok := t.prims[k]; ok {
		return t.p.line(prim)
	}
	return 0
}

// tableLine returns the line of the table's header; for a table defined
// only implicitly (by [distros.x] or a dotted key), that of its first key.
func (t *table) tableLine() int {
	if l := t.p.line(t.prim); l > 0 {
		return l
	}
	first := 0
	for _, k := range t.keys {
		if l := t.keyLine(k); l > 0 && (first == 0 || l < first) {
			first = l
		}
	}
	return first
}

// line returns the line a primitive was defined on, or 0 when the decoder
// does not know it (an implicit table). It asks the decoder for an error
// at that key: that is the only public way to get a key's position.
func (p *parser) line(prim toml.Primitive) int {
	err := p.md.PrimitiveDecode(prim, &locator{})
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return pe.Position.Line
	}
	return 0
}

type locator struct{}

var errLocate = errors.New("locate")

func (*locator) UnmarshalTOML(any) error { return errLocate }

// readTable decodes a table primitive. It returns nil and the decoded
// value when prim is not a table.
func (p *parser) readTable(name string, prim toml.Primitive) (*table, any) {
	var raw any
	if err := p.md.PrimitiveDecode(prim, &raw); err != nil {
		return nil, nil
	}
	var m map[string]toml.Primitive
	if _, ok := raw.(map[string]any); !ok {
		return nil, raw
	}
	if err := p.md.PrimitiveDecode(prim, &m); err != nil {
		return nil, raw
	}
	t := &table{p: p, name: name, prim: prim, vals: make(map[string]any, len(m)), prims: m}
	for k, kp := range m {
		var v any
		if err := p.md.PrimitiveDecode(kp, &v); err != nil {
			p.errs.add(p.line(kp), name, k, ErrWrongType, "key %s: %v", quote(k), err)
			continue
		}
		t.keys = append(t.keys, k)
		t.vals[k] = v
	}
	slices.Sort(t.keys)
	return t, raw
}

func (p *parser) build(top map[string]toml.Primitive) *Config {
	c := &Config{Sections: map[string]*Section{}, Distros: Distros{}, Supervisor: defaultSupervisor()}
	// Builtin defaults first, then [global] over them.
	c.Global.Section.Name = "global"
	for i := range keyDefs {
		d := &keyDefs[i]
		set(d, &c.Global, &c.Global.Section, d.def)
	}
	tables := map[string]*table{}
	var names []string
	for name, prim := range top {
		t, raw := p.readTable(name, prim)
		if t == nil {
			line := p.line(prim)
			if _, ok := raw.([]map[string]any); ok {
				p.errs.add(line, name, "", ErrWrongType, "want a table [%s], have an array of tables [[%s]]", name, name)
			} else {
				p.errs.add(line, "", name, ErrUnknownKey, "key %s outside any table (put it under [global])", quote(name))
			}
			continue
		}
		tables[name] = t
		names = append(names, name)
	}
	slices.Sort(names)
	if g := tables["global"]; g != nil {
		p.apply(g, &c.Global, &c.Global.Section)
	}
	if d := tables["distros"]; d != nil {
		p.distros(d, c.Distros)
	}
	if t := tables["supervisor"]; t != nil {
		p.supervisor(t, &c.Supervisor)
	}
	if p.badList {
		// Without a valid sections list, listing errors would only be noise.
		return c
	}
	// Every listed section needs a table, and every table a listing.
	listed := map[string]bool{}
	for _, key := range []string{"sections", "basetgz-sections"} {
		list := c.Global.SectionNames
		if key == "basetgz-sections" {
			list = c.Global.BasetgzSections
		}
		line := 0
		if g := tables["global"]; g != nil {
			line = g.keyLine(key)
		}
		for _, s := range list {
			if listed[s] {
				p.errs.add(line, "global", key, ErrInvalidValue, "section %s is listed twice", quote(s))
				continue
			}
			listed[s] = true
			t := tables[s]
			if t == nil {
				what := key
				if line == 0 {
					what += " (by default)"
				}
				p.errs.add(line, s, "", ErrMissingSection, "listed in %s but has no [%s] table", what, s)
				continue
			}
			sec := c.Global.Section.clone()
			sec.Name = s
			p.apply(t, nil, &sec)
			c.Sections[s] = &sec
		}
	}
	for _, name := range names {
		if !listed[name] && !reservedTables[name] {
			p.errs.add(tables[name].tableLine(), name, "", ErrUnknownTable, "table is not listed in sections or basetgz-sections")
		}
	}
	// depends-sections must name sections this file defines.
	for _, name := range names {
		s := c.Sections[name]
		if s == nil {
			continue
		}
		for _, dep := range s.DependsSections {
			if c.Sections[dep] == nil {
				line := tables[name].keyLine("depends-sections")
				p.errs.add(line, name, "depends-sections", ErrMissingSection, "key \"depends-sections\": depends on section %s, which is not listed in sections or basetgz-sections", quote(dep))
			}
		}
	}
	if g := tables["global"]; g != nil {
		for _, dep := range c.Global.DependsSections {
			if c.Sections[dep] == nil {
				p.errs.add(g.keyLine("depends-sections"), "global", "depends-sections", ErrMissingSection,
					"key \"depends-sections\": depends on section %s, which is not listed in sections or basetgz-sections", quote(dep))
			}
		}
	}
	return c
}

// apply sets the keys of table t on g (global-only keys; nil for a
// section) and s.
func (p *parser) apply(t *table, g *Global, s *Section) {
	for _, k := range t.keys {
		d := keyIndex[k]
		if d == nil {
			p.errs.add(t.keyLine(k), t.name, k, ErrUnknownKey, "unknown key %s%s", quote(k), suggest(k))
			continue
		}
		if d.global && g == nil {
			p.errs.add(t.keyLine(k), t.name, k, ErrUnknownKey, "unknown key %s (only valid in [global])", quote(k))
			continue
		}
		v, verr := convert(d, t.vals[k])
		if verr != nil {
			if k == "sections" || k == "basetgz-sections" {
				p.badList = true
			}
			p.errs.add(t.keyLine(k), t.name, k, verr.sentinel, "key %s: %s", quote(k), verr.msg)
			continue
		}
		set(d, g, s, v)
	}
}

// set stores v, typed as the key's field, in g or s.
func set(d *keyDef, g *Global, s *Section, v any) {
	var field any
	if d.global {
		field = d.glob(g)
	} else {
		field = d.sec(s)
	}
	switch f := field.(type) {
	case *string:
		*f = v.(string)
	case *int:
		*f = v.(int)
	case *float64:
		*f = v.(float64)
	case *bool:
		*f = v.(bool)
	case *[]string:
		*f = slices.Clone(v.([]string))
	case *Args:
		*f = slices.Clone(v.(Args))
	case *Days:
		*f = v.(Days)
	case *time.Duration:
		*f = v.(time.Duration)
	default:
		panic(fmt.Sprintf("config: key %s has field type %T", d.name, field))
	}
}

// suggest names a known key that differs from k by a small typo.
func suggest(k string) string {
	best, bestDist := "", 3
	for _, d := range keyDefs {
		if dist := editDistance(strings.ToLower(k), strings.ToLower(d.name), bestDist); dist < bestDist {
			best, bestDist = d.name, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is Levenshtein's distance, or limit if it is at least limit.
func editDistance(a, b string, limit int) int {
	if len(a) > 64 || len(b) > 64 {
		return limit
	}
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

// clone returns a copy of s that shares no slice with it.
func (s Section) clone() Section {
	s.Setarch = slices.Clone(s.Setarch)
	s.PiupartsCommand = slices.Clone(s.PiupartsCommand)
	s.PiupartsFlags = slices.Clone(s.PiupartsFlags)
	s.Components = slices.Clone(s.Components)
	s.UpgradeTestDistros = slices.Clone(s.UpgradeTestDistros)
	s.DependsSections = slices.Clone(s.DependsSections)
	s.JSONSections = slices.Clone(s.JSONSections)
	s.ExcludeKnownProblems = slices.Clone(s.ExcludeKnownProblems)
	return s
}

// Section returns the resolved settings of a section listed in sections or
// basetgz-sections, or an error wrapping ErrMissingSection.
func (c *Config) Section(name string) (*Section, error) {
	s := c.Sections[name]
	if s == nil {
		return nil, fmt.Errorf("section %s: %w", quote(name), ErrMissingSection)
	}
	return s, nil
}

// SectionsByPrecedence returns the names of sections and basetgz-sections
// ordered as the slave runs them: by precedence, ties in listed order.
func (c *Config) SectionsByPrecedence() []string {
	names := append(slices.Clone(c.Global.SectionNames), c.Global.BasetgzSections...)
	slices.SortStableFunc(names, func(a, b string) int {
		return c.Sections[a].Precedence - c.Sections[b].Precedence
	})
	return names
}

// ApplyHost fills arch and mirror where neither the section nor [global]
// set them, as the reference does with dpkg and its builtin mirror.
func (c *Config) ApplyHost(h Host) {
	for _, s := range append([]*Section{&c.Global.Section}, c.sectionList()...) {
		if s.Arch == "" {
			s.Arch = h.Arch
		}
		if s.Mirror == "" {
			s.Mirror = h.Mirror
		}
	}
}

func (c *Config) sectionList() []*Section {
	out := make([]*Section, 0, len(c.Sections))
	for _, n := range append(slices.Clone(c.Global.SectionNames), c.Global.BasetgzSections...) {
		if s := c.Sections[n]; s != nil {
			out = append(out, s)
		}
	}
	return out
}

// ErrorLogFile returns the file the reference's piuparts-master wrapper
// sends the master's stderr to: [global]'s log-file, or master-error.log
// (relative to master-directory).
func (g *Global) ErrorLogFile() string {
	if g.LogFile != "" {
		return g.LogFile
	}
	return "master-error.log"
}

// ReadIdle returns read-idle-timeout.
func (g *Global) ReadIdle() time.Duration { return g.ReadIdleTimeout }

// Lease returns reserved-expire: how long a reservation lasts.
func (s *Section) Lease() time.Duration { return s.ReservedExpire }

// Values of log-level.
const (
	LevelError = "error" // errors only
	LevelWarn  = "warn"  // warnings and errors
	LevelInfo  = "info"  // one line per thing that happened
	LevelDebug = "debug" // also every protocol command and answer
)

// Values of log-format.
const (
	FormatText = "text" // human-readable lines (zerolog's ConsoleWriter)
	FormatJSON = "json" // one JSON object per line
	FormatAuto = ""     // text on a terminal, JSON otherwise
)

// Level returns the effective log level: log-level, raised to debug when
// debug is true.
func (s *Section) Level() zerolog.Level {
	if s.Debug {
		return zerolog.DebugLevel
	}
	switch s.LogLevel {
	case LevelError:
		return zerolog.ErrorLevel
	case LevelWarn:
		return zerolog.WarnLevel
	case LevelDebug:
		return zerolog.DebugLevel
	}
	return zerolog.InfoLevel
}

// ReservedCap returns the most packages one slave may hold reserved in
// the section at once: max-reserved-per-slave if it is above 0, else
// max-reserved (what a slave asks for in one batch). 0 means no cap; it
// comes back only when max-reserved is 0 too, and max-reserved 0 disables
// the section for the slave ([Section.Disabled]), so no slave of this
// farm reserves there.
func (s *Section) ReservedCap() int {
	if s.MaxReservedPerSlave > 0 {
		return s.MaxReservedPerSlave
	}
	return max(s.MaxReserved, 0)
}

// Distros returns upgrade-test-distros (the reference's get_distros).
func (s *Section) Distros() []string { return s.UpgradeTestDistros }

// GetDistro returns the distribution whose packages are tested: distro, or
// else the last of upgrade-test-distros, or "" (the reference's get_distro).
func (s *Section) GetDistro() string {
	if s.Distro != "" {
		return s.Distro
	}
	if n := len(s.UpgradeTestDistros); n > 0 {
		return s.UpgradeTestDistros[n-1]
	}
	return ""
}

// StartDistro returns the first of upgrade-test-distros, or distro: where
// the chroot starts (the reference's get_start_distro).
func (s *Section) StartDistro() string {
	if len(s.UpgradeTestDistros) > 0 {
		return s.UpgradeTestDistros[0]
	}
	return s.Distro
}

// FinalDistro returns the last of upgrade-test-distros, or distro (the
// reference's get_final_distro).
func (s *Section) FinalDistro() string {
	if n := len(s.UpgradeTestDistros); n > 0 {
		return s.UpgradeTestDistros[n-1]
	}
	return s.Distro
}

// GetArea returns area, or "main" if it was set to "".
func (s *Section) GetArea() string {
	if s.Area == "" {
		return "main"
	}
	return s.Area
}

// IsDistUpgrade reports whether the section runs upgrade tests: more than
// one distro in upgrade-test-distros, as piuparts-slave decides.
func (s *Section) IsDistUpgrade() bool { return len(s.UpgradeTestDistros) > 1 }

// TarballOnly reports whether the section only maintains a base tarball
// (distro "None").
func (s *Section) TarballOnly() bool { return s.GetDistro() == "None" }

// Disabled reports whether max-reserved is 0, which disables a section.
func (s *Section) Disabled() bool { return s.MaxReserved == 0 }

// MasterLogFile returns the file the master logs a section's session to:
// log-file, or SECTION/master.log relative to master-directory.
func (s *Section) MasterLogFile() string {
	if s.LogFile != "" {
		return s.LogFile
	}
	return s.Name + "/master.log"
}

// ExpireOld returns expire-old-days resolved against reschedule-old-days.
func (s *Section) ExpireOld() int { return s.ExpireOldDays.Resolve(s.RescheduleOldDays) }

// ExpireFail returns expire-fail-days resolved against reschedule-fail-days.
func (s *Section) ExpireFail() int { return s.ExpireFailDays.Resolve(s.RescheduleFailDays) }

// DefaultPath is where the programs read their config when neither -c nor
// $PIUPARTS_CONFIG names one.
const DefaultPath = "/etc/piuparts/piuparts.toml"

// PathEnv is the environment variable that names the config file.
const PathEnv = "PIUPARTS_CONFIG"

// ResolvePath returns the config file to read: flag (the -c option) if
// set, else $PIUPARTS_CONFIG read with getenv, else DefaultPath.
func ResolvePath(flag string, getenv func(string) string) string {
	if flag != "" {
		return flag
	}
	if p := getenv(PathEnv); p != "" {
		return p
	}
	return DefaultPath
}
