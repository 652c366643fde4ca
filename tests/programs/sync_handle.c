/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sync_handle.c -- a green pthread_t that was joined is stale: joining,
 * detaching, cancelling or signalling it gives ESRCH, never a crash (its
 * stack may be unmapped) and never another thread (its memory may belong
 * to a new one by then).
 */
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "sync.h"

static void *
quick(void *arg)
{
	return arg;
}

static void
expect_stale(pthread_t t, const char *what)
{
	struct timespec abs;
	pthread_attr_t a;
	char name[16];
	int e;

	clock_gettime(CLOCK_REALTIME, &abs);
	abs.tv_sec += 1;
	e = pthread_join(t, NULL);
	CHECK(e == ESRCH, "%s: join = %d (%s)", what, e, strerror(e));
	e = pthread_tryjoin_np(t, NULL);
	CHECK(e == ESRCH, "%s: tryjoin = %d (%s)", what, e, strerror(e));
	e = pthread_timedjoin_np(t, NULL, &abs);
	CHECK(e == ESRCH, "%s: timedjoin = %d (%s)", what, e, strerror(e));
	e = pthread_detach(t);
	CHECK(e == ESRCH, "%s: detach = %d (%s)", what, e, strerror(e));
	e = pthread_cancel(t);
	CHECK(e == ESRCH, "%s: cancel = %d (%s)", what, e, strerror(e));
	e = pthread_kill(t, 0);
	CHECK(e == ESRCH, "%s: kill = %d (%s)", what, e, strerror(e));
	e = pthread_setname_np(t, "x");
	CHECK(e == ESRCH, "%s: setname = %d (%s)", what, e, strerror(e));
	e = pthread_getname_np(t, name, sizeof(name));
	CHECK(e == ESRCH, "%s: getname = %d (%s)", what, e, strerror(e));
	e = pthread_getattr_np(t, &a);
	CHECK(e == ESRCH, "%s: getattr = %d (%s)", what, e, strerror(e));
	if (e == 0)
		pthread_attr_destroy(&a);
}

static int
legacy_main(int argc, char **argv)
{
	pthread_attr_t small;
	pthread_t t, u, many[32];
	void *rv = NULL;
	int i, e;

	(void)argc;
	(void)argv;
	/* The default legacy stack: its own mapping, unmapped at join. */
	CHECK(pthread_create(&t, NULL, quick, (void *)1) == 0, "create");
	CHECK(pthread_join(t, &rv) == 0 && rv == (void *)1, "join");
	expect_stale(t, "joined");

	/* The runtime's default stack size: the next thread reuses it. */
	pthread_attr_init(&small);
	pthread_attr_setstacksize(&small, 64 * 1024);
	CHECK(pthread_create(&t, &small, quick, (void *)2) == 0, "create");
	CHECK(pthread_join(t, NULL) == 0, "join");
	CHECK(pthread_create(&u, &small, quick, (void *)3) == 0, "create");
	CHECK(!pthread_equal(t, u), "a new thread has the stale handle");
	expect_stale(t, "reused");
	e = pthread_join(u, &rv);
	CHECK(e == 0 && rv == (void *)3, "join the new one = %d (%s)", e,
	    strerror(e));
	expect_stale(u, "the new one joined");

	for (i = 0; i < 32; i++)
		pthread_create(&many[i], &small, quick, NULL);
	for (i = 0; i < 32; i++)
		CHECK_QUIET(pthread_join(many[i], NULL) == 0, "join %d", i);
	expect_stale(t, "after 32 more");
	pthread_attr_destroy(&small);

	/* A joinable thread that has exited but is not joined: still valid. */
	CHECK(pthread_create(&t, NULL, quick, (void *)4) == 0, "create");
	usleep(10000);
	CHECK(pthread_detach(t) == 0, "detach an exited thread");
	printf("handles: done\n");
	return green_exit_code();
}

int
main(void)
{
	driver_start();
	run_green("sync_handle", legacy_main);
	return check_exit_code();
}
