/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_sched.c -- the kernel's scheduling calls that take a thread id, on
 * threads: a thread's policy, priority and nice value are its own
 * (Linux's are per thread).  GLib's thread pool reads its creator's with
 * syscall(SYS_sched_getattr, gettid()) and gives them to each new thread
 * with sched_setattr: under greenrun the green id reached the kernel,
 * which said ESRCH, and GLib aborted.  A thread that changes its own
 * policy with sched_setscheduler(0) must not change another's, which
 * under greenrun shared its worker.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "behind.h"

/* The kernel's struct sched_attr (SCHED_ATTR_SIZE_VER1). */
struct attr {
	uint32_t	size, policy;
	uint64_t	flags;
	int32_t		nice;
	uint32_t	priority;
	uint64_t	runtime, deadline, period;
	uint32_t	util_min, util_max;
};

static struct attr creator;
static char line[2][64];
static pthread_barrier_t both_set, both_read;

static void *
glib_like(void *arg)
{
	long r;

	(void)arg;
	r = syscall(SYS_sched_setattr, (pid_t)syscall(SYS_gettid), &creator,
	    0);
	printf("new thread sched_setattr(own id, creator's): %s\n", said(r));
	return NULL;
}

/* Thread (arg) 0 sets SCHED_BATCH on itself, 1 keeps SCHED_OTHER. */
static void *
own_policy(void *arg)
{
	struct sched_param sp = { 0 };
	int who = (int)(long)arg, pol, r = 0;

	if (who == 0)
		r = sched_setscheduler(0, SCHED_BATCH, &sp);
	pthread_barrier_wait(&both_set);
	pol = sched_getscheduler(0);
	pthread_barrier_wait(&both_read);
	snprintf(line[who], sizeof(line[who]), "thread %d: set %d, own policy %s",
	    who, r, pol == SCHED_BATCH ? "BATCH" : pol == SCHED_OTHER ?
	    "OTHER" : "other");
	return NULL;
}

int
main(void)
{
	struct sched_param sp = { 0 };
	struct attr a;
	pthread_t t[2];
	long r;
	int pol;

	setvbuf(stdout, NULL, _IONBF, 0);
	/* GLib's way: the creator's settings, by thread id. */
	memset(&creator, 0, sizeof(creator));
	r = syscall(SYS_sched_getattr, (pid_t)syscall(SYS_gettid), &creator,
	    sizeof(creator), 0);
	printf("sched_getattr(own id): %s, size %u policy %u nice %d\n",
	    said(r), creator.size, creator.policy, creator.nice);
	pthread_create(&t[0], NULL, glib_like, NULL);
	pthread_join(t[0], NULL);

	/* The kernel's checks. */
	r = syscall(SYS_sched_getattr, 0, &a, 8, 0);
	printf("sched_getattr size 8: %s\n", said(r));
	r = syscall(SYS_sched_getattr, 0, &a, sizeof(a), 1);
	printf("sched_getattr flags 1: %s\n", said(r));
	sp.sched_priority = 5;
	r = sched_setscheduler(0, SCHED_OTHER, &sp);
	printf("SCHED_OTHER priority 5: %s\n", said(r));
	r = sched_setscheduler(0, 77, &sp);
	printf("policy 77: %s\n", said(r));
	r = sched_getparam(0, &sp);
	printf("sched_getparam: %s, priority %d\n", said(r), sp.sched_priority);

	/* Each thread's own. */
	pthread_barrier_init(&both_set, NULL, 2);
	pthread_barrier_init(&both_read, NULL, 2);
	pthread_create(&t[0], NULL, own_policy, (void *)0L);
	pthread_create(&t[1], NULL, own_policy, (void *)1L);
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	printf("%s\n%s\n", line[0], line[1]);
	pol = sched_getscheduler(0);
	printf("main: %s\n", pol == SCHED_OTHER ? "OTHER" : "changed");

	/* A thread's nice value through sched_setattr, then read back. */
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.policy = SCHED_OTHER;
	a.nice = 5;
	r = syscall(SYS_sched_setattr, 0, &a, 0);
	memset(&a, 0, sizeof(a));
	syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0);
	printf("sched_setattr nice 5: %s, read back %d\n", said(r), a.nice);
	return 0;
}
