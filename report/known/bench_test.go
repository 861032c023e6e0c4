package known

import (
	"math/rand/v2"
	"testing"

	"piuparts-server/internal/piuparts"
)

// BenchmarkClassify classifies realistic 4–20 KiB logs with the shipped
// known problems: mostly clean pass logs, some failed ones with known
// problems, as in a section.
func BenchmarkClassify(b *testing.B) {
	ps, errs := LoadDir(confDir)
	if len(errs) > 0 || len(ps) == 0 {
		b.Skipf("SKIPPED: %s: %v", confDir, errs)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	type log struct {
		kind piuparts.Kind
		data []byte
	}
	var logs []log
	var size int64
	for i := range 64 {
		l := fixtureLogs[i%len(fixtureLogs)]
		kind := l.kind
		middle := l.middle
		if i%3 != 0 { // two thirds clean pass logs
			kind, middle = piuparts.KindPass, nil
		}
		data := []byte(fakeLog(rng, 4096+rng.IntN(16384), middle...))
		size += int64(len(data))
		logs = append(logs, log{kind, data})
	}
	b.SetBytes(size / int64(len(logs)))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		l := logs[i%len(logs)]
		Classify(l.kind, l.data, ps)
	}
}
