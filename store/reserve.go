package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// DefaultLeaseDuration is how long a reservation lasts when [DB.Reserve] is
// given no lease: long enough for a slave to work through a batch of
// reservations, short enough that a dead slave's packages come back the
// next day.
const DefaultLeaseDuration = 24 * time.Hour

// Reservation is a package version handed to a slave for testing.
type Reservation struct {
	Section    string
	Package    string
	Version    string // the tested version, see [Package.TestedVersion]
	Holder     string // the slave that holds it
	ReservedAt time.Time
	ExpiresAt  time.Time // after this the package may be reserved again
	// Rank is the package's rank (see [PackageState.Rank]) when
	// [DB.ReserveNext] reserved it; 0 otherwise.
	Rank int
}

// eligibleSQL is the condition that the package of state row s may be
// reserved at :now: waiting to be tested, not held by an unexpired
// reservation, and not yet tested in its tested version unless a recycle
// marker asks for it again. States are computed now and then; the log check
// keeps a package that was just submitted from being handed out again before
// they are.
const eligibleSQL = `s.state = 'waiting-to-be-tested'
	AND NOT EXISTS (SELECT 1 FROM reservations r
		WHERE r.section_id = s.section_id AND r.package = s.package AND r.expires_at > :now)
	AND (NOT EXISTS (SELECT 1 FROM logs l
			WHERE l.section_id = s.section_id AND l.package = s.package
			AND l.version = s.version AND l.kind IN ` + resultKindsSQL + `)
		OR EXISTS (SELECT 1 FROM logs l
			WHERE l.section_id = s.section_id AND l.package = s.package
			AND l.version = s.version AND l.kind = 'recycle'))`

// Reserve atomically reserves for holder the first of candidates (package
// names, in order of preference) that may be tested: in state
// waiting-to-be-tested, not reserved, and without a log of its tested version
// (unless a recycle marker asks to test it again). With nil candidates the
// first such package by name is taken. A reservation whose lease expired at
// now counts as absent and is replaced. The lease lasts lease from now, or
// [DefaultLeaseDuration] if lease <= 0. Nothing is reserved while the
// section's states are stale (see [DB.ReplacePackages]). It returns ok false
// when no candidate may be reserved, and a *NameError for an unsafe section
// name.
func (db *DB) Reserve(ctx context.Context, section, holder string, now time.Time, lease time.Duration, candidates []string) (res Reservation, ok bool, err error) {
	return db.reserve(ctx, section, holder, now, lease, func(tx *sql.Tx, id, now int64) (string, string, int, bool, error) {
		if candidates == nil {
			return firstEligible(ctx, tx, id, now)
		}
		return firstEligibleOf(ctx, tx, id, now, candidates)
	})
}

// ReserveNext atomically reserves for holder the package that may be
// tested (as for [DB.Reserve]) with the lowest rank above after, as
// [DB.SetStates] ranked them; packages without a rank are never offered.
// The returned reservation carries the rank, which the caller passes as
// after to continue past it. It returns ok false when no such package may
// be reserved, and a *NameError for an unsafe section name.
func (db *DB) ReserveNext(ctx context.Context, section, holder string, now time.Time, lease time.Duration, after int) (res Reservation, ok bool, err error) {
	return db.reserve(ctx, section, holder, now, lease, func(tx *sql.Tx, id, now int64) (string, string, int, bool, error) {
		return firstEligibleRanked(ctx, tx, id, now, after)
	})
}

// pickFunc chooses the package to reserve in section id at now.
type pickFunc func(tx *sql.Tx, id, now int64) (pkg, version string, rank int, ok bool, err error)

// reserve runs one reservation transaction with pick choosing the package.
func (db *DB) reserve(ctx context.Context, section, holder string, now time.Time, lease time.Duration, pick pickFunc) (res Reservation, ok bool, err error) {
	if lease <= 0 {
		lease = DefaultLeaseDuration
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := CheckName("section", section); err != nil {
			return err
		}
		var (
			id      int64
			current bool
		)
		err := tx.QueryRowContext(ctx, "SELECT id, states_computed_at IS NOT NULL FROM sections WHERE name = ?",
			section).Scan(&id, &current)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !current) {
			return nil
		}
		if err != nil {
			return err
		}
		pkg, version, rank, found, err := pick(tx, id, unix(now))
		if err != nil || !found {
			return err
		}
		ok = true
		res = Reservation{
			Section: section, Package: pkg, Version: version, Holder: holder,
			ReservedAt: fromUnix(unix(now)), ExpiresAt: fromUnix(unix(now.Add(lease))), Rank: rank,
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO reservations
			(section_id, package, version, holder, reserved_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (section_id, package) DO UPDATE SET version = excluded.version,
			holder = excluded.holder, reserved_at = excluded.reserved_at, expires_at = excluded.expires_at`,
			id, pkg, version, holder, unix(res.ReservedAt), unix(res.ExpiresAt))
		return err
	})
	if err != nil {
		return Reservation{}, false, fmt.Errorf("reserve in %s: %w", quote(section), err)
	}
	return res, ok, nil
}

// scanPick reads one (package, version, rank) row; no row is ok false.
func scanPick(row *sql.Row) (pkg, version string, rank int, ok bool, err error) {
	err = row.Scan(&pkg, &version, &rank)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", 0, false, nil
	}
	return pkg, version, rank, err == nil, err
}

// firstEligible returns the first package by name that may be reserved.
func firstEligible(ctx context.Context, tx *sql.Tx, id, now int64) (string, string, int, bool, error) {
	return scanPick(tx.QueryRowContext(ctx, `SELECT s.package, s.version, 0 FROM states s
		WHERE s.section_id = :sid AND `+eligibleSQL+` ORDER BY s.package LIMIT 1`,
		sql.Named("sid", id), sql.Named("now", now)))
}

// firstEligibleRanked returns the package of lowest rank above after that
// may be reserved.
func firstEligibleRanked(ctx context.Context, tx *sql.Tx, id, now int64, after int) (string, string, int, bool, error) {
	return scanPick(tx.QueryRowContext(ctx, `SELECT s.package, s.version, k.rank
		FROM candidates k JOIN states s ON s.section_id = k.section_id AND s.package = k.package
		WHERE k.section_id = :sid AND k.rank > :after AND `+eligibleSQL+` ORDER BY k.rank LIMIT 1`,
		sql.Named("sid", id), sql.Named("now", now), sql.Named("after", after)))
}

// candidateBatch is how many candidates one query checks: most reserves
// take one of the first few, and a batch costs one call into SQLite instead
// of one per candidate.
const candidateBatch = 64

// firstEligibleOf returns the first of candidates that may be reserved,
// checking them in batches given to SQLite as JSON arrays.
func firstEligibleOf(ctx context.Context, tx *sql.Tx, id, now int64, candidates []string) (string, string, int, bool, error) {
	// CROSS JOIN keeps json_each the outer loop: the batch is small, the
	// states table is not.
	stmt, err := tx.PrepareContext(ctx, `SELECT s.package, s.version, 0
		FROM json_each(:cands) c
		CROSS JOIN states s ON s.section_id = :sid AND s.package = c.value
		WHERE `+eligibleSQL+` ORDER BY c.key LIMIT 1`)
	if err != nil {
		return "", "", 0, false, err
	}
	defer stmt.Close()
	for len(candidates) > 0 {
		batch := candidates[:min(candidateBatch, len(candidates))]
		candidates = candidates[len(batch):]
		cands, err := json.Marshal(batch)
		if err != nil {
			return "", "", 0, false, err
		}
		pkg, version, rank, ok, err := scanPick(stmt.QueryRowContext(ctx, sql.Named("sid", id), sql.Named("now", now),
			sql.Named("cands", string(cands))))
		if err != nil || ok {
			return pkg, version, rank, ok, err
		}
	}
	return "", "", 0, false, nil
}

// Unreserve drops the reservation of a package version in a section,
// whoever holds it, and reports whether there was one.
func (db *DB) Unreserve(ctx context.Context, section, pkg, version string) (bool, error) {
	var n int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM reservations
			WHERE section_id = (SELECT id FROM sections WHERE name = ?) AND package = ? AND version = ?`,
			section, pkg, version)
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("unreserve %s %s in %s: %w", quote(pkg), quote(version), quote(section), err)
	}
	return n > 0, nil
}

const reservationColumns = `s.name, r.package, r.version, r.holder, r.reserved_at, r.expires_at`

// scanReservations reads rows of reservationColumns.
func scanReservations(rows *sql.Rows) ([]Reservation, error) {
	defer rows.Close()
	var rs []Reservation
	for rows.Next() {
		var (
			r            Reservation
			at, expireAt int64
		)
		if err := rows.Scan(&r.Section, &r.Package, &r.Version, &r.Holder, &at, &expireAt); err != nil {
			return nil, err
		}
		r.ReservedAt, r.ExpiresAt = fromUnix(at), fromUnix(expireAt)
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

// Reservations returns the reservations of a section by package, expired
// ones included.
func (db *DB) Reservations(ctx context.Context, section string) ([]Reservation, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+reservationColumns+`
		FROM reservations r JOIN sections s ON s.id = r.section_id
		WHERE s.name = ? ORDER BY r.package`, section)
	if err != nil {
		return nil, fmt.Errorf("list reservations of %s: %w", quote(section), err)
	}
	rs, err := scanReservations(rows)
	if err != nil {
		return nil, fmt.Errorf("list reservations of %s: %w", quote(section), err)
	}
	return rs, nil
}

// ExpireLeases drops, in every section, the reservations whose lease ended
// at or before now, and returns them by section and package.
func (db *DB) ExpireLeases(ctx context.Context, now time.Time) ([]Reservation, error) {
	var rs []Reservation
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+reservationColumns+`
			FROM reservations r JOIN sections s ON s.id = r.section_id
			WHERE r.expires_at <= ? ORDER BY s.name, r.package`, unix(now))
		if err != nil {
			return err
		}
		if rs, err = scanReservations(rows); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, "DELETE FROM reservations WHERE expires_at <= ?", unix(now))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("expire leases: %w", err)
	}
	return rs, nil
}
