/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_barrier.c -- the serial thread of a barrier round destroys and
 * initializes the barrier again at once, while the threads it released
 * have not all left the wait (glibc's tst-barrier4 does so, and glibc's
 * destroy waits for them).  Under greenrun the new init zeroed the round
 * count under them: they took it for their own round again and slept for
 * ever.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define N	12
#define ROUNDS	40

static pthread_barrier_t b1, b2;
static int serial1, serial2, bad;	/* (each serial thread, in turn) */

static void
again(pthread_barrier_t *b, int *serial)
{
	++*serial;
	if (pthread_barrier_destroy(b) != 0)
		bad++;
	if (pthread_barrier_init(b, NULL, N) != 0)
		bad++;
}

static void *
run(void *arg)
{
	int round;

	(void)arg;
	for (round = 0; round < ROUNDS; round++) {
		if (pthread_barrier_wait(&b1) == PTHREAD_BARRIER_SERIAL_THREAD)
			again(&b1, &serial1);
		if (pthread_barrier_wait(&b2) == PTHREAD_BARRIER_SERIAL_THREAD)
			again(&b2, &serial2);
	}
	return NULL;
}

int
main(void)
{
	pthread_t t[N - 1];
	int i;

	pthread_barrier_init(&b1, NULL, N);
	pthread_barrier_init(&b2, NULL, N);
	for (i = 0; i < N - 1; i++)
		if (pthread_create(&t[i], NULL, run, NULL) != 0) {
			puts("pthread_create failed");
			return 1;
		}
	run(NULL);
	for (i = 0; i < N - 1; i++)
		pthread_join(t[i], NULL);
	printf("%d threads, %d rounds: %d and %d serial returns, %d failed "
	    "destroy or init\n", N, ROUNDS, serial1, serial2, bad);
	printf("final destroy: %d %d\n", pthread_barrier_destroy(&b1),
	    pthread_barrier_destroy(&b2));
	return 0;
}
