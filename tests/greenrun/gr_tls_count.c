/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_tls_count.c -- __thread counters: 8 threads bump their own
 * counters (one in .tbss, one in .tdata, a per-thread buffer) across
 * sched_yield()s, and main prints what each saw.  Under greenrun -w 1
 * they all share one worker, so this shows that each green thread has
 * its own TLS, started from the initial image.  main's own value, set
 * by a constructor on the host thread, must survive too.
 *
 * Also built as a non-PIE executable (gr_tls_nopie), where taking
 * malloc's address below makes the executable's PLT entry malloc's
 * address for everyone: the runtime took the executable for the module
 * that implements malloc and left its TLS per worker.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NT	8
#define ROUNDS	200

static __thread long counter;		/* .tbss: starts at 0 */
static __thread long base = 1000;	/* .tdata: starts at 1000 */
static __thread char name[16] = "unnamed";
static __thread int ctor_mark;		/* main's: set by a constructor */

static long got_counter[NT], got_base[NT], start_base[NT];
void *(*volatile malloc_by_address)(size_t);
static char got_name[NT][16];

__attribute__((constructor)) static void
mark(void)
{
	ctor_mark = 42;
}

static void *
run(void *arg)
{
	long i, id = (long)arg;

	start_base[id] = base;
	snprintf(name, sizeof(name), "thread-%ld", id);
	for (i = 0; i < ROUNDS; i++) {
		counter++;
		base += id;
		sched_yield();
	}
	got_counter[id] = counter;
	got_base[id] = base;
	memcpy(got_name[id], name, sizeof(name));
	return NULL;
}

int
main(void)
{
	pthread_t t[NT];
	long i;

	/* In code: non-PIE code takes the address as an immediate. */
	malloc_by_address = malloc;
	counter = -5;
	for (i = 0; i < NT; i++)
		pthread_create(&t[i], NULL, run, (void *)i);
	for (i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < NT; i++)
		printf("%ld: counter %ld base %ld->%ld name %s\n", i,
		    got_counter[i], start_base[i], got_base[i], got_name[i]);
	printf("main: counter %ld base %ld name %s mark %d\n", counter, base,
	    name, ctor_mark);
	return 0;
}
