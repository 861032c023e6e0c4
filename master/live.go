package master

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"piuparts-server/internal/piuparts"
	"piuparts-server/master/state"
	"piuparts-server/store"
)

// A live cache ([Cache.Live]) is the state cache of a long-lived master
// (the master server, see [Server]). It keeps each section's archive
// prepared in memory ([state.Engine]) with the logs it knows, learns the
// changes this process makes to the tree from the verbs that make them
// ([Cache.Own]), and after each change computes the states again on the
// prepared tables and stores them: a new log costs a computation in
// memory, not a load of the archive and a listing of the tree per
// connection. Changes made by anyone else (another process, Debian's
// scripts, an operator moving files) are found as before, by the inputs'
// key (Packages files, log directories, the index's generation): when the
// key is not the one the process's own changes lead to, the section's
// directories are listed again.

// liveSection is what a live cache keeps of one section.
type liveSection struct {
	name string
	// wmu orders this process's changes of the section (Own) and the
	// reading of the inputs' key that a computation starts from.
	wmu sync.Mutex
	// cmu lets one computation at a time use the engine.
	cmu sync.Mutex
	// rmu orders this process's reservations (Own without keyed) with
	// the listing of reserved/ (see reserved), which also holds wmu.
	rmu sync.Mutex

	mu sync.Mutex // guards what follows
	// en is the prepared archive; only a holder of cmu uses it. It is
	// nil until the first computation, and again when the archive
	// changed.
	en      *state.Engine
	data    *loaded
	archive string          // the content keys en was built from
	members map[string]bool // the section and its depends-sections
	// key is the inputs' key that the engine's logs, with pending
	// applied, correspond to; stale says they may not (a change this
	// process did not learn the details of, or a key that was not the
	// expected one): the directories are listed again.
	key     string
	stale   bool
	pending []logChange
	// reserved holds, for the section and each depends-section, the
	// names in its reserved/ directory that the engine's markers, with
	// pending applied, correspond to; nil until the first listing. The
	// inputs' key leaves reserved/ out (a reservation through the protocol
	// changes no state), but a marker made or removed by anyone else
	// does: piupartslib's state of a reserved package without a log is
	// waiting-to-be-tested, whatever its dependencies' states. (The
	// directory's time would not do: on this kernel it is not monotonic
	// from one change to the next.)
	reserved map[string]map[string]bool
	// changes counts the changes learnt; computed is its value when the
	// stored states were computed.
	changes, computed uint64
	// stored is the key the last computation stored the states under,
	// ranks the reserve order it stored.
	stored string
	ranks  *ranking
	res    *state.Result
	// running and again: a background computation runs, and another is
	// wanted after it; began is when the last one began.
	running, again bool
	began          time.Time
}

// logChange is one log or marker that appeared (present) or went.
type logChange struct {
	section string
	kind    store.Kind
	pkg     string
	version string
	present bool
}

// liveSection returns the live state of a section, creating it.
func (c *Cache) liveSection(name string) *liveSection {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.live == nil {
		c.live = make(map[string]*liveSection)
	}
	l, ok := c.live[name]
	if !ok {
		l = &liveSection{name: name, stale: true}
		c.live[name] = l
	}
	return l
}

// livesWith returns the live sections whose states depend on section.
func (c *Cache) livesWith(section string) []*liveSection {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*liveSection
	for _, l := range c.live {
		l.mu.Lock()
		if l.name == section || l.members[section] {
			out = append(out, l)
		}
		l.mu.Unlock()
	}
	return out
}

// inputsKey returns the inputs and the key of the section's states as a
// non-recycle computation would store them; with create, it creates the
// sections' directories (see gatherInputs).
func (c *Cache) inputsKey(ctx context.Context, section string, create bool) (*secInput, string, error) {
	return c.keyOf(ctx, section, false, create)
}

// keyOf returns the inputs of a section and the key of its states, in
// recycle mode or not; with create, it creates the sections' directories.
func (c *Cache) keyOf(ctx context.Context, section string, recycle, create bool) (*secInput, string, error) {
	in, err := c.gatherInputs(ctx, section, create)
	if err != nil {
		return nil, "", err
	}
	if err := c.contentKeys(ctx, in); err != nil {
		return nil, "", err
	}
	var generation int64
	row, err := c.DB.Section(ctx, section)
	switch {
	case err == nil:
		generation = row.Generation
	case !errors.Is(err, store.ErrNoSection):
		return nil, "", err
	}
	return in, in.statesKey(recycle, generation), nil
}

// Own runs fn, which changes the log tree and the index of a section
// through the store, and makes a live cache learn what it changed: fn
// returns the logs and markers that appeared or went, and whether that is
// all it changed (false after a failure part way: the section's
// directories are then listed again). With keyed, the change may alter the
// inputs' key (a log, a recycle/ marker): the key is read before and after
// fn, under a lock that orders this process's changes of the section, and
// the states are computed again on ctx in the background. Without keyed
// (a reserved/ marker), only the engine's logs learn it. Own returns fn's
// error. Outside a live cache it only runs fn.
func (c *Cache) Own(ctx context.Context, section string, keyed bool, fn func() ([]logChange, bool, error)) error {
	if !c.Live {
		_, _, err := fn()
		return err
	}
	l := c.liveSection(section)
	if !keyed {
		// A reserved/ marker leaves the key as it is: no order to keep
		// with the other changes (the engine applies each as a fact),
		// only with the reading of reserved/'s time around it. Every
		// live section holding this one learns it.
		l.rmu.Lock()
		changes, clean, ferr := fn()
		lives := c.livesWith(section)
		for _, o := range lives {
			o.mu.Lock()
			o.pending = append(o.pending, changes...)
			o.changes++
			o.explainReserved(changes, clean)
			o.mu.Unlock()
		}
		l.rmu.Unlock()
		return ferr
	}
	// Not rmu: the reserved/ markers a keyed change removes (a
	// submission's) are listed only under wmu, which it holds, and
	// reserves, which take rmu, go on meanwhile (they make markers of
	// other packages: a package being submitted is still reserved, or
	// has its log).
	l.wmu.Lock()
	var before string
	if keyed {
		var err error
		if _, before, err = c.inputsKey(ctx, section, false); err != nil {
			before = ""
		}
	}
	changes, clean, ferr := fn()
	var after string
	if keyed {
		var err error
		if _, after, err = c.inputsKey(ctx, section, false); err != nil {
			after, clean = "", false
		}
	}
	l.mu.Lock()
	l.pending = append(l.pending, changes...)
	l.changes++
	if keyed {
		if !clean || before == "" || before != l.key {
			c.Log.Debug().Str("section", section).Bool("clean", clean).Bool("expected", before == l.key).Msg("change not explained by this process: the directories are listed again")
			l.stale = true
		}
		l.key = after
	}
	l.explainReserved(changes, clean)
	l.mu.Unlock()
	l.wmu.Unlock()
	// The sections that depend on this one list it again.
	for _, o := range c.livesWith(section) {
		if o == l {
			continue
		}
		o.mu.Lock()
		o.stale = true
		o.changes++
		o.mu.Unlock()
	}
	if keyed {
		for _, o := range c.livesWith(section) {
			c.schedule(ctx, o)
		}
	}
	return ferr
}

// reservedNames lists the reserved/ markers of each section of in.
func (c *Cache) reservedNames(in *secInput) (map[string]map[string]bool, error) {
	out := make(map[string]map[string]bool)
	err := walkInputs(in, func(s *secInput) error {
		names, err := c.tree().List(s.conf.Name, store.KindReserved)
		if err != nil {
			return err
		}
		set := make(map[string]bool, len(names))
		for _, n := range names {
			if _, _, ok := piuparts.ParseLogName(n); ok {
				set[n] = true
			}
		}
		out[s.conf.Name] = set
		return nil
	})
	return out, err
}

// explainReserved records the reserved/ markers this process's changes
// made or removed; after a change that failed part way, the directories
// are listed again. l.mu is held.
func (l *liveSection) explainReserved(changes []logChange, clean bool) {
	if l.reserved == nil {
		return // not listed yet: the first computation lists them
	}
	if !clean {
		l.stale = true
	}
	for _, ch := range changes {
		if ch.kind != store.KindReserved {
			continue
		}
		set, ok := l.reserved[ch.section]
		if !ok {
			continue
		}
		name := piuparts.LogName(ch.pkg, ch.version)
		if ch.present {
			set[name] = true
		} else {
			delete(set, name)
		}
	}
}

// sameReserved reports whether two listings of reserved/ markers agree.
func sameReserved(a, b map[string]map[string]bool) bool {
	return maps.EqualFunc(a, b, func(x, y map[string]bool) bool { return maps.Equal(x, y) })
}

// Changed tells a live cache that this process changed the section's tree
// in a way it did not learn the details of (expired leases, an
// unreserve): its directories are listed again before the next
// computation, which starts in the background.
func (c *Cache) Changed(ctx context.Context, section string) {
	if !c.Live {
		return
	}
	for _, l := range append(c.livesWith(section), c.liveSection(section)) {
		l.mu.Lock()
		l.stale = true
		l.changes++
		l.mu.Unlock()
		c.schedule(ctx, l)
	}
}

// computeEvery is the least time between two background computations of
// a section: under a farm's load, one computation takes in the changes of
// many logs.
const computeEvery = 500 * time.Millisecond

// schedule computes a live section's states in the background, once more
// after the running computation if one runs, no sooner than computeEvery
// after the last one began.
func (c *Cache) schedule(ctx context.Context, l *liveSection) {
	l.mu.Lock()
	if l.running {
		l.again = true
		l.mu.Unlock()
		return
	}
	l.running = true
	l.mu.Unlock()
	go func() {
		for {
			l.mu.Lock()
			wait := computeEvery - time.Since(l.began)
			l.mu.Unlock()
			if wait > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(wait):
				}
			}
			l.mu.Lock()
			l.began = time.Now()
			l.mu.Unlock()
			if _, err := c.computeLive(ctx, l, false); err != nil && ctx.Err() == nil {
				c.Log.Error().Err(err).Str("section", l.name).Msg("cannot compute states")
			}
			l.mu.Lock()
			if !l.again || ctx.Err() != nil {
				l.running = false
				l.mu.Unlock()
				return
			}
			l.again = false
			l.mu.Unlock()
		}
	}()
}

// refreshLive is Refresh in a live cache, outside recycle mode. With
// exact, the states must reflect every change this process learnt and the
// inputs as they are now (status and the debug commands); without it
// (reserve), states that a background computation is bringing up to date
// with this process's own changes will do: reserve checks logs and
// reservations itself.
func (c *Cache) refreshLive(ctx context.Context, section string, exact bool) (Fresh, error) {
	f := Fresh{At: c.now()}
	latest, err := c.latestChange(section)
	if err != nil {
		return f, err
	}
	f.TreeAt = latest
	l := c.liveSection(section)
	// While a change of this process is under way (a group of logs being
	// indexed), a reserve, which checks logs and reservations itself,
	// takes the states this process stored last rather than wait for the
	// change to end: the computation the change scheduled brings them up
	// to date, and it, or the next refresh that finds no change under way,
	// finds what anyone else changed.
	locked := !exact && l.wmu.TryLock()
	if !locked && !exact && c.ownStatesStored(ctx, l) {
		c.schedule(ctx, l)
		return f, nil
	}
	// The key as this process's changes leave it, not in the middle of
	// one, compared with what the live section knows before another
	// change.
	if !locked {
		l.wmu.Lock()
	}
	in, key, err := c.inputsKey(ctx, section, true)
	if err != nil {
		l.wmu.Unlock()
		return f, err
	}
	row, err := c.DB.Section(ctx, section)
	if err != nil && !errors.Is(err, store.ErrNoSection) {
		l.wmu.Unlock()
		return f, err
	}
	usable := err == nil && !row.StatesComputedAt.IsZero() && !row.StatesRecycle
	// A reserved/ marker made or removed by someone else changes no key:
	// the markers are not those this process's changes left. Listed
	// and compared while no reservation of this process is half done or
	// being recorded (a reserve records its marker after making it).
	l.rmu.Lock()
	markers, merr := c.reservedNames(in)
	if merr != nil {
		l.rmu.Unlock()
		l.wmu.Unlock()
		return f, merr
	}
	l.mu.Lock()
	handReserved := false
	if l.reserved != nil && !sameReserved(l.reserved, markers) {
		c.Log.Debug().Str("section", section).Msg("reserved/ changed by someone else: the directories are listed again")
		l.stale = true
		l.changes++
		handReserved = true
	}
	l.rmu.Unlock()
	current := usable && row.StatesInputs == key && l.stored == key && l.computed == l.changes && l.res != nil
	catchingUp := usable && !l.stale && l.key == key && l.res != nil
	res := l.res
	l.mu.Unlock()
	l.wmu.Unlock()
	switch {
	case current:
		f.Result = res
		return f, nil
	case !exact && catchingUp:
		c.schedule(ctx, l)
		return f, nil
	case !exact && usable && row.StatesInputs == key:
		// Stored by another process for the inputs as they are, or
		// by this one before reserved/ changed by hand: reserve checks
		// the markers itself.
		if handReserved {
			c.schedule(ctx, l)
		}
		return f, nil
	}
	if f.Result, err = c.computeLive(ctx, l, true); err != nil {
		return f, err
	}
	return f, nil
}

// ownStatesStored reports whether the states stored for a live section are
// the last this process stored, outside recycle mode, and it knows of no
// change it did not make itself.
func (c *Cache) ownStatesStored(ctx context.Context, l *liveSection) bool {
	row, err := c.DB.Section(ctx, l.name)
	if err != nil || row.StatesComputedAt.IsZero() || row.StatesRecycle {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.stale && l.res != nil && l.stored != "" && l.stored == row.StatesInputs
}

// computeLive brings a live section's engine up to date and computes and
// stores its states: the changes learnt, or a listing of the directories
// when those may not be all, or a load of the archive when it changed.
// Without create (in the background) it creates no file: it loads no
// archive, leaving that to the next connection, and returns a nil Result.
func (c *Cache) computeLive(ctx context.Context, l *liveSection, create bool) (*state.Result, error) {
	l.cmu.Lock()
	defer l.cmu.Unlock()
	section := l.name
	t0 := time.Now()
	// The inputs' key, read while this process changes nothing. A load or
	// a listing changes the index itself (new packages, reconciled
	// logs): this process's changes wait until the states are stored and
	// the key is read again.
	l.wmu.Lock()
	locked := true
	unlock := func() {
		if locked {
			locked = false
			l.wmu.Unlock()
		}
	}
	defer unlock()
	in, key, err := c.inputsKey(ctx, section, create)
	if err != nil {
		return nil, err
	}
	archive := archiveOf(in)
	// The reserved/ markers a listing is to correspond to, listed before
	// it while no reservation of this process is half done: this
	// process's changes during the listing are applied to them, and a
	// change by anyone else after it is found at the next refresh.
	l.rmu.Lock()
	markers, err := c.reservedNames(in)
	if err != nil {
		l.rmu.Unlock()
		return nil, err
	}
	l.mu.Lock()
	rebuild := l.en == nil || l.archive != archive
	if !create && rebuild {
		l.mu.Unlock()
		l.rmu.Unlock()
		return nil, nil
	}
	pending := l.pending
	l.pending = nil
	relist := l.stale || l.key != key
	l.key, l.stale = key, false
	changes := l.changes
	if rebuild || relist {
		l.reserved = markers
	}
	l.mu.Unlock()
	l.rmu.Unlock()
	if !rebuild && !relist {
		unlock()
	}

	how := "changes"
	switch {
	case rebuild:
		how = "load"
		p, err := c.prepare(ctx, section, false)
		if err != nil {
			c.markStale(l)
			return nil, err
		}
		en, err := state.NewEngine(p.root)
		p.wait()
		if err != nil {
			c.markStale(l)
			return nil, fmt.Errorf("compute states of %s: %w", section, err)
		}
		members := make(map[string]bool)
		for _, s := range en.Sections() {
			members[s] = true
		}
		l.mu.Lock()
		l.en, l.data, l.archive, l.members = en, p.data, archive, members
		l.mu.Unlock()
		in = p.in
	case relist:
		how = "listing"
		if err := c.relist(ctx, l, in); err != nil {
			c.markStale(l)
			return nil, err
		}
	default:
		for _, ch := range pending {
			l.en.SetLog(ch.section, stateKind[ch.kind], ch.pkg, ch.version, ch.present)
		}
	}
	t1 := time.Now()
	res := l.en.Compute(false)
	t2 := time.Now()
	now := c.now()
	stored := false
	if !rebuild && !relist {
		if stored, err = c.updateLive(ctx, l, key, res, now); err != nil {
			c.markStale(l)
			return nil, err
		}
	}
	if !stored {
		cands, err := c.store(ctx, in, false, now, l.data, res, rankGap)
		if err != nil {
			c.markStale(l)
			return nil, err
		}
		// The key the states were stored under, as store computed it.
		row, err := c.DB.Section(ctx, section)
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		l.stored, l.ranks = row.StatesInputs, newRanking(cands, now)
		l.mu.Unlock()
		if locked {
			// The index as the load or the listing left it.
			_, key, err := c.inputsKey(ctx, section, create)
			if err != nil {
				c.markStale(l)
				return nil, err
			}
			l.mu.Lock()
			l.key = key
			l.mu.Unlock()
		}
	}
	unlock()
	l.mu.Lock()
	l.res, l.computed = res, changes
	l.mu.Unlock()
	c.Log.Debug().Str("section", section).Str("from", how).Int("changes", len(pending)).Bool("update", stored).
		Dur("prepare", t1.Sub(t0)).Dur("compute", t2.Sub(t1)).Dur("store", time.Since(t2)).Msg("live states")
	return res, nil
}

// rankGap is the distance between the ranks a full ranking gives (see
// Cache.store), which leaves room for the ranks of later candidates.
const rankGap = 1 << 10

// rerankAfter is how long a live section ranks new candidates among the
// old ones before it ranks them all afresh: the old ones' weights change
// as their dependencies' states do.
const rerankAfter = time.Minute

// ranking is the reserve order a live section stored: every candidate's
// rank and weight, by rank.
type ranking struct {
	at    time.Time
	rank  map[string]int
	order []rankedCandidate
}

type rankedCandidate struct {
	rank int
	w    state.Weight
	name string
}

// newRanking records a full ranking of cands (best first, ranked by
// Cache.store with rankGap).
func newRanking(cands []state.Candidate, at time.Time) *ranking {
	r := &ranking{at: at, rank: make(map[string]int, len(cands)), order: make([]rankedCandidate, len(cands))}
	for i, cd := range cands {
		rk := (i + 1) * rankGap
		r.rank[cd.Name] = rk
		r.order[i] = rankedCandidate{rank: rk, w: cd.Weight, name: cd.Name}
	}
	return r
}

// insert ranks new candidates (name and weight; rank ignored) among the
// ranking's and returns their ranks, in the order given. Each goes among
// the candidates that weigh as much, at a random place (piupartslib breaks
// ties at random), else after those that weigh more and before the first
// that weighs less. The order's weights never grow (the candidates are
// ranked best first and each new one goes where its weight belongs), so
// each place is found by binary search, and the order is rebuilt once. It
// returns false, changing nothing, when the ranks between two neighbours
// are too few for the new ones that go there.
func (r *ranking) insert(adds []rankedCandidate, rng *rand.Rand) ([]int, bool) {
	type slot struct {
		at, i int     // before r.order[at]; adds[i]
		x     float64 // the tie-break
	}
	slots := make([]slot, len(adds))
	for i, a := range adds {
		first := sort.Search(len(r.order), func(k int) bool { return r.order[k].w.Compare(a.w) <= 0 })
		end := first + sort.Search(len(r.order)-first, func(k int) bool { return r.order[first+k].w.Compare(a.w) < 0 })
		slots[i] = slot{at: first + rng.IntN(end-first+1), i: i, x: rng.Float64()}
	}
	slices.SortFunc(slots, func(a, b slot) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		if c := adds[b.i].w.Compare(adds[a.i].w); c != 0 {
			return c
		}
		return cmp.Compare(a.x, b.x)
	})
	ranks := make([]int, len(adds))
	for g := 0; g < len(slots); {
		at, m := slots[g].at, 1
		for g+m < len(slots) && slots[g+m].at == at {
			m++
		}
		lo := 0
		if at > 0 {
			lo = r.order[at-1].rank
		}
		hi := lo + (m+1)*rankGap
		if at < len(r.order) {
			hi = r.order[at].rank
		}
		if hi-lo < m+1 {
			return nil, false
		}
		for k := range m {
			ranks[slots[g+k].i] = lo + (hi-lo)*(k+1)/(m+1)
		}
		g += m
	}
	order := make([]rankedCandidate, 0, len(r.order)+len(adds))
	g := 0
	for at := 0; at <= len(r.order); at++ {
		for ; g < len(slots) && slots[g].at == at; g++ {
			a := adds[slots[g].i]
			a.rank = ranks[slots[g].i]
			order = append(order, a)
		}
		if at < len(r.order) {
			order = append(order, r.order[at])
		}
	}
	r.order = order
	for i, a := range adds {
		r.rank[a.name] = ranks[i]
	}
	return ranks, true
}

// updateLive stores the states res of a live section as an update of the
// ones it stored last (their changes, new candidates ranked among the old
// ones), when it can: it reports false when the states are to be stored
// whole (no earlier states of the same engine, another process stored
// some since, a ranking that is old or full).
func (c *Cache) updateLive(ctx context.Context, l *liveSection, key string, res *state.Result, now time.Time) (bool, error) {
	l.mu.Lock()
	old, prev, rk := l.res, l.stored, l.ranks
	l.mu.Unlock()
	if rk == nil || prev == "" || now.Sub(rk.at) > rerankAfter {
		return false, nil
	}
	changes, ok := res.Changes(old)
	if !ok {
		return false, nil
	}
	next := &ranking{at: rk.at, rank: make(map[string]int, len(rk.rank)), order: slices.Clone(rk.order)}
	for n, v := range rk.rank {
		next.rank[n] = v
	}
	u := store.StatesUpdate{Prev: prev, Inputs: key}
	leaving := make(map[string]bool)
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for _, ch := range changes {
		u.Changed = append(u.Changed, store.PackageState{Package: ch.Name, Version: ch.TestVersion, State: ch.State})
		if ch.Was == state.WaitingToBeTested {
			if _, ok := next.rank[ch.Name]; ok {
				u.Unranked = append(u.Unranked, ch.Name)
				delete(next.rank, ch.Name)
				leaving[ch.Name] = true
			}
		}
	}
	if len(leaving) > 0 {
		next.order = slices.DeleteFunc(next.order, func(e rankedCandidate) bool { return leaving[e.name] })
	}
	var (
		adds  []rankedCandidate
		added []state.Change
		seen  = make(map[string]bool)
	)
	for _, ch := range changes {
		if ch.State != state.WaitingToBeTested {
			continue
		}
		if _, ok := next.rank[ch.Name]; ok || seen[ch.Name] {
			continue
		}
		seen[ch.Name] = true
		w, _ := res.Weight(ch.Name)
		adds = append(adds, rankedCandidate{w: w, name: ch.Name})
		added = append(added, ch)
	}
	ranks, ok := next.insert(adds, rng)
	if !ok {
		return false, nil
	}
	for i, ch := range added {
		u.Ranked = append(u.Ranked, store.PackageState{Package: ch.Name, Version: ch.TestVersion, State: ch.State, Rank: ranks[i]})
	}
	applied, err := c.DB.UpdateStates(ctx, l.name, u, now)
	if err != nil || !applied {
		return false, err
	}
	l.mu.Lock()
	l.stored, l.ranks = key, next
	l.mu.Unlock()
	return true, nil
}

// markStale makes the next computation of a live section list its
// directories again (after a computation that failed part way).
func (c *Cache) markStale(l *liveSection) {
	l.mu.Lock()
	l.stale = true
	l.mu.Unlock()
}

// relist lists the log directories of a live section and its
// depends-sections again into its engine, after bringing the index in
// line with the tree.
func (c *Cache) relist(ctx context.Context, l *liveSection, in *secInput) error {
	ls := make(listing)
	if err := c.reconcileIndex(ctx, l.name, c.now(), ls); err != nil {
		return err
	}
	return walkInputs(in, func(s *secInput) error {
		logs, err := c.listLogs(s.conf.Name, ls)
		if err != nil {
			return err
		}
		l.en.ResetLogs(s.conf.Name, &logs)
		return nil
	})
}

// archiveOf identifies the archive data of a section and its
// depends-sections by their content keys.
func archiveOf(in *secInput) string {
	var b strings.Builder
	_ = walkInputs(in, func(s *secInput) error {
		fmt.Fprintf(&b, "%s=%s;", s.conf.Name, s.content)
		return nil
	})
	return b.String()
}

// submitted lists the changes a committed log made to the tree.
func submitted(in store.Incoming, rcv store.Received) []logChange {
	ch := []logChange{{section: in.Section, kind: in.Result, pkg: in.Package, version: in.Version, present: true}}
	for _, k := range rcv.Replaced {
		ch = append(ch, logChange{section: in.Section, kind: k, pkg: in.Package, version: in.Version})
	}
	// A submission removes the version's reserved/ marker (a retest);
	// saying so when there was none changes nothing.
	ch = append(ch, logChange{section: in.Section, kind: piuparts.KindReserved, pkg: in.Package, version: in.Version})
	return ch
}

// expireEvery is how often the reserves of a long-lived process release
// expired leases: leases are counted in seconds.
const expireEvery = time.Second

// expireDue reports whether a reserve at now is to release expired leases
// first: always outside a live cache (a connection's first reserve), else
// once every expireEvery.
func (c *Cache) expireDue(now time.Time) bool {
	if !c.Live {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.expiredAt.IsZero() && now.Sub(c.expiredAt) < expireEvery && !now.Before(c.expiredAt) {
		return false
	}
	c.expiredAt = now
	return true
}
