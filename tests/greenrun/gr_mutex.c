/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_mutex.c -- the mutex types, owner by owner.  Each line is what
 * POSIX says the call returns, so a native run and a greenrun run print
 * the same; under greenrun the owner is the green thread, not the worker
 * (two threads of one worker must not share a recursive lock's count or
 * pass an errorcheck mutex's ownership test).  With the argument "pi"
 * every mutex is a priority-inheritance one, whose owner glibc keeps in
 * the lock word, where the kernel looks it up by TID; then a host thread
 * (glibc's timer thread) also waits for one that a green thread holds.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t rec, chk, nrm;
static int shared;
static int protocol = PTHREAD_PRIO_NONE;

static const char *
err(int e)
{
	return e == 0 ? "0" : e == EBUSY ? "EBUSY" : e == EDEADLK ? "EDEADLK" :
	    e == EPERM ? "EPERM" : e == ETIMEDOUT ? "ETIMEDOUT" : strerror(e);
}

static void
make(pthread_mutex_t *m, int type)
{
	pthread_mutexattr_t a;
	int t = -1;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, type);
	pthread_mutexattr_setprotocol(&a, protocol);
	pthread_mutexattr_gettype(&a, &t);
	if (t != type)
		printf("gettype gave %d, not %d\n", t, type);
	pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
}

/* Another thread: it is not the owner of what main holds. */
static void *
other(void *arg)
{
	struct timespec ts;

	(void)arg;
	printf("other: recursive trylock %s\n", err(pthread_mutex_trylock(&rec)));
	printf("other: recursive unlock %s\n", err(pthread_mutex_unlock(&rec)));
	printf("other: errorcheck trylock %s\n", err(pthread_mutex_trylock(&chk)));
	printf("other: errorcheck unlock %s\n", err(pthread_mutex_unlock(&chk)));
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 20 * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	printf("other: errorcheck timedlock %s\n",
	    err(pthread_mutex_timedlock(&chk, &ts)));
	return NULL;
}

/* A SIGEV_THREAD timer's function: it runs on glibc's helper thread. */
static atomic_int host_state;

static void
host_locks(union sigval v)
{
	(void)v;
	atomic_store(&host_state, 1);
	atomic_store(&host_state, pthread_mutex_lock(&nrm) == 0 ? 2 : 3);
	pthread_mutex_unlock(&nrm);
}

static void
host_waits_for_green_owner(void)
{
	struct sigevent sev;
	struct itimerspec its;
	timer_t t;
	int i;

	memset(&sev, 0, sizeof(sev));
	memset(&its, 0, sizeof(its));
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = host_locks;
	its.it_value.tv_nsec = 1000000;
	pthread_mutex_lock(&nrm);
	if (timer_create(CLOCK_MONOTONIC, &sev, &t) != 0 ||
	    timer_settime(t, 0, &its, NULL) != 0) {
		printf("timer: %s\n", strerror(errno));
		return;
	}
	for (i = 0; i < 2000 && atomic_load(&host_state) == 0; i++)
		usleep(1000);
	usleep(50000);
	printf("host thread, mutex held: %s\n", atomic_load(&host_state) == 1 ?
	    "waits" : "did not wait");
	pthread_mutex_unlock(&nrm);
	for (i = 0; i < 2000 && atomic_load(&host_state) == 1; i++)
		usleep(1000);
	printf("host thread, mutex released: %s\n",
	    atomic_load(&host_state) == 2 ? "took it" : "did not take it");
	timer_delete(t);
}

/* Many threads count under a recursive mutex taken twice each time. */
static void *
count(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 10000; i++) {
		pthread_mutex_lock(&rec);
		pthread_mutex_lock(&rec);
		shared++;
		if (i % 1000 == 0)
			sched_yield();	/* switch while holding it twice */
		pthread_mutex_unlock(&rec);
		pthread_mutex_unlock(&rec);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t[8];
	int i;

	if (argc > 1 && strcmp(argv[1], "pi") == 0)
		protocol = PTHREAD_PRIO_INHERIT;

	make(&rec, PTHREAD_MUTEX_RECURSIVE);
	make(&chk, PTHREAD_MUTEX_ERRORCHECK);
	make(&nrm, PTHREAD_MUTEX_NORMAL);

	/* Recursive: the owner takes it again, and must release each. */
	for (i = 0; i < 3; i++)
		printf("recursive lock %d: %s\n", i, err(pthread_mutex_lock(&rec)));
	printf("recursive trylock by owner: %s\n",
	    err(pthread_mutex_trylock(&rec)));
	/* Errorcheck: a relock is EDEADLK, not a hang. */
	printf("errorcheck lock: %s\n", err(pthread_mutex_lock(&chk)));
	printf("errorcheck relock: %s\n", err(pthread_mutex_lock(&chk)));
	printf("errorcheck trylock by owner: %s\n",
	    err(pthread_mutex_trylock(&chk)));
	printf("normal trylock: %s\n", err(pthread_mutex_trylock(&nrm)));
	printf("normal trylock again: %s\n", err(pthread_mutex_trylock(&nrm)));

	pthread_create(&t[0], NULL, other, NULL);
	pthread_join(t[0], NULL);

	for (i = 0; i < 4; i++)
		printf("recursive unlock %d: %s\n", i,
		    err(pthread_mutex_unlock(&rec)));
	printf("recursive unlock once more: %s\n",
	    err(pthread_mutex_unlock(&rec)));
	printf("errorcheck unlock: %s\n", err(pthread_mutex_unlock(&chk)));
	printf("errorcheck unlock again: %s\n", err(pthread_mutex_unlock(&chk)));
	printf("normal unlock: %s\n", err(pthread_mutex_unlock(&nrm)));

	for (i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, count, NULL);
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	printf("counted %d\n", shared);
	if (protocol == PTHREAD_PRIO_INHERIT)
		host_waits_for_green_owner();
	printf("destroy: %s %s %s\n", err(pthread_mutex_destroy(&rec)),
	    err(pthread_mutex_destroy(&chk)), err(pthread_mutex_destroy(&nrm)));
	return 0;
}
