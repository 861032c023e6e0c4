package main

import (
	"bytes"
	"net"
	"testing"
)

// FuzzCopyOut gives the forced command arbitrary bytes from the server:
// copyOut never panics, and what it writes out is exactly what came
// before the first NUL byte.
func FuzzCopyOut(f *testing.F) {
	for _, s := range []string{
		"hello\nok\n\x00{}",
		"hello\nok\n\x00{\"error\":\"master: connection aborted\",\"reason\":\"error\"}",
		"hello\n",
		"\x00",
		"\x00not json",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		srv, cli := net.Pipe()
		go func() {
			srv.Write(in)
			srv.Close()
		}()
		var out bytes.Buffer
		end, err := copyOut(&out, cli, func() {})
		cli.Close()
		want := in
		if i := bytes.IndexByte(in, 0); i >= 0 {
			want = in[:i]
		} else if end != nil {
			t.Fatalf("an end without a NUL byte: %+v", end)
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Fatalf("wrote %q, want %q", out.Bytes(), want)
		}
		_ = err
	})
}
