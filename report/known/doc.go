// Package known finds piuparts' known problems in logs, as Debian's
// piupartslib/dwke.py does for piuparts-report and
// detect_well_known_errors.
//
// A known problem is a file NAME.conf of the known-problem directory
// (/usr/share/piuparts/known_problems) in dwke.py's KEY='value' format:
//
//	PATTERN='E: Broken packages|E: Unable to correct problems'
//	EXCLUDE_PATTERN='usr/local'
//	WHERE='fail bugged affected'
//	ISSUE=0
//	HEADER='Packages with failed logs because of unsatisfied dependencies'
//	HELPTEXT='
//	<p>Usually this is caused by ...</p>
//	'
//
// [Parse] reads one file, [LoadDir] a directory in create_problem_list's
// order (sorted by file name), and [Exclude] drops what a section's
// exclude-known-problems names.
//
// # Matching
//
// PATTERN and EXCLUDE_PATTERN are Python regular expressions. They are
// translated into Go's syntax with Python's meaning (\d, \w and \s are
// Unicode classes, $ also matches before a final newline, {,n} is a
// repeat, a { that starts no repeat is literal, escapes are read as
// Python reads them); what Go's regexp cannot do (backreferences,
// lookaround, conditionals, atomic groups, possessive quantifiers) makes
// the file fail to parse with a *[PatternError], where dwke.py would use
// it. \b and \B are ASCII word boundaries in Go, Unicode ones in Python.
//
// A log is read as make_kprs reads it ([Decode]: bytes that are not UTF-8
// become \xNN, line ends are universal newlines). [Problem.Match] then
// follows has_problem: the pattern must match the whole log searched from
// its eighth character on (has_problem passes re.MULTILINE, 8, where
// search takes a position, so a problem on the first line of a log can go
// unseen), and a line (str.splitlines) must match it that EXCLUDE_PATTERN
// does not match.
//
// [Classify] gives the problems of one log of a kind as make_kprs writes
// them: those whose WHERE holds the kind and that match, and
// unclassified_failures.conf alone for a log other than a pass log that
// matched none. To be fast over tens of thousands of logs it extracts
// from each pattern literals one of which every match contains, finds all
// of them in one pass over the log, and runs the expressions only on the
// lines that hold one.
//
// # .kpr files
//
// The report caches the problems of each log in NAME_VERSION.kpr beside
// it, one line per problem ([FormatKPR], [ParseKPR]):
//
//	fail/xorg-docs_1:1.6-1.log broken_symlinks_error.conf
//
// [Refresh] updates a section's .kpr files through the store's verbs
// (the store owns the master directory): it removes the stale ones
// (clean_cache_files: log gone, moved or newer) and writes the missing
// ones. As in the reference, editing a .conf file invalidates nothing.
package known
