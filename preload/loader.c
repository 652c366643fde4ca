/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * loader.c -- the dynamic loader's calls that run the program's code
 * with ld.so's lock held.
 *
 * dl_iterate_phdr calls its callback, and dlclose runs the destructors
 * of what it unloads, holding one of ld.so's recursive locks, which are
 * owned by the kernel thread.  On a green thread that is the worker's:
 * an LWP preempted there (runtime/preempt.c) would let the next LWP of
 * its worker take the lock as if it held it, and walk or change the
 * object list under the first one's feet.  So the LWP is not preempted
 * inside (gpi_nopreempt_enter); it still switches where it blocks, as
 * any thread holding a lock does.
 *
 * WARNING: dlopen runs the new objects' constructors under ld.so's lock
 * too, but cannot be wrapped: glibc finds the caller's object (its
 * search path, its namespace) by dlopen's return address, which a
 * wrapper would make this object's.  A constructor that computes for a
 * whole slice may therefore be preempted with that lock held, and
 * another LWP of its worker that then calls dlopen, dlsym or dlclose
 * enters it.  It takes a constructor that runs 15-20 ms and such a call
 * in that window on that worker.
 */
#include <link.h>

#include "internal.h"
#include "preload.h"

#define EXPORT	__attribute__((__visibility__("default")))

EXPORT int dlclose(void *);
EXPORT int dl_iterate_phdr(int (*)(struct dl_phdr_info *, size_t, void *),
    void *);

/*
 * libasan calls dl_iterate_phdr while it initializes, before its shadow
 * memory is mapped, where any instrumented load faults: this file and
 * dlnext.c are built without the sanitizer (Makefile), and the real
 * function is found with gpi_dlnext itself, not through the instrumented
 * gpi_preload_resolve_one (its fallback, once the sanitizer is up).
 */
static __typeof__(&dl_iterate_phdr)
real_iterate(void)
{
	__typeof__(&dl_iterate_phdr) f;

	f = __atomic_load_n(&gpi_real.dl_iterate_phdr, __ATOMIC_RELAXED);
	if (f == NULL) {
		f = (__typeof__(f))gpi_dlnext("dl_iterate_phdr");
		if (f == NULL)
			f = (__typeof__(f))gpi_preload_resolve_one(
			    "dl_iterate_phdr");
		__atomic_store_n(&gpi_real.dl_iterate_phdr, f,
		    __ATOMIC_RELAXED);
	}
	return f;
}

EXPORT int
dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *arg)
{
	struct gp_lwp *l = gpi_nopreempt_enter();
	int r = real_iterate()(cb, arg);

	gpi_nopreempt_leave(l);
	return r;
}

/*
 * Also: a module unloaded takes its dynamic TLS range with it
 * (runtime/tls.c): loaded again, its thread-locals start from the image
 * in every thread.
 */
EXPORT int
dlclose(void *handle)
{
	struct gp_lwp *l = gpi_nopreempt_enter();
	int r = REAL(dlclose)(handle);

	gpi_nopreempt_leave(l);
	gpi_tls_unloaded();
	gpi_kthread_forget();
	return r;
}
