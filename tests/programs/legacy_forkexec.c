/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * legacy_forkexec.c -- real child processes from legacy code in a green
 * process: fork()+execl("/bin/true") and fork()+_exit(5), each waited for
 * with waitpid() by the green parent; waitpid(-1) in it sees the real
 * child; system(), popen()/pclose() and posix_spawn()+waitpid() too.  The
 * host must never see those children (its waitpid(-1) gives ECHILD).
 *
 * Every check says what went wrong: fork support may not be there yet.
 * A forked child that does not get through is killed by its own alarm;
 * the test also kills the whole process group at the end.
 *
 * Legacy part on top (libc only); the driver below is legacy_driver.h.
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

extern char **environ;

/* ------------------------------------------------------------ legacy code */

static void
child_safety(void)
{
	/*
	 * A child stuck in green code is ended by the kernel.  The raw
	 * syscall: the worker thread that forked blocks SIGALRM, and a
	 * sigprocmask() that still thinks it is green would not unblock it.
	 */
	sigset_t all;

	sigemptyset(&all);
	sigaddset(&all, SIGALRM);
	syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &all, NULL, _NSIG / 8);
	alarm(10);
}

static int
legacy_main(int argc, char **argv)
{
	char line[64] = "";
	pid_t c, r;
	FILE *p;
	int st, e;

	(void)argc;
	(void)argv;

	/* fork + exec /bin/true */
	fflush(stdout);
	c = fork();
	if (c == 0) {
		child_safety();
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	CHECK(c > 0, "fork: %s", strerror(errno));
	st = -1;
	r = waitpid(c, &st, 0);
	e = errno;
	CHECK(r == c, "waitpid(fork+exec child %d) = %d (%s)", (int)c, (int)r,
	    strerror(e));
	CHECK(r == c && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "fork+exec /bin/true: status 0x%x", st);

	/* fork + _exit(5) */
	fflush(stdout);
	c = fork();
	if (c == 0) {
		child_safety();
		_exit(5);
	}
	CHECK(c > 0, "fork: %s", strerror(errno));
	st = -1;
	r = waitpid(c, &st, 0);
	e = errno;
	CHECK(r == c, "waitpid(fork+_exit child %d) = %d (%s)", (int)c,
	    (int)r, strerror(e));
	CHECK(r == c && WIFEXITED(st) && WEXITSTATUS(st) == 5,
	    "fork+_exit(5): status 0x%x", st);

	/* waitpid(-1) sees a real child */
	fflush(stdout);
	c = fork();
	if (c == 0) {
		child_safety();
		execl("/bin/sh", "sh", "-c", "exit 6", (char *)NULL);
		_exit(127);
	}
	st = -1;
	r = waitpid(-1, &st, 0);
	e = errno;
	CHECK(r == c && WIFEXITED(st) && WEXITSTATUS(st) == 6,
	    "waitpid(-1) = %d (%s), want %d, status 0x%x", (int)r,
	    strerror(e), (int)c, st);

	/* system() */
	st = system("exit 3");
	CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 3,
	    "system(\"exit 3\") = 0x%x (%s)", st, strerror(errno));

	/* popen() / pclose() */
	p = popen("echo popen-out", "r");
	CHECK(p != NULL, "popen: %s", strerror(errno));
	if (p != NULL) {
		if (fgets(line, sizeof(line), p) == NULL)
			line[0] = '\0';
		st = pclose(p);
		CHECK(strcmp(line, "popen-out\n") == 0, "popen read '%s'", line);
		CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		    "pclose = 0x%x (%s)", st, strerror(errno));
	}

	/* posix_spawn() + waitpid() */
	{
		char *av[] = { "sh", "-c", "exit 4", NULL };

		e = posix_spawn(&c, "/bin/sh", NULL, NULL, av, environ);
		CHECK(e == 0, "posix_spawn: %s", strerror(e));
		st = -1;
		r = e == 0 ? waitpid(c, &st, 0) : -1;
		CHECK(r == c && WIFEXITED(st) && WEXITSTATUS(st) == 4,
		    "posix_spawn child: waitpid = %d (%s) status 0x%x",
		    (int)r, strerror(errno), st);
	}
	printf("legacy: done\n");
	return 0;
}

/* ------------------------------------------------------------ driver */

#include "legacy_driver.h"

static char *forkexec_argv[] = { "legacy_forkexec", NULL };

static void
after(void)
{
	pid_t r;
	int st;

	/* The green process's real children were never the host's to reap. */
	r = waitpid(-1, &st, WNOHANG);
	CHECK(r == -1 && errno == ECHILD,
	    "host waitpid(-1) = %d (%s): a real child of green code leaked "
	    "to the host", (int)r, strerror(errno));
}

static const struct legacy_driver legacy_driver = {
	.main_fn = legacy_main, .argv = forkexec_argv, .after = after,
};
