package jobs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"time"

	"piuparts-server/internal/piuparts"
	"piuparts-server/store"
)

// The names Debian's detectors publish their reports under.
const (
	NetworkIssuesName  = "network_issues"
	PiupartsIssuesName = "piuparts_issues"
	ArchiveIssuesName  = "archive_issues"
)

// networkPatterns are detect_network_issues' patterns (grep -E).
var networkPatterns = []string{
	"Cannot initiate the connection to",
	"Hash Sum mismatch",
	"Failed to fetch.*Could not resolve",
	"Failed to fetch.*Something wicked happened resolving",
	"Failed to fetch.*Unable to connect to",
	"E: Method http has died unexpectedly",
	"Some index files failed to download, they have been ignored, or old ones used instead.",
	"Some index files failed to download. They have been ignored, or old ones used instead.",
	"W: GPG error: .* Release: The following signatures were invalid: BADSIG",
	"W: GPG error: .* InRelease: The following signatures were invalid: NODATA",
	"W: GPG error: .* InRelease: Clearsigned file isn't valid, got 'NODATA'",
	"E: The repository '.*' does no longer have a Release file.",
	"E: The repository '.*' no longer has a Release file.",
	"E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing",
	"E: Version '.*' for '.*' was not found",
	"E: Method file has died unexpectedly!",
	"E: Sub-process rred received a segmentation fault.",
	`ERROR: Command failed \(status=-7\):.*'apt-get', 'update'`,
	"Package .* .* not found in .*(, .* is available)?",
	"AppStream system cache was updated, but problems were found: Metadata files have errors",
}

// piupartsPatterns are detect_piuparts_issues' patterns (grep -E).
var piupartsPatterns = []string{
	"PIUPARTS OUTPUT INCOMPLETE",
	"WARNING: History of available packages does not match - reference chroot may be outdated",
	`tar( \(child\))?: .*.tar.gz: Cannot open: No such file or directory`,
	"tar: Error is not recoverable: exiting now",
	"gzip: stdin: invalid compressed data--crc error",
	"ERROR:.*:Temporary directory is not a directory",
	`E: Sub-process Popen returned an error code \(2\)`,
	"chroot: failed to run command '.*': Permission denied",
	`ERROR: Command failed \(status=(-7|100)\): .* 'apt-cache'`,
	"update-binfmts: warning: unable to close /proc/sys/fs/binfmt_misc/register: Invalid argument",
	"USERDEL: USER .* IS CURRENTLY LOGGED IN",
	"userdel: user .* is currently logged in",
	"mount: .* Cannot allocate memory",
	"NO SPACE LEFT ON DEVICE",
	"No space left on device",
	"E: You don't have enough free space in /var/cache/apt/archives/",
	"E: Failed to write temporary StateFile /var/lib/apt/extended_states.tmp",
	"tar: .*: Wrote only .* of .* bytes",
	"sh: echo: I/O error",
	"passwd: Authentication token manipulation error",
	"(chfn|groupadd|useradd): (cannot lock|failure while writing changes to) /etc/(group|gshadow|passwd|shadow|subuid)",
	"(groupadd|useradd): (unable to lock|cannot rewrite) (group|password) file",
	`INVOKE-RC.D: INITSCRIPT (MYSQL|POSTGRESQL|POSTGRESQL-8.3), ACTION "(RE)?START" FAILED.`,
	`invoke-rc.d: initscript (mariadb|mysql|postgresql|postgresql-8.3), action "(re)?start" failed.`,
	"There is a MySQL server running, but we failed in our attempts to stop it.",
	"The PostgreSQL server failed to start.",
	"Is another postmaster already running on port 543.",
	"No database found online on port 5432",
	"unable to connect to postgresql server",
	"Failed to connect to postgres.",
	"PG::ConnectionBad: could not connect to server",
	"psql: FATAL:  password authentication failed for user",
	"createuser: could not connect to database postgres: could not connect to server: No such file or directory",
	"Non-default port in /etc/postgresql/.*/main/postgresql.conf",
	"Firebird .* server already running.",
	"^RuntimeError: maximum recursion depth exceeded while calling a Python object",
	"^Traceback",
	"^IndentationError:",
	"^NameError:",
	"^OSError:",
	"^SyntaxError:",
}

// archivePatterns are detect_archive_issues' patterns (grep -E).
var archivePatterns = []string{
	"E: Broken packages",
	"E: Unable to correct problems, you have held broken packages",
	"E: Error, pkgProblemResolver::Resolve generated breaks",
}

// grepper matches the lines of a log as grep -E does with the patterns
// joined by "|". A log holds none of the literals some pattern needs in
// the common case: it is looked for first, over the whole text, and only
// the patterns whose literal is there are run, line by line.
type grepper struct {
	patterns []string
	lits     [][]string // per pattern: one of these is in every match; nil: unknown
	all      *regexp.Regexp
}

func newGrepper(patterns []string) *grepper {
	g := &grepper{patterns: patterns, all: joinPatterns(patterns)}
	for _, p := range patterns {
		re, err := syntax.Parse(p, syntax.Perl)
		if err != nil {
			g.lits = append(g.lits, nil)
			continue
		}
		g.lits = append(g.lits, requiredLiterals(re.Simplify()))
	}
	return g
}

func joinPatterns(patterns []string) *regexp.Regexp {
	alts := make([]string, len(patterns))
	for i, p := range patterns {
		alts[i] = "(" + p + ")"
	}
	return regexp.MustCompile(strings.Join(alts, "|"))
}

// requiredLiterals returns strings one of which every match of re holds,
// nil when it cannot tell.
func requiredLiterals(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiterals(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiterals(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []string
		for _, sub := range re.Sub {
			if l := requiredLiterals(sub); l != nil && (best == nil || shortest(l) > shortest(best)) {
				best = l
			}
		}
		return best
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			l := requiredLiterals(sub)
			if l == nil {
				return nil
			}
			out = append(out, l...)
		}
		return out
	}
	return nil
}

func shortest(ls []string) int {
	n := -1
	for _, l := range ls {
		if n < 0 || len(l) < n {
			n = len(l)
		}
	}
	return n
}

// candidates returns the regexp of the patterns that may match text, nil
// when none can.
func (g *grepper) candidates(text []byte) *regexp.Regexp {
	var keep []string
	for i, lits := range g.lits {
		if lits == nil || slices.ContainsFunc(lits, func(l string) bool { return bytes.Contains(text, []byte(l)) }) {
			keep = append(keep, g.patterns[i])
		}
	}
	switch len(keep) {
	case 0:
		return nil
	case len(g.patterns):
		return g.all
	}
	return joinPatterns(keep)
}

// lines returns the log's matching lines, each once, in order, at most
// limit of them (grep | perl uniq | head); 0 means all. It reports
// whether any line matched.
func (g *grepper) lines(r io.Reader, limit int) ([]string, bool, error) {
	text, err := io.ReadAll(r)
	if err != nil {
		return nil, false, err
	}
	re := g.candidates(text)
	if re == nil {
		return nil, false, nil
	}
	var out []string
	seen := make(map[string]bool)
	found := false
	for len(text) > 0 {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		if !re.Match(line) {
			continue
		}
		found = true
		if s := string(line); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, found, nil
}

// matches reports whether a log has a line matching g, and its first ten
// matching lines.
func (e *Env) matches(g *grepper, section string, l store.TreeEntry) ([]string, bool, error) {
	f, err := e.DB.Tree().OpenLog(section, l.Kind, l.Package, l.Version)
	if err != nil {
		return nil, false, nil // gone meanwhile: grep would say nothing
	}
	defer f.Close()
	return g.lines(f, 10)
}

// displayPatterns lists patterns as the reports show them.
func displayPatterns(patterns []string) string {
	var b strings.Builder
	for _, p := range patterns {
		b.WriteString("\t" + p + "\n")
	}
	return b.String()
}

// DetectNetworkIssues is detect_network_issues: it deletes the failed,
// bugged, affected and untestable logs that show a network or mirror
// problem (so that the packages are tested again) and publishes them with
// the lines that matched. It returns how many it deleted.
func DetectNetworkIssues(ctx context.Context, e *Env) (int, error) {
	prefix := "Network problems detected! The following logfiles have been deleted:\n\n" +
		"Those problems were found in failed logs by grep'ing for these patterns:\n" + displayPatterns(networkPatterns) + "\n"
	return e.deleteMatching(ctx, NetworkIssuesName, prefix, "", networkPatterns,
		[]piuparts.Kind{piuparts.KindFail, piuparts.KindBugged, piuparts.KindAffected, piuparts.KindUntestable}, false)
}

// DetectPiupartsIssues is detect_piuparts_issues: it deletes the failed,
// bugged and affected logs that show a problem of piuparts or of the
// slave (disk full, a broken chroot, a database server that would not
// start, a Python traceback) and every empty log, removes temporary files
// (tmpXXXXXX) older than two days from the log directories, and
// publishes what it deleted. It returns how many logs it deleted.
func DetectPiupartsIssues(ctx context.Context, e *Env) (int, error) {
	prefix := "piuparts problems detected! Please review the following logfiles/packages.\n" +
		"If it is always the same package failing, it's likely to be an issue in the\npackage.\n\n" +
		"Problems were found in failed logs by grep'ing for these patterns:\n" + displayPatterns(piupartsPatterns) + "\n"
	return e.deleteMatching(ctx, PiupartsIssuesName, prefix, "The following logfiles have been deleted:\n\n", piupartsPatterns,
		[]piuparts.Kind{piuparts.KindFail, piuparts.KindBugged, piuparts.KindAffected}, true)
}

// deleteMatching deletes the logs in kinds with a line matching patterns
// (and, with piuparts, the empty logs and stale temporary files of every
// log directory) and publishes them as name.
func (e *Env) deleteMatching(ctx context.Context, name, prefix, intro string, patterns []string, kinds []piuparts.Kind, piupartsChecks bool) (int, error) {
	secs, err := e.sections(nil)
	if err != nil {
		return 0, err
	}
	start := e.now()
	g := newGrepper(patterns)
	tree := e.DB.Tree()
	type hit struct {
		section string
		log     store.TreeEntry
		lines   []string
		empty   bool
	}
	var hits []hit
	for _, s := range secs {
		if !e.sectionExists(s.Name) {
			continue
		}
		listed := kinds
		if piupartsChecks {
			listed = []piuparts.Kind{piuparts.KindFail, piuparts.KindBugged, piuparts.KindAffected, piuparts.KindUntestable, piuparts.KindPass}
		}
		logs, err := tree.ListLogTimes(s.Name, listed...)
		if err != nil {
			return 0, err
		}
		for _, l := range logs {
			if piupartsChecks && l.Size == 0 {
				hits = append(hits, hit{section: s.Name, log: l, empty: true})
				continue
			}
			if !slices.Contains(kinds, l.Kind) {
				continue
			}
			lines, ok, err := e.matches(g, s.Name, l)
			if err != nil {
				return 0, fmt.Errorf("%s: read %s/%s: %w", name, s.Name, rel(l), err)
			}
			if ok {
				hits = append(hits, hit{section: s.Name, log: l, lines: lines})
			}
		}
		if !piupartsChecks {
			continue
		}
		for _, k := range listed {
			if _, err := tree.RemoveStaleTemps(s.Name, k, 48*time.Hour, e.now()); err != nil {
				return 0, err
			}
		}
	}
	if len(hits) == 0 {
		return 0, nil
	}
	key := func(h hit) string { return h.section + "/" + rel(h.log) }
	slices.SortFunc(hits, func(a, b hit) int { return strings.Compare(key(a), key(b)) })
	hits = slices.CompactFunc(hits, func(a, b hit) bool { return key(a) == key(b) })
	var body bytes.Buffer
	for _, h := range hits {
		fmt.Fprintf(&body, "%s\n", key(h))
		if h.empty {
			body.WriteString("\tEmpty logfile.\n")
		}
		for _, l := range h.lines {
			fmt.Fprintf(&body, "\t%s\n", l)
		}
		if err := e.DB.RemoveLogFile(ctx, h.section, h.log.Kind, h.log.Package, h.log.Version); err != nil {
			return 0, err
		}
	}
	end := e.now()
	text := fmt.Sprintf("%s\nRuntime: %s\n\n%s%s\n", end.UTC().Format(time.UnixDate), runtime(end.Sub(start)), intro, body.String())
	return len(hits), e.publish(name, prefix, text, end)
}

// DetectArchiveIssues is detect_archive_issues: a failed log at least a
// day old that shows broken packages in the archive (apt's "E: Broken
// packages" and its kin) moves to untestable/, to be tested again after
// reschedule-untestable-days; the first time a log is seen (by its URL in
// MASTER/archive_issues.txt) it is also marked for retesting at once. The
// URLs are recorded and the report published with how often each was
// seen. It returns how many logs moved.
func DetectArchiveIssues(ctx context.Context, e *Env) (int, error) {
	secs, err := e.sections(nil)
	if err != nil {
		return 0, err
	}
	start := e.now()
	g := newGrepper(archivePatterns)
	tree := e.DB.Tree()
	known, err := tree.ArchiveIssues()
	if err != nil {
		return 0, err
	}
	urlbase := e.Config.Global.URLBase
	if urlbase == "" {
		urlbase = "https://piuparts.debian.org"
	}
	var urls []string
	for _, s := range secs {
		if !e.sectionExists(s.Name) {
			continue
		}
		if err := tree.EnsureSection(s.Name); err != nil {
			return 0, err
		}
		logs, err := tree.ListLogTimes(s.Name, piuparts.KindFail)
		if err != nil {
			return 0, err
		}
		now := e.now()
		for _, l := range logs {
			if !olderThanDays(l.ModTime, now, 0) {
				continue
			}
			if _, ok, err := e.matches(g, s.Name, l); err != nil || !ok {
				continue
			}
			url := urlbase + "/" + s.Name + "/untestable/" + piuparts.LogName(l.Package, l.Version)
			if !strings.Contains(known, url) {
				if err := e.DB.Recycle(ctx, s.Name, l.Kind, l.Package, l.Version, now); err != nil {
					return 0, err
				}
			}
			if err := e.DB.MoveLog(ctx, s.Name, piuparts.KindFail, piuparts.KindUntestable, l.Package, l.Version, now); err != nil {
				return 0, err
			}
			urls = append(urls, url)
		}
	}
	if len(urls) == 0 {
		return 0, nil
	}
	end := e.now()
	if err := tree.AppendArchiveIssues(append([]string{end.Format(time.UnixDate)}, urls...)); err != nil {
		return 0, err
	}
	all, err := tree.ArchiveIssues()
	if err != nil {
		return 0, err
	}
	// grep -f URLS ISSUE_LOG | sort | uniq -c | sort -rn
	count := make(map[string]int)
	for _, line := range strings.Split(all, "\n") {
		for _, u := range urls {
			if strings.Contains(line, u) {
				count[line]++
				break
			}
		}
	}
	lines := slices.Collect(func(yield func(string) bool) {
		for l := range count {
			if !yield(l) {
				return
			}
		}
	})
	slices.SortFunc(lines, func(a, b string) int {
		if count[a] != count[b] {
			return count[b] - count[a]
		}
		return strings.Compare(b, a)
	})
	var body strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&body, "%7d %s\n", count[l], l)
	}
	prefix := fmt.Sprintf("Broken packages detected! The following packages have been moved to\n"+
		"SECTION/untestable and will be tested again in %d days.\n\n"+
		"Broken packages are usually a temporary problem in the archive and are\n"+
		"caught by other tools like britney or https://qa.debian.org/dose/debcheck.html\n"+
		"If it is always the same package failing, it's likely to be an issue in the\npackage.\n\n"+
		"Those problems were found in failed logs by grep'ing for these patterns:\n"+
		"        'E: Broken packages'\n"+
		"        'E: Unable to correct problems, you have held broken packages'\n"+
		"        'E: Error, pkgProblemResolver::Resolve generated breaks'\n\n", e.Config.Global.RescheduleUntestableDays)
	text := fmt.Sprintf("%s\nRuntime: %s\n\n%s\n", end.UTC().Format(time.UnixDate), runtime(end.Sub(start)), body.String())
	return len(urls), e.publish(ArchiveIssuesName, prefix, text, end)
}
