/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_pool.c -- a thread pool on one mutex and two condition variables:
 * 4 workers take 10000 tasks from a queue; main waits until all are done.
 * Plain pthreads; tests/test_greenrun.c runs it natively and under greenrun.
 */
#include <pthread.h>
#include <stdio.h>

#define NWORKERS	4
#define NTASKS		10000

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static int next, ndone, queued;
static long sum;
static int per[NWORKERS];

static void *
worker(void *arg)
{
	int me = (int)(long)arg, t;

	pthread_mutex_lock(&mu);
	for (;;) {
		while (next == queued && queued < NTASKS)
			pthread_cond_wait(&work, &mu);
		if (next == NTASKS)
			break;
		t = next++;
		pthread_mutex_unlock(&mu);
		t = t * 2 + 1;		/* the "work" */
		pthread_mutex_lock(&mu);
		sum += t;
		per[me]++;
		if (++ndone == NTASKS)
			pthread_cond_signal(&done);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

int
main(void)
{
	pthread_t t[NWORKERS];
	int i, total = 0;

	for (i = 0; i < NWORKERS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(long)i);
	for (i = 0; i < NTASKS; i += 100) {
		pthread_mutex_lock(&mu);
		queued = i + 100;
		pthread_cond_broadcast(&work);
		pthread_mutex_unlock(&mu);
	}
	pthread_mutex_lock(&mu);
	while (ndone < NTASKS)
		pthread_cond_wait(&done, &mu);
	pthread_cond_broadcast(&work);
	pthread_mutex_unlock(&mu);
	for (i = 0; i < NWORKERS; i++) {
		pthread_join(t[i], NULL);
		total += per[i];
	}
	printf("tasks %d sum %ld\n", total, sum);
	return 0;
}
