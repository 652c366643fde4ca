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

EXPORT int
dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *arg)
{
	struct gp_lwp *l = gpi_nopreempt_enter();
	int r = REAL(dl_iterate_phdr)(cb, arg);

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
