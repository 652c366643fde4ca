/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * io.c -- the I/O engine: an LWP that would block in the kernel parks
 * on its own worker's engine instead, as Go's netpoller parks a
 * goroutine.
 *
 * A started LWP never leaves its worker, so each worker owns its LWPs'
 * waits outright: arming, completion and cancellation all happen on the
 * worker's thread, and the engine's state needs no lock.  The sleep
 * itself is the ordinary gpi_tsleep() on the LWP's own sleeper (a
 * private channel: on no bucket list), with a done word as the
 * interlock, so a green signal, a kill or a deadline interrupts an I/O
 * wait exactly as it interrupts any other sleep, and the engine's
 * completion is just one more waker.
 *
 * Two engines, chosen once per runtime (gpi_io_choose): io_uring
 * (iouring.c) where the kernel lets us make a ring for every worker,
 * else epoll (ioepoll.c); GREENPROC_IO=uring|epoll asks for one.  The
 * engine also replaces the futex an idle worker used to sleep on, so a
 * ready socket wakes the very worker its waiter belongs to.
 */
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>

#include "internal.h"

enum gpi_ioengine gpi_ioengine;

/*
 * Under valgrind (its vgpreload objects in LD_PRELOAD) io_uring_enter is
 * not known to block: a worker idling in its ring keeps valgrind's
 * thread lock and every other thread waits for good.  epoll it is there,
 * unless asked for by name.
 */
static bool
under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "vgpreload") != NULL;
}

void
gpi_io_choose(void)
{
	long want = gpi_env(GPI_ENV_IO);

	gpi_ioengine = want == GPI_IO_EPOLL || (want == GPI_IO_NONE &&
	    under_valgrind()) ? GPI_IO_EPOLL : GPI_IO_URING;
	gpi_file_inline_ns = (uint64_t)gpi_env(GPI_ENV_FILE_INLINE_US) * 1000u;
}

/*
 * Make (w)'s engine, of the runtime's kind.  io_uring may be refused
 * (kernel.io_uring_disabled, a seccomp filter, an old kernel,
 * RLIMIT_MEMLOCK on old kernels): at gp_init, the first refusal turns the
 * whole runtime to epoll before any worker runs (gpi_sched_start makes
 * every engine first), so all workers use one engine.  Asked for by name
 * and refused, we say so once.  A spare, made later while workers run,
 * gets the kind already chosen or nothing.  On failure the caller undoes
 * what was made with gpi_io_worker_fini.  Its descriptors are the
 * runtime's (rtfd.c).
 *
 * NOTE: at gp_init the workers made before (w) are reached as w - w_id:
 * gpi_sched_start's one array, which gpi_rt.rt_workers does not name yet
 * (it is published after every engine is made).  Through rt_workers, a
 * refusal on the second worker dereferenced NULL (found by failure
 * injection, tests/test_failpt.c).
 */
int
gpi_io_worker_init(struct gp_worker *w)
{
	struct gp_worker *ws = w - w->w_id;
	int error, i;

	if (GPI_FAILPT(GPI_FAIL_FD))
		return EMFILE;
	if ((w->w_wakefd = gpi_rtfd_keep(GPI_LIBC(eventfd)(0,
	    EFD_CLOEXEC))) < 0)
		return errno;
	if (gpi_ioengine != GPI_IO_URING)
		return gpi_epoll_init(w);
	if ((error = gpi_uring_init(w)) == 0 || w->w_spare)
		return error;
	if (gpi_env(GPI_ENV_IO) == GPI_IO_URING)
		gpi_env_bad(GPI_ENV_IO, "io_uring is not available");
	for (i = 0; i < w->w_id; i++)
		gpi_uring_fini(&ws[i]);
	gpi_ioengine = GPI_IO_EPOLL;
	for (i = 0; i < w->w_id; i++)
		if ((error = gpi_epoll_init(&ws[i])) != 0)
			return error;
	return gpi_epoll_init(w);
}

void
gpi_io_worker_fini(struct gp_worker *w)
{
	if (w->w_io != NULL) {
		if (gpi_ioengine == GPI_IO_URING)
			gpi_uring_fini(w);
		else
			gpi_epoll_fini(w);
	}
	if (w->w_wakefd >= 0)
		gpi_rtfd_close(w->w_wakefd);
	w->w_wakefd = -1;
}

/* (iw) is out of the engine: completed or cancelled.  Owner worker. */
static void
given_back(struct gpi_iowait *iw)
{
	KASSERT(iw->iw_armed);
	iw->iw_armed = false;
	gpi_tls_worker->w_iowaits--;
}

void
gpi_io_done(struct gpi_iowait *iw, int res)
{
	given_back(iw);
	if (res == -ECANCELED)
		return;		/* given back by our own cancel */
	iw->iw_res = res;
	iw->iw_ended = true;
	atomic_store_explicit(iw->iw_done, 1, memory_order_relaxed);
	gpi_wakeup_lwp(iw->iw_lwp, iw->iw_chan);
}

int
gpi_io_wait(struct gpi_iowait *iw, int n, uint64_t deadline, int flags)
{
	struct gp_worker *w = gpi_tls_worker;
	atomic_int done = 0;
	const void *chan;
	int error = 0, i;
	bool any = false;

	KASSERT(w != NULL && gpi_curlwp() != NULL);
	/*
	 * The channel is the LWP's own sleeper: only the engine (through
	 * iw_lwp) and interrupters wake it, never a waker by channel, so
	 * the sleep is private (synch.c, sq_private) and is not linked into
	 * its bucket's list.  Linked, each park wrote the previous sleeper's
	 * links and each completion both neighbours': with ten thousand
	 * connections parked those were cold lines of other LWPs' stacks,
	 * most of gpi_tsleep's time in the echo server's profile.
	 */
	chan = &w->w_curlwp->l_sleeper;
	for (i = 0; i < n; i++) {
		iw[i].iw_done = &done;
		iw[i].iw_chan = chan;
		iw[i].iw_lwp = w->w_curlwp;
		iw[i].iw_res = 0;
		iw[i].iw_ended = false;
		iw[i].iw_armed = true;
		w->w_iowaits++;
		error = gpi_ioengine == GPI_IO_URING ? gpi_uring_arm(w, &iw[i]) :
		    gpi_epoll_arm(w, &iw[i]);
		if (error != 0) {
			/* Out of memory: fail the call, as the kernel would. */
			given_back(&iw[i]);
			iw[i].iw_res = -error;
			iw[i].iw_ended = true;
			atomic_store_explicit(&done, 1, memory_order_relaxed);
			break;
		}
		any |= iw[i].iw_armed;
	}
	error = any ? gpi_tsleep(chan, &done, 0, flags, deadline) : 0;
	/* Every wait is given back before its frame goes. */
	for (i = 0; i < n; i++) {
		if (!iw[i].iw_armed)
			continue;
		if (gpi_ioengine == GPI_IO_URING) {
			gpi_uring_cancel(w, &iw[i]);
		} else {
			gpi_epoll_cancel(w, &iw[i]);
			given_back(&iw[i]);
		}
	}
	return atomic_load_explicit(&done, memory_order_relaxed) ? 0 : error;
}

void
gpi_io_poll(struct gp_worker *w, bool idle)
{
	if (gpi_ioengine == GPI_IO_URING)
		gpi_uring_poll(w, idle);
	else
		gpi_epoll_poll(w, idle);
}

void
gpi_io_idle(struct gp_worker *w, uint64_t deadline)
{
	if (gpi_ioengine == GPI_IO_URING)
		gpi_uring_idle(w, deadline);
	else
		gpi_epoll_idle(w, deadline);
}

void
gpi_io_wake(struct gp_worker *w)
{
	if (gpi_ioengine == GPI_IO_URING && gpi_uring_wake(w))
		return;
	(void)eventfd_write(w->w_wakefd, 1);
}
