package protocol_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"piuparts-server/protocol"
)

// The reference tests run the long-part code of Debian's piuparts, when it
// is installed, against this package in both directions.

const (
	referencePython  = "/usr/bin/python3"
	referenceBackend = "/usr/share/piuparts/piuparts-master-backend"
	referenceSlave   = "/usr/share/piuparts/piuparts-slave"
)

func referenceCommand(t *testing.T, script string, args ...string) *exec.Cmd {
	t.Helper()
	for _, p := range []string{referencePython, script} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("Debian's piuparts reference not installed (%v); apt-get install piuparts-master piuparts-slave", err)
		}
	}
	cmd := exec.CommandContext(t.Context(), referencePython,
		append([]string{filepath.Join("testdata", "reference.py")}, args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "PYTHONIOENCODING=utf-8:surrogateescape")
	cmd.Stderr = os.Stderr
	return cmd
}

// TestReference_DebianMasterReadsOurLongPart checks that Debian's master
// reads what LongPartWriter writes as the original payload.
func TestReference_DebianMasterReadsOurLongPart(t *testing.T) {
	for name, payload := range roundTripPayloads() {
		t.Run(name, func(t *testing.T) {
			var wire bytes.Buffer
			writeLongPart(t, protocol.NewWriter(bufio.NewWriter(&wire)), payload)
			cmd := referenceCommand(t, referenceBackend, "master-read-long-part")
			cmd.Stdin = &wire
			got, err := cmd.Output()
			if err != nil {
				t.Fatalf("Debian's master: %v", err)
			}
			if string(got) != payload {
				t.Errorf("Debian's master read %q, want %q", cut(string(got)), cut(payload))
			}
		})
	}
}

// TestReference_OurReaderReadsDebianSlave checks that the Reader reads
// what Debian's slave sends for a log: the command, then the log as the
// slave reads it in text mode ("\r" ends a line, a last line gets "\n").
func TestReference_OurReaderReadsDebianSlave(t *testing.T) {
	for name, payload := range roundTripPayloads() {
		if !utf8.ValidString(payload) {
			continue // Debian's slave raises UnicodeDecodeError on such a log
		}
		t.Run(name, func(t *testing.T) {
			logFile := filepath.Join(t.TempDir(), "liwc_1:1.2.3-4.log")
			if err := os.WriteFile(logFile, []byte(payload), 0o644); err != nil {
				t.Fatal(err)
			}
			wire, err := referenceCommand(t, referenceSlave, "slave-send-log", logFile).Output()
			if err != nil {
				t.Fatalf("Debian's slave: %v", err)
			}
			r := protocol.NewReader(bufio.NewReader(bytes.NewReader(wire)))
			c, err := r.ReadCommand()
			if err != nil {
				t.Fatalf("ReadCommand: %v", err)
			}
			if err := c.Validate(); err != nil || c.Keyword != "pass" || c.Package() != "liwc" || c.Version() != "1:1.2.3-4" {
				t.Errorf("ReadCommand() = %q (Validate: %v), want pass liwc 1:1.2.3-4", c, err)
			}
			got, err := r.ReadLongPart()
			if err != nil {
				t.Fatalf("ReadLongPart of %q: %v", cut(string(wire)), err)
			}
			want := strings.ReplaceAll(strings.ReplaceAll(payload, "\r\n", "\n"), "\r", "\n")
			if want != "" && !strings.HasSuffix(want, "\n") {
				want += "\n"
			}
			if string(got) != want {
				t.Errorf("ReadLongPart() = %q, want %q", cut(string(got)), cut(want))
			}
		})
	}
}
