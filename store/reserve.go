package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"piuparts-server/internal/piuparts"
)

// ErrNotHolder means a reservation is held by another slave than the one
// that asked to give it back; nothing was changed.
var ErrNotHolder = errors.New("store: reservation held by another slave")

// ErrHolderCap means the slave already holds as many reservations in the
// section as it may; nothing was reserved.
var ErrHolderCap = errors.New("store: slave holds its maximum of reservations")

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

// ReserveNext atomically reserves for holder the package that may be
// tested with the lowest rank above after, as [DB.SetStates] ranked it: in
// state waiting-to-be-tested, not reserved (a reservation whose lease
// expired at now counts as absent and is replaced), and without a log of
// its tested version unless a recycle marker asks to test it again;
// packages without a rank are never offered, and nothing is reserved while
// the section has no computed states. The lease lasts lease from now. With
// limit > 0, a holder that already holds limit unexpired reservations in
// the section gets nothing: the error wraps [ErrHolderCap]. The returned
// reservation carries the rank, which the caller passes as after to
// continue past it. It returns ok false when no package may be reserved,
// and a *NameError for an unsafe section name.
func (db *DB) ReserveNext(ctx context.Context, section, holder string, now time.Time, lease time.Duration, after, limit int) (res Reservation, ok bool, err error) {
	if lease <= 0 {
		return Reservation{}, false, fmt.Errorf("reserve in %s: lease %v is not positive", quote(section), lease)
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
		if limit > 0 {
			var held int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM reservations
				WHERE section_id = ? AND holder = ? AND expires_at > ?`, id, holder, unix(now)).Scan(&held); err != nil {
				return err
			}
			if held >= limit {
				return fmt.Errorf("%s holds %d: %w", quote(holder), held, ErrHolderCap)
			}
		}
		var (
			pkg, version string
			rank         int
		)
		err = tx.QueryRowContext(ctx, `SELECT s.package, s.version, k.rank
			FROM candidates k JOIN states s ON s.section_id = k.section_id AND s.package = k.package
			WHERE k.section_id = :sid AND k.rank > :after AND `+eligibleSQL+` ORDER BY k.rank LIMIT 1`,
			sql.Named("sid", id), sql.Named("now", unix(now)), sql.Named("after", after)).Scan(&pkg, &version, &rank)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
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

// Unreserve gives back the reservation of a package version in a section
// as piupartslib's unreserve_package does: the reserved/ marker goes, and a
// recycle/ marker comes back (and is indexed) when the version has a log.
// With holder "", whoever holds the reservation may give it back (the
// reference's behaviour, for slaves without an identity); otherwise an
// unexpired reservation held by another slave is refused with an error
// wrapping [ErrNotHolder], and nothing changes, and a marker without a
// reservation (another program's) is left alone. It reports whether there
// was a reservation row.
func (db *DB) Unreserve(ctx context.Context, section, pkg, version, holder string, now time.Time) (bool, error) {
	found, err := db.unreserve(ctx, section, pkg, version, holder, now)
	if err != nil {
		return false, fmt.Errorf("unreserve %s %s in %s: %w", quote(pkg), quote(version), quote(section), err)
	}
	return found, nil
}

func (db *DB) unreserve(ctx context.Context, section, pkg, version, holder string, now time.Time) (bool, error) {
	if err := checkLogNames(section, KindReserved, pkg, version); err != nil {
		return false, err
	}
	// The holder is checked and the row dropped in one transaction, so a
	// reservation that changes hands meanwhile is not given back.
	var found bool
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var held string
		var expires int64
		err := tx.QueryRowContext(ctx, `SELECT holder, expires_at FROM reservations
			WHERE section_id = (SELECT id FROM sections WHERE name = ?) AND package = ? AND version = ?`,
			section, pkg, version).Scan(&held, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		// An expired lease is nobody's any more.
		if holder != "" && held != holder && expires > unix(now) {
			return fmt.Errorf("held by %s: %w", quote(held), ErrNotHolder)
		}
		found = true
		_, err = tx.ExecContext(ctx, `DELETE FROM reservations
			WHERE section_id = (SELECT id FROM sections WHERE name = ?) AND package = ? AND version = ?`,
			section, pkg, version)
		return err
	})
	if err != nil {
		return false, err
	}
	// A slave with an identity gives back only what it holds: a marker
	// without a reservation is another program's.
	if holder != "" && !found {
		return false, nil
	}
	return found, db.releaseMarker(ctx, section, pkg, version, now)
}

// releaseMarker applies unreserve_package to the tree, when the DB has one.
func (db *DB) releaseMarker(ctx context.Context, section, pkg, version string, now time.Time) error {
	t := db.tree
	if t == nil {
		return nil
	}
	if t.LogExists(section, KindReserved, pkg, version) &&
		!t.LogExists(section, KindRecycle, pkg, version) &&
		t.LogExistsIn(section, piuparts.TestedKinds(), pkg, version) {
		err := t.CreateMarker(section, KindRecycle, pkg, version)
		if err != nil && !errors.Is(err, ErrLogExists) {
			return err
		}
		if err == nil {
			if err := db.IndexFile(ctx, section, KindRecycle, pkg, version, now); err != nil && !errors.Is(err, ErrDuplicate) {
				return err
			}
		}
	}
	return t.RemoveLog(section, KindReserved, pkg, version)
}

// Take applies a reservation made by [DB.ReserveNext] to the log tree as
// reserve_package does. It reports false, changing nothing, for a version
// that is already reserved there (a reserved/ marker without a
// reservation: another program's) or, outside recycle mode, already has a
// log; in recycle mode it removes the version's logs other than pass/ (and
// their rows) when a recycle/ marker asks for a retest, and returns their
// kinds; it removes the recycle/ marker and creates the reserved/ marker
// without syncing its directory ([LogTree.SyncKind] syncs it once for
// many: the reservation row is what is durable).
func (db *DB) Take(ctx context.Context, section, pkg, version string, recycle bool) (taken bool, recycled []Kind, err error) {
	t, err := db.logTree()
	if err != nil {
		return false, nil, err
	}
	if t.LogExists(section, KindReserved, pkg, version) {
		return false, nil, nil
	}
	hasRecycle := t.LogExists(section, KindRecycle, pkg, version)
	switch {
	case recycle && hasRecycle:
		for _, k := range piuparts.TestedKinds() {
			if k == KindPass || !t.LogExists(section, k, pkg, version) {
				continue
			}
			if err := db.RemoveLogFile(ctx, section, k, pkg, version); err != nil {
				return false, recycled, err
			}
			recycled = append(recycled, k)
		}
	case t.LogExistsIn(section, piuparts.TestedKinds(), pkg, version):
		return false, nil, nil
	}
	if hasRecycle {
		if err := db.RemoveLogFile(ctx, section, KindRecycle, pkg, version); err != nil {
			return false, recycled, err
		}
	}
	err = t.CreateMarkerNoSync(section, KindReserved, pkg, version)
	if errors.Is(err, ErrLogExists) {
		return false, recycled, nil
	}
	if err != nil {
		return false, recycled, err
	}
	return true, recycled, nil
}

// RemoveLogFile removes a log from the tree and then from the index.
func (db *DB) RemoveLogFile(ctx context.Context, section string, kind Kind, pkg, version string) error {
	t, err := db.logTree()
	if err != nil {
		return err
	}
	if err := t.RemoveLog(section, kind, pkg, version); err != nil {
		return err
	}
	_, err = db.RemoveLog(ctx, section, kind, pkg, version)
	return err
}

// IndexFile adds a log (or marker) that is in the tree to the index, e.g.
// a recycle/ marker another program made. It returns an error wrapping
// [ErrDuplicate] when the index has it, and one wrapping fs.ErrNotExist
// when the file is not there.
func (db *DB) IndexFile(ctx context.Context, section string, kind Kind, pkg, version string, now time.Time) error {
	t, err := db.logTree()
	if err != nil {
		return err
	}
	lf, err := t.StatLog(section, kind, pkg, version)
	if err != nil {
		return err
	}
	return db.AddLog(ctx, LogEntry{
		Section: section, Kind: kind, Package: pkg, Version: version,
		Path: lf.Path, Size: lf.Size, SHA256: lf.SHA256, SubmittedAt: now,
	})
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
// at or before now, removes their reserved/ markers as [DB.Unreserve]
// would, and returns them by section and package, with the joined errors
// of the markers it could not release.
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
	// The markers go as unreserve would remove them; a failure is
	// reported once all were tried (the rows are gone: the next reserve
	// skips a marker it does not know).
	var errs []error
	for _, r := range rs {
		if err := db.releaseMarker(ctx, r.Section, r.Package, r.Version, now); err != nil {
			errs = append(errs, fmt.Errorf("release marker of %s %s in %s: %w", quote(r.Package), quote(r.Version), quote(r.Section), err))
		}
	}
	return rs, errors.Join(errs...)
}
