/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * io_park.c -- a green thread blocked in read(), accept(), poll(),
 * select() or epoll_wait() parks: it does not hold up a 100k-round
 * ping-pong between two other green threads of its worker (run it with
 * GREENPROC_WORKERS=1).  The ping-pong completes while the waiter is
 * still parked; then the waiter gets its data (a writer thread of the
 * same worker, or a connection).  A waiter that held the worker would
 * never let the ping-pong start: the alarm ends the program.  poll()
 * with a timeout returns 0, not early, and the ping-pong ran meanwhile.
 *
 * The ping-pong's time alone and beside the parked waiter is printed
 * (the "within 2x" is a benchmark figure, not a check).
 *
 * Cases: read accept poll select epoll.  Legacy code on top (libc only).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>

#include "io.h"

/* The waiter: started before it blocks, done when its call returned. */
static atomic_int w_started, w_done;
static long w_rounds_then;	/* pp_rounds when the call returned */
static int w_ret, w_errno;
static uint64_t w_took;		/* ns in the call */
static char w_buf[16];
static int pipefd[2];

static void
waiter_returned(int r)
{
	w_ret = r;
	w_errno = errno;
	w_rounds_then = atomic_load(&pp_rounds);
	atomic_store(&w_done, 1);
}

/*
 * Start (fn), let it park, run the ping-pong beside it: it must complete
 * with the waiter still parked.
 */
static pthread_t
park_and_pingpong(void *(*fn)(void *), const char *what)
{
	double alone, with;
	pthread_t t;
	int e;

	alone = pingpong();
	e = pthread_create(&t, NULL, fn, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	io_wait_for(&w_started, 1);
	with = pingpong();
	CHECK(atomic_load(&w_done) == 0,
	    "the %s returned (%d, %s) before it was given anything", what,
	    w_ret, strerror(w_errno));
	pingpong_report(what, alone, with);
	return t;
}

/* ------------------------------------------------------------ read */

static void *
reader(void *arg)
{
	(void)arg;
	atomic_store(&w_started, 1);
	waiter_returned((int)read(pipefd[0], w_buf, sizeof(w_buf)));
	return NULL;
}

static int
case_read(void)
{
	pthread_t t;

	CHECK(pipe(pipefd) == 0, "pipe: %s", strerror(errno));
	t = park_and_pingpong(reader, "read");
	CHECK(write(pipefd[1], "hello", 5) == 5, "write: %s", strerror(errno));
	pthread_join(t, NULL);
	CHECK(w_ret == 5 && memcmp(w_buf, "hello", 5) == 0,
	    "read = %d (%s)", w_ret, strerror(w_errno));
	printf("read: done\n");
	return io_green_exit();
}

/* ------------------------------------------------------------ accept */

static int lsock;

static void *
acceptor(void *arg)
{
	(void)arg;
	atomic_store(&w_started, 1);
	waiter_returned(accept(lsock, NULL, NULL));
	return NULL;
}

/* A listening TCP socket on a free loopback port; its address in *sin. */
static int
listener(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(s >= 0 && bind(s, (struct sockaddr *)sin, sizeof(*sin)) == 0 &&
	    listen(s, 16) == 0 && getsockname(s, (struct sockaddr *)sin,
	    &len) == 0, "listening socket: %s", strerror(errno));
	return s;
}

static int
case_accept(void)
{
	struct sockaddr_in sin;
	pthread_t t;
	int c;

	lsock = listener(&sin);
	t = park_and_pingpong(acceptor, "accept");
	c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(c, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "connect: %s", strerror(errno));
	pthread_join(t, NULL);
	CHECK(w_ret >= 0, "accept: %s", strerror(w_errno));
	close(w_ret);
	close(c);
	close(lsock);
	printf("accept: done\n");
	return io_green_exit();
}

/* ------------------------------------------------------------ poll */

#define POLL_MS		500

static void *
poller(void *arg)
{
	struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
	uint64_t t0;

	(void)arg;
	atomic_store(&w_started, 1);
	t0 = io_now();
	waiter_returned(poll(&pfd, 1, POLL_MS));
	w_took = io_now() - t0;
	return NULL;
}

/*
 * The ping-pong may outlast the timeout on a slow machine, so what is
 * checked is only that it ran while poll() was parked: a poll that held
 * the worker would return before the ping-pong even started.
 */
static int
case_poll(void)
{
	double alone, with;
	pthread_t t;
	int e;

	CHECK(pipe(pipefd) == 0, "pipe: %s", strerror(errno));
	alone = pingpong();
	atomic_store(&pp_rounds, 0);	/* what the poller sees is this run's */
	e = pthread_create(&t, NULL, poller, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	io_wait_for(&w_started, 1);
	with = pingpong();
	pthread_join(t, NULL);
	CHECK(w_ret == 0, "poll = %d (%s), want 0 (timeout)", w_ret,
	    strerror(w_errno));
	CHECK(w_took >= POLL_MS * IO_MS, "poll returned early: %.3f ms",
	    (double)w_took / 1e6);
	CHECK(w_rounds_then > 0, "the ping-pong did not run while poll was "
	    "parked (%ld rounds)", w_rounds_then);
	pingpong_report("poll", alone, with);
	printf("poll: done\n");
	return io_green_exit();
}

/* ------------------------------------------------------------ select */

static void *
selector(void *arg)
{
	fd_set rd;

	(void)arg;
	FD_ZERO(&rd);
	FD_SET(pipefd[0], &rd);
	atomic_store(&w_started, 1);
	waiter_returned(select(pipefd[0] + 1, &rd, NULL, NULL, NULL));
	CHECK(FD_ISSET(pipefd[0], &rd), "select: the pipe is not in the set");
	return NULL;
}

/* A writer thread of the same worker makes the descriptor ready. */
static void *
writer(void *arg)
{
	(void)arg;
	CHECK(atomic_load(&w_done) == 0, "the waiter returned before the "
	    "writer ran (%d, %s)", w_ret, strerror(w_errno));
	CHECK(write(pipefd[1], "x", 1) == 1, "write: %s", strerror(errno));
	return NULL;
}

static void
write_from_thread(void)
{
	pthread_t t;
	int e = pthread_create(&t, NULL, writer, NULL);

	CHECK(e == 0, "pthread_create: %s", strerror(e));
	pthread_join(t, NULL);
}

static int
case_select(void)
{
	struct timeval tv = { 0, 100 * 1000 };
	fd_set rd;
	pthread_t t;
	uint64_t t0;
	int r;

	CHECK(pipe(pipefd) == 0, "pipe: %s", strerror(errno));
	t = park_and_pingpong(selector, "select");
	write_from_thread();
	pthread_join(t, NULL);
	CHECK(w_ret == 1, "select = %d (%s)", w_ret, strerror(w_errno));

	/* Drained, with a timeout: 0, not early. */
	CHECK(read(pipefd[0], w_buf, 1) == 1, "read: %s", strerror(errno));
	FD_ZERO(&rd);
	FD_SET(pipefd[0], &rd);
	t0 = io_now();
	r = select(pipefd[0] + 1, &rd, NULL, NULL, &tv);
	CHECK(r == 0 && !FD_ISSET(pipefd[0], &rd), "select = %d (%s)", r,
	    strerror(errno));
	CHECK(io_now() - t0 >= 100 * IO_MS, "select returned early");
	printf("select: done\n");
	return io_green_exit();
}

/* ------------------------------------------------------------ epoll */

static int epfd;
static struct epoll_event w_ev;

static void *
epoller(void *arg)
{
	(void)arg;
	atomic_store(&w_started, 1);
	waiter_returned(epoll_wait(epfd, &w_ev, 1, -1));
	return NULL;
}

static int
case_epoll(void)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 42 };
	pthread_t t;
	uint64_t t0;
	int r;

	CHECK(pipe(pipefd) == 0, "pipe: %s", strerror(errno));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	CHECK(epfd >= 0 && epoll_ctl(epfd, EPOLL_CTL_ADD, pipefd[0], &ev) == 0,
	    "epoll: %s", strerror(errno));
	t = park_and_pingpong(epoller, "epoll_wait");
	write_from_thread();
	pthread_join(t, NULL);
	CHECK(w_ret == 1 && w_ev.data.u64 == 42 && (w_ev.events & EPOLLIN),
	    "epoll_wait = %d (%s), data %llu events 0x%x", w_ret,
	    strerror(w_errno), (unsigned long long)w_ev.data.u64,
	    w_ev.events);

	/* Drained, with a timeout: 0, not early. */
	CHECK(read(pipefd[0], w_buf, 1) == 1, "read: %s", strerror(errno));
	t0 = io_now();
	r = epoll_wait(epfd, &ev, 1, 100);
	CHECK(r == 0, "epoll_wait = %d (%s)", r, strerror(errno));
	CHECK(io_now() - t0 >= 100 * IO_MS, "epoll_wait returned early");
	printf("epoll: done\n");
	return io_green_exit();
}

/* ------------------------------------------------------------ driver */

static const struct io_case cases[] = {
	{ "read", case_read, NULL, 0 },
	{ "accept", case_accept, NULL, 0 },
	{ "poll", case_poll, NULL, 0 },
	{ "select", case_select, NULL, 0 },
	{ "epoll", case_epoll, NULL, 0 },
	{ NULL, NULL, NULL, 0 },
};

int
main(int argc, char **argv)
{
	return io_main(argc, argv, cases);
}
