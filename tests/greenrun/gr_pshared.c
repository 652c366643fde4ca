/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_pshared.c -- process-shared synchronisation between a program and
 * the child it forked, in shared memory, both ways: a condition variable
 * with its mutex (fio starts its forked jobs so), a semaphore and a
 * barrier.  Natively and under greenrun the same, and each wait ends well
 * before its 5 s timeout: a green condvar wait never heard the child's
 * signal (a green waiter is no glibc waiter) and timed out.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
	pthread_mutex_t	 m;
	pthread_cond_t	 c;
	pthread_barrier_t b;
	sem_t		 s;
	int		 to_parent;	/* under m */
	int		 to_child;	/* under m */
};

static struct shared *sh;

/* Wait under sh->m until *flag is set, at most 5 s; "ok" or why not. */
static const char *
await_flag(int *flag)
{
	struct timespec ts;
	const char *r = "ok";
	int error;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	pthread_mutex_lock(&sh->m);
	while (*flag == 0) {
		error = pthread_cond_timedwait(&sh->c, &sh->m, &ts);
		if (error != 0) {
			r = strerror(error);
			break;
		}
	}
	pthread_mutex_unlock(&sh->m);
	return r;
}

static void
set_flag(int *flag)
{
	pthread_mutex_lock(&sh->m);
	*flag = 1;
	pthread_cond_broadcast(&sh->c);
	pthread_mutex_unlock(&sh->m);
}

static double
since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

int
main(void)
{
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	pthread_barrierattr_t ba;
	struct timespec t0, ts;
	const char *r;
	pid_t pid;
	int st, i, error;

	setvbuf(stdout, NULL, _IONBF, 0);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_barrierattr_init(&ba);
	pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&sh->m, &ma);
	pthread_cond_init(&sh->c, &ca);
	pthread_barrier_init(&sh->b, &ba, 2);
	sem_init(&sh->s, 1, 0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) == 0) {
		usleep(50000);
		set_flag(&sh->to_parent);
		r = await_flag(&sh->to_child);
		if (strcmp(r, "ok") != 0)
			_exit(2);
		/* Hold the mutex a while: the parent waits for it. */
		pthread_mutex_lock(&sh->m);
		sem_post(&sh->s);
		usleep(50000);
		pthread_mutex_unlock(&sh->m);
		for (i = 0; i < 3; i++)
			pthread_barrier_wait(&sh->b);
		_exit(0);
	}
	printf("parent's condvar wait: %s\n", await_flag(&sh->to_parent));
	usleep(50000);
	set_flag(&sh->to_child);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	error = sem_timedwait(&sh->s, &ts) == 0 ? 0 : errno;
	printf("semaphore: %s\n", error == 0 ? "ok" : strerror(error));
	error = pthread_mutex_timedlock(&sh->m, &ts);
	printf("mutex the child held: %s\n", error == 0 ? "ok" :
	    strerror(error));
	if (error == 0)
		pthread_mutex_unlock(&sh->m);
	for (i = 0; i < 3; i++)
		pthread_barrier_wait(&sh->b);
	printf("barrier: 3 rounds\n");
	waitpid(pid, &st, 0);
	printf("child: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	printf("in time: %s\n", since(&t0) < 4.0 ? "yes" : "no");
	return 0;
}
