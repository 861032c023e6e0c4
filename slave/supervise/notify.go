package supervise

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// notifier speaks systemd's notification protocol (sd_notify(3)): one
// datagram per message to the unixgram socket named by NOTIFY_SOCKET, a
// leading "@" meaning the abstract namespace. With no NOTIFY_SOCKET it
// does nothing.
type notifier struct {
	socket   string
	watchdog time.Duration // WATCHDOG_USEC, 0 without a watchdog
}

func newNotifier(getenv func(string) string, pid int) notifier {
	n := notifier{socket: getenv("NOTIFY_SOCKET")}
	if usec, err := strconv.ParseInt(getenv("WATCHDOG_USEC"), 10, 64); err == nil && usec > 0 {
		if p := getenv("WATCHDOG_PID"); p == "" || p == strconv.Itoa(pid) {
			n.watchdog = time.Duration(usec) * time.Microsecond
		}
	}
	return n
}

// send sends one message such as "READY=1".
func (n notifier) send(msg string) error {
	if n.socket == "" {
		return nil
	}
	name := n.socket
	if name[0] == '@' {
		name = "\x00" + name[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(msg)); err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	return nil
}
