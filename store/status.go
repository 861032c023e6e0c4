package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SlaveActivity is what a section's submissions say about one slave.
type SlaveActivity struct {
	Slave string    // the holder name it submitted as; "" for imported submissions.txt lines
	Last  time.Time // its last submission
	// Result, Package and Version are those of its last submission.
	Result  Kind
	Package string
	Version string
	Count   int // its submissions in the window of [SectionStatus.PerHour]
}

// SectionStatus is the operator's view of one section at one moment, read
// from the database in one transaction by [DB.SectionStatus].
type SectionStatus struct {
	Section string
	// States counts the packages by state; it is empty when the states were
	// never computed or the packages changed since (a master connection
	// computes them).
	States         map[string]int
	StatesComputed time.Time // zero when States is empty
	// Waiting counts the candidates a slave's reserve may get: ranked
	// packages waiting to be tested that no unexpired reservation holds
	// and that have no log of their tested version (or a recycle/ marker
	// asking for one).
	Waiting int
	// Reservations are the section's reservations by package, expired
	// ones included.
	Reservations []Reservation
	// Slaves are the slaves that ever submitted in the section, the one
	// that submitted last first.
	Slaves []SlaveActivity
	// PerHour counts the submissions of the hours before now: PerHour[0]
	// is the hour that ends now, PerHour[len-1] the oldest.
	PerHour []int
}

// SectionStatus reads the status of section at now in one read
// transaction, with the submissions per hour over the hours before now.
// It returns an error wrapping [ErrNoSection] for a section the database
// does not know, and a *NameError for an unsafe name.
func (db *DB) SectionStatus(ctx context.Context, section string, now time.Time, hours int) (SectionStatus, error) {
	st, err := db.sectionStatus(ctx, section, now, hours)
	if err != nil {
		return SectionStatus{}, fmt.Errorf("status of %s: %w", quote(section), err)
	}
	return st, nil
}

func (db *DB) sectionStatus(ctx context.Context, section string, now time.Time, hours int) (SectionStatus, error) {
	st := SectionStatus{Section: section, States: map[string]int{}, PerHour: make([]int, max(hours, 0))}
	if err := CheckName("section", section); err != nil {
		return st, err
	}
	// A deferred transaction on one connection: every query below sees
	// the same snapshot, and none takes the write lock.
	conn, err := db.db.Conn(ctx)
	if err != nil {
		return st, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN DEFERRED"); err != nil {
		return st, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")

	var (
		id       int64
		computed sql.NullInt64
	)
	err = conn.QueryRowContext(ctx, "SELECT id, states_computed_at FROM sections WHERE name = ?", section).Scan(&id, &computed)
	if errors.Is(err, sql.ErrNoRows) {
		return st, ErrNoSection
	}
	if err != nil {
		return st, err
	}
	if computed.Valid {
		st.StatesComputed = fromUnix(computed.Int64)
		rows, err := conn.QueryContext(ctx, "SELECT state, count(*) FROM states WHERE section_id = ? GROUP BY state", id)
		if err != nil {
			return st, err
		}
		for rows.Next() {
			var (
				state string
				n     int
			)
			if err := rows.Scan(&state, &n); err != nil {
				rows.Close()
				return st, err
			}
			st.States[state] = n
		}
		if err := rows.Close(); err != nil {
			return st, err
		}
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM candidates k
			JOIN states s ON s.section_id = k.section_id AND s.package = k.package
			WHERE k.section_id = :sid AND `+eligibleSQL,
			sql.Named("sid", id), sql.Named("now", unix(now))).Scan(&st.Waiting); err != nil {
			return st, err
		}
	}
	rows, err := conn.QueryContext(ctx, `SELECT `+reservationColumns+`
		FROM reservations r JOIN sections s ON s.id = r.section_id
		WHERE r.section_id = ? ORDER BY r.package`, id)
	if err != nil {
		return st, err
	}
	if st.Reservations, err = scanReservations(rows); err != nil {
		return st, err
	}
	// The last submission of each slave; the window's count beside it.
	since := unix(now.Add(-time.Duration(hours) * time.Hour))
	rows, err = conn.QueryContext(ctx, `SELECT u.submitted_by, u.at, u.result, u.package, u.version,
			(SELECT count(*) FROM submissions w WHERE w.section_id = u.section_id
				AND w.submitted_by = u.submitted_by AND w.at > :since AND w.at <= :now)
		FROM submissions u
		WHERE u.section_id = :sid AND u.id = (SELECT w.id FROM submissions w
			WHERE w.section_id = u.section_id AND w.submitted_by = u.submitted_by
			ORDER BY w.at DESC, w.id DESC LIMIT 1)
		ORDER BY u.at DESC, u.id DESC`, sql.Named("sid", id), sql.Named("since", since), sql.Named("now", unix(now)))
	if err != nil {
		return st, err
	}
	for rows.Next() {
		var (
			a      SlaveActivity
			at     int64
			result string
		)
		if err := rows.Scan(&a.Slave, &at, &result, &a.Package, &a.Version, &a.Count); err != nil {
			rows.Close()
			return st, err
		}
		a.Last, a.Result = fromUnix(at), Kind(result)
		st.Slaves = append(st.Slaves, a)
	}
	if err := rows.Close(); err != nil {
		return st, err
	}
	// Hour i holds the submissions in (now-(i+1)h, now-ih].
	rows, err = conn.QueryContext(ctx, `SELECT (:now - at) / 3600, count(*) FROM submissions
		WHERE section_id = :sid AND at > :since AND at <= :now GROUP BY 1`,
		sql.Named("sid", id), sql.Named("since", since), sql.Named("now", unix(now)))
	if err != nil {
		return st, err
	}
	defer rows.Close()
	for rows.Next() {
		var h, n int
		if err := rows.Scan(&h, &n); err != nil {
			return st, err
		}
		if h >= 0 && h < len(st.PerHour) {
			st.PerHour[h] += n
		}
	}
	return st, rows.Err()
}

// AllReservations returns the reservations of every section, by section
// and package, expired ones included.
func (db *DB) AllReservations(ctx context.Context) ([]Reservation, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+reservationColumns+`
		FROM reservations r JOIN sections s ON s.id = r.section_id ORDER BY s.name, r.package`)
	if err != nil {
		return nil, fmt.Errorf("list reservations: %w", err)
	}
	rs, err := scanReservations(rows)
	if err != nil {
		return nil, fmt.Errorf("list reservations: %w", err)
	}
	return rs, nil
}

// Release gives back, for the operator, each reservation for which match
// returns true, whoever holds it, as [DB.Unreserve] with no holder does:
// the row goes, the reserved/ marker goes, and a recycle/ marker comes back
// when the version has a log. Each reservation is given back in its own
// transaction; it returns those it gave back, and on an error those given
// back before it.
func (db *DB) Release(ctx context.Context, now time.Time, match func(Reservation) bool) ([]Reservation, error) {
	all, err := db.AllReservations(ctx)
	if err != nil {
		return nil, err
	}
	var done []Reservation
	for _, r := range all {
		if !match(r) {
			continue
		}
		found, err := db.Unreserve(ctx, r.Section, r.Package, r.Version, "", now)
		if err != nil {
			return done, fmt.Errorf("release: %w", err)
		}
		if found {
			done = append(done, r)
		}
	}
	return done, nil
}
