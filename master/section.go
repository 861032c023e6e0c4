package master

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"piuparts-server/internal/config"
	"piuparts-server/internal/piuparts"
	"piuparts-server/master/state"
	"piuparts-server/store"
)

// ErrDependsCycle means the depends-sections of the config form a cycle.
var ErrDependsCycle = errors.New("master: depends-sections form a cycle")

// errComputeWait means another connection held the section's compute lock
// for longer than Config.ComputeWait.
var errComputeWait = errors.New("master: waited too long for another connection computing the states")

// session is the chosen section of a connection, as the reference's
// _init_section resets it.
type session struct {
	name    string
	conf    *config.Section
	recycle bool
	idle    int8 // 0 unknown, 1 idle (stamp written), -1 not idle (stamp removed)

	// loaded is set once the states are known in the database for this
	// session (the reference's _init_db): recycle is then too late.
	loaded   bool
	loadedAt time.Time
	// treeAtLoad is the latest change of the log directories seen when
	// the states were loaded.
	treeAtLoad time.Time
	// after is the rank (store.PackageState.Rank) of the last candidate
	// reserve passed: later reserves of this session continue after it.
	after int
	// res is the computed result, when this session computed it (cold
	// start) or a debug command needed it.
	res *state.Result
}

// cmdSection chooses (or switches to) a section.
func (c *conn) cmdSection(ctx context.Context, name string) error {
	c.sec = nil
	conf, err := c.cfg.Piuparts.Section(name)
	if err != nil {
		c.log.Info().Str("section", name).Msg("unknown section")
		return c.fail()
	}
	if err := c.ensureDirs(name); err != nil {
		c.log.Error().Err(err).Str("section", name).Msg("section")
		return c.fail()
	}
	c.switchLog(conf.MasterLogFile())
	// A database that cannot even be read is the one reason to be busy:
	// the reference is busy when another connection holds the section.
	if _, err := c.cfg.DB.Section(ctx, name); err != nil && !errors.Is(err, store.ErrNoSection) {
		c.log.Error().Err(err).Str("section", name).Msg("section busy")
		return c.busy()
	}
	c.sec = &session{name: name, conf: conf}
	c.log.Debug().Str("section", name).Str("slave", c.holder).Msg("connected")
	return c.ok()
}

// cmdRecycle turns recycle mode on when there is something to recycle, as
// enable_recycling does: not after the states were loaded.
func (c *conn) cmdRecycle(context.Context) error {
	s := c.sec
	if s.recycle {
		return c.ok()
	}
	if s.loaded {
		c.log.Info().Str("section", s.name).Msg("too late for recycling")
		return c.fail()
	}
	found, err := hasAnyLog(c.kindDir(s.name, store.KindRecycle))
	if err != nil {
		return fmt.Errorf("recycle in %s: %w", s.name, err)
	}
	if !found {
		c.log.Info().Str("section", s.name).Msg("nothing to recycle")
		return c.fail()
	}
	s.recycle = true
	s.idle = 0
	return c.ok()
}

// cmdStatus answers the number of packages in each active state.
func (c *conn) cmdStatus(ctx context.Context) error {
	s := c.sec
	if err := c.ensureStates(ctx); err != nil {
		return c.answerTrouble(err, "status")
	}
	var args []string
	if s.recycle {
		args = append(args, "(recycle)")
	}
	var counts map[string]int
	if s.res != nil {
		counts = make(map[string]int)
		for _, sc := range s.res.Status() {
			counts[sc.State] = sc.Count
		}
	} else {
		var err error
		if counts, err = c.cfg.DB.StateCounts(ctx, s.name); err != nil {
			return c.answerTrouble(err, "status")
		}
	}
	total := 0
	for _, st := range state.ActiveStates() {
		n := counts[st]
		total += n
		args = append(args, st+"="+strconv.Itoa(n))
	}
	args = append(args, "total="+strconv.Itoa(total))
	return c.ok(args...)
}

// answerTrouble logs a storage or archive failure that keeps the master
// from answering a command, and answers error: the slave tries again later.
func (c *conn) answerTrouble(err error, what string) error {
	c.log.Error().Err(err).Str("section", c.sec.name).Str("command", what).Msg("cannot answer")
	return c.fail()
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

// contentKeys sets the content key of a section and its depends-sections:
// the one stored with the section's packages while the files' stat is
// unchanged, else a hash of the files' contents (so that touching or
// rewriting a Packages file with the same contents changes nothing).
func (c *conn) contentKeys(ctx context.Context, root *secInput) error {
	seen := make(map[*secInput]bool)
	var walk func(*secInput) error
	walk = func(in *secInput) error {
		if seen[in] {
			return nil
		}
		seen[in] = true
		row, err := c.cfg.DB.Section(ctx, in.conf.Name)
		if err != nil && !errors.Is(err, store.ErrNoSection) {
			return err
		}
		stat := in.archiveKey()
		if row.Packages.Stat == stat && row.Packages.SHA256 != "" {
			in.content = row.Packages.SHA256
		} else if content, ok := c.contents[stat]; ok {
			in.content = content
			in.touched = row.Packages.SHA256 == in.content && !row.PackagesUpdatedAt.IsZero()
		} else {
			if in.content, err = contentKey(ctx, in.urls, in.final, in.fps); err != nil {
				return fmt.Errorf("section %s: %w", in.conf.Name, err)
			}
			if c.contents == nil {
				c.contents = make(map[string]string)
			}
			c.contents[stat] = in.content
			in.touched = row.Packages.SHA256 == in.content && !row.PackagesUpdatedAt.IsZero()
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

// recordTouched records the new stat of the sections whose Packages files
// were touched without changing, so later connections need not hash them.
func (c *conn) recordTouched(ctx context.Context, root *secInput) {
	seen := make(map[*secInput]bool)
	var walk func(*secInput)
	walk = func(in *secInput) {
		if seen[in] {
			return
		}
		seen[in] = true
		if in.touched {
			err := c.cfg.DB.SetPackagesFingerprint(ctx, in.conf.Name, in.archiveFingerprint())
			if err != nil {
				c.log.Warn().Err(err).Str("section", in.conf.Name).Msg("cannot record packages fingerprint")
			} else {
				in.touched = false
				c.log.Info().Str("section", in.conf.Name).Msg("packages files touched, contents unchanged")
			}
		}
		for _, d := range in.deps {
			walk(d)
		}
	}
	walk(root)
}

// gather collects the inputs of a section and its depends-sections: the
// Packages fingerprints and the log directories' stamps. It creates the
// depends-sections' directories.
func (c *conn) gather(ctx context.Context, name string) (*secInput, error) {
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
		conf, err := c.cfg.Piuparts.Section(name)
		if err != nil {
			return nil, err
		}
		if err := c.ensureDirs(name); err != nil {
			return nil, err
		}
		in := &secInput{conf: conf}
		if in.urls, in.final, err = archiveURLs(c.cfg.Piuparts, conf); err != nil {
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

// ensureStates makes sure the database holds the states of the session's
// section for its current inputs, computing them if needed (the
// reference's _init_db), and sets the session's candidates.
func (c *conn) ensureStates(ctx context.Context) error {
	s := c.sec
	if s.loaded {
		return nil
	}
	start := c.cfg.now()
	latest, err := c.latestMtime(s.name)
	if err != nil {
		return err
	}
	s.treeAtLoad = latest
	if ok, err := c.loadCached(ctx); err != nil || ok {
		if ok {
			s.loaded, s.loadedAt = true, start
			c.log.Debug().Str("section", s.name).Dur("dur", time.Since(start)).Msg("states from cache")
		}
		return err
	}
	unlock, err := c.lockCompute(ctx, s.name)
	if err != nil {
		return err
	}
	defer unlock()
	// Another connection may have computed them while this one waited.
	if ok, err := c.loadCached(ctx); err != nil || ok {
		if ok {
			s.loaded, s.loadedAt = true, start
		}
		return err
	}
	if err := c.computeStates(ctx); err != nil {
		return err
	}
	s.loaded, s.loadedAt = true, start
	c.log.Info().Str("section", s.name).Dur("dur", time.Since(start)).Msg("states computed")
	return nil
}

// loadCached reports whether the database holds the session's states for
// their current inputs; reserve then starts at the first candidate.
func (c *conn) loadCached(ctx context.Context) (bool, error) {
	s := c.sec
	in, err := c.gather(ctx, s.name)
	if err != nil {
		return false, err
	}
	if err := c.contentKeys(ctx, in); err != nil {
		return false, err
	}
	row, err := c.cfg.DB.Section(ctx, s.name)
	if errors.Is(err, store.ErrNoSection) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if row.StatesInputs != in.statesKey(s.recycle, row.Generation) || row.StatesComputedAt.IsZero() {
		return false, nil
	}
	c.recordTouched(ctx, in)
	s.after = 0
	return true, nil
}

// lockCompute takes SECTION/.compute.lock, so that one connection at a
// time computes a section's states while the others wait and then use
// them. It returns the function that releases the lock.
func (c *conn) lockCompute(ctx context.Context, section string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(c.cfg.Dir, section, ".compute.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", section, err)
	}
	wait := c.cfg.ComputeWait
	if wait <= 0 {
		wait = DefaultComputeWait
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", section, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", section, errComputeWait)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
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
func startLoads(ctx context.Context, root *secInput) (loads map[*secInput]*archiveLoad, wait func()) {
	loads = make(map[*secInput]*archiveLoad)
	var walk func(*secInput)
	walk = func(in *secInput) {
		if loads[in] != nil {
			return
		}
		l := &archiveLoad{done: make(chan struct{})}
		loads[in] = l
		go func() {
			defer close(l.done)
			if l.data, l.err = loadArchive(ctx, in.urls, in.final); l.err == nil {
				l.pkgs, l.err = l.data.statePackages()
			}
			if l.err != nil {
				l.err = fmt.Errorf("section %s: %w", in.conf.Name, l.err)
			}
		}()
		for _, d := range in.deps {
			walk(d)
		}
	}
	walk(root)
	return loads, func() {
		for _, l := range loads {
			<-l.done
		}
	}
}

// buildSections takes the archive data of a section and its
// depends-sections from loads and lists their logs, for the state
// algorithm. It returns the loaded archive data of the section itself too.
func (c *conn) buildSections(in *secInput, recycle bool, ls listing, loads map[*secInput]*archiveLoad) (*state.Section, *loaded, error) {
	built := make(map[*secInput]*state.Section)
	var rootData *loaded
	var build func(*secInput, bool) (*state.Section, error)
	build = func(in *secInput, root bool) (*state.Section, error) {
		if s, ok := built[in]; ok {
			return s, nil
		}
		logs, _, err := c.listLogs(in.conf.Name, ls)
		if err != nil {
			return nil, err
		}
		load := loads[in]
		<-load.done
		if load.err != nil {
			return nil, load.err
		}
		data, pkgs := load.data, load.pkgs
		s := &state.Section{Name: in.conf.Name, Packages: pkgs, Logs: logs, Recycle: root && recycle}
		for _, d := range in.deps {
			ds, err := build(d, false)
			if err != nil {
				return nil, err
			}
			s.Depends = append(s.Depends, ds)
		}
		if root {
			rootData = data
		}
		built[in] = s
		return s, nil
	}
	root, err := build(in, true)
	return root, rootData, err
}

// computeStates computes the session's states from the archive and the
// log tree and stores them, with the candidates, under their inputs' key.
func (c *conn) computeStates(ctx context.Context) error {
	s := c.sec
	now := c.cfg.now()
	// The index must know the recycle markers (store.Reserve honours them)
	// and forget logs someone removed, before the generation is read.
	// The inputs' stamps are taken before the directories are listed: a
	// log that arrives in between makes the stored key older than the
	// states, and the next connection computes them again.
	in, err := c.gather(ctx, s.name)
	if err != nil {
		return err
	}
	t0 := time.Now()
	loadCtx, cancel := context.WithCancel(ctx)
	loads, wait := startLoads(loadCtx, in)
	defer wait()
	defer cancel()
	ls := make(listing)
	if err := c.reconcileIndex(ctx, s.name, now, ls); err != nil {
		return err
	}
	root, data, err := c.buildSections(in, s.recycle, ls, loads)
	if err != nil {
		return err
	}
	// The store's order, sorted on another core while this one computes.
	data.startSort()
	defer data.waitSort()
	t1 := time.Now()
	res, err := state.Compute(root)
	if err != nil {
		return fmt.Errorf("compute states of %s: %w", s.name, err)
	}
	t2 := time.Now()
	var tPackages, tCandidates time.Time
	defer func() {
		c.log.Debug().Str("section", s.name).Dur("load", t1.Sub(t0)).Dur("compute", t2.Sub(t1)).
			Dur("candidates", tCandidates.Sub(t2)).Dur("packages", tPackages.Sub(tCandidates)).
			Dur("states", time.Since(tPackages)).Dur("store", time.Since(t2)).Msg("computation")
	}()
	if err := c.contentKeys(ctx, in); err != nil {
		return err
	}
	row, err := c.cfg.DB.Section(ctx, s.name)
	if err != nil && !errors.Is(err, store.ErrNoSection) {
		return err
	}
	// A new package list is written on another core while this one
	// orders the candidates (SQLite lets them read while it writes).
	byRef := data.entries(res)
	var replaced chan error
	if fp := in.archiveFingerprint(); row.Packages.SHA256 != fp.SHA256 || row.PackagesUpdatedAt.IsZero() {
		replaced = make(chan error, 1)
		go func() { replaced <- c.cfg.DB.ReplacePackages(ctx, s.name, fp, now, data.storePackages(byRef)) }()
	}
	var states []store.PackageState
	cands, err := c.candidates(ctx, res)
	if err == nil {
		states = data.storeStates(byRef, cands)
	}
	tCandidates = time.Now()
	if replaced != nil {
		if rerr := <-replaced; err == nil {
			err = rerr
		}
	}
	if err != nil {
		return err
	}
	if replaced != nil {
		in.touched = false
		c.log.Info().Str("section", s.name).Int("packages", len(data.pkgs)).Msg("packages loaded")
		if row, err = c.cfg.DB.Section(ctx, s.name); err != nil {
			return err
		}
	}
	c.recordTouched(ctx, in)
	tPackages = time.Now()
	key := in.statesKey(s.recycle, row.Generation)
	if err := c.cfg.DB.SetStates(ctx, s.name, key, now, states); err != nil {
		return err
	}
	s.res, s.after = res, 0
	return nil
}

// candidates returns the names to try for reserve, best first: the
// algorithm's candidates, then the waiting packages it left out because of
// a reserved/ marker that belongs to a reservation of this master (they come
// back when the lease ends or the slave unreserves them).
func (c *conn) candidates(ctx context.Context, res *state.Result) ([]string, error) {
	list := res.Candidates(rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())))
	out := make([]string, 0, len(list))
	in := make(map[string]bool, len(list))
	for _, cd := range list {
		out = append(out, cd.Name)
		in[cd.Name] = true
	}
	rs, err := c.cfg.DB.Reservations(ctx, c.sec.name)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if in[r.Package] || res.State(r.Package) != state.WaitingToBeTested {
			continue
		}
		out = append(out, r.Package)
		in[r.Package] = true
	}
	return out, nil
}

// reconcileIndex brings the log index of a section in line with the tree
// where reserve depends on it: index entries whose file is gone are
// dropped, and recycle/ markers the index lacks are added. It reads the
// directories through ls.
func (c *conn) reconcileIndex(ctx context.Context, section string, now time.Time, ls listing) error {
	for _, k := range append(slices.Clone(resultKinds), store.KindRecycle) {
		indexed, err := c.cfg.DB.LogNames(ctx, section, k)
		if err != nil {
			return err
		}
		// One listing of the directory, read after the index, instead
		// of a stat per indexed log (tens of thousands in a farm): a log
		// the index has and the listing lacks was removed.
		names, err := ls.names(c.kindDir(section, k))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
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
			entries, err := c.cfg.DB.Logs(ctx, section, k)
			if err != nil {
				return err
			}
			for _, e := range entries {
				if present[piuparts.LogName(e.Package, e.Version)] {
					continue
				}
				if _, err := c.cfg.DB.RemoveLog(ctx, section, k, e.Package, e.Version); err != nil {
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
			if err := c.indexExisting(ctx, section, k, pkg, version, now); err != nil && !errors.Is(err, store.ErrDuplicate) {
				return err
			}
		}
	}
	return nil
}

// indexExisting adds a log file that is in the tree to the index.
func (c *conn) indexExisting(ctx context.Context, section string, k store.Kind, pkg, version string, now time.Time) error {
	lf, err := c.tree.StatLog(section, k, pkg, version)
	if err != nil {
		return err
	}
	return c.cfg.DB.AddLog(ctx, store.LogEntry{
		Section: section, Kind: k, Package: pkg, Version: version,
		Path: lf.Path, Size: lf.Size, SHA256: lf.SHA256, SubmittedAt: now,
	})
}

// ensureResult makes sure the session has the computed result in memory,
// for the debug commands.
func (c *conn) ensureResult(ctx context.Context) (*state.Result, error) {
	s := c.sec
	if err := c.ensureStates(ctx); err != nil {
		return nil, err
	}
	if s.res != nil {
		return s.res, nil
	}
	in, err := c.gather(ctx, s.name)
	if err != nil {
		return nil, err
	}
	loadCtx, cancel := context.WithCancel(ctx)
	loads, wait := startLoads(loadCtx, in)
	root, _, err := c.buildSections(in, s.recycle, make(listing), loads)
	cancel()
	wait()
	if err != nil {
		return nil, err
	}
	res, err := state.Compute(root)
	if err != nil {
		return nil, fmt.Errorf("compute states of %s: %w", s.name, err)
	}
	s.res = res
	return res, nil
}
