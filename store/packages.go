package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Package is one binary package of a section, with the fields of its
// Packages stanza the master and the report need.
type Package struct {
	Name    string `json:"n"`
	Version string `json:"v"`
	// TestVersion is the version in the final upgrade distro when the
	// section tests upgrades (piuparts.TestVersionNone when the package is absent
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
// section if needed. The list is stored as JSON in chunks of a few packages
// (see [chunkEnds]), and only the chunks that differ from the stored ones
// are written: a new Packages file that changes a few packages writes a few
// kilobytes. It returns a *NameError for an unsafe section name, and an
// error for a package without name or version or a name given twice; then
// nothing is changed.
func (db *DB) ReplacePackages(ctx context.Context, section string, fp Fingerprint, now time.Time, pkgs []Package) error {
	order, err := sortPackages(pkgs)
	if err != nil {
		return fmt.Errorf("replace packages of %s: %w", quote(section), err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		id, err := ensureSection(ctx, tx, section)
		if err != nil {
			return err
		}
		if err := writeChunks(ctx, tx, id, pkgs, order); err != nil {
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

// writeChunks makes the package_chunks of section id hold pkgs in the
// order order (by name): chunks
// whose key and hash are stored already are left alone, the others are
// written, and stored chunks that are no longer part of the list are
// deleted.
func writeChunks(ctx context.Context, tx *sql.Tx, id int64, pkgs []Package, order []int32) error {
	old := make(map[string]string)
	rows, err := tx.QueryContext(ctx, "SELECT first, sha256 FROM package_chunks WHERE section_id = ?", id)
	if err != nil {
		return err
	}
	for rows.Next() {
		var first, sum string
		if err := rows.Scan(&first, &sum); err != nil {
			rows.Close()
			return err
		}
		old[first] = sum
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var put *sql.Stmt
	defer func() {
		if put != nil {
			put.Close()
		}
	}()
	// One buffer for every chunk: a chunk that is stored already is only
	// hashed.
	buf := make([]byte, 0, 64<<10)
	for start := 0; start < len(order); {
		end := start + 1
		for end < len(order) && !chunkEnds(pkgs[order[end-1]].Name) {
			end++
		}
		chunk := order[start:end]
		start = end
		buf = appendPackagesJSON(buf[:0], pkgs, chunk)
		sum := sha256.Sum256(buf)
		hexSum := hex.EncodeToString(sum[:])
		first := pkgs[chunk[0]].Name
		stored, ok := old[first]
		delete(old, first)
		if ok && stored == hexSum {
			continue
		}
		if put == nil {
			if put, err = tx.PrepareContext(ctx, `INSERT INTO package_chunks (section_id, first, count, sha256, data)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (section_id, first) DO UPDATE SET
				count = excluded.count, sha256 = excluded.sha256, data = excluded.data`); err != nil {
				return err
			}
		}
		if _, err := put.ExecContext(ctx, id, first, len(chunk), hexSum, string(buf)); err != nil {
			return err
		}
	}
	if len(old) == 0 {
		return nil
	}
	gone := make([]byte, 0, 32*len(old))
	gone = append(gone, '[')
	for first := range old {
		if len(gone) > 1 {
			gone = append(gone, ',')
		}
		gone = appendJSONString(gone, first)
	}
	gone = append(gone, ']')
	_, err = tx.ExecContext(ctx, `DELETE FROM package_chunks WHERE section_id = ?
		AND first IN (SELECT value FROM json_each(?))`, id, string(gone))
	return err
}

// chunkEnds reports whether a chunk of the stored package list ends after
// the package name: for about one name in 16, chosen by a hash of the name
// alone, so that a package added or removed changes its own chunk only.
// Chunks average 16 packages, a few kilobytes.
func chunkEnds(name string) bool {
	// FNV-1a, 32 bits.
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	return h%16 == 0
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
			WHERE name = ? AND packages_updated_at IS NOT NULL`,
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

// sortPackages checks pkgs and returns their order by name: pkgs[order[0]]
// comes first.
func sortPackages(pkgs []Package) ([]int32, error) {
	order := make([]int32, len(pkgs))
	for i := range order {
		order[i] = int32(i)
	}
	// Sorting indices moves 4 bytes instead of a Package; a list given in
	// order (the master's) is only checked.
	if !slices.IsSortedFunc(pkgs, func(a, b Package) int { return strings.Compare(a.Name, b.Name) }) {
		slices.SortFunc(order, func(a, b int32) int { return strings.Compare(pkgs[a].Name, pkgs[b].Name) })
	}
	for k, i := range order {
		p := &pkgs[i]
		if p.Name == "" || p.Version == "" {
			return nil, fmt.Errorf("package %d (%s): empty name or version", i, quote(p.Name))
		}
		if k > 0 && pkgs[order[k-1]].Name == p.Name {
			return nil, fmt.Errorf("package %s: given twice", quote(p.Name))
		}
	}
	return order, nil
}

// encodePackages checks pkgs and encodes them as one JSON array sorted by
// name, the form of the stored chunks.
func encodePackages(pkgs []Package) (string, error) {
	order, err := sortPackages(pkgs)
	if err != nil {
		return "", err
	}
	return string(appendPackagesJSON(nil, pkgs, order)), nil
}

// appendPackagesJSON appends pkgs in the given order as a JSON array. Encoded by hand:
// json.Marshal of the ~64k packages of a Debian release took a third of a
// cold start's store time and ~100 MB of garbage. The result is the JSON
// json.Marshal would write (field names and omitempty as the struct tags
// say), except that <, > and & are not escaped; encoding/json decodes both
// alike.
func appendPackagesJSON(b []byte, pkgs []Package, order []int32) []byte {
	b = append(b, '[')
	for k, i := range order {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendPackageJSON(b, &pkgs[i])
	}
	return append(b, ']')
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

// packageList reads and decodes the package list of a section, sorted by
// name; nil when it was never loaded or is empty.
func (db *DB) packageList(ctx context.Context, section string) ([]Package, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT data FROM package_chunks
		WHERE section_id = (SELECT id FROM sections WHERE name = ?) ORDER BY first`, section)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ps []Package
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		var chunk []Package
		if err := json.Unmarshal(data, &chunk); err != nil {
			return nil, fmt.Errorf("decode packages: %w", err)
		}
		ps = append(ps, chunk...)
	}
	if err := rows.Err(); err != nil {
		return nil, err
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
	var data []byte
	// The chunk that would hold name: the last one starting at or before it.
	err := db.db.QueryRowContext(ctx, `SELECT data FROM package_chunks
		WHERE section_id = (SELECT id FROM sections WHERE name = ?) AND first <= ?
		ORDER BY first DESC LIMIT 1`, section, name).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNoPackage
	}
	if err == nil {
		var ps []Package
		if err = json.Unmarshal(data, &ps); err != nil {
			err = fmt.Errorf("decode packages: %w", err)
		} else {
			err = ErrNoPackage
			for _, p := range ps {
				if p.Name == name {
					return p, nil
				}
			}
		}
	}
	return Package{}, fmt.Errorf("read package %s in %s: %w", quote(name), quote(section), err)
}
