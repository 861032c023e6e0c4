package protocol_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"piuparts-server/protocol"
)

// A master answering the sample session of README_server: it greets, reads
// commands, stores the log of pass and answers.
func Example() {
	slave := "section sid\npass liwc 1.2.3-4\n The piuparts\n log file comes\n here\n.\nreserve\n"
	r := protocol.NewReader(bufio.NewReader(strings.NewReader(slave)))
	w := protocol.NewWriter(bufio.NewWriter(os.Stdout))

	_ = w.WriteHello()
	for {
		c, err := r.ReadCommand()
		if err == io.EOF {
			return
		}
		if err == nil {
			err = c.Validate()
		}
		if err != nil {
			fmt.Println("abort:", err)
			return
		}
		switch c.Keyword {
		case protocol.CmdPass:
			var log strings.Builder
			if _, err := io.Copy(&log, r.LongPartReader()); err != nil {
				fmt.Println("abort:", err)
				return
			}
			fmt.Printf("[stored %s_%s.log: %d bytes]\n", c.Package(), c.Version(), log.Len())
			_ = w.WriteOK()
		case protocol.CmdReserve:
			_ = w.WriteOK("vorbisgain", "2.3-4")
		default:
			_ = w.WriteOK()
		}
	}
	// Output:
	// hello
	// ok
	// [stored liwc_1.2.3-4.log: 33 bytes]
	// ok
	// ok vorbisgain 2.3-4
}

// A slave sends a log: a line holding only "." travels as " .", and Close
// writes the terminating ".".
func ExampleWriter_LongPartWriter() {
	w := protocol.NewWriter(bufio.NewWriter(os.Stdout))
	_ = w.WriteCommand(protocol.Command{Keyword: protocol.CmdFail, Args: []string{"liwc", "1.2.3-4"}})
	lw := w.LongPartWriter()
	_, _ = io.WriteString(lw, "first line\n.\n\tlast line\n")
	_ = lw.Close()
	// Output:
	// fail liwc 1.2.3-4
	//  first line
	//  .
	//  	last line
	// .
}

// The slave reads the master's answer to reserve.
func ExampleReader_ReadResponse() {
	r := protocol.NewReader(bufio.NewReader(strings.NewReader("hello\nok vorbisgain 2.3-4\n")))
	if err := r.ReadHello(); err != nil {
		fmt.Println(err)
		return
	}
	resp, err := r.ReadResponse()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.OK(), resp.Args)
	// Output:
	// true [vorbisgain 2.3-4]
}

// Limits are checked while reading; each violation names its limit.
func ExampleLimits() {
	r := protocol.NewReader(bufio.NewReader(strings.NewReader(" a log that is too large\n.\n")))
	r.Limits.MaxLongPart = 10
	_, err := r.ReadLongPart()
	fmt.Println(err)
	fmt.Println(errors.Is(err, protocol.ErrLongPartTooLarge))
	// Output:
	// protocol: long part too large (limit MaxLongPart=10 bytes)
	// true
}

// Validate refuses arguments that could escape the log directory.
func ExampleCommand_Validate() {
	for _, line := range []string{"pass liwc 1.2.3-4\n", "pass liwc ../../../etc/passwd\n", "reserve now\n"} {
		c, err := protocol.NewReader(bufio.NewReader(strings.NewReader(line))).ReadCommand()
		if err == nil {
			err = c.Validate()
		}
		fmt.Printf("%q: %v\n", c.String(), err)
	}
	// Output:
	// "pass liwc 1.2.3-4": <nil>
	// "pass liwc ../../../etc/passwd": protocol: invalid version in pass command: "../../../etc/passwd"
	// "reserve now": protocol: wrong number of arguments in reserve command: "now"
}
