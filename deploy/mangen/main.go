// Command mangen writes the manual pages of the programs built in a
// directory, from their own help texts, and piuparts.toml(5) and the
// README's config reference from internal/config's key table:
//
//	go run ./deploy/mangen -bin bin -out bin/man [-version V] [-date YYYY-MM-DD]
//	go run ./deploy/mangen -readme README.md
//
// The first writes OUT/man8/PROGRAM.8 (or man1) for every piuparts-*
// executable in the -bin directory, running its --help and "help COMMAND"
// for each command it lists (and "help COMMAND SUB" for subcommands), and
// OUT/man5/piuparts.toml.5. The second rewrites the table between the
// README's config-reference markers. make man and make docs run them.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"piuparts-server/internal/config"
	"piuparts-server/internal/mangen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintf(os.Stderr, "mangen: %v\n", err)
		os.Exit(1)
	}
}

// helpTimeout bounds one run of a program's help.
const helpTimeout = 30 * time.Second

// meta is what a page needs that no help text says.
type meta struct {
	section, summary, description string
	env, files                    []mangen.Def
	seeAlso                       []string
}

// programs returns the facts of each program; a program missing here gets
// section 1 and the first paragraph of its help as its summary.
func programs() map[string]meta {
	cfgEnv := []mangen.Def{{Term: config.PathEnv, Desc: "the config file when -c is not given"}}
	cfgFile := mangen.Def{Term: config.DefaultPath, Desc: "the config file (see piuparts.toml(5))"}
	farm := []string{"piuparts.toml(5)", "piuparts-master(8)", "piuparts-slave(8)", "piuparts-report(8)", "piuparts-portserver(8)", "piuparts(1)"}
	return map[string]meta{
		"piuparts-master": {section: "8", summary: "master of a piuparts test farm",
			description: "piuparts-master hands out the packages of a piuparts test farm to its slaves and stores the logs they send back. " +
				"Run without a command, it serves piuparts' line protocol on standard input and output, as the forced command of the slaves' keys " +
				"in the master user's ~/.ssh/authorized_keys (see authorize); its log goes to files under master-directory, never to standard output. " +
				"The commands are the operator's: the maintenance jobs, status, and the config tools.",
			env: cfgEnv, files: []mangen.Def{cfgFile, {Term: "~/.ssh/authorized_keys", Desc: "the master user's: one restricted line per slave key (piuparts-master authorize)"}},
			seeAlso: append(farm, "sshd(8)", "authorized_keys(5)")},
		"piuparts-slave": {section: "8", summary: "slave of a piuparts test farm, and its supervisor",
			description: "piuparts-slave reserves packages from a piuparts master, tests them with piuparts and sends the logs back; it works with Debian's piuparts-master as with ours. " +
				"run is the worker loop; start, stop, status and the other supervisor commands manage it as zdaemon does. " +
				"keygen and known-hosts set up the SSH side of a farm.",
			env: append(cfgEnv, mangen.Def{Term: "HOME", Desc: "where ~/.ssh is: the default key and known_hosts file"}),
			files: []mangen.Def{cfgFile, {Term: "~/.ssh/id_ed25519", Desc: "the slave's key when the config sets no ssh-identity (keygen makes it)"},
				{Term: "~/.ssh/known_hosts", Desc: "the master's host key when the config sets no ssh-known-hosts (known-hosts adds it)"}},
			seeAlso: append(farm, "ssh(1)", "ssh-keygen(1)")},
		"piuparts-report": {section: "8", summary: "write the web report of a piuparts test farm",
			description: "piuparts-report writes the static HTML report, summary.json and the charts of a farm's sections from the master directory.",
			env:         cfgEnv, files: []mangen.Def{cfgFile}, seeAlso: farm},
		"piuparts-portserver": {section: "8", summary: "hand out unused ports to processes, as portserver(1)",
			description: "piuparts-portserver is a port server compatible with portpicker's clients: a client sends its pid, the server answers a free port and takes it back once that process died.",
			seeAlso:     append(farm, "portserver(1)")},
		"piuparts-scenario": {section: "1", summary: "run end-to-end scenarios of a piuparts-server farm",
			description: "piuparts-scenario starts a master and slaves on this machine and runs named scenarios, printing a table of steps with time and result.",
			seeAlso:     farm},
	}
}

func run(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("mangen", flag.ContinueOnError)
	binDir := fs.String("bin", "", "`DIR` of the built programs (piuparts-*)")
	outDir := fs.String("out", "", "`DIR` to write man5/ and man8/ (or man1/) into")
	readme := fs.String("readme", "", "rewrite the config reference in `FILE` (README.md)")
	version := fs.String("version", "dev", "the version in the pages' header")
	date := fs.String("date", "", "the date in the pages' header (default: $SOURCE_DATE_EPOCH, else today)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || (*readme == "" && (*binDir == "" || *outDir == "")) {
		return errors.New("usage: mangen -bin DIR -out DIR [-version V] [-date D] | -readme FILE")
	}
	if *readme != "" {
		if err := writeReadme(*readme, stdout); err != nil {
			return err
		}
	}
	if *binDir == "" {
		return nil
	}
	if *date == "" {
		*date = time.Now().UTC().Format(time.DateOnly)
		if s := getenv("SOURCE_DATE_EPOCH"); s != "" {
			var sec int64
			if _, err := fmt.Sscan(s, &sec); err == nil {
				*date = time.Unix(sec, 0).UTC().Format(time.DateOnly)
			}
		}
	}
	return writePages(ctx, *binDir, *outDir, *version, *date, stdout)
}

// writeReadme rewrites the config reference of the README at path.
func writeReadme(path string, stdout io.Writer) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var table bytes.Buffer
	if err := mangen.WriteConfigMarkdown(&table, config.KnownKeys()); err != nil {
		return err
	}
	b, err := mangen.SpliceReadme(old, table.Bytes())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if bytes.Equal(b, old) {
		fmt.Fprintf(stdout, "%s: config reference up to date\n", path)
		return nil
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: config reference rewritten\n", path)
	return nil
}

// writePages writes a page for every piuparts-* program in binDir, and
// piuparts.toml(5).
func writePages(ctx context.Context, binDir, outDir, version, date string, stdout io.Writer) error {
	entries, err := os.ReadDir(binDir)
	if err != nil {
		return err
	}
	known := programs()
	var names []string
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0 && strings.HasPrefix(e.Name(), "piuparts-") {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("no piuparts-* programs in %s: run make build", binDir)
	}
	sort.Strings(names)
	for _, name := range names {
		p, err := program(ctx, filepath.Join(binDir, name), known[name])
		if err != nil {
			return err
		}
		p.Version, p.Date = version, date
		var b bytes.Buffer
		if err := mangen.WritePage(&b, p); err != nil {
			return err
		}
		if err := writeFile(filepath.Join(outDir, "man"+p.Section, name+"."+p.Section), b.Bytes(), stdout); err != nil {
			return err
		}
	}
	var b bytes.Buffer
	if err := mangen.WriteConfigPage(&b, config.KnownKeys(), version, date); err != nil {
		return err
	}
	return writeFile(filepath.Join(outDir, "man5", "piuparts.toml.5"), b.Bytes(), stdout)
}

func writeFile(path string, b []byte, stdout io.Writer) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return nil
}

// program reads a program's help texts.
func program(ctx context.Context, bin string, m meta) (mangen.Program, error) {
	name := filepath.Base(bin)
	text, err := helpText(ctx, bin, "--help")
	if err != nil {
		return mangen.Program{}, err
	}
	p := mangen.Program{Name: name, Section: m.section, Summary: m.summary, Description: m.description,
		Help: mangen.ParseHelp(text), Environment: m.env, Files: m.files, SeeAlso: m.seeAlso}
	if p.Section == "" {
		p.Section = "1"
	}
	if p.Summary == "" {
		p.Summary = "part of piuparts-server"
		for _, b := range p.Help.Blocks {
			if b.IsProse() {
				p.Summary = strings.TrimSuffix(strings.Join(strings.Fields(strings.Join(b.Lines, " ")), " "), ".")
				break
			}
		}
	}
	for _, c := range p.Help.Commands("commands") {
		cmd, err := commandHelp(ctx, bin, c)
		if err != nil {
			return mangen.Program{}, err
		}
		p.Commands = append(p.Commands, cmd)
	}
	return p, nil
}

// commandHelp reads "help COMMAND" and that of its subcommands.
func commandHelp(ctx context.Context, bin string, words ...string) (mangen.Command, error) {
	text, err := helpText(ctx, bin, append([]string{"help"}, words...)...)
	if err != nil {
		return mangen.Command{}, err
	}
	c := mangen.Command{Name: strings.Join(words, " "), Help: mangen.ParseHelp(text)}
	if len(words) == 1 {
		for _, s := range c.Help.Commands("subcommands") {
			sub, err := commandHelp(ctx, bin, words[0], s)
			if err != nil {
				return mangen.Command{}, err
			}
			c.Sub = append(c.Sub, sub)
		}
	}
	return c, nil
}

// helpText runs bin with args in a bare environment and returns what it
// printed on stdout and stderr (programs print help on either).
func helpText(ctx context.Context, bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, helpTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C", "HOME=/nonexistent"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil && out.Len() == 0 {
		return "", fmt.Errorf("%s %s: %w", bin, strings.Join(args, " "), err)
	}
	if !strings.Contains(strings.ToLower(out.String()), "usage") {
		return "", fmt.Errorf("%s %s printed no usage: %q", bin, strings.Join(args, " "), out.String())
	}
	return out.String(), nil
}
