/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * kaio.c -- the program's own kernel AIO contexts (io_setup(2), libaio).
 *
 * A wait for completions, io_getevents(2), is a system call that libaio
 * makes inline, and that others make through syscall(): on a green
 * thread it would wait in the kernel on its worker's thread, and every
 * LWP queued on that worker with it -- among them, often, the thread
 * whose submission or write would end the wait.  So a wait that must
 * wait is made on the helper pool (iopool.c), interruptible, while the
 * green thread parks; the kernel posts completions to the context, not
 * to a thread, so any thread may reap them.  A wait that completions
 * already satisfy, or one that may not wait (a zero timeout, min_nr 0),
 * stays here.  io_pgetevents with a signal mask stays on the worker:
 * the helper would take the program's signals with it (as uring.c).
 *
 * Results follow each entry point: libaio's are -errno, syscall()'s -1
 * with errno.  An interrupted wait is EINTR, after the handlers have
 * run: the kernel never restarts io_getevents.
 */
#include <errno.h>
#include <linux/aio_abi.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "preload.h"

#define EXPORT	__attribute__((__visibility__("default")))

/* libaio's, whose io_context_t is the context's address. */
int	io_getevents(aio_context_t ctx, long min_nr, long nr,
	    struct io_event *events, struct timespec *timeout);
int	io_pgetevents(aio_context_t ctx, long min_nr, long nr,
	    struct io_event *events, struct timespec *timeout,
	    sigset_t *sigmask);

/*
 * The head of a context's completion ring, which the kernel maps at the
 * context's address (fs/aio.c; libaio reads it too): completions are
 * ready between head and tail.
 */
struct kaio_ring {
	unsigned	kr_id;
	unsigned	kr_nr;		/* slots */
	unsigned	kr_head;	/* the next to reap: ours to move */
	unsigned	kr_tail;	/* the kernel's */
	unsigned	kr_magic;
};
#define KAIO_RING_MAGIC	0xa10a10a1u

/* One wait for completions, run on a helper. */
struct kaio_wait {
	aio_context_t	 k_ctx;
	long		 k_min_nr;
	long		 k_nr;
	struct io_event	*k_events;
	struct timespec	*k_timeout;
};

/* The system call, on the helper: -1 and errno, or the count. */
static long
kaio_job(void *arg)
{
	struct kaio_wait *k = arg;

	return GPI_LIBC(syscall)(SYS_io_getevents, k->k_ctx, k->k_min_nr,
	    k->k_nr, k->k_events, k->k_timeout);
}

/*
 * Must this wait wait?  (peek): the ring may be read, as libaio reads
 * it; a raw caller's context may be any number, which only the kernel
 * may judge, so it is not read.
 */
static bool
must_wait(aio_context_t ctx, long min_nr, const struct timespec *timeout,
    bool peek)
{
	const struct kaio_ring *ring = (const struct kaio_ring *)ctx;
	unsigned head, tail;

	if (min_nr <= 0 || gpi_curlwp() == NULL || (timeout != NULL &&
	    timeout->tv_sec == 0 && timeout->tv_nsec == 0))
		return false;
	if (!peek || ring == NULL || ring->kr_magic != KAIO_RING_MAGIC ||
	    ring->kr_nr == 0)
		return true;
	head = __atomic_load_n(&ring->kr_head, __ATOMIC_RELAXED);
	tail = __atomic_load_n(&ring->kr_tail, __ATOMIC_ACQUIRE);
	return (long)((tail + ring->kr_nr - head) % ring->kr_nr) < min_nr;
}

/*
 * The wait on a helper, as the system call answers: -1 and errno, or the
 * number of events.  Never restarted after a handler ran on this thread;
 * a signal some other thread took leaves it waiting (gpi_pool_call_intr).
 */
static long
wait_off_worker(aio_context_t ctx, long min_nr, long nr,
    struct io_event *events, struct timespec *timeout)
{
	struct kaio_wait k = { ctx, min_nr, nr, events, timeout };

	return gpi_pool_call_intr(kaio_job, &k, false);
}

/* libaio's answer for (r): -errno. */
static int
libaio_result(long r)
{
	return r < 0 ? -errno : (int)r;
}

/*
 * syscall(SYS_io_getevents or SYS_io_pgetevents, ...) from sync.c's
 * syscall(): the result, or -2 when the caller is to make it itself.
 */
long
gpi_kaio_syscall(long nr, const long *a)
{
	aio_context_t ctx = (aio_context_t)a[0];
	struct timespec *timeout = (struct timespec *)a[4];

	if ((nr == SYS_io_pgetevents && a[5] != 0) ||
	    !must_wait(ctx, a[1], timeout, false))
		return -2;
	return wait_off_worker(ctx, a[1], a[2], (struct io_event *)a[3],
	    timeout);
}

EXPORT int
io_getevents(aio_context_t ctx, long min_nr, long nr,
    struct io_event *events, struct timespec *timeout)
{
	if (!must_wait(ctx, min_nr, timeout, true))
		return LIBREAL(io_getevents)(ctx, min_nr, nr, events, timeout);
	return libaio_result(wait_off_worker(ctx, min_nr, nr, events,
	    timeout));
}

EXPORT int
io_pgetevents(aio_context_t ctx, long min_nr, long nr,
    struct io_event *events, struct timespec *timeout, sigset_t *sigmask)
{
	if (sigmask != NULL || !must_wait(ctx, min_nr, timeout, true))
		return LIBREAL(io_pgetevents)(ctx, min_nr, nr, events, timeout,
		    sigmask);
	return libaio_result(wait_off_worker(ctx, min_nr, nr, events,
	    timeout));
}
