package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"piuparts-server/internal/piuparts"
	"piuparts-server/report/known"
	"piuparts-server/store"
)

// history appends the day's line to the section's counts.txt (in the
// master directory, as the reference does) and reads it back.
func (g *Generator) history(ctx context.Context, site *Site, s *Section) (*History, error) {
	header, row := CountsLines(s, site.Now)
	tree := g.DB.Tree()
	appended, err := tree.AppendCounts(s.Name, header, row, CountsDay(site.Now))
	if err != nil {
		return nil, err
	}
	if appended {
		s.countsChanged = true
	}
	data, err := tree.ReadCounts(s.Name)
	if err != nil {
		return nil, err
	}
	s.countsData = data
	h, err := ParseHistory(bytes.NewReader(data))
	if err != nil {
		// A damaged counts.txt shows no history; the reference would
		// not read it either.
		g.Log.Error().Err(err).Str("section", s.Name).Msg("counts.txt unreadable: no history chart")
		return &History{}, nil
	}
	return h, nil
}

// writePages writes each section's counts.txt and pages.
func (g *Generator) writePages(site *Site, w *Writer, salt []byte) error {
	for _, s := range site.Sections {
		if err := w.Emit(s.Name+"/counts.txt", s.countsData); err != nil {
			return fmt.Errorf("section %s: %w", s.Name, err)
		}
		if err := renderSection(site, s, w.Emit, w.Current, salt); err != nil {
			return fmt.Errorf("section %s: %w", s.Name, err)
		}
	}
	return nil
}

// writeData writes each section's data files, then the top-level files:
// the global summary merges every section's, those of this run and the
// files earlier runs wrote for the others.
func (g *Generator) writeData(ctx context.Context, site *Site, w *Writer) error {
	summaries := make(map[string]*Summary)
	for _, s := range site.Sections {
		sum, err := g.writeDataFiles(site, s, w)
		if err != nil {
			return fmt.Errorf("section %s: %w", s.Name, err)
		}
		if sum != nil {
			summaries[s.Name] = sum
		}
	}
	for _, n := range g.Config.Global.SectionNames {
		if _, ok := summaries[n]; ok {
			continue
		}
		if f, err := os.Open(filepath.Join(g.Out, n, "summary.json")); err == nil {
			sum, err := ReadSummary(f)
			f.Close()
			if err != nil {
				g.Log.Error().Err(err).Str("section", n).Msg("summary.json unreadable: left out of the global summary")
				continue
			}
			summaries[n] = sum
		}
	}
	return g.writeTop(ctx, site, w, summaries)
}

// writeDataFiles writes sources.txt, sources.yaml and summary.json (or
// removes the last one when the section has no json-sections), and
// returns the summary. Emit copies what it writes, so one buffer serves
// every file.
func (g *Generator) writeDataFiles(site *Site, s *Section, w *Writer) (*Summary, error) {
	var b bytes.Buffer
	if err := WriteSourcesTxt(&b, s); err != nil {
		return nil, err
	}
	if err := w.Emit(s.Name+"/sources.txt", b.Bytes()); err != nil {
		return nil, err
	}
	b.Reset()
	if err := WriteSourcesYAML(&b, s); err != nil {
		return nil, err
	}
	if err := w.Emit(s.Name+"/sources.yaml", b.Bytes()); err != nil {
		return nil, err
	}
	sum, ok, err := SectionSummary(site, s)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, removeOut(g.Out, s.Name+"/summary.json")
	}
	b.Reset()
	if err := sum.Write(&b); err != nil {
		return nil, err
	}
	if err := w.Emit(s.Name+"/summary.json", b.Bytes()); err != nil {
		return nil, err
	}
	return sum, nil
}

// writeTop writes the top-level files: sections.yaml, the global
// summary.json and the site's own pages.
func (g *Generator) writeTop(ctx context.Context, site *Site, w *Writer, summaries map[string]*Summary) error {
	var b bytes.Buffer
	if err := WriteSectionsYAML(&b, site); err != nil {
		return err
	}
	if err := w.Emit("sections.yaml", b.Bytes()); err != nil {
		return err
	}
	sum, err := GlobalSummary(site, summaries)
	if err != nil {
		return err
	}
	b.Reset()
	if err := sum.Write(&b); err != nil {
		return err
	}
	if err := w.Emit("summary.json", b.Bytes()); err != nil {
		return err
	}
	return RenderSite(site, w.Emit)
}

// removeOut removes a file of the output directory; one that is not
// there is not an error.
func removeOut(out, rel string) error {
	err := os.Remove(filepath.Join(out, filepath.FromSlash(rel)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", rel, err)
	}
	return nil
}

// loadProblems reads the known-problem directory; a missing directory
// has none (the report then classifies nothing).
func loadProblems(dir string) ([]*known.Problem, []error) {
	if dir == "" {
		return nil, nil
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, []error{fmt.Errorf("known problems: %w", err)}
	}
	return known.LoadDir(dir)
}

// knownProblems brings the section's .kpr files up to date (in the
// master directory, as the reference does), takes each log's hits (from
// the refresh, the cache of earlier runs, or the file) and .bug text,
// and returns the problems the section checks (for buildProblems). s
// needs only its name, config and logs.
func (g *Generator) knownProblems(ctx context.Context, s *Section, problems []*known.Problem, logs, kprs []store.TreeEntry, cache *kprCache, st *Stats) ([]*known.Problem, error) {
	ps := known.Exclude(problems, s.Conf.ExcludeKnownProblems)
	tree := g.DB.Tree()
	ks, err := known.RefreshListed(tree, s.Name, logs, kprs, ps)
	if err != nil {
		return nil, err
	}
	if ks.Removed+ks.Added > 0 {
		st.TreeChanged = true
		g.Log.Info().Str("section", s.Name).Int("removed", ks.Removed).Int("added", ks.Added).Msg("known-problem reports")
	}
	type key struct {
		kind         piuparts.Kind
		pkg, version string
	}
	byLog := make(map[key]*known.KPR, len(ks.KPRs))
	for i := range ks.KPRs {
		k := &ks.KPRs[i]
		byLog[key{k.Kind, k.Package, k.Version}] = k
	}
	for _, kind := range store.KPRKinds() {
		for _, l := range s.Logs[kind] {
			k, ok := byLog[key{kind, l.Package, l.Version}]
			if !ok {
				continue // the log went away meanwhile
			}
			if k.Written {
				l.Problems = k.Hits
				continue
			}
			rel := s.Name + "/" + l.Path()
			if hits, ok := cache.get(rel, k.ModTime); ok {
				l.Problems = hits
				continue
			}
			data, _, err := tree.ReadKPR(s.Name, kind, l.Package, l.Version)
			if err != nil {
				continue // the log went away meanwhile
			}
			lines, err := known.ParseKPR(data)
			if err != nil {
				g.Log.Error().Err(err).Str("section", s.Name).Str("log", l.Path()).Msg("unreadable .kpr")
				continue
			}
			for _, kl := range lines {
				l.Problems = append(l.Problems, kl.Problem)
			}
			cache.put(rel, k.ModTime, l.Problems)
		}
	}
	for _, k := range []piuparts.Kind{piuparts.KindBugged, piuparts.KindAffected} {
		for _, l := range s.Logs[k] {
			if b, ok, err := tree.ReadBug(s.Name, k, l.Package, l.Version); err == nil && ok {
				l.Bug = string(b)
			}
		}
	}
	return ps, nil
}
