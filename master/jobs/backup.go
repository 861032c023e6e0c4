package jobs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// BackupDatabaseName is the database's copy in backup-directory.
const BackupDatabaseName = "piuparts-master.db"

// Backup is prepare_backup: it copies the farm's history
// (archive_issues.txt, bts_stats.txt, and each section's submissions.txt
// and counts.txt) into backup-directory, and beside them a consistent
// copy of our database (which holds the state-count history). Without a
// backup-directory it does nothing. It returns a warning line for each
// file that is missing (the script's, which cron mails on purpose), but
// not for the submissions.txt of a TESTING-pu or TESTING-security section,
// which stay empty in development.
func Backup(ctx context.Context, e *Env) (string, error) {
	dir := e.Config.Global.BackupDirectory
	if dir == "" {
		return "", nil
	}
	secs, err := e.sections(nil)
	if err != nil {
		return "", err
	}
	tree := e.DB.Tree()
	var warn strings.Builder
	copyFile := func(rel string) error {
		ok, err := tree.CopyForBackup(rel, dir)
		if err != nil || ok {
			return err
		}
		sec, base := filepath.Split(filepath.FromSlash(rel))
		sec = filepath.Clean(sec)
		testing := e.Config.Global.TestingSuite
		if base == "submissions.txt" && (sec == testing+"-pu" || sec == testing+"-security") {
			return nil
		}
		fmt.Fprintf(&warn, "Warning: %s does not exist.\n", filepath.Join(tree.Root(), rel))
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	for _, rel := range []string{"archive_issues.txt", "bts_stats.txt"} {
		if err := copyFile(rel); err != nil {
			return warn.String(), err
		}
	}
	for _, s := range secs {
		if err := os.MkdirAll(filepath.Join(dir, s.Name), 0o755); err != nil {
			return warn.String(), fmt.Errorf("backup: %w", err)
		}
		for _, f := range []string{"submissions.txt", "counts.txt"} {
			if err := copyFile(s.Name + "/" + f); err != nil {
				return warn.String(), err
			}
		}
	}
	if err := e.DB.BackupDatabase(ctx, filepath.Join(dir, BackupDatabaseName)); err != nil {
		return warn.String(), err
	}
	return warn.String(), nil
}
