/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_attrmask.c -- a thread's first signal mask: its creator's, or the
 * one in its attributes (pthread_attr_setsigmask_np), or the one in the
 * program's default attributes (pthread_setattr_default_np) for a
 * thread made without any; and the default stack size is the one the
 * program set.  Under greenrun every thread had its creator's mask.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

static void *
show(void *arg)
{
	sigset_t set;
	pthread_attr_t a;
	size_t sz = 0;

	pthread_sigmask(SIG_SETMASK, NULL, &set);
	printf("%s: HUP %d USR1 %d USR2 %d", (const char *)arg,
	    sigismember(&set, SIGHUP), sigismember(&set, SIGUSR1),
	    sigismember(&set, SIGUSR2));
	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		pthread_attr_getstacksize(&a, &sz);
		pthread_attr_destroy(&a);
	}
	printf(", stack at least 4 MiB: %s\n", sz >= 4u << 20 ? "yes" : "no");
	return NULL;
}

static void
run(pthread_attr_t *attr, const char *what)
{
	pthread_t t;

	if (pthread_create(&t, attr, show, (void *)what) == 0)
		pthread_join(t, NULL);
}

int
main(void)
{
	pthread_attr_t a;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_SETMASK, &set, NULL);
	run(NULL, "creator's");

	pthread_attr_init(&a);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_attr_setsigmask_np(&a, &set);
	run(&a, "attribute's");

	/* The defaults: another mask and a smaller stack. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	pthread_attr_setsigmask_np(&a, &set);
	pthread_attr_setstacksize(&a, 1u << 20);
	pthread_setattr_default_np(&a);
	pthread_attr_destroy(&a);
	run(NULL, "default's");
	return 0;
}
