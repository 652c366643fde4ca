/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress_fdfree.c -- 100k spawns that each open a socket, own it and
 * never close it leave no descriptor behind (issue 14, fdfree).
 *
 * Two host threads spawn on two workers at once, in batches; each child
 * makes a socket, takes it (gp_fd_own: no preload here), sometimes makes
 * a second one and hands it to a grandchild (gp_attr_setfds), sometimes
 * closes one itself (gp_close), and returns.  At the end /proc/self/fd
 * holds what it held before and every child exited 0.  10k spawns under
 * TSan.  Exit status 0 on success; a message and 1 on failure.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "greenproc.h"
#include "../testutil.h"

#ifdef TU_UNDER_TSAN
#define NSPAWN	10000
#else
#define NSPAWN	100000
#endif
#define NHOST	2
#define BATCH	64

static atomic_long failures;


static int
grandchild(void *arg)
{
	(void)arg;
	return 0;	/* its inherited socket is closed at this exit */
}

static int
child(void *arg)
{
	long i = (long)(intptr_t)arg;
	int s = socket(AF_UNIX, SOCK_STREAM, 0), t, st;
	gp_attr_t *a;
	pid_t pid;

	if (s < 0 || gp_fd_own(s) != 0)
		return 1;
	if (i % 7 == 0)
		(void)gp_close(s);	/* released by hand */
	if (i % 11 == 0) {
		if ((t = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 ||
		    gp_fd_own(t) != 0 || gp_attr_init(&a) != 0)
			return 2;
		if (gp_attr_setfds(a, &t, 1) != 0)
			return 3;
		pid = gp_spawn(grandchild, NULL, a);
		gp_attr_destroy(a);
		if (pid < 0 || gp_waitpid(pid, &st, 0) != pid || st != 0)
			return 4;
	}
	return 0;
}

static void *
host(void *arg)
{
	long base = (long)(intptr_t)arg, i, j;
	pid_t pids[BATCH];
	int st;

	for (i = 0; i < NSPAWN / NHOST; i += BATCH) {
		for (j = 0; j < BATCH; j++)
			pids[j] = gp_spawn(child, (void *)(intptr_t)(base + i +
			    j), NULL);
		for (j = 0; j < BATCH; j++) {
			if (pids[j] < 0 || gp_waitpid(pids[j], &st, 0) !=
			    pids[j] || st != 0) {
				if (atomic_fetch_add(&failures, 1) < 5)
					fprintf(stderr, "stress_fdfree: child "
					    "%ld: pid %d status 0x%x (%s)\n",
					    base + i + j, (int)pids[j], st,
					    strerror(errno));
			}
		}
	}
	return NULL;
}

int
main(void)
{
	pthread_t t[NHOST];
	uint64_t t0;
	int before, after, i;

	if (gp_init(2) != 0) {
		perror("gp_init");
		return 1;
	}
	before = tu_count_fds();
	t0 = tu_now_ns();
	for (i = 0; i < NHOST; i++)
		if (pthread_create(&t[i], NULL, host,
		    (void *)(intptr_t)(i * (NSPAWN / NHOST))) != 0) {
			perror("pthread_create");
			return 1;
		}
	for (i = 0; i < NHOST; i++)
		pthread_join(t[i], NULL);
	after = tu_count_fds();
	printf("stress_fdfree: %d spawns in %.2f s, descriptors %d before, "
	    "%d after, %ld failed\n", NSPAWN, (double)(tu_now_ns() - t0) /
	    1e9, before, after, atomic_load(&failures));
	if (gp_shutdown() != 0)
		perror("gp_shutdown");
	return after == before && atomic_load(&failures) == 0 ? 0 : 1;
}
