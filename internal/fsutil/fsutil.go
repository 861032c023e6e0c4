// Package fsutil holds the file-system steps that the master's store and the
// slave's spool both take to make a file's name durable.
package fsutil

import "os"

// SyncDir fsyncs a directory so that names created, renamed or removed in it
// persist across a crash.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
