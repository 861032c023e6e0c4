//go:build !race

package protocol_test

// raceEnabled is true under the race detector, which slows streaming tests
// about twentyfold.
const raceEnabled = false
