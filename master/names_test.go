package master_test

import (
	"fmt"
	"strings"
	"testing"

	"piuparts-server/internal/config"
	"piuparts-server/internal/piuparts"
	"piuparts-server/protocol"
	"piuparts-server/store"
)

// TestSectionNames_OneRule: the config, the wire and the store accept the
// same section names (piuparts.ValidSectionName), among them Debian's own
// and "sid~exp", which Debian's master accepts too.
func TestSectionNames_OneRule(t *testing.T) {
	names := []struct {
		name string
		want bool
	}{
		{"sid", true}, {"bookworm-pu", true}, {"sid2experimental", true}, {"sid~exp", true},
		{"jessie_lts", true}, {"trixie.1", true}, {"x+y", true},
		{".hidden", false}, {"-x", false}, {"a/b", false}, {"..", false}, {"a b", false},
		{"a\tb", false}, {strings.Repeat("s", 126), false},
	}
	for _, tt := range names {
		t.Run(tt.name, func(t *testing.T) {
			if got := piuparts.ValidSectionName(tt.name); got != tt.want {
				t.Errorf("ValidSectionName(%q) = %v, want %v", tt.name, got, tt.want)
			}
			wire := protocol.Command{Keyword: protocol.CmdSection, Args: []string{tt.name}}.Validate() == nil
			if strings.ContainsAny(tt.name, " \t") {
				wire = false // cannot be one word of a line
			}
			if wire != tt.want {
				t.Errorf("protocol accepts section %q: %v, want %v", tt.name, wire, tt.want)
			}
			if got := store.CheckName("section", tt.name) == nil; got != tt.want {
				t.Errorf("store accepts section %q: %v, want %v", tt.name, got, tt.want)
			}
			toml := fmt.Sprintf("[global]\nsections = [%q]\n\n[%q]\ndistro = \"sid\"\n", tt.name, tt.name)
			_, err := config.Parse(strings.NewReader(toml), "piuparts.toml")
			if got := err == nil; got != tt.want {
				t.Errorf("config accepts section %q: %v (%v), want %v", tt.name, got, err, tt.want)
			}
		})
	}
}
