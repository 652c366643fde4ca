/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_io.c -- green I/O (issue 13), on both engines: every test runs
 * once with GREENPROC_IO=uring and once with GREENPROC_IO=epoll.
 *
 *  - the io_*.c programs of tests/programs/: unmodified pthread and libc
 *    code in a green process under the preload, one case per run, with
 *    GREENPROC_WORKERS=1 unless the case needs two; each prints the
 *    engine it got, "ok:"/"FAIL:" lines and "ALL OK" (check.h);
 *  - the linked API (gp_read, gp_poll, gp_fdwait...) on LWPs of this
 *    process, and on the host thread, where each is the plain call.
 *
 * A worker held by a blocked call shows as a hang: the programs' alarm()
 * and the suite's timeout make it a failure.  No test asserts a time,
 * only that a timeout was never early.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

TestSuite(io, .timeout = 60.0);

/* ------------------------------------------------------------ programs */

#define RUN_TIMEOUT_S	40		/* the programs' own alarm is 20 s */

static struct tu_run R;		/* stdout and stderr, interleaved */

/*
 * Our programs run plain under a sanitizer tier (test_preload.c: the
 * sanitizer's pthread_create interceptor expects kernel threads).
 */
static const char *
test_build(void)
{
	const char *san = getenv("GREENPROC_TEST_SAN");
	const char *b = san != NULL && san[0] != '\0' ?
	    getenv("GREENPROC_TEST_PLAIN_BUILD") : getenv("GREENPROC_TEST_BUILD");

	cr_assert(ne(ptr, (void *)b, NULL),
	    "GREENPROC_TEST_BUILD is not set: run the tests with make test");
	return b;
}

/*
 * Run program (prog) on case (what) with the preload, GREENPROC_IO=
 * (engine) and GREENPROC_WORKERS=(workers); output in R.  The child is
 * in its own process group, killed whole at the timeout or when done.
 */
static void
run_io(const char *prog, const char *what, const char *engine, int workers)
{
	char path[4096], ld[4200], wk[64], io[64];
	const char *argv[] = { path, what, NULL };
	const char *add[] = { ld, wk, io, NULL };
	char **env;

	snprintf(path, sizeof(path), "%s/tests/programs/%s", test_build(),
	    prog);
	snprintf(ld, sizeof(ld), "LD_PRELOAD=%s/libgreenproc_preload.so",
	    test_build());
	snprintf(wk, sizeof(wk), "GREENPROC_WORKERS=%d", workers);
	snprintf(io, sizeof(io), "GREENPROC_IO=%s", engine);
	env = tu_env(NULL, add);
	cr_assert(ne(ptr, env, NULL));
	cr_assert(eq(int, tu_start(&R, argv, env, true), 0), "%s: %s", prog,
	    strerror(errno));
	free(env);
	tu_finish(&R, RUN_TIMEOUT_S);
}

static bool
has_line(const char *line)
{
	size_t n = strlen(line);
	const char *p = R.buf;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == R.buf || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

/*
 * The program ran on (engine), exited 0, printed no FAIL line, printed
 * "ALL OK" and (lines).
 */
static void
assert_ok(const char *engine, const char *const *lines)
{
	char eline[64];
	int i;

	snprintf(eline, sizeof(eline), "driver: engine=%s", engine);
	cr_assert(not(R.timed_out), "timed out; output:\n%s", R.buf);
	cr_assert(R.status != -1 && WIFEXITED(R.status) &&
	    WEXITSTATUS(R.status) == 0, "status 0x%x (%s%d); output:\n%s",
	    R.status, WIFSIGNALED(R.status) ? "signal " : "exit ",
	    WIFSIGNALED(R.status) ? WTERMSIG(R.status) :
	    WEXITSTATUS(R.status), R.buf);
	cr_assert(has_line(eline), "not run on %s; output:\n%s", engine,
	    R.buf);
	cr_assert(eq(ptr, strstr(R.buf, "FAIL"), NULL), "output:\n%s", R.buf);
	cr_assert(has_line("ALL OK"), "output:\n%s", R.buf);
	for (i = 0; lines != NULL && lines[i] != NULL; i++)
		cr_assert(has_line(lines[i]), "no line '%s'; output:\n%s",
		    lines[i], R.buf);
}

/* IO_CASE(prog, case, workers, lines...): one test per engine. */
#define IO_CASE(prog, what, workers, ...)				\
Test(io, what##_uring)							\
{									\
	static const char *const lines[] = { __VA_ARGS__, NULL };	\
									\
	run_io(#prog, #what, "uring", workers);				\
	assert_ok("uring", lines);					\
}									\
Test(io, what##_epoll)							\
{									\
	static const char *const lines[] = { __VA_ARGS__, NULL };	\
									\
	run_io(#prog, #what, "epoll", workers);				\
	assert_ok("epoll", lines);					\
}

/* Parked in read/accept/poll/select/epoll_wait: the ping-pong runs. */
IO_CASE(io_park, read, 1, "read: done")
IO_CASE(io_park, accept, 1, "accept: done")
IO_CASE(io_park, poll, 1, "poll: done")
IO_CASE(io_park, select, 1, "select: done")
IO_CASE(io_park, epoll, 1, "epoll: done")

/* Pipes: 1 MiB (small writes, one write), O_NONBLOCK, stdin's flags, close, SIGPIPE. */
IO_CASE(io_pipe, bulk, 1, "bulk: done")
IO_CASE(io_pipe, nonblock, 1, "nonblock: done")
IO_CASE(io_pipe, stdin, 1, "stdin: done")
IO_CASE(io_pipe, bigwrite, 1, "bigwrite: done")
IO_CASE(io_pipe, close, 1, "close: done")
IO_CASE(io_pipe, close_reuse, 1, "close: done")
IO_CASE(io_pipe, sigpipe_dfl, 1, "driver: sigpipe_dfl signaled=1 sig=13")
IO_CASE(io_pipe, sigpipe_dfl_parked, 1,
    "driver: sigpipe_dfl_parked signaled=1 sig=13")
IO_CASE(io_pipe, sigpipe_ign, 1, "sigpipe: done")
IO_CASE(io_pipe, sigpipe_caught, 1, "sigpipe: done")

/* Sockets: ECONNREFUSED, SO_RCVTIMEO, SO_SNDTIMEO, many acceptors, SIGKILL. */
IO_CASE(io_sock, refused, 1, "refused: done")
IO_CASE(io_sock, rcvtimeo, 1, "rcvtimeo: done")
IO_CASE(io_sock, sndtimeo, 1, "sndtimeo: done")
IO_CASE(io_sock, accept_many, 2, "accept_many: done")
IO_CASE(io_sock, accept_kill, 1, "driver: accept_kill signaled=1 sig=9")
/* A send that blocks (IORING_OP_SEND on io_uring): slow peer, kill, EPIPE. */
IO_CASE(io_sock, send_slow, 1, "send_slow: done")
IO_CASE(io_sock, send_kill, 1, "driver: send_kill signaled=1 sig=9")
IO_CASE(io_sock, send_epipe, 1, "send_epipe: done")
/*
 * Request/response on io_uring costs no recv or send system call (the
 * case only checks that on io_uring; on epoll it runs without the
 * filter, as one more echo).
 */
IO_CASE(io_sock, ring_rr, 1, "ring_rr: done")

/* Green signals while parked: EINTR, SA_RESTART, never-restarted calls. */
IO_CASE(io_signal, eintr, 1, "eintr: done")
IO_CASE(io_signal, restart, 1, "restart: done")
IO_CASE(io_signal, timeo_norestart, 1, "timeo_norestart: done")
IO_CASE(io_signal, poll_norestart, 1, "poll_norestart: done")
IO_CASE(io_signal, sock_eintr, 1, "sock_eintr: done")
IO_CASE(io_signal, sock_restart, 1, "sock_restart: done")

/*
 * What the runtime remembers of a socket (runtime/fdinfo.c) never
 * outlives it: flags, timeouts, a number closed or reused.
 */
IO_CASE(io_fdinfo, fdi_setfl, 1, "setfl: done")
IO_CASE(io_fdinfo, fdi_setfl_dup, 1, "setfl_dup: done")
IO_CASE(io_fdinfo, fdi_fionbio, 1, "fionbio: done")
IO_CASE(io_fdinfo, fdi_clear_nonblock, 1, "clear_nonblock: done")
IO_CASE(io_fdinfo, fdi_rcvtimeo, 1, "rcvtimeo: done")
IO_CASE(io_fdinfo, fdi_sndtimeo, 1, "sndtimeo: done")
IO_CASE(io_fdinfo, fdi_close_reuse, 1, "close_reuse: done")
IO_CASE(io_fdinfo, fdi_unseen_close, 1, "unseen_close: done")
IO_CASE(io_fdinfo, fdi_unseen_accept, 1, "unseen_accept: done")
IO_CASE(io_fdinfo, fdi_reuse_pipe, 1, "reuse_pipe: done")
IO_CASE(io_fdinfo, fdi_unseen_pipe, 1, "unseen_pipe: done")
IO_CASE(io_fdinfo, fdi_dup2_over, 1, "dup2_over: done")
IO_CASE(io_fdinfo, fdi_dup3_over, 1, "dup3_over: done")
IO_CASE(io_fdinfo, fdi_fclose, 1, "fclose: done")
IO_CASE(io_fdinfo, fdi_sock_sigpipe, 1, "sock_sigpipe: done")

/* ------------------------------------------------------------ linked API */

/*
 * This process's own runtime, one worker, on (engine): LWPs made with
 * gp_lwp_create() from the test's host thread share that worker, so a
 * parked LWP lets the next one run.
 */
static void
start(const char *engine)
{
	cr_assert(eq(int, setenv("GREENPROC_IO", engine, 1), 0));
	cr_assert(eq(int, gp_init(1), 0));
	cr_assert(eq(int, (int)gpi_ioengine, strcmp(engine, "uring") == 0 ?
	    (int)GPI_IO_URING : (int)GPI_IO_EPOLL), "engine %d, want %s",
	    (int)gpi_ioengine, engine);
}

static void
finish(void)
{
	cr_assert(eq(int, gp_shutdown(), 0), "gp_shutdown: %s",
	    strerror(errno));
}

static gp_lwp_t
spawn(void *(*fn)(void *), void *arg)
{
	gp_lwp_t l;

	cr_assert(eq(int, gp_lwp_create(&l, fn, arg, NULL), 0));
	return l;
}

static void *
join(gp_lwp_t l)
{
	void *rv = NULL;

	cr_assert(eq(int, gp_lwp_join(l, &rv), 0));
	return rv;
}

static int api_pipe[2];
static atomic_int api_started, api_done;

/* --- gp_read parks; gp_write from the next LWP wakes it */

struct rd {
	ssize_t	 r;
	int	 error;
	char	 buf[8];
};

static void *
api_reader(void *arg)
{
	struct rd *rd = arg;

	atomic_store(&api_started, 1);
	rd->r = gp_read(api_pipe[0], rd->buf, sizeof(rd->buf));
	rd->error = errno;
	atomic_store(&api_done, 1);
	return NULL;
}

/* Runs only once the reader has parked: one worker, no preemption. */
static void *
api_writer(void *arg)
{
	(void)arg;
	if (atomic_load(&api_done) != 0)
		return (void *)"the reader returned on an empty pipe";
	if (gp_write(api_pipe[1], "abc", 3) != 3)
		return (void *)"gp_write failed";
	return NULL;
}

static void
api_read(const char *engine)
{
	struct rd rd = { 0 };
	gp_lwp_t r, w;
	void *why;

	start(engine);
	cr_assert(eq(int, pipe(api_pipe), 0));
	r = spawn(api_reader, &rd);
	while (atomic_load(&api_started) == 0)
		tu_host_sleep_ns(TU_MS);
	w = spawn(api_writer, NULL);
	why = join(w);
	cr_assert(eq(ptr, why, NULL), "%s", (const char *)why);
	join(r);
	cr_assert(eq(long, (long)rd.r, 3L), "gp_read: %s", strerror(rd.error));
	cr_assert(eq(int, memcmp(rd.buf, "abc", 3), 0));
	finish();
}

Test(io, api_read_uring) { api_read("uring"); }
Test(io, api_read_epoll) { api_read("epoll"); }

/* --- gp_fdwait parks until ready; gp_poll and gp_fdwait time out */

struct fw {
	int	 r;
	int	 error;
};

static void *
api_fdwaiter(void *arg)
{
	struct fw *fw = arg;

	atomic_store(&api_started, 1);
	fw->r = gp_fdwait(api_pipe[0], POLLIN, -1);
	fw->error = errno;
	atomic_store(&api_done, 1);
	return NULL;
}

static void
api_fdwait(const char *engine)
{
	struct fw fw = { 0 };
	gp_lwp_t r, w;
	void *why;

	start(engine);
	cr_assert(eq(int, pipe(api_pipe), 0));
	r = spawn(api_fdwaiter, &fw);
	while (atomic_load(&api_started) == 0)
		tu_host_sleep_ns(TU_MS);
	w = spawn(api_writer, NULL);
	why = join(w);
	cr_assert(eq(ptr, why, NULL), "%s", (const char *)why);
	join(r);
	cr_assert(gt(int, fw.r, 0), "gp_fdwait = %d: %s", fw.r,
	    strerror(fw.error));
	cr_assert(fw.r & POLLIN, "revents 0x%x", fw.r);
	finish();
}

Test(io, api_fdwait_uring) { api_fdwait("uring"); }
Test(io, api_fdwait_epoll) { api_fdwait("epoll"); }

/* On an LWP: timeouts (never early) and bad descriptors. */
static void *
api_timeouts_lwp(void *arg)
{
	struct pollfd pfd = { .fd = api_pipe[0], .events = POLLIN };
	char c;
	uint64_t t0;
	int r;

	(void)arg;
	t0 = tu_now_ns();
	if ((r = gp_poll(&pfd, 1, 100)) != 0)
		return (void *)"gp_poll did not time out";
	if (tu_now_ns() - t0 < 100 * TU_MS)
		return (void *)"gp_poll returned early";
	t0 = tu_now_ns();
	if ((r = gp_fdwait(api_pipe[0], POLLIN, 50)) != 0)
		return (void *)"gp_fdwait did not time out";
	if (tu_now_ns() - t0 < 50 * TU_MS)
		return (void *)"gp_fdwait returned early";
	if (gp_read(-1, &c, 1) != -1 || errno != EBADF)
		return (void *)"gp_read(-1) is not EBADF";
	if (gp_write(api_pipe[0], &c, 1) != -1 || errno != EBADF)
		return (void *)"gp_write to a read end is not EBADF";
	pfd.fd = 1000;		/* not open */
	if (gp_poll(&pfd, 1, -1) != 1 || pfd.revents != POLLNVAL)
		return (void *)"gp_poll of a closed fd is not POLLNVAL";
	if (gp_fdwait(-1, POLLIN, 10) != 0)
		return (void *)"gp_fdwait(-1) is not a plain timeout";
	return NULL;
}

static void
api_timeouts(const char *engine)
{
	void *why;

	start(engine);
	cr_assert(eq(int, pipe(api_pipe), 0));
	why = join(spawn(api_timeouts_lwp, NULL));
	cr_assert(eq(ptr, why, NULL), "%s", (const char *)why);
	finish();
}

Test(io, api_timeouts_uring) { api_timeouts("uring"); }
Test(io, api_timeouts_epoll) { api_timeouts("epoll"); }

/*
 * On the host thread the gp_ calls are the plain ones: a blocking
 * gp_read blocks this thread (an LWP writes), O_NONBLOCK gives EAGAIN,
 * timeouts and readiness are poll(2)'s.
 */
static void *
api_late_writer(void *arg)
{
	(void)arg;
	while (atomic_load(&api_started) == 0)
		gp_yield();
	(void)gp_write(api_pipe[1], "host", 4);
	return NULL;
}

static void
api_host(const char *engine)
{
	char buf[8];
	gp_lwp_t w;
	int sv[2], fl;

	start(engine);
	cr_assert(eq(int, pipe(api_pipe), 0));
	cr_assert(eq(ptr, (void *)gp_lwp_self(), NULL));
	cr_assert(eq(int, gp_fdwait(api_pipe[0], POLLIN, 20), 0));
	w = spawn(api_late_writer, NULL);
	atomic_store(&api_started, 1);
	cr_assert(eq(long, (long)gp_read(api_pipe[0], buf, sizeof(buf)), 4L));
	cr_assert(eq(int, memcmp(buf, "host", 4), 0));
	join(w);

	fl = fcntl(api_pipe[0], F_GETFL);
	cr_assert(eq(int, fcntl(api_pipe[0], F_SETFL, fl | O_NONBLOCK), 0));
	errno = 0;
	cr_assert(eq(long, (long)gp_read(api_pipe[0], buf, 1), -1L));
	cr_assert(eq(int, errno, EAGAIN));
	cr_assert(eq(long, (long)gp_write(api_pipe[1], "x", 1), 1L));
	cr_assert(eq(int, gp_fdwait(api_pipe[0], POLLIN, -1), POLLIN));
	cr_assert(eq(long, (long)gp_read(-1, buf, 1), -1L));
	cr_assert(eq(int, errno, EBADF));

	cr_assert(eq(int, socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0));
	cr_assert(eq(long, (long)gp_send(sv[0], "s", 1, 0), 1L));
	cr_assert(eq(long, (long)gp_recv(sv[1], buf, sizeof(buf), 0), 1L));
	cr_assert(eq(long, (long)gp_recv(sv[1], buf, 1, MSG_DONTWAIT), -1L));
	cr_assert(eq(int, errno, EAGAIN));
	finish();
}

Test(io, api_host_uring) { api_host("uring"); }
Test(io, api_host_epoll) { api_host("epoll"); }

/*
 * More than the calls keep on their stacks: a blocking gp_writev of 20
 * iovecs (160 KiB, more than a pipe holds) is looped over its partial
 * transfers, every byte in order; gp_poll on 20 pipes wakes for the one
 * that becomes readable.
 */
#define NVEC		20
#define VECLEN		8192

static void *
api_vec_writer(void *arg)
{
	static unsigned char data[NVEC][VECLEN];
	struct iovec iov[NVEC];
	ssize_t r;
	int i, j;

	(void)arg;
	for (i = 0; i < NVEC; i++) {
		for (j = 0; j < VECLEN; j++)
			data[i][j] = (unsigned char)(i * 31 + j / 7);
		iov[i].iov_base = data[i];
		iov[i].iov_len = VECLEN;
	}
	r = gp_writev(api_pipe[1], iov, NVEC);
	close(api_pipe[1]);
	return r == NVEC * VECLEN ? NULL : (void *)"gp_writev was short";
}

static void *
api_vec_reader(void *arg)
{
	unsigned char buf[1000];
	size_t off = 0;
	ssize_t r, k;

	(void)arg;
	while ((r = gp_read(api_pipe[0], buf, sizeof(buf))) > 0) {
		for (k = 0; k < r; k++, off++)
			if (buf[k] != (unsigned char)(off / VECLEN * 31 +
			    off % VECLEN / 7))
				return (void *)"a byte differs";
	}
	return r == 0 && off == NVEC * VECLEN ? NULL :
	    (void *)"short stream or a read error";
}

static int polls[NVEC][2];

static void *
api_poller(void *arg)
{
	struct pollfd pfd[NVEC];
	int i, r;

	(void)arg;
	for (i = 0; i < NVEC; i++) {
		pfd[i].fd = polls[i][0];
		pfd[i].events = POLLIN;
	}
	atomic_store(&api_started, 1);
	r = gp_poll(pfd, NVEC, -1);
	atomic_store(&api_done, 1);
	if (r != 1)
		return (void *)"gp_poll did not say 1";
	for (i = 0; i < NVEC; i++)
		if ((pfd[i].revents != 0) != (i == NVEC - 3))
			return (void *)"gp_poll: wrong revents";
	return NULL;
}

static void *
api_poll_writer(void *arg)
{
	(void)arg;
	if (atomic_load(&api_done) != 0)
		return (void *)"gp_poll returned before anything was ready";
	return gp_write(polls[NVEC - 3][1], "p", 1) == 1 ? NULL :
	    (void *)"gp_write failed";
}

static void
api_many(const char *engine)
{
	gp_lwp_t r, w;
	void *why;
	int i;

	start(engine);
	cr_assert(eq(int, pipe(api_pipe), 0));
	r = spawn(api_vec_reader, NULL);
	w = spawn(api_vec_writer, NULL);
	why = join(w);
	cr_assert(eq(ptr, why, NULL), "%s", (const char *)why);
	why = join(r);
	cr_assert(eq(ptr, why, NULL), "%s", (const char *)why);

	for (i = 0; i < NVEC; i++)
		cr_assert(eq(int, pipe(polls[i]), 0));
	r = spawn(api_poller, NULL);
	while (atomic_load(&api_started) == 0)
		tu_host_sleep_ns(TU_MS);
	w = spawn(api_poll_writer, NULL);
	why = join(w);
	cr_assert(eq(ptr, why, NULL), "%s", (const char *)why);
	why = join(r);
	cr_assert(eq(ptr, why, NULL), "%s", (const char *)why);
	finish();
}

Test(io, api_many_uring) { api_many("uring"); }
Test(io, api_many_epoll) { api_many("epoll"); }
