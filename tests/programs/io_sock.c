/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * io_sock.c -- sockets on green threads, what the kernel would do:
 *
 *  refused      connect() to a closed loopback port: ECONNREFUSED.
 *  rcvtimeo     SO_RCVTIMEO: recv() and read() give -1/EAGAIN, never
 *               before the timeout (CLOCK_MONOTONIC), and another green
 *               thread of the worker ran meanwhile (the LWP parked).
 *  sndtimeo     SO_SNDTIMEO: a send with no room gives -1/EAGAIN, never
 *               before the timeout.
 *  accept_many  several green threads in accept() on one listening
 *               socket (run it with GREENPROC_WORKERS=2): each connection
 *               (made from the host thread) is accepted by exactly one of
 *               them, the others stay parked until their own.
 *  accept_kill  SIGKILL (from the host) of a green process whose threads
 *               are parked in accept() ends it at once: waitpid says
 *               SIGKILL (a process that cannot be killed is a hang: the
 *               alarm fails it).
 *
 * Legacy code on top (libc only), except the host parts, which are the
 * driver's.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "io.h"

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

/* ------------------------------------------------------------ refused */

static int
case_refused(void)
{
	struct sockaddr_in sin;
	int s, c, r;

	/* A port that was just free: bound, then closed without listening. */
	s = listener(&sin);
	close(s);
	c = socket(AF_INET, SOCK_STREAM, 0);
	r = connect(c, (struct sockaddr *)&sin, sizeof(sin));
	CHECK(r == -1 && errno == ECONNREFUSED, "connect = %d (%s)", r,
	    strerror(errno));
	close(c);
	printf("refused: done\n");
	return io_green_exit();
}

/* ------------------------------------------------------------ rcvtimeo */

#define TIMEO_MS	200

static atomic_int t_started, t_stop;
static atomic_long t_spins;

/* Runs whenever the worker is free. */
static void *
spinner(void *arg)
{
	(void)arg;
	atomic_store(&t_started, 1);
	while (!atomic_load(&t_stop)) {
		atomic_fetch_add(&t_spins, 1);
		sched_yield();
	}
	return NULL;
}

static void
timed_out(int s, bool use_read)
{
	char buf[8];
	long spins0 = atomic_load(&t_spins);
	uint64_t t0 = io_now(), took;
	ssize_t r;

	r = use_read ? read(s, buf, sizeof(buf)) : recv(s, buf, sizeof(buf),
	    0);
	took = io_now() - t0;
	CHECK(r == -1 && errno == EAGAIN, "%s = %zd (%s)", use_read ? "read" :
	    "recv", r, strerror(errno));
	CHECK(took >= TIMEO_MS * IO_MS, "%s returned early: %.3f ms",
	    use_read ? "read" : "recv", (double)took / 1e6);
	CHECK(atomic_load(&t_spins) > spins0, "no other thread ran while "
	    "%s waited", use_read ? "read" : "recv");
}

static int
case_rcvtimeo(void)
{
	struct timeval tv = { 0, TIMEO_MS * 1000 };
	pthread_t t;
	int sv[2], e;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair: %s",
	    strerror(errno));
	CHECK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0,
	    "SO_RCVTIMEO: %s", strerror(errno));
	e = pthread_create(&t, NULL, spinner, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	io_wait_for(&t_started, 1);
	timed_out(sv[0], false);
	timed_out(sv[0], true);
	atomic_store(&t_stop, 1);
	pthread_join(t, NULL);
	printf("rcvtimeo: done\n");
	return io_green_exit();
}

/* SO_SNDTIMEO: a send that finds no room at all times out with EAGAIN. */
static int
case_sndtimeo(void)
{
	struct timeval tv = { 0, TIMEO_MS * 1000 };
	char buf[4096];
	long filled = 0;
	uint64_t t0, took;
	ssize_t r;
	int sv[2];

	memset(buf, 's', sizeof(buf));
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair: %s",
	    strerror(errno));
	CHECK(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0,
	    "SO_SNDTIMEO: %s", strerror(errno));
	while ((r = send(sv[0], buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		filled += r;
	CHECK(r == -1 && errno == EAGAIN, "filling send = %zd (%s)", r,
	    strerror(errno));
	t0 = io_now();
	r = send(sv[0], buf, 1, 0);
	took = io_now() - t0;
	CHECK(r == -1 && errno == EAGAIN, "send = %zd (%s) after %ld bytes", r,
	    strerror(errno), filled);
	CHECK(took >= TIMEO_MS * IO_MS, "send returned early: %.3f ms",
	    (double)took / 1e6);
	printf("sndtimeo: done\n");
	return io_green_exit();
}

/* ------------------------------------------------------------ accept */

#define ACCEPTORS	4

static int lsock;
static struct sockaddr_in laddr;
static atomic_int a_started, a_accepted, a_errors, a_ready;
static atomic_int a_seen[ACCEPTORS];

/* One accept; the client says which connection it is. */
static void *
acceptor(void *arg)
{
	unsigned char id = 0xff;
	int c;

	(void)arg;
	atomic_fetch_add(&a_started, 1);
	c = accept(lsock, NULL, NULL);
	if (c < 0) {
		atomic_fetch_add(&a_errors, 1);
		CHECK(c >= 0, "accept: %s", strerror(errno));
		return NULL;
	}
	CHECK(read(c, &id, 1) == 1 && id < ACCEPTORS, "read id = %u (%s)", id,
	    strerror(errno));
	if (id < ACCEPTORS)
		atomic_fetch_add(&a_seen[id], 1);
	atomic_fetch_add(&a_accepted, 1);
	close(c);
	return NULL;
}

static int
case_accept_many(void)
{
	pthread_t t[ACCEPTORS];
	int i, e;

	lsock = listener(&laddr);
	for (i = 0; i < ACCEPTORS; i++) {
		e = pthread_create(&t[i], NULL, acceptor, NULL);
		CHECK(e == 0, "pthread_create: %s", strerror(e));
	}
	io_wait_for(&a_started, ACCEPTORS);
	atomic_store(&a_ready, 1);	/* the host connects now */
	for (i = 0; i < ACCEPTORS; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < ACCEPTORS; i++)
		CHECK(atomic_load(&a_seen[i]) == 1, "connection %d accepted %d "
		    "times", i, atomic_load(&a_seen[i]));
	close(lsock);
	printf("accept_many: done\n");
	return io_green_exit();
}

/* Host thread: sleep, as the host sleeps (not a green sleep). */
static void
host_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		continue;
}

/* Until *v == want (the alarm bounds it). */
static void
host_wait(atomic_int *v, int want)
{
	while (atomic_load(v) != want)
		host_ms(1);
}

/*
 * One connection at a time: exactly one acceptor more returns for each;
 * the rest, still parked, do not return with an error meanwhile.
 */
static void
host_accept_many(pid_t pid)
{
	int c[ACCEPTORS], i;
	unsigned char id;

	(void)pid;
	host_wait(&a_ready, 1);
	for (i = 0; i < ACCEPTORS; i++) {
		id = (unsigned char)i;
		c[i] = socket(AF_INET, SOCK_STREAM, 0);
		CHECK(connect(c[i], (struct sockaddr *)&laddr,
		    sizeof(laddr)) == 0, "connect %d: %s", i, strerror(errno));
		CHECK(write(c[i], &id, 1) == 1, "write: %s", strerror(errno));
		host_wait(&a_accepted, i + 1);
		host_ms(20);	/* room for a wrong second accept */
		CHECK(atomic_load(&a_accepted) == i + 1 &&
		    atomic_load(&a_errors) == 0, "after connection %d: %d "
		    "accepted, %d errors", i, atomic_load(&a_accepted),
		    atomic_load(&a_errors));
	}
	for (i = 0; i < ACCEPTORS; i++)
		close(c[i]);
}

static atomic_int k_ready;

static void *
kill_acceptor(void *arg)
{
	(void)arg;
	atomic_fetch_add(&a_started, 1);
	(void)accept(lsock, NULL, NULL);
	printf("FAIL: NOT REACHED: accept returned (%s)\n", strerror(errno));
	return NULL;
}

static int
case_accept_kill(void)
{
	pthread_t t;
	int e;

	lsock = listener(&laddr);
	e = pthread_create(&t, NULL, kill_acceptor, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	io_wait_for(&a_started, 1);
	io_yield_some();
	atomic_store(&k_ready, 1);	/* the host kills now */
	(void)accept(lsock, NULL, NULL);
	printf("FAIL: NOT REACHED: accept returned (%s)\n", strerror(errno));
	return 1;
}

static void
host_kill(pid_t pid)
{
	host_wait(&k_ready, 1);
	host_ms(20);	/* the main thread parks in its accept */
	printf("driver: SIGKILL\n");
	CHECK(kill(pid, SIGKILL) == 0, "kill: %s", strerror(errno));
}

/* ------------------------------------------------------------ driver */

static const struct io_case cases[] = {
	{ "refused", case_refused, NULL, 0 },
	{ "rcvtimeo", case_rcvtimeo, NULL, 0 },
	{ "sndtimeo", case_sndtimeo, NULL, 0 },
	{ "accept_many", case_accept_many, host_accept_many, 0 },
	{ "accept_kill", case_accept_kill, host_kill, SIGKILL },
	{ NULL, NULL, NULL, 0 },
};

int
main(int argc, char **argv)
{
	return io_main(argc, argv, cases);
}
