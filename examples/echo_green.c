/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * echo_green.c -- examples/echo.c, unmodified, in a green process.
 *
 *	GREENPROC_WORKERS=1 LD_PRELOAD=build/libgreenproc_preload.so \
 *	    build/examples/echo_green [PORT [NCONN]]
 *
 * Under the preload a program's own main() runs on the host thread,
 * where every libc call is glibc's.  This launcher compiles echo.c's
 * main() under another name, runs it with gp_spawn_main() as the main
 * thread of a green process, and waits for it with the host's
 * waitpid(): echo.c's pthread_create() then makes green threads, and
 * (with issue 13's I/O engine) its accept(), read() and write() park
 * them rather than the worker.  Exits with the green process's status
 * (128 + signal if it was killed).
 */
int echo_main(int argc, char **argv);

#define main echo_main
#include "echo.c"
#undef main

#include <sys/wait.h>

#include "greenproc.h"

int
main(int argc, char **argv)
{
	pid_t pid;
	int st;

	if ((pid = gp_spawn_main(echo_main, argc, argv, NULL)) < 0) {
		perror("echo_green: gp_spawn_main");
		return 1;
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			perror("echo_green: waitpid");
			return 1;
		}
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
