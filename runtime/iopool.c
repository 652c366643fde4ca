/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * iopool.c -- the helper pool: a few pthreads that make the calls which
 * have no readiness and no io_uring operation (getaddrinfo, flock,
 * fcntl(F_SETLKW), and every file call on the epoll engine), so that the
 * calling LWP parks and its worker runs others, as libuv's thread pool
 * does for files and DNS.
 *
 * A job lives on the calling LWP's stack.  The LWP queues it, wakes an
 * idle helper and sleeps on the job; the helper runs the call, stores
 * the result, sets pj_done to DONE and wakes the LWP with gpi_wakeup(),
 * and last sets pj_done to RELEASED.
 *
 * WARNING: not gpi_wakeup_lwp().  That one finds its sleeper through
 * s_bucket without the bucket lock, which is safe only on the sleeper's
 * own worker (the engine): from another thread it can look after the
 * LWP checked pj_done and before it queued itself, and the wake-up is
 * lost (stress_iopool under TSan hung so).  gpi_wakeup() takes the
 * bucket lock, under which gpi_tsleep() checks pj_done and queues.
 * The LWP returns only once it sees
 * RELEASED: until then the helper may still be touching the job or the
 * LWP's sleeper, so neither the stack nor the LWP may go.
 *
 * NOTE: nothing interrupts a job's wait but GPI_POOL_INTR: not a signal
 * (signal(7): disk I/O completes, the handler runs after) and not even a
 * kill (GPI_PNOKILL), since the helper writes into the caller's memory.
 * A killed LWP therefore waits for its getaddrinfo to finish before it
 * dies.  GPI_POOL_INTR (flock, F_SETLKW: natively interruptible) makes
 * a signal or a kill interrupt the helper's call with a real signal,
 * SIG_INTR, whose handler does nothing and has no SA_RESTART: the call
 * fails with EINTR and the caller decides as the kernel would.
 *
 * The helpers start on the first job (an idle runtime pays nothing),
 * one more each time a job finds none idle, GREENPROC_IO_THREADS of them
 * for the jobs that end by themselves (file I/O, name lookups).
 *
 * WARNING: a lock wait (GPI_POOL_INTR, or GPI_POOL_WAIT: a process-shared
 * barrier) may last as long as another LWP
 * holds the lock, and that LWP may need a helper for its own file I/O
 * before it lets go: with every helper waiting for the lock, that would
 * be a deadlock (a stress test found it).  So lock waits are not counted
 * against the limit: pool_locked counts them, a lock wait that finds no
 * idle helper always starts one, and the limit applies to pool_threads
 * less pool_locked.  A helper beyond the limit leaves when it finds the
 * queue empty.  The others block every signal but SIG_INTR, are host
 * threads (an interposed call they make is the plain call) and live as
 * long as the process: between runtimes they only sleep.
 */
#include <string.h>
#include <sys/syscall.h>

#include "internal.h"

/* A real-time signal nothing else uses: glibc keeps 32-34 for itself. */
#define SIG_INTR	(SIGRTMAX - 3)

enum { PJ_QUEUED, PJ_DONE, PJ_RELEASED };

struct pooljob {
	long		(*pj_fn)(void *);	/* (c) */
	void		*pj_arg;		/* (c) */
	bool		 pj_lock;		/* (c) a wait on another party
						 * (GPI_POOL_INTR, GPI_POOL_WAIT):
						 * not counted against the limit */
	struct pooljob	*pj_next;		/* (q) the queue */
	long		 pj_res;		/* (h) fn's value ... */
	int		 pj_errno;		/* (h) ... and errno (0: kept) */
	atomic_int	 pj_done;		/* (a) PJ_*: release by the
						 * helper, acquire by the
						 * caller; the sleep channel */
	atomic_int	 pj_intr;		/* (a) the caller wants EINTR */
	_Atomic(pid_t)	 pj_tid;		/* (a) the helper running it,
						 * 0 before it starts */
};

/*
 * (q) under pool_lock.  pool_seq is the idle helpers' futex word: bumped
 * under the lock with every job queued.
 */
static gpi_spin_t pool_lock = GPI_SPIN_INIT(GPI_RANK_IOPOOL);
static struct pooljob *pool_head, **pool_tail = &pool_head;	/* (q) */
static int pool_threads;	/* (q) helpers started, not left */
static int pool_idle;		/* (q) helpers waiting for a job */
static int pool_queued;		/* (q) jobs queued, not taken */
static int pool_locked;		/* (q) lock waits queued or running */
static atomic_int pool_seq;	/* (a) futex word, changed under (q) */
static pid_t pool_pid;		/* (q) the process the helpers are in;
				 * set before the first starts */

static void
sig_intr(int sig)
{
	(void)sig;	/* being here made the call say EINTR */
}

/* More helpers than the limit allows for the jobs that end? (q) */
static bool
surplus(void)
{
	return pool_threads - pool_locked > gpi_env(GPI_ENV_IO_THREADS);
}

/* The next job, or NULL: this helper is surplus and leaves. */
static struct pooljob *
take(void)
{
	struct pooljob *j;
	int seq;

	gpi_spin_lock(&pool_lock);
	while ((j = pool_head) == NULL) {
		if (surplus()) {
			pool_threads--;
			gpi_spin_unlock(&pool_lock);
			return NULL;
		}
		pool_idle++;
		seq = atomic_load_explicit(&pool_seq, memory_order_relaxed);
		gpi_spin_unlock(&pool_lock);
		gpi_futex_wait(&pool_seq, seq, 0);
		gpi_spin_lock(&pool_lock);
		pool_idle--;
	}
	if ((pool_head = j->pj_next) == NULL)
		pool_tail = &pool_head;
	pool_queued--;
	gpi_spin_unlock(&pool_lock);
	return j;
}

static void *
helper(void *arg)
{
	pid_t tid = (pid_t)GPI_LIBC(syscall)(SYS_gettid);
	struct pooljob *j;
	bool lock;

	(void)arg;
	while ((j = take()) != NULL) {
		atomic_store(&j->pj_tid, tid);	/* seq_cst: pairs with pj_intr */
		errno = 0;
		if (atomic_load(&j->pj_intr)) {
			j->pj_res = -1;
			j->pj_errno = EINTR;
		} else {
			j->pj_res = j->pj_fn(j->pj_arg);
			j->pj_errno = errno;
		}
		lock = j->pj_lock;
		atomic_store_explicit(&j->pj_done, PJ_DONE,
		    memory_order_release);
		gpi_wakeup(&j->pj_done);
		/* The last touch: from here the caller may leave. */
		atomic_store_explicit(&j->pj_done, PJ_RELEASED,
		    memory_order_release);
		if (lock) {
			gpi_spin_lock(&pool_lock);
			pool_locked--;
			gpi_spin_unlock(&pool_lock);
		}
	}
	return NULL;
}

/*
 * Start one more helper.  The first of a process installs SIG_INTR's
 * handler (again in a forked child, whose helpers are gone).
 */
static bool
grow(bool first)
{
	struct sigaction sa;
	sigset_t all, old;
	pthread_attr_t at;
	pthread_t t;
	int error;

	if (first) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = sig_intr;	/* no SA_RESTART: EINTR */
		if (GPI_LIBC(sigaction)(SIG_INTR, &sa, NULL) != 0)
			return false;
	}
	/* Born with every signal but SIG_INTR blocked. */
	sigfillset(&all);
	sigdelset(&all, SIG_INTR);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 * 1024);
	(void)GPI_LIBC(pthread_sigmask)(SIG_SETMASK, &all, &old);
	error = GPI_FAILPT(GPI_FAIL_THREAD) ? EAGAIN :
	    GPI_LIBC(pthread_create)(&t, &at, helper, NULL);
	(void)GPI_LIBC(pthread_sigmask)(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
	return error == 0;
}

/* Take (j) off the queue; false if a helper has taken it.  (q) */
static bool
unqueue(struct pooljob *j)
{
	struct pooljob **pp;

	for (pp = &pool_head; *pp != NULL; pp = &(*pp)->pj_next) {
		if (*pp != j)
			continue;
		if ((*pp = j->pj_next) == NULL)
			pool_tail = pp;
		pool_queued--;
		if (j->pj_lock)
			pool_locked--;
		return true;
	}
	return false;
}

/*
 * Queue (j) and see that a helper will take it: start one (outside the
 * lock; its slot is counted in pool_threads first, so that two callers
 * never start one too many) if there are fewer idle helpers than queued
 * jobs and the pool may grow, which a lock wait always may.
 */
static int
submit(struct pooljob *j)
{
	bool start, first = false;

	gpi_spin_lock(&pool_lock);
	*pool_tail = j;
	pool_tail = &j->pj_next;
	pool_queued++;
	if (j->pj_lock)
		pool_locked++;
	start = pool_idle < pool_queued && (j->pj_lock || pool_threads -
	    pool_locked < gpi_env(GPI_ENV_IO_THREADS));
	if (start) {
		first = pool_threads++ == 0;
		if (first)
			pool_pid = gpi_host_pid();
	}
	atomic_fetch_add_explicit(&pool_seq, 1, memory_order_relaxed);
	gpi_spin_unlock(&pool_lock);
	if (start && !grow(first)) {
		/*
		 * No thread: with no helper at all, or for a lock wait (the
		 * helpers may all be waiting for locks), nobody may ever take
		 * it, so take it back unless a helper already has.
		 */
		gpi_spin_lock(&pool_lock);
		pool_threads--;
		if ((pool_threads == 0 || j->pj_lock) && unqueue(j)) {
			gpi_spin_unlock(&pool_lock);
			return j->pj_lock ? ENOLCK : EAGAIN;
		}
		gpi_spin_unlock(&pool_lock);
	}
	gpi_futex_wake(&pool_seq, 1);
	return 0;
}

/*
 * Ask the helper running (j) to give up: SIG_INTR, again every
 * millisecond until it is done, since a signal that came before the
 * helper entered the kernel did nothing.  Not PCATCH: only the helper
 * ends this wait.
 */
static void
interrupt(struct pooljob *j)
{
	pid_t tid;

	atomic_store(&j->pj_intr, 1);		/* seq_cst: pairs with pj_tid */
	while (atomic_load_explicit(&j->pj_done, memory_order_acquire) ==
	    PJ_QUEUED) {
		if ((tid = atomic_load(&j->pj_tid)) != 0)
			(void)GPI_LIBC(syscall)(SYS_tgkill, pool_pid, tid, SIG_INTR);
		if (gpi_tsleep(&j->pj_done, &j->pj_done, PJ_QUEUED,
		    GPI_PNOKILL, gpi_now() + 1000000) == 0)
			continue;	/* done, or about to be: look */
	}
}

long
gpi_pool_call(long (*fn)(void *), void *arg, int flags)
{
	struct pooljob j = { .pj_fn = fn, .pj_arg = arg,
	    .pj_lock = (flags & (GPI_POOL_INTR | GPI_POOL_WAIT)) != 0 };
	int error, sflags = (flags & GPI_POOL_INTR) ? GPI_PCATCH : GPI_PNOKILL;
	unsigned i;

	if (gpi_io_lwp() == NULL)
		return fn(arg);
	if ((error = submit(&j)) != 0) {
		errno = error;
		return -1;
	}
	while (atomic_load_explicit(&j.pj_done, memory_order_acquire) ==
	    PJ_QUEUED) {
		/* A kill or a signal ends a GPI_PCATCH sleep: interrupt. */
		if (gpi_tsleep(&j.pj_done, &j.pj_done, PJ_QUEUED, sflags, 0)
		    == EINTR)
			interrupt(&j);
	}
	/*
	 * The helper may still be in gpi_wakeup: a few instructions, unless
	 * its thread was preempted there.
	 */
	for (i = 1; atomic_load_explicit(&j.pj_done, memory_order_acquire) !=
	    PJ_RELEASED; i++) {
		if ((i & 63) == 0)
			gpi_os_yield();
		else
			gpi_md_relax();
	}
	if (j.pj_errno != 0)
		errno = j.pj_errno;
	return j.pj_res;
}

/*
 * A call that a caught signal interrupts natively (flock, F_SETLKW,
 * mq_receive, aio_suspend): on a helper with GPI_POOL_INTR.  After its
 * EINTR the handlers run (and a cancel acts: each such call is a
 * cancellation point), then the call is made again if (restart) and
 * every handler had SA_RESTART, as the kernel restarts it (signal(7)),
 * else it fails with EINTR.  A result is fn's: -1 with errno, or not.
 */
long
gpi_pool_call_intr(long (*fn)(void *), void *arg, bool restart)
{
	struct gp_lwp *l = gpi_io_lwp();
	long r;
	int error;

	if (l == NULL)
		return fn(arg);
	for (;;) {
		r = gpi_pool_call(fn, arg, GPI_POOL_INTR);
		if (r >= 0 || (error = errno) != EINTR) {
			error = errno;
			gpi_userret_l(l);
			errno = error;
			return r;
		}
		if (!gpi_userret_resume(l, restart)) {
			errno = EINTR;
			return -1;
		}
	}
}

void
gpi_pool_forget(void)
{
	gpi_spin_reset(&pool_lock);
	pool_head = NULL;
	pool_tail = &pool_head;
	pool_threads = pool_idle = pool_queued = pool_locked = 0;
	atomic_store(&pool_seq, 0);
}
