/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_tls_dlopen.c -- the TLS of a library loaded with dlopen after the
 * threads exist (dynamic TLS: each thread's block is found through its
 * DTV, and allocated on its first use).  As a JVM does with libjvm.so:
 * each thread keeps its own values across yields to the others, a thread
 * that first touches the library gets the initial image, main keeps what
 * it set, and after dlclose and a second dlopen every thread starts from
 * the image again.  Under greenrun -w 1 every thread runs on one worker.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NT	6
#define ROUNDS	50

static int	(*get)(void);
static void	(*set)(int);
static long	(*bump)(long);
static int	(*pad_ok)(void);

static pthread_barrier_t loaded, used, reloaded;
static int start_value[NT], got_value[NT], pad_good[NT], again[NT];
static long got_count[NT];

static void *
open_lib(void)
{
	char path[4096], *slash;
	ssize_t n;
	void *h;

	if ((n = readlink("/proc/self/exe", path, sizeof(path) - 32)) <= 0)
		exit(2);
	path[n] = '\0';
	if ((slash = strrchr(path, '/')) == NULL)
		exit(2);
	strcpy(slash + 1, "libgrtlsdl.so");
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		exit(2);
	}
	get = (int (*)(void))dlsym(h, "grtlsdl_get");
	set = (void (*)(int))dlsym(h, "grtlsdl_set");
	bump = (long (*)(long))dlsym(h, "grtlsdl_bump");
	pad_ok = (int (*)(void))dlsym(h, "grtlsdl_pad_ok");
	if (!get || !set || !bump || !pad_ok)
		exit(2);
	return h;
}

static void *
run(void *arg)
{
	int i, id = (int)(long)arg, ok = 1;

	pthread_barrier_wait(&loaded);		/* main has dlopen'd it */
	start_value[id] = get();
	set(100 + id);
	for (i = 0; i < ROUNDS; i++) {
		bump(id + 1);
		sched_yield();
		ok &= pad_ok();
	}
	got_value[id] = get();
	got_count[id] = bump(0);
	pad_good[id] = ok;
	pthread_barrier_wait(&used);
	pthread_barrier_wait(&reloaded);	/* closed and opened again */
	again[id] = get() * 1000 + (int)bump(0);
	return NULL;
}

int
main(void)
{
	pthread_t t[NT];
	void *h;
	long i;

	pthread_barrier_init(&loaded, NULL, NT + 1);
	pthread_barrier_init(&used, NULL, NT + 1);
	pthread_barrier_init(&reloaded, NULL, NT + 1);
	for (i = 0; i < NT; i++)
		pthread_create(&t[i], NULL, run, (void *)i);
	h = open_lib();
	set(42);
	bump(1000);
	pthread_barrier_wait(&loaded);
	pthread_barrier_wait(&used);
	printf("main: value %d count %ld pad %d\n", get(), bump(0), pad_ok());
	dlclose(h);
	h = open_lib();
	printf("main, reopened: value %d count %ld\n", get(), bump(0));
	pthread_barrier_wait(&reloaded);
	for (i = 0; i < NT; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < NT; i++)
		printf("%ld: value %d->%d count %ld pad %d; reopened %d\n", i,
		    start_value[i], got_value[i], got_count[i], pad_good[i],
		    again[i]);
	dlclose(h);
	return 0;
}
