package protocol_test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"piuparts-server/protocol"
)

// readmePayload is the log the slave sends in README_server's sample session.
const readmePayload = "The piuparts\nlog file comes\nhere\n"

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReadmeTranscript checks that the two byte streams replayed below are
// the sample session of README_server, split by direction.
func TestReadmeTranscript(t *testing.T) {
	var master, slave strings.Builder
	for _, line := range strings.SplitAfter(string(readTestdata(t, "readme_session.txt")), "\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "<< "):
			master.WriteString(line[3:])
		case strings.HasPrefix(line, ">> "):
			slave.WriteString(line[3:])
		default:
			t.Fatalf("readme_session.txt: line %q has no direction", line)
		}
	}
	if got, want := master.String(), string(readTestdata(t, "readme_master_output.txt")); got != want {
		t.Errorf("master output from transcript = %q, want %q", got, want)
	}
	if got, want := slave.String(), string(readTestdata(t, "readme_slave_output.txt")); got != want {
		t.Errorf("slave output from transcript = %q, want %q", got, want)
	}
}

// TestSession_MasterSide replays the slave's half of the README session into
// a Reader and checks that a master answering through a Writer produces the
// master's half byte for byte.
func TestSession_MasterSide(t *testing.T) {
	in := readTestdata(t, "readme_slave_output.txt")
	r := protocol.NewReader(bufio.NewReader(bytes.NewReader(in)))
	var out bytes.Buffer
	w := protocol.NewWriter(bufio.NewWriter(&out))

	if err := w.WriteHello(); err != nil {
		t.Fatal(err)
	}
	var got []protocol.Command
	for {
		c, err := r.ReadCommand()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("ReadCommand: %v", err)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Validate(%v): %v", c, err)
		}
		got = append(got, c)
		switch c.Keyword {
		case protocol.CmdSection:
			err = w.WriteOK()
		case protocol.CmdPass:
			var log []byte
			log, err = r.ReadLongPart()
			if err != nil {
				t.Fatalf("ReadLongPart: %v", err)
			}
			if string(log) != readmePayload {
				t.Errorf("ReadLongPart() = %q, want %q", log, readmePayload)
			}
			err = w.WriteOK()
		case protocol.CmdReserve:
			err = w.WriteOK("vorbisgain", "2.3-4")
		default:
			t.Fatalf("unexpected command %v", c)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []protocol.Command{
		{Keyword: "section", Args: []string{"sid"}},
		{Keyword: "pass", Args: []string{"liwc", "1.2.3-4"}},
		{Keyword: "reserve"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("commands = %q, want %q", got, want)
	}
	if want := readTestdata(t, "readme_master_output.txt"); !bytes.Equal(out.Bytes(), want) {
		t.Errorf("master wrote %q, want %q", out.Bytes(), want)
	}
}

// TestSession_SlaveSide replays the master's half of the README session into
// a Reader and checks that a slave talking through a Writer produces the
// slave's half byte for byte.
func TestSession_SlaveSide(t *testing.T) {
	in := readTestdata(t, "readme_master_output.txt")
	r := protocol.NewReader(bufio.NewReader(bytes.NewReader(in)))
	var out bytes.Buffer
	w := protocol.NewWriter(bufio.NewWriter(&out))

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	expect := func(want protocol.Response) {
		t.Helper()
		got, err := r.ReadResponse()
		if err != nil {
			t.Fatalf("ReadResponse: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("ReadResponse() = %q, want %q", got, want)
		}
	}
	must(r.ReadHello())
	must(w.WriteCommand(protocol.Command{Keyword: "section", Args: []string{"sid"}}))
	expect(protocol.Response{Keyword: "ok"})
	must(w.WriteCommand(protocol.Command{Keyword: "pass", Args: []string{"liwc", "1.2.3-4"}}))
	lw := w.LongPartWriter()
	_, err := io.WriteString(lw, readmePayload)
	must(err)
	must(lw.Close())
	expect(protocol.Response{Keyword: "ok"})
	must(w.WriteCommand(protocol.Command{Keyword: "reserve"}))
	expect(protocol.Response{Keyword: "ok", Args: []string{"vorbisgain", "2.3-4"}})
	if _, err := r.ReadResponse(); err != io.EOF {
		t.Errorf("ReadResponse at end = %v, want io.EOF", err)
	}
	if want := readTestdata(t, "readme_slave_output.txt"); !bytes.Equal(out.Bytes(), want) {
		t.Errorf("slave wrote %q, want %q", out.Bytes(), want)
	}
}
