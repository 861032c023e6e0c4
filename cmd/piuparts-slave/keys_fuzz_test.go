package main

import (
	"strings"
	"testing"
)

// FuzzParseHostPort: what known-hosts accepts as HOST[:PORT] is a host
// without blanks, slashes or brackets and a port in range, and the
// known_hosts name it gives reads back as the same host and port.
func FuzzParseHostPort(f *testing.F) {
	for _, s := range []string{"master.example.org", "127.0.0.1:2222", "[::1]:22", "host:0", "local", "[a]:b", "a b", "::1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := parseHostPort(s)
		if err != nil {
			return
		}
		if o.Host == "" || strings.ContainsAny(o.Host, " \t\n/@[]") || o.Port < 0 || o.Port > 65535 {
			t.Fatalf("parseHostPort(%q) = host %q port %d", s, o.Host, o.Port)
		}
		back, err := parseHostPort(o.Addr())
		if err != nil {
			t.Fatalf("parseHostPort(%q) = %q, whose known_hosts name %q does not parse: %v", s, o.Host, o.Addr(), err)
		}
		if back.Addr() != o.Addr() {
			t.Fatalf("parseHostPort(%q): known_hosts name %q reads back as %q", s, o.Addr(), back.Addr())
		}
	})
}
