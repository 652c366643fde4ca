/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_iofile.c -- calls without readiness never block a worker
 * (runtime/iofile.c, runtime/iopool.c).  Each iofile_* program of
 * tests/programs/ runs under the preload with GREENPROC_WORKERS=1 on
 * each engine: a call is held in progress (userfaultfd, a name server of
 * its own, a lock held by another process) until a ping-pong of two
 * other green threads of the one worker is over, so a call that blocked
 * the worker would hang the program into its alarm().  No timing is
 * measured.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greenproc.h"
#include "testutil.h"

TestSuite(iofile, .timeout = 120.0);

#define LIMIT_S		60		/* the programs' own alarm is 30 s */

static struct tu_run R;

/*
 * The programs run plain under a sanitizer tier (test_preload.c says
 * why): from the plain build.
 */
static const char *
build_dir(void)
{
	const char *san = getenv("GREENPROC_TEST_SAN");
	const char *v = getenv(san != NULL && san[0] != '\0' ?
	    "GREENPROC_TEST_PLAIN_BUILD" : "GREENPROC_TEST_BUILD");

	cr_assert(ne(ptr, (void *)v, NULL), "run the tests with make test");
	return v;
}

/* Run tests/programs/(name) on engine (io); its output is in R. */
static int
run(const char *name, const char *io)
{
	char prog[4096], preload[4200], eng[64];
	const char *argv[] = { prog, NULL };
	const char *add[] = { preload, eng, "GREENPROC_WORKERS=1", NULL };
	char **env;

	snprintf(prog, sizeof(prog), "%s/tests/programs/%s", build_dir(),
	    name);
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s/libgreenproc_preload.so",
	    build_dir());
	snprintf(eng, sizeof(eng), "GREENPROC_IO=%s", io);
	env = tu_env(NULL, add);
	cr_assert(ne(ptr, env, NULL));
	cr_assert(eq(int, tu_start(&R, argv, env, false), 0), "%s: %s", name,
	    strerror(errno));
	free(env);
	tu_finish(&R, LIMIT_S);
	cr_assert(not(R.timed_out), "%s on %s hung:\n%s", name, io, R.buf);
	return R.status;
}

static void
check(const char *name, const char *io)
{
	int st = run(name, io);
	int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;

	cr_assert(ok,
	    "%s on %s: status 0x%x (an alarm is 0xe: the worker was "
	    "blocked):\n%s", name, io, st, R.buf);
	cr_assert(ne(ptr, strstr(R.buf, "ALL OK"), NULL), "%s", R.buf);
	cr_assert(ne(ptr, strstr(R.buf, "pingpong: 100000 round trips"),
	    NULL), "%s", R.buf);
}

Test(iofile, read_uring) { check("iofile_read", "uring"); }
Test(iofile, read_epoll) { check("iofile_read", "epoll"); }
Test(iofile, stdio_fread_uring) { check("iofile_fread", "uring"); }
Test(iofile, stdio_fread_epoll) { check("iofile_fread", "epoll"); }
Test(iofile, signal_read_uring) { check("iofile_sigread", "uring"); }
Test(iofile, signal_read_epoll) { check("iofile_sigread", "epoll"); }
Test(iofile, getaddrinfo_uring) { check("iofile_gai", "uring"); }
Test(iofile, getaddrinfo_epoll) { check("iofile_gai", "epoll"); }
Test(iofile, flock_uring) { check("iofile_flock", "uring"); }
Test(iofile, flock_epoll) { check("iofile_flock", "epoll"); }

/* ------------------------------------------------------------ the gp_ calls */

static char tmpl[64];

/* In calls_lwp: on failure, say which line (and errno) in *ok. */
#define STEP(cond) do {							\
	if (!(cond)) {							\
		ok[0] = __LINE__;					\
		ok[1] = errno;						\
		return NULL;						\
	}								\
} while (0)

static void *
calls_lwp(void *arg)
{
	static const char text[] = "0123456789";
	struct addrinfo *res = NULL;
	char buf[16] = { 0 }, host[64];
	int fd, *ok = arg;

	snprintf(tmpl, sizeof(tmpl), "/tmp/gp_iofile_calls_%d", getpid());
	fd = gp_open(tmpl, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	STEP(fd >= 0);
	(void)unlink(tmpl);
	STEP(gp_pwrite(fd, text, 10, 0) == 10);
	STEP(gp_fsync(fd) == 0 && gp_fdatasync(fd) == 0);
	STEP(gp_pread(fd, buf, 4, 3) == 4 && memcmp(buf, "3456", 4) == 0);
	STEP(gp_read(fd, buf, 16) == 10);	/* pwrite moved no position */
	/* Past the end, a bad descriptor, a bad offset: as the kernel. */
	STEP(gp_pread(fd, buf, 4, 100) == 0);
	STEP(gp_pread(-1, buf, 1, 0) == -1 && errno == EBADF);
	STEP(gp_pread(fd, buf, 1, -1) == -1 && errno == EINVAL);
	STEP(gp_fsync(-1) == -1 && errno == EBADF);
	STEP(gp_open("/nonexistent/x", O_RDONLY) == -1 && errno == ENOENT);
	STEP(gp_flock(fd, LOCK_EX) == 0 && gp_flock(fd, LOCK_UN) == 0);
	STEP(gp_getaddrinfo("127.0.0.1", NULL, NULL, &res) == 0);
	STEP(gp_getnameinfo(res->ai_addr, res->ai_addrlen, host,
	    sizeof(host), NULL, 0, NI_NUMERICHOST) == 0);
	STEP(strcmp(host, "127.0.0.1") == 0);
	freeaddrinfo(res);
	close(fd);
	ok[0] = 1;
	return NULL;
}

Test(iofile, gp_calls_both_engines)
{
	static const char *const io[] = { "uring", "epoll" };
	int i, ok[2];
	gp_lwp_t l;

	for (i = 0; i < 2; i++) {
		setenv("GREENPROC_IO", io[i], 1);
		cr_assert(eq(int, gp_init(1), 0));
		ok[0] = ok[1] = 0;
		cr_assert(eq(int, gp_lwp_create(&l, calls_lwp, ok, NULL), 0));
		cr_assert(eq(int, gp_lwp_join(l, NULL), 0));
		cr_assert(eq(int, ok[0], 1), "on %s: line %d failed, errno %d",
		    io[i], ok[0], ok[1]);
		cr_assert(eq(int, gp_shutdown(), 0));
	}
	unsetenv("GREENPROC_IO");
}
