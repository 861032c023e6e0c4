package known

import (
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"piuparts-server/internal/piuparts"
	"piuparts-server/store"
)

// Refresh brings a section's .kpr files up to date as the reference's
// dwke_get_failures does with clean_cache_files and make_kprs: it
// removes the stale .kpr files of the log directories kinds
// ([store.KPRKinds] for the report), then writes one for every log that
// has none, from [Classify] with ps (already narrowed by the section's
// exclude-known-problems, see [Exclude]). A package version with logs in
// several of the directories counts in the last of kinds only. It returns
// how many .kpr files it removed and wrote, and the store's first error.
func Refresh(tree *store.LogTree, section string, kinds []store.Kind, ps []*Problem) (removed, added int, err error) {
	st, err := RefreshState(tree, section, kinds, ps)
	return st.Removed, st.Added, err
}

// State is what [RefreshState] left: the counts, and every .kpr file of
// the directories with, for those it wrote, their hits.
type State struct {
	Removed, Added int
	// KPRs are the .kpr files kept (with their modification times) and
	// written (their ModTime zero, their Hits set).
	KPRs []KPR
}

// KPR is one .kpr file after a refresh.
type KPR struct {
	store.TreeEntry
	Written bool     // written by this refresh: Hits holds its content
	Hits    []string // the problems it lists, when Written
}

// RefreshState is Refresh, listing each directory once and returning the
// .kpr files it kept and wrote.
func RefreshState(tree *store.LogTree, section string, kinds []store.Kind, ps []*Problem) (State, error) {
	logs, kprs, err := tree.ListLogsAndKPRs(section, kinds...)
	if err != nil {
		return State{}, fmt.Errorf("refresh known problems: %w", err)
	}
	return RefreshListed(tree, section, logs, kprs, ps)
}

// RefreshListed is RefreshState on listings the caller made: logs and
// kprs as [store.LogTree.ListLogsAndKPRs] returns them for the kinds, in
// that order of kinds.
func RefreshListed(tree *store.LogTree, section string, logs, kprs []store.TreeEntry, ps []*Problem) (State, error) {
	var st State
	type key struct {
		kind         store.Kind
		pkg, version string
	}
	stale := make(map[key]bool)
	for _, k := range store.StaleKPRs(logs, kprs) {
		if err := tree.RemoveKPR(section, k.Kind, k.Package, k.Version); err != nil {
			return st, fmt.Errorf("refresh known problems: %w", err)
		}
		stale[key{k.Kind, k.Package, k.Version}] = true
		st.Removed++
	}
	// What is left after the removal (the reference lists it again).
	have := make(map[[2]string]bool, len(kprs))
	for _, k := range kprs {
		if !stale[key{k.Kind, k.Package, k.Version}] {
			have[[2]string{k.Package, k.Version}] = true
			st.KPRs = append(st.KPRs, KPR{TreeEntry: k})
		}
	}
	last := make(map[[2]string]store.TreeEntry, len(logs))
	var order [][2]string
	for _, l := range logs {
		kk := [2]string{l.Package, l.Version}
		if _, dup := last[kk]; !dup {
			order = append(order, kk)
		}
		last[kk] = l
	}
	// Reading and classifying a log is independent of the others: the
	// logs are shared among a few goroutines.
	var todo []store.TreeEntry
	for _, kk := range order {
		if !have[kk] {
			todo = append(todo, last[kk])
		}
	}
	var (
		mu       sync.Mutex
		firstErr error
		next     atomic.Int64
		wg       sync.WaitGroup
	)
	for range max(1, min(runtime.GOMAXPROCS(0)*2, len(todo))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(todo) {
					return
				}
				l := todo[i]
				f, err := tree.OpenLog(section, l.Kind, l.Package, l.Version)
				if err != nil {
					// The reference logs a file error and goes on.
					continue
				}
				data, err := io.ReadAll(f)
				f.Close()
				if err != nil {
					continue
				}
				hits := Classify(l.Kind, data, ps)
				kpr := FormatKPR(l.Kind, piuparts.LogName(l.Package, l.Version), hits)
				err = tree.WriteKPR(section, l.Kind, l.Package, l.Version, kpr)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("refresh known problems: %w", err)
				}
				if err == nil {
					st.Added++
					st.KPRs = append(st.KPRs, KPR{TreeEntry: store.TreeEntry{Kind: l.Kind, Package: l.Package, Version: l.Version},
						Written: true, Hits: hits})
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return st, firstErr
}
