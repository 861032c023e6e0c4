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
}

// eligibleSQL selects the tested version of a package p (joined with its
// state s) that may be reserved at :now: waiting to be tested, not held by an
// unexpired reservation, and not yet tested in that version unless a recycle
// marker asks for it again. States are computed now and then; the log check
// keeps a package that was just submitted from being handed out again before
// they are.
const eligibleSQL = `s.state = 'waiting-to-be-tested'
	AND NOT EXISTS (SELECT 1 FROM reservations r
		WHERE r.section_id = p.section_id AND r.package = p.name AND r.expires_at > :now)
	AND (NOT EXISTS (SELECT 1 FROM logs l
			WHERE l.section_id = p.section_id AND l.package = p.name
			AND l.version = COALESCE(p.test_version, p.version) AND l.kind IN ` + resultKindsSQL + `)
		OR EXISTS (SELECT 1 FROM logs l
			WHERE l.section_id = p.section_id AND l.package = p.name
			AND l.version = COALESCE(p.test_version, p.version) AND l.kind = 'recycle'))`

// Reserve atomically reserves for holder the first of candidates (package
// names, in order of preference) that may be tested: in state
// waiting-to-be-tested, not reserved, and without a log of its tested version
// (unless a recycle marker asks to test it again). With nil candidates the
// first such package by name is taken. A reservation whose lease expired at
// now counts as absent and is replaced. The lease lasts lease from now, or
// [DefaultLeaseDuration] if lease <= 0. It returns ok false when no
// candidate may be reserved, and a *NameError for an unsafe section name.
func (db *DB) Reserve(ctx context.Context, section, holder string, now time.Time, lease time.Duration, candidates []string) (res Reservation, ok bool, err error) {
	if lease <= 0 {
		lease = DefaultLeaseDuration
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := CheckName("section", section); err != nil {
			return err
		}
		id, found, err := lookupSection(ctx, tx, section)
		if err != nil || !found {
			return err
		}
		var pkg, version string
		if candidates == nil {
			pkg, version, ok, err = firstEligible(ctx, tx, id, unix(now))
		} else {
			pkg, version, ok, err = firstEligibleOf(ctx, tx, id, unix(now), candidates)
		}
		if err != nil || !ok {
			return err
		}
		res = Reservation{
			Section: section, Package: pkg, Version: version, Holder: holder,
			ReservedAt: fromUnix(unix(now)), ExpiresAt: fromUnix(unix(now.Add(lease))),
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

// firstEligible returns the first package by name that may be reserved.
func firstEligible(ctx context.Context, tx *sql.Tx, id, now int64) (pkg, version string, ok bool, err error) {
	err = tx.QueryRowContext(ctx, `SELECT p.name, COALESCE(p.test_version, p.version)
		FROM states s JOIN packages p ON p.section_id = s.section_id AND p.name = s.package
		WHERE s.section_id = :sid AND `+eligibleSQL+` ORDER BY s.package LIMIT 1`,
		sql.Named("sid", id), sql.Named("now", now)).Scan(&pkg, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", false, nil
	}
	return pkg, version, err == nil, err
}

// candidateBatch is how many candidates one query checks: most reserves
// take one of the first few, and a batch costs one call into SQLite instead
// of one per candidate.
const candidateBatch = 64

// firstEligibleOf returns the first of candidates that may be reserved,
// checking them in batches given to SQLite as JSON arrays.
func firstEligibleOf(ctx context.Context, tx *sql.Tx, id, now int64, candidates []string) (pkg, version string, ok bool, err error) {
	// CROSS JOIN keeps json_each the outer loop: the batch is small, the
	// packages table is not.
	stmt, err := tx.PrepareContext(ctx, `SELECT p.name, COALESCE(p.test_version, p.version)
		FROM json_each(:cands) c
		CROSS JOIN packages p ON p.section_id = :sid AND p.name = c.value
		JOIN states s ON s.section_id = p.section_id AND s.package = p.name
		WHERE `+eligibleSQL+` ORDER BY c.key LIMIT 1`)
	if err != nil {
		return "", "", false, err
	}
	defer stmt.Close()
	for len(candidates) > 0 {
		batch := candidates[:min(candidateBatch, len(candidates))]
		candidates = candidates[len(batch):]
		cands, err := json.Marshal(batch)
		if err != nil {
			return "", "", false, err
		}
		err = stmt.QueryRowContext(ctx, sql.Named("sid", id), sql.Named("now", now),
			sql.Named("cands", string(cands))).Scan(&pkg, &version)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return "", "", false, err
		}
		return pkg, version, true, nil
	}
	return "", "", false, nil
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
