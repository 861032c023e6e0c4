package store

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// openRaw opens a database file without migrating it.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// schemaOf returns the schema of a database as text, to compare two.
func schemaOf(t *testing.T, raw *sql.DB) string {
	t.Helper()
	rows, err := raw.QueryContext(t.Context(), "SELECT type, name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name")
	if err != nil {
		t.Fatalf("read schema: %v", err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			t.Fatalf("read schema: %v", err)
		}
		b.WriteString(typ + " " + name + ": " + text + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read schema: %v", err)
	}
	return b.String()
}

func TestLoadMigrations(t *testing.T) {
	ms, err := loadMigrations()
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	if len(ms) < 2 {
		t.Fatalf("loadMigrations: %d migrations, want at least 2", len(ms))
	}
	for i, m := range ms {
		if m.version != i+1 || !strings.HasSuffix(m.name, ".sql") || strings.TrimSpace(m.sql) == "" {
			t.Errorf("migration %d = {%d %q, %d bytes}, want number %d with SQL", i, m.version, m.name, len(m.sql), i+1)
		}
	}
}

func TestOpen_MigratesFromEveryVersion(t *testing.T) {
	ctx := t.Context()
	ms, err := loadMigrations()
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	// The schema a new database gets is the reference.
	fresh := filepath.Join(t.TempDir(), "fresh.db")
	db, err := Open(ctx, fresh)
	if err != nil {
		t.Fatalf("Open(new): %v", err)
	}
	db.Close()
	want := schemaOf(t, openRaw(t, fresh))

	for k := 0; k <= len(ms); k++ {
		t.Run(fmt.Sprintf("FromVersion%d", k), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			raw := openRaw(t, path)
			if err := migrate(ctx, raw, ms, k); err != nil {
				t.Fatalf("migrate to %d: %v", k, err)
			}
			// Data written by the old schema must survive the migrations.
			if k >= 1 {
				mustExec(t, raw, `INSERT INTO sections (id, name, states_computed_at) VALUES (1, 'sid', 1700000000)`)
				mustExec(t, raw, `INSERT INTO logs (section_id, kind, package, version, path, size, sha256, submitted_at)
					VALUES (1, 'pass', 'hello', '2.10-3', 'sid/pass/hello_2.10-3.log', 5, 'x', 1700000000)`)
			}
			switch {
			case k >= 1 && k < 3:
				// Before 003: package rows, states referring to them, and
				// the reserve order after the key in states_inputs.
				mustExec(t, raw, `INSERT INTO packages (section_id, name, version, test_version, source, source_version, dependencies)
					VALUES (1, 'hello', '2.10-3', NULL, 'hello', '2.10-3', '["libc6"]'),
					       (1, 'libc6', '2.36-9', '2.36-10', 'glibc', '2.36-9', '[]'),
					       (1, 'bash', '5.2-2', NULL, 'bash', '5.2-2', '[]')`)
				mustExec(t, raw, `INSERT INTO states (section_id, package, state) VALUES
					(1, 'hello', 'waiting-to-be-tested'), (1, 'libc6', 'waiting-to-be-tested'), (1, 'bash', 'unknown')`)
				mustExec(t, raw, `UPDATE sections SET states_inputs = 'key'||char(10)||'libc6'||char(10)||'hello' WHERE id = 1`)
			case k >= 3:
				// From 003 one JSON text per section, from 004 in chunks.
				const list = `'[{"n":"bash","v":"5.2-2","s":"bash","sv":"5.2-2"},{"n":"hello","v":"2.10-3","s":"hello","sv":"2.10-3","r":["libc6"]},{"n":"libc6","v":"2.36-9","tv":"2.36-10","s":"glibc","sv":"2.36-9"}]'`
				if k == 3 {
					mustExec(t, raw, `INSERT INTO package_lists (section_id, count, data) VALUES (1, 3, `+list+`)`)
				} else {
					mustExec(t, raw, `INSERT INTO package_chunks (section_id, first, count, sha256, data)
						VALUES (1, 'bash', 2, 'x', '[{"n":"bash","v":"5.2-2","s":"bash","sv":"5.2-2"},{"n":"hello","v":"2.10-3","s":"hello","sv":"2.10-3","r":["libc6"]}]'),
						       (1, 'libc6', 1, 'y', '[{"n":"libc6","v":"2.36-9","tv":"2.36-10","s":"glibc","sv":"2.36-9"}]')`)
					mustExec(t, raw, `UPDATE sections SET packages_updated_at = 1700000000 WHERE id = 1`)
				}
				mustExec(t, raw, `INSERT INTO states (section_id, package, version, state) VALUES
					(1, 'hello', '2.10-3', 'waiting-to-be-tested'), (1, 'libc6', '2.36-10', 'waiting-to-be-tested'),
					(1, 'bash', '5.2-2', 'unknown')`)
				mustExec(t, raw, `INSERT INTO candidates (section_id, rank, package) VALUES (1, 1, 'libc6'), (1, 2, 'hello')`)
				mustExec(t, raw, `UPDATE sections SET states_inputs = 'key' WHERE id = 1`)
			}
			raw.Close()

			db, err := Open(ctx, path)
			if err != nil {
				t.Fatalf("Open(version %d): %v", k, err)
			}
			defer db.Close()
			if v, err := db.SchemaVersion(ctx); err != nil || v != len(ms) {
				t.Errorf("SchemaVersion() = %d, %v, want %d", v, err, len(ms))
			}
			if got := schemaOf(t, db.db); got != want {
				t.Errorf("schema after migrating from %d:\n%s\nwant (new database):\n%s", k, got, want)
			}
			if k >= 1 {
				logs, err := db.Logs(ctx, "sid", KindPass)
				if err != nil || len(logs) != 1 || logs[0].Package != "hello" {
					t.Errorf("Logs(sid, pass) after migration = %v, %v, want the hello log", logs, err)
				}
				pkgs, err := db.Packages(ctx, "sid")
				if err != nil || len(pkgs) != 3 || pkgs[1].Name != "hello" || pkgs[1].Source != "hello" ||
					len(pkgs[1].Dependencies) != 1 || pkgs[2].TestedVersion() != "2.36-10" {
					t.Errorf("Packages(sid) after migration = %+v, %v, want bash, hello (depending on libc6), libc6 tested at 2.36-10", pkgs, err)
				}
				wantStates := []PackageState{
					{Package: "bash", Version: "5.2-2", State: "unknown"},
					{Package: "hello", Version: "2.10-3", State: "waiting-to-be-tested", Rank: 2},
					{Package: "libc6", Version: "2.36-10", State: "waiting-to-be-tested", Rank: 1},
				}
				if got, err := db.States(ctx, "sid"); err != nil || !reflect.DeepEqual(got, wantStates) {
					t.Errorf("States(sid) after migration = %+v, %v, want %+v", got, err, wantStates)
				}
				if s, err := db.Section(ctx, "sid"); err != nil || s.StatesInputs != "key" {
					t.Errorf("Section(sid) after migration = %+v, %v, want states inputs %q", s, err, "key")
				}
				res, ok, err := db.ReserveNext(ctx, "sid", "s1", time.Unix(1700000000, 0), time.Hour, 0, 0)
				if err != nil || !ok || res.Package != "libc6" || res.Version != "2.36-10" || res.Rank != 1 {
					t.Errorf("ReserveNext after migration = %+v, %v, %v, want libc6 2.36-10 of rank 1", res, ok, err)
				}
			}
		})
	}
}

func mustExec(t *testing.T, raw *sql.DB, q string) {
	t.Helper()
	if _, err := raw.ExecContext(t.Context(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestOpen_Twice(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "master.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := db.SetConfigHash(ctx, "sid", "abc"); err != nil {
		t.Fatalf("SetConfigHash: %v", err)
	}
	before := schemaOf(t, db.db)
	db.Close()

	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer db.Close()
	if after := schemaOf(t, db.db); after != before {
		t.Errorf("schema changed by a second Open:\n%s\nwant\n%s", after, before)
	}
	if s, err := db.Section(ctx, "sid"); err != nil || s.ConfigHash != "abc" {
		t.Errorf("Section(sid) after reopening = %+v, %v, want config hash abc", s, err)
	}
}

// TestClose_KeepsWAL checks that closing leaves the write-ahead log for a
// later commit to checkpoint, and that what it holds is read back.
func TestClose_KeepsWAL(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "master.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := db.SetConfigHash(ctx, "sid", "abc"); err != nil {
		t.Fatalf("SetConfigHash: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Errorf("after Close the WAL is %v, %v; want it kept, not checkpointed", fi, err)
	}
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer db.Close()
	if s, err := db.Section(ctx, "sid"); err != nil || s.ConfigHash != "abc" {
		t.Errorf("Section(sid) after reopening = %+v, %v, want config hash abc", s, err)
	}
}

func TestOpen_NewerSchemaRefused(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "master.db")
	raw := openRaw(t, path)
	mustExec(t, raw, "PRAGMA user_version = 99")
	raw.Close()

	db, err := Open(ctx, path)
	if err == nil {
		db.Close()
		t.Fatal("Open(database at version 99) succeeded, want an error")
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("Open(database at version 99) = %v, want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), "schema version 99") || !strings.Contains(err.Error(), path) {
		t.Errorf("Open error %q does not name the version and the file", err)
	}
}

func TestOpen_ConcurrentOnNewFile(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "master.db")
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := Open(ctx, path)
			if err != nil {
				errs <- err
				return
			}
			errs <- db.RecordStateCounts(ctx, "sid", time.Unix(1700000000, 0), map[string]int{"unknown": 1})
			db.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Open of a new file: %v", err)
		}
	}
}

func TestDSN_SpecialCharacters(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "a dir?with#odd%chars", "master.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(%q): %v", path, err)
	}
	db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not created at %q: %v", path, err)
	}
}
