package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"
)

// TestVersionNone is the test version of a package that is missing from the
// final distro of an upgrade test, as piuparts writes it.
const TestVersionNone = "None"

// Package is one binary package of a section, with the fields of its
// Packages stanza the master and the report need.
type Package struct {
	Name    string `json:"n"`
	Version string `json:"v"`
	// TestVersion is the version in the final upgrade distro when the
	// section tests upgrades (TestVersionNone when the package is absent
	// there); empty when it is the same as Version.
	TestVersion   string `json:"tv,omitempty"`
	Source        string `json:"s,omitempty"`
	SourceVersion string `json:"sv,omitempty"`
	Maintainer    string `json:"m,omitempty"`
	Uploaders     string `json:"u,omitempty"`
	// Depends, PreDepends and Provides are the raw field texts.
	Depends    string `json:"d,omitempty"`
	PreDepends string `json:"pd,omitempty"`
	Provides   string `json:"p,omitempty"`
	// Dependencies are the names of the packages this one depends on, as
	// the state algorithm resolved them.
	Dependencies []string `json:"r,omitempty"`
}

// TestedVersion returns the version piuparts tests and names logs after:
// TestVersion if set, otherwise Version.
func (p Package) TestedVersion() string {
	if p.TestVersion != "" {
		return p.TestVersion
	}
	return p.Version
}

// ReplacePackages replaces the package list of a section with pkgs in one
// transaction, marks the section's computed states as stale (until the next
// [DB.SetStates], [DB.States] and [DB.StateCounts] return none and
// [DB.Reserve] reserves nothing), records the Packages file fingerprint and
// now as the update time, and bumps the section's generation. It creates the
// section if needed. The list is stored as one JSON text: the master writes
// and the report reads it whole. It returns a *NameError for an unsafe
// section name, and an error for a package without name or version or a
// name given twice; then nothing is changed.
func (db *DB) ReplacePackages(ctx context.Context, section string, fp Fingerprint, now time.Time, pkgs []Package) error {
	data, err := encodePackages(pkgs)
	if err != nil {
		return fmt.Errorf("replace packages of %s: %w", quote(section), err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		id, err := ensureSection(ctx, tx, section)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO package_lists (section_id, count, data) VALUES (?, ?, ?)
			ON CONFLICT (section_id) DO UPDATE SET count = excluded.count, data = excluded.data`,
			id, len(pkgs), data)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE sections SET
			packages_size = ?, packages_mtime = ?, packages_sha256 = ?, packages_stat = ?, packages_updated_at = ?,
			generation = generation + 1, states_inputs = '', states_computed_at = NULL
			WHERE id = ?`, fp.Size, fpModTime(fp), fp.SHA256, fp.Stat, unix(now), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("replace packages of %s: %w", quote(section), err)
	}
	return nil
}

// SetPackagesFingerprint records fp as the fingerprint of the Packages
// file(s) of a section whose packages are unchanged, e.g. after the files
// were touched or rewritten with the same contents. It changes neither the
// packages, nor their update time, nor the generation, nor the states. It
// returns an error wrapping [ErrNoSection] when the section has no package
// list yet (see [DB.ReplacePackages]).
func (db *DB) SetPackagesFingerprint(ctx context.Context, section string, fp Fingerprint) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE sections SET
			packages_size = ?, packages_mtime = ?, packages_sha256 = ?, packages_stat = ?
			WHERE name = ? AND id IN (SELECT section_id FROM package_lists)`,
			fp.Size, fpModTime(fp), fp.SHA256, fp.Stat, section)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrNoSection
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set packages fingerprint of %s: %w", quote(section), err)
	}
	return nil
}

// fpModTime is the stored form of a fingerprint's modification time.
func fpModTime(fp Fingerprint) int64 {
	if fp.ModTime.IsZero() {
		return 0
	}
	return fp.ModTime.UnixNano()
}

// encodePackages checks pkgs and encodes them as the JSON text stored in
// package_lists, sorted by name.
func encodePackages(pkgs []Package) (string, error) {
	seen := make(map[string]struct{}, len(pkgs))
	for i := range pkgs {
		p := &pkgs[i]
		if p.Name == "" || p.Version == "" {
			return "", fmt.Errorf("package %d (%s): empty name or version", i, quote(p.Name))
		}
		if _, dup := seen[p.Name]; dup {
			return "", fmt.Errorf("package %s: given twice", quote(p.Name))
		}
		seen[p.Name] = struct{}{}
	}
	sorted := pkgs
	if !sort.SliceIsSorted(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name }) {
		sorted = append([]Package(nil), pkgs...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	}
	if len(sorted) == 0 {
		return "[]", nil
	}
	// Encoded by hand: json.Marshal of the ~64k packages of a Debian
	// release took a third of a cold start's store time and ~100 MB of
	// garbage. The result is the JSON json.Marshal would write (field
	// names and omitempty as the struct tags say), except that <, > and &
	// are not escaped; encoding/json decodes both alike.
	size := 2
	for i := range sorted {
		size += 160 + len(sorted[i].Maintainer) + len(sorted[i].Uploaders) + 16*len(sorted[i].Dependencies)
	}
	b := make([]byte, 0, size)
	b = append(b, '[')
	for i := range sorted {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendPackageJSON(b, &sorted[i])
	}
	b = append(b, ']')
	return string(b), nil
}

// appendPackageJSON appends p as a JSON object with Package's field names,
// leaving out the empty fields tagged omitempty.
func appendPackageJSON(b []byte, p *Package) []byte {
	field := func(name, v string, omitEmpty bool) {
		if omitEmpty && v == "" {
			return
		}
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = appendJSONString(b, v)
	}
	b = append(b, '{')
	field("n", p.Name, false)
	field("v", p.Version, false)
	field("tv", p.TestVersion, true)
	field("s", p.Source, true)
	field("sv", p.SourceVersion, true)
	field("m", p.Maintainer, true)
	field("u", p.Uploaders, true)
	field("d", p.Depends, true)
	field("pd", p.PreDepends, true)
	field("p", p.Provides, true)
	if len(p.Dependencies) > 0 {
		b = append(b, `,"r":[`...)
		for i, d := range p.Dependencies {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, d)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// packageList reads and decodes the package list of a section; nil when it
// was never loaded.
func (db *DB) packageList(ctx context.Context, section string) ([]Package, error) {
	var data string
	err := db.db.QueryRowContext(ctx, `SELECT data FROM package_lists
		WHERE section_id = (SELECT id FROM sections WHERE name = ?)`, section).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ps []Package
	if err := json.Unmarshal([]byte(data), &ps); err != nil {
		return nil, fmt.Errorf("decode packages: %w", err)
	}
	return ps, nil
}

// Packages returns the packages of a section sorted by name; none for a
// section that was never loaded. It returns the driver's error, or one
// saying the stored list could not be decoded.
func (db *DB) Packages(ctx context.Context, section string) ([]Package, error) {
	ps, err := db.packageList(ctx, section)
	if err != nil {
		return nil, fmt.Errorf("list packages of %s: %w", quote(section), err)
	}
	return ps, nil
}

// Package returns one package of a section. It returns an error wrapping
// [ErrNoPackage] when the section has no package of that name.
func (db *DB) Package(ctx context.Context, section, name string) (Package, error) {
	ps, err := db.packageList(ctx, section)
	if err == nil {
		i := sort.Search(len(ps), func(i int) bool { return ps[i].Name >= name })
		if i < len(ps) && ps[i].Name == name {
			return ps[i], nil
		}
		err = ErrNoPackage
	}
	return Package{}, fmt.Errorf("read package %s in %s: %w", quote(name), quote(section), err)
}
