/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * failpt.c -- allocation-failure injection, debug builds only.
 *
 * A test arms it with gpi_failpt_arm(k, kinds): the k-th call, counted
 * from the arming, to any resource of (kinds) that the runtime asks for
 * fails as if the system had none left -- malloc/calloc/realloc return
 * NULL (internal.h maps the runtime's calls here), a stack mmap gives
 * ENOMEM, the eventfd EMFILE, the io_uring setup ENOMEM (the runtime
 * then falls back to epoll), pthread_create EAGAIN.  One failure per
 * arming: the calls after it succeed, as they would once memory is
 * freed.  gpi_failpt_disarm() stops counting and says whether the
 * failure happened, so a test walks k = 1, 2, ... along a call until
 * the call no longer reaches its k-th request.
 *
 * The count is global (every thread's requests), so a runtime that is
 * quiet apart from the call under test -- one worker, nothing else
 * running -- gives each k the same failing site run after run.
 *
 * Release builds have none of this: GPI_FAILPT() is false there.
 */
#include "internal.h"

#ifdef GREENPROC_DEBUG

#undef malloc
#undef calloc
#undef realloc

static atomic_long fp_left;	/* (a) requests to let through, then fail */
static atomic_uint fp_kinds;	/* (a) GPI_FAIL_* bits counted; 0: off */
static atomic_int fp_fired;	/* (a) the failure happened */

void
gpi_failpt_arm(long k, unsigned kinds)
{
	atomic_store(&fp_fired, 0);
	atomic_store(&fp_left, k);
	atomic_store(&fp_kinds, kinds);
}

bool
gpi_failpt_disarm(void)
{
	atomic_store(&fp_kinds, 0);
	return atomic_load(&fp_fired) != 0;
}

/* Armed for anything?  (Caches are then bypassed: stack.c.) */
bool
gpi_failpt_armed(void)
{
	return atomic_load_explicit(&fp_kinds, memory_order_relaxed) != 0;
}

/* Should this request of (kind) fail?  Counts it if armed for it. */
bool
gpi_failpt(unsigned kind)
{
	if (!(atomic_load_explicit(&fp_kinds, memory_order_relaxed) & kind))
		return false;
	if (atomic_fetch_sub(&fp_left, 1) != 1)
		return false;
	atomic_store(&fp_kinds, 0);
	atomic_store(&fp_fired, 1);
	return true;
}

void *
gpi_failpt_malloc(size_t n)
{
	if (gpi_failpt(GPI_FAIL_MALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return malloc(n);
}

void *
gpi_failpt_calloc(size_t n, size_t size)
{
	if (gpi_failpt(GPI_FAIL_MALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return calloc(n, size);
}

void *
gpi_failpt_realloc(void *p, size_t n)
{
	if (gpi_failpt(GPI_FAIL_MALLOC)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n);
}

#endif /* GREENPROC_DEBUG */
