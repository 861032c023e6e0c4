package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
	"piuparts-server/internal/mangen"
)

// importFile converts the INI file at path with convert, appending to out.
func importFile(path string, convert func(io.Reader, string, io.Writer) error, out *bytes.Buffer) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config import: %w", err)
	}
	defer f.Close()
	if err := convert(f, path, out); err != nil {
		return fmt.Errorf("config import: %w", err)
	}
	return nil
}

// configCommands are the subcommands of "config".
func configCommands() []command {
	return []command{
		{"import", "PIUPARTS.CONF [DISTROS.CONF]", "print the TOML equivalent of piuparts' INI files", runConfigImport},
		{"check", "", "load the config and report every error", runConfigCheck},
		{"reference", "[--format markdown|man]", "print every config key with its type, default and meaning", runConfigReference},
	}
}

// runConfig runs "config import ..." and "config check".
func runConfig(ctx context.Context, e *env, args []string) error {
	doc := "Subcommands:\n"
	for _, c := range configCommands() {
		doc += fmt.Sprintf("  %-8s %s\n", c.name, c.summary)
	}
	f := newFlags(e, "config", "import|check|reference ...", doc+"\n\"piuparts-master config SUBCOMMAND --help\" shows a subcommand's usage.")
	// Flags after the subcommand are the subcommand's: stop at it.
	if err := f.Parse(args); err != nil {
		return done(f.parseHelp(err))
	}
	rest := f.Args()
	if len(rest) == 0 {
		return f.usageError("want a subcommand: import, check or reference")
	}
	c, ok := lookup(configCommands(), rest[0])
	if !ok {
		return f.usageError("unknown subcommand %q: want import, check or reference", rest[0])
	}
	return c.run(ctx, e, rest[1:])
}

// runConfigImport is "config import PIUPARTS.CONF [DISTROS.CONF]".
func runConfigImport(_ context.Context, e *env, args []string) error {
	f := newFlags(e, "config import", "PIUPARTS.CONF [DISTROS.CONF]",
		"Print the TOML equivalent of piuparts' INI piuparts.conf (and distros.conf) on stdout,\n"+
			"e.g. config import /etc/piuparts/piuparts.conf /etc/piuparts/distros.conf > piuparts.toml.\n"+
			"[DEFAULT] and %(key)s references are resolved as Python's configparser resolves them.")
	pos, err := f.parse(args)
	if err != nil {
		return done(err)
	}
	if len(pos) != 1 && len(pos) != 2 {
		return f.usageError("want PIUPARTS.CONF [DISTROS.CONF], have %d arguments", len(pos))
	}
	// Convert both files before writing anything, so a bad distros.conf
	// leaves no half-written config on stdout.
	var out bytes.Buffer
	if err := importFile(pos[0], config.ImportINI, &out); err != nil {
		return err
	}
	if len(pos) == 2 {
		if err := importFile(pos[1], config.ImportDistrosINI, &out); err != nil {
			return err
		}
	}
	if _, err := config.Parse(bytes.NewReader(out.Bytes()), "converted config"); err != nil {
		return fmt.Errorf("config import: the converted files do not load together: %w", err)
	}
	_, err = e.stdout.Write(out.Bytes())
	return err
}

// runConfigCheck is "config check".
func runConfigCheck(_ context.Context, e *env, args []string) error {
	f := newFlags(e, "config check", "", "Load the config (-c FILE, else $PIUPARTS_CONFIG, else "+config.DefaultPath+")\nand report every error; say \"config ok\" on stderr when there is none.")
	pos, err := f.parse(args)
	if err != nil {
		return done(err)
	}
	if len(pos) != 0 {
		return f.usageError("takes no arguments, have %q", pos[0])
	}
	cfg, err := config.Load(e.configPath)
	if err != nil {
		return err
	}
	log := newLogger(e.stderr, zerolog.InfoLevel, cfg.Global.LogFormat)
	log.Info().Str("config", e.configPath).Strs("sections", cfg.Global.SectionNames).Msg("config ok")
	return nil
}

// runConfigReference is "config reference [--format markdown|man]".
func runConfigReference(_ context.Context, e *env, args []string) error {
	f := newFlags(e, "config reference", "[--format markdown|man]",
		"Print every key of the config with where it may appear, its type, its builtin default\n"+
			"and what it means, from the table the config parser checks against: as the Markdown\n"+
			"table of the README (make docs puts it there) or as the manual page piuparts.toml(5).")
	format := f.String("format", "markdown", "`FORMAT` of the output: markdown or man")
	pos, err := f.parse(args)
	if err != nil {
		return done(err)
	}
	if len(pos) != 0 {
		return f.usageError("takes no arguments, have %q", pos[0])
	}
	switch *format {
	case "markdown":
		return mangen.WriteConfigMarkdown(e.stdout, config.KnownKeys())
	case "man":
		return mangen.WriteConfigPage(e.stdout, config.KnownKeys(), version, "")
	}
	return f.usageError("--format %q: want markdown or man", *format)
}
