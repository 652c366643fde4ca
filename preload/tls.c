/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tls.c -- thread_local destructors of green threads (issue 16).
 *
 * libstdc++ registers the destructor of each thread_local object a thread
 * constructs with glibc's __cxa_thread_atexit_impl, which keeps one list
 * per kernel thread and runs it when that thread exits: on a green
 * thread that is the worker, so the destructors would run at the wrong
 * time, on the wrong values.  For an LWP with its own TLS
 * (runtime/tls.c) an object in a switched static block goes on the LWP's
 * own list instead, run LIFO when the LWP ends (gpi_lwp_exit, or its
 * exit() through gp_exit).  Everything else -- host threads, LWPs without
 * their own TLS, objects of modules dlopen'd later (their values are per
 * LWP, their destructors per worker) -- goes to glibc as before.
 *
 * NOTE: glibc also pins the object's module against dlclose until the
 * destructor has run; the modules whose objects we keep are the ones
 * loaded at start, which are never unloaded, so there is nothing to pin.
 * A dlopen'd module's objects stay with glibc for that reason.
 */
#include "internal.h"
#include "preload.h"

#define EXPORT	__attribute__((__visibility__("default")))

EXPORT int __cxa_thread_atexit_impl(void (*)(void *), void *, void *);

typedef int (*thread_atexit_fn)(void (*)(void *), void *, void *);

static thread_atexit_fn real_thread_atexit;	/* relaxed: racers agree */

EXPORT int
__cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso)
{
	thread_atexit_fn real;

	if (gpi_tls_atexit(fn, obj) == 0)
		return 0;
	real = __atomic_load_n(&real_thread_atexit, __ATOMIC_RELAXED);
	if (real == NULL) {
		real = (thread_atexit_fn)gpi_preload_resolve_one(
		    "__cxa_thread_atexit_impl");
		__atomic_store_n(&real_thread_atexit, real, __ATOMIC_RELAXED);
	}
	return real(fn, obj, dso);
}
