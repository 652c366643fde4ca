/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_sem.c -- producer/consumer on unnamed semaphores: 2 producers and
 * 2 consumers through a ring of 8 slots guarded by a mutex.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

#define NITEMS	20000		/* per producer */
#define RING	8

static sem_t empty, full;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int ring[RING], head, tail;
static long consumed[2];

static void *
producer(void *arg)
{
	int base = (int)(long)arg, i;

	for (i = 1; i <= NITEMS; i++) {
		sem_wait(&empty);
		pthread_mutex_lock(&mu);
		ring[head++ % RING] = base + i;
		pthread_mutex_unlock(&mu);
		sem_post(&full);
	}
	return NULL;
}

static void *
consumer(void *arg)
{
	long me = (long)arg, v;

	for (;;) {
		sem_wait(&full);
		pthread_mutex_lock(&mu);
		v = ring[tail++ % RING];
		pthread_mutex_unlock(&mu);
		sem_post(&empty);
		if (v == 0)
			return NULL;	/* the poison pill */
		consumed[me] += v;
	}
}

int
main(void)
{
	pthread_t p[2], c[2];
	int i;

	sem_init(&empty, 0, RING);
	sem_init(&full, 0, 0);
	for (i = 0; i < 2; i++) {
		pthread_create(&c[i], NULL, consumer, (void *)(long)i);
		pthread_create(&p[i], NULL, producer, (void *)(long)(i * 100000));
	}
	for (i = 0; i < 2; i++)
		pthread_join(p[i], NULL);
	for (i = 0; i < 2; i++) {
		sem_wait(&empty);
		pthread_mutex_lock(&mu);
		ring[head++ % RING] = 0;
		pthread_mutex_unlock(&mu);
		sem_post(&full);
	}
	for (i = 0; i < 2; i++)
		pthread_join(c[i], NULL);
	printf("total %ld\n", consumed[0] + consumed[1]);
	return 0;
}
