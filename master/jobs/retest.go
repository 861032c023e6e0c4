package jobs

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"piuparts-server/internal/piuparts"
	"piuparts-server/store"
)

// RetestOptions are reschedule_piuparts_tests' flags.
type RetestOptions struct {
	Pass     bool // also pass/ logs
	Affected bool // also affected/
	Bugged   bool // also bugged/ (and affected/)
	Current  bool // only sections of testing, sid or experimental
	Longterm bool // only the *22testing sections (upgrade tests to testing)
	DryRun   bool // list the candidates, change nothing
	// LogFiles makes the arguments log files to mark, not known-problem
	// names.
	LogFiles bool
}

// RescheduleTests is reschedule_piuparts_tests: it marks for retesting
// (recycle/) the logs whose .kpr lists the known problem args[0] (an
// extended regular expression over the .conf names, e.g.
// "dependency_error|command_not_found"), in fail/ and untestable/ and
// the directories the options add; or, with LogFiles, the log files
// named. A log already marked is left alone. It returns what the script
// prints.
func RescheduleTests(ctx context.Context, e *Env, o RetestOptions, args []string) (string, error) {
	if len(args) == 0 {
		return "", fmt.Errorf("name a known problem (or, with --logfiles, log files)")
	}
	var out strings.Builder
	total := 0
	tree := e.DB.Tree()
	mark := func(section string, l store.TreeEntry) error {
		if tree.LogExists(section, piuparts.KindRecycle, l.Package, l.Version) {
			return nil
		}
		total++
		name := piuparts.LogName(l.Package, l.Version)
		if o.DryRun {
			fmt.Fprintf(&out, "candidate: %s/%s/%s\n", section, l.Kind, name)
			return nil
		}
		if err := e.DB.Recycle(ctx, section, l.Kind, l.Package, l.Version, e.now()); err != nil {
			return err
		}
		fmt.Fprintf(&out, "'%s/recycle/%s' => '%s/%s/%s'\n", section, name, section, l.Kind, name)
		return nil
	}
	if o.LogFiles {
		for _, a := range args {
			section, l, err := logFileArg(tree.Root(), a)
			if err != nil {
				return out.String(), err
			}
			if !tree.LogExists(section, l.Kind, l.Package, l.Version) {
				continue
			}
			if err := mark(section, l); err != nil {
				return out.String(), err
			}
		}
		return out.String() + marked(total, o.DryRun), nil
	}
	re, err := regexp.Compile(" (" + args[0] + `)\.conf$`)
	if err != nil {
		return "", fmt.Errorf("known problem %s: %w", piuparts.Quote(args[0]), err)
	}
	kinds := []piuparts.Kind{piuparts.KindFail, piuparts.KindUntestable}
	if o.Pass {
		kinds = append(kinds, piuparts.KindPass)
	}
	if o.Bugged {
		kinds = append(kinds, piuparts.KindBugged)
	}
	if o.Bugged || o.Affected {
		kinds = append(kinds, piuparts.KindAffected)
	}
	secs, err := e.sections(nil)
	if err != nil {
		return "", err
	}
	testing := e.Config.Global.TestingSuite
	for _, s := range secs {
		if !e.sectionExists(s.Name) {
			continue
		}
		if o.Current || o.Longterm {
			current := (testing != "" && strings.Contains(s.Name, testing)) || strings.HasPrefix(s.Name, "testing") ||
				strings.Contains(s.Name, "sid") || strings.Contains(s.Name, "experimental")
			longterm := !current && strings.Contains(s.Name, "22testing")
			if !(o.Current && current) && !(o.Longterm && longterm) {
				fmt.Fprintf(&out, "Skip: %s\n", s.Name)
				continue
			}
		}
		kprs, err := tree.ListKPRs(s.Name, kinds...)
		if err != nil {
			return out.String(), err
		}
		for _, k := range kprs {
			data, _, err := tree.ReadKPR(s.Name, k.Kind, k.Package, k.Version)
			if err != nil {
				continue // gone meanwhile
			}
			hit := false
			for _, line := range strings.Split(string(data), "\n") {
				if re.MatchString(line) {
					hit = true
					break
				}
			}
			if !hit || !tree.LogExists(s.Name, k.Kind, k.Package, k.Version) {
				continue
			}
			if err := mark(s.Name, k); err != nil {
				return out.String(), err
			}
		}
	}
	return out.String() + marked(total, o.DryRun), nil
}

func marked(total int, dryRun bool) string {
	switch {
	case total == 0:
		return ""
	case dryRun:
		return fmt.Sprintf("Found %d candidate logfiles for recycling.\n", total)
	}
	return fmt.Sprintf("Marked %d logfiles for recycling.\n", total)
}

// logFileArg reads a log file argument, SECTION/KIND/NAME_VERSION.log
// under the master directory (absolute, or relative to the working
// directory, as the script takes it).
func logFileArg(root, a string) (string, store.TreeEntry, error) {
	abs, err := filepath.Abs(a)
	if err != nil {
		return "", store.TreeEntry{}, err
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return "", store.TreeEntry{}, err
	}
	rel, err := filepath.Rel(root, abs)
	parts := strings.Split(filepath.ToSlash(rel), "/")
	bad := fmt.Errorf("%s: not a log of the master directory %s (SECTION/KIND/NAME_VERSION.log)", piuparts.Quote(a), root)
	if err != nil || len(parts) != 3 || !piuparts.ValidSectionName(parts[0]) {
		return "", store.TreeEntry{}, bad
	}
	kind := piuparts.Kind(parts[1])
	if !kind.IsTested() {
		return "", store.TreeEntry{}, bad
	}
	pkg, version, ok := piuparts.ParseLogName(parts[2])
	if !ok {
		return "", store.TreeEntry{}, bad
	}
	return parts[0], store.TreeEntry{Kind: kind, Package: pkg, Version: version}, nil
}
