package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"piuparts-server/store"
)

const reservationsDoc = `List the reservations of every section (package, version, section, holder,
reserved at, expires), or give them back:

  reservations [--expired] [--section S] [--holder ID]        list
  reservations release PACKAGE [--section S]                  release PACKAGE's reservations
  reservations release --holder ID [--section S]              release what slave ID holds
  reservations release --expired [--section S]                release the expired ones

Release removes the reservation and its reserved/ marker as unreserve does (a
recycle/ marker comes back when the version already has a log), whoever holds
it; a slave still testing the package has its later submission accepted.
Run it as the master user.`

// runReservations is "reservations [--expired] [release PACKAGE|--holder ID]".
func runReservations(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "reservations", "[--expired] [--section S] [--holder ID] [release PACKAGE|--holder ID|--expired]", reservationsDoc)
	expired := f.Bool("expired", false, "only reservations whose lease has ended")
	holder := f.String("holder", "", "only reservations held by slave `ID`")
	section := f.String("section", "", "only reservations in section `S`")
	asJSON := f.Bool("json", false, "list as JSON: [{\"section\", \"package\", \"version\", \"holder\", \"reserved_at\", \"expires_at\", \"expired\"}]")
	pos, err := f.parse(args)
	if err != nil {
		return done(err)
	}
	release, pkg := false, ""
	switch {
	case len(pos) == 0:
	case pos[0] == "release" && len(pos) <= 2:
		release = true
		if len(pos) == 2 {
			pkg = pos[1]
		}
		if pkg == "" && *holder == "" && !*expired {
			return f.usageError("release wants PACKAGE, --holder ID or --expired")
		}
	case pos[0] == "release":
		return f.usageError("release takes one PACKAGE, have %q", pos[1:])
	default:
		return f.usageError("unknown argument %q (want release)", pos[0])
	}
	m, err := openMaintenance(ctx, e, "")
	if err != nil {
		return fmt.Errorf("reservations: %w", err)
	}
	defer m.db.Close()
	now := time.Now()
	match := func(r store.Reservation) bool {
		return (pkg == "" || r.Package == pkg) && (*holder == "" || r.Holder == *holder) &&
			(*section == "" || r.Section == *section) && (!*expired || !r.ExpiresAt.After(now))
	}
	if release {
		done, err := m.db.Release(ctx, now, match)
		for _, r := range done {
			fmt.Fprintf(e.stdout, "released %s %s in %s (held by %s)\n", r.Package, r.Version, r.Section, orDash(r.Holder))
		}
		if err != nil {
			return fmt.Errorf("reservations: %w", err)
		}
		if len(done) == 0 {
			return fmt.Errorf("reservations release: no reservation matches")
		}
		return nil
	}
	all, err := m.db.AllReservations(ctx)
	if err != nil {
		return fmt.Errorf("reservations: %w", err)
	}
	var rs []store.Reservation
	for _, r := range all {
		if match(r) {
			rs = append(rs, r)
		}
	}
	if *asJSON {
		js := []reservationJSON{}
		for _, r := range rs {
			js = append(js, toReservationJSON(r, now, true))
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(js)
	}
	if len(rs) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "PACKAGE\tVERSION\tSECTION\tHOLDER\tRESERVED\tEXPIRES")
	for _, r := range rs {
		exp := r.ExpiresAt.UTC().Format(time.RFC3339)
		if !r.ExpiresAt.After(now) {
			exp += " (expired)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Package, r.Version, r.Section, orDash(r.Holder),
			r.ReservedAt.UTC().Format(time.RFC3339), exp)
	}
	return tw.Flush()
}
