/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * static_two_runtimes.c -- linked with libgreenproc.a (static_*: see the
 * Makefile), so it carries its own copy of the runtime.
 *
 *   static_two_runtimes libc   green code ends with exit(3), as legacy code
 *                              would: run under libgreenproc_preload.so
 *                              there are two runtimes, and the copy in this
 *                              program must refuse to start (EEXIST, a
 *                              line on stderr) instead of letting that
 *                              exit() end the host.
 *   static_two_runtimes gp     green code ends with gp_exit(3): without the
 *                              preload this copy is the only runtime and
 *                              works.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "greenproc.h"

static int use_libc_exit;

static int
green_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (use_libc_exit)
		exit(3);
	gp_exit(3);
}

int
main(int argc, char **argv)
{
	char *gargv[] = { "green", NULL };
	pid_t pid;
	int st = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	use_libc_exit = argc > 1 && strcmp(argv[1], "libc") == 0;
	if (gp_init(2) != 0) {
		printf("gp_init: -1 %s\n", errno == EEXIST ? "EEXIST" :
		    strerror(errno));
		return 0;
	}
	printf("gp_init: 0\n");
	if ((pid = gp_spawn_main(green_main, 1, gargv, NULL)) < 0 ||
	    gp_waitpid(pid, &st, 0) != pid) {
		printf("spawn/wait: %s\n", strerror(errno));
		return 1;
	}
	printf("green status: exited %d code %d\n", WIFEXITED(st),
	    WEXITSTATUS(st));
	return gp_shutdown() == 0 ? 0 : 1;
}
