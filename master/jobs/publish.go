package jobs

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// LogsDir is where the jobs publish their reports under output-directory
// (write_log.sh's publish_logs): logs/YYYY/MM/DD/SCRIPT.txt.
const LogsDir = "logs"

// publish appends body to output-directory/logs/YYYY/MM/DD/name.txt (the
// day in UTC), with prefix first when the file is new or empty, as
// publish_logs does. Without an output-directory nothing is published.
func (e *Env) publish(name, prefix, body string, now time.Time) error {
	out := e.Config.Global.OutputDirectory
	if out == "" {
		return nil
	}
	now = now.UTC()
	dir := filepath.Join(out, LogsDir, now.Format("2006"), now.Format("01"), now.Format("02"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	p := filepath.Join(dir, name+".txt")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	if fi, err := f.Stat(); err == nil && fi.Size() == 0 {
		body = prefix + body
	}
	if _, err := f.WriteString(body); err != nil {
		f.Close()
		return fmt.Errorf("publish %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	return nil
}
