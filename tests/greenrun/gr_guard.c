/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_guard.c -- stack guard sizes.  A thread made with a guard size
 * (none, the default page, three pages, and through
 * pthread_setattr_default_np) reports that size in pthread_getattr_np,
 * and its stack works to its lowest byte.  A thread of the three-page
 * guard, in a child process, then reads the byte two pages below its
 * stack: natively that is the guard, and the child dies of SIGSEGV.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static size_t page;

static void *
report(void *arg)
{
	pthread_attr_t a;
	size_t guard = 1, size;
	void *lo;

	(void)arg;
	if (pthread_getattr_np(pthread_self(), &a) != 0 ||
	    pthread_attr_getguardsize(&a, &guard) != 0 ||
	    pthread_attr_getstack(&a, &lo, &size) != 0)
		return (void *)-1;
	pthread_attr_destroy(&a);
	((volatile char *)lo)[0] = 1;	/* the lowest byte is stack */
	if (guard % page != 0)
		return (void *)(1000 + guard % page);	/* not rounded */
	return (void *)(guard / page);
}

/* Below the stack, where the guard is. */
static void *
touch_guard(void *arg)
{
	pthread_attr_t a;
	size_t size;
	char *lo;

	(void)arg;
	pthread_getattr_np(pthread_self(), &a);
	pthread_attr_getstack(&a, (void **)&lo, &size);
	pthread_attr_destroy(&a);
	return (void *)(long)((volatile char *)lo)[-2 * (long)page];
}

static long
run(void *(*fn)(void *), size_t guard, int use_default)
{
	pthread_attr_t a;
	pthread_t t;
	void *r = (void *)-2;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 256 * 1024);
	if (guard != (size_t)-1)
		pthread_attr_setguardsize(&a, guard);
	if (use_default) {
		pthread_setattr_default_np(&a);
		if (pthread_create(&t, NULL, fn, NULL) == 0)
			pthread_join(t, &r);
	} else if (pthread_create(&t, &a, fn, NULL) == 0) {
		pthread_join(t, &r);
	}
	pthread_attr_destroy(&a);
	return (long)r;
}

int
main(void)
{
	pid_t pid;
	int st;

	page = (size_t)sysconf(_SC_PAGESIZE);
	printf("default: %ld page(s)\n", run(report, (size_t)-1, 0));
	printf("none: %ld page(s)\n", run(report, 0, 0));
	printf("three pages: %ld page(s)\n", run(report, 3 * page, 0));
	printf("two pages and 100 bytes: %ld\n", run(report, 2 * page + 100,
	    0));
	printf("two pages, by default: %ld page(s)\n",
	    run(report, 2 * page, 1));
	fflush(stdout);
	if ((pid = fork()) == 0) {
		run(touch_guard, 3 * page, 0);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	printf("below the stack, in the guard: %s\n", WIFSIGNALED(st) &&
	    WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : "no fault");
	return 0;
}
