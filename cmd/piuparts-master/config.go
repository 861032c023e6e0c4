package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"

	"piuparts-server/internal/config"
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

// runConfig runs "config import FILE" and "config check".
func runConfig(_ context.Context, args []string, path string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("config: want import or check: %w", errUsage)
	}
	switch args[0] {
	case "import":
		if len(args) != 2 && len(args) != 3 {
			return fmt.Errorf("config import: want PIUPARTS.CONF [DISTROS.CONF] (e.g. /etc/piuparts/piuparts.conf /etc/piuparts/distros.conf): %w", errUsage)
		}
		// Convert both files before writing anything, so a bad distros.conf
		// leaves no half-written config on stdout.
		var out bytes.Buffer
		if err := importFile(args[1], config.ImportINI, &out); err != nil {
			return err
		}
		if len(args) == 3 {
			if err := importFile(args[2], config.ImportDistrosINI, &out); err != nil {
				return err
			}
		}
		if _, err := config.Parse(bytes.NewReader(out.Bytes()), "converted config"); err != nil {
			return fmt.Errorf("config import: the converted files do not load together: %w", err)
		}
		_, err := stdout.Write(out.Bytes())
		return err
	case "check":
		if len(args) != 1 {
			return fmt.Errorf("config check takes no arguments: %w", errUsage)
		}
		cfg, err := config.Load(path)
		if err != nil {
			return err
		}
		log := newLogger(stderr, zerolog.InfoLevel, cfg.Global.LogFormat)
		log.Info().Str("config", path).Strs("sections", cfg.Global.SectionNames).Msg("config ok")
		return nil
	default:
		return fmt.Errorf("config: unknown subcommand %q: %w", args[0], errUsage)
	}
}
