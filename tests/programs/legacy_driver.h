/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * legacy_driver.h -- the one driver main() of the legacy_* programs that
 * run a legacy main() in a green process.
 *
 * Such a program is legacy code on top (libc only, no greenproc header:
 * that is what the preload must make green) and, below it, this header
 * and a description of the run:
 *
 *	#include "legacy_driver.h"
 *	static const struct legacy_driver legacy_driver = { ... };
 *
 * main() runs before() on the host thread, spawns main_fn(argc, argv)
 * with gp_spawn_main(), waits for it with the host's waitpid(), checks
 * its exit status, runs after() for the program's own checks and
 * returns check_exit_code().  The line "driver: status exited=E code=C"
 * is what tests/test_preload.c looks for.
 */
#ifndef GP_PROGRAMS_LEGACY_DRIVER_H
#define GP_PROGRAMS_LEGACY_DRIVER_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <greenproc.h>

#include "check.h"

struct legacy_driver {
	int	(*main_fn)(int, char **); /* run in a green process */
	char	**argv;		/* NULL-terminated; argv[0] names the program */
	unsigned timeout;	/* alarm(2) seconds; 0: 60 */
	int	status;		/* the exit status main_fn must end with */
	int	(*before)(void);	/* NULL, or 0 to go on / an exit code */
	void	(*after)(void);	/* NULL, or the program's own checks */
};

/* Defined by the program, below its #include of this header. */
static const struct legacy_driver legacy_driver;

/*
 * Wait (host waitpid) for green process pid, print "driver: <what>status
 * exited=E code=C" and return its status (-1 if the wait failed).
 */
static inline int
legacy_wait(pid_t pid, const char *what)
{
	pid_t r;
	int st = -1;

	CHECK(pid > 0, "spawn: %s", strerror(errno));
	if (pid <= 0)
		return -1;
	r = waitpid(pid, &st, 0);
	CHECK(r == pid, "waitpid = %d (%s)", (int)r, strerror(errno));
	printf("driver: %sstatus exited=%d code=%d\n", what, WIFEXITED(st),
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return r == pid ? st : -1;
}

int
main(void)
{
	const struct legacy_driver *d = &legacy_driver;
	int argc = 0, rc, st;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(d->timeout != 0 ? d->timeout : 60);
	if (d->before != NULL && (rc = d->before()) != 0)
		return rc;
	while (d->argv[argc] != NULL)
		argc++;
	st = legacy_wait(gp_spawn_main(d->main_fn, argc, d->argv, NULL), "");
	CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == d->status,
	    "status 0x%x, want exit %d", st, d->status);
	if (d->after != NULL)
		d->after();
	return check_exit_code();
}

#endif /* GP_PROGRAMS_LEGACY_DRIVER_H */
