/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_spread.c -- a program's threads run beside its main thread.  Main
 * makes two threads, one at a time, each of which notes the kernel
 * kernel thread it runs on (under greenrun, its worker) and parks
 * in a condvar wait before the next is made; then it lets them go.  It
 * prints whether a thread ran on another kernel thread than main, and
 * whether each stayed on its own across the wait.  Natively every
 * pthread is its own kernel thread.  Under greenrun -w 2 a new thread
 * used to start on its creator's worker and stay there for good: xz
 * -T2's encoders shared one worker while the other idled.
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ktid.h"

#define NTHREADS	2

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int started, go;
static long tid_first[NTHREADS], tid_after[NTHREADS];

static void *
thread(void *arg)
{
	int i = (int)(long)arg;

	tid_first[i] = kernel_tid();
	pthread_mutex_lock(&m);
	started++;
	pthread_cond_broadcast(&cv);
	while (!go)
		pthread_cond_wait(&cv, &m);
	pthread_mutex_unlock(&m);
	tid_after[i] = kernel_tid();
	return NULL;
}

int
main(void)
{
	pthread_t t[NTHREADS];
	long main_tid = kernel_tid();
	int i, beside = 0, stayed = 1;

	for (i = 0; i < NTHREADS; i++) {
		if (pthread_create(&t[i], NULL, thread, (void *)(long)i) != 0) {
			perror("pthread_create");
			return 1;
		}
		/* It has started (and parked) before the next is made. */
		pthread_mutex_lock(&m);
		while (started < i + 1)
			pthread_cond_wait(&cv, &m);
		pthread_mutex_unlock(&m);
	}
	pthread_mutex_lock(&m);
	go = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&m);
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(t[i], NULL);
		beside |= tid_first[i] != main_tid;
		stayed &= tid_first[i] == tid_after[i];
	}
	printf("a thread ran beside main: %s\n", beside ? "yes" : "no");
	printf("each stayed on its kernel thread: %s\n", stayed ? "yes" : "no");
	return 0;
}
