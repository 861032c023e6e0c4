package jobs

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"piuparts-server/internal/config"
	"piuparts-server/internal/piuparts"
	"piuparts-server/store"
)

// Env is what a job works on.
type Env struct {
	Config *config.Config
	DB     *store.DB
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// sections returns names, or the config's sections when there are none;
// each must be in the config.
func (e *Env) sections(names []string) ([]*config.Section, error) {
	if len(names) == 0 {
		names = e.Config.Global.SectionNames
	}
	out := make([]*config.Section, 0, len(names))
	for _, n := range names {
		s, err := e.Config.Section(n)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// sectionExists reports whether the master directory has the section's
// directory (the scripts skip a section without one).
func (e *Env) sectionExists(section string) bool { return e.DB.Tree().HasSection(section) }

// olderThanDays reports whether find's -mtime +days holds: the age in
// whole days, the fraction dropped, is more than days.
func olderThanDays(mtime, now time.Time, days int) bool {
	return int64(now.Sub(mtime)/(24*time.Hour)) > int64(days)
}

// rel is a log's path as the scripts print it: KIND/NAME_VERSION.log.
func rel(e store.TreeEntry) string {
	return string(e.Kind) + "/" + piuparts.LogName(e.Package, e.Version)
}

// byNewest orders logs as ls -dt does: the newest first, ties by path.
func byNewest(a, b store.TreeEntry) int {
	if c := b.ModTime.Compare(a.ModTime); c != 0 {
		return c
	}
	return strings.Compare(rel(a), rel(b))
}

// oldest is the scripts' list_logs: of the logs in kinds older than age
// days (find -mtime +AGE), the count oldest (ls -dt | tail -n COUNT).
func oldest(logs []store.TreeEntry, kinds []piuparts.Kind, age, count int, now time.Time) []store.TreeEntry {
	var old []store.TreeEntry
	for _, l := range logs {
		if slices.Contains(kinds, l.Kind) && olderThanDays(l.ModTime, now, age) {
			old = append(old, l)
		}
	}
	slices.SortFunc(old, byNewest)
	if len(old) > count {
		old = old[len(old)-count:]
	}
	return old
}

// sortedUnique sorts logs by path (sort -u) and drops repeats.
func sortedUnique(logs []store.TreeEntry) []store.TreeEntry {
	slices.SortFunc(logs, func(a, b store.TreeEntry) int { return cmp.Compare(rel(a), rel(b)) })
	return slices.CompactFunc(logs, func(a, b store.TreeEntry) bool { return rel(a) == rel(b) })
}

// lsLine is a log as the published reports list it (ls -dtl, shortened).
func lsLine(l store.TreeEntry) string {
	return fmt.Sprintf("%s %s", l.ModTime.UTC().Format("2006-01-02 15:04"), rel(l))
}
