/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_keys.c -- thread-specific data: 8 threads each set a value under
 * two keys; the destructors run at each thread's exit (not main's) and
 * add up what they saw.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_key_t k1, k2;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long seen1, seen2;
static int ncalls;

static void
dtor1(void *v)
{
	pthread_mutex_lock(&mu);
	seen1 += *(long *)v;
	ncalls++;
	pthread_mutex_unlock(&mu);
	free(v);
}

static void
dtor2(void *v)
{
	pthread_mutex_lock(&mu);
	seen2 += (long)v;
	ncalls++;
	pthread_mutex_unlock(&mu);
}

static void *
run(void *arg)
{
	long *v = malloc(sizeof(*v));

	*v = (long)arg;
	pthread_setspecific(k1, v);
	pthread_setspecific(k2, (void *)((long)arg * 10));
	if (pthread_getspecific(k1) != v)
		puts("getspecific mismatch");
	return NULL;
}

int
main(void)
{
	pthread_t t[8];
	long i;

	pthread_key_create(&k1, dtor1);
	pthread_key_create(&k2, dtor2);
	pthread_setspecific(k2, (void *)1000L);	/* main's: no dtor at exit */
	for (i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, run, (void *)(i + 1));
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	printf("calls %d seen1 %ld seen2 %ld main %ld\n", ncalls, seen1, seen2,
	    (long)pthread_getspecific(k2));
	return 0;
}
