package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"sync"
	"time"

	// The driver registers itself as "sqlite3"; store is its only user.
	"github.com/mattn/go-sqlite3"
)

// dsnParams are the connection parameters every connection of a [DB] uses:
// WAL so readers never wait for the writer, a busy timeout instead of
// "database is locked" errors, enforced foreign keys, BEGIN IMMEDIATE so a
// transaction takes the write lock when it starts (no lock upgrade, no
// deadlock between two reservers), and synchronous=FULL so a committed
// transaction survives a power loss; each connection keeps its last 64
// prepared statements, so the store's fixed queries are not parsed and
// planned again each time (under a farm's load, preparing them took an
// eighth of the master server's CPU).
const dsnParams = "_journal_mode=WAL&_busy_timeout=5000&_foreign_keys=on&_txlock=immediate&_synchronous=FULL&_stmt_cache_size=64"

// DB is the master's durable state in one SQLite file. Its methods are safe
// for concurrent use by several goroutines, and several processes may open
// the same file at once: every method that writes is one IMMEDIATE
// transaction.
type DB struct {
	db   *sql.DB
	path string
	// wsem lets one transaction of this process at a time wait for
	// SQLite's write lock. SQLite's busy handler polls with growing sleeps
	// and is not fair: with many connections of one process waiting, some
	// time out ("database is locked") while others win again and again.
	// Serialising them here leaves one waiter per process.
	wsem chan struct{}
	// txmu guards txq, the transactions waiting for wsem: whoever gets
	// wsem runs all of them in one transaction (see inTx).
	txmu sync.Mutex
	txq  []*txReq
	// tree is the log tree under the master directory, when the DB was
	// opened with [OpenMaster].
	tree *LogTree
	// stepHook, when set (by tests), runs between the durable steps of a
	// submission; an error stops it there, as a crash would.
	stepHook func(step string) error
	// appended holds the submissions whose lines this process appended to
	// submissions.txt and synced, not yet marked written in the index:
	// the next group's transaction marks them (see Commit, FlushWritten).
	amu      sync.Mutex
	appended map[int64]bool
	// committing holds the submissions a group of this process indexed
	// and whose lines it has not appended yet: no one else writes them
	// (WriteSubmissions at a session's start would take them for a
	// crashed master's and write them in the group's place).
	committing map[int64]bool
}

// ErrNoTree means the DB was opened without a master directory ([Open]
// rather than [OpenMaster]) and cannot touch the log tree.
var ErrNoTree = errors.New("store: database opened without its master directory")

// OpenMaster opens the database at dbPath (relative paths are taken under
// dir) as [Open] does, together with the log tree of the master directory
// dir, which the DB then owns: every file under dir is touched through it.
// It returns the errors of Open.
func OpenMaster(ctx context.Context, dir, dbPath string) (*DB, error) {
	if !filepath.IsAbs(dbPath) {
		dbPath = filepath.Join(dir, dbPath)
	}
	db, err := Open(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	db.tree = NewLogTree(dir)
	return db, nil
}

// Tree returns the log tree of the master directory, nil when the DB was
// opened with [Open].
func (db *DB) Tree() *LogTree { return db.tree }

// logTree returns the tree or ErrNoTree.
func (db *DB) logTree() (*LogTree, error) {
	if db.tree == nil {
		return nil, ErrNoTree
	}
	return db.tree, nil
}

// dsn turns a file path into a go-sqlite3 data source name with dsnParams.
func dsn(path string) string {
	u := url.URL{Path: path}
	return "file:" + u.EscapedPath() + "?" + dsnParams
}

// Open opens the database at path, creating it if needed, and applies the
// migrations it has not run yet, each in its own transaction. Opening an
// up-to-date database changes nothing. It returns an error wrapping
// [ErrSchemaTooNew] when the file was written by a newer program, and the
// driver's error when the file cannot be opened or is not a database.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("open database: empty path")
	}
	if err := noCheckpointOnClose(); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	sdb, err := sql.Open("sqlite3", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// Check the connection parameters took effect: a file on a filesystem
	// without shared memory support would silently stay in rollback mode.
	mode, err := journalMode(ctx, sdb)
	if err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if mode != "wal" {
		sdb.Close()
		return nil, fmt.Errorf("open database %s: journal mode is %q, want wal", path, mode)
	}
	ms, err := loadMigrations()
	if err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := migrate(ctx, sdb, ms, len(ms)); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return &DB{db: sdb, path: path, wsem: make(chan struct{}, 1)}, nil
}

// Close closes the database. It returns the driver's error, if any.
func (db *DB) Close() error {
	if err := db.db.Close(); err != nil {
		return fmt.Errorf("close database %s: %w", db.path, err)
	}
	return nil
}

// SchemaVersion returns the number of migrations the database has run
// (SQLite's user_version).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// inTx runs fn in an IMMEDIATE transaction and commits it when fn returns
// nil; otherwise it rolls fn's changes back and returns fn's error. It
// returns once the commit is durable (or failed).
//
// Transactions of this process that wait while another commits are
// committed together, one sync for all: the one that gets the write
// semaphore next runs every waiting fn in turn in one transaction, each
// inside a savepoint that its error rolls back, so each fn sees the
// changes of those before it as if they had committed one after the
// other. A failed commit fails them all.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	r := &txReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	db.txmu.Lock()
	db.txq = append(db.txq, r)
	db.txmu.Unlock()
	select {
	case db.wsem <- struct{}{}:
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if db.dequeue(r) {
			return ctx.Err()
		}
		// A group took it: its outcome is the answer.
		return <-r.done
	}
	defer func() { <-db.wsem }()
	// A group that took this one answers before it lets go of wsem.
	select {
	case err := <-r.done:
		return err
	default:
	}
	db.txmu.Lock()
	group := db.txq
	db.txq = nil
	db.txmu.Unlock()
	db.runGroup(ctx, group)
	return <-r.done
}

// txReq is a transaction waiting in inTx.
type txReq struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// dequeue takes r out of the waiting transactions and reports whether it
// was still there.
func (db *DB) dequeue(r *txReq) bool {
	db.txmu.Lock()
	defer db.txmu.Unlock()
	for i, q := range db.txq {
		if q == r {
			db.txq = slices.Delete(db.txq, i, i+1)
			return true
		}
	}
	return false
}

// runGroup runs the fns of group in one transaction, holding wsem, and
// answers each on its done channel.
func (db *DB) runGroup(ctx context.Context, group []*txReq) {
	errs := make([]error, len(group))
	answer := func() {
		for i, r := range group {
			r.done <- errs[i]
		}
	}
	failAll := func(err error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	// The transaction outlives a caller that goes away: the others'
	// changes are in it.
	tx, err := db.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		failAll(err)
		answer()
		return
	}
	if len(group) == 1 {
		if errs[0] = group[0].fn(tx); errs[0] != nil {
			tx.Rollback()
		} else {
			errs[0] = tx.Commit()
		}
		answer()
		return
	}
	for i, r := range group {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := tx.ExecContext(context.WithoutCancel(ctx), "SAVEPOINT grouped"); err != nil {
			failAll(err)
			tx.Rollback()
			answer()
			return
		}
		errs[i] = r.fn(tx)
		undo := "RELEASE grouped"
		if errs[i] != nil {
			undo = "ROLLBACK TO grouped; RELEASE grouped"
		}
		if _, err := tx.ExecContext(context.WithoutCancel(ctx), undo); err != nil {
			// SQLite ended the transaction (an interrupted or failed
			// statement): nothing of the group is committed.
			failAll(fmt.Errorf("grouped transaction: %w", err))
			tx.Rollback()
			answer()
			return
		}
	}
	if err := tx.Commit(); err != nil {
		failAll(err)
	}
	answer()
}

// unix converts t to the Unix seconds the schema stores.
func unix(t time.Time) int64 { return t.Unix() }

// fromUnix converts stored Unix seconds back to a UTC time.
func fromUnix(s int64) time.Time { return time.Unix(s, 0).UTC() }

// fromNullUnix converts a nullable stored time; NULL is the zero time.
func fromNullUnix(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromUnix(n.Int64)
}

// nullUnix stores t, or NULL for the zero time.
func nullUnix(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: unix(t), Valid: true}
}

// openBusyWait bounds how long Open retries a new connection that SQLite
// refuses with SQLITE_BUSY: switching a new file to WAL takes an exclusive
// lock, and SQLite answers busy at once, without its busy handler, to a
// connection that tries while another process creates the file.
const openBusyWait = 5 * time.Second

// journalMode opens the first connection and returns its journal mode,
// retrying while SQLite answers busy (see openBusyWait).
func journalMode(ctx context.Context, sdb *sql.DB) (string, error) {
	deadline := time.Now().Add(openBusyWait)
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		var mode string
		err := sdb.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode)
		var se sqlite3.Error
		if err == nil || !errors.As(err, &se) || se.Code != sqlite3.ErrBusy || time.Now().After(deadline) {
			return mode, err
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(wait):
		}
	}
}
