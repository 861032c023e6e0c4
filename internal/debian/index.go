package debian

import (
	"bufio"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/ulikunitz/xz"
)

// OpenIndex opens an archive index such as a Packages or Sources file. loc
// is a file path, a file:// URL or an http(s):// URL, without compression
// suffix: like piupartslib, OpenIndex tries loc+".xz", loc+".bz2",
// loc+".gz" and then loc itself, and uses the first that exists, returning
// a reader of the decompressed text and the location it opened. A file that
// does not exist or an HTTP status of 400 or more moves on to the next
// suffix; when none exists the error wraps [ErrIndexNotFound]. Any other
// error (a network failure, a corrupt compressed header) is returned at
// once. ctx bounds the HTTP requests and the reading of their bodies. The
// caller must close the reader.
func OpenIndex(ctx context.Context, loc string) (io.ReadCloser, string, error) {
	u, err := url.Parse(loc)
	isHTTP := err == nil && (u.Scheme == "http" || u.Scheme == "https")
	path := loc
	if err == nil && u.Scheme == "file" {
		path = u.Path
	}
	var last error
	// The suffixes in piupartslib's order; "" is the uncompressed file.
	for _, ext := range [...]string{".xz", ".bz2", ".gz", ""} {
		var (
			body io.ReadCloser
			err  error
		)
		if isHTTP {
			body, err = openHTTP(ctx, loc+ext)
		} else {
			body, err = os.Open(path + ext)
		}
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrIndexNotFound) {
			last = err
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("open index %q: %w", cut(loc+ext), err)
		}
		rc, err := decompress(body, ext)
		if err != nil {
			body.Close()
			return nil, "", fmt.Errorf("open index %q: %w", cut(loc+ext), err)
		}
		return rc, loc + ext, nil
	}
	return nil, "", fmt.Errorf("open index %q: %w (last: %w)", cut(loc), ErrIndexNotFound, last)
}

func openHTTP(ctx context.Context, u string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 400 {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %q: %s: %w", cut(u), resp.Status, ErrIndexNotFound)
	}
	return resp.Body, nil
}

// readCloser pairs a decompressing reader with the underlying file's Close.
type readCloser struct {
	io.Reader
	close func() error
}

func (rc readCloser) Close() error { return rc.close() }

func decompress(body io.ReadCloser, ext string) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(body, 64<<10)
	var r io.Reader
	switch ext {
	case ".xz":
		xr, err := xz.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read xz header: %w", err)
		}
		r = xr
	case ".bz2":
		r = bzip2.NewReader(br)
	case ".gz":
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read gzip header: %w", err)
		}
		r = zr
	default:
		return body, nil
	}
	return readCloser{Reader: r, close: body.Close}, nil
}

// Package is one binary package stanza of a Packages file (or of a dpkg
// status file). The named fields are cut from Fields, which keeps every
// field as it was.
type Package struct {
	Name         string // Package
	Version      string
	Architecture string
	// Source and SourceVersion come from "Source: name (version)"; they
	// default to Name and Version.
	Source        string
	SourceVersion string
	Maintainer    string
	Uploaders     string
	Depends       string
	PreDepends    string // Pre-Depends
	Recommends    string
	Provides      string
	Conflicts     string
	Breaks        string
	Status        string // dpkg status files only
	Essential     bool   // "Essential: yes"
	Priority      string
	Section       string
	MultiArch     string // Multi-Arch
	Filename      string
	Fields        Paragraph
}

// Relations parses the relationship field called field (for example
// "Depends" or "Conflicts") with [ParseDepends]; a missing field gives an
// empty list. It returns a *RelationError for a malformed field.
func (p *Package) Relations(field string) (Depends, error) {
	return ParseDepends(p.Fields.Get(field))
}

// NewPackage builds a Package from a paragraph. It returns a *SyntaxError
// (at the paragraph's line) when the Package or Version field is missing or
// empty, or when the Source field is malformed.
func NewPackage(para Paragraph) (*Package, error) {
	p := new(Package)
	if err := p.fill(para); err != nil {
		return nil, err
	}
	return p, nil
}

// fill sets p from para, as NewPackage describes.
func (p *Package) fill(para Paragraph) error {
	*p = Package{Fields: para}
	for _, f := range para.Fields {
		if !p.set(f.Name, f.Value) && !titleCase(f.Name) {
			// Known names are title case, so only others need folding.
			p.set(foldKey(f.Name), f.Value)
		}
	}
	if p.Name == "" {
		return &SyntaxError{Line: para.Line, Msg: "stanza has no Package field"}
	}
	if p.Version == "" {
		return &SyntaxError{Line: para.Line, Msg: fmt.Sprintf("package %q has no Version field", cut(p.Name))}
	}
	p.SourceVersion = p.Version
	if p.Source == "" {
		p.Source = p.Name
	} else if name, ver, ok := strings.Cut(p.Source, " "); ok {
		ver = strings.TrimSpace(ver)
		if len(ver) < 3 || ver[0] != '(' || ver[len(ver)-1] != ')' {
			return &SyntaxError{Line: para.Line, Msg: fmt.Sprintf("package %q: malformed Source field %q", cut(p.Name), cut(p.Source))}
		}
		p.Source, p.SourceVersion = name, strings.TrimSpace(ver[1:len(ver)-1])
	}
	return nil
}

// set stores value in the named field that has the exactly spelled name, and
// reports whether there is one.
func (p *Package) set(name, value string) bool {
	switch name {
	case "Package":
		p.Name = value
	case "Version":
		p.Version = value
	case "Architecture":
		p.Architecture = value
	case "Source":
		p.Source = value
	case "Maintainer":
		p.Maintainer = value
	case "Uploaders":
		p.Uploaders = value
	case "Depends":
		p.Depends = value
	case "Pre-Depends":
		p.PreDepends = value
	case "Recommends":
		p.Recommends = value
	case "Provides":
		p.Provides = value
	case "Conflicts":
		p.Conflicts = value
	case "Breaks":
		p.Breaks = value
	case "Status":
		p.Status = value
	case "Essential":
		p.Essential = value == "yes"
	case "Priority":
		p.Priority = value
	case "Section":
		p.Section = value
	case "Multi-Arch":
		p.MultiArch = value
	case "Filename":
		p.Filename = value
	default:
		return false
	}
	return true
}

// foldKey returns the canonical spelling of a field name that NewPackage or
// NewSource picks out, given in any case, or "".
func foldKey(name string) string {
	for _, k := range [...]string{
		"Package", "Version", "Architecture", "Source", "Maintainer", "Uploaders",
		"Depends", "Pre-Depends", "Recommends", "Provides", "Conflicts", "Breaks",
		"Status", "Essential", "Priority", "Section", "Multi-Arch", "Filename",
		"Binary", "Build-Depends", "Build-Depends-Indep", "Build-Depends-Arch", "Directory",
	} {
		if equalFold(k, name) {
			return k
		}
	}
	return ""
}

// fieldKey returns the canonical spelling of a known field name given in
// any case, or name itself.
func fieldKey(name string) string {
	if titleCase(name) {
		return name
	}
	if k := foldKey(name); k != "" {
		return k
	}
	return name
}

// titleCase reports whether name is in the usual field-name case:
// "Pre-Depends", with upper-case letters exactly at the start and after '-'.
func titleCase(name string) bool {
	start := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'A' && c <= 'Z':
			if !start {
				return false
			}
		case c >= 'a' && c <= 'z':
			if start {
				return false
			}
		}
		start = c == '-'
	}
	return true
}

// Source is one source package stanza of a Sources file.
type Source struct {
	Name              string // Package
	Version           string
	Binary            []string
	Architecture      string
	Maintainer        string
	Uploaders         string
	BuildDepends      string // Build-Depends
	BuildDependsIndep string // Build-Depends-Indep
	BuildDependsArch  string // Build-Depends-Arch
	Section           string
	Priority          string
	Directory         string
	Fields            Paragraph
}

// NewSource builds a Source from a paragraph of a Sources file. It returns
// a *SyntaxError (at the paragraph's line) when the Package or Version field
// is missing or empty.
func NewSource(para Paragraph) (*Source, error) {
	s := &Source{Fields: para}
	for _, f := range para.Fields {
		switch fieldKey(f.Name) {
		case "Package":
			s.Name = f.Value
		case "Version":
			s.Version = f.Value
		case "Binary":
			for _, b := range strings.Split(f.Value, ",") {
				if b = strings.TrimSpace(b); b != "" {
					s.Binary = append(s.Binary, b)
				}
			}
		case "Architecture":
			s.Architecture = f.Value
		case "Maintainer":
			s.Maintainer = f.Value
		case "Uploaders":
			s.Uploaders = f.Value
		case "Build-Depends":
			s.BuildDepends = f.Value
		case "Build-Depends-Indep":
			s.BuildDependsIndep = f.Value
		case "Build-Depends-Arch":
			s.BuildDependsArch = f.Value
		case "Section":
			s.Section = f.Value
		case "Priority":
			s.Priority = f.Value
		case "Directory":
			s.Directory = f.Value
		}
	}
	if s.Name == "" {
		return nil, &SyntaxError{Line: para.Line, Msg: "stanza has no Package field"}
	}
	if s.Version == "" {
		return nil, &SyntaxError{Line: para.Line, Msg: fmt.Sprintf("source %q has no Version field", cut(s.Name))}
	}
	return s, nil
}

// ctxCheckEvery is how many paragraphs the readers parse between looks at
// their context.
const ctxCheckEvery = 1024

// packageChunk is how many Packages ReadPackages allocates at once.
const packageChunk = 1024

// ReadPackages parses a Packages (or dpkg status) file from r into a map
// from package name to package. When a name occurs more than once, the
// higher version (by [CompareVersions]) wins, and of equal versions the
// first, as in piupartslib. It returns the parser's *SyntaxError, the
// errors of [NewPackage], the reader's error, or ctx.Err() when ctx ends.
func ReadPackages(ctx context.Context, r io.Reader) (map[string]*Package, error) {
	// Collect first, so that the map is made once at its final size.
	var all []*Package
	var chunk []Package
	p := NewParser(r)
	for n := 0; ; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		para, err := p.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(chunk) == cap(chunk) {
			chunk = make([]Package, 0, packageChunk)
		}
		chunk = chunk[:len(chunk)+1]
		pkg := &chunk[len(chunk)-1]
		if err := pkg.fill(para); err != nil {
			return nil, err
		}
		all = append(all, pkg)
	}
	pkgs := make(map[string]*Package, len(all))
	for _, pkg := range all {
		if old, ok := pkgs[pkg.Name]; ok && CompareVersions(pkg.Version, old.Version) <= 0 {
			continue
		}
		pkgs[pkg.Name] = pkg
	}
	return pkgs, nil
}

// ReadSources parses a Sources file from r into a map from source package
// name to source package; of several versions the highest wins. It returns
// the same errors as [ReadPackages], with [NewSource]'s instead of
// [NewPackage]'s.
func ReadSources(ctx context.Context, r io.Reader) (map[string]*Source, error) {
	srcs := make(map[string]*Source)
	p := NewParser(r)
	for n := 0; ; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		para, err := p.Next()
		if err == io.EOF {
			return srcs, nil
		}
		if err != nil {
			return nil, err
		}
		src, err := NewSource(para)
		if err != nil {
			return nil, err
		}
		if old, ok := srcs[src.Name]; ok && CompareVersions(src.Version, old.Version) <= 0 {
			continue
		}
		srcs[src.Name] = src
	}
}

// LoadPackages opens the Packages index at loc with [OpenIndex] and parses
// it with [ReadPackages]. Errors from either come back with the location
// that was opened.
func LoadPackages(ctx context.Context, loc string) (map[string]*Package, error) {
	rc, opened, err := OpenIndex(ctx, loc)
	if err != nil {
		return nil, fmt.Errorf("load packages: %w", err)
	}
	defer rc.Close()
	pkgs, err := ReadPackages(ctx, rc)
	if err != nil {
		return nil, fmt.Errorf("load packages from %q: %w", cut(opened), err)
	}
	return pkgs, nil
}

// LoadSources opens the Sources index at loc with [OpenIndex] and parses it
// with [ReadSources]. Errors from either come back with the location that
// was opened.
func LoadSources(ctx context.Context, loc string) (map[string]*Source, error) {
	rc, opened, err := OpenIndex(ctx, loc)
	if err != nil {
		return nil, fmt.Errorf("load sources: %w", err)
	}
	defer rc.Close()
	srcs, err := ReadSources(ctx, rc)
	if err != nil {
		return nil, fmt.Errorf("load sources from %q: %w", cut(opened), err)
	}
	return srcs, nil
}
