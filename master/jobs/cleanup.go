package jobs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// dailyLock is the lock Debian's generate_daily_report keeps in
// output-directory.
const dailyLock = "daily.lock"

// Cleanup is master_cleanup, for boot: it removes output-directory/
// daily.lock unless a generate_daily_report or piuparts-report process
// runs, and returns what the script prints. (Our own locks are flocks,
// which no crash leaves behind.) procDir is /proc.
func Cleanup(e *Env, procDir string) (string, error) {
	out := e.Config.Global.OutputDirectory
	if out == "" {
		return "", nil
	}
	lock := filepath.Join(out, dailyLock)
	if _, err := os.Lstat(lock); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	running, err := processRunning(procDir, "generate_daily_report", "piuparts-report")
	if err != nil {
		return "", err
	}
	if running {
		return "daily processing is running\n", nil
	}
	if err := os.Remove(lock); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("cleanup: %w", err)
	}
	return fmt.Sprintf("removed '%s'\n", lock), nil
}

// processRunning reports whether a process's command line contains one
// of names (pgrep -f).
func processRunning(procDir string, names ...string) (bool, error) {
	entries, err := os.ReadDir(procDir)
	if err != nil {
		return false, fmt.Errorf("list processes: %w", err)
	}
	self := fmt.Sprint(os.Getpid())
	for _, e := range entries {
		if e.Name() == self || strings.TrimLeft(e.Name(), "0123456789") != "" {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join(procDir, e.Name(), "cmdline"))
		if err != nil {
			continue // gone, or not ours to read
		}
		line := string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		for _, n := range names {
			if strings.Contains(line, n) {
				return true, nil
			}
		}
	}
	return false, nil
}
