/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * c11.c -- C11 <threads.h> for green threads.
 *
 * glibc implements thrd_*, mtx_*, cnd_*, tss_* and call_once on its
 * internal pthread functions (__pthread_create_2_1, __pthread_mutex_lock
 * ...), calls that never pass through the dynamic linker and so never
 * reach the interposers: thrd_create on a green thread would make a host
 * thread, mtx_lock would block the worker.  So the C11 names themselves
 * are interposed here, each on its pthread equivalent -- the interposer
 * of this object, green on an LWP and glibc's elsewhere -- for every
 * caller, host or green, so that one object is always used one way.
 * thrd_equal is left to glibc (an inline compare of the two values,
 * which green handles are).  The types are glibc's: thrd_t is a
 * pthread_t, mtx_t, cnd_t, tss_t and once_flag have the layout of their
 * pthread counterparts (glibc's <threads.h> makes them so).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

#include "internal.h"
#include "preload.h"

#define EXPORT	__attribute__((__visibility__("default")))

_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "mtx_t");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "cnd_t");
_Static_assert(sizeof(once_flag) == sizeof(pthread_once_t), "once_flag");

/* A pthread error -> the C11 result (glibc's mapping). */
static int
c11_result(int error)
{
	switch (error) {
	case 0:
		return thrd_success;
	case ENOMEM:
		return thrd_nomem;
	case EBUSY:
		return thrd_busy;
	case ETIMEDOUT:
		return thrd_timedout;
	default:
		return thrd_error;
	}
}

/* A C11 start routine returns int: carried in the void * of pthreads. */
struct c11_start {
	thrd_start_t	 fn;
	void		*arg;
};

static void *
c11_trampoline(void *p)
{
	struct c11_start s = *(struct c11_start *)p;

	free(p);
	return (void *)(intptr_t)s.fn(s.arg);
}

EXPORT int
thrd_create(thrd_t *thr, thrd_start_t fn, void *arg)
{
	struct c11_start *s;
	int error;

	if ((s = malloc(sizeof(*s))) == NULL)
		return thrd_nomem;
	s->fn = fn;
	s->arg = arg;
	if ((error = pthread_create((pthread_t *)thr, NULL, c11_trampoline,
	    s)) != 0)
		free(s);
	return c11_result(error);
}

EXPORT int
thrd_join(thrd_t thr, int *res)
{
	void *v;
	int error;

	if ((error = pthread_join((pthread_t)thr, &v)) != 0)
		return c11_result(error);
	if (res != NULL)
		*res = (int)(intptr_t)v;
	return thrd_success;
}

EXPORT int
thrd_detach(thrd_t thr)
{
	return c11_result(pthread_detach((pthread_t)thr));
}

EXPORT _Noreturn void
thrd_exit(int res)
{
	pthread_exit((void *)(intptr_t)res);
}

EXPORT thrd_t
thrd_current(void)
{
	return (thrd_t)pthread_self();
}

EXPORT void
thrd_yield(void)
{
	(void)sched_yield();
}

/* 0, -1 if interrupted by a signal, another negative value on error. */
EXPORT int
thrd_sleep(const struct timespec *d, struct timespec *rem)
{
	if (nanosleep(d, rem) == 0)
		return 0;
	return errno == EINTR ? -1 : -2;
}

EXPORT int
mtx_init(mtx_t *m, int type)
{
	pthread_mutexattr_t a;
	int error;

	if ((type & ~(mtx_timed | mtx_recursive)) != mtx_plain &&
	    (type & ~(mtx_timed | mtx_recursive)) != 0)
		return thrd_error;
	pthread_mutexattr_init(&a);
	if (type & mtx_recursive)
		pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	error = pthread_mutex_init((pthread_mutex_t *)m, &a);
	pthread_mutexattr_destroy(&a);
	return c11_result(error);
}

EXPORT int
mtx_lock(mtx_t *m)
{
	return c11_result(pthread_mutex_lock((pthread_mutex_t *)m));
}

EXPORT int
mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict abs)
{
	return c11_result(pthread_mutex_timedlock((pthread_mutex_t *)m, abs));
}

EXPORT int
mtx_trylock(mtx_t *m)
{
	return c11_result(pthread_mutex_trylock((pthread_mutex_t *)m));
}

EXPORT int
mtx_unlock(mtx_t *m)
{
	return c11_result(pthread_mutex_unlock((pthread_mutex_t *)m));
}

EXPORT void
mtx_destroy(mtx_t *m)
{
	(void)pthread_mutex_destroy((pthread_mutex_t *)m);
}

EXPORT int
cnd_init(cnd_t *c)
{
	return c11_result(pthread_cond_init((pthread_cond_t *)c, NULL));
}

EXPORT int
cnd_signal(cnd_t *c)
{
	return c11_result(pthread_cond_signal((pthread_cond_t *)c));
}

EXPORT int
cnd_broadcast(cnd_t *c)
{
	return c11_result(pthread_cond_broadcast((pthread_cond_t *)c));
}

EXPORT int
cnd_wait(cnd_t *c, mtx_t *m)
{
	return c11_result(pthread_cond_wait((pthread_cond_t *)c,
	    (pthread_mutex_t *)m));
}

EXPORT int
cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m,
    const struct timespec *restrict abs)
{
	return c11_result(pthread_cond_timedwait((pthread_cond_t *)c,
	    (pthread_mutex_t *)m, abs));
}

EXPORT void
cnd_destroy(cnd_t *c)
{
	(void)pthread_cond_destroy((pthread_cond_t *)c);
}

EXPORT int
tss_create(tss_t *key, tss_dtor_t dtor)
{
	return c11_result(pthread_key_create((pthread_key_t *)key, dtor));
}

EXPORT void *
tss_get(tss_t key)
{
	return pthread_getspecific((pthread_key_t)key);
}

EXPORT int
tss_set(tss_t key, void *v)
{
	return c11_result(pthread_setspecific((pthread_key_t)key, v));
}

EXPORT void
tss_delete(tss_t key)
{
	(void)pthread_key_delete((pthread_key_t)key);
}

EXPORT void
call_once(once_flag *flag, void (*fn)(void))
{
	(void)pthread_once((pthread_once_t *)flag, fn);
}
