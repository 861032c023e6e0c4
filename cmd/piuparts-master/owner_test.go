package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"piuparts-server/store"
)

// TestRun_RefusesRootOnMasterUsersDir runs, as root, every command that
// opens a master directory owned by another user (nobody here): each
// refuses with the line that says how to run it, and nothing under the
// directory changes.
func TestRun_RefusesRootOnMasterUsersDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("######## SKIPPED: needs root (CI runs as root) to chown a master directory to nobody")
	}
	conf, dir := masterTree(t)
	const nobody = 65534
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, nobody, nobody)
	})
	if err != nil {
		t.Fatal(err)
	}
	before := listTree(t, dir)
	tests := [][]string{
		{},         // serving
		{"import"}, // writes the database
		{"fsck", "--repair"},
		{"reservations", "release", "dash"},
		{"status"}, // opening the database would leave root-owned -wal and -shm files
		{"import", dir},
	}
	for _, args := range tests {
		t.Run(strings.Join(append([]string{"run"}, args...), " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			full := append([]string{"-c", conf}, args...)
			err := run(t.Context(), full, strings.NewReader(""), &stdout, &stderr, noEnv)
			if !errors.Is(err, store.ErrWrongUser) {
				t.Fatalf("run(%q) = %v, want a refusal (ErrWrongUser)", args, err)
			}
			msg := err.Error()
			if want := "run it as that user: sudo -u nobody piuparts-master -c " + conf; !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
				t.Errorf("run(%q) error = %q, want one line containing %q", args, msg, want)
			}
			if !strings.Contains(msg, dir+" belongs to nobody, not root") {
				t.Errorf("run(%q) error = %q, want it to name the directory and its owner", args, msg)
			}
			if stdout.Len() != 0 {
				t.Errorf("run(%q) wrote %q to stdout", args, stdout.String())
			}
			if after := listTree(t, dir); after != before {
				t.Errorf("run(%q) changed the master directory:\nbefore:\n%s\nafter:\n%s", args, before, after)
			}
		})
	}
}

// listTree lists the files under dir with their sizes and owners.
func listTree(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b.WriteString(rel + " " + info.Mode().String() + " " + strings.TrimSpace(ownerOf(info)) + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// ownerOf is the uid:gid of a file.
func ownerOf(info fs.FileInfo) string {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%d:%d", st.Uid, st.Gid)
	}
	return "?"
}
