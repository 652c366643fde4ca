/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * echo_client.c -- the load generator for examples/echo.c and the echo
 * servers of bench/echo/: one thread, one epoll set, CONNS concurrent
 * loopback connections, each doing ROUNDS request/response rounds of a
 * SIZE-byte message.  Every echoed byte is checked.
 *
 *	echo_client -p PORT [-c CONNS] [-r ROUNDS] [-s SIZE] [-t SECONDS]
 *	    [-b BATCH] [-i]
 *
 * Three phases:
 *   1. connect: at most BATCH connections are "opening" at a time (not
 *      yet echoed their first message), so the server's accept queue
 *      (net.core.somaxconn) never overflows: an overflow drops the SYN
 *      and costs a one-second retransmission.  Each connection's first
 *      round trip ends this phase for it, so that the server has really
 *      accepted it and run its handler once.
 *   2. with -i: print "idle" on stdout and wait for a line (or EOF) on
 *      stdin, every connection open and quiet: the driver measures the
 *      server's memory at this point.
 *   3. timed: every connection does ROUNDS more round trips, all at
 *      once; each round's latency is from its send to the last byte of
 *      its echo.  With -d: print "done" and wait for a line (or EOF)
 *      again, every connection still open: the driver reads the
 *      server's CPU time before the closes add theirs.  Then all close.
 *
 * On success prints one line on stdout,
 *	conns=C rounds=R requests=N secs=S rps=X p50_us=Y p99_us=Z
 * and exits 0.  Exits 1 on a wrong byte, an early EOF, a failed
 * connection; 2 when nothing progressed for -t seconds (a hung server).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE	4096

/* C_NEW: not opened yet; C_WARM: first echo back, quiet until phase 3. */
enum conn_state { C_NEW, C_OPENING, C_WARM, C_TIMED, C_DONE };

struct conn {
	int		fd;
	enum conn_state	state;
	int		round;		/* rounds completed in this phase */
	size_t		sent;		/* bytes of the current message sent */
	size_t		got;		/* bytes of its echo received */
	uint64_t	t_send;		/* when the current message went out */
};

static int nconns = 100, rounds = 10, msg_size = 64, batch = 256;
static int timeout_s = 30, idle_pause, done_pause;
static struct sockaddr_in server;
static struct conn *conns;
static int epfd;
static uint32_t *lat_ns;		/* one per timed round */
static size_t nlat;
static uint64_t last_progress;
static int opened;			/* connections opened so far */
static int warm;			/* ... through their first round trip */
static int timed_done;			/* ... through all timed rounds */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void
fail(const char *what)
{
	fprintf(stderr, "echo_client: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Byte i of connection c's message in its round r (phase 3: r >= 1). */
static unsigned char
msg_byte(int c, int r, size_t i)
{
	return (unsigned char)(c * 131 + r * 17 + (int)i * 7 + 1);
}

static void
conn_open(int c)
{
	struct conn *cn = &conns[c];
	struct epoll_event ev;
	int one = 1;

	cn->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (cn->fd < 0)
		fail("socket");
	setsockopt(cn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(cn->fd, (struct sockaddr *)&server, sizeof(server)) != 0 &&
	    errno != EINPROGRESS)
		fail("connect");
	cn->state = C_OPENING;
	cn->sent = cn->got = 0;
	cn->round = 0;
	/* Edge-triggered: every handler works until EAGAIN. */
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
	ev.data.u32 = (uint32_t)c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, cn->fd, &ev) != 0)
		fail("epoll_ctl");
}

/* The round whose bytes connection cn sends or checks now. */
static int
cur_round(const struct conn *cn)
{
	return cn->state == C_TIMED ? 1 + cn->round : 0;
}

/* Send what is left of the current message; 0, or -1 on a dead socket. */
static int
conn_send(int c)
{
	struct conn *cn = &conns[c];
	unsigned char buf[MAX_SIZE];
	size_t i;
	ssize_t n;

	if (cn->sent == 0)
		cn->t_send = now_ns();
	while (cn->sent < (size_t)msg_size) {
		for (i = cn->sent; i < (size_t)msg_size; i++)
			buf[i] = msg_byte(c, cur_round(cn), i);
		n = send(cn->fd, buf + cn->sent, (size_t)msg_size - cn->sent,
		    MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		cn->sent += (size_t)n;
	}
	return 0;
}

/*
 * Read and check what has come back.  Returns 1 when the echo of the
 * current message is complete, 0 when more is to come, and exits on a
 * wrong byte, an EOF or an error.
 */
static int
conn_recv(int c)
{
	struct conn *cn = &conns[c];
	unsigned char buf[MAX_SIZE];
	size_t i;
	ssize_t n;

	while (cn->got < cn->sent) {
		n = recv(cn->fd, buf, (size_t)msg_size - cn->got, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n < 0)
			fail("recv");
		if (n == 0) {
			fprintf(stderr, "echo_client: connection %d: EOF after "
			    "%zu of %d bytes in round %d\n", c, cn->got,
			    msg_size, cur_round(cn));
			exit(1);
		}
		for (i = 0; i < (size_t)n; i++) {
			if (buf[i] != msg_byte(c, cur_round(cn), cn->got + i)) {
				fprintf(stderr, "echo_client: connection %d "
				    "round %d byte %zu: got 0x%02x, want "
				    "0x%02x\n", c, cur_round(cn), cn->got + i,
				    buf[i], msg_byte(c, cur_round(cn),
				    cn->got + i));
				exit(1);
			}
		}
		cn->got += (size_t)n;
		/* The server echoes only what it was sent: never ahead. */
		if (cn->got > cn->sent) {
			fprintf(stderr, "echo_client: connection %d: echo "
			    "ahead of the message\n", c);
			exit(1);
		}
	}
	return cn->got == (size_t)msg_size;
}

/*
 * One epoll event of connection c: send, receive and check as far as the
 * socket allows, moving the connection on (opening -> warm, timed ->
 * done) when its echo is complete.
 */
static void
conn_event(int c, uint32_t events)
{
	struct conn *cn = &conns[c];
	socklen_t len = sizeof(int);
	uint64_t t;
	int err = 0;

	if (cn->state == C_OPENING && cn->sent == 0) {
		/* Connected yet?  SO_ERROR says, and clears the error. */
		if (getsockopt(cn->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			fail("getsockopt");
		if (err != 0) {
			errno = err;
			fail("connect");
		}
		if (!(events & (EPOLLOUT | EPOLLIN)))
			return;
	}
	if (cn->state != C_OPENING && cn->state != C_TIMED)
		return;
	for (;;) {
		if (conn_send(c) != 0)
			fail("send");
		if (!conn_recv(c))
			return;
		t = now_ns();
		last_progress = t;
		cn->sent = cn->got = 0;
		if (cn->state == C_OPENING) {
			cn->state = C_WARM;
			warm++;
			return;
		}
		t -= cn->t_send;
		lat_ns[nlat++] = t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
		if (++cn->round == rounds) {
			cn->state = C_DONE;
			timed_done++;
			return;
		}
	}
}

/*
 * Poll until *count reaches nconns, calling more() (if not NULL) first
 * each time round; exits 2 when nothing moves for timeout_s.
 */
static void
run_until(const int *count, void (*more)(void), const char *phase)
{
	struct epoll_event evs[256];
	int i, n;

	last_progress = now_ns();
	while (*count < nconns) {
		if (more != NULL)
			more();
		n = epoll_wait(epfd, evs, 256, 100);
		if (n < 0 && errno != EINTR)
			fail("epoll_wait");
		for (i = 0; i < n; i++)
			conn_event((int)evs[i].data.u32, evs[i].events);
		if (now_ns() - last_progress >
		    (uint64_t)timeout_s * 1000000000ULL) {
			fprintf(stderr, "echo_client: %s: no progress for %d s "
			    "(%d of %d connections through), giving up\n",
			    phase, timeout_s, *count, nconns);
			exit(2);
		}
	}
}

/* Open connections while fewer than batch are still opening. */
static void
open_more(void)
{
	while (opened < nconns && opened - warm < batch)
		conn_open(opened++);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static void
usage(void)
{
	fprintf(stderr, "usage: echo_client -p PORT [-c CONNS] [-r ROUNDS] "
	    "[-s SIZE] [-t SECONDS] [-b BATCH] [-i] [-d]\n");
	exit(2);
}

/* Say (what) on stdout and wait for a line, or EOF, on stdin. */
static void
pause_for_driver(const char *what)
{
	char line[64];
	ssize_t n;

	printf("%s\n", what);
	fflush(stdout);
	while ((n = read(0, line, sizeof(line))) > 0 &&
	    memchr(line, '\n', (size_t)n) == NULL)
		;
}

int
main(int argc, char **argv)
{
	struct rlimit rl;
	uint64_t t0, t1;
	int port = 0, opt, c;
	double secs;

	while ((opt = getopt(argc, argv, "p:c:r:s:t:b:id")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'c': nconns = atoi(optarg); break;
		case 'r': rounds = atoi(optarg); break;
		case 's': msg_size = atoi(optarg); break;
		case 't': timeout_s = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'i': idle_pause = 1; break;
		case 'd': done_pause = 1; break;
		default: usage();
		}
	}
	if (port <= 0 || port > 65535 || nconns <= 0 || rounds <= 0 ||
	    msg_size <= 0 || msg_size > MAX_SIZE || timeout_s <= 0 ||
	    batch <= 0 || optind != argc)
		usage();
	signal(SIGPIPE, SIG_IGN);

	/* A descriptor per connection, plus a few. */
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		fail("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		fail("setrlimit");
	if (rl.rlim_cur < (rlim_t)nconns + 16) {
		fprintf(stderr, "echo_client: RLIMIT_NOFILE %llu is too small "
		    "for %d connections\n", (unsigned long long)rl.rlim_cur,
		    nconns);
		return 1;
	}

	memset(&server, 0, sizeof(server));
	server.sin_family = AF_INET;
	server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	server.sin_port = htons((unsigned short)port);
	conns = calloc((size_t)nconns, sizeof(*conns));
	lat_ns = calloc((size_t)nconns * (size_t)rounds, sizeof(*lat_ns));
	if (conns == NULL || lat_ns == NULL)
		fail("calloc");
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		fail("epoll_create1");

	/* 1. Connect, a batch at a time, and one round trip each. */
	run_until(&warm, open_more, "connect");

	/* 2. Everything open and quiet: the driver may look now. */
	if (idle_pause)
		pause_for_driver("idle");

	/* 3. Timed: all connections, all rounds, at once. */
	t0 = now_ns();
	for (c = 0; c < nconns; c++) {
		conns[c].state = C_TIMED;
		conn_event(c, EPOLLOUT);
	}
	run_until(&timed_done, NULL, "rounds");
	t1 = now_ns();
	if (done_pause)
		pause_for_driver("done");
	for (c = 0; c < nconns; c++)
		close(conns[c].fd);

	qsort(lat_ns, nlat, sizeof(*lat_ns), cmp_u32);
	secs = (double)(t1 - t0) / 1e9;
	printf("conns=%d rounds=%d requests=%zu secs=%.3f rps=%.0f "
	    "p50_us=%.1f p99_us=%.1f\n", nconns, rounds, nlat, secs,
	    (double)nlat / secs, lat_ns[nlat / 2] / 1000.0,
	    lat_ns[nlat * 99 / 100] / 1000.0);
	return 0;
}
