package protocol_test

import (
	"errors"
	"strings"
	"testing"

	"piuparts-server/protocol"
)

func cmd(kw string, args ...string) protocol.Command {
	return protocol.Command{Keyword: kw, Args: args}
}

func TestCommand_Validate(t *testing.T) {
	tests := []struct {
		name    string
		in      protocol.Command
		wantErr error
	}{
		{"Section", cmd("section", "sid"), nil},
		{"SectionDashes", cmd("section", "bookworm2trixie-rcmd"), nil},
		{"Recycle", cmd("recycle"), nil},
		{"Idle", cmd("idle"), nil},
		{"Reserve", cmd("reserve"), nil},
		{"Status", cmd("status"), nil},
		{"Unreserve", cmd("unreserve", "liwc", "1.2.3-4"), nil},
		{"Pass", cmd("pass", "liwc", "1.2.3-4"), nil},
		{"FailEpoch", cmd("fail", "libc6", "2:2.36-9+deb12u4"), nil},
		{"UntestableTilde", cmd("untestable", "g++-12", "12.2.0-14~bpo11+1"), nil},
		{"DebugState", cmd("_state", "liwc"), nil},
		{"DebugList", cmd("_list", "successfully-tested"), nil},
		{"Unknown", cmd("hello"), protocol.ErrUnknownCommand},
		{"UnknownCase", cmd("RESERVE"), protocol.ErrUnknownCommand},
		{"ReserveArgs", cmd("reserve", "x"), protocol.ErrArgCount},
		{"PassOneArg", cmd("pass", "liwc"), protocol.ErrArgCount},
		{"PassThreeArgs", cmd("pass", "liwc", "1", "2"), protocol.ErrArgCount},
		{"SectionNoArg", cmd("section"), protocol.ErrArgCount},
		{"SectionSlash", cmd("section", "../etc"), protocol.ErrInvalidToken},
		{"SectionDotDot", cmd("section", ".."), protocol.ErrInvalidToken},
		{"SectionHidden", cmd("section", ".git"), protocol.ErrInvalidToken},
		{"PackageSlash", cmd("pass", "a/b", "1.0"), protocol.ErrInvalidPackage},
		{"PackageDotDot", cmd("pass", "..", "1.0"), protocol.ErrInvalidPackage},
		{"PackageUpper", cmd("pass", "Liwc", "1.0"), protocol.ErrInvalidPackage},
		{"PackageOneChar", cmd("pass", "a", "1.0"), protocol.ErrInvalidPackage},
		{"PackageNUL", cmd("pass", "li\x00wc", "1.0"), protocol.ErrInvalidPackage},
		{"PackageTooLong", cmd("pass", strings.Repeat("a", 126), "1.0"), protocol.ErrInvalidPackage},
		{"VersionSlash", cmd("fail", "liwc", "1.0/../../x"), protocol.ErrInvalidVersion},
		{"VersionDotDotInside", cmd("fail", "liwc", "1..0"), nil},
		{"VersionNone", cmd("pass", "liwc", "None"), nil},
		{"VersionControl", cmd("fail", "liwc", "1.0\x1b"), protocol.ErrInvalidVersion},
		{"VersionLetterFirst", cmd("fail", "liwc", "a1.0"), protocol.ErrInvalidVersion},
		{"VersionEmptyRevision", cmd("fail", "liwc", "1.0-"), protocol.ErrInvalidVersion},
		{"VersionBadEpoch", cmd("fail", "liwc", "x:1.0"), protocol.ErrInvalidVersion},
		{"VersionTooLong", cmd("fail", "liwc", "1."+strings.Repeat("0", 124)), protocol.ErrInvalidVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Validate()
			if tt.wantErr == nil {
				if err != nil {
					t.Errorf("Validate(%q) = %v, want nil", tt.in, err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Validate(%q) = %v, want %v", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestCommand_ValidateArgError(t *testing.T) {
	err := cmd("pass", "liwc", "1.0/x").Validate()
	var ae *protocol.ArgError
	if !errors.As(err, &ae) {
		t.Fatalf("Validate: error = %v, want *protocol.ArgError", err)
	}
	if ae.Keyword != "pass" || ae.Arg != "1.0/x" {
		t.Errorf("ArgError = %+v, want keyword pass, arg 1.0/x", ae)
	}
	if want := `protocol: invalid version in pass command: "1.0/x"`; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}

func TestCommand_Accessors(t *testing.T) {
	tests := []struct {
		in                protocol.Command
		pkg, version, str string
		hasLongPart       bool
	}{
		{cmd("pass", "liwc", "1.2.3-4"), "liwc", "1.2.3-4", "pass liwc 1.2.3-4", true},
		{cmd("fail", "liwc", "1"), "liwc", "1", "fail liwc 1", true},
		{cmd("untestable", "liwc", "1"), "liwc", "1", "untestable liwc 1", true},
		{cmd("unreserve", "liwc", "1"), "liwc", "1", "unreserve liwc 1", false},
		{cmd("_state", "liwc"), "liwc", "", "_state liwc", false},
		{cmd("section", "sid"), "", "", "section sid", false},
		{cmd("reserve"), "", "", "reserve", false},
		{cmd("pass"), "", "", "pass", true},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			if got := tt.in.Package(); got != tt.pkg {
				t.Errorf("Package() = %q, want %q", got, tt.pkg)
			}
			if got := tt.in.Version(); got != tt.version {
				t.Errorf("Version() = %q, want %q", got, tt.version)
			}
			if got := tt.in.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			if got := tt.in.HasLongPart(); got != tt.hasLongPart {
				t.Errorf("HasLongPart() = %v, want %v", got, tt.hasLongPart)
			}
		})
	}
}

func TestResponse_OK(t *testing.T) {
	if !(protocol.Response{Keyword: "ok"}).OK() {
		t.Error("Response ok: OK() = false")
	}
	for _, kw := range []string{"error", "busy"} {
		if (protocol.Response{Keyword: kw}).OK() {
			t.Errorf("Response %s: OK() = true", kw)
		}
	}
	if got := (protocol.Response{Keyword: "ok", Args: []string{"vorbisgain", "2.3-4"}}).String(); got != "ok vorbisgain 2.3-4" {
		t.Errorf("String() = %q", got)
	}
}
