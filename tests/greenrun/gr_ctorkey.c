/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_ctorkey.c -- a key made in a constructor, as GLib's GSlice makes
 * its per-thread magazine key from libglib's constructor: under greenrun
 * that runs on the host main thread before the green main, so the key
 * was a host key and every green thread of a worker shared the worker's
 * value.  GLib's threads then shared one magazine, switched in the middle
 * of its updates, and glib's gmenumodel test crashed in g_slice_alloc.
 * Here 8 threads on 2 workers each set their own value, give the worker
 * away, and must read their own value back; the destructor runs once
 * per thread, with that thread's value.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#define NT	8

static pthread_key_t key;
static int made;
static atomic_int mismatches, dtors, dtor_wrong;
static int vals[NT];

static void
dtor(void *v)
{
	atomic_fetch_add(&dtors, 1);
	if (v < (void *)&vals[0] || v > (void *)&vals[NT - 1])
		atomic_fetch_add(&dtor_wrong, 1);
}

__attribute__((constructor)) static void
make_key(void)
{
	made = pthread_key_create(&key, dtor) == 0;
}

static void *
run(void *arg)
{
	int *mine = arg, i;

	if (pthread_getspecific(key) != NULL)
		atomic_fetch_add(&mismatches, 1);
	for (i = 0; i < 200; i++) {
		pthread_setspecific(key, mine);
		if (i % 2)
			sched_yield();
		else
			usleep(100);
		if (pthread_getspecific(key) != mine)
			atomic_fetch_add(&mismatches, 1);
	}
	return NULL;
}

int
main(void)
{
	pthread_t t[NT];
	int i;

	if (!made)
		return 2;
	for (i = 0; i < NT; i++)
		if (pthread_create(&t[i], NULL, run, &vals[i]) != 0)
			return 2;
	for (i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	printf("mismatches %d, destructors %d, wrong values %d\n",
	    atomic_load(&mismatches), atomic_load(&dtors),
	    atomic_load(&dtor_wrong));
	return atomic_load(&mismatches) != 0;
}
