package portserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// DefaultTablePath is where the server keeps its owner table unless told
// otherwise (systemd's StateDirectory=piuparts-portserver).
const DefaultTablePath = "/var/lib/piuparts-portserver/owners.json"

// bootIDPath holds a random id the kernel draws at each boot.
const bootIDPath = "/proc/sys/kernel/random/boot_id"

// tableFile is the owner table on disk: the boot it belongs to and every
// owner with its ports.
//
//	{"boot_id":"…","owners":[{"pid":4242,"start":123456,"ports":[15000,15001]}]}
type tableFile struct {
	BootID string       `json:"boot_id"`
	Owners []tableOwner `json:"owners"`
}

type tableOwner struct {
	Process
	Ports []int `json:"ports"`
}

// bootID returns the id of this boot.
func bootID() (string, error) {
	data, err := os.ReadFile(bootIDPath)
	if err != nil {
		return "", fmt.Errorf("boot id: %w", err)
	}
	return string(bytes.TrimSpace(data)), nil
}

// loadTable reads the owner table at path. A missing file is an empty
// table. A table of another boot is empty too (start times count from the
// boot), and otherBoot says so.
func loadTable(path, boot string) (owners map[Process][]int, otherBoot bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("owner table: %w", err)
	}
	var t tableFile
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, false, fmt.Errorf("owner table %s: %w", path, err)
	}
	if t.BootID != boot {
		return nil, true, nil
	}
	owners = make(map[Process][]int, len(t.Owners))
	for _, o := range t.Owners {
		owners[o.Process] = append(owners[o.Process], o.Ports...)
	}
	return owners, false, nil
}

// encodeTable returns the owner table of boot, owners sorted by pid.
func encodeTable(boot string, owners map[Process][]int) []byte {
	t := tableFile{BootID: boot, Owners: make([]tableOwner, 0, len(owners))}
	for p, ports := range owners {
		t.Owners = append(t.Owners, tableOwner{Process: p, Ports: ports})
	}
	slices.SortFunc(t.Owners, func(a, b tableOwner) int {
		if a.Pid != b.Pid {
			return a.Pid - b.Pid
		}
		return int(a.Start) - int(b.Start)
	})
	data, _ := json.Marshal(t) // cannot fail: ints and strings
	return append(data, '\n')
}

// writeTable replaces the file at path with data atomically: it writes a
// temporary file beside it and renames it over path, so a reader (or a
// server killed meanwhile) sees the old table or the new one, never a
// part. It does not fsync: the table only matters within one boot, and a
// crash of the machine ends that boot.
func writeTable(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write owner table: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write owner table: %w", err)
	}
	return nil
}
