/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_tls_lib.c -- errno, h_errno and the TLS of a shared library it
 * links (libgrtls.so): 6 threads set their own values, yield to the
 * others, and read them back.  Under greenrun -w 1 every one of them
 * runs on the same worker.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#define NT	6

extern __thread int grtls_value, grtls_count;
int grtls_bump(int by);

static int got_errno[NT], got_herrno[NT], got_value[NT], got_count[NT];
static int start_value[NT];

static void *
run(void *arg)
{
	int i, id = (int)(long)arg;

	start_value[id] = grtls_value;
	grtls_value = 100 + id;
	for (i = 0; i < 50; i++) {
		errno = 1000 + id;
		h_errno = 2000 + id;
		grtls_bump(id + 1);
		sched_yield();
		got_errno[id] = errno;
		got_herrno[id] = h_errno;
	}
	got_value[id] = grtls_value;
	got_count[id] = grtls_count;
	return NULL;
}

int
main(void)
{
	pthread_t t[NT];
	long i;

	for (i = 0; i < NT; i++)
		pthread_create(&t[i], NULL, run, (void *)i);
	for (i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < NT; i++)
		printf("%ld: errno %d h_errno %d lib value %d->%d count %d\n",
		    i, got_errno[i], got_herrno[i], start_value[i],
		    got_value[i], got_count[i]);
	printf("main: lib value %d count %d\n", grtls_value, grtls_count);
	return 0;
}
