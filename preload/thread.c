/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * thread.c -- thread-specific data and cancellation for green threads.
 *
 * Keys come from glibc (so host and green code share one key space).
 * A key created on a green thread is a green key: a green thread's
 * values live in its LWP, in a two-level table made on its first
 * pthread_setspecific, and its destructors run when it ends by
 * pthread_exit or a return (not when its process is killed), as glibc's
 * do.  A key created on a host thread stays per kernel thread even when
 * green code reads it: libraries (sanitizers, allocators) keep per-thread
 * state that way and must find what their thread-start hook stored.  pthread_cancel of a green thread marks it; with
 * cancellation enabled it then ends at its next cancellation point (any
 * blocking runtime call) with PTHREAD_CANCELED.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "internal.h"
#include "preload.h"

#define EXPORT	__attribute__((__visibility__("default")))
#define KEYS	1024			/* PTHREAD_KEYS_MAX */
#define PAGE	32
#define NPAGES	(KEYS / PAGE)
#define DTOR_ITERATIONS	4		/* PTHREAD_DESTRUCTOR_ITERATIONS */

/* l_cancel bits */
#define CANCEL_DISABLED	0x1
#define CANCEL_PENDING	0x2

static void (*_Atomic dtors[KEYS])(void *);	/* (a) per key */
static atomic_bool green_key[KEYS];		/* (a) made by green code */

static inline bool
green(void)
{
	return gpi_curlwp() != NULL;
}

/* The slot of (key) in (l), made if (make). */
static void **
slot_of(struct gp_lwp *l, pthread_key_t key, bool make)
{
	void ***pages = (void ***)l->l_specific;

	if (key >= KEYS)
		return NULL;
	if (pages == NULL) {
		if (!make || (pages = calloc(NPAGES, sizeof(*pages))) == NULL)
			return NULL;
		l->l_specific = (void **)pages;
	}
	if (pages[key / PAGE] == NULL) {
		if (!make || (pages[key / PAGE] = calloc(PAGE,
		    sizeof(void *))) == NULL)
			return NULL;
	}
	return &pages[key / PAGE][key % PAGE];
}

/* Runs on an LWP leaving by pthread_exit or a return (lwp.c). */
static void
run_dtors(struct gp_lwp *l)
{
	void ***pages = (void ***)l->l_specific, *v;
	void (*dtor)(void *);
	bool again = true;
	int it, k;

	for (it = 0; pages != NULL && again && it < DTOR_ITERATIONS; it++) {
		again = false;
		for (k = 0; k < KEYS; k++) {
			if (pages[k / PAGE] == NULL ||
			    (v = pages[k / PAGE][k % PAGE]) == NULL)
				continue;
			pages[k / PAGE][k % PAGE] = NULL;
			if ((dtor = atomic_load(&dtors[k])) != NULL) {
				dtor(v);
				again = true;
			}
		}
	}
	if (pages != NULL) {
		for (k = 0; k < NPAGES; k++)
			free(pages[k]);
		free(pages);
		l->l_specific = NULL;
	}
}

__attribute__((constructor(102))) static void
thread_init(void)
{
	gpi_lwp_exit_hook = run_dtors;
}

EXPORT int
pthread_key_create(pthread_key_t *key, void (*dtor)(void *))
{
	int error = REAL(pthread_key_create)(key, dtor);

	if (error == 0 && *key < KEYS) {
		atomic_store(&dtors[*key], dtor);
		atomic_store(&green_key[*key], green());
	}
	return error;
}

EXPORT int
pthread_key_delete(pthread_key_t key)
{
	if (key < KEYS) {
		atomic_store(&dtors[key], NULL);
		atomic_store(&green_key[key], false);
	}
	return REAL(pthread_key_delete)(key);
}

EXPORT void *
pthread_getspecific(pthread_key_t key)
{
	struct gp_lwp *l = gpi_curlwp();
	void **s;

	if (l == NULL || key >= KEYS || !atomic_load(&green_key[key]))
		return REAL(pthread_getspecific)(key);
	s = slot_of(l, key, false);
	return s != NULL ? *s : NULL;
}

EXPORT int
pthread_setspecific(pthread_key_t key, const void *value)
{
	struct gp_lwp *l = gpi_curlwp();
	void **s;

	if (l == NULL || key >= KEYS || !atomic_load(&green_key[key]))
		return REAL(pthread_setspecific)(key, value);
	if ((s = slot_of(l, key, value != NULL)) == NULL)
		return value != NULL ? ENOMEM : 0;
	*s = (void *)value;
	return 0;
}

/* ------------------------------------------------------------ cancel */

EXPORT int
pthread_cancel(pthread_t t)
{
	struct gp_lwp *l = (struct gp_lwp *)t;
	int c;

	if (!gpi_is_green_thread(t))
		return REAL(pthread_cancel)(t);
	if (atomic_load(&l->l_jstate) & GPI_J_ZLIST)
		return ESRCH;
	c = __atomic_fetch_or(&l->l_cancel, CANCEL_PENDING, __ATOMIC_SEQ_CST);
	if (!(c & CANCEL_DISABLED))
		gpi_lwp_kill(l);	/* ends at its next cancellation point */
	return 0;
}

EXPORT int
pthread_setcancelstate(int state, int *old)
{
	struct gp_lwp *l = gpi_curlwp();
	int c;

	if (l == NULL)
		return REAL(pthread_setcancelstate)(state, old);
	if (state != PTHREAD_CANCEL_ENABLE && state != PTHREAD_CANCEL_DISABLE)
		return EINVAL;
	if (state == PTHREAD_CANCEL_DISABLE)
		c = __atomic_fetch_or(&l->l_cancel, CANCEL_DISABLED,
		    __ATOMIC_SEQ_CST);
	else
		c = __atomic_fetch_and(&l->l_cancel, ~CANCEL_DISABLED,
		    __ATOMIC_SEQ_CST);
	if (old != NULL)
		*old = (c & CANCEL_DISABLED) ? PTHREAD_CANCEL_DISABLE :
		    PTHREAD_CANCEL_ENABLE;
	/* A cancel that came while disabled takes effect from now on. */
	if (state == PTHREAD_CANCEL_ENABLE && (c & CANCEL_PENDING))
		gpi_lwp_kill(l);
	return 0;
}

EXPORT void
pthread_testcancel(void)
{
	if (!green()) {
		REAL(pthread_testcancel)();
		return;
	}
	gpi_userret();
}
