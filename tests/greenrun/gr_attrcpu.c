/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_attrcpu.c -- pthread_create with an affinity in its attributes: one
 * that names no CPU the process may use fails with EINVAL (the thread is
 * never run), one that names a usable CPU, or none at all, succeeds.
 * Under greenrun the affinity was ignored and the first one ran.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *
thread(void *arg)
{
	printf("%s: ran\n", (const char *)arg);
	return NULL;
}

static void
try(pthread_attr_t *a, const char *what)
{
	pthread_t t;
	int r = pthread_create(&t, a, thread, (void *)what);

	if (r == 0)
		pthread_join(t, NULL);
	printf("%s: %s\n", what, r == 0 ? "0" : strerror(r));
}

int
main(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	cpu_set_t *set;
	cpu_set_t own;
	size_t size;
	pthread_attr_t a;
	int cpu;

	pthread_attr_init(&a);
	try(&a, "no affinity");

	/* A CPU past the last one the machine has. */
	set = CPU_ALLOC(ncpu + 1);
	size = CPU_ALLOC_SIZE(ncpu + 1);
	CPU_ZERO_S(size, set);
	CPU_SET_S(ncpu, size, set);
	pthread_attr_setaffinity_np(&a, size, set);
	try(&a, "no such CPU");
	CPU_FREE(set);

	/* The first CPU the process may run on. */
	if (sched_getaffinity(0, sizeof(own), &own) != 0)
		return 1;
	for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &own); cpu++)
		;
	CPU_ZERO(&own);
	CPU_SET(cpu, &own);
	pthread_attr_setaffinity_np(&a, sizeof(own), &own);
	try(&a, "a usable CPU");
	pthread_attr_destroy(&a);
	return 0;
}
