package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"piuparts-server/internal/config"
)

// runConfig runs "config import FILE" and "config check".
func runConfig(_ context.Context, args []string, path string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("config: want import or check: %w", errUsage)
	}
	switch args[0] {
	case "import":
		if len(args) != 2 {
			return fmt.Errorf("config import: want one INI file (e.g. /etc/piuparts/piuparts.conf): %w", errUsage)
		}
		f, err := os.Open(args[1])
		if err != nil {
			return fmt.Errorf("config import: %w", err)
		}
		defer f.Close()
		if err := config.ImportINI(f, args[1], stdout); err != nil {
			return fmt.Errorf("config import: %w", err)
		}
		return nil
	case "check":
		if len(args) != 1 {
			return fmt.Errorf("config check takes no arguments: %w", errUsage)
		}
		cfg, err := config.Load(path)
		if err != nil {
			return err
		}
		log := newLogger(stderr)
		log.Info().Str("config", path).Strs("sections", cfg.Global.SectionNames).Msg("config ok")
		return nil
	default:
		return fmt.Errorf("config: unknown subcommand %q: %w", args[0], errUsage)
	}
}
