// Package piuparts is the vocabulary that piuparts' programs share and that
// config, protocol, store, master and slave use alike: what a section name
// may be, the kinds of logs and their directories, the file name of a log
// (NAME_VERSION.log) and its parser, the test version "None", the names of
// the package states, and how outside input is quoted in an error.
//
// One rule per concept lives here, so that a name the config accepts is one
// the wire and the store accept too. The package depends on the standard
// library only.
package piuparts
