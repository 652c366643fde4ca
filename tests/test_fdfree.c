/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_fdfree.c -- a green process's descriptors are closed at its exit
 * (issue 14, fdfree; docs/ARCHITECTURE.md section 24).
 *
 *   fdfree/<case>_<engine>  tests/programs/fdfree_cases.c CASE under
 *                           the preload, GREENPROC_WORKERS=1, on io_uring
 *                           and on epoll: see that file for the cases;
 *   fdfree/api_*            gp_fd_own, gp_fd_disown and gp_attr_setfds
 *                           in this process, without the preload.
 *
 * Every run has a deadline and its own process group, SIGKILLed at the
 * end, so a hung program cannot hold up the suite.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "greenproc.h"
#include "testutil.h"

TestSuite(fdfree, .timeout = 120.0);

#define RUN_S	60.0

/*
 * Our programs and preload: this tree's build, or the plain one under a
 * sanitizer (a sanitized program cannot start green threads under the
 * preload; as test_echo.c).
 */
static const char *
build_dir(void)
{
	const char *san = getenv("GREENPROC_TEST_SAN");
	const char *name = san != NULL && san[0] != '\0' ?
	    "GREENPROC_TEST_PLAIN_BUILD" : "GREENPROC_TEST_BUILD";
	const char *dir = getenv(name);

	cr_assert(ne(ptr, (void *)dir, NULL), "%s is not set (run make test)",
	    name);
	return dir;
}

static struct tu_run R;	/* the last run's output */

static int
run_case(const char *engine, const char *name, const char *n)
{
	char prog[4096], pre[4200], io[64];
	const char *argv[] = { prog, name, n, NULL };
	const char *add[] = { pre, io, "GREENPROC_WORKERS=1", NULL };
	char **env;

	snprintf(prog, sizeof(prog), "%s/tests/programs/fdfree_cases",
	    build_dir());
	snprintf(pre, sizeof(pre), "LD_PRELOAD=%s/libgreenproc_preload.so",
	    build_dir());
	snprintf(io, sizeof(io), "GREENPROC_IO=%s", engine);
	env = tu_env(NULL, add);
	cr_assert(ne(ptr, env, NULL));
	cr_assert(eq(int, tu_start(&R, argv, env, true), 0), "%s",
	    strerror(errno));
	free(env);
	tu_finish(&R, RUN_S);
	return R.status;
}

static void
expect_ok(const char *engine, const char *name, const char *n)
{
	int st = run_case(engine, name, n);
	bool passed = WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    strstr(R.buf, "ALL OK") != NULL;

	cr_assert(passed, "fdfree_cases %s on %s: status 0x%x\n%s", name,
	    engine, st, R.buf);
}

#define CASE(name, n)							\
	Test(fdfree, name##_uring) { expect_ok("uring", #name, n); }	\
	Test(fdfree, name##_epoll) { expect_ok("epoll", #name, n); }

CASE(accept_kill, NULL)
CASE(spawns, "3000")
CASE(reused, NULL)
CASE(eof, NULL)
CASE(read_kill, NULL)
CASE(exec, NULL)
CASE(ps, NULL)
CASE(handover, NULL)

/* ------------------------------------------------------------ the API */

static int pair[2];

static int
own_and_leave(void *arg)
{
	int fd = *(int *)arg;

	if (gp_fd_own(fd) != 0)
		return 1;
	return gp_fd_own(fd) == 0 ? 0 : 2;	/* twice: still one */
}

static int
own_then_disown(void *arg)
{
	int fd = *(int *)arg;

	return gp_fd_own(fd) == 0 && gp_fd_disown(fd) == 0 ? 0 : 1;
}

static int
wait_st(pid_t pid)
{
	int st = -1;

	cr_assert(gt(int, (int)pid, 0), "gp_spawn: %s", strerror(errno));
	cr_assert(eq(int, (int)gp_waitpid(pid, &st, 0), (int)pid));
	return st;
}

Test(fdfree, api_own_disown)
{
	int st, d;

	cr_assert(eq(int, socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0));
	d = dup(pair[1]);
	st = wait_st(gp_spawn(own_then_disown, &d, NULL));
	cr_expect(eq(int, st, 0));
	cr_expect(ge(int, fcntl(d, F_GETFD), 0), "a disowned descriptor "
	    "was closed");
	st = wait_st(gp_spawn(own_and_leave, &d, NULL));
	cr_expect(eq(int, st, 0));
	cr_expect(eq(int, fcntl(d, F_GETFD), -1), "an owned descriptor "
	    "outlived its process");
	/* Init owns nothing; 0-2 and bad numbers are refused. */
	errno = 0;
	cr_expect(eq(int, gp_fd_own(pair[0]), -1));
	cr_expect(eq(int, errno, EPERM));
	gp_shutdown();
}

static int
bad_numbers(void *arg)
{
	(void)arg;
	if (gp_fd_own(1) != -1 || errno != EINVAL)
		return 1;
	if (gp_fd_own(-1) != -1 || errno != EBADF)
		return 2;
	if (gp_fd_own(1 << 28) != -1 || errno != EBADF)
		return 3;
	if (gp_fd_disown(pair[0]) != -1 || errno != EBADF)
		return 4;	/* not ours */
	return 0;
}

Test(fdfree, api_errors)
{
	gp_attr_t *a;
	int fds[2] = { 5, 2 };

	cr_assert(eq(int, socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0));
	cr_expect(eq(int, wait_st(gp_spawn(bad_numbers, NULL, NULL)), 0));
	cr_assert(eq(int, gp_attr_init(&a), 0));
	cr_expect(eq(int, gp_attr_setfds(NULL, fds, 1), EINVAL));
	cr_expect(eq(int, gp_attr_setfds(a, NULL, 1), EINVAL));
	cr_expect(eq(int, gp_attr_setfds(a, fds, -1), EINVAL));
	cr_expect(eq(int, gp_attr_setfds(a, fds, 2), EINVAL));	/* fd 2 */
	cr_expect(eq(int, gp_attr_setfds(a, fds, 0), 0));
	/* A listed descriptor that is not open fails the spawn: EBADF. */
	fds[0] = 1 << 28;
	cr_expect(eq(int, gp_attr_setfds(a, fds, 1), 0));
	errno = 0;
	cr_expect(eq(int, (int)gp_spawn(bad_numbers, NULL, a), -1));
	cr_expect(eq(int, errno, EBADF));
	cr_expect(eq(int, gp_attr_destroy(a), 0));
	gp_shutdown();
}

/* ---------------------------------------------- the runtime's own (rtfd) */

/* Bit n of (set): fd n open, for n < 1024. */
static void
open_set(unsigned char set[1024])
{
	int fd;

	for (fd = 0; fd < 1024; fd++)
		set[fd] = fcntl(fd, F_GETFD) != -1;
}

static int
sleeper(void *arg)
{
	struct timespec ts = { 0, 2000000 };

	(void)arg;
	return gp_nanosleep(&ts, NULL);
}

/*
 * What gp_init opens (each worker's eventfd, ring or epoll set, /proc
 * stat file) sits at the top of the range, above the numbers a program
 * uses, and is not open to gp_close, gp_dup2 and gp_dup3; the runtime
 * goes on working after they refused, and gp_shutdown closes them all.
 * Before runtime/rtfd.c they were 3, 4, 5...: a shell's `exec 3>f`
 * replaced a worker's eventfd.
 */
Test(fdfree, api_runtime_descriptors)
{
	static unsigned char before[1024], during[1024], after[1024];
	struct rlimit rl;
	int fd, ours = 0, floor, i, st;
	pid_t pids[8];

	cr_assert(eq(int, getrlimit(RLIMIT_NOFILE, &rl), 0));
	floor = (int)(rl.rlim_cur < 1024 ? rl.rlim_cur : 1024);
	floor = floor >= 512 ? floor - 256 : floor / 2;
	open_set(before);
	cr_assert(eq(int, gp_init(2), 0));
	open_set(during);
	for (fd = 3; fd < 1024; fd++) {
		if (!during[fd] || before[fd])
			continue;
		ours++;
		cr_expect(ge(int, fd, floor), "the runtime's descriptor %d is "
		    "below %d", fd, floor);
		errno = 0;
		cr_expect(eq(int, gp_close(fd), -1), "gp_close(%d) closed it", fd);
		cr_expect(eq(int, errno, EBADF));
		errno = 0;
		cr_expect(eq(int, gp_dup2(0, fd), -1), "gp_dup2 onto %d", fd);
		cr_expect(eq(int, errno, EBADF));
		errno = 0;
		cr_expect(eq(int, gp_dup3(fd, 0, 0), -1), "gp_dup3 from %d", fd);
		cr_expect(eq(int, errno, EBADF));
		cr_expect(ne(int, fcntl(fd, F_GETFD), -1), "%d was closed", fd);
	}
	/* Two workers: an eventfd, a ring or epoll set, a stat file each. */
	cr_expect(ge(int, ours, 6), "%d descriptors made by gp_init", ours);
	/* Sleepers on both workers: their wakes go through those. */
	for (i = 0; i < 8; i++)
		pids[i] = gp_spawn(sleeper, NULL, NULL);
	for (i = 0; i < 8; i++)
		cr_expect(eq(int, wait_st(pids[i]), 0));
	(void)gp_waitpid(-1, &st, WNOHANG);
	cr_assert(eq(int, gp_shutdown(), 0));
	open_set(after);
	for (fd = 0; fd < 1024; fd++)
		cr_expect(eq(int, after[fd], before[fd]), "fd %d: %s after "
		    "gp_shutdown", fd, after[fd] ? "left open" : "closed");
}
