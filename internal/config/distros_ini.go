package config

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ImportDistrosINI reads Debian's /etc/piuparts/distros.conf (INI, read the
// way ConfigParser reads it, as for [ImportINI]) from r and writes the same
// distros as [distros.NAME] TOML tables to w, comments kept, so they can be
// appended to the output of ImportINI. name is used in messages. The keys
// of a [DEFAULT] section are written into each distro that does not set
// them, expanded for that distro; an unknown key that %(key)s refers to is
// kept as a comment. It returns an *Error naming the line for any other
// unknown key (ErrUnknownKey) or a value that does not fit its key, and a
// read or write error wrapped.
func ImportDistrosINI(r io.Reader, name string, w io.Writer) error {
	f, err := readINI(r, name)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "\n# Distros converted from %s by piuparts-master config import.\n", commentText(f.name))
	referenced := f.references()
	for _, s := range f.sections {
		writeComments(&b, s.comments)
		if s.isDefault() {
			// DistrosConf reads its keys in every section that lacks them.
			b.WriteString("# [DEFAULT]: its keys are written out in each section that does not set them.\n")
			for _, l := range f.lines[s.line-1 : s.last] {
				b.WriteString(commentLine(l))
			}
			continue
		}
		if err := checkName(s.name); err != nil {
			return &Error{File: name, Line: s.line, Table: s.name, Msg: err.msg, Err: err.sentinel}
		}
		fmt.Fprintf(&b, "[distros.%s]\n", tomlKey(s.name))
		var fromDefault []*iniEntry
		for _, e := range f.defaultEntries() {
			if s.keys[strings.ToLower(e.key)] == nil && slices.ContainsFunc(distroKeyDefs, func(d keyDef) bool { return d.name == strings.ToLower(e.key) }) {
				fromDefault = append(fromDefault, e)
			}
		}
		for _, e := range append(slices.Clip(s.entries), fromDefault...) {
			writeComments(&b, e.comments)
			i := slices.IndexFunc(distroKeyDefs, func(d keyDef) bool { return d.name == strings.ToLower(e.key) })
			if i < 0 && referenced[strings.ToLower(e.key)] {
				fmt.Fprintf(&b, "# %s only serves %%(%s)s references, expanded here.\n", commentText(e.key), commentText(e.key))
				for _, l := range f.lines[e.line-1 : e.last] {
					b.WriteString(commentLine(l))
				}
				continue
			}
			if i < 0 {
				return &Error{File: name, Line: e.line, Table: s.name, Key: e.key,
					Msg: fmt.Sprintf("unknown key %s", quote(e.key)), Err: ErrUnknownKey}
			}
			d := &distroKeyDefs[i]
			value, err := f.value(s, e)
			if err != nil {
				return err
			}
			if value == "" {
				// The reference treats an empty value as unset.
				fmt.Fprintf(&b, "# %s was empty in %s: left unset.\n", d.name, commentText(f.name))
				continue
			}
			v, verr := iniValue(d, value)
			if verr != nil {
				return &Error{File: name, Line: e.line, Table: s.name, Key: e.key,
					Msg: fmt.Sprintf("key %s: %s", quote(e.key), verr.msg), Err: verr.sentinel}
			}
			fmt.Fprintf(&b, "%s = %s\n", d.name, tomlValue(d.kind, v))
		}
	}
	writeComments(&b, f.trailing)
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("import %s: write: %w", name, err)
	}
	return nil
}
