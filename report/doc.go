// Package report writes the static site of a piuparts farm, as Debian's
// piuparts-report does: per section the state pages, the log lists,
// source and maintainer pages, known-problem pages, the log copies,
// sources.txt, sources.yaml, counts.txt and summary.json, and at the
// top the front page, sections.yaml and the global summary.json.
//
// The public contract (URL layout, sources.txt, summary.json, the .kpr
// files, counts.txt) is the reference's, byte for byte where it is data;
// the pages are ours. A [Site] is built from the config, the store and
// the state cache by the caller (cmd/piuparts-report); the report reads
// the store and writes only under output-directory, except what the
// reference changes in the master directory too (logs of removed
// packages moved to SECTION/archive/, .kpr files, counts.txt), which it
// changes through the store's verbs.
package report
