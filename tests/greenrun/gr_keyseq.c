/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_keyseq.c -- a thread-specific key deleted and made again starts
 * with no value in any thread, and the old key's destructor does not run
 * for values set under it.  Under greenrun the new key (the same index)
 * read the deleted key's values.
 */
#include <pthread.h>
#include <stdio.h>

static pthread_key_t key;
static pthread_barrier_t bar;
static int one = 1, two = 2;

static void
dtor(void *v)
{
	printf("destructor for %d\n", *(int *)v);
}

static void *
thread(void *arg)
{
	(void)arg;
	pthread_setspecific(key, &two);
	pthread_barrier_wait(&bar);	/* main deletes and remakes the key */
	pthread_barrier_wait(&bar);
	printf("thread, new key: %s\n", pthread_getspecific(key) == NULL ?
	    "NULL" : "old value");
	return NULL;
}

int
main(void)
{
	pthread_key_t old;
	pthread_t t;

	pthread_barrier_init(&bar, NULL, 2);
	if (pthread_key_create(&key, dtor) != 0)
		return 1;
	pthread_setspecific(key, &one);
	pthread_create(&t, NULL, thread, NULL);
	pthread_barrier_wait(&bar);
	old = key;
	pthread_key_delete(key);
	if (pthread_key_create(&key, NULL) != 0)
		return 1;
	printf("same index: %s\n", key == old ? "yes" : "no");
	printf("main, new key: %s\n", pthread_getspecific(key) == NULL ?
	    "NULL" : "old value");
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
	return 0;
}
