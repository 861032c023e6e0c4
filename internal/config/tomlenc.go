package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// tomlKey writes a key bare when TOML allows it, quoted otherwise.
func tomlKey(k string) string {
	if k == "" {
		return `""`
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return tomlString(k)
		}
	}
	return k
}

// tomlList writes an array of strings.
func tomlList(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = tomlString(w)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// tomlFloat writes a float so that TOML reads it back as a float.
func tomlFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return s // refused by convert; never written
	}
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// tomlValue writes a typed value of a key in TOML syntax.
func tomlValue(k kind, v any) string {
	switch x := v.(type) {
	case string:
		return tomlString(x)
	case int:
		return strconv.Itoa(x)
	case float64:
		return tomlFloat(x)
	case bool:
		return strconv.FormatBool(x)
	case []string:
		return tomlList(x)
	case Args:
		return tomlList(x)
	case time.Duration:
		// Whole seconds as an integer, as piuparts.conf writes them.
		if x%time.Second == 0 {
			return strconv.FormatInt(int64(x/time.Second), 10)
		}
		return tomlString(formatDuration(x))
	case Days:
		if x.Relative {
			return tomlString(x.String())
		}
		return strconv.Itoa(x.N)
	}
	panic(fmt.Sprintf("config: no TOML form for %T (%v)", v, k))
}
