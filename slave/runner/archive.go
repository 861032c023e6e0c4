package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"piuparts-server/internal/config"
	"piuparts-server/internal/debian"
)

// Archive is what the slave knows of the archive while it tests: for each
// distro of the section, the packages by name. A distro missing from the
// map counts as one without packages.
type Archive map[string]map[string]*debian.Package

// LoadArchive loads, for the distros a section tests (GetDistro and then
// upgrade-test-distros), the Packages files of their candidates
// ([config.Distros.PackagesURLs] with the section's area, arch and mirror),
// keeping only the packages called one of names, as piuparts-slave's
// load_packages_urls(urls, packagenames) does; nil names keeps every
// package. Where a name occurs more than once in a distro (several
// candidates, or one file), the highest version wins and of equal versions
// the first. The files are read one paragraph at a time and the packages
// kept are copied out of the file's text, so memory stays small whatever
// the size of the files.
//
// It returns an error wrapping [ErrNoDistro] or [ErrNoArch] for an
// incomplete section, debian.ErrIndexNotFound when a Packages file is
// missing, a *debian.SyntaxError for a malformed file or a kept stanza
// without Package or Version, or ctx.Err().
func LoadArchive(ctx context.Context, pc *config.Config, sec *config.Section, names []string) (Archive, error) {
	distros := make([]string, 0, 1+len(sec.Distros()))
	for _, d := range append([]string{sec.GetDistro()}, sec.Distros()...) {
		if d != "" && !slices.Contains(distros, d) {
			distros = append(distros, d)
		}
	}
	if len(distros) == 0 {
		return nil, fmt.Errorf("load archive of %s: %w", quote(sec.Name), ErrNoDistro)
	}
	if sec.Arch == "" {
		return nil, fmt.Errorf("load archive of %s: %w", quote(sec.Name), ErrNoArch)
	}
	var want map[string]bool
	if names != nil {
		want = make(map[string]bool, len(names))
		for _, n := range names {
			want[n] = true
		}
	}
	a := make(Archive, len(distros))
	for _, d := range distros {
		pkgs := make(map[string]*debian.Package)
		for _, u := range pc.Distros.PackagesURLs(d, sec.GetArea(), sec.Arch, sec.Mirror) {
			if err := loadIndex(ctx, u, want, pkgs); err != nil {
				return nil, fmt.Errorf("load archive of %s, distro %s: %w", quote(sec.Name), quote(d), err)
			}
		}
		a[d] = pkgs
	}
	return a, nil
}

// loadIndex adds the packages of the index at loc that want holds (all
// when want is nil) to pkgs.
func loadIndex(ctx context.Context, loc string, want map[string]bool, pkgs map[string]*debian.Package) error {
	rc, opened, err := debian.OpenIndex(ctx, loc)
	if err != nil {
		return err
	}
	defer rc.Close()
	p := debian.NewParser(rc)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		para, err := p.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", quote(opened), err)
		}
		name := para.Get("Package")
		if want != nil && !want[name] {
			continue
		}
		pkg, err := debian.NewPackage(cloneParagraph(para))
		if err != nil {
			return fmt.Errorf("read %s: %w", quote(opened), err)
		}
		if old, ok := pkgs[pkg.Name]; ok && debian.CompareVersions(pkg.Version, old.Version) <= 0 {
			continue
		}
		pkgs[pkg.Name] = pkg
	}
}

// cloneParagraph copies a paragraph out of the parser's block, so that
// keeping it does not keep the block.
func cloneParagraph(p debian.Paragraph) debian.Paragraph {
	fs := make([]debian.Field, len(p.Fields))
	for i, f := range p.Fields {
		fs[i] = debian.Field{Name: strings.Clone(f.Name), Value: strings.Clone(f.Value)}
	}
	return debian.Paragraph{Line: p.Line, Fields: fs}
}
