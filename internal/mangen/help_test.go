package mangen_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"piuparts-server/internal/mangen"
)

// masterHelp and slaveHelp are cut from the programs' --help, the two
// layouts of a command list.
const masterHelp = `usage: piuparts-master [-c FILE] [--slave-id=NAME]       serve the protocol on stdin/stdout
       piuparts-master [-c FILE] COMMAND [ARGS]

commands:
  config                  convert piuparts' INI files to TOML
  fsck                    check that log files and the index agree
  help                    show the usage

"piuparts-master help COMMAND" shows a command's usage.

flags:
  -c FILE
    	config FILE (default $PIUPARTS_CONFIG)
  -q	quiet
`

const slaveHelp = `usage: piuparts-slave [-c FILE] COMMAND [OPTIONS]

commands:
  start [OPTIONS]
      start the manager and the program
  stop [--stop-timeout D]
      SIGINT to the program,
      SIGKILL after as long again
  version
      print the version
`

func TestParseHelp(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		synopsis []string
		commands []string
		flags    []mangen.Def
	}{
		{name: "Master", in: masterHelp,
			synopsis: []string{"piuparts-master [-c FILE] [--slave-id=NAME]       serve the protocol on stdin/stdout", "piuparts-master [-c FILE] COMMAND [ARGS]"},
			commands: []string{"config", "fsck", "help"},
			flags:    []mangen.Def{{Term: "-c FILE", Desc: "config FILE (default $PIUPARTS_CONFIG)"}, {Term: "-q", Desc: "quiet"}}},
		{name: "Slave", in: slaveHelp,
			synopsis: []string{"piuparts-slave [-c FILE] COMMAND [OPTIONS]"},
			commands: []string{"start", "stop", "version"}},
		// A command's help: the indented lines after the usage are its
		// description, not more synopsis.
		{name: "SlaveCommand", in: "usage: piuparts-slave [-c FILE] fg\n    run the program in the foreground\n",
			synopsis: []string{"piuparts-slave [-c FILE] fg"}},
		{name: "NoUsage", in: "just some text\n"},
		{name: "Empty", in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mangen.ParseHelp(tt.in)
			if !reflect.DeepEqual(h.Synopsis, tt.synopsis) {
				t.Errorf("Synopsis = %q, want %q", h.Synopsis, tt.synopsis)
			}
			if got := h.Commands("commands"); !reflect.DeepEqual(got, tt.commands) {
				t.Errorf("Commands = %q, want %q", got, tt.commands)
			}
			b, _ := h.Block("flags")
			if got := b.Defs(); !reflect.DeepEqual(got, tt.flags) {
				t.Errorf("flags = %q, want %q", got, tt.flags)
			}
		})
	}
	t.Run("SlaveDescriptions", func(t *testing.T) {
		b, _ := mangen.ParseHelp(slaveHelp).Block("commands")
		defs := b.Defs()
		if len(defs) != 3 || defs[1].Desc != "SIGINT to the program, SIGKILL after as long again" {
			t.Errorf("Defs = %q, want the stop entry's two lines joined", defs)
		}
	})
}

// requests are the only requests WritePage emits.
var requests = map[string]bool{".TH": true, ".SH": true, ".PP": true, ".TP": true, ".IP": true, ".RS": true,
	".RE": true, ".nf": true, ".fi": true, ".br": true, ".nh": true, ".ad": true, `.\"`: true}

// checkRequests fails unless every request line of page is one of ours:
// no help text can inject a request.
func checkRequests(t *testing.T, page string) {
	t.Helper()
	for i, l := range strings.Split(page, "\n") {
		if strings.HasPrefix(l, "'") {
			t.Errorf("line %d is a request %q", i+1, l)
		}
		if !strings.HasPrefix(l, ".") {
			continue
		}
		name, _, _ := strings.Cut(l, " ")
		if !requests[name] {
			t.Errorf("line %d is the request %q, not one of WritePage's", i+1, l)
		}
	}
}

func TestWritePage(t *testing.T) {
	p := mangen.Program{Name: "piuparts-master", Section: "8", Summary: "master", Help: mangen.ParseHelp(masterHelp),
		Commands: []mangen.Command{{Name: "fsck", Help: mangen.ParseHelp("usage: piuparts-master [-c FILE] fsck [--repair]\n\n.Check things.\n\nflags:\n  -repair\n    \trepair\n")}},
		SeeAlso:  []string{"piuparts.toml(5)"}, Version: "1.0", Date: "2026-01-01"}
	var b bytes.Buffer
	if err := mangen.WritePage(&b, p); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	checkRequests(t, page)
	for _, want := range []string{".SH \"NAME\"\npiuparts\\-master \\- master\n", ".SH \"SYNOPSIS\"", ".SH \"COMMANDS\"", `\fBfsck\fR [\-\-repair]`,
		`\&.Check things.`, ".SH \"OPTIONS\"", `\fB\-c\fR \fIFILE\fR`, ".SH \"SEE ALSO\"\n\\fBpiuparts.toml\\fR(5)"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
}

func FuzzParseHelp(f *testing.F) {
	f.Add(masterHelp)
	f.Add(slaveHelp)
	f.Add("usage: x\n.TH evil\n'br\n  -a  b\n\tc\nhead:\n  .x  y\n")
	f.Fuzz(func(t *testing.T, text string) {
		h := mangen.ParseHelp(text)
		var cmds []mangen.Command
		for _, c := range h.Commands("commands") {
			cmds = append(cmds, mangen.Command{Name: c, Help: h})
		}
		var b bytes.Buffer
		if err := mangen.WritePage(&b, mangen.Program{Name: "p", Section: "1", Summary: "s", Help: h, Commands: cmds}); err != nil {
			t.Fatal(err)
		}
		checkRequests(t, b.String())
	})
}
