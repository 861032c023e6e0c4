package jobs

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// RotateLogsName is the name Debian's script publishes its report under.
const RotateLogsName = "rotate_master_logs"

// Rotation limits of rotate_master_logs.
const (
	rotateSize     = 1 << 20 // a master.log larger than this is rotated
	rotatedKeep    = 4       // the newest compressed logs always kept
	rotatedMaxAge  = 90 * 24 * time.Hour
	publishedDelay = 7 * 24 * time.Hour // published reports compressed after this
)

// RotateLogs is rotate_master_logs: each section's master.log larger than
// 1 MiB becomes master.YYYYMMDD.log (the local date); rotated logs of
// earlier days are compressed with xz -9; compressed ones older than 90
// days go, but for the four newest; the reports the jobs published a week
// ago are compressed. It publishes what it did, when it did something.
func RotateLogs(ctx context.Context, e *Env) error {
	secs, err := e.sections(nil)
	if err != nil {
		return err
	}
	now := e.now()
	day := now.Format("20060102")
	tree := e.DB.Tree()
	var out strings.Builder
	for _, s := range secs {
		if !e.sectionExists(s.Name) {
			continue
		}
		rotated, err := tree.RotateSectionLog(s.Name, day, rotateSize)
		if err != nil {
			return err
		}
		if rotated != "" {
			fmt.Fprintf(&out, "renamed '%s/master.log' -> '%s'\n", s.Name, rotated)
		}
		keep := s.Name + "/master." + day + ".log"
		done, err := tree.CompressRotatedLogs(ctx, s.Name, keep)
		for _, d := range done {
			fmt.Fprintf(&out, "%s: compressed\n", d)
		}
		if err != nil {
			return err
		}
		removed, err := tree.RemoveOldRotatedLogs(s.Name, rotatedKeep, rotatedMaxAge, now)
		for _, r := range removed {
			fmt.Fprintf(&out, "removed '%s'\n", r)
		}
		if err != nil {
			return err
		}
	}
	if n, err := e.compressPublished(ctx, now.Add(-publishedDelay)); err != nil {
		return err
	} else if n > 0 {
		out.WriteString("\nCompressing old piuparts.d.o logfiles.\n\n")
	}
	if out.Len() == 0 {
		return nil
	}
	return e.publish(RotateLogsName, "", fmt.Sprintf("%s\n\n%s\n", now.UTC().Format(time.UnixDate), out.String()), now)
}

// compressPublished compresses the reports published on day (logs/
// YYYY/MM/DD in UTC) with xz -9 and returns how many.
func (e *Env) compressPublished(ctx context.Context, day time.Time) (int, error) {
	out := e.Config.Global.OutputDirectory
	if out == "" {
		return 0, nil
	}
	day = day.UTC()
	dir := filepath.Join(out, LogsDir, day.Format("2006"), day.Format("01"), day.Format("02"))
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || strings.HasSuffix(p, ".xz") {
			return nil
		}
		if o, err := exec.CommandContext(ctx, "xz", "-9", "--", p).CombinedOutput(); err != nil {
			return fmt.Errorf("xz: %w: %s", err, strings.TrimSpace(string(o)))
		}
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("compress published reports of %s: %w", day.Format("2006-01-02"), err)
	}
	return n, nil
}
