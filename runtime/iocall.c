/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iocall.c -- the green I/O calls (gp_read, gp_recvmsg, gp_accept4,
 * gp_poll...): what a blocking system call means, rebuilt on the engine
 * of io.c.  On a host thread each is the plain call.
 *
 * The shape of every transfer: try the call in its non-blocking form
 * (MSG_DONTWAIT, or preadv2/pwritev2 with RWF_NOWAIT); if the kernel
 * says EAGAIN, park until the descriptor is ready and try again.  The
 * open file description is never touched: a program that shares a
 * blocking stdin with its shell leaves it blocking, and F_GETFL says
 * what it said before.  Readiness alone is never trusted (another
 * reader of a shared description may drain it first): only the
 * non-blocking attempt is.
 *
 * What the kernel would do, case by case (signal(7), socket(7)):
 *  - the description is O_NONBLOCK (the program's choice): EAGAIN, as
 *    natively; learned from F_GETFL the first time the call would block;
 *  - SO_RCVTIMEO/SO_SNDTIMEO: timed here (io_uring and MSG_DONTWAIT
 *    ignore them), EAGAIN when they run out, and never restarted;
 *  - a green signal while parked: its handlers run, then EINTR, or the
 *    call goes on if every handler had SA_RESTART (and the call is one
 *    the kernel restarts); a partial transfer returns its count instead;
 *  - a blocking write transfers everything (partial writes are looped
 *    over); a short read stays short;
 *  - EPIPE: the kernel's SIGPIPE (sent to the worker thread, which
 *    blocks it) is taken back and a green SIGPIPE is posted to the
 *    writer's process at the writer's own cancellation point;
 *  - a regular file or a block device has no readiness: the call goes
 *    to the worker's io_uring or the helper pool (iofile.c), never
 *    interrupted.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "internal.h"

#define NS_PER_MS	1000000ull
#define NS_PER_S	1000000000ull
#define POLL_STACK	16		/* gp_poll's waits on the stack */

/* What a transfer learned about its descriptor when it first blocked. */
struct blockinfo {
	bool		 bi_known;
	bool		 bi_nonblock;	/* O_NONBLOCK: EAGAIN is the answer */
	bool		 bi_plain;	/* no readiness: do the plain call */
	bool		 bi_timeo;	/* a socket timeout: never restart */
	uint64_t	 bi_deadline;	/* ... ending here (0: none) */
};

static uint64_t
ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * NS_PER_S + (uint64_t)ts->tv_nsec;
}

/* A file with no readiness (gpi_plain_mode): its calls go to iofile.c. */
static bool
plain_file(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && gpi_plain_mode(st.st_mode);
}

/*
 * First time a call would block on (fd): may it wait, and until when?
 * (out): a write, whose timeout is SO_SNDTIMEO (else SO_RCVTIMEO).  Two
 * or three system calls, on the path that is about to park anyway.  A
 * socket's whole answer (both timeouts, its type) is kept in fdinfo.c,
 * so that its next calls need none (know()).
 */
static int
learn(int fd, bool out, struct blockinfo *bi)
{
	struct timeval tv, other;
	socklen_t len = sizeof(tv);
	uint64_t ticket = gpi_fdinfo_begin(fd);	/* before the calls */
	unsigned bits = GPI_FDI_SOCK;
	int fl, type;

	bi->bi_known = true;
	if ((fl = GPI_LIBC(fcntl)(fd, F_GETFL)) < 0)
		return errno;
	bi->bi_nonblock = (fl & O_NONBLOCK) != 0;
	if (getsockopt(fd, SOL_SOCKET, out ? SO_SNDTIMEO : SO_RCVTIMEO, &tv,
	    &len) == 0) {
		if (tv.tv_sec != 0 || tv.tv_usec != 0) {
			bi->bi_timeo = true;
			bi->bi_deadline = gpi_now() + (uint64_t)tv.tv_sec *
			    NS_PER_S + (uint64_t)tv.tv_usec * 1000u;
		}
		if (ticket == 0)
			return 0;	/* not cached (fdinfo.c) */
		len = sizeof(other);
		if (getsockopt(fd, SOL_SOCKET, out ? SO_RCVTIMEO : SO_SNDTIMEO,
		    &other, &len) != 0)
			return 0;
		len = sizeof(type);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
			return 0;
		if (type == SOCK_STREAM)
			bits |= GPI_FDI_STREAM;
		len = sizeof(type);
		if (type == SOCK_STREAM && getsockopt(fd, SOL_SOCKET,
		    SO_PROTOCOL, &type, &len) == 0 && type == IPPROTO_TCP)
			bits |= GPI_FDI_TCP;
		if (bi->bi_nonblock)
			bits |= GPI_FDI_NONBLOCK;
		if (!bi->bi_timeo)
			bits |= out ? GPI_FDI_SND0 : GPI_FDI_RCV0;
		if (other.tv_sec == 0 && other.tv_usec == 0)
			bits |= out ? GPI_FDI_RCV0 : GPI_FDI_SND0;
		gpi_fdinfo_put(fd, ticket, bits);
		return 0;
	}
	if ((bi->bi_plain = plain_file(fd)) && ticket != 0)
		gpi_fdinfo_put(fd, ticket, GPI_FDI_PLAIN |
		    (bi->bi_nonblock ? GPI_FDI_NONBLOCK : 0));
	return 0;
}

/*
 * What learn() would say, from fdinfo.c's entry (fi) for (fd).  O_NONBLOCK
 * answers for any direction; a direction known to have no timeout needs
 * nothing more; a blocking socket with a timeout this way needs only its
 * value (one getsockopt: its deadline starts at each call).  Else learn.
 */
static int
know(int fd, unsigned fi, bool out, struct blockinfo *bi)
{
	struct timeval tv;
	socklen_t len = sizeof(tv);

	if (fi & GPI_FDI_PLAIN) {
		bi->bi_known = bi->bi_plain = true;
		bi->bi_nonblock = (fi & GPI_FDI_NONBLOCK) != 0;
		return 0;
	}
	if (!(fi & GPI_FDI_SOCK))
		return learn(fd, out, bi);
	bi->bi_known = true;
	if (fi & GPI_FDI_NONBLOCK) {
		bi->bi_nonblock = true;
		return 0;
	}
	if (fi & (out ? GPI_FDI_SND0 : GPI_FDI_RCV0))
		return 0;
	if (getsockopt(fd, SOL_SOCKET, out ? SO_SNDTIMEO : SO_RCVTIMEO, &tv,
	    &len) != 0)
		return learn(fd, out, bi);
	if (tv.tv_sec != 0 || tv.tv_usec != 0) {
		bi->bi_timeo = true;
		bi->bi_deadline = gpi_now() + (uint64_t)tv.tv_sec * NS_PER_S +
		    (uint64_t)tv.tv_usec * 1000u;
	}
	return 0;
}

/* Take (fp) off its descriptor's list, if (*parked) says it is on. */
static inline void
unpark(struct gpi_fdpark *fp, bool *parked)
{
	if (*parked) {
		gpi_fdpark_leave(fp);
		*parked = false;
	}
}

int
gpi_poll_now(struct pollfd *fds, nfds_t n)
{
	int r;

	while ((r = GPI_LIBC(poll)(fds, n, 0)) < 0 && errno == EINTR)
		;
	return r;
}

/*
 * A wait was interrupted: run the handlers (or die, if killed).  True
 * if the call may go on, as the kernel restarts it: no handler ran on
 * this thread (a stop and continue, or a signal another thread took), or
 * all had SA_RESTART and the call restarts.
 * WARNING: a handler may leave by siglongjmp, be cancelled, or park in
 * I/O of its own: the caller's registration on its descriptor (fd.c, on
 * the stack those would abandon) is taken off while handlers run, and
 * a close walked a freed one (glibc's tst-cancel20; gr_sigpark).  The
 * call then registers again under its number, as natively a restarted
 * call looks its descriptor up again.
 */
static bool
interrupted(bool restartable)
{
	struct gp_lwp *l = gpi_io_lwp();
	struct gpi_fdpark *fp = l != NULL ? l->l_fdpark : NULL;
	bool go_on;
	int fd = -1;

	if (fp != NULL) {
		fd = fp->fp_orig;
		gpi_fdpark_leave(fp);
	}
	go_on = gpi_userret_resume(l, restartable);
	if (fp != NULL)
		gpi_fdpark_enter(fp, fd);
	return go_on;
}

int (*gpi_tty_access_hook)(int, int) GPI_PASSDATA;

#define TTY_STOP_NS	(10 * 1000000ull)

/*
 * May the calling LWP make access (how, GPI_TTY_*) to terminal (fd)
 * now?  A background process's read of its controlling terminal, write
 * with TOSTOP set, or change of its settings sends its group SIGTTIN
 * (SIGTTOU) and waits until it is continued or a handler has run, as
 * the kernel's job control does at a call's start
 * (gpi_tty_access_hook).  Returns 0, EIO (an ignored
 * or blocked SIGTTIN, an orphaned group), or EINTR (a handler ran and
 * the call does not restart).  *stopped: a signal was sent.
 */
static int
tty_access(int fd, int how, bool restartable, bool *stopped)
{
	struct gp_lwp *l = gpi_io_lwp();
	int r;

	*stopped = false;
	while (gpi_tty_access_hook != NULL && l != NULL &&
	    (r = gpi_tty_access_hook(fd, how)) != 0) {
		if (r > 0)
			return r;
		*stopped = true;
		/* The host stops meanwhile, or the handler's signal ends it. */
		if (gpi_tsleep(stopped, NULL, 0, GPI_PCATCH, gpi_now() +
		    TTY_STOP_NS) == EINTR && !interrupted(restartable))
			return EINTR;
	}
	return 0;
}

int
gpi_tty_check(int fd, int how, bool restartable)
{
	bool stopped;

	return tty_access(fd, how, restartable, &stopped);
}

/*
 * Park until (fd) is ready for (events) or (deadline).  Returns 0 (try
 * again), ETIMEDOUT, EINTR (not to be restarted), or the error the
 * engine got for the descriptor (EBADF...).
 */
static int
fdwait_v(int fd, short events, uint64_t deadline, bool restartable,
    unsigned etver)
{
	struct gpi_iowait iw = { .iw_fd = fd, .iw_events = events,
	    .iw_op = GPI_IOOP_POLL, .iw_etver = etver };
	int error;

	error = gpi_io_wait(&iw, 1, deadline, GPI_PCATCH);
	if (error == 0)
		return iw.iw_res < 0 ? -iw.iw_res : 0;
	if (error == EINTR && interrupted(restartable))
		return 0;
	return error;
}

static int
fdwait(int fd, short events, uint64_t deadline, bool restartable)
{
	return fdwait_v(fd, events, deadline, restartable, 0);
}

/*
 * A read or write of a socket on io_uring: rather than a poll and then
 * the recv or send, one IORING_OP_RECV or IORING_OP_SEND (op), which
 * the kernel completes with the transfer (it polls the socket itself
 * and moves the data on wake-up).  Returns 0 with the count in *got, or
 * an error as fdwait does (EPIPE included, for the caller's SIGPIPE;
 * and EAGAIN if the description turned O_NONBLOCK meanwhile: io_uring
 * honours it, as the native call would).  The buffer is the kernel's
 * until the wait is given back: gpi_io_wait cancels and collects before
 * it returns (a killed LWP's stack is reused only after that), and a
 * transfer that completed in the race still counts (done, not EINTR).
 * A send is MSG_NOSIGNAL: SIGPIPE is the writer's, posted by the caller.
 */
static int
xferwait(int op, int fd, void *buf, size_t n, uint64_t deadline,
    bool restartable, ssize_t *got)
{
	struct gpi_iowait iw = { .iw_fd = fd, .iw_op = op, .iw_addr = buf,
	    .iw_len = n > (1u << 30) ? 1u << 30 : (socklen_t)n,
	    .iw_flags = op == GPI_IOOP_SEND ? MSG_NOSIGNAL : 0 };
	int error;

	*got = -1;
	error = gpi_io_wait(&iw, 1, deadline, GPI_PCATCH);
	if (error == 0) {
		if (iw.iw_res >= 0) {
			*got = iw.iw_res;
			return 0;
		}
		return -iw.iw_res;
	}
	if (error == EINTR && interrupted(restartable))
		return 0;
	return error;
}

/*
 * The kernel raised SIGPIPE on the worker thread, where it is blocked:
 * take it back, and post the green one to the writer's process, unless
 * the caller said MSG_NOSIGNAL.
 */
static void
broken_pipe(bool signal_it)
{
	sigset_t set;
	struct timespec zero = { 0, 0 };
	struct gp_proc *p = gpi_curproc();

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	(void)sigtimedwait(&set, NULL, &zero);
	if (signal_it) {
		gpi_psignal(p, __atomic_load_n(&p->p_pid, __ATOMIC_RELAXED),
		    SIGPIPE);
		gpi_userret();
	}
}

void
gpi_io_epipe(void)
{
	broken_pipe(true);
}

/* ------------------------------------------------------------ transfers */

enum xfer_op { X_READ, X_WRITE, X_RECVMSG, X_SENDMSG };

struct xfer {
	enum xfer_op	 x_op;
	int		 x_fd;
	int		 x_flags;	/* recvmsg/sendmsg flags */
	bool		 x_sock;	/* read/write as recv/send (below) */
	bool		 x_direct;	/* the plain call, on the worker */
	struct msghdr	*x_msg;		/* its iov is ours to advance */
};

/*
 * One try.  read and write on a socket known to fdinfo.c (x_sock) are
 * the recv and send they mean (sock_read_iter and sock_write_iter do
 * exactly that), which skip preadv2's file-position lock and iovec
 * import: x_sock is set for a read on any socket and a write on a
 * stream only (write on SOCK_SEQPACKET adds MSG_EOR), never for zero
 * bytes (a zero-length recv would take a datagram).
 */
static ssize_t
attempt(struct xfer *x, bool nowait)
{
	struct msghdr *m = x->x_msg;

	switch (x->x_op) {
	/* Not nowait: no readiness (a file) or past it (a tty): iofile.c. */
	case X_READ:
		if (x->x_sock)
			return m->msg_iovlen == 1 ? GPI_LIBC(recvfrom)(x->x_fd,
			    m->msg_iov->iov_base, m->msg_iov->iov_len,
			    MSG_DONTWAIT, NULL, NULL) :
			    GPI_LIBC(recvmsg)(x->x_fd, m, MSG_DONTWAIT);
		if (x->x_direct)
			return preadv2(x->x_fd, m->msg_iov, (int)m->msg_iovlen,
			    -1, 0);
		return nowait ? preadv2(x->x_fd, m->msg_iov,
		    (int)m->msg_iovlen, -1, RWF_NOWAIT) :
		    gpi_file_rw(false, x->x_fd, m->msg_iov, (int)m->msg_iovlen,
		    -1);
	case X_WRITE:
		if (x->x_sock)
			return m->msg_iovlen == 1 ? GPI_LIBC(sendto)(x->x_fd,
			    m->msg_iov->iov_base, m->msg_iov->iov_len,
			    MSG_DONTWAIT | MSG_NOSIGNAL, NULL, 0) :
			    GPI_LIBC(sendmsg)(x->x_fd, m,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (x->x_direct)
			return pwritev2(x->x_fd, m->msg_iov,
			    (int)m->msg_iovlen, -1, 0);
		return nowait ? pwritev2(x->x_fd, m->msg_iov,
		    (int)m->msg_iovlen, -1, RWF_NOWAIT) :
		    gpi_file_rw(true, x->x_fd, m->msg_iov, (int)m->msg_iovlen,
		    -1);
	case X_RECVMSG:
		return GPI_LIBC(recvmsg)(x->x_fd, m, x->x_flags |
		    (nowait ? MSG_DONTWAIT : 0));
	case X_SENDMSG:
		return GPI_LIBC(sendmsg)(x->x_fd, m, x->x_flags |
		    MSG_NOSIGNAL | (nowait ? MSG_DONTWAIT : 0));
	}
	return -1;
}

/* Drop (n) bytes from the front of the message's iov (a partial write). */
static void
iov_advance(struct msghdr *m, size_t n)
{
	while (n > 0 && m->msg_iovlen > 0) {
		if (n < m->msg_iov->iov_len) {
			m->msg_iov->iov_base = (char *)m->msg_iov->iov_base + n;
			m->msg_iov->iov_len -= n;
			return;
		}
		n -= m->msg_iov->iov_len;
		m->msg_iov++;
		m->msg_iovlen--;
	}
}

static size_t
iov_total(const struct iovec *iov, size_t n)
{
	size_t t = 0;

	while (n-- > 0)
		t += (iov++)->iov_len;
	return t;
}

#define RD_WROTE	(1ull << 63)	/* l_rdrained: its last transfer was a
					 * write to a socket (the version is
					 * 24 bits: the bit is free) */

/* A transfer on a socket other than a TCP read: was it a write? */
static void
wrote(struct gp_lwp *l, bool out)
{
	if (l != NULL)
		l->l_rdrained = out ? l->l_rdrained | RD_WROTE :
		    l->l_rdrained & ~RD_WROTE;
}

/*
 * io_uring: note whether a read of (r) bytes of (want) on a blocking TCP
 * socket emptied it, for the LWP's next read there (l_rdrained).  A
 * short read of TCP stops only at an empty receive queue or an urgent
 * mark (at worst a wrong guess); EOF or a full read clears the note.
 * Not on a twin left by a close while parked: its number is not the
 * file's.
 */
static void
rdrained(struct gp_lwp *l, struct xfer *x, struct gpi_fdpark *fp,
    bool parked, unsigned ver, ssize_t r, size_t want)
{
	if (l == NULL || gpi_ioengine != GPI_IO_URING)
		return;
	l->l_rdrained = r > 0 && (size_t)r < want &&
	    (!parked || gpi_fdpark_fd(fp) == fp->fp_orig) ?
	    (uint64_t)ver << 32 | (uint32_t)x->x_fd : 0;
}

/*
 * One green transfer on an LWP.  A write on a blocking description goes
 * on until every byte is taken, as write(2) does; everything else returns
 * what the first successful attempt gave.
 *
 * The path of a read that finds nothing: the attempt (EAGAIN); what the
 * kernel would do (fdinfo.c's entry for a socket seen before, else
 * learn()); registration with fd.c; the wait; the attempt again.
 */
static ssize_t
xfer(struct xfer *x)
{
	bool out = x->x_op == X_WRITE || x->x_op == X_SENDMSG;
	bool sock = x->x_op == X_RECVMSG || x->x_op == X_SENDMSG;
	bool caller_nowait = sock && (x->x_flags & MSG_DONTWAIT);
	bool nowait = true, whole = out, parked = false, tcp_read;
	bool file_short = false;	/* a file's read stopped short */
	struct gp_lwp *l = gpi_io_lwp();
	struct blockinfo bi = { 0 };
	struct gpi_fdpark fp;
	size_t want = iov_total(x->x_msg->msg_iov, x->x_msg->msg_iovlen);
	unsigned ver, fi = gpi_fdinfo_getv(x->x_fd, &ver);
	ssize_t r, done = 0;
	int error, saved_errno = errno;	/* a success leaves errno alone */
	bool skip, tty = false, stopped;

	/*
	 * A plain file whose writes refuse RWF_NOWAIT: straight to the ring
	 * (or, O_NONBLOCK, the plain call: iofile.c's ring would say
	 * EAGAIN), with nothing asked that fdinfo.c already knows.
	 */
	if (x->x_op == X_WRITE && (fi & GPI_FDI_NOWAITW)) {
		(void)know(x->x_fd, fi, out, &bi);
		nowait = false;
		x->x_direct = bi.bi_nonblock;
	}
	/* A file of procfs or sysfs: the plain call, here (iofile.c). */
	if (!sock && (fi & GPI_FDI_PSEUDO)) {
		nowait = false;
		x->x_direct = true;
	}

	if (l != NULL)
		gpi_testcancel_l(l);	/* a cancellation point */
	x->x_sock = !sock && want > 0 && (fi & GPI_FDI_SOCK) &&
	    (x->x_op == X_READ || (fi & GPI_FDI_STREAM));
	/* A read of a blocking TCP socket with no receive timeout. */
	tcp_read = x->x_sock && x->x_op == X_READ && (fi & (GPI_FDI_TCP |
	    GPI_FDI_NONBLOCK | GPI_FDI_RCV0)) == (GPI_FDI_TCP | GPI_FDI_RCV0);
	/*
	 * A blocking TCP socket that the last read emptied would most
	 * likely say EAGAIN: park at once, as a native read sleeps without
	 * a second look.  epoll: the last read of this worker, with no
	 * readiness since (ioepoll.c); then it surely would.  io_uring:
	 * the last read of this LWP (l_rdrained); the IORING_OP_RECV it
	 * parks in tries the socket before it polls, so data that came
	 * meanwhile is read at once -- the request/response case saves its
	 * EAGAIN system call, and a wrong guess costs a park, not a read.
	 */
	skip = tcp_read && (gpi_ioengine == GPI_IO_EPOLL ?
	    gpi_epoll_drained(x->x_fd, ver) : gpi_ioengine == GPI_IO_URING &&
	    l != NULL && x->x_msg->msg_iovlen == 1 && (l->l_rdrained &
	    ~RD_WROTE) == ((uint64_t)ver << 32 | (uint32_t)x->x_fd));
	/*
	 * io_uring: a write of one buffer to a blocking stream socket with
	 * no send timeout goes to the ring as it is (IORING_OP_SEND), not
	 * through sendto first.  The kernel sends at submission, inline,
	 * what a sendto would have sent (with room, all of it), and the
	 * worker submits the SQEs of all the LWPs it ran since its last
	 * look in one io_uring_enter: a busy server's sends cost a share of
	 * one system call, not one each.  A signal cannot make it EINTR
	 * where the native call would not: a cancel is submitted behind the
	 * send, which has then been tried (xferwait).
	 *
	 * Only for a reply: the LWP's last transfer was a read (RD_WROTE
	 * clear), and other LWPs are runnable here, whose sends may share
	 * the submission.  A thread that writes again and again (a bulk
	 * writer, a broadcaster) would pay a park, a submission and a
	 * switch back for each write, and its reader, woken for each, one
	 * read each, where sendto is one system call and lets the socket
	 * fill (64-byte writes to TCP, 1 worker: 5.1 us a write against 1.5
	 * sendto first, 2.9 natively).
	 */
	if (x->x_sock && x->x_op == X_WRITE && gpi_ioengine == GPI_IO_URING &&
	    l != NULL && x->x_msg->msg_iovlen == 1 && (fi & (GPI_FDI_STREAM |
	    GPI_FDI_NONBLOCK | GPI_FDI_SND0)) == (GPI_FDI_STREAM |
	    GPI_FDI_SND0) && !(l->l_rdrained & RD_WROTE) &&
	    (l->l_worker->w_runnext != NULL ||
	    l->l_worker->w_runq.q_head != NULL))
		skip = true;
	for (;;) {
		if (parked)
			x->x_fd = gpi_fdpark_fd(&fp);
		if (skip) {
			skip = false;
			r = -1;
			errno = EAGAIN;
		} else {
			r = attempt(x, nowait);
		}
		/*
		 * A short read of TCP emptied the receive queue (it stops
		 * short only there, or at an urgent mark, which ioepoll.c
		 * sees as EPOLLPRI).  Not AF_UNIX: a read there also stops
		 * at a change of sender credentials or passed descriptors,
		 * with data behind them.
		 */
		if (r > 0 && (size_t)r < want && x->x_sock &&
		    x->x_op == X_READ && (fi & GPI_FDI_TCP) &&
		    gpi_ioengine == GPI_IO_EPOLL &&
		    (!parked || gpi_fdpark_fd(&fp) == fp.fp_orig))
			gpi_epoll_set_drained(x->x_fd, ver);	/* a short read */
		if (r >= 0 && tcp_read)
			rdrained(l, x, &fp, parked, ver, r, want);
		else if (r >= 0 && x->x_sock)
			wrote(l, out);
		if (r >= 0) {
			done += r;
			/*
			 * RWF_NOWAIT stopped short on a file: at its end, or
			 * at a page not in the page cache.  The rest is read
			 * as a file read blocks, to the end (iofile.c, prw):
			 * first RWF_NOWAIT again, whose 0 is the end (a read
			 * to the end of a cached file took the ring's hand-off
			 * for its last call) and whose EAGAIN is a page to
			 * wait for (below: the ring).  A pipe's short read is
			 * its answer.
			 */
			if (r > 0 && (size_t)done < want && nowait &&
			    x->x_op == X_READ && !x->x_sock &&
			    (file_short || (fi & GPI_FDI_PLAIN) ||
			    plain_file(x->x_fd))) {
				file_short = true;
				iov_advance(x->x_msg, (size_t)r);
				continue;
			}
			if (!whole || (size_t)done >= want || r == 0 ||
			    (bi.bi_nonblock && !bi.bi_plain))
				break;
			iov_advance(x->x_msg, (size_t)r);
			continue;
		}
		error = errno;
		/*
		 * A terminal past its readiness says EIO (or, from the ring,
		 * EINVAL) to a process that went to the background while it
		 * waited: job control again, as at the start.
		 */
		if (tty && (error == EIO || error == EINVAL) && done == 0) {
			int was = error;

			if ((error = tty_access(x->x_fd, out ? GPI_TTY_WRITE :
			    GPI_TTY_READ, true, &stopped)) != 0)
				goto fail;
			if (stopped)
				continue;
			error = was;
		}
		if (error == ENOTSOCK && x->x_sock) {
			/* The number was reused behind the preload (fdinfo.c). */
			gpi_fdinfo_forget(x->x_fd);
			x->x_sock = false;
			fi = 0;
			bi = (struct blockinfo){ 0 };
			continue;
		}
		if (error == EPIPE && out) {
			/* Its handler runs unregistered (interrupted()). */
			unpark(&fp, &parked);
			broken_pipe(!(sock && (x->x_flags & MSG_NOSIGNAL)));
			goto fail;
		}
		if (error == EOPNOTSUPP && !sock && nowait) {
			/*
			 * No RWF_NOWAIT here (a tty): wait, then the plain
			 * call.  On an O_NONBLOCK description the plain call
			 * cannot block and EAGAIN is the answer: it is made
			 * here, on the worker (io_uring would park it until
			 * the tty is ready, and a pty master with nothing to
			 * read waited for ever).  A plain file (ext4's
			 * buffered writes) has no readiness to wait for: the
			 * ring, and fdinfo.c keeps that for its next writes.
			 */
			nowait = false;
			if (!bi.bi_known &&
			    (error = know(x->x_fd, fi, out, &bi)) != 0)
				goto fail;
			x->x_direct = bi.bi_nonblock;
			if (bi.bi_plain) {
				if (gpi_file_refused(x->x_fd, out) &
				    GPI_FDI_PSEUDO)
					x->x_direct = true;
				continue;
			}
			/* Job control first, O_NONBLOCK or not (a tty). */
			tty = true;
			if ((error = tty_access(x->x_fd, out ? GPI_TTY_WRITE :
			    GPI_TTY_READ, true, &stopped)) != 0 ||
			    (!bi.bi_nonblock && (error = fdwait(x->x_fd,
			    out ? POLLOUT : POLLIN, 0, true)) != 0))
				goto fail;
			continue;
		}
		if (error == EBADF && parked && gpi_fdpark_fd(&fp) != x->x_fd)
			continue;	/* closed under us: now on its twin */
		if (error != EAGAIN || caller_nowait)
			goto fail;
		if (!bi.bi_known && (error = know(x->x_fd, fi, out, &bi)) != 0)
			goto fail;
		/*
		 * Before O_NONBLOCK: a file's reads and writes wait for the
		 * disk whatever its flags say (open(2)), where EAGAIN was
		 * returned for a page not cached.
		 */
		if (bi.bi_plain && (nowait || !bi.bi_nonblock)) {
			nowait = false;
			continue;
		}
		if (bi.bi_nonblock) {
			error = EAGAIN;
			goto fail;
		}
		if (!parked) {
			/*
			 * From here a close() hands us the open file (fd.c).
			 * A close between the attempt and this is a close
			 * before the call: the EAGAIN changed nothing, and the
			 * wait then says EBADF or waits on the new file.
			 */
			gpi_fdpark_enter(&fp, x->x_fd);
			parked = true;
		}
		if (x->x_sock && x->x_msg->msg_iovlen == 1 &&
		    gpi_ioengine == GPI_IO_URING) {
			error = xferwait(out ? GPI_IOOP_SEND : GPI_IOOP_RECV,
			    gpi_fdpark_fd(&fp), x->x_msg->msg_iov->iov_base,
			    x->x_msg->msg_iov->iov_len, bi.bi_deadline,
			    !bi.bi_timeo && done == 0, &r);
			if (error == 0 && r >= 0) {
				if (tcp_read)
					rdrained(l, x, &fp, parked, ver, r,
					    want);
				else
					wrote(l, out);
				done += r;
				/* A write goes on until all is sent. */
				if (!out || (size_t)done >= want || r == 0)
					break;
				iov_advance(x->x_msg, (size_t)r);
				continue;
			}
			if (error == EPIPE && out) {
				unpark(&fp, &parked);
				broken_pipe(true);
				goto fail;
			}
			if (error == ENOTSOCK) {
				/* Reused behind the preload since the attempt. */
				gpi_fdinfo_forget(x->x_fd);
				x->x_sock = false;
				continue;
			}
		} else {
			/*
			 * A known socket still under its number: the attempt
			 * just said EAGAIN, so a standing epoll registration
			 * may serve the wait.
			 */
			error = fdwait_v(gpi_fdpark_fd(&fp), out ? POLLOUT :
			    POLLIN, bi.bi_deadline, !bi.bi_timeo && done == 0,
			    (fi & GPI_FDI_SOCK) && gpi_fdpark_fd(&fp) ==
			    fp.fp_orig ? ver : 0);
		}
		if (error == ETIMEDOUT)
			error = EAGAIN;
		if (error == EBADF && gpi_fdpark_fd(&fp) != x->x_fd)
			continue;
		if (error != 0)
			goto fail;
	}
	unpark(&fp, &parked);
	errno = saved_errno;
	return done;
fail:
	unpark(&fp, &parked);
	if (done > 0) {
		errno = saved_errno;
		return done;
	}
	errno = error;
	return -1;
}

/* Copy of the caller's iov that a partial write may advance. */
#define IOV_STACK	8

static ssize_t
xfer_iov(enum xfer_op op, int fd, const struct iovec *iov, int cnt,
    struct msghdr *msg, int flags)
{
	struct iovec stk[IOV_STACK], *mine = stk;
	struct msghdr m;
	struct xfer x = { .x_op = op, .x_fd = fd, .x_flags = flags };
	ssize_t r;

	if (msg != NULL) {
		m = *msg;
		iov = msg->msg_iov;
		cnt = (int)msg->msg_iovlen;
	} else {
		memset(&m, 0, sizeof(m));
	}
	if (cnt < 0 || cnt > IOV_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (cnt > IOV_STACK && (mine = malloc((size_t)cnt *
	    sizeof(*mine))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (cnt > 0)
		memcpy(mine, iov, (size_t)cnt * sizeof(*mine));
	m.msg_iov = mine;
	m.msg_iovlen = (size_t)cnt;
	x.x_msg = &m;
	r = xfer(&x);
	gpi_sigpoint_io();	/* as the kernel on its way out */
	if (msg != NULL && r >= 0) {
		/* What recvmsg reports back. */
		msg->msg_namelen = m.msg_namelen;
		msg->msg_controllen = m.msg_controllen;
		msg->msg_flags = m.msg_flags;
	}
	if (mine != stk)
		free(mine);
	return r;
}

/*
 * The host-thread path of read and write is the plain call, and must
 * cost no more than a thread-local load: everything else (the green
 * path, resolving the real function the first time) is kept out of line
 * so that the host path is two loads, two tests and a tail call.
 */
static GPI_PASSTEXT __attribute__((noinline)) ssize_t
slow_rw(enum xfer_op op, int fd, const void *buf, size_t n)
{
	struct iovec iov = { (void *)(uintptr_t)buf, n };

	if (gpi_io_lwp() == NULL)
		return op == X_READ ? GPI_LIBC(read)(fd, (void *)(uintptr_t)buf,
		    n) : GPI_LIBC(write)(fd, buf, n);
	return xfer_iov(op, fd, &iov, 1, NULL, 0);
}

static GPI_PASSTEXT __attribute__((noinline)) ssize_t
slow_rwv(enum xfer_op op, int fd, const struct iovec *iov, int cnt)
{
	if (gpi_io_lwp() == NULL)
		return op == X_READ ? GPI_LIBC(readv)(fd, iov, cnt) :
		    GPI_LIBC(writev)(fd, iov, cnt);
	return xfer_iov(op, fd, iov, cnt, NULL, 0);
}

/* The real function if it is resolved and we are a host thread. */
#define HOST_FAST(name)	(likely(GPI_LIBC_PEEK(name) != NULL &&		\
			    gpi_io_lwp() == NULL))

ssize_t
gp_read(int fd, void *buf, size_t n)
{
	if (HOST_FAST(read))
		return GPI_LIBC_PEEK(read)(fd, buf, n);
	return slow_rw(X_READ, fd, buf, n);
}

ssize_t
gp_write(int fd, const void *buf, size_t n)
{
	if (HOST_FAST(write))
		return GPI_LIBC_PEEK(write)(fd, buf, n);
	return slow_rw(X_WRITE, fd, buf, n);
}

ssize_t
gp_readv(int fd, const struct iovec *iov, int cnt)
{
	if (HOST_FAST(readv))
		return GPI_LIBC_PEEK(readv)(fd, iov, cnt);
	return slow_rwv(X_READ, fd, iov, cnt);
}

ssize_t
gp_writev(int fd, const struct iovec *iov, int cnt)
{
	if (HOST_FAST(writev))
		return GPI_LIBC_PEEK(writev)(fd, iov, cnt);
	return slow_rwv(X_WRITE, fd, iov, cnt);
}

ssize_t
gp_recvmsg(int fd, struct msghdr *msg, int flags)
{
	if (HOST_FAST(recvmsg))
		return GPI_LIBC_PEEK(recvmsg)(fd, msg, flags);
	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(recvmsg)(fd, msg, flags);
	if (msg == NULL) {
		errno = EFAULT;
		return -1;
	}
	return xfer_iov(X_RECVMSG, fd, NULL, 0, msg, flags);
}

ssize_t
gp_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct msghdr m;

	if (HOST_FAST(sendmsg))
		return GPI_LIBC_PEEK(sendmsg)(fd, msg, flags);
	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(sendmsg)(fd, msg, flags);
	if (msg == NULL) {
		errno = EFAULT;
		return -1;
	}
	m = *msg;
	return xfer_iov(X_SENDMSG, fd, NULL, 0, &m, flags);
}

ssize_t
gp_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
    socklen_t *addrlen)
{
	struct iovec iov = { buf, n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (HOST_FAST(recvfrom))
		return GPI_LIBC_PEEK(recvfrom)(fd, buf, n, flags, addr, addrlen);
	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(recvfrom)(fd, buf, n, flags, addr, addrlen);
	if (addr != NULL && addrlen != NULL) {
		m.msg_name = addr;
		m.msg_namelen = *addrlen;
	}
	r = xfer_iov(X_RECVMSG, fd, NULL, 0, &m, flags);
	if (r >= 0 && addr != NULL && addrlen != NULL)
		*addrlen = m.msg_namelen;
	return r;
}

ssize_t
gp_sendto(int fd, const void *buf, size_t n, int flags,
    const struct sockaddr *addr, socklen_t addrlen)
{
	struct iovec iov = { (void *)(uintptr_t)buf, n };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_name = (void *)(uintptr_t)addr, .msg_namelen = addrlen };

	if (HOST_FAST(sendto))
		return GPI_LIBC_PEEK(sendto)(fd, buf, n, flags, addr, addrlen);
	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(sendto)(fd, buf, n, flags, addr, addrlen);
	return xfer_iov(X_SENDMSG, fd, NULL, 0, &m, flags);
}

ssize_t
gp_recv(int fd, void *buf, size_t n, int flags)
{
	if (HOST_FAST(recvfrom))
		return GPI_LIBC_PEEK(recvfrom)(fd, buf, n, flags, NULL, NULL);
	return gp_recvfrom(fd, buf, n, flags, NULL, NULL);
}

ssize_t
gp_send(int fd, const void *buf, size_t n, int flags)
{
	if (HOST_FAST(sendto))
		return GPI_LIBC_PEEK(sendto)(fd, buf, n, flags, NULL, 0);
	return gp_sendto(fd, buf, n, flags, NULL, 0);
}

/*
 * recvmmsg/sendmmsg: the first message waits as recvmsg/sendmsg would,
 * the rest are taken only if they need no wait (what the kernel does
 * for recvmmsg with MSG_WAITFORONE; without it the kernel would block
 * for all vlen, which no server relies on).
 */
int
gp_recvmmsg(int fd, struct mmsghdr *v, unsigned vlen, int flags,
    struct timespec *timeout)
{
	ssize_t r;
	int n;

	if (gpi_io_lwp() == NULL || (flags & MSG_DONTWAIT))
		return GPI_LIBC(recvmmsg)(fd, v, vlen, flags, timeout);
	if (vlen == 0)
		return 0;
	if ((r = gp_recvmsg(fd, &v[0].msg_hdr, flags & ~MSG_WAITFORONE)) < 0)
		return -1;
	v[0].msg_len = (unsigned)r;
	if (vlen == 1)
		return 1;
	n = GPI_LIBC(recvmmsg)(fd, v + 1, vlen - 1, flags | MSG_DONTWAIT,
	    NULL);
	return n > 0 ? n + 1 : 1;
}

int
gp_sendmmsg(int fd, struct mmsghdr *v, unsigned vlen, int flags)
{
	unsigned i;
	ssize_t r;

	if (gpi_io_lwp() == NULL || (flags & MSG_DONTWAIT))
		return GPI_LIBC(sendmmsg)(fd, v, vlen, flags);
	for (i = 0; i < vlen; i++) {
		if ((r = gp_sendmsg(fd, &v[i].msg_hdr, flags)) < 0)
			return i > 0 ? (int)i : -1;
		v[i].msg_len = (unsigned)r;
	}
	return (int)vlen;
}

/* ------------------------------------------------------------ sockets */

/*
 * accept and connect have no non-blocking form that leaves the
 * description alone.  On io_uring the kernel does them for us
 * (IORING_OP_ACCEPT/CONNECT, one connection per waiting LWP).  On epoll,
 * accept waits for readiness and checks it again, with no switch in
 * between, right before the plain call: LWPs of one worker never race,
 * but an acceptor on another thread may still take the connection first
 * and leave this worker blocked until the next one (docs: limits).
 */
static int
accept_green(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	struct gpi_iowait iw = { .iw_fd = fd, .iw_op = GPI_IOOP_ACCEPT,
	    .iw_addr = addr, .iw_addrlen = addrlen, .iw_flags = flags };
	struct blockinfo bi = { 0 };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int error;

	if ((error = know(fd, gpi_fdinfo_get(fd), false, &bi)) != 0)
		goto fail;
	if (bi.bi_nonblock)
		return GPI_LIBC(accept4)(fd, addr, addrlen, flags);
	for (;;) {
		if (gpi_ioengine == GPI_IO_URING) {
			error = gpi_io_wait(&iw, 1, bi.bi_deadline, GPI_PCATCH);
			if (error == 0 && iw.iw_res >= 0)
				return iw.iw_res;
			if (error == 0)
				error = -iw.iw_res;
			else if (error == EINTR && !bi.bi_timeo &&
			    interrupted(true))
				continue;
		} else {
			if (gpi_poll_now(&pfd, 1) != 0)
				return GPI_LIBC(accept4)(fd, addr, addrlen,
				    flags);
			error = fdwait(fd, POLLIN, bi.bi_deadline, !bi.bi_timeo);
			if (error == 0)
				continue;
		}
		if (error == ETIMEDOUT)
			error = EAGAIN;
		goto fail;
	}
fail:
	errno = error;
	return -1;
}

/* The connection belongs to the accepting green process (fd.c). */
int
gp_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	int s;

	if (gpi_io_lwp() == NULL) {
		if ((s = GPI_LIBC(accept4)(fd, addr, addrlen, flags)) >= 0)
			gpi_fdinfo_forget(s);
		return s;
	}
	if ((s = accept_green(fd, addr, addrlen, flags)) >= 0)
		gpi_fd_opened(s);	/* and forgets the number's past */
	return s;
}

int
gp_accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return gp_accept4(fd, addr, addrlen, 0);
}

/*
 * An interrupted connect whose thread ran no handler (a signal another
 * thread took, a stop and continue) goes on, as natively it never
 * stopped: the kernel kept the handshake going when the ring's connect
 * was cancelled, and a second connect would only say EALREADY.  So wait
 * for the socket to be writable, as a caller of a non-blocking connect
 * does, and answer with its SO_ERROR.  The deadline (SO_SNDTIMEO) still
 * ends it with EINPROGRESS, and a later signal is taken as the first was
 * (restartable).
 */
static int
connect_goes_on(int fd, uint64_t deadline, bool restartable)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int error, soerr;

	for (;;) {
		if (gpi_poll_now(&pfd, 1) > 0)
			return getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
			    &len) != 0 ? errno : soerr;
		if ((error = fdwait(fd, POLLOUT, deadline, restartable)) != 0)
			return error == ETIMEDOUT ? EINPROGRESS : error;
	}
}

/*
 * connect(2) on a blocking socket.  io_uring connects for us.  On epoll
 * the plain call runs on the worker: immediate for loopback and for a
 * refused port, a round trip for a remote host (docs: limits).
 * Interrupted by a handler of this thread, it says EINTR and the
 * connection goes on in the kernel, as connect(2) does; by a signal
 * that ran no handler here, or by SA_RESTART handlers on a socket with
 * no SO_SNDTIMEO (signal(7): the kernel restarts it, and the restarted
 * call waits for the handshake under way), it waits on
 * (connect_goes_on).
 */
int
gp_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct gpi_iowait iw = { .iw_fd = fd, .iw_op = GPI_IOOP_CONNECT,
	    .iw_addr = (void *)(uintptr_t)addr, .iw_len = len };
	struct blockinfo bi = { 0 };
	int error;

	if (gpi_io_lwp() == NULL || gpi_ioengine != GPI_IO_URING)
		return GPI_LIBC(connect)(fd, addr, len);
	if ((error = know(fd, gpi_fdinfo_get(fd), true, &bi)) != 0)
		goto fail;
	if (bi.bi_nonblock)
		return GPI_LIBC(connect)(fd, addr, len);
	error = gpi_io_wait(&iw, 1, bi.bi_deadline, GPI_PCATCH);
	if (error == 0) {
		if (iw.iw_res == 0)
			return 0;
		error = -iw.iw_res;
	} else if (error == EINTR) {
		if (interrupted(!bi.bi_timeo) && (error = connect_goes_on(fd,
		    bi.bi_deadline, !bi.bi_timeo)) == 0)
			return 0;
	} else if (error == ETIMEDOUT) {
		error = EINPROGRESS;
	}
fail:
	errno = error;
	return -1;
}

/* ------------------------------------------------------------ readiness */

int
gp_fdwait(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	if ((r = gp_poll(&pfd, 1, timeout_ms)) <= 0)
		return r;
	return pfd.revents;
}

/*
 * poll(2) for an LWP: the plain poll with no timeout says what is ready
 * now; if nothing, one engine wait per descriptor, all on one channel,
 * until the first fires, the deadline or a signal; then look again.
 * Never restarted after a signal, as poll(2) is not.  (sigmask) is a
 * green signal mask to wait under (ppoll), or NULL.
 */
static int
poll_until(struct pollfd *fds, nfds_t n, uint64_t deadline, bool forever,
    const sigset_t *sigmask)
{
	struct gpi_iowait stk[POLL_STACK], *iw = stk;
	struct gp_lwp *l = gpi_io_lwp();
	sigset_t old;
	nfds_t i;
	int r, k, error;

	if (n > POLL_STACK && (iw = calloc(n, sizeof(*iw))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (sigmask != NULL)
		(void)gp_sigprocmask(SIG_SETMASK, sigmask, &old);
	for (;;) {
		if ((r = gpi_poll_now(fds, n)) != 0)
			break;
		if (!forever && gpi_now() >= deadline)
			break;
		for (i = 0, k = 0; i < n; i++) {
			if (fds[i].fd < 0)
				continue;
			memset(&iw[k], 0, sizeof(iw[k]));
			iw[k].iw_fd = fds[i].fd;
			iw[k].iw_events = fds[i].events;
			iw[k].iw_op = GPI_IOOP_POLL;
			k++;
		}
		if (k > 0)
			error = gpi_io_wait(iw, k, forever ? 0 : deadline,
			    GPI_PCATCH);
		else
			do
				error = gpi_tsleep(&l->l_sleeper, NULL, 0,
				    GPI_PCATCH, forever ? 0 : deadline);
			while (error == 0);
		if (error == ETIMEDOUT) {
			r = gpi_poll_now(fds, n);
			break;
		}
		if (error == EINTR) {
			/*
			 * A process signal wakes every thread that could
			 * take it; one that did not run a handler polls on
			 * (poll(2) returns EINTR only to the thread that
			 * handled it: gr_eintr).
			 */
			if (interrupted(false))
				continue;
			errno = EINTR;
			r = -1;
			break;
		}
	}
	if (sigmask != NULL) {
		error = errno;
		(void)gp_sigprocmask(SIG_SETMASK, &old, NULL);
		errno = error;
	}
	if (iw != stk)
		free(iw);
	/*
	 * A zero timeout, or descriptors ready at once, returns without
	 * parking: a signal point all the same, under the caller's mask
	 * (as a signal that comes just after the call returns).  GLib's
	 * main loop with an idle source polls so in a loop until a signal
	 * handler sets a flag (glib's mapping test waited for its child's
	 * SIGUSR1 for 25 s to forever; gr_sigio poll).
	 */
	if (r >= 0)
		gpi_sigpoint_io();
	return r;
}

int
gp_poll(struct pollfd *fds, nfds_t n, int timeout_ms)
{
	int r;

	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(poll)(fds, n, timeout_ms);
	if (timeout_ms == 0) {
		r = gpi_poll_now(fds, n);
		gpi_sigpoint_io();	/* as the kernel on its way out */
		return r;
	}
	return poll_until(fds, n, gpi_now() + (uint64_t)(timeout_ms < 0 ? 0 :
	    timeout_ms) * NS_PER_MS, timeout_ms < 0, NULL);
}

int
gp_ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts,
    const sigset_t *sigmask)
{
	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(ppoll)(fds, n, ts, sigmask);
	if (ts != NULL && (ts->tv_sec < 0 || ts->tv_nsec < 0 ||
	    ts->tv_nsec >= (long)NS_PER_S)) {
		errno = EINVAL;
		return -1;
	}
	return poll_until(fds, n, ts != NULL ? gpi_now() + ts_ns(ts) : 0,
	    ts == NULL, sigmask);
}

/* select(2) as poll(2); (deadline) 0 with forever. */
static int
select_until(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, uint64_t deadline,
    bool forever, const sigset_t *sigmask)
{
	struct pollfd stk[64], *pf = stk;
	int fd, n = 0, r, count = 0;

	if (nfds < 0 || nfds > FD_SETSIZE) {
		errno = EINVAL;
		return -1;
	}
	if (nfds > 64 && (pf = calloc((size_t)nfds, sizeof(*pf))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	for (fd = 0; fd < nfds; fd++) {
		short ev = 0;

		if (rd != NULL && FD_ISSET(fd, rd))
			ev |= POLLIN;
		if (wr != NULL && FD_ISSET(fd, wr))
			ev |= POLLOUT;
		if (ex != NULL && FD_ISSET(fd, ex))
			ev |= POLLPRI;
		if (ev != 0) {
			pf[n].fd = fd;
			pf[n].events = ev;
			pf[n].revents = 0;
			n++;
		}
	}
	r = poll_until(pf, (nfds_t)n, deadline, forever, sigmask);
	if (r >= 0) {
		for (fd = 0; fd < n; fd++)
			if (pf[fd].revents & POLLNVAL) {
				errno = EBADF;
				r = -1;
				goto out;
			}
		if (rd != NULL)
			FD_ZERO(rd);
		if (wr != NULL)
			FD_ZERO(wr);
		if (ex != NULL)
			FD_ZERO(ex);
		for (fd = 0; fd < n; fd++) {
			short rv = pf[fd].revents;

			if (rd != NULL && (pf[fd].events & POLLIN) &&
			    (rv & (POLLIN | POLLHUP | POLLERR))) {
				FD_SET(pf[fd].fd, rd);
				count++;
			}
			if (wr != NULL && (pf[fd].events & POLLOUT) &&
			    (rv & (POLLOUT | POLLERR))) {
				FD_SET(pf[fd].fd, wr);
				count++;
			}
			if (ex != NULL && (pf[fd].events & POLLPRI) &&
			    (rv & POLLPRI)) {
				FD_SET(pf[fd].fd, ex);
				count++;
			}
		}
		r = count;
	}
out:
	if (pf != stk)
		free(pf);
	return r;
}

int
gp_select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
	uint64_t deadline, now;
	int r;

	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(select)(nfds, rd, wr, ex, tv);
	if (tv != NULL && (tv->tv_sec < 0 || tv->tv_usec < 0 ||
	    tv->tv_usec >= 1000000)) {
		errno = EINVAL;
		return -1;
	}
	deadline = tv == NULL ? 0 : gpi_now() + (uint64_t)tv->tv_sec *
	    NS_PER_S + (uint64_t)tv->tv_usec * 1000u;
	r = select_until(nfds, rd, wr, ex, deadline, tv == NULL, NULL);
	if (tv != NULL) {
		/* Linux writes back the time left. */
		now = gpi_now();
		now = now < deadline ? deadline - now : 0;
		tv->tv_sec = (time_t)(now / NS_PER_S);
		tv->tv_usec = (suseconds_t)(now % NS_PER_S / 1000u);
	}
	return r;
}

int
gp_pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex,
    const struct timespec *ts, const sigset_t *sigmask)
{
	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(pselect)(nfds, rd, wr, ex, ts, sigmask);
	if (ts != NULL && (ts->tv_sec < 0 || ts->tv_nsec < 0 ||
	    ts->tv_nsec >= (long)NS_PER_S)) {
		errno = EINVAL;
		return -1;
	}
	return select_until(nfds, rd, wr, ex, ts != NULL ? gpi_now() +
	    ts_ns(ts) : 0, ts == NULL, sigmask);
}

/*
 * epoll_wait on an LWP: an epoll instance is itself pollable (readable
 * while it has events), so wait for that, then take them without
 * blocking.  Never restarted.
 */
int
gp_epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout_ms,
    const sigset_t *sigmask)
{
	struct pollfd pfd = { .fd = epfd, .events = POLLIN };
	int r;

	if (gpi_io_lwp() == NULL)
		return GPI_LIBC(epoll_pwait)(epfd, ev, max, timeout_ms,
		    sigmask);
	if ((r = GPI_LIBC(epoll_wait)(epfd, ev, max, 0)) != 0 ||
	    timeout_ms == 0) {
		gpi_sigpoint_io();	/* did not park: as poll_until */
		return r;
	}
	for (;;) {
		r = timeout_ms < 0 ? poll_until(&pfd, 1, 0, true, sigmask) :
		    gp_ppoll(&pfd, 1, &(struct timespec){ timeout_ms / 1000,
		    (long)(timeout_ms % 1000) * 1000000L }, sigmask);
		if (r <= 0)
			return r;
		if ((r = GPI_LIBC(epoll_wait)(epfd, ev, max, 0)) != 0)
			return r;
		/* Another waiter took the events: wait again (the whole
		 * timeout: rare enough not to account for). */
	}
}

/* ------------------------------------------------------------ splice */

/*
 * sendfile and splice have no per-call non-blocking flag on the socket
 * side.  Wait for the side that may block to be ready, then move at most
 * what fits without blocking: a pipe's free room (F_GETPIPE_SZ less
 * FIONREAD), a socket's free send buffer (SO_SNDBUF less SIOCOUTQ, of
 * which the kernel counts about half as payload).  A regular file never
 * blocks.  Looped until all is moved, as the blocking call would.
 */
static ssize_t
room(int fd, size_t want, bool *plain)
{
	int cap, used = 0, sndbuf;
	socklen_t len = sizeof(sndbuf);
	struct stat st;

	*plain = false;
	if ((cap = GPI_LIBC(fcntl)(fd, F_GETPIPE_SZ)) > 0) {
		(void)GPI_LIBC(ioctl)(fd, FIONREAD, &used);
		return cap > used ? cap - used : 0;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) == 0) {
		(void)GPI_LIBC(ioctl)(fd, TIOCOUTQ, &used);
		return sndbuf > used ? (sndbuf - used) / 2 : 0;
	}
	if (fstat(fd, &st) == 0 && !S_ISFIFO(st.st_mode) &&
	    !S_ISSOCK(st.st_mode) && !S_ISCHR(st.st_mode))
		*plain = true;
	return (ssize_t)want;
}

ssize_t
gp_sendfile(int out, int in, off_t *off, size_t count)
{
	ssize_t r, done = 0, fit;
	bool plain;
	int error, fl;

	if (gpi_io_lwp() == NULL || (fl = GPI_LIBC(fcntl)(out, F_GETFL)) < 0 ||
	    (fl & O_NONBLOCK))
		return GPI_LIBC(sendfile)(out, in, off, count);
	while ((size_t)done < count) {
		fit = room(out, count - (size_t)done, &plain);
		if (plain)
			fit = (ssize_t)(count - (size_t)done);
		if (fit == 0) {
			if ((error = fdwait(out, POLLOUT, 0, done == 0)) != 0)
				goto fail;
			continue;
		}
		if ((size_t)fit > count - (size_t)done)
			fit = (ssize_t)(count - (size_t)done);
		if ((r = GPI_LIBC(sendfile)(out, in, off, (size_t)fit)) < 0) {
			error = errno;
			if (error == EPIPE)
				broken_pipe(true);
			goto fail;
		}
		if (r == 0)
			break;
		done += r;
	}
	return done;
fail:
	if (done > 0)
		return done;
	errno = error;
	return -1;
}

ssize_t
gp_splice(int in, off_t *inoff, int out, off_t *outoff, size_t len,
    unsigned flags)
{
	ssize_t r;
	int error;

	if (gpi_io_lwp() == NULL || (flags & SPLICE_F_NONBLOCK))
		return GPI_LIBC(splice)(in, inoff, out, outoff, len, flags);
	/*
	 * SPLICE_F_NONBLOCK makes the pipe end(s) non-blocking, but a socket
	 * end follows its own O_NONBLOCK: a socket in must be readable (it
	 * then gives what it has), a socket out must have room for what we
	 * move.
	 */
	for (;;) {
		struct pollfd pfd = { .fd = in, .events = POLLIN };
		bool plain;
		ssize_t fit;

		if (gpi_poll_now(&pfd, 1) == 0) {
			error = fdwait(in, POLLIN, 0, true);
			goto waited;
		}
		fit = room(out, len, &plain);
		if (fit == 0) {
			error = fdwait(out, POLLOUT, 0, true);
			goto waited;
		}
		r = GPI_LIBC(splice)(in, inoff, out, outoff,
		    (size_t)fit < len ? (size_t)fit : len,
		    flags | SPLICE_F_NONBLOCK);
		if (r >= 0 || errno != EAGAIN)
			return r;
		error = fdwait(out, POLLOUT, 0, true);
waited:
		if (error != 0) {
			errno = error;
			return -1;
		}
	}
}

/* ------------------------------------------------------------ stdio */

/*
 * For preload/stdio.c: park the calling LWP until (fd) may be ready for
 * (events), as the blocking read or write that glibc's stdio is about to
 * make would wait.  Returns 0 (look again: it may be ready), EINTR (a
 * green signal's handler ran and did not ask for a restart: the stdio
 * call fails as its read or write would), or the engine's error for the
 * descriptor (the caller lets glibc's own call meet it).  A killed LWP
 * dies in here.  The caller holds no lock: see stdio.c.
 */
int
gpi_stdio_fdwait(int fd, short events)
{
	return fdwait(fd, events, 0, true);
}
