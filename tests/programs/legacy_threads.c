/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * legacy_threads.c -- pthreads from legacy code in a green process:
 * pthread_create makes green LWPs of the same process (stack size and
 * detach state from the attr honoured), pthread_exit ends only the
 * calling thread with its value, pthread_join returns it,
 * pthread_self/pthread_equal are consistent, and when the last thread
 * calls pthread_exit the process exits with status 0 after running its
 * atexit handlers.
 *
 * Legacy part on top (libc only); the driver below is legacy_driver.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* ------------------------------------------------------------ legacy code */

#define NT	4
#define BIGSTACK (1024 * 1024)

static pthread_t self_seen[NT];
static pid_t pid_seen[NT];
static pid_t main_pid;
static atomic_int detached_done;
static atomic_int last_done;
static atomic_int atexit_runs;
static size_t big_stack_seen;
static int big_ok;

static void *
worker(void *arg)
{
	intptr_t i = (intptr_t)arg;

	self_seen[i] = pthread_self();
	pid_seen[i] = getpid();
	usleep(1000 * (unsigned)(NT - i));	/* finish out of order */
	if (i == 3)
		return (void *)(100 + i);	/* a plain return, too */
	pthread_exit((void *)(100 + i));
	return NULL;
}

static void *
big_worker(void *arg)
{
	volatile char buf[512 * 1024];	/* needs the requested stack */
	pthread_attr_t a;
	size_t sz = 0;

	(void)arg;
	memset((char *)buf, 1, sizeof(buf));
	big_ok = buf[sizeof(buf) - 1] == 1;
	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		pthread_attr_getstacksize(&a, &sz);
		pthread_attr_destroy(&a);
	}
	big_stack_seen = sz;
	return (void *)7;
}

static void *
detached(void *arg)
{
	(void)arg;
	usleep(2000);
	atomic_store(&detached_done, 1);
	return NULL;
}

static void
on_process_exit(void)
{
	atomic_fetch_add(&atexit_runs, 1);
	printf("legacy atexit: last_done=%d\n", atomic_load(&last_done));
}

static void *
last_thread(void *arg)
{
	pthread_t main_t = *(pthread_t *)arg;

	/* Let the main thread's pthread_exit happen first. */
	usleep(20000);
	CHECK(!pthread_equal(pthread_self(), main_t), "self == main thread");
	atomic_store(&last_done, 1);
	printf("legacy: last thread calls pthread_exit\n");
	pthread_exit((void *)1);
}

static int
legacy_main(int argc, char **argv)
{
	static pthread_t main_t;
	pthread_t t[NT], big, d, last;
	pthread_attr_t a;
	void *v;
	intptr_t i;
	int e;

	(void)argc;
	(void)argv;
	main_pid = getpid();
	atexit(on_process_exit);
	main_t = pthread_self();
	CHECK(pthread_equal(main_t, pthread_self()), "self not equal to itself");

	for (i = 0; i < NT; i++) {
		e = pthread_create(&t[i], NULL, worker, (void *)i);
		CHECK_QUIET(e == 0, "pthread_create: %s", strerror(e));
	}
	for (i = 0; i < NT; i++) {
		v = NULL;
		e = pthread_join(t[i], &v);
		CHECK_QUIET(e == 0, "pthread_join %d: %s", (int)i, strerror(e));
		CHECK_QUIET((intptr_t)v == 100 + i, "thread %d value %ld",
		    (int)i, (long)(intptr_t)v);
		CHECK_QUIET(pthread_equal(t[i], self_seen[i]),
		    "thread %d: pthread_self differs from pthread_create's",
		    (int)i);
		CHECK_QUIET(!pthread_equal(t[i], main_t), "thread %d == main",
		    (int)i);
		CHECK_QUIET(pid_seen[i] == main_pid, "thread %d getpid %d != %d",
		    (int)i, (int)pid_seen[i], (int)main_pid);
	}
	CHECK(!pthread_equal(t[0], t[1]), "two threads equal");
	printf("legacy: joined %d threads\n", NT);

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, BIGSTACK);
	e = pthread_create(&big, &a, big_worker, NULL);
	pthread_attr_destroy(&a);
	CHECK(e == 0, "pthread_create big: %s", strerror(e));
	v = NULL;
	e = pthread_join(big, &v);
	CHECK(e == 0 && (intptr_t)v == 7, "join big: %s, %p", strerror(e), v);
	CHECK(big_ok && big_stack_seen >= BIGSTACK,
	    "big stack: ok %d, getattr size %zu", big_ok, big_stack_seen);

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	e = pthread_create(&d, &a, detached, NULL);
	pthread_attr_destroy(&a);
	CHECK(e == 0, "pthread_create detached: %s", strerror(e));
	for (i = 0; i < 5000 && !atomic_load(&detached_done); i++)
		usleep(1000);
	CHECK(atomic_load(&detached_done), "detached thread did not run");

	/* pthread_detach on a running joinable thread. */
	e = pthread_create(&d, NULL, detached, NULL);
	CHECK(e == 0, "pthread_create: %s", strerror(e));
	atomic_store(&detached_done, 0);
	e = pthread_detach(d);
	CHECK(e == 0, "pthread_detach: %s", strerror(e));
	for (i = 0; i < 5000 && !atomic_load(&detached_done); i++)
		usleep(1000);
	CHECK(atomic_load(&detached_done), "detached thread did not run");

	e = pthread_create(&last, NULL, last_thread, &main_t);
	CHECK(e == 0, "pthread_create last: %s", strerror(e));
	printf("legacy: main thread calls pthread_exit\n");
	fflush(stdout);
	pthread_exit(NULL);
}

/* ------------------------------------------------------------ driver */

#include "legacy_driver.h"

static char *threads_argv[] = { "legacy_threads", NULL };

static void
after(void)
{
	CHECK(atomic_load(&last_done) == 1, "last thread did not finish");
	CHECK(atomic_load(&atexit_runs) == 1, "atexit ran %d times",
	    atomic_load(&atexit_runs));
	/* The host thread is not green: pthread_self is glibc's. */
	CHECK(pthread_equal(pthread_self(), pthread_self()), "host self");
}

static const struct legacy_driver legacy_driver = {
	.main_fn = legacy_main, .argv = threads_argv, .after = after,
};
