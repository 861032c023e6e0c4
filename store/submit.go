package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"piuparts-server/internal/fsutil"
	"piuparts-server/internal/piuparts"
)

// ErrReadLog is wrapped by the error of [DB.Submit] when reading the log
// from its source failed (a connection dropped or a protocol error in the
// long part): nothing was stored, and the source is out of step.
var ErrReadLog = errors.New("store: reading the log failed")

// Incoming is a log a slave submits.
type Incoming struct {
	Section string
	Result  Kind // pass, fail or untestable
	Package string
	Version string
	By      string    // the slave, as the master names it
	At      time.Time // when it arrived: submissions.txt's EPOCH
}

// Received is what [DB.Submit] did with a log.
type Received struct {
	LogFile
	// Duplicate says the log was stored and indexed before: the
	// submission changed nothing (piuparts ignores it too).
	Duplicate bool
	// Recovered says the log was on disk but not indexed (a master died
	// between the two): this submission completed the earlier one.
	Recovered bool
	// Replaced lists the kinds of the version's older logs that were
	// removed because the version was reserved (a retest).
	Replaced []Kind
	// Holder is the holder of the reservation the log ended, "" if none.
	Holder string
}

// Submit stores a submitted log and everything that acknowledging it takes,
// in an order that loses nothing: the log is read whole into a temporary
// file and synced; then, for a reserved version (a retest), it replaces a
// log of the same name atomically (rename), otherwise it is linked under
// its name without replacing one (a log already there makes the submission
// a duplicate); the directory is synced. Only then are the version's older
// logs (in the other result directories) and its reserved/ marker removed,
// the log indexed, the submission recorded and the reservation dropped (one
// transaction), the known-problem report of the name's older log removed,
// and the line appended to SECTION/submissions.txt and synced. When Submit
// returns nil all of it is durable and the master may answer ok; a failure
// or a crash at any step leaves the previous acknowledged state whole, and
// the same submission sent again completes what was left. It is [DB.Receive]
// and then [DB.Commit] of that one log.
//
// The source r is read to its end even when storing fails, so that a
// stream it is part of stays in step. It returns an error wrapping
// [ErrReadLog] when r fails (nothing is stored), a *NameError or an error
// wrapping [ErrUnknownKind] for unsafe names or a kind that is not a
// result, ctx.Err(), or the error of the step that failed.
func (db *DB) Submit(ctx context.Context, in Incoming, r io.Reader) (Received, error) {
	p, err := db.Receive(ctx, in, r)
	if err != nil {
		return Received{}, err
	}
	c := db.Commit(ctx, []*Pending{p})[0]
	if c.Err == nil {
		if err := db.FlushWritten(ctx); err != nil {
			return c.Received, fmt.Errorf("submit %s log of %s %s in %s: %w", in.Result, quote(in.Package), quote(in.Version), quote(in.Section), err)
		}
	}
	return c.Received, c.Err
}

// FlushWritten marks in the index the submissions whose lines [DB.Commit]
// appended to submissions.txt: the next group's transaction does it, and
// so does a connection's start (WriteSubmissions) after a crash, so that
// this is only bookkeeping, called when no group follows.
func (db *DB) FlushWritten(ctx context.Context) error {
	ids := db.takeAppended()
	if len(ids) == 0 {
		return nil
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error { return markWritten(ctx, tx, ids) })
	if err != nil {
		db.putAppended(ids)
		return fmt.Errorf("mark submissions written: %w", err)
	}
	return nil
}

// takeAppended takes the ids of appended, unmarked submissions.
func (db *DB) takeAppended() []int64 {
	db.amu.Lock()
	defer db.amu.Unlock()
	ids := make([]int64, 0, len(db.appended))
	for id := range db.appended {
		ids = append(ids, id)
	}
	clear(db.appended)
	return ids
}

// putAppended gives back ids whose marking failed.
func (db *DB) putAppended(ids []int64) {
	db.amu.Lock()
	defer db.amu.Unlock()
	if db.appended == nil {
		db.appended = make(map[int64]bool)
	}
	for _, id := range ids {
		db.appended[id] = true
	}
}

// isAppended reports whether this process appended a submission's line,
// or is about to (a group indexed it and appends it next).
func (db *DB) isAppended(id int64) bool {
	db.amu.Lock()
	defer db.amu.Unlock()
	return db.appended[id] || db.committing[id]
}

// setCommitting records (on) or forgets a group's submission ids as being
// appended by it.
func (db *DB) setCommitting(ids []int64, on bool) {
	db.amu.Lock()
	defer db.amu.Unlock()
	if db.committing == nil {
		db.committing = make(map[int64]bool)
	}
	for _, id := range ids {
		if on {
			db.committing[id] = true
		} else {
			delete(db.committing, id)
		}
	}
}

// markWritten marks submissions written in tx.
func markWritten(ctx context.Context, tx *sql.Tx, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	list := make([]string, len(ids))
	for i, id := range ids {
		list[i] = strconv.FormatInt(id, 10)
	}
	_, err := tx.ExecContext(ctx, "UPDATE submissions SET written = 1 WHERE id IN ("+strings.Join(list, ",")+")")
	return err
}

// Pending is a submitted log that [DB.Receive] read whole and synced under
// a temporary name in its section's .incoming/ directory, waiting for
// [DB.Commit]. It is
// not acknowledged: a crash loses it, and the slave sends it again.
type Pending struct {
	in    Incoming
	temp  string // the temporary file; "" once it is gone
	lf    LogFile
	final string // where the log goes
}

// Incoming returns what the log is.
func (p *Pending) Incoming() Incoming { return p.in }

// Discard removes the temporary file of a log that will not be committed.
// It may be called after Commit too, and does nothing then.
func (p *Pending) Discard() {
	if p.temp != "" {
		os.Remove(p.temp)
		p.temp = ""
	}
}

// Receive reads a submitted log from r into a temporary file in the
// section's .incoming/ directory and syncs it, for [DB.Commit]. The source is read to its end
// even when the log cannot be stored, so that a stream it is part of stays
// in step. It returns the errors [DB.Submit] returns for these steps.
func (db *DB) Receive(ctx context.Context, in Incoming, r io.Reader) (*Pending, error) {
	p, err := db.receive(ctx, in, r)
	if err != nil {
		return nil, fmt.Errorf("submit %s log of %s %s in %s: %w", in.Result, quote(in.Package), quote(in.Version), quote(in.Section), err)
	}
	return p, nil
}

func (db *DB) receive(ctx context.Context, in Incoming, r io.Reader) (*Pending, error) {
	drain := func() error {
		if _, derr := io.Copy(io.Discard, r); derr != nil {
			return fmt.Errorf("%w: %w", ErrReadLog, derr)
		}
		return nil
	}
	if err := checkLogNames(in.Section, in.Result, in.Package, in.Version); err != nil {
		return nil, errors.Join(err, drain())
	}
	if !in.Result.IsResult() {
		return nil, errors.Join(fmt.Errorf("%w %s", ErrUnknownKind, quote(string(in.Result))), drain())
	}
	t, err := db.logTree()
	if err != nil {
		return nil, errors.Join(err, drain())
	}
	rel, _ := LogPath(in.Section, in.Result, in.Package, in.Version)
	final := filepath.Join(t.root, filepath.FromSlash(rel))
	// Not in the result directory: its time changes only when a log is
	// put under its name (a master that keeps the states in memory reads
	// it as the sign of a change).
	temp, lf, err := t.receive(ctx, filepath.Join(t.root, in.Section, incomingDir), r)
	if err != nil {
		if temp != "" {
			os.Remove(temp)
		}
		if !errors.Is(err, ErrReadLog) {
			err = errors.Join(err, drain())
		}
		return nil, err
	}
	lf.Path = rel
	return &Pending{in: in, temp: temp, lf: lf, final: final}, nil
}

// Committed is what [DB.Commit] did with one pending log: Err nil means it
// is durable and may be acknowledged.
type Committed struct {
	Received
	Err error
}

// commitItem is one pending log while a group is committed.
type commitItem struct {
	p        *Pending
	reserved bool
	linked   bool // under its name; false for a resubmission
	id       int64
	out      *Committed
}

// Commit stores a group of received logs as [DB.Submit] stores one, with
// each durable step done once for the group: every log is put under its
// name, each directory synced once; the older logs and reserved/ markers
// the group replaces are removed and their directories synced once; one
// transaction indexes them all; one append to each section's
// submissions.txt records them, synced once. The same package version must
// not come twice in one group. It returns, in the order of ps, what
// happened to each log; a log with an error is not acknowledged (the
// earlier acknowledged state is whole, as after a crash). Every temporary
// file is gone when Commit returns. It is [DB.Index] and then
// [Group.Record].
func (db *DB) Commit(ctx context.Context, ps []*Pending) []Committed {
	return db.Index(ctx, ps).Record(ctx)
}

// Group is a group of logs that [DB.Index] stored and indexed, whose lines
// of submissions.txt are yet to be appended ([Group.Record]): none of its
// logs may be acknowledged before.
type Group struct {
	db    *DB
	t     *LogTree
	items []*commitItem
	ids   []int64 // the submissions being appended (see setCommitting)
	out   []Committed
}

// Indexed returns, in the order of the logs given to [DB.Index], what
// happened to each log so far: the tree and the index as they are once
// the group is recorded (a log with an error will not be acknowledged).
// The caller must not change it.
func (g *Group) Indexed() []Committed { return g.out }

// Record appends the lines of the group's indexed submissions to their
// sections' submissions.txt and syncs it, and returns, in the order of the
// logs given to [DB.Index], what happened to each log: Err nil means it is
// durable and may be acknowledged. It changes neither the tree's log
// directories nor the index's logs (so neither the states), and may run
// while another group is indexed; the groups of one section are to be
// recorded in the order they were indexed.
func (g *Group) Record(ctx context.Context) []Committed {
	if g.t != nil {
		g.db.recordSubmissions(ctx, g.t, linkedItems(g.items))
	}
	// Whatever recordSubmissions left unwritten is anyone's to write.
	g.db.setCommitting(g.ids, false)
	return g.out
}

// Index does what [DB.Commit] does for a group of received logs but append
// their lines to submissions.txt: the logs are under their names and
// synced, the older logs and reserved/ markers they replace removed, and
// the group indexed in one transaction. [Group.Record] completes it. Every
// temporary file is gone when Index returns.
func (db *DB) Index(ctx context.Context, ps []*Pending) *Group {
	out := make([]Committed, len(ps))
	g := &Group{db: db, out: out}
	defer func() {
		for _, p := range ps {
			p.Discard()
		}
	}()
	items := make([]*commitItem, len(ps))
	for i, p := range ps {
		items[i] = &commitItem{p: p, out: &out[i]}
	}
	live := func() []*commitItem {
		var l []*commitItem
		for _, it := range items {
			if it.out.Err == nil {
				l = append(l, it)
			}
		}
		return l
	}
	failAll := func(err error) {
		for _, it := range live() {
			it.fail(err)
		}
	}
	g.items = items
	t, err := db.logTree()
	if err != nil {
		failAll(err)
		return g
	}
	if err := db.step("written"); err != nil {
		failAll(err)
		return g
	}
	g.t = t

	// Under their names: a retest replaces the older log of the same name
	// in one rename; otherwise an existing log is never replaced.
	dirs := make(map[string]bool)
	var resent []*commitItem
	for _, it := range live() {
		in := it.p.in
		it.reserved = t.LogExists(in.Section, KindReserved, in.Package, in.Version)
		var err error
		if it.reserved {
			err = os.Rename(it.p.temp, it.p.final)
		} else if err = os.Link(it.p.temp, it.p.final); errors.Is(err, fs.ErrExist) {
			resent = append(resent, it)
			continue
		}
		if err != nil {
			it.fail(err)
			continue
		}
		it.linked = true
		dirs[filepath.Dir(it.p.final)] = true
	}
	if err := syncDirs(dirs); err != nil {
		failLinked(items, err)
	} else if err := db.step("linked"); err != nil {
		failLinked(items, err)
	}

	// The new logs are durable: now the older ones may go
	// (_remove_logs_if_reserved).
	clear(dirs)
	removed := false
	for _, it := range linkedItems(items) {
		if !it.reserved {
			continue
		}
		in := it.p.in
		for _, k := range piuparts.TestedKinds() {
			if k == in.Result || !t.LogExists(in.Section, k, in.Package, in.Version) {
				continue
			}
			p, _ := t.logFile(in.Section, k, in.Package, in.Version)
			if err := removeNoSync(p, dirs); err != nil {
				it.fail(err)
				break
			}
			it.out.Replaced = append(it.out.Replaced, k)
		}
		removed = true
	}
	if err := syncDirs(dirs); err != nil {
		failLinked(items, err)
	} else if removed {
		if err := db.step("replaced"); err != nil {
			failLinked(items, err)
		}
	}
	clear(dirs)
	unmarked := false
	for _, it := range linkedItems(items) {
		if !it.reserved {
			continue
		}
		in := it.p.in
		p, _ := t.logFile(in.Section, KindReserved, in.Package, in.Version)
		if err := removeNoSync(p, dirs); err != nil {
			it.fail(err)
		}
		unmarked = true
	}
	if err := syncDirs(dirs); err != nil {
		failLinked(items, err)
	} else if unmarked {
		if err := db.step("unmarked"); err != nil {
			failLinked(items, err)
		}
	}
	for _, it := range linkedItems(items) {
		// A cache of the report's: no sync needed.
		if err := os.Remove(beside(it.p.final, kprExt)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			it.fail(err)
			continue
		}
		it.out.LogFile = it.p.lf
	}

	// One transaction indexes the group. The rows of the versions' other
	// logs that are gone from the tree go too: those removed now, and
	// those a crashed retest removed.
	index := linkedItems(items)
	if len(index) > 0 {
		// The submissions earlier groups appended are marked written in
		// this group's transaction.
		marked := db.takeAppended()
		var ids []int64
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			if err := markWritten(ctx, tx, marked); err != nil {
				return err
			}
			for _, it := range index {
				var gone []Kind
				if it.reserved {
					gone = t.goneKinds(it.p.in)
				}
				var err error
				if it.id, it.out.Holder, err = indexSubmission(ctx, tx, it.p.in, it.p.lf, gone); err != nil {
					return err
				}
				// Before the rows are visible: this group appends them.
				ids = append(ids, it.id)
				db.setCommitting([]int64{it.id}, true)
			}
			return nil
		})
		g.ids = ids
		if err != nil {
			db.putAppended(marked)
			failLinked(items, fmt.Errorf("index: %w", err))
		} else if err := db.step("indexed"); err != nil {
			failLinked(items, err)
		}
	}

	// Logs that were there already: duplicates, or submissions a crash
	// interrupted between the file and the index (these write their
	// lines themselves; the group's, being appended, are not theirs).
	for _, it := range resent {
		rcv, err := db.resubmitted(ctx, t, it.p.in)
		it.out.Received = rcv
		if err != nil {
			it.fail(err)
		}
	}
	return g
}

// fail records the error of one log of a group.
func (it *commitItem) fail(err error) {
	if it.out.Err != nil {
		return
	}
	in := it.p.in
	it.out.Err = fmt.Errorf("submit %s log of %s %s in %s: %w", in.Result, quote(in.Package), quote(in.Version), quote(in.Section), err)
}

// linkedItems returns the logs of a group that are under their names and
// have no error yet.
func linkedItems(items []*commitItem) []*commitItem {
	var l []*commitItem
	for _, it := range items {
		if it.linked && it.out.Err == nil {
			l = append(l, it)
		}
	}
	return l
}

// failLinked records err for every linked log of a group without one.
func failLinked(items []*commitItem, err error) {
	for _, it := range linkedItems(items) {
		it.fail(err)
	}
}

// recordSubmissions appends the lines of a group's indexed submissions to
// their sections' submissions.txt, one write and sync per section.
func (db *DB) recordSubmissions(ctx context.Context, t *LogTree, items []*commitItem) {
	bySection := make(map[string][]*commitItem)
	var order []string
	for _, it := range items {
		s := it.p.in.Section
		if bySection[s] == nil {
			order = append(order, s)
		}
		bySection[s] = append(bySection[s], it)
	}
	for _, s := range order {
		own := make(map[int64]bool, len(bySection[s]))
		for _, it := range bySection[s] {
			own[it.id] = true
		}
		if _, err := db.writeSubmissions(ctx, t, s, own, true); err != nil {
			for _, it := range bySection[s] {
				it.fail(err)
			}
		}
	}
}

// removeNoSync removes a file if it is there and records its directory in
// dirs, to be synced once for many removals (syncDirs).
func removeNoSync(full string, dirs map[string]bool) error {
	if err := os.Remove(full); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	dirs[filepath.Dir(full)] = true
	return nil
}

// syncDirs syncs each directory of dirs.
func syncDirs(dirs map[string]bool) error {
	for d := range dirs {
		if err := fsutil.SyncDir(d); err != nil {
			return err
		}
	}
	return nil
}

// receive copies r into a new temporary file in dir and syncs it. It
// returns the temporary file's name (to be removed by the caller) and the
// log's size and SHA-256; an error of r wraps ErrReadLog.
func (t *LogTree) receive(ctx context.Context, dir string, r io.Reader) (string, LogFile, error) {
	if err := ctx.Err(); err != nil {
		return "", LogFile{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", LogFile{}, err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return "", LogFile{}, err
	}
	temp := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	// Logs are read by the report and by people; CreateTemp makes 0600.
	if err := f.Chmod(0o644); err != nil {
		return temp, LogFile{}, err
	}
	h := sha256.New()
	var n int64
	buf := make([]byte, 64<<10)
	src := ctxReader{ctx: ctx, r: r}
	for {
		m, rerr := src.Read(buf)
		if m > 0 {
			if _, werr := f.Write(buf[:m]); werr != nil {
				return temp, LogFile{}, werr
			}
			h.Write(buf[:m])
			n += int64(m)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if ctx.Err() != nil {
				return temp, LogFile{}, rerr
			}
			return temp, LogFile{}, fmt.Errorf("%w: %w", ErrReadLog, rerr)
		}
	}
	if err := f.Sync(); err != nil {
		return temp, LogFile{}, err
	}
	err = f.Close()
	f = nil
	if err != nil {
		return temp, LogFile{}, err
	}
	return temp, LogFile{Size: n, SHA256: hexSum(h)}, nil
}

// resubmitted handles a log whose file is already there: a duplicate when
// the index knows it, else the completion of a submission a crash
// interrupted between the file and the index.
func (db *DB) resubmitted(ctx context.Context, t *LogTree, in Incoming) (Received, error) {
	var rcv Received
	lf, err := t.StatLog(in.Section, in.Result, in.Package, in.Version)
	if err != nil {
		return rcv, err
	}
	rcv.LogFile = lf
	indexed, err := db.hasLog(ctx, in.Section, in.Result, in.Package, in.Version)
	if err != nil {
		return rcv, err
	}
	var id int64
	if indexed {
		rcv.Duplicate = true
		holder, err := db.DropReservation(ctx, in.Section, in.Package, in.Version)
		if err != nil {
			return rcv, err
		}
		rcv.Holder = holder
	} else {
		// The older logs a retest removed are gone from disk; their rows go
		// with this one.
		rcv.Recovered = true
		if id, rcv.Holder, err = db.indexSubmission(ctx, in, lf, t.goneKinds(in)); err != nil {
			return rcv, err
		}
	}
	// A crash may also have come after the index and before the line.
	var own map[int64]bool
	if id != 0 {
		own = map[int64]bool{id: true}
	}
	if _, err := db.writeSubmissions(ctx, t, in.Section, own, false); err != nil {
		return rcv, err
	}
	return rcv, nil
}

// goneKinds lists the tested kinds other than the submission's own that
// hold no log of its version in the tree: their index rows are stale.
func (t *LogTree) goneKinds(in Incoming) []Kind {
	var gone []Kind
	for _, k := range piuparts.TestedKinds() {
		if k != in.Result && !t.LogExists(in.Section, k, in.Package, in.Version) {
			gone = append(gone, k)
		}
	}
	return gone
}

// hasLog reports whether the index holds a log.
func (db *DB) hasLog(ctx context.Context, section string, kind Kind, pkg, version string) (bool, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM logs WHERE section_id = (SELECT id FROM sections WHERE name = ?)
		AND kind = ? AND package = ? AND version = ?`, section, string(kind), pkg, version).Scan(&n)
	return n > 0, err
}

// indexSubmission indexes a submitted log in one transaction (see
// indexSubmission).
func (db *DB) indexSubmission(ctx context.Context, in Incoming, lf LogFile, gone []Kind) (subID int64, holder string, err error) {
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		subID, holder, err = indexSubmission(ctx, tx, in, lf, gone)
		return err
	})
	if err != nil {
		return 0, "", fmt.Errorf("index: %w", err)
	}
	return subID, holder, nil
}

// indexSubmission indexes a submitted log in tx: the log's row (replacing
// one of the same name), the rows of the kinds in gone dropped, the
// submission recorded as not yet written to submissions.txt, the
// reservation dropped and the generation bumped. It returns the
// submission's id and the reservation's holder ("" if none).
func indexSubmission(ctx context.Context, tx *sql.Tx, in Incoming, lf LogFile, gone []Kind) (subID int64, holder string, err error) {
	id, err := ensureSection(ctx, tx, in.Section)
	if err != nil {
		return 0, "", err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO logs
		(section_id, kind, package, version, path, size, sha256, submitted_at, submitted_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (section_id, package, version, kind) DO UPDATE SET path = excluded.path,
		size = excluded.size, sha256 = excluded.sha256, submitted_at = excluded.submitted_at,
		submitted_by = excluded.submitted_by`,
		id, string(in.Result), in.Package, in.Version, lf.Path, lf.Size, lf.SHA256, unix(in.At), in.By); err != nil {
		return 0, "", err
	}
	for _, k := range gone {
		if _, err := tx.ExecContext(ctx, `DELETE FROM logs WHERE section_id = ? AND kind = ? AND package = ? AND version = ?`,
			id, string(k), in.Package, in.Version); err != nil {
			return 0, "", err
		}
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO submissions (at, section_id, result, package, version, written, submitted_by)
		VALUES (?, ?, ?, ?, ?, 0, ?) RETURNING id`, unix(in.At), id, string(in.Result), in.Package, in.Version, in.By).Scan(&subID); err != nil {
		return 0, "", err
	}
	if holder, err = deleteReservation(ctx, tx, id, in.Package, in.Version); err != nil {
		return 0, "", err
	}
	_, err = tx.ExecContext(ctx, "UPDATE sections SET generation = generation + 1 WHERE id = ?", id)
	return subID, holder, err
}

// deleteReservation drops the reservation of a package version and
// returns its holder, "" if there was none.
func deleteReservation(ctx context.Context, tx *sql.Tx, sectionID int64, pkg, version string) (string, error) {
	var holder string
	err := tx.QueryRowContext(ctx, `DELETE FROM reservations WHERE section_id = ? AND package = ? AND version = ?
		RETURNING holder`, sectionID, pkg, version).Scan(&holder)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return holder, err
}

// DropReservation drops the reservation row of a package version, leaving
// the tree alone (for a reservation the tree refused: see [DB.Take]), and
// returns its holder, "" if there was none.
func (db *DB) DropReservation(ctx context.Context, section, pkg, version string) (holder string, err error) {
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		id, ok, err := lookupSection(ctx, tx, section)
		if err != nil || !ok {
			return err
		}
		holder, err = deleteReservation(ctx, tx, id, pkg, version)
		return err
	})
	return holder, err
}

// submissionsTail is how much of the end of submissions.txt is searched for
// the line of a submission that a crash left marked unwritten: it was
// appended just before the crash, so it is among the last lines.
const submissionsTail = 64 << 10

// WriteSubmissions appends to SECTION/submissions.txt the lines of the
// section's indexed submissions that are not there yet (a master died
// between the index and the line) and returns how many it wrote. A
// session's start and fsck call it; [DB.Submit] does it for every log.
func (db *DB) WriteSubmissions(ctx context.Context, section string) (int, error) {
	t, err := db.logTree()
	if err != nil {
		return 0, err
	}
	n, err := db.writeSubmissions(ctx, t, section, nil, false)
	if err != nil {
		return n, fmt.Errorf("write submissions of %s: %w", quote(section), err)
	}
	return n, nil
}

// writeSubmissions writes the unwritten submissions of a section under an
// exclusive lock of submissions.txt, so that two masters never write one
// line twice. own holds the ids of submissions this process indexed and
// has not written; the line of any other is first looked for at the end of
// the file, where a crash after the write and before the mark left it.
//
// With later, the lines are only marked as appended (see appended);
// otherwise they are marked written at once.
func (db *DB) writeSubmissions(ctx context.Context, t *LogTree, section string, own map[int64]bool, later bool) (int, error) {
	dir, err := t.sectionDir(section)
	if err != nil {
		return 0, err
	}
	if len(own) == 0 {
		// Most calls find nothing to do (the unwritten rows are this
		// process's groups'): say so without touching the file or
		// waiting for its lock.
		pending, err := db.othersUnwritten(ctx, section)
		if err != nil || !pending {
			return 0, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(filepath.Join(dir, submissionsFile), os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := fsutil.Flock(f, syscall.LOCK_EX); err != nil {
		return 0, err
	}
	type row struct {
		id   int64
		line string
	}
	var rows []row
	q, err := db.db.QueryContext(ctx, `SELECT u.id, u.at, u.result, u.package, u.version FROM submissions u
		WHERE u.section_id = (SELECT id FROM sections WHERE name = ?) AND u.written = 0 ORDER BY u.id`, section)
	if err != nil {
		return 0, err
	}
	for q.Next() {
		var (
			r                    row
			at                   int64
			result, pkg, version string
		)
		if err := q.Scan(&r.id, &at, &result, &pkg, &version); err != nil {
			q.Close()
			return 0, err
		}
		r.line = submissionLine(at, result, pkg, version)
		rows = append(rows, r)
	}
	if err := q.Close(); err != nil {
		return 0, err
	}
	if err := q.Err(); err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, nil
	}
	var tail []byte
	rows = slices.DeleteFunc(rows, func(r row) bool { return !own[r.id] && db.isAppended(r.id) })
	if len(rows) == 0 {
		return 0, nil
	}
	for _, r := range rows {
		if !own[r.id] {
			if tail, err = readTail(f, submissionsTail); err != nil {
				return 0, err
			}
			break
		}
	}
	var buf strings.Builder
	written := 0
	for _, r := range rows {
		if !own[r.id] && (bytes.HasPrefix(tail, []byte(r.line)) || bytes.Contains(tail, []byte("\n"+r.line))) {
			continue
		}
		buf.WriteString(r.line)
		written++
	}
	if buf.Len() > 0 {
		// One write: with O_APPEND, Debian's scripts' lines do not mix in.
		if _, err := f.WriteString(buf.String()); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
	}
	if err := db.step("appended"); err != nil {
		return 0, err
	}
	// Lines of this process's own submissions may be marked later (by
	// the next group); those of others' (another master's, or a crashed
	// one's) are marked now, under the lock: the other master, once it
	// has the lock, must find its rows written and not append them again.
	var ownIDs, others []int64
	for _, r := range rows {
		if later && own[r.id] {
			ownIDs = append(ownIDs, r.id)
		} else {
			others = append(others, r.id)
		}
	}
	if len(others) > 0 {
		if err := db.inTx(ctx, func(tx *sql.Tx) error { return markWritten(ctx, tx, others) }); err != nil {
			return written, err
		}
	}
	db.putAppended(ownIDs)
	return written, nil
}

// othersUnwritten reports whether the section has unwritten submissions
// whose lines this process has not appended and is not appending.
func (db *DB) othersUnwritten(ctx context.Context, section string) (bool, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT id FROM submissions
		WHERE section_id = (SELECT id FROM sections WHERE name = ?) AND written = 0`, section)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return false, err
		}
		if !db.isAppended(id) {
			return true, nil
		}
	}
	return false, rows.Err()
}

// readTail returns the last n bytes of f (all of it when shorter).
func readTail(f *os.File, n int64) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(st.Size()-n, 0)
	b := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil && err != io.EOF {
		return nil, err
	}
	return b, nil
}

// step runs the test hook between two durable steps of a submission.
func (db *DB) step(name string) error {
	if db.stepHook == nil {
		return nil
	}
	return db.stepHook(name)
}

// unrecordedSubmissions counts the section's indexed submissions marked
// unwritten whose lines are not at the end of submissions.txt either.
func (db *DB) unrecordedSubmissions(ctx context.Context, t *LogTree, section string) (int, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT at, result, package, version FROM submissions
		WHERE section_id = (SELECT id FROM sections WHERE name = ?) AND written = 0`, section)
	if err != nil {
		return 0, err
	}
	var lines []string
	for rows.Next() {
		var (
			at                   int64
			result, pkg, version string
		)
		if err := rows.Scan(&at, &result, &pkg, &version); err != nil {
			rows.Close()
			return 0, err
		}
		lines = append(lines, submissionLine(at, result, pkg, version))
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	if len(lines) == 0 {
		return 0, nil
	}
	dir, err := t.sectionDir(section)
	if err != nil {
		return 0, err
	}
	var tail []byte
	if f, err := os.Open(filepath.Join(dir, submissionsFile)); err == nil {
		tail, err = readTail(f, submissionsTail)
		f.Close()
		if err != nil {
			return 0, err
		}
	}
	n := 0
	for _, l := range lines {
		if !bytes.HasPrefix(tail, []byte(l)) && !bytes.Contains(tail, []byte("\n"+l)) {
			n++
		}
	}
	return n, nil
}

// submissionLine is a line of submissions.txt: EPOCH RESULT NAME VERSION.
func submissionLine(at int64, result, pkg, version string) string {
	return strconv.FormatInt(at, 10) + " " + result + " " + pkg + " " + version + "\n"
}
