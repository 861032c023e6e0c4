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
	logs, err := tree.ListLogTimes(section, kinds...)
	if err != nil {
		return 0, 0, fmt.Errorf("refresh known problems: %w", err)
	}
	kprs, err := tree.ListKPRs(section, kinds...)
	if err != nil {
		return 0, 0, fmt.Errorf("refresh known problems: %w", err)
	}
	type key struct{ pkg, version string }
	for _, k := range store.StaleKPRs(logs, kprs) {
		if err := tree.RemoveKPR(section, k.Kind, k.Package, k.Version); err != nil {
			return removed, 0, fmt.Errorf("refresh known problems: %w", err)
		}
		removed++
	}
	// What is left after the removal, as the reference lists it again.
	if kprs, err = tree.ListKPRs(section, kinds...); err != nil {
		return removed, 0, fmt.Errorf("refresh known problems: %w", err)
	}
	have := make(map[key]bool, len(kprs))
	for _, k := range kprs {
		have[key{k.Package, k.Version}] = true
	}
	last := make(map[key]store.TreeEntry, len(logs))
	var order []key
	for _, l := range logs {
		kk := key{l.Package, l.Version}
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
					added++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return removed, added, firstErr
	}
	return removed, added, nil
}
