/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * io_fdinfo.c -- what the green I/O calls remember about a socket
 * (runtime/fdinfo.c) must never outlive what it describes.  Each case
 * first makes a read park on a blocking socket (prime(): the runtime
 * learns and keeps "a blocking socket with no timeout"), then changes
 * the socket or the number the way a program may, and checks that the
 * next call does what the kernel would.  Each case fails (a hang, which
 * the alarm ends, or a wrong result) if its invalidation is missing:
 *
 *  setfl            fcntl(F_SETFL, O_NONBLOCK): the next read of an
 *                   empty socket says EAGAIN.
 *  setfl_dup        the same through a dup of the number.
 *  fionbio          the same with ioctl(FIONBIO).
 *  clear_nonblock   a socket known as O_NONBLOCK made blocking again:
 *                   the next read waits for the data.
 *  rcvtimeo         SO_RCVTIMEO set after a first read: honoured.
 *  sndtimeo         SO_SNDTIMEO set after a first read: honoured.
 *  close_reuse      close(), then a non-blocking socket made behind the
 *                   preload's back (syscall) under the same number: EAGAIN.
 *  unseen_close     a close the preload did not see (syscall), then
 *                   socketpair(SOCK_NONBLOCK) reuses the number: EAGAIN.
 *  unseen_accept    the same with accept4(SOCK_NONBLOCK).
 *  reuse_pipe       close(), then pipe() reuses the number: the read
 *                   waits for the pipe's data.
 *  unseen_pipe      close and pipe2 both behind the preload (syscall):
 *                   the same (the runtime meets ENOTSOCK and relearns).
 *  dup2_over        dup2() of a non-blocking socket over the number.
 *  dup3_over        the same with dup3().
 *  fclose           fdopen() + fclose(), then a raw socketpair.
 *  sock_sigpipe     a write to a socket whose peer is gone: EPIPE and
 *                   one SIGPIPE to the writer (read and write of a known
 *                   socket are recv and send underneath).
 *
 * Legacy code (libc only) in one green process, GREENPROC_WORKERS=1.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "io.h"

#define TIMEO_MS	100

/* Writes one byte to the descriptor once the main thread has parked. */
static void *
late_writer(void *arg)
{
	int fd = (int)(intptr_t)arg;

	io_yield_some();
	CHECK_QUIET(write(fd, "x", 1) == 1, "late write: %s", strerror(errno));
	return NULL;
}

/* read(fd) on an empty descriptor, the data coming from (peer) later. */
static void
read_waits(int fd, int peer)
{
	pthread_t t;
	char c = 0;
	ssize_t r;
	int e;

	e = pthread_create(&t, NULL, late_writer, (void *)(intptr_t)peer);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	r = read(fd, &c, 1);
	CHECK(r == 1 && c == 'x', "read = %zd (%s)", r, strerror(errno));
	if (e == 0)
		pthread_join(t, NULL);
}

/* A blocking AF_UNIX stream pair; the runtime has learned sv[0]. */
static void
prime(int sv[2])
{
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair: %s",
	    strerror(errno));
	read_waits(sv[0], sv[1]);
}

static void
eagain_now(int fd, const char *how)
{
	char c;
	ssize_t r = read(fd, &c, 1);

	CHECK(r == -1 && errno == EAGAIN, "%s: read = %zd (%s)", how, r,
	    strerror(errno));
}

/* A non-blocking socket pair made with the raw system call. */
static void
raw_nonblock_pair(int sv[2])
{
	CHECK(syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv) == 0, "SYS_socketpair: %s", strerror(errno));
}

static int
done(const char *name)
{
	printf("%s: done\n", name);
	return io_green_exit();
}

/* ------------------------------------------------------------ flags */

static int
case_setfl(void)
{
	int sv[2];

	prime(sv);
	CHECK(fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK) == 0,
	    "F_SETFL: %s", strerror(errno));
	eagain_now(sv[0], "setfl");
	return done("setfl");
}

static int
case_setfl_dup(void)
{
	int sv[2], d;

	prime(sv);
	d = dup(sv[0]);
	CHECK(d >= 0 && fcntl(d, F_SETFL, O_NONBLOCK) == 0, "F_SETFL on dup: %s",
	    strerror(errno));
	eagain_now(sv[0], "setfl_dup");
	return done("setfl_dup");
}

static int
case_fionbio(void)
{
	int sv[2], one = 1;

	prime(sv);
	CHECK(ioctl(sv[0], FIONBIO, &one) == 0, "FIONBIO: %s", strerror(errno));
	eagain_now(sv[0], "fionbio");
	return done("fionbio");
}

static int
case_clear_nonblock(void)
{
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0,
	    "socketpair: %s", strerror(errno));
	eagain_now(sv[0], "nonblocking");	/* learned: O_NONBLOCK */
	CHECK(fcntl(sv[0], F_SETFL, 0) == 0, "F_SETFL 0: %s", strerror(errno));
	read_waits(sv[0], sv[1]);
	return done("clear_nonblock");
}

/* ------------------------------------------------------------ timeouts */

static int
case_rcvtimeo(void)
{
	struct timeval tv = { 0, TIMEO_MS * 1000 };
	uint64_t t0, took;
	int sv[2];

	prime(sv);
	CHECK(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0,
	    "SO_RCVTIMEO: %s", strerror(errno));
	t0 = io_now();
	eagain_now(sv[0], "rcvtimeo");
	took = io_now() - t0;
	CHECK(took >= TIMEO_MS * IO_MS, "early: %.3f ms", (double)took / 1e6);
	return done("rcvtimeo");
}

static int
case_sndtimeo(void)
{
	struct timeval tv = { 0, TIMEO_MS * 1000 };
	char buf[4096];
	uint64_t t0, took;
	ssize_t r;
	int sv[2];

	prime(sv);		/* learns both directions */
	CHECK(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0,
	    "SO_SNDTIMEO: %s", strerror(errno));
	memset(buf, 's', sizeof(buf));
	while ((r = send(sv[0], buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		;
	t0 = io_now();
	r = write(sv[0], buf, 1);
	took = io_now() - t0;
	CHECK(r == -1 && errno == EAGAIN, "write = %zd (%s)", r,
	    strerror(errno));
	CHECK(took >= TIMEO_MS * IO_MS, "early: %.3f ms", (double)took / 1e6);
	return done("sndtimeo");
}

/* ------------------------------------------------------------ numbers */

static int
case_close_reuse(void)
{
	int sv[2], nb[2], n;

	prime(sv);
	n = sv[0];
	CHECK(close(n) == 0, "close: %s", strerror(errno));
	raw_nonblock_pair(nb);
	CHECK(nb[0] == n || nb[1] == n, "number %d not reused (%d %d)", n,
	    nb[0], nb[1]);
	eagain_now(n, "close_reuse");
	return done("close_reuse");
}

static int
case_unseen_close(void)
{
	int sv[2], nb[2], n;

	prime(sv);
	n = sv[0];
	CHECK(syscall(SYS_close, n) == 0, "SYS_close: %s", strerror(errno));
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, nb) == 0,
	    "socketpair: %s", strerror(errno));
	CHECK(nb[0] == n || nb[1] == n, "number %d not reused (%d %d)", n,
	    nb[0], nb[1]);
	eagain_now(n, "unseen_close");
	return done("unseen_close");
}

static int
case_unseen_accept(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int sv[2], n, l, c, a;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(l >= 0 && bind(l, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    listen(l, 4) == 0 && getsockname(l, (struct sockaddr *)&sin,
	    &len) == 0, "listener: %s", strerror(errno));
	c = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(c >= 0 && connect(c, (struct sockaddr *)&sin, sizeof(sin)) == 0,
	    "connect: %s", strerror(errno));
	prime(sv);
	n = sv[0];
	CHECK(syscall(SYS_close, n) == 0, "SYS_close: %s", strerror(errno));
	a = accept4(l, NULL, NULL, SOCK_NONBLOCK);
	CHECK(a == n, "accept4 = %d, want the number %d (%s)", a, n,
	    strerror(errno));
	eagain_now(n, "unseen_accept");
	return done("unseen_accept");
}

/*
 * Another thread of the process may hold a descriptor for a moment: then
 * pipe() gets a lower number than the one just closed, and the case is
 * tried again; the wait is checked either way.  Seen twice in the ASan
 * tier ("pipe: 6 7, want 7": 6 was taken while prime() made 7 and 8):
 * the watchdog's /proc reads, every tick of a busy runtime, did that
 * until they went through descriptors kept at the top of the range
 * (runtime/rtfd.c); a spare worker's start still may.
 */
static int
case_reuse_pipe(void)
{
	int sv[2], p[2], n, tries = 0;

	do {
		prime(sv);
		n = sv[0];
		CHECK(close(n) == 0, "close: %s", strerror(errno));
		CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
		read_waits(p[0], p[1]);
	} while (p[0] != n && ++tries < 8);
	CHECK(p[0] == n, "pipe: %d %d, want %d, in %d tries", p[0], p[1], n,
	    tries);
	return done("reuse_pipe");
}

static int
case_unseen_pipe(void)
{
	int sv[2], p[2], n, tries = 0;

	/* Tried again as case_reuse_pipe is (seen: "6 7, want 7", ASan). */
	do {
		prime(sv);
		n = sv[0];
		CHECK(syscall(SYS_close, n) == 0, "SYS_close: %s",
		    strerror(errno));
		CHECK(syscall(SYS_pipe2, p, 0) == 0, "SYS_pipe2: %s",
		    strerror(errno));
		read_waits(p[0], p[1]);
	} while (p[0] != n && ++tries < 8);
	CHECK(p[0] == n, "SYS_pipe2: %d %d, want %d, in %d tries", p[0], p[1],
	    n, tries);
	return done("unseen_pipe");
}

static int
case_dup2_over(void)
{
	int sv[2], nb[2];

	prime(sv);
	raw_nonblock_pair(nb);
	CHECK(dup2(nb[0], sv[0]) == sv[0], "dup2: %s", strerror(errno));
	eagain_now(sv[0], "dup2_over");
	return done("dup2_over");
}

static int
case_dup3_over(void)
{
	int sv[2], nb[2];

	prime(sv);
	raw_nonblock_pair(nb);
	CHECK(dup3(nb[0], sv[0], O_CLOEXEC) == sv[0], "dup3: %s",
	    strerror(errno));
	eagain_now(sv[0], "dup3_over");
	return done("dup3_over");
}

static int
case_fclose(void)
{
	int sv[2], nb[2], n;
	FILE *f;

	prime(sv);
	n = sv[0];
	f = fdopen(n, "r+");
	CHECK(f != NULL && fclose(f) == 0, "fdopen/fclose: %s",
	    strerror(errno));
	raw_nonblock_pair(nb);
	CHECK(nb[0] == n || nb[1] == n, "number %d not reused (%d %d)", n,
	    nb[0], nb[1]);
	eagain_now(n, "fclose");
	return done("fclose");
}

/* ------------------------------------------------------------ SIGPIPE */

static atomic_int pipes_caught;

static void
on_pipe(int sig)
{
	(void)sig;
	atomic_fetch_add(&pipes_caught, 1);
}

static int
case_sock_sigpipe(void)
{
	int sv[2];
	ssize_t r;

	CHECK(signal(SIGPIPE, on_pipe) != SIG_ERR, "signal: %s",
	    strerror(errno));
	prime(sv);
	close(sv[1]);
	r = write(sv[0], "y", 1);
	CHECK(r == -1 && errno == EPIPE, "write = %zd (%s)", r,
	    strerror(errno));
	CHECK(atomic_load(&pipes_caught) == 1, "SIGPIPE caught %d times",
	    atomic_load(&pipes_caught));
	return done("sock_sigpipe");
}

static const struct io_case cases[] = {
	{ "fdi_setfl", case_setfl, NULL, 0 },
	{ "fdi_setfl_dup", case_setfl_dup, NULL, 0 },
	{ "fdi_fionbio", case_fionbio, NULL, 0 },
	{ "fdi_clear_nonblock", case_clear_nonblock, NULL, 0 },
	{ "fdi_rcvtimeo", case_rcvtimeo, NULL, 0 },
	{ "fdi_sndtimeo", case_sndtimeo, NULL, 0 },
	{ "fdi_close_reuse", case_close_reuse, NULL, 0 },
	{ "fdi_unseen_close", case_unseen_close, NULL, 0 },
	{ "fdi_unseen_accept", case_unseen_accept, NULL, 0 },
	{ "fdi_reuse_pipe", case_reuse_pipe, NULL, 0 },
	{ "fdi_unseen_pipe", case_unseen_pipe, NULL, 0 },
	{ "fdi_dup2_over", case_dup2_over, NULL, 0 },
	{ "fdi_dup3_over", case_dup3_over, NULL, 0 },
	{ "fdi_fclose", case_fclose, NULL, 0 },
	{ "fdi_sock_sigpipe", case_sock_sigpipe, NULL, 0 },
	{ NULL, NULL, NULL, 0 },
};

int
main(int argc, char **argv)
{
	return io_main(argc, argv, cases);
}
