/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * host_mixed_wait.c -- a host thread under the preload, with a real child
 * (fork) and a green child (gp_spawn): waitpid(-1) sees both, each once,
 * with its status, then ECHILD.  A real child forked by green code is
 * its green parent's, never the host's.
 *
 * The green children run libc-only code; the driver includes
 * <greenproc.h> for the gp_ calls it makes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#include <greenproc.h>

/* Green: sleeps a little, exits 22. */
static int
green_child(void *arg)
{
	(void)arg;
	usleep(100000);
	return 22;
}

/* Green: forks a real child that exits 5, and reaps it itself. */
static int
green_forker(void *arg)
{
	pid_t c;
	int st = 0;

	(void)arg;
	if ((c = fork()) == 0)
		_exit(5);
	if (c < 0 || waitpid(c, &st, 0) != c)
		return 90;
	return WIFEXITED(st) && WEXITSTATUS(st) == 5 ? 33 : 91;
}

int
main(void)
{
	pid_t real, green, forker, r;
	int st, i, seen_real = 0, seen_green = 0, seen_forker = 0;

	if ((real = fork()) == 0) {
		usleep(50000);
		_exit(11);
	}
	CHECK(real > 0, "fork from the host");
	green = gp_spawn(green_child, NULL, NULL);
	CHECK(green > GP_PID_BASE, "gp_spawn: %d", (int)green);
	forker = gp_spawn(green_forker, NULL, NULL);
	CHECK(forker > GP_PID_BASE, "gp_spawn forker: %d", (int)forker);
	for (i = 0; i < 3; i++) {
		r = waitpid(-1, &st, 0);
		if (r == real) {
			seen_real++;
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 11,
			    "real child status %#x", st);
		} else if (r == green) {
			seen_green++;
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 22,
			    "green child status %#x", st);
		} else if (r == forker) {
			seen_forker++;
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 33,
			    "green forker status %#x (its real child is its own)",
			    st);
		} else {
			CHECK(0, "waitpid(-1) returned %d (%s)", (int)r,
			    r < 0 ? strerror(errno) : "an unknown child");
		}
	}
	CHECK(seen_real == 1 && seen_green == 1 && seen_forker == 1,
	    "seen real %d green %d forker %d", seen_real, seen_green,
	    seen_forker);
	r = waitpid(-1, &st, 0);
	CHECK(r == -1 && errno == ECHILD, "then ECHILD: %d (%s)", (int)r,
	    strerror(errno));
	printf("host saw its real child and its green children, each once\n");
	return check_exit_code();
}
