/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sync.h -- what the sync_*.c programs share: a driver that runs their
 * legacy part (plain pthread code) in one green process, the backstop
 * counter of the preload, and a wait that lets other threads run.
 *
 * Ordering between threads is made with flags, never with times: a
 * test waits for a flag and yields meanwhile (sched_yield is a green
 * yield on an LWP, so with GREENPROC_WORKERS=1 the other LWP runs).
 */
#ifndef GP_PROGRAMS_SYNC_H
#define GP_PROGRAMS_SYNC_H

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* Wait until *flag >= v, letting others run. */
static inline void
wait_for(atomic_int *flag, int v)
{
	while (atomic_load(flag) < v)
		sched_yield();
}

/*
 * Wake-ups of green waiters by the preload's 10 ms backstop poll (see
 * preload/sync.c); -1 if the preload has no such counter.
 */
static inline long
backstops(void)
{
	unsigned long (*fn)(void) = (unsigned long (*)(void))dlsym(
	    RTLD_DEFAULT, "__greenproc_sync_backstops");

	return fn != NULL ? (long)fn() : -1;
}

/* What a green main returns: its checks count in the same check_nfail. */
static inline int
green_exit_code(void)
{
	return atomic_load(&check_nfail) == 0 ? 0 : 1;
}

/* ------------------------------------------------------------ driver */

#include <greenproc.h>

/* Run (fn) as the main of one green process; its exit status checked. */
static inline void
run_green(const char *name, int (*fn)(int, char **))
{
	char *argv[] = { (char *)name, NULL };
	pid_t pid, r;
	int st = -1;

	pid = gp_spawn_main(fn, 1, argv, NULL);
	CHECK(pid > 0, "gp_spawn_main: %s", strerror(errno));
	r = waitpid(pid, &st, 0);
	CHECK(r == pid, "waitpid = %d (%s)", (int)r, strerror(errno));
	printf("driver: %s exited=%d code=%d\n", name, WIFEXITED(st),
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status 0x%x", st);
}

static inline void
driver_start(void)
{
	const char *w = getenv("GREENPROC_WORKERS");

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(30);		/* a hang fails the test, fast */
	printf("driver: GREENPROC_WORKERS=%s\n", w != NULL ? w : "(unset)");
}

#endif /* GP_PROGRAMS_SYNC_H */
