/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gr_cancel.c -- deferred cancellation with cleanup handlers: a thread
 * cancelled in pthread_cond_wait (its handler runs with the mutex
 * retaken), sleep, read and pthread_testcancel runs its handlers LIFO,
 * then its key destructors, and is joined with PTHREAD_CANCELED;
 * pthread_exit runs the handlers too; nested push/pop with execute 0
 * and 1; a cancel while disabled waits for the enable; the asynchronous
 * type is accepted.  One line per event, in an order that does not
 * depend on scheduling.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_key_t key;
static sem_t ready, cancelled;
static int pipefd[2];

static void
say(const char *s)
{
	/* write(2): one line at once whatever thread, no stdio lock held. */
	char buf[160];
	int n = snprintf(buf, sizeof(buf), "%s\n", s);

	(void)!write(1, buf, (size_t)n);
}

static void
handler(void *arg)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "  cleanup %s", (const char *)arg);
	say(buf);
}

static void
unlock_handler(void *arg)
{
	(void)arg;
	/* An errorcheck mutex: 0 only if this thread holds it. */
	say(pthread_mutex_unlock(&mu) == 0 ? "  cleanup: mutex was held" :
	    "  cleanup: mutex NOT held");
}

static void
key_dtor(void *v)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "  key destructor %s", (const char *)v);
	say(buf);
}

static void *
in_cond(void *arg)
{
	(void)arg;
	pthread_setspecific(key, "cond");
	pthread_mutex_lock(&mu);
	pthread_cleanup_push(handler, "outer");
	pthread_cleanup_push(unlock_handler, NULL);
	sem_post(&ready);
	for (;;)
		pthread_cond_wait(&cv, &mu);
	pthread_cleanup_pop(0);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *
in_sleep(void *arg)
{
	(void)arg;
	pthread_setspecific(key, "sleep");
	pthread_cleanup_push(handler, "sleep 1");
	pthread_cleanup_push(handler, "sleep 2");
	sem_post(&ready);
	for (;;)
		sleep(100);
	pthread_cleanup_pop(0);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *
in_nanosleep(void *arg)
{
	struct timespec ts = { 100, 0 };

	(void)arg;
	pthread_cleanup_push(handler, "nanosleep");
	sem_post(&ready);
	for (;;)
		nanosleep(&ts, NULL);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *
in_read(void *arg)
{
	char c;

	(void)arg;
	pthread_setspecific(key, "read");
	pthread_cleanup_push(handler, "read");
	sem_post(&ready);
	for (;;)
		(void)!read(pipefd[0], &c, 1);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *
in_testcancel(void *arg)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int old, r;

	(void)arg;
	pthread_cleanup_push(handler, "testcancel");
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
	sem_post(&ready);
	sem_wait(&cancelled);	/* main has cancelled us */
	/* Disabled: a cancellation point does not act, nor is it cut short. */
	r = nanosleep(&ts, NULL);
	say(r == 0 ? "  disabled: nanosleep ran to its end" :
	    "  disabled: nanosleep cut short");
	pthread_setcancelstate(old, NULL);
	say("  enabled again");	/* write(2): a cancellation point too */
	for (;;)
		pthread_testcancel();
	pthread_cleanup_pop(0);
	return NULL;
}

static void *
in_async(void *arg)
{
	int old = -1;

	(void)arg;
	pthread_cleanup_push(handler, "async");
	if (pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old) == 0 &&
	    old == PTHREAD_CANCEL_DEFERRED)
		say("  type was deferred");
	sem_post(&ready);
	for (;;)
		pause();
	pthread_cleanup_pop(0);
	return NULL;
}

static void
inner(void)
{
	pthread_cleanup_push(handler, "exit inner");
	pthread_exit((void *)42);
	pthread_cleanup_pop(0);
}

static void *
in_exit(void *arg)
{
	(void)arg;
	pthread_setspecific(key, "exit");
	pthread_cleanup_push(handler, "popped, not run");
	pthread_cleanup_pop(0);
	pthread_cleanup_push(handler, "popped and run");
	pthread_cleanup_pop(1);
	pthread_cleanup_push(handler, "exit outer");
	inner();
	pthread_cleanup_pop(0);
	return NULL;
}

static void
cancel_one(const char *name, void *(*fn)(void *), int hold_mutex)
{
	struct timespec ts = { 0, 30 * 1000 * 1000 };
	pthread_t t;
	void *rv = NULL;
	char buf[128];

	snprintf(buf, sizeof(buf), "%s:", name);
	say(buf);
	pthread_create(&t, NULL, fn, NULL);
	sem_wait(&ready);
	if (fn == in_testcancel) {
		pthread_cancel(t);
		sem_post(&cancelled);
	} else {
		nanosleep(&ts, NULL);	/* let it block */
		if (hold_mutex)
			pthread_mutex_lock(&mu);
		pthread_cancel(t);
		if (hold_mutex) {
			nanosleep(&ts, NULL);
			say("  main lets the mutex go");
			pthread_mutex_unlock(&mu);
		}
	}
	pthread_join(t, &rv);
	snprintf(buf, sizeof(buf), "  joined: %s", rv == PTHREAD_CANCELED ?
	    "PTHREAD_CANCELED" : "something else");
	say(buf);
}

int
main(void)
{
	pthread_mutexattr_t ma;
	pthread_t t;
	void *rv;
	char buf[64];

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&mu, &ma);
	pthread_key_create(&key, key_dtor);
	sem_init(&ready, 0, 0);
	sem_init(&cancelled, 0, 0);
	if (pipe(pipefd) != 0)
		return 1;

	cancel_one("cond_wait", in_cond, 1);
	cancel_one("sleep", in_sleep, 0);
	cancel_one("nanosleep", in_nanosleep, 0);
	cancel_one("read", in_read, 0);
	cancel_one("testcancel", in_testcancel, 0);
	cancel_one("async", in_async, 0);

	say("pthread_exit:");
	pthread_create(&t, NULL, in_exit, NULL);
	pthread_join(t, &rv);
	snprintf(buf, sizeof(buf), "  joined: %ld", (long)rv);
	say(buf);
	return 0;
}
