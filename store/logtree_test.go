package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"piuparts-server/store"
)

// treeFiles lists every file under root, relative, sorted.
func treeFiles(t *testing.T, root string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	sort.Strings(files)
	return files
}

// failingReader returns data, then err.
type failingReader struct {
	data string
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestLogTree_WriteLog(t *testing.T) {
	root := t.TempDir()
	tree := store.NewLogTree(root)
	// What piuparts logs contain and a master must keep byte for byte.
	log := "Start: piuparts run\n.\n..\n\tindented\ntrailing  \n\nüñí©ødé\n" + strings.Repeat("x", 100000) + "\npiuparts run ends.\n"
	lf, err := tree.WriteLog(t.Context(), "sid", store.KindPass, "libgmp10", "2:6.2.1+dfsg1-1.1", strings.NewReader(log), 1<<20)
	if err != nil {
		t.Fatalf("WriteLog: %v", err)
	}
	want := store.LogFile{Path: "sid/pass/libgmp10_2:6.2.1+dfsg1-1.1.log", Size: int64(len(log)), SHA256: sum(log)}
	if lf != want {
		t.Errorf("WriteLog = %+v, want %+v", lf, want)
	}
	got, err := os.ReadFile(filepath.Join(root, "sid", "pass", "libgmp10_2:6.2.1+dfsg1-1.1.log"))
	if err != nil || string(got) != log {
		t.Errorf("log file holds %d bytes, %v, want the %d bytes written", len(got), err, len(log))
	}
	if files := treeFiles(t, root); !equal(files, []string{want.Path}) {
		t.Errorf("tree holds %v, want only %s", files, want.Path)
	}
	if fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(want.Path))); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("log mode = %v, %v, want 0644 (readable by the report)", fi.Mode(), err)
	}
	if st, err := tree.StatLog("sid", store.KindPass, "libgmp10", "2:6.2.1+dfsg1-1.1"); err != nil || st != want {
		t.Errorf("StatLog = %+v, %v, want %+v", st, err, want)
	}
	f, err := tree.OpenLog("sid", store.KindPass, "libgmp10", "2:6.2.1+dfsg1-1.1")
	if err != nil {
		t.Fatalf("OpenLog: %v", err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != log {
		t.Errorf("OpenLog read %d bytes, want %d", len(b), len(log))
	}

	// An empty log is a valid file (recycle and reserved markers are empty).
	if lf, err := tree.WriteLog(t.Context(), "sid", store.KindRecycle, "hello", "2.10-3", strings.NewReader(""), 0); err != nil || lf.Size != 0 || lf.SHA256 != sum("") {
		t.Errorf("WriteLog(empty) = %+v, %v, want an empty file", lf, err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLogTree_WriteLog_Exists(t *testing.T) {
	root := t.TempDir()
	tree := store.NewLogTree(root)
	ctx := t.Context()
	if _, err := tree.WriteLog(ctx, "sid", store.KindFail, "hello", "2.10-3", strings.NewReader("first\n"), 0); err != nil {
		t.Fatal(err)
	}
	_, err := tree.WriteLog(ctx, "sid", store.KindFail, "hello", "2.10-3", strings.NewReader("second\n"), 0)
	if !errors.Is(err, store.ErrLogExists) || !errors.Is(err, fs.ErrExist) {
		t.Errorf("WriteLog(existing) = %v, want ErrLogExists and fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "sid", "fail", "hello_2.10-3.log")); string(b) != "first\n" {
		t.Errorf("existing log now holds %q, want it unchanged", b)
	}
	if files := treeFiles(t, root); !equal(files, []string{"sid/fail/hello_2.10-3.log"}) {
		t.Errorf("tree holds %v, want only the first log", files)
	}
}

// TestLogTree_WriteLog_NothingLeftBehind checks that a log that is not
// completely received leaves no file, under its name or a temporary one.
func TestLogTree_WriteLog_NothingLeftBehind(t *testing.T) {
	errConnReset := errors.New("connection reset by peer")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		r       io.Reader
		maxSize int64
		wantErr error
	}{
		{"ReaderFailsMidway", context.Background(), &failingReader{data: strings.Repeat("half a log\n", 1000), err: errConnReset}, 0, errConnReset},
		{"UnexpectedEOF", context.Background(), &failingReader{data: "Start:\n", err: io.ErrUnexpectedEOF}, 0, io.ErrUnexpectedEOF},
		{"TooLarge", context.Background(), strings.NewReader("12345678901"), 10, store.ErrLogTooLarge},
		{"Cancelled", cancelled, strings.NewReader("log\n"), 0, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			tree := store.NewLogTree(root)
			lf, err := tree.WriteLog(tt.ctx, "sid", store.KindPass, "hello", "2.10-3", tt.r, tt.maxSize)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("WriteLog = %+v, %v, want %v", lf, err, tt.wantErr)
			}
			if files := treeFiles(t, root); len(files) != 0 {
				t.Errorf("tree holds %v after a failed write, want nothing", files)
			}
		})
	}
	t.Run("ExactlyMaxSize", func(t *testing.T) {
		tree := store.NewLogTree(t.TempDir())
		if lf, err := tree.WriteLog(t.Context(), "sid", store.KindPass, "hello", "2.10-3", strings.NewReader("1234567890"), 10); err != nil || lf.Size != 10 {
			t.Errorf("WriteLog(10 bytes, max 10) = %+v, %v, want it stored", lf, err)
		}
	})
}

// TestLogTree_WriteLog_InvisibleWhileWriting stops a write halfway and looks
// at the tree: the log must not be under its name yet.
func TestLogTree_WriteLog_InvisibleWhileWriting(t *testing.T) {
	root := t.TempDir()
	tree := store.NewLogTree(root)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := tree.WriteLog(context.Background(), "sid", store.KindPass, "hello", "2.10-3", pr, 0)
		done <- err
	}()
	// The write returns once WriteLog has taken the data.
	if _, err := pw.Write([]byte("Start: half of a log\n")); err != nil {
		t.Fatal(err)
	}
	for _, f := range treeFiles(t, root) {
		if strings.HasSuffix(f, ".log") {
			t.Errorf("tree holds %s while the log is being written, want no .log file", f)
		}
	}
	pw.CloseWithError(errors.New("slave went away"))
	if err := <-done; err == nil {
		t.Fatal("WriteLog of an aborted stream succeeded")
	}
	if files := treeFiles(t, root); len(files) != 0 {
		t.Errorf("tree holds %v after the aborted write, want nothing", files)
	}
}

func TestLogTree_UnsafeNames(t *testing.T) {
	tests := []struct {
		name                  string
		section, pkg, version string
		kind                  store.Kind
		wantErr               error
	}{
		{"SlashInPackage", "sid", "../../etc/passwd", "1", store.KindPass, store.ErrUnsafeName},
		{"DotDotVersion", "sid", "hello", "..", store.KindPass, store.ErrUnsafeName},
		{"SlashInSection", "sid/pass", "hello", "1", store.KindPass, store.ErrUnsafeName},
		{"DotSection", ".", "hello", "1", store.KindPass, store.ErrUnsafeName},
		{"EmptyPackage", "sid", "", "1", store.KindPass, store.ErrUnsafeName},
		{"EmptyVersion", "sid", "hello", "", store.KindPass, store.ErrUnsafeName},
		{"NUL", "sid", "hello\x00", "1", store.KindPass, store.ErrUnsafeName},
		{"Newline", "sid", "hello", "1\n2", store.KindPass, store.ErrUnsafeName},
		{"Space", "sid", "hello world", "1", store.KindPass, store.ErrUnsafeName},
		{"Escape", "sid", "hello", "1\x1b[0m", store.KindPass, store.ErrUnsafeName},
		{"Backslash", "sid", `hello\x`, "1", store.KindPass, store.ErrUnsafeName},
		{"InvalidUTF8", "sid", "hello\xff", "1", store.KindPass, store.ErrUnsafeName},
		{"UnknownKind", "sid", "hello", "1", store.Kind("../x"), store.ErrUnknownKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			tree := store.NewLogTree(root)
			_, err := tree.WriteLog(t.Context(), tt.section, tt.kind, tt.pkg, tt.version, strings.NewReader("log\n"), 0)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("WriteLog(%q, %q, %q, %q) = %v, want %v", tt.section, tt.kind, tt.pkg, tt.version, err, tt.wantErr)
			}
			var ne *store.NameError
			if tt.wantErr == store.ErrUnsafeName && !errors.As(err, &ne) {
				t.Errorf("WriteLog error %v is not a *NameError", err)
			}
			if err := tree.RemoveLog(tt.section, tt.kind, tt.pkg, tt.version); !errors.Is(err, tt.wantErr) {
				t.Errorf("RemoveLog = %v, want %v", err, tt.wantErr)
			}
			if err := tree.AppendSubmission(tt.section, 1, store.KindPass, tt.pkg, tt.version); err == nil && tt.kind.Valid() {
				t.Errorf("AppendSubmission(%q, %q, %q) succeeded, want an error", tt.section, tt.pkg, tt.version)
			}
			// Nothing was created, not even a directory.
			entries, _ := os.ReadDir(root)
			if len(entries) != 0 && tt.kind.Valid() {
				t.Errorf("root holds %v after refusing the names, want nothing", entries)
			}
		})
	}
}

func TestNameError_Message(t *testing.T) {
	long := strings.Repeat("a", 200) + "/"
	err := store.CheckName("package", long)
	if err == nil {
		t.Fatal("CheckName(201-byte name with a slash) = nil, want an error")
	}
	if msg := err.Error(); len(msg) > 130 || !strings.Contains(msg, "package") {
		t.Errorf("error message %q: want the field named and the value cut to 80 bytes", msg)
	}
	for _, ok := range []string{"libgmp10", "2:6.2.1+dfsg1-1.1", "1.0~rc1+b2", "g++-12", "bookworm2trixie"} {
		if err := store.CheckName("x", ok); err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", ok, err)
		}
	}
}

func TestLogTree_RemoveLog(t *testing.T) {
	root := t.TempDir()
	tree := store.NewLogTree(root)
	if _, err := tree.WriteLog(t.Context(), "sid", store.KindReserved, "hello", "2.10-3", strings.NewReader(""), 0); err != nil {
		t.Fatal(err)
	}
	if err := tree.RemoveLog("sid", store.KindReserved, "hello", "2.10-3"); err != nil {
		t.Errorf("RemoveLog: %v", err)
	}
	if files := treeFiles(t, root); len(files) != 0 {
		t.Errorf("tree holds %v after RemoveLog, want nothing", files)
	}
	if err := tree.RemoveLog("sid", store.KindReserved, "hello", "2.10-3"); err != nil {
		t.Errorf("RemoveLog(missing) = %v, want nil", err)
	}
	if _, err := tree.StatLog("sid", store.KindReserved, "hello", "2.10-3"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("StatLog(removed) = %v, want fs.ErrNotExist", err)
	}
}

func TestLogTree_AppendSubmission(t *testing.T) {
	root := t.TempDir()
	tree := store.NewLogTree(root)
	for _, s := range []struct {
		epoch   int64
		result  store.Kind
		pkg, ve string
	}{
		{1714564800, store.KindPass, "hello", "2.10-3"},
		{1714564801, store.KindFail, "libgmp10", "2:6.2.1+dfsg1-1.1"},
		{1714564802, store.KindUntestable, "bash", "5.2.15-2+b13"},
	} {
		if err := tree.AppendSubmission("sid", s.epoch, s.result, s.pkg, s.ve); err != nil {
			t.Fatalf("AppendSubmission: %v", err)
		}
	}
	want := "1714564800 pass hello 2.10-3\n1714564801 fail libgmp10 2:6.2.1+dfsg1-1.1\n1714564802 untestable bash 5.2.15-2+b13\n"
	if b, err := os.ReadFile(filepath.Join(root, "sid", "submissions.txt")); err != nil || string(b) != want {
		t.Errorf("submissions.txt = %q, %v, want %q", b, err, want)
	}
	for _, k := range []store.Kind{store.KindRecycle, store.KindBugged, "passed"} {
		if err := tree.AppendSubmission("sid", 1, k, "hello", "1"); !errors.Is(err, store.ErrUnknownKind) {
			t.Errorf("AppendSubmission(result %q) = %v, want ErrUnknownKind", k, err)
		}
	}
}

// A version with ".." inside is valid for dpkg and cannot leave the directory.
func TestLogTree_WriteLogDotDotInsideVersion(t *testing.T) {
	tree := store.NewLogTree(t.TempDir())
	lf, err := tree.WriteLog(t.Context(), "sid", store.KindPass, "hello", "1..2", strings.NewReader("log\n"), 1<<20)
	if err != nil {
		t.Fatalf("WriteLog(hello 1..2) = %v, want success", err)
	}
	if want := filepath.Join(tree.Root(), "sid", "pass", "hello_1..2.log"); lf.Path != want && filepath.Join(tree.Root(), lf.Path) != want {
		t.Errorf("WriteLog(hello 1..2) wrote %s, want %s", lf.Path, want)
	}
}

func TestLogTree_CreateMarker(t *testing.T) {
	root := t.TempDir()
	tree := store.NewLogTree(root)
	if err := tree.CreateMarker("sid", store.KindReserved, "hello", "2.10-3"); err != nil {
		t.Fatalf("CreateMarker(hello 2.10-3) = %v", err)
	}
	fi, err := os.Stat(filepath.Join(root, "sid", "reserved", "hello_2.10-3.log"))
	if err != nil {
		t.Fatalf("marker not there: %v", err)
	}
	if fi.Size() != 0 || fi.Mode().Perm() != 0o644 {
		t.Errorf("marker size %d mode %v, want an empty 0644 file", fi.Size(), fi.Mode().Perm())
	}
	// A second reservation of the same version loses, as piuparts' os.link does.
	if err := tree.CreateMarker("sid", store.KindReserved, "hello", "2.10-3"); !errors.Is(err, store.ErrLogExists) {
		t.Errorf("second CreateMarker = %v, want ErrLogExists", err)
	}
	if err := tree.CreateMarker("sid", store.KindReserved, "../../etc", "1"); !errors.Is(err, store.ErrUnsafeName) {
		t.Errorf("CreateMarker(../../etc) = %v, want ErrUnsafeName", err)
	}
	if got, want := treeFiles(t, root), []string{"sid/reserved/hello_2.10-3.log"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("tree holds %q, want %q", got, want)
	}
}

func TestLogTree_CreateMarkerNoSync(t *testing.T) {
	root := t.TempDir()
	tree := store.NewLogTree(root)
	for _, v := range []string{"2.10-3", "2.10-4"} {
		if err := tree.CreateMarkerNoSync("sid", store.KindReserved, "hello", v); err != nil {
			t.Fatalf("CreateMarkerNoSync(hello %s) = %v", v, err)
		}
	}
	if err := tree.SyncKind("sid", store.KindReserved); err != nil {
		t.Errorf("SyncKind(sid, reserved) = %v", err)
	}
	if err := tree.CreateMarkerNoSync("sid", store.KindReserved, "hello", "2.10-3"); !errors.Is(err, store.ErrLogExists) {
		t.Errorf("second CreateMarkerNoSync = %v, want ErrLogExists", err)
	}
	if err := tree.CreateMarkerNoSync("sid", store.KindReserved, "../../etc", "1"); !errors.Is(err, store.ErrUnsafeName) {
		t.Errorf("CreateMarkerNoSync(../../etc) = %v, want ErrUnsafeName", err)
	}
	want := []string{"sid/reserved/hello_2.10-3.log", "sid/reserved/hello_2.10-4.log"}
	if got := treeFiles(t, root); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("tree holds %q, want %q", got, want)
	}
}

func TestLogTree_SyncKind_Errors(t *testing.T) {
	tree := store.NewLogTree(t.TempDir())
	tests := []struct {
		name    string
		section string
		kind    store.Kind
		want    error
	}{
		{"missing directory", "sid", store.KindReserved, fs.ErrNotExist},
		{"unsafe section", "../x", store.KindReserved, store.ErrUnsafeName},
		{"unknown kind", "sid", store.Kind("../pass"), store.ErrUnknownKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tree.SyncKind(tt.section, tt.kind); !errors.Is(err, tt.want) {
				t.Errorf("SyncKind(%q, %q) = %v, want %v", tt.section, tt.kind, err, tt.want)
			}
		})
	}
}
