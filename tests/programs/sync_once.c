/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sync_once.c -- pthread_once between green and host threads, and when
 * the initializer is cancelled.
 *  - an LWP runs the initializer while a host thread waits, and the other
 *    way round: the init runs once and the waiter returns after it;
 *  - an LWP cancelled inside the initializer: the next call runs it;
 *  - last, plain pthreads: a host thread cancelled inside the initializer
 *    leaves the once-control as glibc does (not started), so the next call
 *    runs the initializer instead of hanging.
 */
#include <stdint.h>

#include "sync.h"

static pthread_once_t o_mix1 = PTHREAD_ONCE_INIT;
static pthread_once_t o_mix2 = PTHREAD_ONCE_INIT;
static pthread_once_t o_green = PTHREAD_ONCE_INIT;
static pthread_once_t o_host = PTHREAD_ONCE_INIT;

static atomic_int runs, started, waiting, done;

/* An initializer that waits until the other side is waiting too. */
static void
init_slow(void)
{
	atomic_fetch_add(&runs, 1);
	atomic_store(&started, 1);
	wait_for(&waiting, 1);
	usleep(20000);		/* the other side is (about to be) parked */
	atomic_store(&done, 1);
}

static void
init_wrong(void)
{
	atomic_fetch_add(&runs, 100);
}

static void
reset(void)
{
	atomic_store(&runs, 0);
	atomic_store(&started, 0);
	atomic_store(&waiting, 0);
	atomic_store(&done, 0);
}

static void
waiter(pthread_once_t *o, const char *who)
{
	wait_for(&started, 1);
	atomic_store(&waiting, 1);
	CHECK(pthread_once(o, init_wrong) == 0, "%s: pthread_once", who);
	CHECK(atomic_load(&done) == 1, "%s returned before the init ended",
	    who);
	CHECK(atomic_load(&runs) == 1, "%s: init ran %d", who,
	    atomic_load(&runs));
}

/* ---- cancellation inside the initializer */

static atomic_int c_started, c_runs;

static void
init_blocks(void)
{
	atomic_store(&c_started, 1);
	for (;;)
		usleep(1000);	/* a cancellation point */
}

static void
init_ok(void)
{
	atomic_fetch_add(&c_runs, 1);
}

static void *
call_blocking_once(void *arg)
{
	pthread_once(arg, init_blocks);
	return NULL;
}

static void
cancel_in_init(pthread_once_t *o, const char *who)
{
	pthread_t t;
	void *rv = NULL;

	atomic_store(&c_started, 0);
	atomic_store(&c_runs, 0);
	CHECK(pthread_create(&t, NULL, call_blocking_once, o) == 0, "create");
	wait_for(&c_started, 1);
	CHECK(pthread_cancel(t) == 0, "%s: cancel", who);
	CHECK(pthread_join(t, &rv) == 0, "%s: join", who);
	CHECK(rv == PTHREAD_CANCELED, "%s: joined %p", who, rv);
	CHECK(pthread_once(o, init_ok) == 0, "%s: pthread_once again", who);
	CHECK(atomic_load(&c_runs) == 1, "%s: init ran %d times after", who,
	    atomic_load(&c_runs));
	CHECK(pthread_once(o, init_ok) == 0, "%s: once more", who);
	CHECK(atomic_load(&c_runs) == 1, "%s: init ran again", who);
}

/* ---- green side */

static void *
host_runs_init(void *arg)
{
	pthread_once(arg, init_slow);
	return NULL;
}

static int
legacy_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* The host (driver) runs the init of o_mix2; this LWP waits. */
	waiter(&o_mix2, "LWP");
	cancel_in_init(&o_green, "LWP");
	printf("green: done\n");
	return green_exit_code();
}

static int
green_init_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pthread_once(&o_mix1, init_slow);
	return 0;
}

static void *
run_green_init(void *arg)
{
	(void)arg;
	run_green("sync_once_init", green_init_main);
	return NULL;
}

int
main(void)
{
	pthread_t t;

	driver_start();

	/* An LWP runs the init; this host thread waits in glibc. */
	reset();
	pthread_create(&t, NULL, run_green_init, NULL);
	waiter(&o_mix1, "host");
	pthread_join(t, NULL);

	/* A host thread runs the init; an LWP waits. */
	reset();
	pthread_create(&t, NULL, host_runs_init, &o_mix2);
	run_green("sync_once", legacy_main);
	pthread_join(t, NULL);

	/* Plain pthreads, no green code: glibc's behaviour. */
	cancel_in_init(&o_host, "host");
	printf("host: done\n");
	return check_exit_code();
}
