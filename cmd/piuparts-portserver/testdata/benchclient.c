/*
 * One client process of TestPortserver_Bench: benchclient ADDR PID N.
 *
 * It says "ready", waits for a line on its standard input, then sends N
 * requests for PID to the port server at ADDR (a leading '@' is the
 * abstract namespace), one after another, each on a new connection as
 * portpicker makes them, and prints each one's latency in nanoseconds and
 * the port ("-" when denied), then "span FIRST LAST": the CLOCK_MONOTONIC
 * times of its first request and of its last answer.
 *
 * It is C, not Go, so that 64 of them on two cores cost the machine only
 * their system calls: a Go process adds its runtime's monitor thread, which
 * wakes every 20 us while the program is in system calls, and that is the
 * clients' time, not the servers'.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ask returns the port, 0 when denied, -1 on an error. */
static int ask(const struct sockaddr_un *sa, socklen_t len, const char *req, size_t reqlen) {
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, len) < 0) {
		close(fd);
		return -1;
	}
	size_t off = 0;
	while (off < reqlen) {
		ssize_t m = write(fd, req + off, reqlen - off);
		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0) {
			close(fd);
			return -1;
		}
		off += (size_t)m;
	}
	char buf[32];
	size_t n = 0;
	while (n < sizeof buf - 1) {
		ssize_t m = read(fd, buf + n, sizeof buf - 1 - n);
		if (m < 0 && errno == EINTR)
			continue;
		if (m < 0) {
			close(fd);
			return -1;
		}
		if (m == 0)
			break;
		n += (size_t)m;
	}
	close(fd);
	buf[n] = 0;
	return n == 0 ? 0 : atoi(buf);
}

int main(int argc, char **argv) {
	if (argc != 4) {
		fprintf(stderr, "usage: benchclient ADDR PID N\n");
		return 2;
	}
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	size_t alen = strlen(argv[1]);
	if (alen >= sizeof sa.sun_path) {
		fprintf(stderr, "benchclient: address too long\n");
		return 2;
	}
	memcpy(sa.sun_path, argv[1], alen);
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + alen);
	if (argv[1][0] == '@')
		sa.sun_path[0] = 0;
	else
		len++;
	char req[32];
	int reqlen = snprintf(req, sizeof req, "%s\n", argv[2]);
	int n = atoi(argv[3]);
	long long *lat = calloc((size_t)n, sizeof *lat);
	int *port = calloc((size_t)n, sizeof *port);
	if (!lat || !port)
		return 1;

	fputs("ready\n", stdout);
	fflush(stdout);
	char go[2];
	if (read(0, go, 1) != 1)
		return 1;
	long long first = now();
	for (int i = 0; i < n; i++) {
		long long t0 = now();
		port[i] = ask(&sa, len, req, (size_t)reqlen);
		lat[i] = now() - t0;
	}
	long long last = now();
	for (int i = 0; i < n; i++) {
		if (port[i] < 0)
			printf("error %s\n", strerror(errno));
		else if (port[i] == 0)
			printf("%lld -\n", lat[i]);
		else
			printf("%lld %d\n", lat[i], port[i]);
	}
	printf("span %lld %lld\n", first, last);
	return 0;
}
