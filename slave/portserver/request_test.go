package portserver_test

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"piuparts-server/slave/portserver"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int // 0: an error
	}{
		{"Plain", "4242", 4242},
		{"One", "1", 1},
		{"MaxPid", "4194304", 4194304},
		{"AboveMaxPid", "4194305", 0},
		{"Huge", "99999999999", 0},
		{"Negative", "-5", 0},
		{"Plus", "+5", 0},
		{"Spaces", " 5 ", 0},
		{"Underscore", "1_000", 0},
		{"LeadingZero", "0042", 0},
		{"Zero", "0", 0},
		{"Empty", "", 0},
		{"CarriageReturn", "42\r", 0},
		{"Hex", "0x10", 0},
		{"Letters", "abc", 0},
		{"UnicodeDigit", "٤٢", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := portserver.ParseRequest([]byte(tt.in))
			if tt.want == 0 {
				var re *portserver.RequestError
				if !errors.As(err, &re) {
					t.Fatalf("ParseRequest(%q) = %d, %v; want a *RequestError", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseRequest(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestReadRequest(t *testing.T) {
	tests := []struct {
		name    string
		r       io.Reader
		want    int
		wantErr error
	}{
		{"Newline", strings.NewReader("31321\n"), 31321, nil},
		{"SplitWrite", io.MultiReader(strings.NewReader("31"), strings.NewReader("321\n")), 31321, nil},
		{"OneByteAtATime", iotest.OneByteReader(strings.NewReader("31321\nrest")), 31321, nil},
		{"EOFEndsARequest", strings.NewReader("31321"), 31321, nil},
		{"NothingAtAll", strings.NewReader(""), 0, io.ErrUnexpectedEOF},
		{"TooLong", strings.NewReader(strings.Repeat("1", 40)), 0, portserver.ErrRequestTooLong},
		{"ReadError", iotest.ErrReader(errors.New("boom")), 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := portserver.ReadRequest(tt.r)
			switch {
			case tt.want != 0 && (err != nil || got != tt.want):
				t.Errorf("ReadRequest = %d, %v; want %d", got, err, tt.want)
			case tt.want == 0 && err == nil:
				t.Errorf("ReadRequest = %d, nil; want an error", got)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("ReadRequest error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
