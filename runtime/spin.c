/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spin.c -- the low-level primitives the rest of the runtime stands on:
 * spinlocks, futex(2) and the monotonic clock.
 */
#include <linux/futex.h>
#include <signal.h>
#include <string.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

__thread int gpi_tls_nlocks __attribute__((tls_model("initial-exec")));

/*
 * Contended path: spin on a plain load (no cache-line ping-pong), and
 * after a while give the CPU away, since the holder may have been
 * preempted by the kernel (a host thread, or a worker on a busy VM).
 * Never inline (LTO once pulled it into gp_lwp_join, whose fast path
 * then saved three registers more for this loop's sake).
 */
GPI_NOINLINE void
gpi_spin_lock_slow(gpi_spin_t *s)
{
	unsigned spins = 0;

	for (;;) {
		while (atomic_load_explicit(&s->s_locked,
		    memory_order_relaxed)) {
			if (++spins < 128)
				gpi_md_relax();
			else
				gpi_os_yield();
		}
		if (!atomic_exchange_explicit(&s->s_locked, 1,
		    memory_order_acquire))
			return;
	}
}

#ifdef GREENPROC_DEBUG
/*
 * The checked lock.  Each thread keeps the locks it holds, in the order
 * it took them, in a small stack indexed by gpi_tls_nlocks.  A lock is
 * taken only if its rank is above every held lock's (internal.h), so no
 * two threads can take two locks in opposite orders; an acquire that
 * breaks the order panics naming both locks at once, whether or not the
 * interleaving that would deadlock happened.
 */
#define GPI_HELD_MAX	8	/* the runtime nests 3 deep (exit1) */

static __thread const gpi_spin_t *held[GPI_HELD_MAX]
    __attribute__((tls_model("initial-exec")));
static __thread uint32_t self_id __attribute__((tls_model("initial-exec")));
static atomic_uint self_ids;

static const char *const rank_names[GPI_RANK_N] = {
	[GPI_RANK_NONE] = "an unranked lock",
	[GPI_RANK_RT] = "gpi_rt.rt_lock",
	[GPI_RANK_REPARENT] = "gpi_reparent_lock",
	[GPI_RANK_PROC] = "p_lock",
	[GPI_RANK_SLEEPQ] = "sleep-queue bucket sq_lock",
	[GPI_RANK_NEWQ] = "w_newq_lock",
	[GPI_RANK_PID] = "pid_lock",
	[GPI_RANK_LIMIT] = "limit_lock",
	[GPI_RANK_PROCPOOL] = "procpool_lock",
	[GPI_RANK_URCU] = "urcu_lock",
	[GPI_RANK_STK] = "stk_lock",
	[GPI_RANK_CALLOUT] = "callout_lock",
	[GPI_RANK_ORPHAN] = "orphan_lock",
	[GPI_RANK_DUMP] = "dump_lock",
	[GPI_RANK_DW] = "unwind dw.lock",
	[GPI_RANK_PTHR] = "preload h_lock",
	[GPI_RANK_POPEN] = "preload popen_lock",
	[GPI_RANK_BARRIER] = "preload barrier b_lock",
	[GPI_RANK_FDPARK] = "fd.c parked-descriptor b_lock",
	[GPI_RANK_FDTAB] = "fd.c ft_lock",
	[GPI_RANK_TEST] = "test lock",
};

uint32_t
gpi_spin_self(void)
{
	if (unlikely(self_id == 0))
		self_id = atomic_fetch_add_explicit(&self_ids, 1,
		    memory_order_relaxed) + 1;
	return self_id;
}

static const char *
lock_name(const gpi_spin_t *s)
{
	return s->s_rank < GPI_RANK_N ? rank_names[s->s_rank] : "a bad lock";
}

#define LOCK_PROC(s)	((const struct gp_proc *)(const void *)	\
	((const char *)(s) - offsetof(struct gp_proc, p_lock)))

/*
 * Is (a) an ancestor of (p)?  p_pptr is read relaxed: it changes only
 * under gpi_reparent_lock and the parent's lock, one of which a path
 * that takes a second p_lock holds.  The bound only stops a chain
 * broken by a stale struct under reuse from looping.
 */
static bool
proc_is_ancestor(const struct gp_proc *a, const struct gp_proc *p)
{
	unsigned n;

	for (n = 0; p != NULL && n < (1u << 22); n++) {
		p = __atomic_load_n(&p->p_pptr, __ATOMIC_RELAXED);
		if (p == a)
			return true;
	}
	return false;
}

/* May this thread take (s) now?  Panics naming both locks if not. */
static void
lock_order_check(const gpi_spin_t *s)
{
	const gpi_spin_t *h;
	int i;

	if (s->s_rank == GPI_RANK_NONE || s->s_rank >= GPI_RANK_N)
		GPI_PANIC("lock %p has no rank (rank %d)", (const void *)s,
		    s->s_rank);
	if (gpi_spin_owned(s))
		GPI_PANIC("%s %p taken twice by one thread", lock_name(s),
		    (const void *)s);
	if (gpi_tls_nlocks < 0 || gpi_tls_nlocks >= GPI_HELD_MAX)
		GPI_PANIC("%s taken with %d locks held", lock_name(s),
		    gpi_tls_nlocks);
	for (i = 0; i < gpi_tls_nlocks; i++) {
		h = held[i];
		if (h->s_rank < s->s_rank && h->s_rank < GPI_RANK_LEAF)
			continue;
		if (h->s_rank == GPI_RANK_PROC && s->s_rank == GPI_RANK_PROC &&
		    proc_is_ancestor(LOCK_PROC(h), LOCK_PROC(s)))
			continue;
		GPI_PANIC("lock order: %s %p taken while holding %s %p%s",
		    lock_name(s), (const void *)s, lock_name(h),
		    (const void *)h, h->s_rank >= GPI_RANK_LEAF ?
		    " (a leaf)" : h->s_rank == s->s_rank ?
		    " (not its ancestor's)" : "");
	}
}

void
gpi_spin_lock_debug(gpi_spin_t *s)
{
	lock_order_check(s);
	if (unlikely(atomic_exchange_explicit(&s->s_locked, 1,
	    memory_order_acquire)))
		gpi_spin_lock_slow(s);
	atomic_store_explicit(&s->s_owner, gpi_spin_self(),
	    memory_order_relaxed);
	held[gpi_tls_nlocks] = s;
	GPI_LOCKS_HELD_INC();
}

void
gpi_spin_unlock_debug(gpi_spin_t *s)
{
	int i;

	if (!gpi_spin_owned(s))
		GPI_PANIC("unlock of %s %p, which this thread does not hold",
		    lock_name(s), (const void *)s);
	/* Not always the last one taken: exit1 drops the child first. */
	for (i = gpi_tls_nlocks - 1; i >= 0 && held[i] != s; i--)
		;
	KKASSERT(i >= 0);
	for (; i + 1 < gpi_tls_nlocks; i++)
		held[i] = held[i + 1];
	GPI_LOCKS_HELD_DEC();
	atomic_store_explicit(&s->s_owner, 0, memory_order_relaxed);
	atomic_store_explicit(&s->s_locked, 0, memory_order_release);
}

void
gpi_lock_assert_fail(const gpi_spin_t *s, bool want, const char *file,
    int line, const char *func)
{
	if (s == NULL)
		gpi_panic(file, line, func, "%d lock(s) held, the first %s; "
		    "the caller must hold none", gpi_tls_nlocks,
		    gpi_tls_nlocks > 0 ? lock_name(held[0]) : "?");
	gpi_panic(file, line, func, "%s %p %s", lock_name(s),
	    (const void *)s, want ? "not held: the caller must hold it" :
	    "held: the caller must not hold it");
}
#endif /* GREENPROC_DEBUG */

/*
 * abort(3) of the host, from anywhere, signal handlers included: the
 * preload's abort is green on an LWP, and libc's takes locks.
 */
void
gpi_host_abort(void)
{
	gpi_host_raise_default(SIGABRT);
}

/* Die of (sig) with its default action, as the kernel would deliver it. */
void
gpi_host_raise_default(int sig)
{
	struct sigaction dfl;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	GPI_LIBC(sigaction)(sig, &dfl, NULL);
	GPI_LIBC(syscall)(SYS_tgkill, gpi_host_pid(),
	    GPI_LIBC(syscall)(SYS_gettid), sig);
	__builtin_trap();
}

void
gpi_os_yield(void)
{
	GPI_LIBC(syscall)(SYS_sched_yield);
}

uint64_t
gpi_now(void)
{
	struct timespec ts;

	GPI_LIBC(clock_gettime)(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
gpi_futex_wait(atomic_int *word, int val, uint64_t deadline)
{
	struct timespec ts, *tsp = NULL;

	if (deadline != 0) {
		/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time. */
		ts.tv_sec = (time_t)(deadline / 1000000000u);
		ts.tv_nsec = (long)(deadline % 1000000000u);
		tsp = &ts;
	}
	GPI_LIBC(syscall)(SYS_futex, word, FUTEX_WAIT_BITSET_PRIVATE, val, tsp, NULL,
	    FUTEX_BITSET_MATCH_ANY);
}

void
gpi_futex_wake(atomic_int *word, int n)
{
	GPI_LIBC(syscall)(SYS_futex, word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}
