package main

import (
	"crypto/ed25519"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

// FuzzAuthorizedKeyLine: whatever the command's path words and the key's
// comment, authorize either refuses or writes one line that sshd reads as
// the same key with exactly the forced command (whose words a POSIX shell
// splits back into the given words plus --slave-id=ID) and the four
// restrictions; the comment never adds an option or a second line.
func FuzzAuthorizedKeyLine(f *testing.F) {
	f.Add("/usr/bin/piuparts-master", "-c", "/etc/piuparts/piuparts.toml", "slave@host")
	f.Add("/opt/my farm/piuparts-master", "-c", "/srv/it's here.toml", "a\nb")
	f.Add("/x\"y", "-c", "$(reboot)", "\x00")
	f.Add("", "-c", "`id`;rm", "command=\"sh\" ssh-ed25519 AAAA")
	pub := ed25519.PublicKey(make([]byte, ed25519.PublicKeySize))
	key, err := ssh.NewPublicKey(pub)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, prog, flag, conf, comment string) {
		words := []string{prog, flag, conf}
		line, err := authorizedKeyLine(words, "slave1", key, comment)
		if err != nil {
			return
		}
		if strings.ContainsAny(line, "\n\r\x00") {
			t.Fatalf("line %q holds a line break or NUL", line)
		}
		got, _, opts, rest, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			t.Fatalf("sshd would not read %q: %v", line, err)
		}
		if len(strings.TrimSpace(string(rest))) != 0 {
			t.Fatalf("%q holds more than one key", line)
		}
		if string(got.Marshal()) != string(key.Marshal()) {
			t.Fatalf("%q names another key", line)
		}
		want := strings.Split(authorizedKeyOptions, ",")
		if len(opts) != 1+len(want) || !slices.Equal(opts[1:], want) || !strings.HasPrefix(opts[0], `command="`) || !strings.HasSuffix(opts[0], `"`) {
			t.Fatalf("%q: options %q, want command=\"...\" and %q", line, opts, want)
		}
		cmd := strings.TrimSuffix(strings.TrimPrefix(opts[0], `command="`), `"`)
		split, ok := shellSplit(cmd)
		if !ok || !slices.Equal(split, append(words, "--slave-id=slave1")) {
			t.Fatalf("command %q: a shell runs %q, want %q", cmd, split, append(words, "--slave-id=slave1"))
		}
	})
}

// shellSplit splits s as a POSIX shell splits a command of plain words,
// single-quoted strings and backslash escapes; ok is false when s holds
// anything else that the shell would expand or interpret.
func shellSplit(s string) (words []string, ok bool) {
	var w strings.Builder
	in := false // inside a word
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, false
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			in = true
		case c == '\\':
			if i+1 == len(s) {
				return nil, false
			}
			i++
			w.WriteByte(s[i])
			in = true
		case strings.IndexByte("\"$`;&|<>()*?[]#~!{}\n", c) >= 0:
			return nil, false
		default:
			w.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words, true
}
