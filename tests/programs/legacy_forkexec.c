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
 * Legacy part on top (libc only); the driver below declares the gp_
 * function it needs by hand (signature of include/greenproc.h).
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

struct gp_attr;
extern pid_t gp_spawn_main(int (*main_fn)(int, char **), int argc,
    char **argv, const struct gp_attr *attr);

int
main(void)
{
	char *argv[] = { "legacy_forkexec", NULL };
	pid_t pid, r;
	int st = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(60);
	pid = gp_spawn_main(legacy_main, 1, argv, NULL);
	CHECK(pid > 0, "gp_spawn_main: %s", strerror(errno));
	r = waitpid(pid, &st, 0);
	CHECK(r == pid, "waitpid = %d (%s)", (int)r, strerror(errno));
	printf("driver: status exited=%d code=%d\n", WIFEXITED(st),
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
	/* The green process's real children were never the host's to reap. */
	r = waitpid(-1, &st, WNOHANG);
	CHECK(r == -1 && errno == ECHILD,
	    "host waitpid(-1) = %d (%s): a real child of green code leaked "
	    "to the host", (int)r, strerror(errno));
	return check_exit_code();
}
