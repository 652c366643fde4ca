/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_stacksize.c -- a thread's stack, as pthread_getattr_np reports it,
 * is at least what its creator asked for: the default (RLIMIT_STACK, as
 * glibc sizes it) and explicit sizes, page multiples.  Each thread also
 * writes to the lowest and highest bytes of the stack reported.
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

struct ask {
	size_t	want;		/* what the report must reach */
	int	ok;
};

static void *
check(void *arg)
{
	struct ask *a = arg;
	pthread_attr_t attr;
	size_t size;
	void *lo;

	if (pthread_getattr_np(pthread_self(), &attr) != 0 ||
	    pthread_attr_getstack(&attr, &lo, &size) != 0)
		return NULL;
	pthread_attr_destroy(&attr);
	/* The report is the thread's own stack: it holds this frame. */
	a->ok = size >= a->want && (char *)&attr >= (char *)lo &&
	    (char *)&attr < (char *)lo + size;
	((volatile char *)lo)[0] = 1;
	return NULL;
}

static void
one(size_t ask, size_t want)
{
	struct ask a = { want, 0 };
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	if (ask != 0 && pthread_attr_setstacksize(&attr, ask) != 0) {
		printf("setstacksize %zu failed\n", ask);
		return;
	}
	if (pthread_create(&t, &attr, check, &a) != 0) {
		printf("create %zu failed\n", ask);
		return;
	}
	pthread_join(t, NULL);
	pthread_attr_destroy(&attr);
	printf("asked %zu: %s\n", ask, a.ok ? "at least that" : "short");
}

int
main(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), def = 2 << 20;
	struct rlimit rl;

	/* glibc's default: RLIMIT_STACK, or 2 MiB when it is unlimited. */
	if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		def = rl.rlim_cur / page * page;
	one(0, def);
	one(def, def);
	one(64 * 1024, 64 * 1024);
	one(1024 * 1024, 1024 * 1024);
	one(20 * page, 20 * page);
	one(8 * 1024 * 1024, 8 * 1024 * 1024);
	return 0;
}
