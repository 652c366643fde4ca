/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * librt.c -- the waits of POSIX's realtime calls (once librt, now in
 * libc): message queues (mq_send, mq_receive and their timed forms),
 * aio_suspend and lio_listio(LIO_WAIT).
 *
 * glibc makes each wait inline: a message queue's in the kernel's
 * mq_timedsend/mq_timedreceive, aio_suspend's on a futex that glibc's
 * own AIO threads wake.  On a green thread that would hold its worker,
 * and every LWP queued there: often the very thread that was to send the
 * message or finish the request.  A message queue descriptor has
 * readiness, but fstat calls it a regular file and the engine cannot
 * tell, so iocall.c's way does not serve; each call instead tries once
 * without waiting, on the worker, and makes a wait that must wait on the
 * helper pool, interruptible (iopool.c), while the green thread parks.
 * The kernel restarts these calls after a handler with SA_RESTART
 * (signal(7)); each is a cancellation point.  Errors are those of the
 * plain call: its arguments are checked by the attempt first.
 * mq_notify is seen only to learn which signals a send of the program's
 * own may set off for it (sent_own).
 */
#include <aio.h>
#include <errno.h>
#include <mqueue.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"
#include "preload.h"

#define EXPORT	__attribute__((__visibility__("default")))

/* A timeout that has passed: the call without its wait. */
static const struct timespec passed = { 0, 0 };

/* One mq_timedsend or mq_timedreceive, with its arguments. */
struct mqcall {
	bool			 m_send;
	mqd_t			 m_mq;
	char			*m_msg;
	size_t			 m_len;
	unsigned		 m_prio;	/* to send */
	unsigned		*m_priop;	/* received */
	const struct timespec	*m_abs;		/* CLOCK_REALTIME */
};

static long
mq_job(void *arg)
{
	struct mqcall *m = arg;

	if (m->m_send)
		return LIBREAL(mq_timedsend)(m->m_mq, m->m_msg, m->m_len,
		    m->m_prio, m->m_abs);
	return LIBREAL(mq_timedreceive)(m->m_mq, m->m_msg, m->m_len,
	    m->m_priop, m->m_abs);
}

/* Has absolute CLOCK_REALTIME time (abs) passed? */
static bool
passed_already(const struct timespec *abs)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec > abs->tv_sec || (now.tv_sec == abs->tv_sec &&
	    now.tv_nsec >= abs->tv_nsec);
}

/*
 * Signals that the program's mq_notify asked for (SIGEV_SIGNAL), bit
 * (sig - 1); never cleared (a notification is spent when it fires, and
 * nothing here sees that).  (a) relaxed: a hint, see sent_own.
 */
static atomic_ullong mq_sigs;

EXPORT int
mq_notify(mqd_t mq, const struct sigevent *ev)
{
	int r = LIBREAL(mq_notify)(mq, ev);

	if (r == 0 && ev != NULL && ev->sigev_notify == SIGEV_SIGNAL &&
	    ev->sigev_signo >= 1 && ev->sigev_signo <= 64)
		atomic_fetch_or_explicit(&mq_sigs,
		    1ULL << (ev->sigev_signo - 1), memory_order_relaxed);
	return r;
}

/*
 * After a message sent by a green thread: a notification that it set off
 * for its own process (the queue was empty and the program's mq_notify
 * waited on it) is a signal the kernel sends the host, which the
 * forwarder would post after the call returned.  Natively the kernel
 * delivers it before the call returns to the sender, so the sender's
 * next line sees its handler's work (glibc's tst-mqueue5: "SIGRTMIN
 * signal did not arrive").  So each such signal pending in the kernel is
 * taken and posted now (gpi_greenrun_drain: under the forwarder's take
 * lock, while the program catches or ignores it), and delivered before
 * return.  One system call per signal mq_notify ever asked for, only in
 * a program that asked for one (gr_mqnotify).
 */
static void
sent_own(void)
{
	uint64_t m = atomic_load_explicit(&mq_sigs, memory_order_relaxed);
	int sig;

	if (m == 0)
		return;
	for (sig = 1; m != 0; sig++, m >>= 1)
		if (m & 1)
			gpi_greenrun_drain(sig);
	gpi_sigpoint();
}

/*
 * The call on a green thread: the kernel checks the timeout before all
 * else (EINVAL), then the attempt says whether it must wait (ETIMEDOUT
 * for a passed timeout; EAGAIN if the queue is O_NONBLOCK).
 */
static long
mq_call(struct mqcall *m)
{
	const struct timespec *abs = m->m_abs;
	long r;

	if (gpi_curlwp() == NULL)
		return mq_job(m);
	gpi_userret();
	if (abs != NULL && (abs->tv_sec < 0 || abs->tv_nsec < 0 ||
	    abs->tv_nsec >= 1000000000L)) {
		errno = EINVAL;
		return -1;
	}
	m->m_abs = &passed;
	r = mq_job(m);
	m->m_abs = abs;
	if (r < 0 && errno == ETIMEDOUT &&
	    (abs == NULL || !passed_already(abs)))
		r = gpi_pool_call_intr(mq_job, m, true);
	if (r >= 0 && m->m_send)
		sent_own();
	return r;
}

EXPORT int
mq_timedsend(mqd_t mq, const char *msg, size_t len, unsigned prio,
    const struct timespec *abs)
{
	struct mqcall m = { true, mq, (char *)msg, len, prio, NULL, abs };

	return (int)mq_call(&m);
}

EXPORT int
mq_send(mqd_t mq, const char *msg, size_t len, unsigned prio)
{
	struct mqcall m = { true, mq, (char *)msg, len, prio, NULL, NULL };

	return (int)mq_call(&m);
}

EXPORT ssize_t
mq_timedreceive(mqd_t mq, char *msg, size_t len, unsigned *prio,
    const struct timespec *abs)
{
	struct mqcall m = { false, mq, msg, len, 0, prio, abs };

	return mq_call(&m);
}

EXPORT ssize_t
mq_receive(mqd_t mq, char *msg, size_t len, unsigned *prio)
{
	struct mqcall m = { false, mq, msg, len, 0, prio, NULL };

	return mq_call(&m);
}

/*
 * aio_suspend: its timeout is relative, so a restarted wait gets what is
 * left of it (the kernel's restart of a futex wait keeps its end).
 */
struct suspendcall {
	const struct aiocb *const *s_list;
	int			 s_nent;
	bool			 s_forever;
	uint64_t		 s_deadline;	/* gpi_now() */
};

static long
suspend_job(void *arg)
{
	struct suspendcall *s = arg;
	struct timespec left;
	uint64_t now = gpi_now();

	if (s->s_forever)
		return LIBREAL(aio_suspend)(s->s_list, s->s_nent, NULL);
	if (now >= s->s_deadline) {
		errno = EAGAIN;
		return -1;
	}
	left.tv_sec = (time_t)((s->s_deadline - now) / 1000000000u);
	left.tv_nsec = (long)((s->s_deadline - now) % 1000000000u);
	return LIBREAL(aio_suspend)(s->s_list, s->s_nent, &left);
}

EXPORT int
aio_suspend(const struct aiocb *const list[], int nent,
    const struct timespec *timeout)
{
	struct suspendcall s = { list, nent, timeout == NULL, 0 };
	int r;

	if (gpi_curlwp() == NULL)
		return LIBREAL(aio_suspend)(list, nent, timeout);
	gpi_userret();
	/* Done already, or a bad argument: glibc says so at once. */
	if ((r = LIBREAL(aio_suspend)(list, nent, &passed)) == 0 ||
	    errno != EAGAIN || (timeout != NULL && timeout->tv_sec == 0 &&
	    timeout->tv_nsec == 0))
		return r;
	if (timeout != NULL) {
		if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 ||
		    timeout->tv_nsec >= 1000000000L) {
			errno = EINVAL;
			return -1;
		}
		s.s_deadline = gpi_now() + (uint64_t)timeout->tv_sec *
		    1000000000u + (uint64_t)timeout->tv_nsec;
	}
	return (int)gpi_pool_call_intr(suspend_job, &s, true);
}

/*
 * lio_listio(LIO_WAIT) waits inside glibc for the whole list, as
 * aio_suspend does, and held the worker the same way: the thread that
 * was to complete the requests could not run, nor could a signal
 * interrupt it (glibc's tst-aio10).  A green thread submits the list
 * without waiting (glibc's own checks and errors), then waits in the
 * green aio_suspend until none is in progress: interruptible (EINTR, or
 * restarted after SA_RESTART, as glibc's futex wait is), the requests
 * going on.  As glibc: EIO once they are done if any of them failed.
 */
EXPORT int
lio_listio(int mode, struct aiocb *const list[], int nent,
    struct sigevent *sev)
{
	const struct aiocb **wait;
	int i, n, r;

	if (mode != LIO_WAIT || gpi_curlwp() == NULL || nent <= 0 ||
	    (wait = malloc((size_t)nent * sizeof(*wait))) == NULL)
		return LIBREAL(lio_listio)(mode, list, nent, sev);
	if ((r = LIBREAL(lio_listio)(LIO_NOWAIT, list, nent, NULL)) != 0) {
		free(wait);
		return r;
	}
	for (;;) {
		for (i = n = 0; i < nent; i++)
			if (list[i] != NULL &&
			    list[i]->aio_lio_opcode != LIO_NOP &&
			    aio_error(list[i]) == EINPROGRESS)
				wait[n++] = list[i];
		if (n == 0)
			break;
		if (aio_suspend(wait, n, NULL) != 0 && errno == EINTR) {
			free(wait);
			return -1;
		}
	}
	free(wait);
	for (i = 0; i < nent; i++)
		if (list[i] != NULL && list[i]->aio_lio_opcode != LIO_NOP &&
		    aio_error(list[i]) != 0) {
			errno = EIO;
			return -1;
		}
	return 0;
}

EXPORT int
lio_listio64(int mode, struct aiocb64 *const list[], int nent,
    struct sigevent *sev)
{
	return lio_listio(mode, (struct aiocb *const *)list, nent, sev);
}

/* The same on x86-64, where struct aiocb64 is struct aiocb. */
_Static_assert(sizeof(struct aiocb64) == sizeof(struct aiocb),
    "aio_suspend64 is aio_suspend");
EXPORT int
aio_suspend64(const struct aiocb64 *const list[], int nent,
    const struct timespec *timeout)
{
	return aio_suspend((const struct aiocb *const *)list, nent, timeout);
}
