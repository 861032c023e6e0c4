package portserver_test

import (
	"context"
	"path/filepath"
	"testing"

	"piuparts-server/slave/portserver"
)

// BenchmarkServer_Grant measures grants from 16 concurrent clients for
// distinct live owners, with the owner table on disk. The pool (55,536
// ports) outlasts the grants of a one-second run.
func BenchmarkServer_Grant(b *testing.B) {
	ports, _ := portserver.ParsePool("10000-65535")
	var owners []int
	for range 16 {
		owners = append(owners, child(b).Process.Pid)
	}
	s := startServer(b, portserver.Config{Ports: ports, TablePath: filepath.Join(b.TempDir(), "owners")})
	b.ResetTimer()
	b.SetParallelism(8)
	next := make(chan int, 16)
	for _, o := range owners {
		next <- o
	}
	b.RunParallel(func(pb *testing.PB) {
		owner := <-next
		for pb.Next() {
			if _, err := portserver.Request(context.Background(), s.addr, owner); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
