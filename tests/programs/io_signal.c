/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * io_signal.c -- a green signal to a thread parked in I/O (signal(7)):
 * kill() of the green process with SIGUSR1, which only the parked thread
 * does not block, so that it is the one to take it.
 *
 *  eintr           handler without SA_RESTART, thread parked in read()
 *                  on an empty pipe: the handler runs on that thread, then
 *                  read returns -1/EINTR.
 *  restart         the same with SA_RESTART: the handler runs, the read
 *                  goes on parked and returns the data written later.
 *  timeo_norestart SA_RESTART, recv() on a socket with SO_RCVTIMEO:
 *                  never restarted, EINTR (signal(7)).
 *  poll_norestart  SA_RESTART, poll() with no timeout: never restarted,
 *                  EINTR.
 *  sock_eintr      eintr on a socket the runtime already knows (a first
 *  sock_restart    read parked on it): read() is a recv underneath, on
 *                  io_uring one IORING_OP_RECV that the signal cancels;
 *                  and restart the same way.
 *
 * Legacy code on top (libc only).  Run it with GREENPROC_WORKERS=1.
 */
#include <poll.h>
#include <sys/socket.h>

#include "io.h"

enum call { C_READ, C_RECV, C_POLL };

static int fds[2];
static enum call w_call;
static atomic_int w_started, w_done, handled, handled_on_waiter;
static pthread_t waiter_t;
static ssize_t w_ret;
static int w_errno;
static char w_buf[16];

static void
on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
	if (pthread_equal(pthread_self(), waiter_t))
		atomic_store(&handled_on_waiter, 1);
}

static void *
waiter(void *arg)
{
	struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
	sigset_t usr1;

	(void)arg;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	atomic_store(&w_started, 1);
	switch (w_call) {
	case C_READ:
		w_ret = read(fds[0], w_buf, sizeof(w_buf));
		break;
	case C_RECV:
		w_ret = recv(fds[0], w_buf, sizeof(w_buf), 0);
		break;
	case C_POLL:
		w_ret = poll(&pfd, 1, -1);
		break;
	}
	w_errno = errno;
	atomic_store(&w_done, 1);
	return NULL;
}

/*
 * Install the handler, park the waiter in (call), signal the process.
 * Returns once the handler has run; the waiter is not joined.
 */
static void
park_and_signal(enum call call, int sa_flags)
{
	struct sigaction sa;
	sigset_t usr1;
	int e;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = sa_flags;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction: %s",
	    strerror(errno));
	/* Only the waiter takes SIGUSR1 (it unblocks it for itself). */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL);
	w_call = call;
	e = pthread_create(&waiter_t, NULL, waiter, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	io_wait_for(&w_started, 1);
	io_yield_some();
	CHECK(atomic_load(&w_done) == 0, "the call returned %zd (%s) before "
	    "the signal", w_ret, strerror(w_errno));
	CHECK(kill(getpid(), SIGUSR1) == 0, "kill: %s", strerror(errno));
	io_wait_for(&handled, 1);
	CHECK(atomic_load(&handled_on_waiter) == 1,
	    "the handler did not run on the parked thread");
}

static int
case_eintr(void)
{
	CHECK(pipe(fds) == 0, "pipe: %s", strerror(errno));
	park_and_signal(C_READ, 0);
	pthread_join(waiter_t, NULL);
	CHECK(w_ret == -1 && w_errno == EINTR, "read = %zd (%s), want EINTR",
	    w_ret, strerror(w_errno));
	printf("eintr: done\n");
	return io_green_exit();
}

/*
 * A read parked on fds[0] and interrupted by a handler installed with
 * SA_RESTART goes on waiting, and returns what is written afterwards.
 */
static void
read_survives_restarting_signal(void)
{
	park_and_signal(C_READ, SA_RESTART);
	io_yield_some();
	CHECK(atomic_load(&w_done) == 0, "the read returned %zd (%s) under "
	    "SA_RESTART", w_ret, strerror(w_errno));
	CHECK(write(fds[1], "late", 4) == 4, "write: %s", strerror(errno));
	pthread_join(waiter_t, NULL);
	CHECK(w_ret == 4 && memcmp(w_buf, "late", 4) == 0, "read = %zd (%s)",
	    w_ret, strerror(w_errno));
}

static int
case_restart(void)
{
	CHECK(pipe(fds) == 0, "pipe: %s", strerror(errno));
	read_survives_restarting_signal();
	CHECK(atomic_load(&handled) == 1, "handler ran %d times",
	    atomic_load(&handled));
	printf("restart: done\n");
	return io_green_exit();
}

static int
case_timeo_norestart(void)
{
	struct timeval tv = { 30, 0 };

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0, "socketpair: %s",
	    strerror(errno));
	CHECK(setsockopt(fds[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0,
	    "SO_RCVTIMEO: %s", strerror(errno));
	park_and_signal(C_RECV, SA_RESTART);
	pthread_join(waiter_t, NULL);
	CHECK(w_ret == -1 && w_errno == EINTR, "recv = %zd (%s), want EINTR",
	    w_ret, strerror(w_errno));
	printf("timeo_norestart: done\n");
	return io_green_exit();
}

static int
case_poll_norestart(void)
{
	CHECK(pipe(fds) == 0, "pipe: %s", strerror(errno));
	park_and_signal(C_POLL, SA_RESTART);
	pthread_join(waiter_t, NULL);
	CHECK(w_ret == -1 && w_errno == EINTR, "poll = %zd (%s), want EINTR",
	    w_ret, strerror(w_errno));
	printf("poll_norestart: done\n");
	return io_green_exit();
}

/* Writes "x" to fds[1] once the main thread has parked in its read. */
static void *
late_x(void *arg)
{
	(void)arg;
	io_yield_some();
	CHECK_QUIET(write(fds[1], "x", 1) == 1, "write: %s", strerror(errno));
	return NULL;
}

/* A socket pair on which a read has parked once (runtime/fdinfo.c). */
static void
known_socket(void)
{
	pthread_t t;
	char c = 0;
	int e;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0, "socketpair: %s",
	    strerror(errno));
	e = pthread_create(&t, NULL, late_x, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	CHECK(read(fds[0], &c, 1) == 1 && c == 'x', "first read: %s",
	    strerror(errno));
	if (e == 0)
		pthread_join(t, NULL);
}

static int
case_sock_eintr(void)
{
	known_socket();
	park_and_signal(C_READ, 0);
	pthread_join(waiter_t, NULL);
	CHECK(w_ret == -1 && w_errno == EINTR, "read = %zd (%s), want EINTR",
	    w_ret, strerror(w_errno));
	/* Nothing was taken by the cancelled receive. */
	CHECK(write(fds[1], "next", 4) == 4 && read(fds[0], w_buf, 4) == 4 &&
	    memcmp(w_buf, "next", 4) == 0, "read after EINTR: %s",
	    strerror(errno));
	printf("sock_eintr: done\n");
	return io_green_exit();
}

static int
case_sock_restart(void)
{
	known_socket();
	read_survives_restarting_signal();
	printf("sock_restart: done\n");
	return io_green_exit();
}

/* ------------------------------------------------------------ driver */

static const struct io_case cases[] = {
	{ "eintr", case_eintr, NULL, 0 },
	{ "restart", case_restart, NULL, 0 },
	{ "timeo_norestart", case_timeo_norestart, NULL, 0 },
	{ "poll_norestart", case_poll_norestart, NULL, 0 },
	{ "sock_eintr", case_sock_eintr, NULL, 0 },
	{ "sock_restart", case_sock_restart, NULL, 0 },
	{ NULL, NULL, NULL, 0 },
};

int
main(int argc, char **argv)
{
	return io_main(argc, argv, cases);
}
