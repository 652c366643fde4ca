/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_many.c -- 10000 threads (default attributes) alive at once: each
 * waits on a barrier that opens only when all of them and main are in.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define N	10000

static pthread_barrier_t bar;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int n;

static void *
run(void *arg)
{
	char deep[16384];	/* touch a little stack below the default */

	deep[0] = (char)(long)arg;
	pthread_barrier_wait(&bar);
	pthread_mutex_lock(&mu);
	n += deep[0] == (char)(long)arg;
	pthread_mutex_unlock(&mu);
	return NULL;
}

int
main(void)
{
	pthread_t *t = calloc(N, sizeof(*t));
	int i, e;

	pthread_barrier_init(&bar, NULL, N + 1);
	for (i = 0; i < N; i++) {
		if ((e = pthread_create(&t[i], NULL, run, (void *)(long)i))
		    != 0) {
			printf("create %d failed: %d\n", i, e);
			return 1;
		}
	}
	pthread_barrier_wait(&bar);
	for (i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	printf("threads %d\n", n);
	free(t);
	return 0;
}
