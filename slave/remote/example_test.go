package remote_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"piuparts-server/slave/remote"
)

// A slave's round with a master: here one played by fakeMaster over a
// pipe; Dial gives the same Client over SSH or a local master command.
func ExampleClient() {
	ctx := context.Background()
	cli, srv := net.Pipe()
	go func() {
		defer srv.Close()
		fakeMaster("ok", srv, srv, io.Discard)
	}()
	c, err := remote.NewClient(ctx, cli, "example", remote.Options{ConnectTimeout: 10 * time.Second, ReadTimeout: time.Minute})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	if err := c.Section(ctx, "sid"); errors.Is(err, remote.ErrBusy) {
		fmt.Println("busy, try later")
		return
	} else if err != nil {
		fmt.Println(err)
		return
	}
	for {
		name, version, ok, err := c.Reserve(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		if !ok {
			fmt.Println("nothing more to test")
			break
		}
		fmt.Println("reserved", name, version)
		if err := c.Submit(ctx, "pass", name, version, strings.NewReader("the log\n")); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := c.Recycle(ctx); errors.Is(err, remote.ErrCantRecycle) {
		fmt.Println(err)
	}
	// Output:
	// reserved foo 1.0
	// nothing more to test
	// remote: master answered "error" to "recycle": remote: master cannot recycle
}
