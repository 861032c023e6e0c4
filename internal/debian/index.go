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
	"os/exec"
	"runtime"
	"strings"
	"sync"

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
		rc, err := decompress(ctx, body, ext)
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

func decompress(ctx context.Context, body io.ReadCloser, ext string) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(body, 64<<10)
	var r io.Reader
	switch ext {
	case ".xz":
		return decompressXZ(ctx, body, br)
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

// XZDecoderEnv names the environment variable that chooses how .xz indexes
// are decompressed: "liblzma" (in this process; builds with -tags
// liblzma), "command" (the xz command) or "go" (the pure Go decoder). When
// it is unset or empty, the first of them that this build and machine
// have is used. It is for operators comparing the decoders, and for tests.
const XZDecoderEnv = "PIUPARTS_XZ_DECODER"

// decompressXZ returns a reader of what the .xz data of br decompresses
// to, with the decoder $PIUPARTS_XZ_DECODER names or the fastest there is:
// a Debian release's Packages.xz (50 MB) takes liblzma about 0.5 s of one
// core, the xz command as long plus a fifth of a core for the pipe, and
// the Go decoder well over a second, on the path every cold start waits
// for.
func decompressXZ(ctx context.Context, body io.ReadCloser, br *bufio.Reader) (io.ReadCloser, error) {
	magic, err := br.Peek(len(xzMagic))
	if err != nil || string(magic) != xzMagic {
		return nil, fmt.Errorf("read xz header: %w", errXZMagic)
	}
	choice := os.Getenv(XZDecoderEnv)
	switch choice {
	case "", "liblzma", "command", "go":
	default:
		return nil, fmt.Errorf("$%s=%q: want liblzma, command or go", XZDecoderEnv, choice)
	}
	if choice == "liblzma" || (choice == "" && haveLiblzma) {
		xr, err := newLiblzmaReader(br)
		if err != nil {
			return nil, err
		}
		return readCloser{Reader: xr, close: func() error {
			xr.Close()
			return body.Close()
		}}, nil
	}
	if choice == "command" || choice == "" {
		path, err := exec.LookPath("xz")
		if err == nil {
			return xzCommand(ctx, path, body, br)
		}
		if choice == "command" {
			return nil, fmt.Errorf("$%s=command: %w", XZDecoderEnv, err)
		}
	}
	xr, err := xz.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("read xz header: %w", err)
	}
	return readCloser{Reader: xr, close: body.Close}, nil
}

// xzMagic starts every xz stream.
const xzMagic = "\xfd7zXZ\x00"

// xzCommand returns a reader of what the xz command at path decompresses
// from br, which reads body. A stream that does not start like an xz
// stream is an error at once, as with the Go decoder; one that is corrupt
// later is an error from Read, with what xz said. Close stops xz if it
// still runs and closes body. With -T0, xz (5.4 and later) decodes a
// stream of several blocks, as xz -T writes, on every core; one block is
// decoded as before, and xz 5.0 to 5.2 accept the option and ignore it.
func xzCommand(ctx context.Context, path string, body io.Closer, br *bufio.Reader) (io.ReadCloser, error) {
	cmd := exec.CommandContext(ctx, path, "--decompress", "--stdout", "--quiet", "-T0")
	cmd.Stdin = br
	var stderr strings.Builder
	cmd.Stderr = &limitedWriter{w: &stderr, n: 200}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("run xz: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("run xz: %w", err)
	}
	return &xzReader{cmd: cmd, out: out, body: body, stderr: &stderr}, nil
}

// errXZMagic means a .xz file does not start with the xz magic bytes.
var errXZMagic = errors.New("not an xz stream")

// xzReader reads the output of an xz command.
type xzReader struct {
	cmd    *exec.Cmd
	out    io.ReadCloser
	body   io.Closer
	stderr *strings.Builder
	done   bool
	err    error // the command's failure, once it ended
}

// Read returns xz's output; at its end, an error if xz failed.
func (x *xzReader) Read(p []byte) (int, error) {
	n, err := x.out.Read(p)
	if err == io.EOF {
		x.wait()
		if x.err != nil {
			return n, x.err
		}
	}
	return n, err
}

// wait waits for xz to end, once, and keeps its failure.
func (x *xzReader) wait() {
	if x.done {
		return
	}
	x.done = true
	if err := x.cmd.Wait(); err != nil {
		x.err = fmt.Errorf("decompress xz: %w: %q", err, cut(strings.TrimSpace(x.stderr.String())))
	}
}

// Close stops xz (when the reader did not read to the end) and closes the
// compressed input.
func (x *xzReader) Close() error {
	if !x.done && x.cmd.Process != nil {
		x.cmd.Process.Kill()
	}
	x.out.Close()
	x.wait()
	return x.body.Close()
}

// limitedWriter keeps the first n bytes written to it and drops the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if k := min(len(p), l.n); k > 0 {
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
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
	// Order is the rank of the package's name in the order the names first
	// appear in the file, from 0 to one less than the number of names: the
	// order in which piupartslib's PackagesFile lists them. ReadPackages
	// and LoadPackages set it; NewPackage leaves it 0.
	Order  int
	Fields Paragraph
	// Parsed holds the relationship fields the package-state algorithm
	// reads, parsed: [LoadPackagesCompact] parses them on its workers, as
	// the file is read. It is nil otherwise, and does not follow later
	// changes of the string fields.
	Parsed *ParsedRelations
}

// ParsedRelations are the Depends, Pre-Depends and Provides fields of a
// package parsed with [ParseDepends] and reduced to names, each with its
// *RelationError when malformed (then the field's names are nil): what
// piupartslib's package states read of them, in a tenth of the memory of
// the parsed fields.
type ParsedRelations struct {
	// Depends and PreDepends hold, for each item of the field, the names
	// of its alternatives (see [ParseDependsNames]).
	Depends, PreDepends [][]string
	// Provides holds the first name of each item (see [Depends.Names]).
	Provides                               []string
	DependsErr, PreDependsErr, ProvidesErr error
}

// ParseRelations parses the fields of p that ParsedRelations holds.
func (p *Package) ParseRelations() *ParsedRelations {
	r := new(ParsedRelations)
	r.Depends, r.DependsErr = ParseDependsNames(p.Depends)
	r.PreDepends, r.PreDependsErr = ParseDependsNames(p.PreDepends)
	prov, err := ParseDependsNames(p.Provides)
	if r.ProvidesErr = err; len(prov) > 0 {
		r.Provides = make([]string, len(prov))
		for i, alt := range prov {
			r.Provides[i] = alt[0]
		}
	}
	return r
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

// fill sets p, which must be zero, from para, as NewPackage describes.
func (p *Package) fill(para Paragraph) error {
	p.Fields = para
	for _, f := range para.Fields {
		p.set(f.Name, f.Value)
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

// set stores value in the named field called name (compared without regard
// to ASCII case), if there is one. It runs for every field of every stanza,
// so it compares name with one candidate only.
func (p *Package) set(name, value string) {
	if len(name) < 6 {
		return // shorter than every name wanted
	}
	// Pick the one candidate by length and first letter (and, where two
	// names share those, the last letter).
	var key string
	var dst *string
	switch len(name)<<8 | int(name[0]|0x20) {
	case 6<<8 | 'b':
		key, dst = "Breaks", &p.Breaks
	case 6<<8 | 's':
		key, dst = "Source", &p.Source
		if name[5]|0x20 == 's' {
			key, dst = "Status", &p.Status
		}
	case 7<<8 | 'd':
		key, dst = "Depends", &p.Depends
	case 7<<8 | 'p':
		key, dst = "Package", &p.Name
	case 7<<8 | 's':
		key, dst = "Section", &p.Section
	case 7<<8 | 'v':
		key, dst = "Version", &p.Version
	case 8<<8 | 'f':
		key, dst = "Filename", &p.Filename
	case 8<<8 | 'p':
		key, dst = "Provides", &p.Provides
		if name[7]|0x20 == 'y' {
			key, dst = "Priority", &p.Priority
		}
	case 9<<8 | 'c':
		key, dst = "Conflicts", &p.Conflicts
	case 9<<8 | 'e':
		if equalFold(name, "Essential") {
			p.Essential = value == "yes"
		}
		return
	case 9<<8 | 'u':
		key, dst = "Uploaders", &p.Uploaders
	case 10<<8 | 'm':
		key, dst = "Maintainer", &p.Maintainer
		if name[9]|0x20 == 'h' {
			key, dst = "Multi-Arch", &p.MultiArch
		}
	case 10<<8 | 'r':
		key, dst = "Recommends", &p.Recommends
	case 11<<8 | 'p':
		key, dst = "Pre-Depends", &p.PreDepends
	case 12<<8 | 'a':
		key, dst = "Architecture", &p.Architecture
	default:
		return
	}
	if equalFold(name, key) {
		*dst = value
	}
}

// foldKey returns the canonical spelling of a field name that a Package or
// a Source picks out, given in any case, or "".
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

// fill sets s from para. It returns a *SyntaxError (at the paragraph's
// line) when the Package or Version field is missing or empty.
func (s *Source) fill(para Paragraph) error {
	*s = Source{Fields: para}
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
		return &SyntaxError{Line: para.Line, Msg: "stanza has no Package field"}
	}
	if s.Version == "" {
		return &SyntaxError{Line: para.Line, Msg: fmt.Sprintf("source %q has no Version field", cut(s.Name))}
	}
	return nil
}

// ctxCheckEvery is how many paragraphs the readers parse between looks at
// their context.
const ctxCheckEvery = 1024

// ReadPackages parses a Packages (or dpkg status) file from r into a map
// from package name to package. When a name occurs more than once, the
// higher version (by [CompareVersions]) wins, and of equal versions the
// first, as in piupartslib. Each package's Order is its name's rank in the
// order the names first appear in the file (0 to len(map)-1). It returns
// the parser's *SyntaxError, the errors of [NewPackage], the reader's error,
// or ctx.Err() when ctx ends; of several errors, the first in the file.
//
// The input is read in blocks that end at paragraph boundaries and parsed
// on runtime.GOMAXPROCS(0) goroutines; the result is the same as parsing it
// in one go. All goroutines have ended when ReadPackages returns.
func ReadPackages(ctx context.Context, r io.Reader) (map[string]*Package, error) {
	return readPackages(ctx, r, DefaultBlockSize, runtime.GOMAXPROCS(0))
}

// readPackages is ReadPackages with the block size and number of workers
// as parameters, so that tests can make many small blocks.
func readPackages(ctx context.Context, r io.Reader, block, workers int) (map[string]*Package, error) {
	return readPackagesWith(ctx, r, block, workers, (*Package).fill)
}

// readPackagesWith is readPackages with fill as the function that sets a
// Package from its paragraph.
func readPackagesWith(ctx context.Context, r io.Reader, block, workers int,
	fill func(*Package, Paragraph) error) (map[string]*Package, error) {
	var pkgs map[string]*Package
	err := parseParallel(ctx, r, block, workers, fill, func(blk []Package, more bool) {
		if pkgs == nil {
			// A map made at its final size fills 3 times faster than
			// one that grows, but the final size is not known yet. When
			// more blocks follow, make room for 64 blocks like the first
			// (bookworm main is 50 of 1 MB); the map grows beyond that.
			size := len(blk)
			if more {
				size *= 64
			}
			pkgs = make(map[string]*Package, size)
		}
		for i := range blk {
			pkg := &blk[i]
			old, ok := pkgs[pkg.Name]
			if !ok {
				pkg.Order = len(pkgs)
			} else if CompareVersions(pkg.Version, old.Version) > 0 {
				pkg.Order = old.Order
			} else {
				continue
			}
			pkgs[pkg.Name] = pkg
		}
	})
	if err != nil {
		return nil, err
	}
	if pkgs == nil {
		pkgs = make(map[string]*Package)
	}
	return pkgs, nil
}

// ReadSources parses a Sources file from r into a map from source package
// name to source package; of several versions the highest wins, and of
// equal versions the first. It returns the same errors as [ReadPackages],
// except that a stanza's *SyntaxError is for a missing or empty Package or
// Version field only, and parses in parallel in the same way.
func ReadSources(ctx context.Context, r io.Reader) (map[string]*Source, error) {
	srcs := make(map[string]*Source)
	err := parseParallel(ctx, r, DefaultBlockSize, runtime.GOMAXPROCS(0), (*Source).fill, func(blk []Source, _ bool) {
		for i := range blk {
			src := &blk[i]
			if old, ok := srcs[src.Name]; ok && CompareVersions(src.Version, old.Version) <= 0 {
				continue
			}
			srcs[src.Name] = src
		}
	})
	if err != nil {
		return nil, err
	}
	return srcs, nil
}

// blockJob is one block of input for a worker: whole paragraphs, starting
// after line lines of the input; more tells whether input follows. The
// worker sends its result on out.
type blockJob[T any] struct {
	s    string
	line int
	more bool
	out  chan<- blockResult[T]
}

// blockResult is what a block gave: its items in file order, or the first
// error in it; more is the job's.
type blockResult[T any] struct {
	items []T
	more  bool
	err   error
}

// parseParallel parses the paragraphs of r into values of T with fill and
// calls merge with the values of each block (and whether input follows
// it), in file order, on the calling goroutine. One goroutine reads r and
// cuts it into blocks of about block bytes at blank lines (so that no
// paragraph spans two blocks); workers goroutines parse the blocks. It returns the first error in file order
// (a read error counts as coming after everything read before it), or
// ctx.Err(). It returns only after every goroutine it started has ended.
func parseParallel[T any](ctx context.Context, r io.Reader, block, workers int,
	fill func(*T, Paragraph) error, merge func(items []T, more bool)) error {
	workers = max(workers, 1)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // runs after cancel, so everything stops soon
	defer cancel()

	jobs := make(chan blockJob[T])
	// order carries each block's result channel in file order; its buffer
	// bounds how many blocks are in memory beyond the merged ones.
	order := make(chan chan blockResult[T], 2*workers)

	// The reader: cut blocks, count their lines, hand them out.
	wg.Go(func() {
		defer close(order)
		defer close(jobs)
		src := &Parser{r: r, block: block}
		for {
			err := src.fill()
			if err == io.EOF {
				return
			}
			out := make(chan blockResult[T], 1)
			if err != nil {
				out <- blockResult[T]{err: err}
			} else {
				// Send the job before its place in order, so that a
				// result the merger waits for always has a worker.
				select {
				case jobs <- blockJob[T]{s: src.s, line: src.line, more: !src.eof || len(src.pending) > 0, out: out}:
				case <-ctx.Done():
					return
				}
				src.line += strings.Count(src.s, "\n")
			}
			select {
			case order <- out:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	})

	for range workers {
		wg.Go(func() {
			var paras []Paragraph // reused from block to block
			for j := range jobs {
				var items []T
				var err error
				items, paras, err = parseBlock(ctx, j.s, j.line, paras[:0], fill)
				j.out <- blockResult[T]{items: items, more: j.more, err: err} // buffered: never blocks
			}
		})
	}

	// The merger, in file order.
	for out := range order {
		res := <-out
		if res.err != nil {
			return res.err
		}
		merge(res.items, res.more)
	}
	// The reader stops early only when ctx ends.
	return ctx.Err()
}

// parseBlock parses the paragraphs of s, which starts after line lines of
// the input, into values of T with fill. The values share one allocation.
// paras is scratch space for the paragraphs; parseBlock returns it for
// reuse.
func parseBlock[T any](ctx context.Context, s string, line int, paras []Paragraph,
	fill func(*T, Paragraph) error) ([]T, []Paragraph, error) {
	p := &Parser{s: s, eof: true, line: line}
	var paraErr error
	for n := 0; ; n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, paras, err
			}
		}
		para, err := p.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			// Report it only if no earlier paragraph is bad.
			paraErr = err
			break
		}
		paras = append(paras, para)
	}
	items := make([]T, len(paras))
	for i, para := range paras {
		if err := fill(&items[i], para); err != nil {
			return nil, paras, err
		}
	}
	if paraErr != nil {
		return nil, paras, paraErr
	}
	return items, paras, nil
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

// LoadPackagesCompact is [LoadPackages] for a caller that needs only the
// named fields: the packages come back without Fields, and their named
// fields are copies, so the text of the Packages file (mostly
// descriptions, about 100 MB for a Debian release) is not kept in memory
// by the packages: each block of it can be freed as soon as it is parsed.
// With relations, their Parsed relations are set too: the workers parse
// them while the file is still being read (decompressing it takes
// longer). It returns the errors LoadPackages does; a malformed
// relationship field is not one of them (see [ParsedRelations]).
func LoadPackagesCompact(ctx context.Context, loc string, relations bool) (map[string]*Package, error) {
	return loadPackagesCompact(ctx, OpenIndex, loc, relations)
}

// LoadPackagesCompact is [LoadPackagesCompact] reading the index through
// the cache.
func (c *IndexCache) LoadPackagesCompact(ctx context.Context, loc string, relations bool) (map[string]*Package, error) {
	return loadPackagesCompact(ctx, c.Open, loc, relations)
}

func loadPackagesCompact(ctx context.Context, open func(context.Context, string) (io.ReadCloser, string, error), loc string, relations bool) (map[string]*Package, error) {
	rc, opened, err := open(ctx, loc)
	if err != nil {
		return nil, fmt.Errorf("load packages: %w", err)
	}
	defer rc.Close()
	fill := (*Package).fillCompact
	if relations {
		fill = func(p *Package, para Paragraph) error {
			if err := p.fillCompact(para); err != nil {
				return err
			}
			p.Parsed = p.ParseRelations()
			return nil
		}
	}
	pkgs, err := readPackagesWith(ctx, rc, DefaultBlockSize, runtime.GOMAXPROCS(0), fill)
	if err != nil {
		return nil, fmt.Errorf("load packages from %q: %w", cut(opened), err)
	}
	return pkgs, nil
}

// fillCompact is fill, then drops Fields and copies the named string
// fields into one new allocation, so that p keeps nothing of the text
// para was cut from.
func (p *Package) fillCompact(para Paragraph) error {
	if err := p.fill(para); err != nil {
		return err
	}
	p.Fields = Paragraph{Line: para.Line}
	fields := [...]*string{&p.Name, &p.Version, &p.Architecture, &p.Source, &p.SourceVersion,
		&p.Maintainer, &p.Uploaders, &p.Depends, &p.PreDepends, &p.Recommends, &p.Provides,
		&p.Conflicts, &p.Breaks, &p.Status, &p.Priority, &p.Section, &p.MultiArch, &p.Filename}
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range fields {
		b.WriteString(*f)
	}
	all, at := b.String(), 0
	for _, f := range fields {
		l := len(*f)
		*f = all[at : at+l]
		at += l
	}
	return nil
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
