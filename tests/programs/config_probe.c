/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * config_probe.c -- a program for tests/test_config.c: it starts
 * greenproc with whatever GREENPROC_* environment it was given, spawns
 * and reaps one green process, and prints what the runtime ended up with
 * on stdout ("nworkers N", "child exit N").  The test sets bad values and
 * reads the complaints on stderr.  Exit 0 when everything worked.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "greenproc.h"

static int
child(void *arg)
{
	(void)arg;
	return 7;
}

int
main(void)
{
	struct gp_counters st;
	pid_t p;
	int ws = -1;

	if (gp_init(0) != 0) {
		printf("gp_init: %s\n", strerror(errno));
		return 1;
	}
	if (gp_stats(&st) != 0)
		return 1;
	printf("nworkers %ld\n", st.nworkers);
	if ((p = gp_spawn(child, NULL, NULL)) < 0 ||
	    gp_waitpid(p, &ws, 0) != p) {
		printf("spawn/wait: %s\n", strerror(errno));
		return 1;
	}
	printf("child exit %d\n", WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
	fflush(stdout);
	return gp_shutdown() == 0 ? 0 : 1;
}
