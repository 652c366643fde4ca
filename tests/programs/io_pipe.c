/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * io_pipe.c -- pipes between green threads of one worker (run it with
 * GREENPROC_WORKERS=1), what the kernel would do in each case:
 *
 *  bulk          reader and writer exchange 1 MiB in small writes and
 *                small reads of varying sizes; every byte checked, then
 *                end of file.  Each parks in turn (pipe full, pipe empty).
 *  nonblock      a program that set O_NONBLOCK itself gets EAGAIN at once
 *                from read on an empty pipe and write on a full one.
 *  stdin         stdin's O_NONBLOCK flag is unchanged by a green read
 *                (F_GETFL before, while parked, after: equal), on a pipe
 *                given as stdin.
 *  close         another green thread closes the descriptor a reader is
 *                parked on: as on Linux, the read keeps the open file it
 *                started on (no EBADF) and gets what is written into its
 *                pipe (through the write end; a dup of the read end keeps
 *                the pipe's reader count up whatever the runtime does);
 *  close_reuse   the same, and a new pipe takes the closed number and
 *                has data first: the parked read does not read it.
 *  bigwrite      one write() of 1 MiB on a blocking pipe returns 1 MiB
 *                (the runtime loops over the partial transfers).
 *  sigpipe_dfl   a write to a pipe whose read end is closed: the process
 *                dies of SIGPIPE (default action);
 *  sigpipe_dfl_parked  the same for a writer parked on a full pipe when
 *                the read end is closed;
 *  sigpipe_ign   SIGPIPE ignored: -1/EPIPE, immediate and parked;
 *  sigpipe_caught  a handler: it runs on the writing thread, then EPIPE.
 *
 * Legacy code on top (libc only).
 */
#include <fcntl.h>

#include "io.h"

static int pipefd[2];

/* ------------------------------------------------------------ bulk */

#define BULK		(1024 * 1024)

/* The byte at offset (k) of the stream: not periodic in any chunk size. */
static unsigned char
pattern(size_t k)
{
	return (unsigned char)(k * 131u + (k >> 9) * 7u + (k >> 17));
}

static void *
bulk_writer(void *arg)
{
	unsigned char buf[256];
	size_t off = 0, n, i;
	ssize_t r;

	(void)arg;
	while (off < BULK) {
		n = 1 + off % 251;		/* 1..251 bytes */
		if (n > BULK - off)
			n = BULK - off;
		for (i = 0; i < n; i++)
			buf[i] = pattern(off + i);
		r = write(pipefd[1], buf, n);
		if (r != (ssize_t)n) {
			CHECK(r == (ssize_t)n, "write at %zu = %zd (%s)", off,
			    r, strerror(errno));
			break;
		}
		off += n;
	}
	close(pipefd[1]);
	return NULL;
}

static void *
bulk_reader(void *arg)
{
	unsigned char buf[512];
	size_t off = 0, want;
	long bad = 0, reads = 0;
	ssize_t r, i;

	(void)arg;
	for (;;) {
		want = 1 + (size_t)reads % 509;	/* 1..509 bytes */
		r = read(pipefd[0], buf, want);
		if (r <= 0)
			break;
		reads++;
		for (i = 0; i < r; i++)
			if (buf[i] != pattern(off + (size_t)i) && bad++ == 0)
				printf("FAIL: byte %zu is 0x%02x, want 0x%02x\n",
				    off + (size_t)i, buf[i],
				    pattern(off + (size_t)i));
		off += (size_t)r;
	}
	CHECK(r == 0, "read at %zu = %zd (%s)", off, r, strerror(errno));
	CHECK(off == BULK, "read %zu bytes, want %d", off, BULK);
	CHECK(bad == 0, "%ld bytes differ", bad);
	printf("bulk: %zu bytes in %ld reads\n", off, reads);
	return NULL;
}

static int
case_bulk(void)
{
	pthread_t r, w;
	int e1, e2;

	CHECK(pipe(pipefd) == 0, "pipe: %s", strerror(errno));
	/* The reader first: it parks on the empty pipe at once. */
	e1 = pthread_create(&r, NULL, bulk_reader, NULL);
	e2 = pthread_create(&w, NULL, bulk_writer, NULL);
	CHECK(e1 == 0 && e2 == 0, "pthread_create: %s %s", strerror(e1),
	    strerror(e2));
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	printf("bulk: done\n");
	return io_green_exit();
}

/* One write of all of it: the full count, as on a blocking pipe. */
static ssize_t big_ret;

static void *
big_writer(void *arg)
{
	unsigned char *buf = malloc(BULK);
	size_t i;

	(void)arg;
	for (i = 0; i < BULK; i++)
		buf[i] = pattern(i);
	big_ret = write(pipefd[1], buf, BULK);
	CHECK(big_ret == BULK, "write = %zd (%s), want %d", big_ret,
	    strerror(errno), BULK);
	close(pipefd[1]);
	free(buf);
	return NULL;
}

static int
case_bigwrite(void)
{
	pthread_t r, w;
	int e1, e2;

	CHECK(pipe(pipefd) == 0, "pipe: %s", strerror(errno));
	e1 = pthread_create(&w, NULL, big_writer, NULL);
	e2 = pthread_create(&r, NULL, bulk_reader, NULL);
	CHECK(e1 == 0 && e2 == 0, "pthread_create: %s %s", strerror(e1),
	    strerror(e2));
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	printf("bigwrite: done\n");
	return io_green_exit();
}

/* ------------------------------------------------------------ nonblock */

static int
case_nonblock(void)
{
	char buf[4096];
	long filled = 0;
	ssize_t r;
	int fl;

	CHECK(pipe(pipefd) == 0, "pipe: %s", strerror(errno));
	fl = fcntl(pipefd[0], F_GETFL);
	CHECK(fcntl(pipefd[0], F_SETFL, fl | O_NONBLOCK) == 0, "F_SETFL: %s",
	    strerror(errno));
	r = read(pipefd[0], buf, sizeof(buf));
	CHECK(r == -1 && errno == EAGAIN, "read = %zd (%s)", r,
	    strerror(errno));
	CHECK(fcntl(pipefd[0], F_GETFL) == (fl | O_NONBLOCK), "F_GETFL 0x%x",
	    fcntl(pipefd[0], F_GETFL));

	/* The write end too, made non-blocking by pipe2: fill it. */
	close(pipefd[0]);
	close(pipefd[1]);
	CHECK(pipe2(pipefd, O_NONBLOCK) == 0, "pipe2: %s", strerror(errno));
	memset(buf, 'x', sizeof(buf));
	while ((r = write(pipefd[1], buf, sizeof(buf))) > 0)
		filled += r;
	CHECK(r == -1 && errno == EAGAIN, "write = %zd (%s) after %ld bytes",
	    r, strerror(errno), filled);
	CHECK(filled > 0, "nothing written");
	printf("nonblock: done\n");
	return io_green_exit();
}

/* ------------------------------------------------------------ stdin */

static atomic_int s_started, s_done;
static ssize_t s_ret;
static char s_buf[16];

static void *
stdin_reader(void *arg)
{
	(void)arg;
	atomic_store(&s_started, 1);
	s_ret = read(0, s_buf, sizeof(s_buf));
	atomic_store(&s_done, 1);
	return NULL;
}

static int
case_stdin(void)
{
	pthread_t t;
	int before, during, after, e;

	CHECK(pipe(pipefd) == 0 && dup2(pipefd[0], 0) == 0, "pipe as stdin: "
	    "%s", strerror(errno));
	before = fcntl(0, F_GETFL);
	CHECK(before >= 0 && !(before & O_NONBLOCK), "F_GETFL = 0x%x", before);
	e = pthread_create(&t, NULL, stdin_reader, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	io_wait_for(&s_started, 1);
	io_yield_some();
	CHECK(atomic_load(&s_done) == 0, "read(0) returned %zd (%s) on an "
	    "empty pipe", s_ret, strerror(errno));
	during = fcntl(0, F_GETFL);
	CHECK(during == before, "F_GETFL while parked 0x%x, before 0x%x",
	    during, before);
	CHECK(write(pipefd[1], "line\n", 5) == 5, "write: %s", strerror(errno));
	pthread_join(t, NULL);
	CHECK(s_ret == 5 && memcmp(s_buf, "line\n", 5) == 0, "read(0) = %zd",
	    s_ret);
	after = fcntl(0, F_GETFL);
	CHECK(after == before, "F_GETFL after 0x%x, before 0x%x", after,
	    before);
	/* The open file description is the pipe's: the same through it. */
	CHECK(fcntl(pipefd[0], F_GETFL) == before, "F_GETFL of the pipe 0x%x",
	    fcntl(pipefd[0], F_GETFL));
	printf("stdin: done\n");
	return io_green_exit();
}

/* ------------------------------------------------------------ close */

static atomic_int c_started, c_done;
static ssize_t c_ret;
static int c_errno, c_fd;
static char c_buf[16];

static void *
close_reader(void *arg)
{
	(void)arg;
	atomic_store(&c_started, 1);
	c_ret = read(c_fd, c_buf, sizeof(c_buf));
	c_errno = errno;
	atomic_store(&c_done, 1);
	return NULL;
}

static int
close_parked(bool reuse_number)
{
	int keep, reuse[2], e;
	pthread_t t;

	CHECK(pipe(pipefd) == 0, "pipe: %s", strerror(errno));
	c_fd = pipefd[0];
	/* Another reference to the read end: writes stay legal after close. */
	keep = dup(pipefd[0]);
	CHECK(keep >= 0, "dup: %s", strerror(errno));
	e = pthread_create(&t, NULL, close_reader, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	io_wait_for(&c_started, 1);
	io_yield_some();
	CHECK(close(c_fd) == 0, "close: %s", strerror(errno));
	io_yield_some();
	CHECK(atomic_load(&c_done) == 0, "the parked read returned %zd (%s) "
	    "when its descriptor was closed", c_ret, strerror(c_errno));

	/* A new pipe takes the number: its data is not the reader's. */
	if (reuse_number) {
		CHECK(pipe(reuse) == 0, "pipe: %s", strerror(errno));
		printf("close: the number %s reused\n", reuse[0] == c_fd ?
		    "is" : "is not");
		CHECK(write(reuse[1], "WRONG", 5) == 5, "write: %s",
		    strerror(errno));
		io_yield_some();
		CHECK(atomic_load(&c_done) == 0, "the parked read returned %zd "
		    "(%s, '%.*s') when the number was reused", c_ret,
		    strerror(c_errno), c_ret > 0 ? (int)c_ret : 0, c_buf);
	}

	CHECK(write(pipefd[1], "RIGHT", 5) == 5, "write: %s", strerror(errno));
	pthread_join(t, NULL);
	CHECK(c_ret == 5 && memcmp(c_buf, "RIGHT", 5) == 0, "read = %zd (%s) "
	    "'%.*s', want 'RIGHT'", c_ret, strerror(c_errno),
	    c_ret > 0 ? (int)c_ret : 0, c_buf);
	printf("close: done\n");
	return io_green_exit();
}

static int
case_close(void)
{
	return close_parked(false);
}

static int
case_close_reuse(void)
{
	return close_parked(true);
}

/* ------------------------------------------------------------ SIGPIPE */

static atomic_int p_started, p_done;
static ssize_t p_ret;
static int p_errno;
static pthread_t p_writer;
static atomic_int p_handled, p_handled_on_writer;

static void
on_sigpipe(int sig)
{
	(void)sig;
	atomic_fetch_add(&p_handled, 1);
	if (pthread_equal(pthread_self(), p_writer))
		atomic_store(&p_handled_on_writer, 1);
}

/* Fill the pipe, then one more byte: parks until the read end goes. */
static void *
full_writer(void *arg)
{
	int cap = fcntl(pipefd[1], F_GETPIPE_SZ);
	char *buf = calloc(1, (size_t)cap);
	ssize_t r;

	(void)arg;
	r = write(pipefd[1], buf, (size_t)cap);
	CHECK(r == cap, "filling write = %zd, want %d (%s)", r, cap,
	    strerror(errno));
	atomic_store(&p_started, 1);
	p_ret = write(pipefd[1], "x", 1);
	p_errno = errno;
	atomic_store(&p_done, 1);
	free(buf);
	return NULL;
}

/* Start the parked writer, close the read end under it, join it. */
static void
parked_writer_sees_close(void)
{
	int e;

	CHECK(pipe(pipefd) == 0, "pipe: %s", strerror(errno));
	e = pthread_create(&p_writer, NULL, full_writer, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	io_wait_for(&p_started, 1);
	io_yield_some();
	CHECK(atomic_load(&p_done) == 0, "the write to a full pipe returned "
	    "%zd (%s)", p_ret, strerror(p_errno));
	printf("sigpipe: closing the read end under a parked writer\n");
	close(pipefd[0]);
	pthread_join(p_writer, NULL);
}

static int
case_sigpipe_dfl(void)
{
	signal(SIGPIPE, SIG_DFL);
	CHECK(pipe(pipefd) == 0, "pipe: %s", strerror(errno));
	close(pipefd[0]);
	printf("sigpipe: writing\n");
	(void)write(pipefd[1], "x", 1);
	printf("FAIL: NOT REACHED: write returned (%s)\n", strerror(errno));
	return 1;
}

static int
case_sigpipe_dfl_parked(void)
{
	signal(SIGPIPE, SIG_DFL);
	parked_writer_sees_close();
	printf("FAIL: NOT REACHED: the writer returned %zd (%s)\n", p_ret,
	    strerror(p_errno));
	return 1;
}

static int
case_sigpipe_ign(void)
{
	ssize_t r;

	signal(SIGPIPE, SIG_IGN);
	CHECK(pipe(pipefd) == 0, "pipe: %s", strerror(errno));
	close(pipefd[0]);
	r = write(pipefd[1], "x", 1);
	CHECK(r == -1 && errno == EPIPE, "write = %zd (%s)", r,
	    strerror(errno));
	close(pipefd[1]);
	parked_writer_sees_close();
	CHECK(p_ret == -1 && p_errno == EPIPE, "parked write = %zd (%s)",
	    p_ret, strerror(p_errno));
	printf("sigpipe: done\n");
	return io_green_exit();
}

static int
case_sigpipe_caught(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sigaction(SIGPIPE, &sa, NULL);
	parked_writer_sees_close();
	CHECK(p_ret == -1 && p_errno == EPIPE, "parked write = %zd (%s)",
	    p_ret, strerror(p_errno));
	CHECK(atomic_load(&p_handled) == 1, "handler ran %d times",
	    atomic_load(&p_handled));
	CHECK(atomic_load(&p_handled_on_writer) == 1,
	    "the handler did not run on the writing thread");
	printf("sigpipe: done\n");
	return io_green_exit();
}

/* ------------------------------------------------------------ driver */

static const struct io_case cases[] = {
	{ "bulk", case_bulk, NULL, 0 },
	{ "bigwrite", case_bigwrite, NULL, 0 },
	{ "nonblock", case_nonblock, NULL, 0 },
	{ "stdin", case_stdin, NULL, 0 },
	{ "close", case_close, NULL, 0 },
	{ "close_reuse", case_close_reuse, NULL, 0 },
	{ "sigpipe_dfl", case_sigpipe_dfl, NULL, SIGPIPE },
	{ "sigpipe_dfl_parked", case_sigpipe_dfl_parked, NULL, SIGPIPE },
	{ "sigpipe_ign", case_sigpipe_ign, NULL, 0 },
	{ "sigpipe_caught", case_sigpipe_caught, NULL, 0 },
	{ NULL, NULL, NULL, 0 },
};

int
main(int argc, char **argv)
{
	return io_main(argc, argv, cases);
}
