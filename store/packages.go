package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// TestVersionNone is the test version of a package that is missing from the
// final distro of an upgrade test, as piuparts writes it.
const TestVersionNone = "None"

// Package is one binary package of a section, with the fields of its
// Packages stanza the master and the report need.
type Package struct {
	Name    string
	Version string
	// TestVersion is the version in the final upgrade distro when the
	// section tests upgrades (TestVersionNone when the package is absent
	// there); empty when it is the same as Version.
	TestVersion   string
	Source        string
	SourceVersion string
	Maintainer    string
	Uploaders     string
	// Depends, PreDepends and Provides are the raw field texts.
	Depends    string
	PreDepends string
	Provides   string
	// Dependencies are the names of the packages this one depends on, as
	// the state algorithm resolved them.
	Dependencies []string
}

// TestedVersion returns the version piuparts tests and names logs after:
// TestVersion if set, otherwise Version.
func (p Package) TestedVersion() string {
	if p.TestVersion != "" {
		return p.TestVersion
	}
	return p.Version
}

// ReplacePackages replaces the packages of a section with pkgs in one
// transaction, drops the section's computed states (their inputs changed),
// records the Packages file fingerprint and now as the update time, and bumps
// the section's generation. It creates the section if needed. It returns a
// *NameError for an unsafe section name, and an error for a package without
// name or version or a name given twice; then nothing is changed.
func (db *DB) ReplacePackages(ctx context.Context, section string, fp Fingerprint, now time.Time, pkgs []Package) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		id, err := ensureSection(ctx, tx, section)
		if err != nil {
			return err
		}
		// Delete the states first: the cascade from packages would look
		// them up one by one.
		if _, err := tx.ExecContext(ctx, "DELETE FROM states WHERE section_id = ?", id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM packages WHERE section_id = ?", id); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO packages
			(section_id, name, version, test_version, source, source_version,
			 maintainer, uploaders, depends, pre_depends, provides, dependencies)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range pkgs {
			p := &pkgs[i]
			if p.Name == "" || p.Version == "" {
				return fmt.Errorf("package %d (%s): empty name or version", i, quote(p.Name))
			}
			deps := "[]"
			if len(p.Dependencies) > 0 {
				b, err := json.Marshal(p.Dependencies)
				if err != nil {
					return fmt.Errorf("package %s: %w", quote(p.Name), err)
				}
				deps = string(b)
			}
			var tv sql.NullString
			if p.TestVersion != "" {
				tv = sql.NullString{String: p.TestVersion, Valid: true}
			}
			_, err := stmt.ExecContext(ctx, id, p.Name, p.Version, tv, p.Source, p.SourceVersion,
				p.Maintainer, p.Uploaders, p.Depends, p.PreDepends, p.Provides, deps)
			if err != nil {
				return fmt.Errorf("package %s: %w", quote(p.Name), err)
			}
		}
		var mtime int64
		if !fp.ModTime.IsZero() {
			mtime = fp.ModTime.UnixNano()
		}
		_, err = tx.ExecContext(ctx, `UPDATE sections SET
			packages_size = ?, packages_mtime = ?, packages_sha256 = ?, packages_updated_at = ?,
			generation = generation + 1, states_inputs = '', states_computed_at = NULL
			WHERE id = ?`, fp.Size, mtime, fp.SHA256, unix(now), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("replace packages of %s: %w", quote(section), err)
	}
	return nil
}

const packageColumns = `name, version, test_version, source, source_version,
	maintainer, uploaders, depends, pre_depends, provides, dependencies`

// scanPackage reads one row of packageColumns.
func scanPackage(row interface{ Scan(...any) error }) (Package, error) {
	var (
		p    Package
		tv   sql.NullString
		deps string
	)
	err := row.Scan(&p.Name, &p.Version, &tv, &p.Source, &p.SourceVersion,
		&p.Maintainer, &p.Uploaders, &p.Depends, &p.PreDepends, &p.Provides, &deps)
	if err != nil {
		return Package{}, err
	}
	p.TestVersion = tv.String
	if deps != "[]" && deps != "" {
		if err := json.Unmarshal([]byte(deps), &p.Dependencies); err != nil {
			return Package{}, fmt.Errorf("package %s: dependencies: %w", quote(p.Name), err)
		}
	}
	return p, nil
}

// Packages returns the packages of a section sorted by name; none for a
// section that was never loaded.
func (db *DB) Packages(ctx context.Context, section string) ([]Package, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+packageColumns+` FROM packages
		WHERE section_id = (SELECT id FROM sections WHERE name = ?) ORDER BY name`, section)
	if err != nil {
		return nil, fmt.Errorf("list packages of %s: %w", quote(section), err)
	}
	defer rows.Close()
	var ps []Package
	for rows.Next() {
		p, err := scanPackage(rows)
		if err != nil {
			return nil, fmt.Errorf("list packages of %s: %w", quote(section), err)
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list packages of %s: %w", quote(section), err)
	}
	return ps, nil
}

// Package returns one package of a section. It returns an error wrapping
// [ErrNoPackage] when the section has no package of that name.
func (db *DB) Package(ctx context.Context, section, name string) (Package, error) {
	row := db.db.QueryRowContext(ctx, `SELECT `+packageColumns+` FROM packages
		WHERE section_id = (SELECT id FROM sections WHERE name = ?) AND name = ?`, section, name)
	p, err := scanPackage(row)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNoPackage
	}
	if err != nil {
		return Package{}, fmt.Errorf("read package %s in %s: %w", quote(name), quote(section), err)
	}
	return p, nil
}
