package mangen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"piuparts-server/internal/config"
)

// Group is a table of the config file and the keys that may appear in it.
type Group struct {
	// Title is the manual page's section title, e.g. "GLOBAL KEYS".
	Title string
	// Where says in which tables the keys go, e.g. "[global] or a section".
	Where string
	// Keys are the group's keys, named as written in their table.
	Keys []config.KeyInfo
}

// Groups sorts keys (from [config.KnownKeys]) into the tables they belong
// to: [global] only, [global] or a section, [distros.NAME] and
// [supervisor], each in the order of keys. The names of the last two lose
// their "distros.NAME." and "supervisor." prefixes.
func Groups(keys []config.KeyInfo) []Group {
	gs := []Group{
		{Title: "GLOBAL KEYS", Where: "[global] only"},
		{Title: "SECTION KEYS", Where: "[global] (the default) or a section"},
		{Title: "DISTRO KEYS", Where: "[distros.NAME]"},
		{Title: "SUPERVISOR KEYS", Where: "[supervisor]"},
	}
	for _, k := range keys {
		i := 1
		switch {
		case strings.HasPrefix(k.Name, "distros.NAME."):
			i, k.Name = 2, strings.TrimPrefix(k.Name, "distros.NAME.")
		case strings.HasPrefix(k.Name, "supervisor."):
			i, k.Name = 3, strings.TrimPrefix(k.Name, "supervisor.")
		case k.GlobalOnly:
			i = 0
		}
		gs[i].Keys = append(gs[i].Keys, k)
	}
	return gs
}

// configDescription is the prose of piuparts.toml(5) before the keys.
const configDescription = `piuparts-master, piuparts-slave and piuparts-report read one TOML file: by default /etc/piuparts/piuparts.toml; -c FILE or $PIUPARTS_CONFIG name another. It holds the keys of piuparts' piuparts.conf under the same names and meanings.

A [global] table holds the settings of the whole farm and the defaults of every section; there is one table per name in sections or basetgz-sections, whose keys override [global]'s; [distros.NAME] tables hold what Debian keeps in /etc/piuparts/distros.conf; [supervisor] holds the options of piuparts-slave's manager (start, stop, status, ...) and [supervisor.environment] the program's environment.

A value is looked up in the section's table, else in [global], else the builtin default applies. A duration is an integer number of seconds (as in piuparts.conf) or a string such as "45s", "90m", "1h30m" or "2d". A list is a TOML array; a string is split on white space, as piuparts does. A command is an array of words; a string is split on spaces. An unknown key, a wrong type or a table not listed in sections is an error that names its line.

An existing INI configuration converts with piuparts-master config import; piuparts-master config check reports every error of a file. The annotated example, deploy/piuparts.toml in the source, is written from the same definition as this page.`

// WriteConfigPage writes piuparts.toml(5) from keys: a description, then
// each group of [Groups] as a section listing each key with its type,
// default and description. It returns the first write error.
func WriteConfigPage(w io.Writer, keys []config.KeyInfo, version, date string) error {
	r := &roff{w: w}
	header(r, "piuparts.toml", "5", date, version)
	r.macro("SH", "NAME")
	r.line(`piuparts.toml \- configuration of the piuparts\-server farm: master, slaves and report`)
	r.macro("SH", "SYNOPSIS")
	r.line(`\fB` + esc(config.DefaultPath) + `\fR`)
	r.macro("SH", "DESCRIPTION")
	paragraphs(r, configDescription)
	for _, g := range Groups(keys) {
		r.macro("SH", g.Title)
		r.text("Valid in " + g.Where + ".")
		for _, k := range g.Keys {
			r.line(".TP")
			r.line(textLine(`\fB` + esc(k.Name) + `\fR (` + esc(k.Type) + `)`))
			r.text(strings.TrimSuffix(k.Doc, ".") + ".")
			r.line(".br")
			r.text("Default: " + k.Default + ".")
		}
	}
	r.macro("SH", "EXAMPLE")
	r.pre(strings.Split(`[global]
sections = ["sid"]
master-host = "master.example.org"
master-user = "piupartsm"

[sid]
distro = "sid"`, "\n"), "4")
	r.macro("SH", "FILES")
	r.defs([]Def{{Term: config.DefaultPath, Desc: "the default configuration file"}})
	seeAlso(r, []string{"piuparts-master(8)", "piuparts-slave(8)", "piuparts-report(8)", "piuparts(1)"})
	return r.err
}

// WriteConfigMarkdown writes the config reference as a Markdown table:
// key, table, type, default and description of each key, grouped as
// [Groups]. It returns the first write error.
func WriteConfigMarkdown(w io.Writer, keys []config.KeyInfo) error {
	var b bytes.Buffer
	b.WriteString("| Key | In | Type | Default | Description |\n|---|---|---|---|---|\n")
	for _, g := range Groups(keys) {
		where := strings.TrimSuffix(g.Where, " only")
		if strings.HasPrefix(where, "[global] (") {
			where = "[global], section"
		}
		for _, k := range g.Keys {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", code(k.Name), mdCell(where), k.Type, code(k.Default), mdCell(k.Doc))
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// code renders s as Markdown code in a table cell.
func code(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	if strings.Contains(s, "`") {
		return "`` " + s + " ``"
	}
	return "`" + s + "`"
}

// mdCell escapes s for a Markdown table cell.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// The markers around the README's config reference.
const (
	ReadmeBegin = "<!-- config-reference:begin -->"
	ReadmeEnd   = "<!-- config-reference:end -->"
)

// ErrNoMarkers is returned by [SpliceReadme] for a text without the
// begin and end markers, in this order.
var ErrNoMarkers = errors.New("mangen: no config-reference markers")

// SpliceReadme returns readme with the text between ReadmeBegin and
// ReadmeEnd replaced by table, or ErrNoMarkers.
func SpliceReadme(readme, table []byte) ([]byte, error) {
	i := bytes.Index(readme, []byte(ReadmeBegin))
	j := bytes.Index(readme, []byte(ReadmeEnd))
	if i < 0 || j < i {
		return nil, fmt.Errorf("%w (%q ... %q)", ErrNoMarkers, ReadmeBegin, ReadmeEnd)
	}
	var out bytes.Buffer
	out.Write(readme[:i+len(ReadmeBegin)])
	out.WriteString("\n\n")
	out.Write(bytes.TrimSpace(table))
	out.WriteString("\n\n")
	out.Write(readme[j:])
	return out.Bytes(), nil
}
