package report

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"piuparts-server/internal/config"
)

// keyFile, in the output directory, holds the key of the inputs of the
// last complete run: a run whose inputs have the same key has nothing
// new to show and writes nothing.
const keyFile = ".piuparts-report.key"

// withStates adds the sections' states keys to the key of the other
// inputs.
func (g *Generator) withStates(ctx context.Context, other string, sections []*config.Section) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "other %s\n", other)
	for _, s := range sections {
		key, err := g.StatesKey(ctx, s.Name)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "states %s %s\n", s.Name, key)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// otherKey is the key of the inputs of a run but the states' (the
// Packages files, log directories and index, which the run itself
// changes): the program's version, the day (counts.txt gets a line a
// day), the config, the known-problem files, each section's Sources
// files and reservations. withStates completes it.
func (g *Generator) otherKey(ctx context.Context, sections []*config.Section) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "report %s day %s docroot %q webhost %q\n", g.Version, g.now().UTC().Format("20060102"),
		g.Config.Global.DocRoot, g.Config.Global.WebHost)
	fmt.Fprintf(h, "sections %q\n", g.Config.Global.SectionNames)
	statDir(h, g.Config.Global.KnownProblemDirectory)
	for _, s := range sections {
		fmt.Fprintf(h, "section %+v\n", *s)
		for _, distro := range []string{s.GetDistro(), s.FinalDistro()} {
			for _, u := range g.Config.Distros.SourcesURLs(distro, s.GetArea(), s.Mirror) {
				statIndex(h, u)
			}
		}
		rs, err := g.DB.Reservations(ctx, s.Name)
		if err != nil {
			return "", err
		}
		for _, r := range rs {
			fmt.Fprintf(h, "reserved %s %s %s %d %d\n", r.Package, r.Version, r.Holder, r.ReservedAt.Unix(), r.ExpiresAt.Unix())
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// statIndex writes the size and modification time of each compressed
// form of a local index to h, and reports whether it found one; a remote
// index adds its URL only (a run with a remote mirror is never skipped
// for it: see otherKey's day) and reports false.
func statIndex(h hash.Hash, loc string) bool {
	p := loc
	if u, err := url.Parse(loc); err == nil && u.Scheme != "" {
		if u.Scheme != "file" {
			fmt.Fprintf(h, "remote %s\n", loc)
			return false
		}
		p = u.Path
	}
	found := false
	for _, ext := range []string{"", ".xz", ".gz", ".bz2", ".lz4"} {
		if fi, err := os.Stat(p + ext); err == nil {
			fmt.Fprintf(h, "index %s %d %d\n", p+ext, fi.Size(), fi.ModTime().UnixNano())
			found = true
		}
	}
	return found
}

// statDir writes the names, sizes and modification times of a
// directory's files to h.
func statDir(h hash.Hash, dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		fmt.Fprintf(h, "nodir %s\n", dir)
		return
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, n := range names {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil {
			fmt.Fprintf(h, "file %s %d %d\n", n, fi.Size(), fi.ModTime().UnixNano())
		}
	}
}

// readKey returns the key of the last complete run, "" if none.
func readKey(out string) string {
	b, err := os.ReadFile(filepath.Join(out, keyFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// writeKey records the key of a complete run.
func writeKey(out, key string) error {
	return writeAtomic(filepath.Join(out, keyFile), []byte(key+"\n"))
}

// renderSalt returns what every page's input key holds of the program
// that renders it: its version and the SHA-256 of its executable, so
// that another build (even one of the same version, as a developer's
// are) renders every page again. A build whose executable cannot be read
// salts its keys with a time: it then renders every page.
func (g *Generator) renderSalt() []byte {
	h := sha256.New()
	fmt.Fprintf(h, "piuparts-report pages %s\n", g.Version)
	exe, err := os.Executable()
	if err == nil {
		var f *os.File
		if f, err = os.Open(exe); err == nil {
			_, err = io.Copy(h, f)
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(h, "unsalted %d\n", time.Now().UnixNano())
	}
	return h.Sum(nil)
}
