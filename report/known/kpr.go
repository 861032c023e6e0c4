package known

import (
	"bytes"
	"fmt"
	"strings"

	"piuparts-server/internal/piuparts"
)

// KPRLine is one line of a .kpr file: a known problem a log shows.
type KPRLine struct {
	Kind    piuparts.Kind // the log's directory, "fail"
	Log     string        // the log's file name, "xorg-docs_1:1.6-1.log"
	Problem string        // the known problem's file name, "broken_symlinks_error.conf"
}

// FormatKPR returns the .kpr file make_kprs writes for a log of the kind
// named logname (NAME_VERSION.log) that shows the known problems hits (as
// [Classify] returns them): one line "KIND/LOGNAME PROBLEM\n" per hit, in
// their order, and nothing for a log with none.
func FormatKPR(kind piuparts.Kind, logname string, hits []string) []byte {
	var b bytes.Buffer
	for _, h := range hits {
		b.WriteString(string(kind))
		b.WriteByte('/')
		b.WriteString(logname)
		b.WriteByte(' ')
		b.WriteString(h)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// KPRError is a line of a .kpr file that FailureManager.parse_kpr_line
// cannot read (it raises AttributeError on it).
type KPRError struct {
	Line int    // 1-based
	Text string // the line, cut to 80 bytes
}

// Error returns "kpr:LINE: not KIND/LOG PROBLEM: TEXT".
func (e *KPRError) Error() string {
	return fmt.Sprintf("kpr:%d: not KIND/LOG PROBLEM: %s", e.Line, piuparts.Quote(e.Text))
}

// ParseKPR reads a .kpr file as FailureManager reads it: each line must
// match ^([a-z]+)/.+ (.+)$, so the kind is the lowercase letters before
// the first "/", the problem what follows the last space that has
// something after it, and the log what lies between. Line ends are
// Python's universal newlines. It returns a *KPRError for the first line
// that does not match (an empty line included); there is no kind check.
func ParseKPR(data []byte) ([]KPRLine, error) {
	text := string(universalNewlines(data))
	text = strings.TrimSuffix(text, "\n")
	if text == "" {
		return nil, nil
	}
	var out []KPRLine
	for i, line := range strings.Split(text, "\n") {
		kl, ok := parseKPRLine(line)
		if !ok {
			return nil, &KPRError{Line: i + 1, Text: line}
		}
		out = append(out, kl)
	}
	return out, nil
}

func parseKPRLine(line string) (KPRLine, bool) {
	k := 0
	for k < len(line) && line[k] >= 'a' && line[k] <= 'z' {
		k++
	}
	if k == 0 || k >= len(line) || line[k] != '/' {
		return KPRLine{}, false
	}
	rest := line[k+1:]
	// The last space with at least one character before and after it.
	sp := strings.LastIndexByte(rest[:max(len(rest)-1, 0)], ' ')
	if sp < 1 {
		return KPRLine{}, false
	}
	return KPRLine{Kind: piuparts.Kind(line[:k]), Log: rest[:sp], Problem: rest[sp+1:]}, true
}
