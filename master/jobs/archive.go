package jobs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"piuparts-server/internal/piuparts"
	"piuparts-server/store"
)

// ArchiveLogs is archive_old_logs: in each section of the config, for
// every package with a log modified since SECTION/archive/stamp (the
// epoch when there is none), every log of the package in bugged/,
// affected/, fail/ and pass/ but the newest moves to archive/KIND/ (and
// out of the index); then every .log under archive/ is compressed with
// xz, and the stamp is dated a day before the run began, so that the next
// run looks back one more day. It returns what the script prints (the
// section, one line per log moved, the total), empty when nothing moved.
func ArchiveLogs(ctx context.Context, e *Env) (string, error) {
	secs, err := e.sections(nil)
	if err != nil {
		return "", err
	}
	tree := e.DB.Tree()
	var out strings.Builder
	total := 0
	for _, s := range secs {
		if !e.sectionExists(s.Name) {
			continue
		}
		if err := tree.EnsureSection(s.Name); err != nil {
			return out.String(), err
		}
		newStamp := e.now().Add(-24 * time.Hour)
		stamp, ok, err := tree.ArchiveStamp(s.Name)
		if err != nil {
			return out.String(), err
		}
		if !ok {
			stamp = time.Unix(0, 0)
		}
		logs, err := tree.ListLogTimes(s.Name, piuparts.KindBugged, piuparts.KindAffected, piuparts.KindFail, piuparts.KindPass)
		if err != nil {
			return out.String(), err
		}
		byPkg := make(map[string][]store.TreeEntry)
		var changed []string
		for _, l := range logs {
			byPkg[l.Package] = append(byPkg[l.Package], l)
			if l.ModTime.After(stamp) {
				changed = append(changed, l.Package)
			}
		}
		slices.Sort(changed)
		changed = slices.Compact(changed)
		header := false
		for _, pkg := range changed {
			pl := byPkg[pkg]
			// ls -tr: the oldest first; the last is kept.
			slices.SortFunc(pl, func(a, b store.TreeEntry) int { return -byNewest(a, b) })
			for _, l := range pl[:len(pl)-1] {
				if !header {
					fmt.Fprintf(&out, "%s\n", s.Name)
					header = true
				}
				if err := e.DB.ArchiveLog(ctx, s.Name, l.Kind, l.Package, l.Version); err != nil {
					return out.String(), err
				}
				fmt.Fprintf(&out, "renamed '%s' -> '%s/%s'\n", rel(l), store.ArchiveDir, rel(l))
				total++
			}
		}
		if _, err := tree.CompressArchive(ctx, s.Name); err != nil {
			return out.String(), err
		}
		if header {
			out.WriteString("\n\n")
		}
		if err := tree.SetArchiveStamp(s.Name, newStamp); err != nil {
			return out.String(), err
		}
	}
	if total > 0 {
		fmt.Fprintf(&out, "Archived %d old logfiles.\n", total)
	}
	return out.String(), nil
}
