/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_stdio.c -- glibc's stdio on green threads (preload/stdio.c): each
 * case of tests/programs/stdio_park.c runs under the preload in a green
 * process on one worker, on both I/O engines.  A worker frozen inside
 * glibc freezes the whole program, which then dies of its own alarm: the
 * tests fail by that, never by a timing.
 */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

TestSuite(stdio, .timeout = 120.0);

#define LIMIT_S	60		/* stdio_park's own alarm comes first */

static const char *
build_dir(void)
{
	const char *san = getenv("GREENPROC_TEST_SAN");
	const char *v = getenv(san != NULL && san[0] != '\0' ?
	    "GREENPROC_TEST_PLAIN_BUILD" : "GREENPROC_TEST_BUILD");

	cr_assert(ne(ptr, (void *)v, NULL), "run the tests with make test");
	return v;
}

/*
 * Run stdio_park with STDIO_CASE=(what), GREENPROC_IO=(io) and one
 * worker, under the preload (the sanitized trees use the plain build's:
 * see test_preload.c).
 */
static void
run_case(struct tu_run *o, const char *what, const char *io)
{
	char prog[4096], ld[4200], c[64], e[64];
	const char *argv[] = { prog, NULL };
	char *env[] = { ld, c, e, "GREENPROC_WORKERS=1",
	    "PATH=/usr/bin:/bin", NULL };
	struct stat sb;

	snprintf(prog, sizeof(prog), "%s/tests/programs/stdio_park",
	    build_dir());
	cr_assert(eq(int, stat(prog, &sb), 0), "%s: %s", prog,
	    strerror(errno));
	snprintf(ld, sizeof(ld), "LD_PRELOAD=%s/libgreenproc_preload.so",
	    build_dir());
	snprintf(c, sizeof(c), "STDIO_CASE=%s", what);
	snprintf(e, sizeof(e), "GREENPROC_IO=%s", io);
	cr_assert(eq(int, tu_start(o, argv, env, false), 0), "%s",
	    strerror(errno));
	tu_finish(o, LIMIT_S);
	cr_assert(not(o->timed_out), "%s on %s hung:\n%s", what, io, o->buf);
}

static void
check_case(const char *what, const char *io)
{
	static struct tu_run o;
	bool ok;

	run_case(&o, what, io);
	ok = WIFEXITED(o.status) && WEXITSTATUS(o.status) == 0;
	cr_assert(ok,
	    "%s on %s: %s %d\n%s", what, io, WIFSIGNALED(o.status) ?
	    "killed by signal" : "exit", WIFSIGNALED(o.status) ?
	    WTERMSIG(o.status) : WEXITSTATUS(o.status), o.buf);
	cr_assert(ne(ptr, strstr(o.buf, "host: stdio as glibc's\n"), NULL),
	    "%s", o.buf);
	cr_assert(ne(ptr, strstr(o.buf, "\nALL OK\n"), NULL), "%s", o.buf);
	cr_assert(eq(ptr, strstr(o.buf, "FAIL"), NULL), "%s", o.buf);
}

#define BOTH(what)							\
	Test(stdio, what##_uring) { check_case(#what, "uring"); }	\
	Test(stdio, what##_epoll) { check_case(#what, "epoll"); }

/* A reader parked on an empty pipe; 100k ping-pongs go on meanwhile. */
BOTH(fgets)
BOTH(getline)
BOTH(fread)
BOTH(fscanf)
/* fprintf + fflush, and a line-buffered fprintf, to a full pipe. */
BOTH(printf)
/* flockfile across a park keeps another LWP of the worker out. */
BOTH(flockfile)
