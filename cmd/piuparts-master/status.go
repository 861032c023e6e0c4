package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
	"piuparts-server/internal/logging"
	"piuparts-server/master"
	"piuparts-server/store"
)

// statusHours is the window of the logs-per-hour row.
const statusHours = 24

// logTail is how much of the end of a master.log status reads to find its
// last error.
const logTail = 1 << 20

const statusDoc = `Show each section (default: every section the config lists), read from the
database and the section's master.log, without speaking the protocol: the
package states (first brought up to date as a master connection would,
unless --cached), the waiting candidates (what a slave's reserve may get),
the reservations by holder with their lease expiry, each slave's last
submission, the logs per hour over the last 24 hours, and the last error
line of the section's master.log. Run it as the master user.

--json prints one object, stable for scripts:
  {"generated": TIME, "sections": [{
     "section": NAME,
     "states_computed": TIME or null,      (null: no master connection computed them yet)
     "states": {STATE: COUNT, ...},
     "waiting": COUNT,
     "reservations": [{"package", "version", "holder", "reserved_at": TIME,
                       "expires_at": TIME, "expired": BOOL}, ...],   (by holder, then package)
     "slaves": [{"slave", "last": TIME, "result", "package", "version",
                 "logs_24h": COUNT}, ...],   (latest first; "" is imported submissions.txt lines)
     "logs_per_hour": [COUNT x 24],          (index 0: the hour ending now)
     "log_file": PATH,
     "last_error": LINE or null}]}
TIME is RFC 3339 in UTC.`

// statusJSON is the --json schema of one section; statusDoc documents it.
type statusJSON struct {
	Section        string            `json:"section"`
	StatesComputed *time.Time        `json:"states_computed"`
	States         map[string]int    `json:"states"`
	Waiting        int               `json:"waiting"`
	Reservations   []reservationJSON `json:"reservations"`
	Slaves         []slaveJSON       `json:"slaves"`
	LogsPerHour    []int             `json:"logs_per_hour"`
	LogFile        string            `json:"log_file"`
	LastError      *string           `json:"last_error"`
}

type reservationJSON struct {
	Section    string    `json:"section,omitempty"`
	Package    string    `json:"package"`
	Version    string    `json:"version"`
	Holder     string    `json:"holder"`
	ReservedAt time.Time `json:"reserved_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Expired    bool      `json:"expired"`
}

type slaveJSON struct {
	Slave   string    `json:"slave"`
	Last    time.Time `json:"last"`
	Result  string    `json:"result"`
	Package string    `json:"package"`
	Version string    `json:"version"`
	Logs24h int       `json:"logs_24h"`
}

// runStatus is "status [--json] [SECTION...]".
func runStatus(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "status", "[--json] [SECTION...]", statusDoc)
	asJSON := f.Bool("json", false, "print JSON (the schema is above)")
	cached := f.Bool("cached", false, "show the states as the last master connection stored them, without bringing them up to date")
	sections, err := f.parse(args)
	if err != nil {
		return done(err)
	}
	m, err := openMaintenance(ctx, e, "")
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	defer m.db.Close()
	if len(sections) == 0 {
		sections = m.cfg.Global.SectionNames
	}
	for _, s := range sections {
		if _, err := m.cfg.Section(s); err != nil {
			return f.usageError("section %q is not in %s", s, e.configPath)
		}
	}
	// The states brought up to date as a connection would (the archive
	// read, computed when a log or Packages changed), unless --cached.
	var cache *master.Cache
	if !*cached {
		if hcfg, err := config.LoadForHost(ctx, e.configPath, "/etc/apt"); err != nil {
			fmt.Fprintf(e.stderr, "status: states not brought up to date: %v\n", err)
		} else {
			cache = &master.Cache{Piuparts: hcfg, DB: m.db, Log: zerolog.Nop()}
		}
	}
	for _, name := range sections {
		if cache == nil {
			break
		}
		if _, err := cache.Refresh(ctx, name, false); err != nil {
			fmt.Fprintf(e.stderr, "status: %s: states not brought up to date: %v\n", name, err)
		}
	}
	now := time.Now().UTC()
	var out []statusJSON
	for _, name := range sections {
		st, err := m.db.SectionStatus(ctx, name, now, statusHours)
		if err != nil && !errors.Is(err, store.ErrNoSection) {
			return fmt.Errorf("status: %w", err)
		}
		sec, _ := m.cfg.Section(name)
		logFile := under(m.dir, sec.MasterLogFile())
		last, err := lastError(logFile)
		if err != nil {
			return fmt.Errorf("status: %w", err)
		}
		out = append(out, toStatusJSON(name, st, now, logFile, last))
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Generated time.Time    `json:"generated"`
			Sections  []statusJSON `json:"sections"`
		}{now, out})
	}
	w := bufio.NewWriter(e.stdout)
	for i, s := range out {
		if i > 0 {
			fmt.Fprintln(w)
		}
		writeStatus(w, s, now)
	}
	return w.Flush()
}

// toStatusJSON turns a section's status into its --json form.
func toStatusJSON(name string, st store.SectionStatus, now time.Time, logFile, lastErr string) statusJSON {
	j := statusJSON{Section: name, States: st.States, Waiting: st.Waiting, LogsPerHour: st.PerHour,
		LogFile: logFile, Reservations: []reservationJSON{}, Slaves: []slaveJSON{}}
	if j.States == nil {
		j.States = map[string]int{}
	}
	if len(j.LogsPerHour) == 0 {
		j.LogsPerHour = make([]int, statusHours)
	}
	if !st.StatesComputed.IsZero() {
		t := st.StatesComputed
		j.StatesComputed = &t
	}
	for _, r := range st.Reservations {
		j.Reservations = append(j.Reservations, toReservationJSON(r, now, false))
	}
	sort.SliceStable(j.Reservations, func(a, b int) bool { return j.Reservations[a].Holder < j.Reservations[b].Holder })
	for _, a := range st.Slaves {
		j.Slaves = append(j.Slaves, slaveJSON{Slave: a.Slave, Last: a.Last, Result: string(a.Result),
			Package: a.Package, Version: a.Version, Logs24h: a.Count})
	}
	if lastErr != "" {
		j.LastError = &lastErr
	}
	return j
}

func toReservationJSON(r store.Reservation, now time.Time, withSection bool) reservationJSON {
	j := reservationJSON{Package: r.Package, Version: r.Version, Holder: r.Holder,
		ReservedAt: r.ReservedAt, ExpiresAt: r.ExpiresAt, Expired: !r.ExpiresAt.After(now)}
	if withSection {
		j.Section = r.Section
	}
	return j
}

// writeStatus writes one section's status for a terminal.
func writeStatus(w io.Writer, s statusJSON, now time.Time) {
	fmt.Fprintf(w, "== %s\n", s.Section)
	if s.StatesComputed == nil {
		fmt.Fprintf(w, "states:       not computed yet (a master connection computes them)\n")
	} else {
		names := make([]string, 0, len(s.States))
		total := 0
		for k, n := range s.States {
			names = append(names, k)
			total += n
		}
		slices.Sort(names)
		parts := make([]string, len(names))
		for i, k := range names {
			parts[i] = fmt.Sprintf("%s %d", k, s.States[k])
		}
		fmt.Fprintf(w, "states:       %d packages (computed %s): %s\n", total, when(*s.StatesComputed, now), strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "waiting:      %d candidates not reserved\n", s.Waiting)
	expired := 0
	for _, r := range s.Reservations {
		if r.Expired {
			expired++
		}
	}
	fmt.Fprintf(w, "reservations: %d (%d expired)\n", len(s.Reservations), expired)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	holder := "\x00"
	for _, r := range s.Reservations {
		if r.Holder != holder {
			holder = r.Holder
			n := 0
			for _, o := range s.Reservations {
				if o.Holder == holder {
					n++
				}
			}
			fmt.Fprintf(tw, "  %s: %d\t\t\t\n", orDash(holder), n)
		}
		exp := "expires " + when(r.ExpiresAt, now)
		if r.Expired {
			exp = "EXPIRED " + when(r.ExpiresAt, now)
		}
		fmt.Fprintf(tw, "    %s\t%s\treserved %s\t%s\n", r.Package, r.Version, when(r.ReservedAt, now), exp)
	}
	tw.Flush()
	if len(s.Slaves) == 0 {
		fmt.Fprintf(w, "slaves:       no submissions\n")
	} else {
		fmt.Fprintf(w, "slaves:       last submission\n")
		tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
		for _, a := range s.Slaves {
			name := a.Slave
			if name == "" {
				name = "(imported)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s %s %s\t%d in 24h\n", name, when(a.Last, now), a.Result, a.Package, a.Version, a.Logs24h)
		}
		tw.Flush()
	}
	total := 0
	hours := make([]string, len(s.LogsPerHour))
	for i, n := range s.LogsPerHour {
		total += n
		hours[i] = fmt.Sprint(n)
	}
	fmt.Fprintf(w, "logs/hour:    %d in 24h, newest hour first: %s\n", total, strings.Join(hours, " "))
	if s.LastError == nil {
		fmt.Fprintf(w, "last error:   none in %s\n", s.LogFile)
	} else {
		fmt.Fprintf(w, "last error:   %s:\n  %s\n", s.LogFile, *s.LastError)
	}
}

// when shows t in UTC with how long ago or ahead it is.
func when(t, now time.Time) string {
	d := now.Sub(t)
	rel := ago(d) + " ago"
	if d < 0 {
		rel = "in " + ago(-d)
	}
	return t.UTC().Format("2006-01-02 15:04:05Z") + " (" + rel + ")"
}

// ago writes a duration as a person reads it: 42s, 5m, 3h20m, 12d.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// lastError returns the last error line of the log file at path (in the
// last logTail bytes), "" when there is none or no file.
func lastError(path string) (string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read log: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("read log: %w", err)
	}
	if off := st.Size() - logTail; off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return "", fmt.Errorf("read log %s: %w", path, err)
		}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), logTail)
	last := ""
	for sc.Scan() {
		if l := sc.Text(); logging.IsError(l) {
			last = l
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read log %s: %w", path, err)
	}
	return cut(strings.TrimSpace(last), 500), nil
}
