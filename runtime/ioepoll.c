/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ioepoll.c -- the epoll engine, for where io_uring is not allowed: one
 * epoll instance per worker.
 *
 * Each descriptor a worker's LWPs wait on has a slot (indexed by the
 * descriptor's number) holding its waiters; the descriptor is in the
 * epoll set with EPOLLONESHOT and the union of their events, re-armed
 * for whoever is left after each event.  One-shot costs an epoll_ctl per
 * wait, but a registration never outlives what it was made for: the
 * program may close the descriptor and open another under its number
 * at any time, behind our back (epoll forgets a registration when the
 * last reference to its file goes; an ENOENT or EEXIST on the next wait
 * tells us, and we add or modify instead).
 *
 * A socket that fdinfo.c knows gets a standing registration instead
 * (EPOLLET, added once, kept while fdinfo.c's version of the number --
 * bumped by every close, dup2 and new descriptor the preload sees --
 * is the one it was made for).  Its waiters come from iocall.c's xfer
 * right after an attempt said EAGAIN (iw_etver), so any readiness since
 * is an edge still queued in the set: the wait costs no system call.
 * es_drained lets a read that would surely block skip its attempt
 * (gpi_epoll_drained).  WARNING: a socket closed and made again under
 * one number wholly behind the preload keeps the old version, and a
 * wait there trusts a registration epoll has dropped (docs: section 23).
 *
 * An idle worker sleeps in epoll_pwait2 with its eventfd in the set;
 * everyone, worker or host thread, wakes it by writing that eventfd.  A
 * busy worker looks at its set every POLL_EVERY picks.
 */
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "internal.h"

#define POLL_EVERY	64		/* picks between epoll_wait(0)s */
#define NEVENTS		128
#define WAKEFD_KEY	UINT64_MAX

struct epslot {
	struct gpi_iowait *es_head;	/* (o) waiters on this fd */
	bool		 es_added;	/* (o) EPOLL_CTL_ADD done (it may have
					 * been dropped by a close since) */
	bool		 es_drained;	/* (o) standing: a read emptied it and
					 * no event came since */
	bool		 es_urgent;	/* (o) standing: EPOLLPRI was seen (TCP
					 * urgent data: a short read may stop
					 * at its mark), es_drained unused */
	uint32_t	 es_etev;	/* (o) nonzero: standing, EPOLLET with
					 * these events, for the file that
					 * fdinfo.c's version es_ver names */
	unsigned	 es_ver;	/* (o) 0: the file is not known */
};

/* A standing registration's events; EPOLLOUT is added when wanted. */
#define ET_EVENTS	(EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLET)

struct ep {
	int		 e_fd;		/* (c) the epoll instance */
	struct epslot	*e_slots;	/* (o) indexed by fd */
	int		 e_nslots;	/* (o) */
};

static inline struct ep *
E(struct gp_worker *w)
{
	return w->w_io;
}

int
gpi_epoll_init(struct gp_worker *w)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = WAKEFD_KEY };
	struct ep *e;
	int error;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return ENOMEM;
	if ((e->e_fd = gpi_rtfd_keep(GPI_LIBC(epoll_create1)(
	    EPOLL_CLOEXEC))) < 0 ||
	    epoll_ctl(e->e_fd, EPOLL_CTL_ADD, w->w_wakefd, &ev) != 0) {
		error = errno;
		if (e->e_fd >= 0)
			gpi_rtfd_close(e->e_fd);
		free(e);
		return error;
	}
	w->w_io = e;
	return 0;
}

void
gpi_epoll_fini(struct gp_worker *w)
{
	struct ep *e = E(w);

	if (e == NULL)
		return;
	gpi_rtfd_close(e->e_fd);
	free(e->e_slots);
	free(e);
	w->w_io = NULL;
}

static uint32_t
slot_events(const struct epslot *es)
{
	const struct gpi_iowait *iw;
	uint32_t m = 0;

	for (iw = es->es_head; iw != NULL; iw = iw->iw_next)
		m |= (uint32_t)(unsigned short)iw->iw_events;
	return m;
}

/* (Re)arm fd for its waiters' events; returns 0 or an errno. */
static int
rearm(struct ep *e, int fd)
{
	struct epslot *es = &e->e_slots[fd];
	struct epoll_event ev = {
		.events = slot_events(es) | EPOLLONESHOT,
		.data.u64 = (uint64_t)fd,
	};
	int op = es->es_added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if (epoll_ctl(e->e_fd, op, fd, &ev) == 0)
		goto ok;
	/* The fd was closed and its number reused, or added elsewhere. */
	if (errno == ENOENT || errno == EEXIST) {
		op = op == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
		if (epoll_ctl(e->e_fd, op, fd, &ev) == 0)
			goto ok;
	}
	return errno;
ok:
	es->es_added = true;
	return 0;
}

/*
 * Make (fd)'s registration a standing, edge-triggered one with (events),
 * for the file that fdinfo.c's version (ver) names (0: not known).  The
 * EPOLL_CTL_MOD (or ADD) looks at the file as it is now, so what is
 * already ready is reported once; after that every new readiness is an
 * edge, and a waiter that has just seen EAGAIN needs no system call.
 */
static int
stand(struct ep *e, int fd, uint32_t events, unsigned ver)
{
	struct epslot *es = &e->e_slots[fd];
	struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)fd };
	int op = es->es_added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

	if (epoll_ctl(e->e_fd, op, fd, &ev) != 0) {
		if (errno != ENOENT && errno != EEXIST)
			return errno;
		op = op == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
		if (epoll_ctl(e->e_fd, op, fd, &ev) != 0)
			return errno;
	}
	es->es_added = true;
	es->es_etev = events;
	es->es_ver = ver;
	es->es_drained = false;
	es->es_urgent = false;
	return 0;
}

static void
unlink_waiter(struct epslot *es, struct gpi_iowait *iw)
{
	GPI_DLIST_REMOVE(&es->es_head, iw, iw_next, iw_prev);
}

static struct epslot *
slot_of(struct gp_worker *w, int fd, unsigned ver)
{
	struct ep *e;
	struct epslot *es;

	if (w == NULL || gpi_ioengine != GPI_IO_EPOLL || (e = E(w)) == NULL ||
	    fd < 0 || fd >= e->e_nslots)
		return NULL;
	es = &e->e_slots[fd];
	return es->es_etev != 0 && es->es_ver == ver ? es : NULL;
}

bool
gpi_epoll_drained(int fd, unsigned ver)
{
	struct epslot *es = slot_of(gpi_tls_worker, fd, ver);

	return es != NULL && es->es_drained;
}

void
gpi_epoll_set_drained(int fd, unsigned ver)
{
	struct epslot *es = slot_of(gpi_tls_worker, fd, ver);

	if (es != NULL && !es->es_urgent)
		es->es_drained = true;
}

int
gpi_epoll_arm(struct gp_worker *w, struct gpi_iowait *iw)
{
	struct ep *e = E(w);
	struct epslot *es;
	uint32_t want;
	int fd = iw->iw_fd, error, n;

	if (fd < 0) {
		gpi_io_done(iw, -EBADF);
		return 0;
	}
	if (fd >= e->e_nslots) {
		n = e->e_nslots == 0 ? 64 : e->e_nslots;
		while (n <= fd)
			n *= 2;
		es = realloc(e->e_slots, (size_t)n * sizeof(*es));
		if (es == NULL)
			return ENOMEM;
		memset(es + e->e_nslots, 0,
		    (size_t)(n - e->e_nslots) * sizeof(*es));
		e->e_slots = es;
		e->e_nslots = n;
	}
	es = &e->e_slots[fd];
	want = (uint32_t)(unsigned short)iw->iw_events;
	GPI_DLIST_INSERT_HEAD(&es->es_head, iw, iw_next, iw_prev);
	if (iw->iw_op == GPI_IOOP_POLL && iw->iw_etver != 0 &&
	    es->es_etev != 0 && es->es_ver == iw->iw_etver &&
	    (want & ~es->es_etev & (EPOLLIN | EPOLLOUT | EPOLLPRI)) == 0)
		return 0;	/* standing, and EAGAIN was just seen */
	if (es->es_etev != 0 || (iw->iw_op == GPI_IOOP_POLL &&
	    iw->iw_etver != 0))
		error = stand(e, fd, ET_EVENTS | es->es_etev | want,
		    iw->iw_etver);
	else
		error = rearm(e, fd);
	if (error == 0)
		return 0;
	unlink_waiter(es, iw);
	if (es->es_head != NULL && es->es_etev == 0)
		(void)rearm(e, fd);
	/*
	 * EPERM: a regular file or a directory, which epoll refuses and
	 * poll(2) calls always ready.
	 */
	gpi_io_done(iw, error == EPERM ? (iw->iw_events & (POLLIN | POLLOUT |
	    POLLRDNORM | POLLWRNORM)) : -error);
	return 0;
}

void
gpi_epoll_cancel(struct gp_worker *w, struct gpi_iowait *iw)
{
	unlink_waiter(&E(w)->e_slots[iw->iw_fd], iw);
}

/* An event on fd: end the waits it satisfies, rearm for the others. */
static void
fire(struct ep *e, int fd, uint32_t revents)
{
	struct epslot *es;
	struct gpi_iowait *iw, *next;
	uint32_t mine;

	if (fd >= e->e_nslots)
		return;
	es = &e->e_slots[fd];
	if (revents & (EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		es->es_drained = false;
	if (revents & EPOLLPRI)
		es->es_urgent = true;
	for (iw = es->es_head; iw != NULL; iw = next) {
		next = iw->iw_next;
		mine = revents & ((uint32_t)(unsigned short)iw->iw_events |
		    EPOLLERR | EPOLLHUP);
		if (mine == 0)
			continue;
		unlink_waiter(es, iw);
		gpi_io_done(iw, (int)mine);
	}
	/* One-shot is re-armed for who is left; a standing one stays. */
	if (es->es_head != NULL && es->es_etev == 0)
		(void)rearm(e, fd);
}

static void
handle(struct gp_worker *w, struct epoll_event *evs, int n)
{
	struct ep *e = E(w);
	uint64_t v;
	int i;

	for (i = 0; i < n; i++) {
		if (evs[i].data.u64 == WAKEFD_KEY)
			(void)eventfd_read(w->w_wakefd, &v);
		else
			fire(e, (int)evs[i].data.u64, evs[i].events);
	}
}

void
gpi_epoll_poll(struct gp_worker *w, bool idle)
{
	struct epoll_event evs[NEVENTS];
	int n;

	if (!idle && w->w_runq.q_head != NULL && w->w_tick % POLL_EVERY != 0)
		return;
	n = GPI_LIBC(epoll_wait)(E(w)->e_fd, evs, NEVENTS, 0);
	if (n > 0)
		handle(w, evs, n);
}

void
gpi_epoll_idle(struct gp_worker *w, uint64_t deadline)
{
	struct epoll_event evs[NEVENTS];
	struct timespec ts;
	uint64_t now, left = 0;
	int n;

	if (deadline != 0) {
		now = gpi_now();
		left = deadline > now ? deadline - now : 0;
		ts.tv_sec = (time_t)(left / 1000000000u);
		ts.tv_nsec = (long)(left % 1000000000u);
	}
	/*
	 * epoll_pwait2 (5.11) keeps timers to the nanosecond; without it
	 * (an older kernel, valgrind) epoll_wait, rounded up to the next
	 * millisecond: a timer never fires early, and an idle worker never
	 * spins on an ENOSYS.
	 */
	static atomic_int no_pwait2;	/* (a) relaxed: set once */

	if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
		n = GPI_LIBC(epoll_pwait2)(E(w)->e_fd, evs, NEVENTS,
		    deadline != 0 ? &ts : NULL, NULL);
		if (n >= 0 || errno != ENOSYS)
			goto out;
		atomic_store_explicit(&no_pwait2, 1, memory_order_relaxed);
	}
	n = GPI_LIBC(epoll_wait)(E(w)->e_fd, evs, NEVENTS, deadline == 0 ?
	    -1 : (int)((left + 999999u) / 1000000u));
out:
	if (n > 0)
		handle(w, evs, n);
}
