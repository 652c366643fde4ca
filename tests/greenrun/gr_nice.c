/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_nice.c -- Linux nice values are per thread: setpriority of
 * PRIO_PROCESS 0 changes the calling thread, and a thread's id (the main
 * thread's is the pid) names that thread.  A new thread starts with its
 * creator's value; nice() moves the caller's; out-of-range values are
 * clamped, an unknown thread id is ESRCH.  Everything is printed
 * relative to the value the program started with, which it never lowers
 * below (so no privilege is needed).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

static int base;
static pid_t child_tid;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int stage;

static int
get(id_t who)
{
	int v;

	errno = 0;
	v = getpriority(PRIO_PROCESS, who);
	if (v == -1 && errno != 0)
		return -100 - errno;
	return v - base;
}

static void
step(int to)
{
	pthread_mutex_lock(&mu);
	stage = to;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void
await(int at)
{
	pthread_mutex_lock(&mu);
	while (stage < at)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void *
thread(void *arg)
{
	(void)arg;
	printf("thread starts at %+d (self by id %+d), main by pid %+d\n",
	    get(0), get((id_t)gettid()), get((id_t)getpid()));
	if (setpriority(PRIO_PROCESS, 0, base + 6) != 0)
		perror("thread setpriority");
	printf("thread set +6: self %+d, main by pid %+d\n", get(0),
	    get((id_t)getpid()));
	child_tid = gettid();
	step(1);
	await(2);
	return NULL;
}

int
main(void)
{
	pthread_t t;
	int r;

	errno = 0;
	base = getpriority(PRIO_PROCESS, 0);
	if (base > 10) {
		/* Too nice already to test: say the same thing either way. */
		printf("started too nice\n");
		return 0;
	}
	if (setpriority(PRIO_PROCESS, 0, base + 3) != 0)
		perror("setpriority");
	printf("main set +3: self %+d, by pid %+d, by tid %+d\n", get(0),
	    get((id_t)getpid()), get((id_t)gettid()));
	pthread_create(&t, NULL, thread, NULL);
	await(1);
	printf("main still %+d, thread by id %+d\n", get(0),
	    get((id_t)child_tid));
	if (setpriority(PRIO_PROCESS, (id_t)child_tid, base + 8) != 0)
		perror("setpriority of the thread");
	printf("thread set +8 by id: %+d, main %+d\n", get((id_t)child_tid),
	    get(0));
	step(2);
	pthread_join(t, NULL);
	errno = 0;
	r = nice(1);
	printf("nice(1): %+d (errno %d), self %+d\n", r - base, errno, get(0));
	if (setpriority(PRIO_PROCESS, 0, 100) != 0)
		perror("setpriority 100");
	printf("set 100: self %d\n", get(0) + base);
	printf("unknown tid: %d\n", get((id_t)0x7fffff00));
	return 0;
}
