package portserver

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestTable_AppendLoadRewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "owners")
	a, b := Process{Pid: 100, Start: 7}, Process{Pid: 200, Start: 9}
	tab, err := openTable(path, "boot-1", map[Process][]int{a: {15000}})
	if err != nil {
		t.Fatal(err)
	}
	var buf []byte
	buf = appendGrant(buf, b, 15001)
	buf = appendGrant(buf, a, 15002)
	buf = appendExit(buf, b)
	buf = appendGrant(buf, b, 15003)
	if err := tab.append(buf, 4); err != nil {
		t.Fatal(err)
	}
	want := map[Process][]int{a: {15000, 15002}, b: {15003}}
	got, other, err := loadTable(path, "boot-1")
	if err != nil || other || !reflect.DeepEqual(got, want) {
		t.Fatalf("loadTable = %v, %v, %v; want %v", got, other, err, want)
	}

	t.Run("CutShortLastLine", func(t *testing.T) {
		if err := tab.append([]byte("+ 300 1 150"), 1); err != nil {
			t.Fatal(err)
		}
		got, _, err := loadTable(path, "boot-1")
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("after a cut-short line: %v, %v; want %v", got, err, want)
		}
		// The next batch starts on that line; only the cut one is lost.
		tab.append([]byte("\n"), 0)
	})
	t.Run("Garbage", func(t *testing.T) {
		if err := tab.append([]byte("\n+ x y z\n- 1\n* 1 2 3\n+ 1 2 70000\n"), 5); err != nil {
			t.Fatal(err)
		}
		got, _, err := loadTable(path, "boot-1")
		if err != nil || !reflect.DeepEqual(got[a], want[a]) || len(got) > 3 {
			t.Errorf("after garbage lines: %v, %v", got, err)
		}
	})
	t.Run("Rewrite", func(t *testing.T) {
		if err := tab.rewrite(want); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(path)
		if lines := strings.Count(string(data), "\n"); lines != 4 || tab.lines != 3 {
			t.Errorf("rewritten table has %d lines (%d changes), want 4 (3):\n%s", lines, tab.lines, data)
		}
		got, _, err := loadTable(path, "boot-1")
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("after rewrite: %v, %v; want %v", got, err, want)
		}
		// Appending goes on in the new file.
		if err := tab.append(appendExit(nil, a), 1); err != nil {
			t.Fatal(err)
		}
		got, _, _ = loadTable(path, "boot-1")
		if !reflect.DeepEqual(got, map[Process][]int{b: {15003}}) {
			t.Errorf("append after rewrite: %v", got)
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".owners.*")); len(left) != 0 {
			t.Errorf("temporary files left: %v", left)
		}
	})
	tab.close()
	t.Run("OtherBoot", func(t *testing.T) {
		got, other, err := loadTable(path, "boot-2")
		if err != nil || !other || len(got) != 0 {
			t.Errorf("loadTable of another boot = %v, %v, %v; want empty, otherBoot", got, other, err)
		}
	})
	t.Run("Missing", func(t *testing.T) {
		got, other, err := loadTable(path+".none", "boot-1")
		if err != nil || other || len(got) != 0 {
			t.Errorf("loadTable of no file = %v, %v, %v", got, other, err)
		}
	})
}

func TestReadStat_CommandWithParens(t *testing.T) {
	st, err := readStat(os.Getpid())
	if err != nil || st.state == 0 || st.start == 0 {
		t.Fatalf("readStat(self) = %+v, %v", st, err)
	}
	// A command name that holds ") " and digits must not shift the fields.
	dir := t.TempDir()
	name := filepath.Join(dir, "x) Z 1 2 (y")
	if err := os.Symlink("/bin/sleep", name); err != nil {
		t.Fatal(err)
	}
	p, err := os.StartProcess(name, []string{name, "100"}, &os.ProcAttr{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { p.Kill(); p.Wait() }()
	st2, err := readStat(p.Pid)
	if err != nil || st2.state == 'Z' || st2.start < st.start {
		t.Errorf("readStat of %q = %+v, %v; want a live process started after this one", name, st2, err)
	}
}
