package master

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
	"piuparts-server/internal/debian"
	"piuparts-server/internal/piuparts"
	"piuparts-server/master/state"
	"piuparts-server/store"
)

// ErrDependsCycle means the depends-sections of the config form a cycle.
var ErrDependsCycle = errors.New("master: depends-sections form a cycle")

// errComputeWait means another process computed the section's states for
// longer than the wait allowed.
var errComputeWait = errors.New("master: waited too long for another process computing the states")

// DefaultComputeWait is how long [Cache.Refresh] waits for another process
// that computes the same section's states.
const DefaultComputeWait = 2 * time.Minute

// computePoll is how often a process waiting for another's computation
// looks whether it is done.
const computePoll = 10 * time.Millisecond

// Cache is the state cache: it keeps the states of each section's packages
// (piupartslib's algorithm on the archive and the log tree) in the store,
// keyed by the inputs they came from, and brings them up to date when an
// input changed. A slave connection holds one; so can the report and the
// maintenance commands, which need fresh states without a slave. It is safe
// for concurrent use; several processes may share the store, and one of
// them at a time computes a section (the others wait for it and take its
// states).
type Cache struct {
	// Piuparts is the configuration: sections, archive settings (mirror
	// and arch set, see config.Config.ApplyHost), distros.
	Piuparts *config.Config
	// DB is the store, opened with its master directory
	// (store.OpenMaster).
	DB *store.DB
	// Log receives what the cache did (computations, Packages changes).
	Log zerolog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// ComputeWait bounds the wait for another process's computation;
	// zero means DefaultComputeWait.
	ComputeWait time.Duration
	// Live keeps each section's archive prepared in memory and learns
	// this process's own changes (see Own): for a long-lived process,
	// the master server. Recycle mode is computed as without it.
	Live bool

	// onWait, when set (by tests), is called once when Refresh begins to
	// wait for another process's computation.
	onWait func()

	mu sync.Mutex
	// contents memoizes content keys by stat key: a cold start looks for
	// cached states and then computes them.
	contents map[string]string
	// live holds, in a live cache, what it keeps of each section;
	// expiredAt is when a reserve last released expired leases.
	live      map[string]*liveSection
	expiredAt time.Time
}

// Fresh is what [Cache.Refresh] found: the section's states are in the
// store for these inputs.
type Fresh struct {
	// Result is the computation's result when this call computed it,
	// nil when the stored states were current.
	Result *state.Result
	// At is when the inputs were looked at.
	At time.Time
	// TreeAt is the latest change of the section's log directories seen
	// then (piupartslib's get_mtime).
	TreeAt time.Time
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cache) tree() *store.LogTree { return c.DB.Tree() }

// indexCache keeps the decompressed Packages files in the master
// directory (see [store.LogTree.IndexCacheDir]), so that a computation
// after a new log reads the text instead of decompressing it again.
func (c *Cache) indexCache() *debian.IndexCache {
	return &debian.IndexCache{Dir: c.tree().IndexCacheDir()}
}

// Refresh makes sure the store holds the states of a section for its
// current inputs (in recycle mode or not), computing them if needed (the
// reference's _init_db). When another process is computing them, it waits
// for that one computation and takes its states, even if a log arrived
// meanwhile: reserve checks logs and reservations itself, and the next
// refresh brings the states up to date. It returns an error wrapping
// ErrDependsCycle, config.ErrUnknownSection-like errors of the config, the
// archive's and the store's errors.
func (c *Cache) Refresh(ctx context.Context, section string, recycle bool) (Fresh, error) {
	if c.Live && !recycle {
		return c.refreshLive(ctx, section, true)
	}
	return c.refresh(ctx, section, recycle)
}

// RefreshForReserve is Refresh for reserve, which checks logs and
// reservations itself: in a live cache, states that a computation is
// bringing up to date with this process's own changes will do, and it
// does not wait for them.
func (c *Cache) RefreshForReserve(ctx context.Context, section string, recycle bool) (Fresh, error) {
	if c.Live && !recycle {
		return c.refreshLive(ctx, section, false)
	}
	return c.refresh(ctx, section, recycle)
}

func (c *Cache) refresh(ctx context.Context, section string, recycle bool) (Fresh, error) {
	f := Fresh{At: c.now()}
	if err := c.tree().EnsureSection(section); err != nil {
		return f, err
	}
	latest, err := c.latestChange(section)
	if err != nil {
		return f, err
	}
	f.TreeAt = latest
	wait := c.ComputeWait
	if wait <= 0 {
		wait = DefaultComputeWait
	}
	deadline := time.Now().Add(wait)
	var seen int64 = -1 // the computation count when a wait began
	for {
		row, ok, err := c.current(ctx, section, recycle)
		if err != nil || ok {
			return f, err
		}
		if seen >= 0 && row.StatesSeq > seen && row.StatesRecycle == recycle && !row.StatesComputedAt.IsZero() {
			// Another process finished a computation this one waited for.
			return f, nil
		}
		unlock, locked, err := c.tree().TryLockCompute(section)
		if err != nil {
			return f, err
		}
		if locked {
			defer unlock()
			// Another process may have finished just before the lock.
			if _, ok, err := c.current(ctx, section, recycle); err != nil || ok {
				return f, err
			}
			start := time.Now()
			res, err := c.compute(ctx, section, recycle)
			if err != nil {
				return f, err
			}
			c.Log.Info().Str("section", section).Bool("recycle", recycle).Dur("dur", time.Since(start)).Msg("states computed")
			f.Result = res
			return f, nil
		}
		if seen < 0 {
			seen = row.StatesSeq
			if c.onWait != nil {
				c.onWait()
			}
		}
		if time.Now().After(deadline) {
			return f, fmt.Errorf("refresh %s: %w", section, errComputeWait)
		}
		select {
		case <-ctx.Done():
			return f, ctx.Err()
		case <-time.After(computePoll):
		}
	}
}

// current reports whether the stored states of a section are those of its
// current inputs, and returns the section's row.
func (c *Cache) current(ctx context.Context, section string, recycle bool) (store.Section, bool, error) {
	in, err := c.gather(ctx, section)
	if err != nil {
		return store.Section{}, false, err
	}
	if err := c.contentKeys(ctx, in); err != nil {
		return store.Section{}, false, err
	}
	row, err := c.DB.Section(ctx, section)
	if errors.Is(err, store.ErrNoSection) {
		return row, false, nil
	}
	if err != nil {
		return row, false, err
	}
	if row.StatesInputs != in.statesKey(recycle, row.Generation) || row.StatesComputedAt.IsZero() {
		return row, false, nil
	}
	c.recordTouched(ctx, in)
	return row, true, nil
}

// Result computes a section's states in memory, for the debug commands
// (which need dependencies and cycles, not only states).
func (c *Cache) Result(ctx context.Context, section string, recycle bool) (*state.Result, error) {
	snap, err := c.Snapshot(ctx, section, recycle)
	if err != nil {
		return nil, err
	}
	return snap.Result, nil
}

// PackagesChangedSince reports whether a Packages file of the section
// changed after t (new archive data may hold new packages to test).
func (c *Cache) PackagesChangedSince(ctx context.Context, section string, t time.Time) (bool, error) {
	in, err := c.gather(ctx, section)
	if err != nil {
		return false, err
	}
	for _, fp := range in.fps {
		if t.Before(fp.mtime) {
			return true, nil
		}
	}
	return false, nil
}

// latestChange returns piupartslib's get_mtime for a section: the latest
// modification time of its log directories.
func (c *Cache) latestChange(section string) (time.Time, error) {
	_, t, err := c.treeStamp(section)
	return t, err
}

// treeStamp returns the modification times of a section's log directories
// but reserved/ (a reservation does not change a state), as key material,
// and the latest of all of them.
func (c *Cache) treeStamp(section string) (string, time.Time, error) {
	times, err := c.tree().DirTimes(section)
	if err != nil {
		return "", time.Time{}, err
	}
	var b []byte
	var latest time.Time
	for _, k := range piuparts.Kinds() {
		t := times[k]
		if t.After(latest) {
			latest = t
		}
		if k == piuparts.KindReserved {
			continue
		}
		b = fmt.Appendf(b, "%s=%d ", k, t.UnixNano())
	}
	return string(b), latest, nil
}

// secInput is what the states of one section are computed from.
type secInput struct {
	conf        *config.Section
	urls, final []string
	fps         []fingerprint
	stamp       string
	deps        []*secInput
	// content identifies the contents of the Packages files (see
	// contentKey); touched says the files' stat changed while their
	// contents did not, so the stored fingerprint is to be updated.
	content string
	touched bool
}

// archiveKey identifies the section's own Packages files as found by stat
// (store.Fingerprint.Stat).
func (in *secInput) archiveKey() string {
	h := sha256.New()
	fmt.Fprintf(h, "archive v1\n%q\n%q\n", in.urls, in.final)
	for _, fp := range in.fps {
		fmt.Fprintln(h, fp)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// archiveFingerprint is what store.ReplacePackages and
// store.DB.SetPackagesFingerprint record; in.content must be set.
func (in *secInput) archiveFingerprint() store.Fingerprint {
	fp := store.Fingerprint{SHA256: in.content, Stat: in.archiveKey()}
	for _, f := range in.fps {
		fp.Size += f.size
		if f.mtime.After(fp.ModTime) {
			fp.ModTime = f.mtime
		}
	}
	return fp
}

// statesKey identifies everything the states of the section depend on;
// the content keys must be set (see contentKeys).
func (in *secInput) statesKey(recycle bool, generation int64) string {
	h := sha256.New()
	fmt.Fprintf(h, "states v2 recycle=%t generation=%d\n", recycle, generation)
	seen := make(map[*secInput]bool)
	var walk func(*secInput)
	walk = func(s *secInput) {
		if seen[s] {
			fmt.Fprintf(h, "again %s\n", s.conf.Name)
			return
		}
		seen[s] = true
		fmt.Fprintf(h, "section %s %s\n", s.conf.Name, s.content)
		fmt.Fprintf(h, "tree %s\n", s.stamp)
		for _, d := range s.deps {
			walk(d)
		}
		fmt.Fprintf(h, "end %s\n", s.conf.Name)
	}
	walk(in)
	return hex.EncodeToString(h.Sum(nil))
}

// walkInputs calls fn once for a section and each of its depends-sections,
// depth first; an error stops the walk.
func walkInputs(root *secInput, fn func(*secInput) error) error {
	seen := make(map[*secInput]bool)
	var walk func(*secInput) error
	walk = func(in *secInput) error {
		if seen[in] {
			return nil
		}
		seen[in] = true
		if err := fn(in); err != nil {
			return err
		}
		for _, d := range in.deps {
			if err := walk(d); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(root)
}

// contentKeys sets the content key of a section and its depends-sections:
// the one stored with the section's packages while the files' stat is
// unchanged, else a hash of the files' contents (so that touching or
// rewriting a Packages file with the same contents changes nothing).
func (c *Cache) contentKeys(ctx context.Context, root *secInput) error {
	return walkInputs(root, func(in *secInput) error {
		row, err := c.DB.Section(ctx, in.conf.Name)
		if err != nil && !errors.Is(err, store.ErrNoSection) {
			return err
		}
		stat := in.archiveKey()
		if row.Packages.Stat == stat && row.Packages.SHA256 != "" {
			in.content = row.Packages.SHA256
			return nil
		}
		c.mu.Lock()
		content, ok := c.contents[stat]
		c.mu.Unlock()
		if !ok {
			if content, err = contentKey(ctx, in.urls, in.final, in.fps); err != nil {
				return fmt.Errorf("section %s: %w", in.conf.Name, err)
			}
			c.mu.Lock()
			if c.contents == nil {
				c.contents = make(map[string]string)
			}
			c.contents[stat] = content
			c.mu.Unlock()
		}
		in.content = content
		in.touched = row.Packages.SHA256 == in.content && !row.PackagesUpdatedAt.IsZero()
		return nil
	})
}

// recordTouched records the new stat of the sections whose Packages files
// were touched without changing, so later connections need not hash them.
func (c *Cache) recordTouched(ctx context.Context, root *secInput) {
	_ = walkInputs(root, func(in *secInput) error {
		if !in.touched {
			return nil
		}
		if err := c.DB.SetPackagesFingerprint(ctx, in.conf.Name, in.archiveFingerprint()); err != nil {
			c.Log.Warn().Err(err).Str("section", in.conf.Name).Msg("cannot record packages fingerprint")
			return nil
		}
		in.touched = false
		c.Log.Info().Str("section", in.conf.Name).Msg("packages files touched, contents unchanged")
		return nil
	})
}

// gather collects the inputs of a section and its depends-sections: the
// Packages fingerprints and the log directories' stamps. It creates the
// sections' directories.
func (c *Cache) gather(ctx context.Context, name string) (*secInput, error) {
	return c.gatherInputs(ctx, name, true)
}

// gatherInputs is gather; without create, it creates nothing (a missing
// directory is an error), for work in the background that must leave a
// master directory alone once it is gone.
func (c *Cache) gatherInputs(ctx context.Context, name string, create bool) (*secInput, error) {
	memo := make(map[string]*secInput)
	visiting := make(map[string]bool)
	var visit func(name string) (*secInput, error)
	visit = func(name string) (*secInput, error) {
		if in, ok := memo[name]; ok {
			return in, nil
		}
		if visiting[name] {
			return nil, fmt.Errorf("section %s: %w", name, ErrDependsCycle)
		}
		visiting[name] = true
		defer delete(visiting, name)
		conf, err := c.Piuparts.Section(name)
		if err != nil {
			return nil, err
		}
		if create {
			if err := c.tree().EnsureSection(name); err != nil {
				return nil, err
			}
		}
		in := &secInput{conf: conf}
		if in.urls, in.final, err = archiveURLs(c.Piuparts, conf); err != nil {
			return nil, err
		}
		for _, u := range append(slices.Clone(in.urls), in.final...) {
			fp, err := fingerprintIndex(ctx, u)
			if err != nil {
				return nil, err
			}
			in.fps = append(in.fps, fp)
		}
		if in.stamp, _, err = c.treeStamp(name); err != nil {
			return nil, err
		}
		for _, d := range conf.DependsSections {
			din, err := visit(d)
			if err != nil {
				return nil, err
			}
			in.deps = append(in.deps, din)
		}
		memo[name] = in
		return in, nil
	}
	return visit(name)
}

// archiveLoad is the loading of one section's archive data for the state
// algorithm, running on its own goroutine.
type archiveLoad struct {
	done chan struct{} // closed when data, pkgs and err are set
	data *loaded
	pkgs []state.Package
	err  error
}

// startLoads starts loading the archive data of a section and its
// depends-sections, each on its own goroutine: decompressing a Packages
// file keeps a core busy for about half a second, while the caller lists
// the log directories. The caller must wait for every load (wait) before
// it returns.
func startLoads(ctx context.Context, ic *debian.IndexCache, root *secInput) (loads map[*secInput]*archiveLoad, wait func()) {
	loads = make(map[*secInput]*archiveLoad)
	_ = walkInputs(root, func(in *secInput) error {
		l := &archiveLoad{done: make(chan struct{})}
		loads[in] = l
		go func() {
			defer close(l.done)
			if l.data, l.err = loadArchive(ctx, ic, in.urls, in.final); l.err == nil {
				l.pkgs, l.err = l.data.statePackages()
			}
			if l.err != nil {
				l.err = fmt.Errorf("section %s: %w", in.conf.Name, l.err)
			}
		}()
		return nil
	})
	return loads, func() {
		for _, l := range loads {
			<-l.done
		}
	}
}

// listing memoizes the names in log directories for one computation of the
// states, so that the index check and the algorithm's input read each
// directory once. A listing must not outlive the computation.
type listing map[string][]string

// names returns the names in a section's kind directory.
func (c *Cache) names(ls listing, section string, k store.Kind) ([]string, error) {
	key := section + "/" + string(k)
	if n, ok := ls[key]; ok {
		return n, nil
	}
	n, err := c.tree().List(section, k)
	if err != nil {
		return nil, err
	}
	ls[key] = n
	return n, nil
}

// stateKind maps the log tree's kinds to the state algorithm's.
var stateKind = map[store.Kind]state.Kind{
	store.KindPass: state.Pass, store.KindFail: state.Fail, store.KindUntestable: state.Untestable,
	store.KindReserved: state.Reserved, store.KindBugged: state.Bugged, store.KindAffected: state.Affected,
	store.KindRecycle: state.Recycle,
}

// listLogs reads a section's log directories into state.Logs, as
// piupartslib's bulk_load_dir does.
func (c *Cache) listLogs(section string, ls listing) (state.Logs, error) {
	var logs state.Logs
	for _, k := range piuparts.Kinds() {
		names, err := c.names(ls, section, k)
		if err != nil {
			return state.Logs{}, err
		}
		for _, n := range names {
			name, version, ok := piuparts.ParseLogName(n)
			if !ok {
				continue
			}
			if k != store.KindRecycle {
				logs.Add(stateKind[k], name, version)
				continue
			}
			ctime, mtime := c.tree().MarkerTimes(section, k, n)
			logs.AddRecycle(name, version, ctime, mtime)
		}
	}
	return logs, nil
}

// buildSections takes the archive data of a section and its
// depends-sections from loads and lists their logs, for the state
// algorithm. It returns the loaded archive data of the section itself too.
func (c *Cache) buildSections(in *secInput, recycle bool, ls listing, loads map[*secInput]*archiveLoad) (*state.Section, *loaded, error) {
	built := make(map[*secInput]*state.Section)
	var rootData *loaded
	var build func(*secInput, bool) (*state.Section, error)
	build = func(in *secInput, root bool) (*state.Section, error) {
		if s, ok := built[in]; ok {
			return s, nil
		}
		logs, err := c.listLogs(in.conf.Name, ls)
		if err != nil {
			return nil, err
		}
		load := loads[in]
		<-load.done
		if load.err != nil {
			return nil, load.err
		}
		s := &state.Section{Name: in.conf.Name, Packages: load.pkgs, Logs: logs, Recycle: root && recycle}
		for _, d := range in.deps {
			ds, err := build(d, false)
			if err != nil {
				return nil, err
			}
			s.Depends = append(s.Depends, ds)
		}
		if root {
			rootData = load.data
		}
		built[in] = s
		return s, nil
	}
	root, err := build(in, true)
	return root, rootData, err
}

// compute computes a section's states from the archive and the log tree
// and stores them, with the reserve order, under their inputs' key.
func (c *Cache) compute(ctx context.Context, section string, recycle bool) (*state.Result, error) {
	p, err := c.prepare(ctx, section, recycle)
	if err != nil {
		return nil, err
	}
	defer p.wait()
	// The store's order, sorted on another core while this one computes.
	p.data.startSort()
	defer p.data.waitSort()
	t1 := time.Now()
	res, err := state.Compute(p.root)
	if err != nil {
		return nil, fmt.Errorf("compute states of %s: %w", section, err)
	}
	c.Log.Debug().Str("section", section).Dur("load", t1.Sub(p.t0)).Dur("compute", time.Since(t1)).Msg("computation")
	_, err = c.store(ctx, p.in, recycle, p.now, p.data, res, 1)
	return res, err
}

// prepared is what a computation of a section's states starts from.
type prepared struct {
	in   *secInput
	root *state.Section // the state algorithm's input
	data *loaded        // the section's own archive data
	now  time.Time
	t0   time.Time
	wait func() // waits for the loading goroutines; call before returning
}

// prepare loads what the states of a section are computed from: the
// inputs' stamps, then the archive data (on other goroutines) and the log
// directories, after bringing the index in line with the tree.
func (c *Cache) prepare(ctx context.Context, section string, recycle bool) (*prepared, error) {
	now := c.now()
	// The index must know the recycle markers (reserve honours them)
	// and forget logs someone removed, before the generation is read.
	// The inputs' stamps are taken before the directories are listed: a
	// log that arrives in between makes the stored key older than the
	// states, and the next connection computes them again.
	in, err := c.gather(ctx, section)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	loadCtx, cancel := context.WithCancel(ctx)
	loads, wait := startLoads(loadCtx, c.indexCache(), in)
	p := &prepared{in: in, now: now, t0: t0, wait: func() { cancel(); wait() }}
	ls := make(listing)
	if err := c.reconcileIndex(ctx, section, now, ls); err != nil {
		p.wait()
		return nil, err
	}
	if p.root, p.data, err = c.buildSections(in, recycle, ls, loads); err != nil {
		p.wait()
		return nil, err
	}
	return p, nil
}

// store stores the states res computed from the inputs in (whose archive
// data is data) with the reserve order, under the inputs' key; a new
// package list too when the section's Packages files changed.
//
// The candidates get the ranks gap, 2*gap, ...: gaps leave room for a live
// cache to rank new candidates between them (see updateLive); it returns
// them, best first.
func (c *Cache) store(ctx context.Context, in *secInput, recycle bool, now time.Time, data *loaded, res *state.Result, gap int) ([]state.Candidate, error) {
	section := in.conf.Name
	t2 := time.Now()
	// The store's order, sorted on another core while this one orders
	// the candidates (once: a live section keeps its archive data).
	data.startSort()
	var tCandidates time.Time
	defer func() {
		c.Log.Debug().Str("section", section).Dur("candidates", tCandidates.Sub(t2)).
			Dur("store", time.Since(t2)).Msg("states stored")
	}()
	if err := c.contentKeys(ctx, in); err != nil {
		return nil, err
	}
	row, err := c.DB.Section(ctx, section)
	if err != nil && !errors.Is(err, store.ErrNoSection) {
		return nil, err
	}
	// A new package list is written on another core while this one
	// orders the candidates (SQLite lets them read while it writes).
	byRef := data.entries(res)
	var replaced chan error
	if fp := in.archiveFingerprint(); row.Packages.SHA256 != fp.SHA256 || row.PackagesUpdatedAt.IsZero() {
		replaced = make(chan error, 1)
		go func() { replaced <- c.DB.ReplacePackages(ctx, section, fp, now, data.storePackages(byRef)) }()
	}
	var states []store.PackageState
	cands, err := c.candidates(ctx, section, res)
	if err == nil {
		states = data.storeStates(byRef, cands, gap)
	}
	tCandidates = time.Now()
	if replaced != nil {
		if rerr := <-replaced; err == nil {
			err = rerr
		}
	}
	if err != nil {
		return nil, err
	}
	if replaced != nil {
		in.touched = false
		c.Log.Info().Str("section", section).Int("packages", len(data.pkgs)).Msg("packages loaded")
		if row, err = c.DB.Section(ctx, section); err != nil {
			return nil, err
		}
	}
	c.recordTouched(ctx, in)
	return cands, c.DB.SetStates(ctx, section, in.statesKey(recycle, row.Generation), recycle, now, states)
}

// candidates returns the packages to try for reserve, best first: the
// algorithm's candidates, then the waiting packages it left out because of
// a reserved/ marker that belongs to a reservation of this master (they come
// back when the lease ends or the slave unreserves them), with the lowest
// weight there is.
func (c *Cache) candidates(ctx context.Context, section string, res *state.Result) ([]state.Candidate, error) {
	list := res.Candidates(rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())))
	in := make(map[string]bool, len(list))
	for _, cd := range list {
		in[cd.Name] = true
	}
	rs, err := c.DB.Reservations(ctx, section)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if in[r.Package] || res.State(r.Package) != state.WaitingToBeTested {
			continue
		}
		list = append(list, state.Candidate{Name: r.Package, Weight: lowestWeight})
		in[r.Package] = true
	}
	return list, nil
}

// lowestWeight orders after every weight the algorithm gives.
var lowestWeight = state.Weight{Chain: -1, Waiting: -1}

// reconcileIndex brings the log index of a section in line with the tree
// where reserve depends on it: index entries whose file is gone are
// dropped, and recycle/ markers the index lacks are added. It reads the
// directories through ls.
func (c *Cache) reconcileIndex(ctx context.Context, section string, now time.Time, ls listing) error {
	for _, k := range append(piuparts.TestedKinds(), store.KindRecycle) {
		indexed, err := c.DB.LogNames(ctx, section, k)
		if err != nil {
			return err
		}
		// One listing of the directory, read after the index, instead
		// of a stat per indexed log (tens of thousands in a farm): a log
		// the index has and the listing lacks was removed.
		names, err := c.names(ls, section, k)
		if err != nil {
			return err
		}
		var present map[string]bool
		if len(indexed) > 0 {
			present = make(map[string]bool, len(names))
			for _, n := range names {
				present[n] = true
			}
		}
		if slices.ContainsFunc(indexed, func(n string) bool { return !present[n] }) {
			// Rare: a log removed by hand. The entries say exactly
			// which package and version to drop.
			entries, err := c.DB.Logs(ctx, section, k)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if present[piuparts.LogName(e.Package, e.Version)] {
					continue
				}
				if _, err := c.DB.RemoveLog(ctx, section, k, e.Package, e.Version); err != nil {
					return err
				}
			}
		}
		if k != store.KindRecycle {
			continue
		}
		isIndexed := make(map[string]bool, len(indexed))
		for _, n := range indexed {
			isIndexed[n] = true
		}
		for _, n := range names {
			pkg, version, ok := piuparts.ParseLogName(n)
			if !ok || isIndexed[n] {
				continue
			}
			if err := c.DB.IndexFile(ctx, section, k, pkg, version, now); err != nil && !errors.Is(err, store.ErrDuplicate) {
				return err
			}
		}
	}
	return nil
}

// Snapshot is a section's states computed in memory together with the
// archive data they were computed from: what a report shows.
type Snapshot struct {
	// Result holds the states; each Entry's Ref indexes Packages.
	Result *state.Result
	// Packages are the section's own packages in the order of its
	// Packages files, duplicates kept (the states count the stanza with
	// the highest version).
	Packages []*debian.Package
}

// Snapshot computes a section's states in memory, as [Cache.Result] does,
// and returns them with the section's own archive data. The
// depends-sections named in standalone are computed as a section on its
// own is (see state.Section.Standalone), as piuparts-report reuses the
// states of a section it reported earlier in its run. It stores nothing.
func (c *Cache) Snapshot(ctx context.Context, section string, recycle bool, standalone ...string) (*Snapshot, error) {
	in, err := c.gather(ctx, section)
	if err != nil {
		return nil, err
	}
	loadCtx, cancel := context.WithCancel(ctx)
	loads, wait := startLoads(loadCtx, c.indexCache(), in)
	root, data, err := c.buildSections(in, recycle, make(listing), loads)
	cancel()
	wait()
	if err != nil {
		return nil, err
	}
	markStandalone(root, standalone, map[*state.Section]bool{})
	res, err := state.Compute(root)
	if err != nil {
		return nil, fmt.Errorf("compute states of %s: %w", section, err)
	}
	return &Snapshot{Result: res, Packages: data.pkgs}, nil
}

// StatesKey returns a key of everything a section's states depend on
// (its Packages files by content, its log directories, the index's
// generation, and those of its depends-sections): when it is the same
// as before, so are the states. It stores nothing.
func (c *Cache) StatesKey(ctx context.Context, section string, recycle bool) (string, error) {
	_, key, err := c.keyOf(ctx, section, recycle, true)
	return key, err
}

// markStandalone sets Standalone on the depends-sections of sec named in
// names.
func markStandalone(sec *state.Section, names []string, seen map[*state.Section]bool) {
	for _, d := range sec.Depends {
		if seen[d] {
			continue
		}
		seen[d] = true
		d.Standalone = slices.Contains(names, d.Name)
		markStandalone(d, names, seen)
	}
}
