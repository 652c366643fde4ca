/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_malloc_lib -- a program whose malloc is a library's with per-thread
 * state in TLS (libgrmalloc.so, as redis-server's is libjemalloc's).
 * Its threads all allocate while alive together: natively each has its
 * own state, at its own address.  Under greenrun that library's block
 * must stay per worker, as libc's does: switched per green thread, the
 * one address of a worker's block registered once per thread of it, and
 * jemalloc's lists of thread caches, linked through that block, crossed
 * (redis-server looped for ever in its first mallctl).  The main thread
 * also starts from the host main thread's values; had those been
 * copied, both would have handed out the same cached blocks.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NTHR	8

int	grmalloc_shared(void);

static pthread_barrier_t bar;

static void *
worker(void *arg)
{
	char *p;
	int i;

	for (i = 0; i < 100; i++) {
		if ((p = malloc(64 + i)) == NULL)
			abort();
		memset(p, i, 64 + i);
		free(p);
	}
	pthread_barrier_wait(&bar);	/* all alive at once */
	return arg;
}

int
main(void)
{
	pthread_t t[NTHR];
	int i;

	free(malloc(16));
	pthread_barrier_init(&bar, NULL, NTHR + 1);
	for (i = 0; i < NTHR; i++)
		if (pthread_create(&t[i], NULL, worker, NULL) != 0)
			return 1;
	pthread_barrier_wait(&bar);
	for (i = 0; i < NTHR; i++)
		pthread_join(t[i], NULL);
	printf("threads sharing one allocator state: %d\n", grmalloc_shared());
	return 0;
}
