package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"piuparts-server/internal/piuparts"
	"piuparts-server/store"
)

// RescheduleName is the name Debian's script publishes its report under.
const RescheduleName = "reschedule_oldest_logs"

// recentIdle is how fresh idle.stamp must be for old passed logs to be
// rescheduled (the script's "2 days ago").
const recentIdle = 48 * time.Hour

// RescheduleResult counts what Reschedule did, over all sections.
type RescheduleResult struct {
	Rescheduled, Expired, Obsolete, Queued int
}

// Reschedule is reschedule_oldest_logs on the sections named (all of the
// config's when none), each with its own settings: it marks the oldest
// logs for retesting (recycle/), at most reschedule-old-count passed or
// failed ones older than reschedule-old-days (passed ones only while the
// section is idle: idle.stamp younger than two days) and at most
// reschedule-fail-count failed ones older than reschedule-fail-days; it
// deletes logs marked for retesting that are older than expire-old-days
// (when the recycle queue was empty or idle) or expire-fail-days, when
// those exceed the reschedule ages; and it removes recycle/ markers
// whose log is gone. Sections with auto-reschedule off only get the
// last. It publishes what it did and returns the counts.
func Reschedule(ctx context.Context, e *Env, sections []string) (RescheduleResult, error) {
	var res RescheduleResult
	secs, err := e.sections(sections)
	if err != nil {
		return res, err
	}
	start := e.now()
	tree := e.DB.Tree()
	var out strings.Builder
	for _, s := range secs {
		if !e.sectionExists(s.Name) {
			continue
		}
		if err := tree.EnsureSection(s.Name); err != nil {
			return res, err
		}
		now := e.now()
		logs, err := tree.ListLogTimes(s.Name, piuparts.KindPass, piuparts.KindFail, piuparts.KindBugged, piuparts.KindAffected)
		if err != nil {
			return res, err
		}
		queued, err := tree.ListLogTimes(s.Name, piuparts.KindRecycle)
		if err != nil {
			return res, err
		}
		wasIdle := ""
		if len(queued) == 0 {
			wasIdle = "empty"
		} else if stamp, ok, err := tree.IdleStamp(s.Name, true); err != nil {
			return res, err
		} else if dirs, err := tree.DirTimes(s.Name); err != nil {
			return res, err
		} else if ok && stamp.After(dirs[piuparts.KindRecycle]) {
			wasIdle = "idle"
		}
		// A recycle/ marker whose log is gone from every log directory.
		hasLog := make(map[string]bool, len(logs))
		for _, l := range logs {
			hasLog[piuparts.LogName(l.Package, l.Version)] = true
		}
		inRecycle := make(map[string]bool, len(queued))
		var obsolete []store.TreeEntry
		for _, q := range queued {
			name := piuparts.LogName(q.Package, q.Version)
			inRecycle[name] = true
			if !hasLog[name] {
				obsolete = append(obsolete, q)
			}
		}
		obsolete = sortedUnique(obsolete)

		// idle.stamp younger than two days: the section is idle.
		stamp, ok, err := tree.IdleStamp(s.Name, false)
		if err != nil {
			return res, err
		}
		idle := ok && stamp.After(now.Add(-recentIdle))
		var resched, expired []store.TreeEntry
		if s.AutoReschedule {
			all := []piuparts.Kind{piuparts.KindPass, piuparts.KindFail, piuparts.KindAffected}
			failed := []piuparts.Kind{piuparts.KindFail, piuparts.KindAffected}
			var cand []store.TreeEntry
			if s.ExpireOld() > s.RescheduleOldDays && wasIdle != "" {
				cand = append(cand, oldest(logs, all, s.ExpireOld(), s.RescheduleOldCount, now)...)
			}
			if s.ExpireFail() > s.RescheduleFailDays {
				cand = append(cand, oldest(logs, failed, s.ExpireFail(), s.RescheduleFailCount, now)...)
			}
			// A log is marked for retesting before it expires.
			for _, l := range sortedUnique(cand) {
				if inRecycle[piuparts.LogName(l.Package, l.Version)] {
					expired = append(expired, l)
				}
			}
			cand = nil
			if idle {
				cand = append(cand, oldest(logs, all, s.RescheduleOldDays, s.RescheduleOldCount, now)...)
			}
			cand = append(cand, oldest(logs, failed, s.RescheduleFailDays, s.RescheduleFailCount, now)...)
			for _, l := range sortedUnique(cand) {
				if !inRecycle[piuparts.LogName(l.Package, l.Version)] {
					resched = append(resched, l)
				}
			}
		}
		if len(resched) == 0 && len(obsolete) == 0 && len(expired) == 0 && len(queued) == 0 {
			continue
		}
		fmt.Fprintf(&out, "#########################################################\n\n")
		fmt.Fprintf(&out, "%s: %d rescheduled, %d expired, %d obsolete", s.Name, len(resched), len(expired), len(obsolete))
		if wasIdle != "" {
			fmt.Fprintf(&out, " (recycle-was-%s)", wasIdle)
		}
		out.WriteString("\n")
		for _, l := range resched {
			if err := e.DB.Recycle(ctx, s.Name, l.Kind, l.Package, l.Version, now); err != nil {
				return res, err
			}
			fmt.Fprintf(&out, "%s\n", lsLine(l))
		}
		for _, l := range expired {
			if err := e.DB.RemoveLogFile(ctx, s.Name, l.Kind, l.Package, l.Version); err != nil {
				return res, err
			}
			fmt.Fprintf(&out, "removed '%s'\n", rel(l))
		}
		for _, l := range obsolete {
			if err := e.DB.RemoveLogFile(ctx, s.Name, l.Kind, l.Package, l.Version); err != nil {
				return res, err
			}
			fmt.Fprintf(&out, "removed '%s'\n", rel(l))
		}
		nowQueued, err := tree.ListLogTimes(s.Name, piuparts.KindRecycle)
		if err != nil {
			return res, err
		}
		fmt.Fprintf(&out, "queued: %d", len(nowQueued))
		if !idle {
			out.WriteString(" not-idle")
		}
		out.WriteString("\n\n")
		res.Rescheduled += len(resched)
		res.Expired += len(expired)
		res.Obsolete += len(obsolete)
		res.Queued += len(nowQueued)
	}
	if out.Len() == 0 {
		return res, nil
	}
	var head strings.Builder
	end := e.now()
	fmt.Fprintf(&head, "%s\nRuntime: %s\n\n", end.UTC().Format(time.UnixDate), runtime(end.Sub(start)))
	if res.Rescheduled > 0 {
		fmt.Fprintf(&head, "Rescheduled %d logs.\n", res.Rescheduled)
	}
	if res.Expired > 0 {
		fmt.Fprintf(&head, "Deleted %d expired logs.\n", res.Expired)
	}
	if res.Obsolete > 0 {
		fmt.Fprintf(&head, "Cancelled %d outdated rescheduling requests.\n", res.Obsolete)
	}
	if res.Queued > 0 {
		fmt.Fprintf(&head, "Queued logs: %d\n", res.Queued)
	}
	head.WriteString("\n")
	return res, e.publish(RescheduleName, "", head.String()+out.String()+"\n", end)
}

// runtime formats a duration as the scripts do (date +%T).
func runtime(d time.Duration) string {
	s := int64(d / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600%24, s/60%60, s%60)
}
