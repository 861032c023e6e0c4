package master

import (
	"context"

	"piuparts-server/store"
)

// maxGroup bounds how many logs one group commit takes.
const maxGroup = 256

// Committer commits the logs that the connections of one process receive
// in groups ([store.DB.Commit]): while a group is being made durable, the
// logs that arrive wait, and the next group takes them all, so that a
// directory, the index and submissions.txt are synced once for many logs.
// A group holds its section's lock (Cache.Own) while it is indexed
// ([store.DB.Index]), not while its lines of submissions.txt are appended
// and synced ([store.Group.Record]), which overlaps with the next group's
// indexing. Each log is still acknowledged only once it is durable. Run
// must be running for Commit to return.
type Committer struct {
	// DB is the store the logs go to.
	DB *store.DB
	// Cache learns what each group changed (Cache.Own).
	Cache *Cache

	reqs chan *commitReq
}

// commitReq is one log waiting for its group.
type commitReq struct {
	p    *store.Pending
	done chan store.Committed
}

// NewCommitter returns a Committer for db whose groups cache learns.
func NewCommitter(db *store.DB, cache *Cache) *Committer {
	return &Committer{DB: db, Cache: cache, reqs: make(chan *commitReq, maxGroup)}
}

// Commit hands a received log to the running committer and waits until
// its group is committed. It returns what happened to the log, or ctx's
// error in Err when ctx ended first (the log may still be committed, as if
// the answer had been lost: the slave sends it again).
func (cm *Committer) Commit(ctx context.Context, p *store.Pending) store.Committed {
	r := &commitReq{p: p, done: make(chan store.Committed, 1)}
	select {
	case cm.reqs <- r:
	case <-ctx.Done():
		p.Discard()
		return store.Committed{Err: ctx.Err()}
	}
	select {
	case c := <-r.done:
		return c
	case <-ctx.Done():
		return store.Committed{Err: ctx.Err()}
	}
}

// Run commits groups until ctx ends; what is queued then is committed
// first.
func (cm *Committer) Run(ctx context.Context) {
	var queue []*commitReq
	// recorded is closed when the last group's lines are recorded and its
	// logs answered.
	recorded := make(chan struct{})
	close(recorded)
	defer func() { <-recorded }()
	for {
		if len(queue) == 0 {
			select {
			case r := <-cm.reqs:
				queue = append(queue, r)
			default:
				// Nothing waits: no group follows the last one to mark
				// its lines written.
				<-recorded
				if err := cm.DB.FlushWritten(context.WithoutCancel(ctx)); err != nil {
					cm.Cache.Log.Warn().Err(err).Msg("cannot mark submissions written")
				}
				select {
				case r := <-cm.reqs:
					queue = append(queue, r)
				case <-ctx.Done():
					return
				}
			}
		}
		// Whatever else is waiting joins the group.
	drain:
		for len(queue) < maxGroup {
			select {
			case r := <-cm.reqs:
				queue = append(queue, r)
			default:
				break drain
			}
		}
		var group []*commitReq
		group, queue = takeGroup(queue)
		g := cm.index(context.WithoutCancel(ctx), group)
		// The groups' lines go to submissions.txt in their order.
		<-recorded
		done := make(chan struct{})
		recorded = done
		go func() {
			defer close(done)
			out := g.Record(context.WithoutCancel(ctx))
			for i, r := range group {
				r.done <- out[i]
			}
		}()
	}
}

// takeGroup splits the next group off queue: logs of the first one's
// section, each package version once (a second copy of one waits for the
// next group, where it is a duplicate).
func takeGroup(queue []*commitReq) (group, rest []*commitReq) {
	section := queue[0].p.Incoming().Section
	seen := make(map[[2]string]bool)
	for _, r := range queue {
		in := r.p.Incoming()
		key := [2]string{in.Package, in.Version}
		if in.Section != section || seen[key] {
			rest = append(rest, r)
			continue
		}
		seen[key] = true
		group = append(group, r)
	}
	return group, rest
}

// index indexes one group of one section, under the section's lock, and
// returns it to be recorded.
func (cm *Committer) index(ctx context.Context, group []*commitReq) *store.Group {
	section := group[0].p.Incoming().Section
	ps := make([]*store.Pending, len(group))
	for i, r := range group {
		ps[i] = r.p
	}
	var g *store.Group
	_ = cm.Cache.Own(ctx, section, true, func() ([]logChange, bool, error) {
		g = cm.DB.Index(ctx, ps)
		out := g.Indexed()
		var changes []logChange
		clean := true
		for i, c := range out {
			if c.Err != nil {
				clean = false
				continue
			}
			changes = append(changes, submitted(ps[i].Incoming(), c.Received)...)
		}
		return changes, clean, nil
	})
	return g
}
