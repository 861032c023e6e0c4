package portserver

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// DefaultTablePath is where the server keeps its owner table unless told
// otherwise (systemd's StateDirectory=piuparts-portserver).
const DefaultTablePath = "/var/lib/piuparts-portserver/owners"

// bootIDPath holds a random id the kernel draws at each boot.
const bootIDPath = "/proc/sys/kernel/random/boot_id"

// tableMagic starts the first line of an owner table.
const tableMagic = "piuparts-portserver owners"

// compactMin is how many lines the owner table may hold beyond twice the
// assigned ports before it is rewritten.
const compactMin = 10000

// The owner table is a text file: a header line naming the boot, then
// one line per change, appended as grants and exits happen:
//
//	piuparts-portserver owners 0b05e544-0a01-4587-ac1b-ef2f200a3b5a
//	+ 4242 1236581 15000      (pid 4242, started at tick 1236581, got 15000)
//	+ 4242 1236581 15001
//	- 4242 1236581            (that process exited: its ports are free)
//
// Each batch of changes is one write(2) at the end of the file, so a
// server killed mid-way leaves at most a last line without its newline,
// which loading ignores. When the file has grown to more than twice the
// lines it needs, it is rewritten with only the live grants, atomically:
// a temporary file beside it is renamed over it. Nothing is fsynced: the
// table only means something within one boot (start times count from
// it), and a crash of the machine ends that boot.
type table struct {
	path  string
	boot  string
	f     *os.File // open for appending
	lines int      // change lines in the file
}

// bootID returns the id of this boot.
func bootID() (string, error) {
	data, err := os.ReadFile(bootIDPath)
	if err != nil {
		return "", fmt.Errorf("boot id: %w", err)
	}
	return string(bytes.TrimSpace(data)), nil
}

// loadTable reads the owner table at path and returns each owner's ports.
// A missing file is an empty table; so is a table of another boot (or no
// table at all), and otherBoot says so. Lines it cannot read are skipped.
func loadTable(path, boot string) (owners map[Process][]int, otherBoot bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("owner table: %w", err)
	}
	// A last line without its newline is a write cut short: dropped.
	data = data[:bytes.LastIndexByte(data, '\n')+1]
	header, rest, _ := strings.Cut(string(data), "\n")
	if header != tableMagic+" "+boot {
		return nil, true, nil
	}
	owners = make(map[Process][]int)
	for _, line := range strings.Split(rest, "\n") {
		f := strings.Fields(line)
		nums := make([]uint64, len(f))
		bad := false
		for i := 1; i < len(f) && !bad; i++ {
			nums[i], err = strconv.ParseUint(f[i], 10, 64)
			bad = err != nil
		}
		switch {
		case bad:
		case len(f) == 4 && f[0] == "+" && nums[3] >= 1 && nums[3] <= 65535:
			p := Process{Pid: int(nums[1]), Start: nums[2]}
			owners[p] = append(owners[p], int(nums[3]))
		case len(f) == 3 && f[0] == "-":
			delete(owners, Process{Pid: int(nums[1]), Start: nums[2]})
		}
	}
	return owners, false, nil
}

// appendGrant appends the line of a grant to buf.
func appendGrant(buf []byte, p Process, port int) []byte {
	buf = append(buf, "+ "...)
	buf = strconv.AppendInt(buf, int64(p.Pid), 10)
	buf = append(buf, ' ')
	buf = strconv.AppendUint(buf, p.Start, 10)
	buf = append(buf, ' ')
	buf = strconv.AppendInt(buf, int64(port), 10)
	return append(buf, '\n')
}

// appendExit appends the line of an owner's exit to buf.
func appendExit(buf []byte, p Process) []byte {
	buf = append(buf, "- "...)
	buf = strconv.AppendInt(buf, int64(p.Pid), 10)
	buf = append(buf, ' ')
	buf = strconv.AppendUint(buf, p.Start, 10)
	return append(buf, '\n')
}

// openTable writes a fresh owner table at path holding owners and opens
// it for appending.
func openTable(path, boot string, owners map[Process][]int) (*table, error) {
	t := &table{path: path, boot: boot}
	if err := t.rewrite(owners); err != nil {
		return nil, err
	}
	return t, nil
}

// rewrite replaces the file with one that holds owners, atomically, and
// appends to the new file from then on.
func (t *table) rewrite(owners map[Process][]int) error {
	keys := make([]Process, 0, len(owners))
	for p := range owners {
		keys = append(keys, p)
	}
	slices.SortFunc(keys, func(a, b Process) int { return a.Pid - b.Pid })
	buf := []byte(tableMagic + " " + t.boot + "\n")
	lines := 0
	for _, p := range keys {
		for _, port := range owners[p] {
			buf = appendGrant(buf, p, port)
			lines++
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(t.path), "."+filepath.Base(t.path)+".*")
	if err != nil {
		return fmt.Errorf("write owner table: %w", err)
	}
	_, err = tmp.Write(buf)
	if err == nil {
		err = os.Rename(tmp.Name(), t.path)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write owner table: %w", err)
	}
	// The temporary file is now the table; the server is its only writer,
	// so appending to it goes on at its end.
	if t.f != nil {
		t.f.Close()
	}
	t.f, t.lines = tmp, lines
	return nil
}

// append writes change lines (n of them) to the end of the table.
func (t *table) append(buf []byte, n int) error {
	if t.f == nil {
		return fmt.Errorf("write owner table %s: not open", t.path)
	}
	if _, err := t.f.Write(buf); err != nil {
		return fmt.Errorf("write owner table: %w", err)
	}
	t.lines += n
	return nil
}

// close closes the table's file.
func (t *table) close() {
	if t.f != nil {
		t.f.Close()
		t.f = nil
	}
}
