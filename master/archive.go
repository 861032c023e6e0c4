package master

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"piuparts-server/internal/config"
	"piuparts-server/internal/debian"
	"piuparts-server/internal/piuparts"
	"piuparts-server/master/state"
	"piuparts-server/store"
)

// ErrArchiveSettings means a section lacks the mirror or arch needed to
// find its Packages files.
var ErrArchiveSettings = errors.New("master: section has no mirror or arch")

// suffixes are the compressions tried after a Packages URL, in
// piupartslib's order; "" is the uncompressed file.
var suffixes = [...]string{".xz", ".bz2", ".gz", ""}

// archiveURLs returns the Packages URLs of a section's distro and, for an
// upgrade test whose final distro differs, those of the final distro
// (whose versions are the test versions), as the reference builds them.
func archiveURLs(pc *config.Config, s *config.Section) (urls, final []string, err error) {
	if s.Mirror == "" || s.Arch == "" {
		return nil, nil, fmt.Errorf("section %s: %w", s.Name, ErrArchiveSettings)
	}
	distro := s.GetDistro()
	urls = pc.Distros.PackagesURLs(distro, s.GetArea(), s.Arch, s.Mirror)
	if fd := s.FinalDistro(); fd != distro {
		final = pc.Distros.PackagesURLs(fd, s.GetArea(), s.Arch, s.Mirror)
	}
	return urls, final, nil
}

// fingerprint describes one Packages index as found: which of its
// compressed forms exists, how big it is and when it changed.
type fingerprint struct {
	loc   string // the URL or path with its suffix
	size  int64
	mtime time.Time
	tag   string // an HTTP ETag, if any
}

func (f fingerprint) String() string {
	return fmt.Sprintf("%s %d %d %s", f.loc, f.size, f.mtime.UnixNano(), f.tag)
}

// fingerprintIndex finds the index loc (without suffix) as OpenIndex would
// and returns its fingerprint: a stat for files, a HEAD request for
// http(s). It returns an error wrapping debian.ErrIndexNotFound when no
// form exists.
func fingerprintIndex(ctx context.Context, loc string) (fingerprint, error) {
	u, err := url.Parse(loc)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return fingerprintHTTP(ctx, loc)
	}
	path := loc
	if err == nil && u.Scheme == "file" {
		path = u.Path
	}
	for _, ext := range suffixes {
		st, err := os.Stat(path + ext)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fingerprint{}, fmt.Errorf("stat index: %w", err)
		}
		return fingerprint{loc: loc + ext, size: st.Size(), mtime: st.ModTime()}, nil
	}
	return fingerprint{}, fmt.Errorf("find index %q: %w", piuparts.Cut(loc), debian.ErrIndexNotFound)
}

func fingerprintHTTP(ctx context.Context, loc string) (fingerprint, error) {
	for _, ext := range suffixes {
		req, err := http.NewRequestWithContext(ctx, http.MethodHead, loc+ext, nil)
		if err != nil {
			return fingerprint{}, fmt.Errorf("head index: %w", err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fingerprint{}, fmt.Errorf("head index: %w", err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			continue
		}
		mtime, _ := http.ParseTime(resp.Header.Get("Last-Modified"))
		return fingerprint{loc: loc + ext, size: resp.ContentLength, mtime: mtime, tag: resp.Header.Get("ETag")}, nil
	}
	return fingerprint{}, fmt.Errorf("find index %q: %w", piuparts.Cut(loc), debian.ErrIndexNotFound)
}

// loaded is one section's archive data, parsed.
type loaded struct {
	pkgs []*debian.Package // in the order of the Packages files, duplicates kept
	// testVersion maps a package to its version in the final distro, or
	// "None"; nil when the section tests no upgrade.
	testVersion map[string]string
	// byName holds the indices of pkgs sorted by name, the order the
	// store keeps; it is set when sorted is closed (see startSort).
	byName   []int32
	sorted   chan struct{}
	sortOnce sync.Once
}

// startSort sorts the packages by name on another goroutine, while the
// states are computed; sortedByName waits for it, and so does waitSort,
// which the caller must call before it returns.
func (l *loaded) startSort() {
	l.sortOnce.Do(l.sort)
}

func (l *loaded) sort() {
	l.sorted = make(chan struct{})
	go func() {
		defer close(l.sorted)
		order := make([]int32, len(l.pkgs))
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortFunc(order, func(a, b int32) int { return strings.Compare(l.pkgs[a].Name, l.pkgs[b].Name) })
		l.byName = order
	}()
}

// sortedByName returns the indices of l.pkgs sorted by name, once
// startSort's goroutine has them.
func (l *loaded) sortedByName() []int32 {
	l.waitSort()
	return l.byName
}

// waitSort waits for startSort's goroutine.
func (l *loaded) waitSort() {
	l.startSort()
	<-l.sorted
}

// entries returns what res says of each package, indexed by Ref, the
// package's index in l.pkgs; of several stanzas of a name only the one
// the states were computed from has an entry (the others are zero). res
// must have been computed from l.statePackages().
func (l *loaded) entries(res *state.Result) []state.Entry {
	byRef := make([]state.Entry, len(l.pkgs))
	res.Each(func(e state.Entry) { byRef[e.Ref] = e })
	return byRef
}

// loadIndexes parses the Packages files at urls and returns their packages
// in file order, each file's in the order names first appear in it; with
// relations, their relationship fields parsed for the state algorithm.
func loadIndexes(ctx context.Context, ic *debian.IndexCache, urls []string, relations bool) ([]*debian.Package, error) {
	var all []*debian.Package
	for _, u := range urls {
		// Compact: only the named fields are used, and the file's text
		// would otherwise stay in memory until the states are stored.
		m, err := ic.LoadPackagesCompact(ctx, u, relations)
		if err != nil {
			return nil, err
		}
		start := len(all)
		for _, p := range m {
			all = append(all, p)
		}
		part := all[start:]
		slices.SortFunc(part, func(a, b *debian.Package) int { return a.Order - b.Order })
	}
	return all, nil
}

// loadArchive parses a section's Packages files, and those of its final
// distro for the test versions.
func loadArchive(ctx context.Context, ic *debian.IndexCache, urls, final []string) (*loaded, error) {
	pkgs, err := loadIndexes(ctx, ic, urls, true)
	if err != nil {
		return nil, err
	}
	l := &loaded{pkgs: pkgs}
	if final != nil {
		fin, err := loadIndexes(ctx, ic, final, false) // only the versions count
		if err != nil {
			return nil, err
		}
		// Of several candidates the highest version counts, as in a
		// PackagesFile.
		best := make(map[string]string, len(fin))
		for _, p := range fin {
			if v, ok := best[p.Name]; !ok || debian.CompareVersions(p.Version, v) > 0 {
				best[p.Name] = p.Version
			}
		}
		l.testVersion = make(map[string]string, len(pkgs))
		for _, p := range pkgs {
			if v, ok := best[p.Name]; ok {
				l.testVersion[p.Name] = v
			} else {
				l.testVersion[p.Name] = piuparts.TestVersionNone
			}
		}
	}
	return l, nil
}

// statePackages converts the loaded packages for the state algorithm; the
// Ref of each is its index in l.pkgs.
func (l *loaded) statePackages() ([]state.Package, error) {
	out := make([]state.Package, 0, len(l.pkgs))
	for i, p := range l.pkgs {
		sp, err := state.NewPackage(p)
		if err != nil {
			return nil, err
		}
		if l.testVersion != nil {
			sp.TestVersion = l.testVersion[p.Name]
		}
		sp.Ref = i
		out = append(out, sp)
	}
	return out, nil
}

// storePackages converts the loaded packages for store.ReplacePackages:
// one per name, the stanza the states were computed from (the highest
// version winning), with the dependencies as the states resolved them,
// sorted by name (the order the store keeps). byRef is l.entries(res).
// The raw relationship fields are left out: nothing reads them back (the
// states are computed from the Packages files).
func (l *loaded) storePackages(byRef []state.Entry) []store.Package {
	out := make([]store.Package, 0, len(l.pkgs))
	for _, i := range l.sortedByName() {
		e := &byRef[i]
		if e.Name == "" {
			continue // a stanza the states do not use
		}
		p := l.pkgs[i]
		sp := store.Package{
			Name: p.Name, Version: p.Version, Source: p.Source, SourceVersion: p.SourceVersion,
			Maintainer: p.Maintainer, Uploaders: p.Uploaders, Dependencies: e.Dependencies(),
		}
		if l.testVersion != nil {
			sp.TestVersion = e.TestVersion
		}
		out = append(out, sp)
	}
	return out
}

// storeStates lists the states of the section's packages for the store,
// sorted by name (the order the store keeps), with their rank in cands
// (best first: gap, 2*gap, ...). byRef is l.entries(res).
func (l *loaded) storeStates(byRef []state.Entry, cands []state.Candidate, gap int) []store.PackageState {
	rank := make(map[string]int, len(cands))
	for i, cd := range cands {
		rank[cd.Name] = (i + 1) * gap
	}
	states := make([]store.PackageState, 0, len(l.pkgs))
	for _, i := range l.sortedByName() {
		e := &byRef[i]
		if e.Name == "" {
			continue
		}
		states = append(states, store.PackageState{Package: e.Name, Version: e.TestVersion, State: e.State, Rank: rank[e.Name]})
	}
	return states
}

// contentKey identifies the contents of a section's Packages files: a hash
// of each local file's bytes, or, for http(s), of what its fingerprint
// says (fetching it to hash it would cost what it saves).
func contentKey(ctx context.Context, urls, final []string, fps []fingerprint) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "content v1\n%q\n%q\n", urls, final)
	for _, fp := range fps {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		path, local := localPath(fp.loc)
		if !local {
			fmt.Fprintln(h, fp)
			continue
		}
		sum, err := hashFile(path)
		if err != nil {
			return "", fmt.Errorf("hash index: %w", err)
		}
		fmt.Fprintf(h, "%s %s\n", fp.loc, sum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// localPath returns the file path of a file:// URL or plain path, and
// false for http(s).
func localPath(loc string) (string, bool) {
	u, err := url.Parse(loc)
	if err != nil {
		return loc, true
	}
	switch u.Scheme {
	case "http", "https":
		return "", false
	case "file":
		return u.Path, true
	}
	return loc, true
}

// hashFile returns the hex SHA-256 of a file's contents.
func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
