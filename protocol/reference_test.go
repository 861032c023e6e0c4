package protocol_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"piuparts-server/protocol"
)

// The reference tests run the long-part code of Debian's piuparts, when it
// is installed, against this package in both directions; one Python
// process handles all payloads.

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

// sortedPayloads returns the names of roundTripPayloads in a fixed order.
func sortedPayloads() ([]string, map[string]string) {
	payloads := roundTripPayloads()
	names := make([]string, 0, len(payloads))
	for name := range payloads {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, payloads
}

// TestReference_DebianMasterReadsOurLongPart checks that Debian's master
// reads what LongPartWriter writes as the original payload.
func TestReference_DebianMasterReadsOurLongPart(t *testing.T) {
	names, payloads := sortedPayloads()
	var wire bytes.Buffer
	w := protocol.NewWriter(bufio.NewWriter(&wire))
	for _, name := range names {
		writeLongPart(t, w, payloads[name])
	}
	cmd := referenceCommand(t, referenceBackend, "master-read-long-parts", strconv.Itoa(len(names)))
	cmd.Stdin = &wire
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("Debian's master: %v", err)
	}
	for _, name := range names {
		sizeLine, rest, ok := bytes.Cut(out, []byte("\n"))
		size, err := strconv.Atoi(string(sizeLine))
		if !ok || err != nil || size > len(rest) {
			t.Fatalf("%s: bad output from reference.py: %q", name, cut(string(out)))
		}
		got := string(rest[:size])
		out = rest[size:]
		if want := payloads[name]; got != want {
			t.Errorf("%s: Debian's master read %q, want %q", name, cut(got), cut(want))
		}
	}
}

// TestReference_OurReaderReadsDebianSlave checks that the Reader reads
// what Debian's slave sends for a log: the command, then the log as the
// slave reads it in text mode ("\r" ends a line, a last line gets "\n").
func TestReference_OurReaderReadsDebianSlave(t *testing.T) {
	names, payloads := sortedPayloads()
	dir := t.TempDir()
	var sent, files []string
	for i, name := range names {
		if !utf8.ValidString(payloads[name]) {
			continue // Debian's slave raises UnicodeDecodeError on such a log
		}
		sent = append(sent, name)
		f := filepath.Join(dir, fmt.Sprintf("liwc_1:1.2.3-%d.log", i))
		if err := os.WriteFile(f, []byte(payloads[name]), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	wire, err := referenceCommand(t, referenceSlave, append([]string{"slave-send-logs"}, files...)...).Output()
	if err != nil {
		t.Fatalf("Debian's slave: %v", err)
	}
	r := protocol.NewReader(bufio.NewReader(bytes.NewReader(wire)))
	for i, name := range sent {
		c, err := r.ReadCommand()
		if err != nil {
			t.Fatalf("%s: ReadCommand: %v", name, err)
		}
		wantVersion := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(files[i]), "liwc_"), ".log")
		if err := c.Validate(); err != nil || c.Keyword != "pass" || c.Package() != "liwc" || c.Version() != wantVersion {
			t.Errorf("%s: ReadCommand() = %q (Validate: %v), want pass liwc %s", name, c, err, wantVersion)
		}
		got, err := r.ReadLongPart()
		if err != nil {
			t.Fatalf("%s: ReadLongPart: %v", name, err)
		}
		want := strings.ReplaceAll(strings.ReplaceAll(payloads[name], "\r\n", "\n"), "\r", "\n")
		if want != "" && !strings.HasSuffix(want, "\n") {
			want += "\n"
		}
		if string(got) != want {
			t.Errorf("%s: ReadLongPart() = %q, want %q", name, cut(string(got)), cut(want))
		}
	}
	if c, err := r.ReadCommand(); err == nil {
		t.Errorf("ReadCommand after the last log = %q, want io.EOF", c)
	}
}
