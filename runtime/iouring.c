/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iouring.c -- the io_uring engine: one ring per worker.
 *
 * A waiting LWP puts one SQE on its worker's ring (a one-shot poll, or an
 * accept or connect) whose user_data is its struct gpi_iowait, and
 * sleeps.  SQEs are not submitted one by one: the scheduler submits what
 * is queued when it runs out of LWPs or every SUBMIT_EVERY picks, so a
 * worker with a thousand connections parks them with a few system calls.
 * Completions are read from the CQ ring in user space between switches
 * (the kernel posts them without our asking; we do not set
 * IORING_SETUP_COOP_TASKRUN, which would hold them until our next
 * system call).
 *
 * An idle worker sleeps in io_uring_enter(GETEVENTS).  Another worker
 * wakes it with an IORING_OP_MSG_RING SQE on its own ring, which posts
 * a CQE on ours; a host thread, which has no ring, writes the worker's
 * eventfd, on which a read is always armed here.
 *
 * WARNING: the kernel writes into a gpi_iowait (and for accept into the
 * caller's sockaddr) until the CQE for it has been seen.  A wait is
 * therefore given back only by its CQE: cancellation submits an
 * ASYNC_CANCEL and then collects, blocking the worker for the moment the
 * kernel takes to cancel a poll (it is done inline), rather than letting
 * the LWP -- and its stack -- go.
 */
#include <liburing.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>

#include "internal.h"

#define RING_ENTRIES	1024		/* SQ; a full SQ is submitted */
#define RING_CQ_ENTRIES	16384		/* room for every connection's poll
					 * on a busy worker; overflow is kept
					 * by the kernel (FEAT_NODROP) */
#define SUBMIT_EVERY	16		/* a busy worker submits this often */

/*
 * user_data: a gpi_iowait (8-byte aligned), or one of ours, which have a
 * low bit set.  A MSG_RING's CQE comes back to its sender only if it
 * failed (CQE_SKIP_SUCCESS), tagged with the target worker, whose wake
 * then goes through the eventfd: a wake is never lost.
 */
#define TAG_IGNORE	1		/* a cancel's own CQE */
#define TAG_WAKEFD	2		/* the eventfd read completed */
#define TAG_MSG		3		/* another worker's MSG_RING */
#define TAG_MSGFAIL	4		/* | (target w_id << 3) */
#define TAG_MASK	7

struct uring {
	struct io_uring	 u_ring;
	unsigned	 u_unsubmitted;	/* (o) SQEs queued, not submitted */
	uint64_t	 u_wakebuf;	/* (o) the eventfd read's buffer */
	bool		 u_msg_ring;	/* (c) IORING_OP_MSG_RING works */
};

static inline struct uring *
U(struct gp_worker *w)
{
	return w->w_io;
}

/* A free SQE; a full SQ is submitted first. */
static struct io_uring_sqe *
sqe_get(struct uring *u)
{
	struct io_uring_sqe *sqe;

	while ((sqe = io_uring_get_sqe(&u->u_ring)) == NULL) {
		(void)io_uring_submit(&u->u_ring);
		u->u_unsubmitted = 0;
	}
	u->u_unsubmitted++;
	return sqe;
}

static void
arm_wakefd(struct gp_worker *w)
{
	struct uring *u = U(w);
	struct io_uring_sqe *sqe = sqe_get(u);

	io_uring_prep_read(sqe, w->w_wakefd, &u->u_wakebuf,
	    sizeof(u->u_wakebuf), 0);
	io_uring_sqe_set_data64(sqe, TAG_WAKEFD);
}

static void
submit(struct uring *u)
{
	if (u->u_unsubmitted > 0) {
		u->u_unsubmitted = 0;
		(void)io_uring_submit(&u->u_ring);
	}
}

int
gpi_uring_init(struct gp_worker *w)
{
	struct io_uring_params p;
	struct io_uring_probe *probe;
	struct uring *u;
	int error, i, fd;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return ENOMEM;
	if (GPI_FAILPT(GPI_FAIL_RING)) {
		free(u);
		return ENOMEM;
	}
	/*
	 * COOP_TASKRUN: a completion does not interrupt the running worker
	 * with an IPI to run its task work (that was a tenth of a loopback
	 * echo server's time); the work runs at the worker's next system
	 * call, and TASKRUN_FLAG tells us when one is due (uring_poll).
	 * Kernels before 5.19 refuse the flags: then without them.
	 */
	for (i = 0; i < 2; i++) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE | (i == 0 ?
		    IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG : 0);
		p.cq_entries = RING_CQ_ENTRIES;
		if ((error = -io_uring_queue_init_params(RING_ENTRIES,
		    &u->u_ring, &p)) != EINVAL)
			break;
	}
	if (error != 0) {
		free(u);
		return error;
	}
	/* The ring's descriptor is the runtime's (rtfd.c); it is mapped. */
	if ((fd = gpi_rtfd_dup(u->u_ring.ring_fd)) >= 0) {
		(void)GPI_LIBC(close)(u->u_ring.ring_fd);
		u->u_ring.ring_fd = u->u_ring.enter_ring_fd = fd;
	}
	if ((probe = io_uring_get_probe_ring(&u->u_ring)) != NULL) {
		u->u_msg_ring = io_uring_opcode_supported(probe,
		    IORING_OP_MSG_RING) && (p.features & IORING_FEAT_CQE_SKIP);
		io_uring_free_probe(probe);
	}
	w->w_io = u;
	arm_wakefd(w);
	submit(u);
	return 0;
}

/*
 * On (w)'s own thread, first thing: a wake read submitted by this thread.
 * NOTE: a worker's engine is made on another thread (gp_init's host
 * thread; the watchdog for a spare), so its first wake read was that
 * thread's.  The fuzzer found a spare, only ever woken by MSG_RING,
 * asleep through gp_shutdown's eventfd write for ever.  The likely
 * cause: completing a read that waited for data is task work of its
 * submitter, queued without an IPI (COOP_TASKRUN), and the watchdog,
 * its submitter, is asleep or gone (it is stopped first at
 * gp_shutdown).  A second read costs nothing: each completion re-arms
 * one, so both stay armed.
 */
void
gpi_uring_own_wake(struct gp_worker *w)
{
	arm_wakefd(w);
	submit(U(w));
}

void
gpi_uring_fini(struct gp_worker *w)
{
	struct uring *u = U(w);

	if (u == NULL)
		return;
	/* Ours to close: liburing's close(2) is the program's (fd.c). */
	(void)gpi_rtfd_close(u->u_ring.ring_fd);
	u->u_ring.ring_fd = u->u_ring.enter_ring_fd = -1;
	io_uring_queue_exit(&u->u_ring);
	free(u);
	w->w_io = NULL;
}

int
gpi_uring_arm(struct gp_worker *w, struct gpi_iowait *iw)
{
	struct io_uring_sqe *sqe = sqe_get(U(w));

	switch (iw->iw_op) {
	case GPI_IOOP_ACCEPT:
		io_uring_prep_accept(sqe, iw->iw_fd, iw->iw_addr,
		    iw->iw_addrlen, iw->iw_flags);
		break;
	case GPI_IOOP_CONNECT:
		io_uring_prep_connect(sqe, iw->iw_fd, iw->iw_addr, iw->iw_len);
		break;
	case GPI_IOOP_OPENAT:
		io_uring_prep_openat(sqe, iw->iw_fd, iw->iw_addr, iw->iw_flags,
		    (mode_t)iw->iw_mode);
		break;
	case GPI_IOOP_READV:
	case GPI_IOOP_WRITEV:
		/* An offset of -1 is the file position (FEAT_RW_CUR_POS). */
		if (iw->iw_op == GPI_IOOP_READV)
			io_uring_prep_readv2(sqe, iw->iw_fd, iw->iw_addr,
			    iw->iw_len, (__u64)iw->iw_off, iw->iw_flags);
		else
			io_uring_prep_writev2(sqe, iw->iw_fd, iw->iw_addr,
			    iw->iw_len, (__u64)iw->iw_off, iw->iw_flags);
		break;
	case GPI_IOOP_FSYNC:
		io_uring_prep_fsync(sqe, iw->iw_fd, iw->iw_flags != 0 ?
		    IORING_FSYNC_DATASYNC : 0);
		break;
	case GPI_IOOP_RECV:
		/* The kernel polls the socket itself and receives on wake-up. */
		io_uring_prep_recv(sqe, iw->iw_fd, iw->iw_addr, iw->iw_len,
		    iw->iw_flags);
		break;
	case GPI_IOOP_SEND:
		/* Likewise: polls for room and sends on wake-up. */
		io_uring_prep_send(sqe, iw->iw_fd, iw->iw_addr, iw->iw_len,
		    iw->iw_flags);
		break;
	default:
		io_uring_prep_poll_add(sqe, iw->iw_fd,
		    (unsigned)(unsigned short)iw->iw_events);
		break;
	}
	/*
	 * The file operations come here only when they would block: go
	 * straight to io-wq rather than let the kernel try inline first.
	 * That try would also run the buffered read's copy, and a fault on
	 * the caller's buffer (swapped out, userfaultfd), on this worker.
	 * For openat it would open a FIFO O_NONBLOCK, not waiting for its
	 * peer.
	 */
	if (iw->iw_op >= GPI_IOOP_OPENAT && iw->iw_op <= GPI_IOOP_FSYNC)
		sqe->flags |= IOSQE_ASYNC;
	io_uring_sqe_set_data(sqe, iw);
	return 0;
}

static void
complete(struct gp_worker *w, struct io_uring_cqe *cqe)
{
	uint64_t tag = cqe->user_data;

	if ((tag & TAG_MASK) == 0) {
		gpi_io_done((struct gpi_iowait *)(uintptr_t)tag, cqe->res);
		return;
	}
	/* A wake: being here is all it had to do. */
	if (tag == TAG_WAKEFD)
		arm_wakefd(w);
	else if ((tag & TAG_MASK) == TAG_MSGFAIL)
		(void)eventfd_write(gpi_rt.rt_workers[tag >> 3].w_wakefd, 1);
}

/* Handle every CQE in the ring; returns how many. */
static unsigned
reap(struct gp_worker *w)
{
	struct uring *u = U(w);
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	if (io_uring_cq_has_overflow(&u->u_ring))
		(void)io_uring_get_events(&u->u_ring);
	io_uring_for_each_cqe(&u->u_ring, head, cqe) {
		complete(w, cqe);
		n++;
	}
	io_uring_cq_advance(&u->u_ring, n);
	return n;
}

void
gpi_uring_cancel(struct gp_worker *w, struct gpi_iowait *iw)
{
	struct uring *u = U(w);
	struct io_uring_sqe *sqe = sqe_get(u);
	struct io_uring_cqe *cqe;

	io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)iw, 0);
	io_uring_sqe_set_data64(sqe, TAG_IGNORE);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	submit(u);
	/*
	 * The CQE of (iw) -- -ECANCELED, or its result if it won the race
	 * -- is usually posted by the submit itself.
	 */
	while (iw->iw_armed) {
		if (reap(w) == 0 && iw->iw_armed)
			(void)io_uring_wait_cqe(&u->u_ring, &cqe);
	}
}

void
gpi_uring_poll(struct gp_worker *w, bool idle)
{
	struct uring *u = U(w);

	if (u->u_unsubmitted > 0 && (idle || w->w_runq.q_head == NULL ||
	    w->w_tick % SUBMIT_EVERY == 0))
		submit(u);
	if (io_uring_cq_ready(&u->u_ring) > 0 ||
	    io_uring_cq_has_overflow(&u->u_ring)) {
		(void)reap(w);
	} else if ((IO_URING_READ_ONCE(*u->u_ring.sq.kflags) &
	    IORING_SQ_TASKRUN) && (idle || w->w_runq.q_head == NULL ||
	    w->w_tick % SUBMIT_EVERY == 0)) {
		/* Completions wait for a kernel entry: make one. */
		(void)io_uring_get_events(&u->u_ring);
		(void)reap(w);
	}
}

void
gpi_uring_idle(struct gp_worker *w, uint64_t deadline)
{
	struct uring *u = U(w);
	struct io_uring_cqe *cqe;
	struct __kernel_timespec ts;
	uint64_t now, left;

	u->u_unsubmitted = 0;
	if (deadline == 0) {
		(void)io_uring_submit_and_wait(&u->u_ring, 1);
	} else {
		now = gpi_now();
		left = deadline > now ? deadline - now : 0;
		ts.tv_sec = (long long)(left / 1000000000u);
		ts.tv_nsec = (long long)(left % 1000000000u);
		(void)io_uring_submit_and_wait_timeout(&u->u_ring, &cqe, 1,
		    &ts, NULL);
	}
	(void)reap(w);
}

/*
 * From a worker, post a CQE on (w)'s ring through our own: no eventfd
 * to read and rearm on the other side.  Returns false when the caller
 * must use the eventfd (a host thread, or no MSG_RING).
 */
bool
gpi_uring_wake(struct gp_worker *w)
{
	struct gp_worker *self = gpi_tls_worker;
	struct io_uring_sqe *sqe;
	struct uring *u;

	if (self == NULL || self == w || (u = U(self)) == NULL ||
	    !u->u_msg_ring)
		return false;
	sqe = sqe_get(u);
	io_uring_prep_msg_ring(sqe, U(w)->u_ring.ring_fd, 0, TAG_MSG, 0);
	io_uring_sqe_set_data64(sqe, TAG_MSGFAIL | ((uint64_t)w->w_id << 3));
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	submit(u);
	return true;
}
