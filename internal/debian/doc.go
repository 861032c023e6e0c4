// Package debian reads Debian archive data for the piuparts master, slave and
// report: control files, Packages and Sources indexes, versions, relationship
// fields and names.
//
// # Control files
//
// [NewParser] streams the paragraphs of an RFC 822-style control file
// (Packages, Sources, dpkg status, debian/control). [Parser.Next] returns
// one [Paragraph] at a time and io.EOF at the end; field names are looked up
// without regard to case and keep the case they had; folded fields keep
// their continuation lines after "\n", as dpkg does; '#' comment lines are
// skipped. Malformed input gives a [*SyntaxError] naming the line:
//
//	line 12: missing colon in "Package foo"
//
// # Indexes
//
// [LoadPackages] and [LoadSources] read an index from a path, a file:// URL
// or an http(s):// URL. Like piupartslib they try the location with ".xz",
// ".bz2" and ".gz" appended and then as given, and use the first that
// exists ([OpenIndex]); ".xz" is decoded by liblzma in this process when
// the build has it (-tags liblzma), else by the xz command when one is
// installed, else by the Go decoder, about half as fast ([XZDecoderEnv]
// chooses one); when a name occurs more than once the higher version
// wins and, on a tie, the first. [Package.Order] keeps the order in which
// names first appear, which piupartslib's state computation depends on.
// [ReadPackages] parses 1 MB blocks on every CPU and merges them in file
// order, so the result, line numbers in errors included, is the sequential
// one. [Package] and [Source] carry the fields the master needs and keep
// every field in their Paragraph ([LoadPackagesCompact] keeps only the named
// fields, so the file's text can be freed, and parses the relationship
// fields the package states need into [ParsedRelations] while the file is
// still being decompressed). The loaders do not check names: callers
// that make file names from them use [ValidPackageName], [ValidVersion] or
// [PathSafe] first.
//
// # Versions
//
// [ParseVersion] applies dpkg's rules for [epoch:]upstream[-revision];
// [CompareVersions] orders version strings exactly as
// `dpkg --compare-versions` does ('~' before everything, even the end;
// letters before other characters; digit runs compared as numbers of any
// length). The tests check it against dpkg on pairs of real bookworm
// versions.
//
// # Relationship fields
//
// [ParseDepends] parses Depends, Pre-Depends, Recommends, Conflicts,
// Breaks and the like into a [Depends]: comma-separated items of
// '|'-separated [Relation]s, each with an optional architecture qualifier
// (":any"), version restriction ("(>= 1.0)"), architecture list ("[amd64
// !i386]") and build profiles ("<!nocheck>"). [ParseProvides] parses
// Provides. String methods give the canonical form, which parses back to
// the same value.
package debian
