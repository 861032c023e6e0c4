package slave

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"piuparts-server/internal/fsutil"
)

// StatusFile is the name of the file, in each worker's directory under
// slave-directory, where the worker publishes what it does.
const StatusFile = "status.json"

// RunLockFile is the lock file under slave-directory that `run` holds, so
// that a second slave on the same directory is refused.
const RunLockFile = "run.lock"

// Worker states in a [WorkerStatus].
const (
	StateStarting = "starting" // before its first round
	StateWorking  = "working"  // talking to a master, making a tarball, between tests
	StateTesting  = "testing"  // running piuparts on Package
	StateSleeping = "sleeping" // nothing to do until Until
	StateStopped  = "stopped"  // the worker returned
)

// WorkerStatus is what a worker publishes in its StatusFile at each change
// of state, written atomically (temporary file, rename). piuparts-slave
// status reads it.
type WorkerStatus struct {
	Worker      int       `json:"worker"`
	PID         int       `json:"pid"` // of the `run` process
	State       string    `json:"state"`
	Since       time.Time `json:"since"` // when State (and Package) began
	Section     string    `json:"section,omitempty"`
	Package     string    `json:"package,omitempty"`
	Version     string    `json:"version,omitempty"`
	N           int       `json:"n,omitempty"`            // Package is the Nth of the batch
	Batch       int       `json:"batch,omitempty"`        // packages reserved in this batch
	MaxReserved int       `json:"max_reserved,omitempty"` // the section's max-reserved
	Until       time.Time `json:"until,omitzero"`         // end of a sleep
}

// publish writes the worker's status file; a failure is logged, not fatal.
func (w *worker) publish(st WorkerStatus) {
	st.Worker, st.PID, st.Since = w.n, os.Getpid(), w.now()
	if err := writeStatus(filepath.Join(w.dir, StatusFile), st); err != nil {
		w.log.Warn().Err(err).Msg("publish status")
	}
}

func writeStatus(path string, st WorkerStatus) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, append(b, '\n'), 0o644, "")
}

// ReadStatus reads the status files of the workers under slave-directory
// dir (dir/1, dir/2, ...), in worker order. Directories without one are
// skipped; a file that does not parse is an error naming it.
func ReadStatus(dir string) ([]WorkerStatus, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read worker status: %w", err)
	}
	var out []WorkerStatus
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil || !e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name(), StatusFile)
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read worker status: %w", err)
		}
		var st WorkerStatus
		if err := json.Unmarshal(b, &st); err != nil {
			return nil, fmt.Errorf("read worker status %s: %w", p, err)
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b WorkerStatus) int { return a.Worker - b.Worker })
	return out, nil
}
