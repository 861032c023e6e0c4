package spool_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"piuparts-server/slave/spool"
)

func Example() {
	slaveDir, err := os.MkdirTemp("", "slave")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(slaveDir)

	s, err := spool.Open(filepath.Join(slaveDir, "sid"), spool.Options{Master: "local"})
	if err != nil {
		log.Fatal(err)
	}
	// Work on the section only while holding its lock, as piuparts-slave does.
	release, err := s.Lock()
	if err != nil {
		log.Fatal(err) // errors.Is(err, spool.ErrBusy): another slave is at it
	}
	defer release()

	// The master reserved hello 2.10-3 for us.
	if err := s.Reserve("hello", "2.10-3"); err != nil {
		log.Fatal(err)
	}
	l, err := s.Create("hello", "2.10-3")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Abort() // nothing after Commit
	fmt.Fprintf(l, "Start: 2024-05-01 12:00:00 UTC\n...\nEnd: 2024-05-01 12:03:00 UTC\n")
	if err := l.Commit(spool.ResultPass); err != nil {
		log.Fatal(err)
	}

	pending, _ := s.Pending()
	fmt.Println("pending:", pending)
	n, err := s.Ship(context.Background(), func(ctx context.Context, e spool.Entry, r io.Reader) error {
		// A real slave streams r to the master: remote.Client.Submit.
		b, err := io.ReadAll(r)
		fmt.Printf("submit %s %s %s: %d bytes\n", e.Result, e.Name, e.Version, len(b))
		return err
	})
	fmt.Println("shipped:", n, err)
	pending, _ = s.Pending()
	fmt.Println("pending:", pending)
	// Output:
	// pending: 1
	// submit pass hello 2.10-3: 64 bytes
	// shipped: 1 <nil>
	// pending: 0
}
