// Package mangen writes the manual pages and the config reference of
// piuparts-server from what the programs say about themselves, so that
// the documentation cannot drift from the code.
//
// A program's page ([WritePage]) is made from its --help and the "help
// COMMAND" text of every command that --help lists: [ParseHelp] splits a
// help text into the usage lines (SYNOPSIS), prose, a "commands:" list
// (COMMANDS) and "flags:" lists (OPTIONS). piuparts.toml(5)
// ([WriteConfigPage]) and the README's table ([WriteConfigMarkdown],
// spliced between the markers by [SpliceReadme]) are made from
// [config.KnownKeys], the table the config parser itself checks against.
// deploy/mangen is the program that runs the binaries and writes the files
// (make man, make docs).
package mangen
