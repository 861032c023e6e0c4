package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"piuparts-server/internal/piuparts"
)

// RescheduleUntestableName is the name Debian's script publishes under.
const RescheduleUntestableName = "report_untestable_packages"

// RescheduleUntestable is report_untestable_packages: in every section of
// the config with a precedence below 100 it deletes the untestable logs
// older than reschedule-untestable-days (find -mtime +DAYS), so that the
// packages are tested again, and publishes the list. It returns how many
// logs it deleted.
func RescheduleUntestable(ctx context.Context, e *Env) (int, error) {
	secs, err := e.sections(nil)
	if err != nil {
		return 0, err
	}
	start := e.now()
	days := e.Config.Global.RescheduleUntestableDays
	tree := e.DB.Tree()
	var out strings.Builder
	n := 0
	for _, s := range secs {
		if s.Precedence > 99 || !e.sectionExists(s.Name) {
			continue
		}
		logs, err := tree.ListLogTimes(s.Name, piuparts.KindUntestable)
		if err != nil {
			return n, err
		}
		now := e.now()
		for _, l := range logs {
			if !olderThanDays(l.ModTime, now, days) {
				continue
			}
			if err := e.DB.RemoveLogFile(ctx, s.Name, l.Kind, l.Package, l.Version); err != nil {
				return n, err
			}
			fmt.Fprintf(&out, "removed %s/%s\n", s.Name, rel(l))
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	end := e.now()
	prefix := fmt.Sprintf("Untestable packages detected, which have been tested more than %d days ago!\n"+
		"These packages have been rescheduled for piuparts testing.\n\n", days)
	body := fmt.Sprintf("%s\nRuntime: %s\n\n%s\n", end.UTC().Format(time.UnixDate), runtime(end.Sub(start)), out.String())
	return n, e.publish(RescheduleUntestableName, prefix, body, end)
}
