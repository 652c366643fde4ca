/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uring.c -- the program's own io_uring rings, through liburing.
 *
 * liburing makes its io_uring_enter system calls inline, so a green
 * thread that waits for its ring's completions would wait in the kernel
 * on its worker's thread, and every LWP queued on that worker with it:
 * MariaDB's InnoDB waits so on a thread of its own while the threads
 * that submit its reads sit on the same worker, and hung.  So the
 * library's waiting entry points are interposed here: a wait that
 * completions already satisfy is the library's own call; one that must
 * wait is made on the helper pool (iopool.c), interruptible, while the
 * green thread parks.  Any thread may wait on a ring (the kernel posts a
 * completion to the ring, not to a thread), except on one set up for a
 * single issuer, whose every enter must come from the thread that set it
 * up, and on one that polls for completions (IOPOLL), which the enter
 * itself reaps: those still wait on the worker (ARCHITECTURE 21).
 *
 * The runtime's own rings are not these: its copy of liburing is built
 * under other names (the Makefile's uring-names.h), so the names here
 * reach only the program's liburing.so.  A wait's signal mask is not
 * passed on: the helper would take the program's signals with it; the
 * thread's green mask governs what interrupts the wait.
 */
#include <errno.h>
#include <liburing.h>

#include "internal.h"
#include "preload.h"

#define EXPORT	__attribute__((__visibility__("default")))

#ifndef IORING_SETUP_SINGLE_ISSUER
#define IORING_SETUP_SINGLE_ISSUER	(1U << 12)
#endif
#ifndef IORING_SETUP_DEFER_TASKRUN
#define IORING_SETUP_DEFER_TASKRUN	(1U << 13)
#endif

#define UNSHAREABLE	(IORING_SETUP_IOPOLL | IORING_SETUP_SINGLE_ISSUER | \
			 IORING_SETUP_DEFER_TASKRUN)

/* Must a wait for (wait_nr) completions of (ring) by the caller wait? */
static bool
must_wait(struct io_uring *ring, unsigned wait_nr)
{
	return wait_nr > 0 && gpi_curlwp() != NULL &&
	    !(ring->flags & UNSHAREABLE) && io_uring_cq_ready(ring) < wait_nr;
}

/* One of liburing's waits, with its arguments, run on a helper. */
struct uring_wait {
	int		 u_kind;
	struct io_uring	*u_ring;
	struct io_uring_cqe **u_cqe;
	unsigned	 u_submit;
	unsigned	 u_wait_nr;
	struct __kernel_timespec *u_ts;
};

enum { U_GET_CQE, U_SUBMIT_AND_WAIT, U_WAIT_CQES, U_SUBMIT_AND_WAIT_TIMEOUT };

/* On the helper: liburing's -errno as -1 and errno (the pool's way). */
static long
uring_job(void *arg)
{
	struct uring_wait *u = arg;
	int r;

	switch (u->u_kind) {
	case U_GET_CQE:
		r = LIBREAL(__io_uring_get_cqe)(u->u_ring, u->u_cqe,
		    u->u_submit, u->u_wait_nr, NULL);
		break;
	case U_SUBMIT_AND_WAIT:
		r = LIBREAL(io_uring_submit_and_wait)(u->u_ring, u->u_wait_nr);
		break;
	case U_WAIT_CQES:
		r = LIBREAL(io_uring_wait_cqes)(u->u_ring, u->u_cqe,
		    u->u_wait_nr, u->u_ts, NULL);
		break;
	default:
		r = LIBREAL(io_uring_submit_and_wait_timeout)(u->u_ring,
		    u->u_cqe, u->u_wait_nr, u->u_ts, NULL);
		break;
	}
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return r;
}

/*
 * The wait on a helper: liburing's answer, -errno.  A handler that ran
 * on this thread ends it with -EINTR, as natively; a signal another
 * thread took leaves it waiting (gpi_pool_call_intr).
 */
static int
wait_off_worker(struct uring_wait *u)
{
	long r = gpi_pool_call_intr(uring_job, u, false);

	return r < 0 ? -errno : (int)r;
}

EXPORT int
__io_uring_get_cqe(struct io_uring *ring, struct io_uring_cqe **cqe_ptr,
    unsigned submit, unsigned wait_nr, sigset_t *sigmask)
{
	struct uring_wait u = { U_GET_CQE, ring, cqe_ptr, submit, wait_nr,
	    NULL };

	if (!must_wait(ring, wait_nr))
		return LIBREAL(__io_uring_get_cqe)(ring, cqe_ptr, submit,
		    wait_nr, sigmask);
	return wait_off_worker(&u);
}

EXPORT int
io_uring_submit_and_wait(struct io_uring *ring, unsigned wait_nr)
{
	struct uring_wait u = { U_SUBMIT_AND_WAIT, ring, NULL, 0, wait_nr,
	    NULL };

	if (!must_wait(ring, wait_nr))
		return LIBREAL(io_uring_submit_and_wait)(ring, wait_nr);
	return wait_off_worker(&u);
}

EXPORT int
io_uring_wait_cqes(struct io_uring *ring, struct io_uring_cqe **cqe_ptr,
    unsigned wait_nr, struct __kernel_timespec *ts, sigset_t *sigmask)
{
	struct uring_wait u = { U_WAIT_CQES, ring, cqe_ptr, 0, wait_nr, ts };

	if (!must_wait(ring, wait_nr) || (ts != NULL && ts->tv_sec == 0 &&
	    ts->tv_nsec == 0))
		return LIBREAL(io_uring_wait_cqes)(ring, cqe_ptr, wait_nr, ts,
		    sigmask);
	return wait_off_worker(&u);
}

EXPORT int
io_uring_wait_cqe_timeout(struct io_uring *ring,
    struct io_uring_cqe **cqe_ptr, struct __kernel_timespec *ts)
{
	return io_uring_wait_cqes(ring, cqe_ptr, 1, ts, NULL);
}

EXPORT int
io_uring_submit_and_wait_timeout(struct io_uring *ring,
    struct io_uring_cqe **cqe_ptr, unsigned wait_nr,
    struct __kernel_timespec *ts, sigset_t *sigmask)
{
	struct uring_wait u = { U_SUBMIT_AND_WAIT_TIMEOUT, ring, cqe_ptr, 0,
	    wait_nr, ts };

	if (!must_wait(ring, wait_nr) || (ts != NULL && ts->tv_sec == 0 &&
	    ts->tv_nsec == 0))
		return LIBREAL(io_uring_submit_and_wait_timeout)(ring, cqe_ptr,
		    wait_nr, ts, sigmask);
	return wait_off_worker(&u);
}
