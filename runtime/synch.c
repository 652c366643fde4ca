/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * synch.c -- sleeping and waking: the one blocking primitive of the
 * runtime (DragonFly kern_synch.c's tsleep()/wakeup()).
 *
 * Every blocking call (join, nanosleep, wait, ...) is gpi_tsleep() on a
 * wait channel, an address.  Sleepers are kept in a hash of buckets, each
 * a spinlocked list.  A green sleeper parks its LWP (the worker runs
 * others); a host sleeper spins briefly, then sleeps on a futex in its
 * on-stack sleeper.  A sleeper leaves its bucket exactly once, taken off
 * by whoever gets there first under the bucket lock: a wakeup, its timer
 * or an interruption (kill, signal); that one sets s_result and makes it
 * run.  The optional (word, expect) pair, compared under the bucket lock,
 * is the seed's tsleep_interlock(): a waker changes the word before it
 * calls wakeup(), so a sleeper that checked its condition before the
 * change either sees the new word or is already on the list.
 */
#include <string.h>

#include "internal.h"

#define NBUCKETS	512		/* power of two */
#define HOST_SPIN_NS	20000		/* cheap host waits: < one cross-CPU
					 * wake-up (~20 us here) */

struct gpi_sleepq {
	gpi_spin_t	 sq_lock;
	struct gp_sleeper *sq_head;	/* (b) */
} __attribute__((aligned(64)));

static struct gpi_sleepq sleepq[NBUCKETS] = {
	[0 ... NBUCKETS - 1] = { .sq_lock = GPI_SPIN_INIT(GPI_RANK_SLEEPQ) },
};

static struct gpi_sleepq *
bucket(const void *wchan)
{
	uintptr_t h = (uintptr_t)wchan;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15u;
	return &sleepq[(h >> 40) & (NBUCKETS - 1)];
}

/*
 * A sleeper whose channel is its own address (an LWP's timed sleep or I/O
 * park on &l->l_sleeper) can be woken only directly, through s_bucket
 * (sleep_abort, gpi_wakeup_lwp): no waker can name its channel.  It takes
 * the bucket's lock like any sleeper but is not linked into the bucket's
 * list, which every wakeup_n walks: a million processes asleep in
 * gp_nanosleep made each wakeup on a shared channel (a kill's p_stopgen,
 * an exit's parent) walk ~2000 cold sleepers of its bucket, ~0.8 ms.
 */
static inline bool
sq_private(const struct gp_sleeper *s)
{
	return s->s_wchan == (const void *)s;
}

/* Caller holds sq->sq_lock. */
static void
sq_insert(struct gpi_sleepq *sq, struct gp_sleeper *s)
{
	GPI_LOCK_ASSERT(&sq->sq_lock);
	if (!sq_private(s))
		GPI_DLIST_INSERT_HEAD(&sq->sq_head, s, s_next, s_prev);
	/* [I1] seq_cst: pairs with [I2] in sleep_abort(). */
	atomic_store(&s->s_bucket, sq);
}

/* Caller holds sq->sq_lock and s is on sq. */
static void
sq_remove(struct gpi_sleepq *sq, struct gp_sleeper *s, int result)
{
	GPI_LOCK_ASSERT(&sq->sq_lock);
	if (!sq_private(s))
		GPI_DLIST_REMOVE(&sq->sq_head, s, s_next, s_prev);
	s->s_result = result;
	atomic_store_explicit(&s->s_bucket, NULL, memory_order_relaxed);
}

/*
 * Let a sleeper taken off its list run.  After this the sleeper may be
 * gone (a host sleeper's stack frame returns), so read s_next first.
 */
static void
sq_run(struct gp_sleeper *s)
{
	if (s->s_lwp != NULL) {
		gpi_setrunnable(s->s_lwp);
		return;
	}
	/*
	 * Release: s_result is visible to the host sleeper's acquire.  The
	 * futex system call only if it went to sleep in the kernel (2): a
	 * sleeper still spinning sees the 1 by itself.
	 */
	if (atomic_exchange_explicit(&s->s_wake, 1, memory_order_acq_rel) == 2)
		gpi_futex_wake(&s->s_wake, 1);
}

/* Why would (l) not sleep now?  0, or EINTR. */
static int
interrupted(struct gp_lwp *l, int flags)
{
	unsigned f = atomic_load(&l->l_flags);	/* [I1'] seq_cst */

	if ((f & GPI_LWP_WEXIT) && !(flags & GPI_PNOKILL))
		return EINTR;
	if ((flags & GPI_PCATCH) && (f & GPI_LWP_AST) && gpi_sig_pending(l))
		return EINTR;
	if ((flags & (GPI_PCATCH | GPI_PNOCANCEL)) == GPI_PCATCH &&
	    (f & GPI_LWP_CANCEL))
		return EINTR;	/* a cancellation point */
	return 0;
}

static void
wakeup_n(const void *wchan, int n)
{
	struct gpi_sleepq *sq = bucket(wchan);
	struct gp_sleeper *s, *next, *run = NULL;

	gpi_spin_lock(&sq->sq_lock);
	for (s = sq->sq_head; s != NULL && n != 0; s = next) {
		next = s->s_next;
		if (s->s_wchan != wchan)
			continue;
		sq_remove(sq, s, 0);
		s->s_next = run;
		run = s;
		n--;
	}
	gpi_spin_unlock(&sq->sq_lock);
	for (s = run; s != NULL; s = next) {
		next = s->s_next;
		sq_run(s);
	}
}

/* In a forked child (fork.c): sleepers of the parent are not here. */
void
gpi_synch_forget(void)
{
	int i;

	for (i = 0; i < NBUCKETS; i++) {
		gpi_spin_reset(&sleepq[i].sq_lock);
		sleepq[i].sq_head = NULL;
	}
}

void
gpi_wakeup(const void *wchan)
{
	wakeup_n(wchan, -1);
}

void
gpi_wakeup_one(const void *wchan)
{
	wakeup_n(wchan, 1);
}

/*
 * Take (l) off whatever queue it sleeps on (or only off (wchan), if not
 * NULL), with (result).  Returns false if it was not sleeping there (or
 * someone else took it off first).
 */
static bool
sleep_abort(struct gp_lwp *l, int result, bool only_catch,
    const void *wchan)
{
	struct gp_sleeper *s = &l->l_sleeper;
	struct gpi_sleepq *sq;

	for (;;) {
		sq = atomic_load(&s->s_bucket);	/* [I2] pairs with [I1] */
		if (sq == NULL)
			return false;
		gpi_spin_lock(&sq->sq_lock);
		if (atomic_load_explicit(&s->s_bucket,
		    memory_order_relaxed) == sq) {
			if ((only_catch && !(s->s_flags & GPI_PCATCH)) ||
			    (result == EINTR && !only_catch &&
			    (s->s_flags & GPI_PNOKILL)) ||
			    (wchan != NULL && s->s_wchan != wchan)) {
				gpi_spin_unlock(&sq->sq_lock);
				return false;
			}
			sq_remove(sq, s, result);
			gpi_spin_unlock(&sq->sq_lock);
			sq_run(s);
			return true;
		}
		/* It moved on (woken, maybe asleep elsewhere): look again. */
		gpi_spin_unlock(&sq->sq_lock);
	}
}

void
gpi_sleep_interrupt(struct gp_lwp *l)
{
	unsigned f = atomic_load(&l->l_flags);

	/* A kill interrupts any sleep; other reasons only GPI_PCATCH ones. */
	sleep_abort(l, EINTR, !(f & GPI_LWP_WEXIT), NULL);
}

void
gpi_sleep_timeout(struct gp_lwp *l)
{
	sleep_abort(l, ETIMEDOUT, false, NULL);
}

void
gpi_wakeup_lwp(struct gp_lwp *l, const void *wchan)
{
	sleep_abort(l, 0, false, wchan);
}

/* A host thread's sleep: spin briefly, then a futex. */
static int
host_sleep(const void *wchan, const atomic_int *word, int expect,
    int flags, uint64_t deadline)
{
	struct gpi_sleepq *sq = bucket(wchan);
	/*
	 * In one cache line (56 bytes): the waker writes s_bucket, s_result
	 * and s_wake, and the host reads them back; across two lines, each
	 * wake took both (issue 18, the host-thread round trip).
	 */
	struct gp_sleeper s __attribute__((aligned(64)));
	uint64_t now, spin_end, yield_from;
	unsigned i;
	int v;

	memset(&s, 0, sizeof(s));
	s.s_wchan = wchan;
	s.s_flags = flags;
	atomic_init(&s.s_wake, 0);
	gpi_spin_lock(&sq->sq_lock);
	if (word != NULL && atomic_load(word) != expect) {
		gpi_spin_unlock(&sq->sq_lock);
		return 0;
	}
	sq_insert(sq, &s);
	gpi_spin_unlock(&sq->sq_lock);

	now = gpi_now();
	spin_end = now + HOST_SPIN_NS;
	yield_from = now + GPI_SPIN_YIELD_NS;
	for (i = 1; atomic_load_explicit(&s.s_wake, memory_order_acquire) != 1;
	    i++) {
		if ((i & 63) != 0) {
			gpi_md_relax();
			continue;
		}
		if ((now = gpi_now()) < spin_end) {
			if (now >= yield_from)
				gpi_os_yield();
			continue;
		}
		if (deadline != 0 && gpi_now() >= deadline) {
			gpi_spin_lock(&sq->sq_lock);
			if (atomic_load_explicit(&s.s_bucket,
			    memory_order_relaxed) == sq) {
				sq_remove(sq, &s, ETIMEDOUT);
				gpi_spin_unlock(&sq->sq_lock);
				return ETIMEDOUT;
			}
			gpi_spin_unlock(&sq->sq_lock);
			/* A waker has it: wait for its s_wake store. */
		}
		/* Announce the kernel sleep (2), unless woken meanwhile (1). */
		v = 0;
		if (!atomic_compare_exchange_strong(&s.s_wake, &v, 2) &&
		    v == 1)
			break;
		gpi_futex_wait(&s.s_wake, 2, deadline);
	}
	return s.s_result;
}

int
gpi_tsleep(const void *wchan, const atomic_int *word, int expect, int flags,
    uint64_t deadline)
{
	struct gp_lwp *l = gpi_curlwp();
	struct gp_sleeper *s;
	struct gpi_sleepq *sq;
	int error;

	GPI_LOCK_ASSERT_NONE();
	if (l == NULL)
		return host_sleep(wchan, word, expect, flags, deadline);
	if (deadline != 0 && gpi_now() >= deadline)
		return ETIMEDOUT;
	s = &l->l_sleeper;
	sq = bucket(wchan);
	gpi_spin_lock(&sq->sq_lock);
	if (word != NULL && atomic_load(word) != expect) {
		gpi_spin_unlock(&sq->sq_lock);
		return 0;
	}
	s->s_wchan = wchan;
	s->s_flags = flags;
	s->s_result = 0;
	sq_insert(sq, s);
	/*
	 * Checked after [I1]: an interrupter that set l_flags before we
	 * queued is seen here; one that sets it later finds us queued.
	 */
	if ((error = interrupted(l, flags)) != 0) {
		sq_remove(sq, s, error);
		gpi_spin_unlock(&sq->sq_lock);
		return error;
	}
	__atomic_store_n(&l->l_stat, GPI_LSLEEP, __ATOMIC_RELAXED);
	gpi_spin_unlock(&sq->sq_lock);

	/*
	 * NOTE: from here a waker on another thread may already have taken
	 * us off the list and pushed us to our worker's inbox.  That is
	 * safe: only this worker runs us, and it is busy switching us out;
	 * gpi_mi_switch() may even pick us again at once.
	 */
	if (deadline != 0)
		gpi_timer_add(l->l_worker, l, deadline);
	gpi_mi_switch(l);
	if (deadline != 0)
		gpi_timer_del(l->l_worker, l);
	KASSERT(atomic_load(&s->s_bucket) == NULL);
	return s->s_result;
}
