// Package protocol is the line protocol of piuparts master/slave mode,
// the codec used by both sides: the master reads commands with
// [Reader.ReadCommand] and answers with [Writer.WriteOK],
// [Writer.WriteError] and [Writer.WriteBusy]; the slave reads the greeting
// with [Reader.ReadHello] and the answers with [Reader.ReadResponse], and
// sends commands with [Writer.WriteCommand] and logs with
// [Writer.LongPartWriter]. It is shaped like net/textproto, with
// piuparts' framing.
//
// # Wire grammar
//
//	session    = greeting *( command response )
//	greeting   = "hello" LF                       ; exactly, from the master
//	command    = line [ long-part ]               ; long part after pass, fail, untestable
//	response   = line                             ; keyword ok, error or busy
//	line       = field *( SP field ) LF
//	field      = 1*( %x21-7E / %x80-FF )          ; no space, no control character
//	long-part  = *( SP payload-line ) "." LF
//	payload-line = *( %x00-09 / %x0B-FF ) LF      ; any byte but LF, NUL and CR included
//
// LF is "\n", SP a single space. The first field of a line is its
// keyword (a command, or the status ok, error or busy), the others its
// arguments.
//
// Debian's programs split lines with Python's str.split(), which also
// accepts tabs, "\r" and runs of spaces; this package accepts exactly what
// it writes and what Debian's programs write: fields separated by single
// spaces. An empty line, a leading, trailing or repeated space, "\r", a
// tab or any other control character (bytes below 0x20 and 0x7F) is a
// [*SyntaxError]. A line that the input cuts off before its LF is
// [io.ErrUnexpectedEOF]: unlike Debian's master, a truncated command is
// never acted upon. (Debian's master also ends the session quietly on an
// empty or blank line; here that is a [*SyntaxError], and the connection
// ends either way.) Keywords and arguments are not checked while reading;
// [Command.Validate] checks that the command is known, has the right number
// of arguments, and that package names, versions, section and state names
// are valid and cannot escape a directory.
//
// A long part is a list of lines: each payload line travels with one
// leading space, which the reader removes, and a line holding only "."
// ends the part; any other line (one without the leading space, an empty
// one) is a [*SyntaxError], as in Debian's master. A payload line that is
// itself "." travels as " ." and does not end the part. Payload bytes pass
// through unchanged, so payloads that are empty or end in LF round-trip
// byte for byte; a payload whose last line lacks its LF gets one added by
// the writer, as Debian's slave does when it sends a log. Payload lines
// have no length limit of their own: the reader streams them, and the
// payload as a whole is bounded by [Limits].MaxLongPart.
//
// # Limits
//
// The [Reader] checks [Limits] while it reads, before it allocates memory:
// a command or response line longer than MaxLine, or a long part larger
// than MaxLongPart, is a [*LimitError] that wraps [ErrLineTooLong] or
// [ErrLongPartTooLarge]. The idle timeout is applied by the caller as a
// read deadline, for example with a [DeadlineReader] between the
// connection and the bufio.Reader.
//
// # Transcript
//
// The sample session of piuparts' README_server (">>" is what the slave
// sends, "<<" what the master answers):
//
//	<< hello
//	>> section sid
//	<< ok
//	>> pass liwc 1.2.3-4
//	>>  The piuparts
//	>>  log file comes
//	>>  here
//	>> .
//	<< ok
//	>> reserve
//	<< ok vorbisgain 2.3-4
package protocol
