package remote

import (
	"math"
	"strconv"
	"strings"
	"time"

	"piuparts-server/protocol"
)

// parseIdle returns the N of "ok N" in seconds. It accepts decimal digits
// only, as a non-negative N that fits a time.Duration.
func parseIdle(resp protocol.Response) (time.Duration, bool) {
	if resp.Keyword != protocol.StatusOK || len(resp.Args) != 1 {
		return 0, false
	}
	s := resp.Args[0]
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > math.MaxInt64/int64(time.Second) {
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// parseReserve returns the reserved package of "ok NAME VERSION" with ok
// true, and ok false for "error"; valid is false for anything else,
// including names and versions that are not valid and path-safe.
func parseReserve(resp protocol.Response) (name, version string, ok, valid bool) {
	switch {
	case resp.Keyword == protocol.StatusError && len(resp.Args) == 0:
		return "", "", false, true
	case resp.Keyword != protocol.StatusOK || len(resp.Args) != 2:
		return "", "", false, false
	}
	// Why: the slave makes file names of them (reserved/NAME_VERSION.log).
	if !protocol.ValidPackageVersion(resp.Args[0], resp.Args[1]) {
		return "", "", false, false
	}
	return resp.Args[0], resp.Args[1], true, true
}

// parseStatus returns the words after "ok".
func parseStatus(resp protocol.Response) (string, bool) {
	if resp.Keyword != protocol.StatusOK {
		return "", false
	}
	return strings.Join(resp.Args, " "), true
}
