package config

import (
	"errors"
	"fmt"
	"slices"
)

// Distro is a [distros.NAME] table, the TOML form of an entry of Debian's
// /etc/piuparts/distros.conf. A distro without a table behaves as one with
// every field empty, as in the reference.
type Distro struct {
	Name          string   // the table's name, e.g. "bookworm-backports" or "wheezy/updates"
	URI           string   // uri; "" means the section's mirror, "None" a virtual distro
	Distribution  string   // distribution; "" means Name
	Components    []string // components; empty means every requested component
	TargetRelease string   // target-release: apt-get -t
	Depends       []string // depends: parent distros, resolved recursively
	Candidates    []string // candidates: distros merged to pick packages; nil means Name
}

// Distros holds the [distros.NAME] tables by name. Its methods answer for
// any name, defined or not, like the reference's DistroConfig.
type Distros map[string]Distro

// ErrVirtualOnly is returned by [Distros.ExpandDepends] for a virtual
// distro whose depends hold no real distro.
var ErrVirtualOnly = errors.New("config: virtual distro without a real one")

// Get returns the table for name, or an empty one naming it.
func (ds Distros) Get(name string) Distro {
	if d, ok := ds[name]; ok {
		return d
	}
	return Distro{Name: name}
}

// IsVirtual reports whether the distro's uri is "None".
func (ds Distros) IsVirtual(name string) bool { return ds.Get(name).URI == "None" }

// Mirror returns the archive URI of a distro, or mirror when it has none;
// a virtual distro answers for its first real dependency.
func (ds Distros) Mirror(name, mirror string) string {
	if ds.IsVirtual(name) {
		if exp, err := ds.ExpandDepends(name); err == nil {
			name = exp[0]
		}
	}
	if u := ds.Get(name).URI; u != "" {
		return u
	}
	return mirror
}

// Distribution returns the name under dists/ of a distro; a virtual
// distro answers for its first real dependency.
func (ds Distros) Distribution(name string) string {
	if ds.IsVirtual(name) {
		if exp, err := ds.ExpandDepends(name); err == nil {
			name = exp[0]
		}
	}
	if d := ds.Get(name).Distribution; d != "" {
		return d
	}
	return name
}

// Candidates returns the distros whose Packages files list the packages to
// test: candidates, or the distro itself.
func (ds Distros) Candidates(name string) []string {
	if c := ds.Get(name).Candidates; len(c) > 0 {
		return c
	}
	return []string{name}
}

// PackagesURLs returns the URLs of the Packages files of a distro's
// candidates, e.g. MIRROR/dists/sid/main/binary-amd64/Packages.
func (ds Distros) PackagesURLs(name, area, arch, mirror string) []string {
	var out []string
	for _, c := range ds.Candidates(name) {
		out = append(out, fmt.Sprintf("%s/dists/%s/%s/binary-%s/Packages", ds.Mirror(c, mirror), ds.Distribution(c), area, arch))
	}
	return out
}

// SourcesURLs returns the URLs of the Sources files of a distro's candidates.
func (ds Distros) SourcesURLs(name, area, mirror string) []string {
	var out []string
	for _, c := range ds.Candidates(name) {
		out = append(out, fmt.Sprintf("%s/dists/%s/%s/source/Sources", ds.Mirror(c, mirror), ds.Distribution(c), area))
	}
	return out
}

// TargetFlags returns ["-t", target-release], or nil.
func (ds Distros) TargetFlags(name string) []string {
	if tr := ds.Get(name).TargetRelease; tr != "" {
		return []string{"-t", tr}
	}
	return nil
}

// ExpandDepends returns a distro and its dependencies, parents first,
// leaving out virtual ones, in the reference's order. A cycle ends where it
// closes. It returns ErrVirtualOnly when nothing real remains.
func (ds Distros) ExpandDepends(name string) ([]string, error) {
	todo := []string{name}
	var done []string
	seen := map[string]bool{}
	for len(todo) > 0 {
		cur := todo[0]
		todo = todo[1:]
		if !seen[cur] {
			seen[cur] = true
			todo = append(append(slices.Clone(ds.Get(cur).Depends), cur), todo...)
		} else if !slices.Contains(done, cur) && !ds.IsVirtual(cur) {
			done = append(done, cur)
		}
	}
	if len(done) == 0 {
		return nil, fmt.Errorf("expand %s: %w", quote(name), ErrVirtualOnly)
	}
	return done, nil
}

// DebLines returns the sources.list lines for a distro and its
// dependencies, one per requested component the distro offers.
func (ds Distros) DebLines(name string, components []string, mirror string) ([]string, error) {
	exp, err := ds.ExpandDepends(name)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range exp {
		offered := ds.Get(d).Components
		for _, c := range components {
			if len(offered) == 0 || slices.Contains(offered, c) {
				out = append(out, fmt.Sprintf("deb %s %s %s", ds.Mirror(d, mirror), ds.Distribution(d), c))
			}
		}
	}
	return out, nil
}

// BaseTarball returns the reference's default chroot-tgz name for a
// distro: DISTRIBUTION[-merged-usr]_ARCH.tar.gz of the first distro of
// its expansion.
func (ds Distros) BaseTarball(name, arch string, mergedUsr bool) (string, error) {
	exp, err := ds.ExpandDepends(name)
	if err != nil {
		return "", err
	}
	suffix := ""
	if mergedUsr {
		suffix = "-merged-usr"
	}
	return ds.Distribution(exp[0]) + suffix + "_" + arch + ".tar.gz", nil
}

// distros reads the [distros.NAME] tables.
func (p *parser) distros(t *table, out Distros) {
	for _, name := range t.keys {
		table := "distros." + name
		if _, ok := t.vals[name].(map[string]any); !ok {
			p.errs.add(t.keyLine(name), "distros", name, ErrWrongType, "key %s: want a table [distros.%s], have %s", quote(name), name, typeName(t.vals[name]))
			continue
		}
		if err := checkName(name); err != nil {
			p.errs.add(t.keyLine(name), table, "", err.sentinel, "%s", err.msg)
			continue
		}
		dt, _ := p.readTable(table, t.prims[name])
		if dt == nil {
			continue
		}
		d := Distro{Name: name}
		for _, k := range dt.keys {
			i := slices.IndexFunc(distroKeyDefs, func(d keyDef) bool { return d.name == k })
			if i < 0 {
				p.errs.add(dt.keyLine(k), table, k, ErrUnknownKey, "unknown key %s", quote(k))
				continue
			}
			def := &distroKeyDefs[i]
			v, verr := convert(def, dt.vals[k])
			if verr != nil {
				p.errs.add(dt.keyLine(k), table, k, verr.sentinel, "key %s: %s", quote(k), verr.msg)
				continue
			}
			switch k {
			case "uri":
				d.URI = v.(string)
			case "distribution":
				d.Distribution = v.(string)
			case "components":
				d.Components = v.([]string)
			case "target-release":
				d.TargetRelease = v.(string)
			case "depends":
				d.Depends = v.([]string)
			case "candidates":
				d.Candidates = v.([]string)
			}
		}
		out[name] = d
	}
}
