/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_exit.c -- how a process ends: atexit handlers (one registered in a
 * constructor) run once, last registered first, then the ELF
 * destructors; stdout is flushed.  argv[1] says how it ends:
 *   return   main returns 7
 *   thread   another thread calls exit(5) while main waits in join
 *   last     main calls pthread_exit; the last thread's return is exit(0)
 *   _exit    a thread calls _exit(9): no handler runs, nothing flushed
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
say(const char *s)
{
	/* stdio: the buffer must be flushed by exit, after the handlers. */
	printf("%s\n", s);
}

static void h_ctor(void) { say("atexit from constructor"); }
static void h_a(void) { say("atexit a"); }
static void h_b(void) { say("atexit b"); }

__attribute__((constructor)) static void
ctor(void)
{
	atexit(h_ctor);
}

__attribute__((destructor)) static void
dtor(void)
{
	say("destructor");
}

static void *
exiter(void *arg)
{
	usleep(20000);
	say("thread exits");
	if (strcmp(arg, "_exit") == 0)
		_exit(9);
	exit(5);
}

static void *
forever(void *arg)
{
	(void)arg;
	while (sleep(1) == 0)
		;
	return NULL;
}

static void *
last(void *arg)
{
	(void)arg;
	usleep(20000);
	say("last thread returns");
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t, u;
	const char *how = argc > 1 ? argv[1] : "return";

	atexit(h_a);
	atexit(h_b);
	say("main");
	if (strcmp(how, "thread") == 0 || strcmp(how, "_exit") == 0) {
		pthread_create(&u, NULL, forever, NULL);
		pthread_create(&t, NULL, exiter, (void *)how);
		pthread_join(u, NULL);
	} else if (strcmp(how, "last") == 0) {
		pthread_create(&t, NULL, last, NULL);
		pthread_exit(NULL);
	}
	return 7;
}
