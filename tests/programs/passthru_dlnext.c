/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * passthru_dlnext.c -- the preload finds each real function as
 * dlsym(RTLD_NEXT) would, without the dynamic loader (preload/dlnext.c).
 *
 *   next  re-run with libgrnext.so in LD_PRELOAD after the preload: its
 *         getppid follows the preload's interposer, so a host thread's
 *         getppid() answers its 4242, not the kernel's parent.
 *   lock  while a thread is inside dlopen (libgrslowinit.so's constructor
 *         waits, the loader's lock held), this thread installs a signal
 *         handler and the handler calls interposers for the first time
 *         in the process: both return.  Through dlsym, which takes that
 *         lock, either would wait for the constructor for ever.
 *   first, last, needed
 *         re-run with libgrdlcheck.so (dlnext.c's lookup beside dlsym's,
 *         tests/tlslib/grdlcheck.c) in LD_PRELOAD: before the preload
 *         and libgrnext.so, after them, or before the preload alone,
 *         where the program is passthru_dlnext_now, linked -z now with
 *         libgrnext.so needed ahead of libc; the two lookups agree on
 *         every name, the preload's getppid is still libgrnext's, and
 *         the interposers libgrnext.so's constructor called worked
 *         (when needed, it runs before the preload's constructor).
 *   audit the same as first with LD_AUDIT set (to no audit module: ld.so
 *         ignores it): dlnext.c does not walk, every lookup is dlsym's,
 *         and the preload still reaches libgrnext.so's getppid.
 */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

extern char **environ;

static char libdir[PATH_MAX];

/* build/tests/programs/this -> build/tests/greenrun, the helpers' dir. */
static void
find_libdir(void)
{
	ssize_t n = readlink("/proc/self/exe", libdir, sizeof(libdir) - 1);
	char *slash;

	if (n <= 0) {
		perror("readlink");
		exit(2);
	}
	libdir[n] = '\0';
	if ((slash = strrchr(libdir, '/')) != NULL)
		*slash = '\0';
	if ((slash = strrchr(libdir, '/')) != NULL)
		*slash = '\0';
	strncat(libdir, "/greenrun", sizeof(libdir) - strlen(libdir) - 1);
}

/*
 * Re-run this program once with LD_PRELOAD = (pre) + the current one +
 * (post), each a library of libdir or empty.
 */
static void
reexec(char **argv, const char *pre, const char *post)
{
	char ld[4 * PATH_MAX + 32], a[PATH_MAX + 32] = "", b[PATH_MAX + 32] = "";
	const char *cur = getenv("LD_PRELOAD");

	if (getenv("GRNEXT_LOADED") != NULL)
		return;
	if (pre != NULL)
		snprintf(a, sizeof(a), "%s/%s ", libdir, pre);
	if (post != NULL)
		snprintf(b, sizeof(b), " %s/%s", libdir, post);
	snprintf(ld, sizeof(ld), "%s%s%s", a, cur != NULL ? cur : "", b);
	setenv("LD_PRELOAD", ld, 1);
	setenv("GRNEXT_LOADED", "1", 1);
	execv("/proc/self/exe", argv);
	perror("execv");
	exit(2);
}

static int
next_mode(char **argv)
{
	reexec(argv, NULL, "libgrnext.so");
	CHECK(getppid() == 4242, "getppid() = %d: the preload's real getppid "
	    "is not the next object's", (int)getppid());
	return check_exit_code();
}

static int
table_mode(char **argv, const char *order)
{
	int (*check)(void);
	const int *ok;

	if (strcmp(order, "audit") == 0 && getenv("GRNEXT_LOADED") == NULL) {
		/* Not an audit module: ld.so says so and goes on. */
		setenv("LD_AUDIT", "/nonexistent/greenproc-audit.so", 1);
		reexec(argv, "libgrdlcheck.so", "libgrnext.so");
	} else if (strcmp(order, "first") == 0)
		reexec(argv, "libgrdlcheck.so", "libgrnext.so");
	else if (strcmp(order, "last") == 0)
		reexec(argv, "libgrnext.so", "libgrdlcheck.so");
	else
		reexec(argv, "libgrdlcheck.so", NULL);
	*(void **)&check = dlsym(RTLD_DEFAULT, "grdlcheck");
	CHECK(check != NULL, "libgrdlcheck.so is not loaded: %s", dlerror());
	if (check != NULL && strcmp(order, "audit") == 0)
		CHECK(check() == -1, "dlnext.c walks with LD_AUDIT set");
	else if (check != NULL)
		CHECK(check() == 0, "dlnext.c and dlsym(RTLD_NEXT) differ");
	/* libgrnext.so's getppid: after the preload's, before it, needed. */
	CHECK(getppid() == 4242, "getppid() = %d", (int)getppid());
	ok = dlsym(RTLD_DEFAULT, "grnext_ctor_ok");
	CHECK(ok != NULL && *ok == 1, "libgrnext.so's constructor: its "
	    "thread, pipe, read or write failed");
	return check_exit_code();
}

static volatile sig_atomic_t handler_ppid = -1, handler_ran;

static void
handler(int sig)
{
	(void)sig;
	/* First uses of these interposers in the process. */
	handler_ppid = getppid();
	(void)sched_yield();
	handler_ran = 1;
}

static void *
opener(void *arg)
{
	char path[PATH_MAX + 32];

	(void)arg;
	snprintf(path, sizeof(path), "%s/libgrslowinit.so", libdir);
	return dlopen(path, RTLD_NOW);
}

static int
lock_mode(void)
{
	struct sigaction sa;
	int ack[2], rel[2];
	pthread_t t;
	void *h = NULL;
	char c;

	if (pipe(ack) != 0 || pipe(rel) != 0 || dup2(ack[1], 61) != 61 ||
	    dup2(rel[0], 62) != 62) {
		perror("pipe");
		return 2;
	}
	CHECK(pthread_create(&t, NULL, opener, NULL) == 0, "pthread_create");
	/* The constructor runs: dlopen holds the loader's lock. */
	CHECK(read(ack[0], &c, 1) == 1, "no word from the constructor");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
	CHECK(raise(SIGUSR1) == 0, "raise");
	CHECK(handler_ran == 1, "the handler did not finish");
	CHECK(handler_ppid == (pid_t)syscall(SYS_getppid), "getppid in the "
	    "handler: %d", (int)handler_ppid);
	CHECK(write(rel[1], "r", 1) == 1, "release");
	CHECK(pthread_join(t, &h) == 0 && h != NULL, "dlopen: %s", dlerror());
	return check_exit_code();
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	find_libdir();
	if (argc == 2 && strcmp(argv[1], "next") == 0)
		return next_mode(argv);
	if (argc == 2 && strcmp(argv[1], "lock") == 0)
		return lock_mode();
	if (argc == 2 && (strcmp(argv[1], "first") == 0 ||
	    strcmp(argv[1], "last") == 0 || strcmp(argv[1], "needed") == 0 ||
	    strcmp(argv[1], "audit") == 0))
		return table_mode(argv, argv[1]);
	fprintf(stderr, "usage: passthru_dlnext next|lock|first|last|needed|audit\n");
	return 2;
}
