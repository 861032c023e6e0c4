package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestDB_InTx_Grouped runs many transactions at once, so that those that
// wait are committed in groups: each one's changes are kept exactly when
// it returned nil, one that fails leaves nothing behind and costs the
// others nothing, and a later one sees the changes of those before it.
func TestDB_InTx_Grouped(t *testing.T) {
	ctx := t.Context()
	db := openMasterDir(t, t.TempDir())
	if _, err := db.db.ExecContext(ctx, "CREATE TABLE grouped (n INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	errOdd := errors.New("odd")
	const n = 200
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.inTx(ctx, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, "INSERT INTO grouped (n) VALUES (?)", i); err != nil {
					return err
				}
				// Each one counts what the earlier ones of its group left.
				var rows int
				if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM grouped WHERE n = ?", i).Scan(&rows); err != nil {
					return err
				}
				if rows != 1 {
					return fmt.Errorf("%d rows of %d", rows, i)
				}
				if i%2 == 1 {
					return errOdd
				}
				return nil
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if want := i%2 == 1; errors.Is(err, errOdd) != want || (!want && err != nil) {
			t.Errorf("transaction %d: %v", i, err)
		}
	}
	var rows, odd int
	if err := db.db.QueryRowContext(ctx, "SELECT count(*), coalesce(sum(n % 2), 0) FROM grouped").Scan(&rows, &odd); err != nil {
		t.Fatal(err)
	}
	if rows != n/2 || odd != 0 {
		t.Errorf("%d rows kept, %d of them odd, want %d and 0", rows, odd, n/2)
	}
}

// TestDB_InTx_Cancelled checks that a transaction whose context ends
// while it waits returns the context's error, and one that ends while
// another holds the write lock leaves the others' changes whole.
func TestDB_InTx_Cancelled(t *testing.T) {
	db := openMasterDir(t, t.TempDir())
	ctx := t.Context()
	if _, err := db.db.ExecContext(ctx, "CREATE TABLE grouped (n INTEGER PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	hold, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- db.inTx(ctx, func(tx *sql.Tx) error {
			close(hold)
			<-release
			_, err := tx.ExecContext(ctx, "INSERT INTO grouped (n) VALUES (1)")
			return err
		})
	}()
	<-hold
	cctx, cancel := context.WithCancel(ctx)
	cancelled := make(chan error, 1)
	go func() {
		cancelled <- db.inTx(cctx, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO grouped (n) VALUES (2)")
			return err
		})
	}()
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled transaction: %v, want %v", err, context.Canceled)
	}
	close(release)
	if err := <-first; err != nil {
		t.Errorf("first transaction: %v", err)
	}
	var got []int
	rows, err := db.db.QueryContext(ctx, "SELECT n FROM grouped ORDER BY n")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		got = append(got, n)
	}
	if len(got) != 1 || got[0] != 1 {
		t.Errorf("rows %v, want [1]", got)
	}
}
