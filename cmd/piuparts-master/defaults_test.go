package main

import (
	"testing"

	"piuparts-server/internal/config"
	"piuparts-server/protocol"
)

// The config cannot import protocol (it is a leaf), so the defaults of the limits live in
// both; this test keeps them equal, so an unset key means the same in both places.
func TestDefaults_ConfigMatchesProtocol(t *testing.T) {
	if got, want := int64(config.DefaultMaxLogSize), protocol.DefaultMaxLongPart; got != want {
		t.Errorf("config.DefaultMaxLogSize = %d, want protocol.DefaultMaxLongPart %d", got, want)
	}
	if got, want := config.DefaultMaxCommandLine, protocol.DefaultMaxLine; got != want {
		t.Errorf("config.DefaultMaxCommandLine = %d, want protocol.DefaultMaxLine %d", got, want)
	}
	if got, want := config.DefaultReadIdleTimeout, protocol.DefaultIdleTimeout; got != want {
		t.Errorf("config.DefaultReadIdleTimeout = %v, want protocol.DefaultIdleTimeout %v", got, want)
	}
}
