/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sched.c -- workers, run queues, the context switch wrapper, timers and
 * idle parking (DragonFly's lwkt_thread.c and kern_synch.c's mi_switch()).
 *
 * Each worker is a kernel thread with:
 *	w_runnext	a child just created here; runs at the next switch,
 *			as Go's runnext does, so create+join stays on one CPU;
 *	w_runq		FIFO of runnable LWPs, touched only by this worker;
 *	w_inbox		LWPs made runnable by other threads (MPSC stack);
 *	w_newq		LWPs that have never run: the only stealable queue.
 * An LWP that has started never leaves its worker, so the TLS addresses a
 * compiler cached across a switch point stay right, and a context is
 * always saved and resumed by one thread: no interlock is needed between
 * "switched out" and "runnable again".  Idle workers take unstarted LWPs
 * from other workers' w_newq; they spin briefly, then park on a futex (an
 * idle runtime uses no CPU).  The worker's own stack runs the scheduler
 * loop only when its queues are empty; otherwise LWPs switch directly to
 * one another.
 *
 * A switch saves and restores the LWP's errno and C++ exception globals
 * in the frame of the switching call (each context restores its own when
 * it resumes) and tells ASan and TSan about the change of stack.
 */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#ifdef GPI_ASAN
#include <sanitizer/asan_interface.h>
#endif
#ifdef GPI_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#define IDLE_SPIN_NS	30000	/* spin before parking (~ a cross-CPU wake) */
#define NEWQ_FAIRNESS	61	/* every n-th pick looks at w_newq first */
#define TIMER_CHECK	16	/* picks between clock reads when busy */

__thread struct gp_worker *gpi_tls_worker
    __attribute__((tls_model("initial-exec")));

/* ------------------------------------------------------------ queues */

static inline void
lwpq_push(struct gpi_lwpq *q, struct gp_lwp *l)
{
	l->l_next = NULL;
	if (q->q_tail != NULL)
		q->q_tail->l_next = l;
	else
		q->q_head = l;
	q->q_tail = l;
}

static inline struct gp_lwp *
lwpq_pop(struct gpi_lwpq *q)
{
	struct gp_lwp *l = q->q_head;

	if (l != NULL && (q->q_head = l->l_next) == NULL)
		q->q_tail = NULL;
	return l;
}

/* Move what other threads pushed into w_inbox onto w_runq, in order. */
static void
drain_inbox(struct gp_worker *w)
{
	struct gp_lwp *l, *next, *rev = NULL;

	/* Acquire: pairs with the release CAS in inbox_push(). */
	l = atomic_exchange_explicit(&w->w_inbox, NULL, memory_order_acquire);
	for (; l != NULL; l = next) {
		next = l->l_next;
		l->l_next = rev;
		rev = l;
	}
	for (l = rev; l != NULL; l = next) {
		next = l->l_next;
		/* A new thread placed here (gpi_sched_spread) stays LIDL. */
		if (__atomic_load_n(&l->l_stat, __ATOMIC_RELAXED) != GPI_LIDL)
			__atomic_store_n(&l->l_stat, GPI_LRUN,
			    __ATOMIC_RELAXED);
		lwpq_push(&w->w_runq, l);
	}
}

static struct gp_lwp *
newq_pop(struct gp_worker *w)
{
	struct gp_lwp *l;

	if (atomic_load_explicit(&w->w_newq_len, memory_order_relaxed) == 0)
		return NULL;
	gpi_spin_lock(&w->w_newq_lock);
	if ((l = lwpq_pop(&w->w_newq)) != NULL)
		atomic_fetch_sub_explicit(&w->w_newq_len, 1,
		    memory_order_relaxed);
	gpi_spin_unlock(&w->w_newq_lock);
	return l;
}

/*
 * Unpark (w) if it is parked.  [W2]: the caller published work first.
 * A parked worker sleeps in its I/O engine (io.c), whose wake is sticky
 * (an eventfd count, a CQE): one sent before the worker got into the
 * kernel is not lost.
 */
static void
unpark(struct gp_worker *w)
{
	if (atomic_load(&w->w_parked) &&
	    atomic_exchange(&w->w_parked, 0) == 1)
		gpi_io_wake(w);
}

/*
 * New stealable work exists: if nobody is spinning for work and some
 * worker is parked, wake one (Go's wakep()).
 */
static void
wake_idle(struct gp_worker *prefer)
{
	int i, n = gpi_rt.rt_nworkers;

	atomic_thread_fence(memory_order_seq_cst);	/* [W2] vs [W1] */
	/*
	 * The queue's own worker, if parked, is always woken: a spinner
	 * counted below may find work of its own and stop looking, and the
	 * parked owner would then sleep on a queue that has work.
	 */
	if (prefer != NULL && atomic_load(&prefer->w_parked)) {
		unpark(prefer);
		return;
	}
	if (atomic_load(&gpi_rt.rt_nparked) == 0 ||
	    atomic_load(&gpi_rt.rt_nspinning) != 0)
		return;
	for (i = 0; i < n; i++) {
		if (atomic_load(&gpi_rt.rt_workers[i].w_parked)) {
			unpark(&gpi_rt.rt_workers[i]);
			return;
		}
	}
}

static void
newq_push(struct gp_worker *w, struct gp_lwp *l)
{
	gpi_spin_lock(&w->w_newq_lock);
	lwpq_push(&w->w_newq, l);
	atomic_fetch_add_explicit(&w->w_newq_len, 1, memory_order_relaxed);
	gpi_spin_unlock(&w->w_newq_lock);
	wake_idle(w);
}

static void
inbox_push(struct gp_worker *w, struct gp_lwp *l)
{
	struct gp_lwp *head = atomic_load_explicit(&w->w_inbox,
	    memory_order_relaxed);

	do {
		l->l_next = head;
	} while (!atomic_compare_exchange_weak_explicit(&w->w_inbox, &head, l,
	    memory_order_release, memory_order_relaxed));
	atomic_thread_fence(memory_order_seq_cst);	/* [W2] vs [W1] */
	unpark(w);
}

/* LWPs bound to (w): made, placed or stolen here, and not yet exited. */
static long
worker_load(struct gp_worker *w)
{
	return (long)(GPI_RD(w->w_ncreated) - GPI_RD(w->w_nexited)) +
	    atomic_load_explicit(&w->w_nplaced, memory_order_relaxed);
}

/* May (v) be given new LWPs?  Not a spare yet to start, nor stuck. */
static bool
takes_new(struct gp_worker *v)
{
	return atomic_load_explicit(&v->w_active, memory_order_acquire) &&
	    !atomic_load_explicit(&v->w_stuck, memory_order_relaxed);
}

/* (k) LWPs bound to (from) are now bound to (to): a steal, a spread. */
static void
move_placed(struct gp_worker *from, struct gp_worker *to, long k)
{
	atomic_fetch_sub_explicit(&from->w_nplaced, k, memory_order_relaxed);
	atomic_fetch_add_explicit(&to->w_nplaced, k, memory_order_relaxed);
}

/*
 * The least loaded worker, looking from worker (start) round.  Ties go
 * to the one with fewer live LWPs placed by host threads (w_nroots): the
 * bound count moves by one with every short-lived child, so two workers
 * running one spawn tree each often look equal while one of them already
 * has two.
 * NOTE: not w_nplaced, which only grows as LWPs exit (their exits are in
 * w_nexited) and which a steal moves: after one steal the two workers'
 * counts stayed apart by two for good, and a tie at the fourth of four
 * placements, while one worker's root had a child in flight, went to the
 * worker that already had two of them (sched2's spread test, 1 run in
 * 150 beside two CPU hogs).
 */
static struct gp_worker *
least_loaded(unsigned start)
{
	struct gp_worker *best = NULL, *v;
	long load, min = 0, roots, minroots = 0;
	int n = gpi_rt.rt_nworkers, i;

	for (i = 0; i < n; i++) {
		v = &gpi_rt.rt_workers[(start + (unsigned)i) % (unsigned)n];
		if (!takes_new(v))
			continue;
		load = worker_load(v);
		roots = atomic_load_explicit(&v->w_nroots,
		    memory_order_relaxed);
		if (best == NULL || load < min || (load == min &&
		    roots < minroots)) {
			best = v;
			min = load;
			minroots = roots;
		}
	}
	/* All stuck: queue anyway; the watchdog starts a spare to steal. */
	return best != NULL ? best : &gpi_rt.rt_workers[start %
	    (unsigned)(n - gpi_rt.rt_nspares)];
}

/* One worker runs, and no spare has been started. */
static inline bool
one_worker(void)
{
	return gpi_rt.rt_nworkers - gpi_rt.rt_nspares == 1 &&
	    atomic_load_explicit(&gpi_rt.rt_nspares_started,
	    memory_order_relaxed) == 0;
}

/*
 * gpi_sched_new (internal.h) for all but an LWP created by an LWP into
 * an empty runnext slot: an older child displaced to w_newq, or a host
 * thread's LWP placed on the least loaded worker.
 */
void
gpi_sched_new_slow(struct gp_lwp *l)
{
	struct gp_worker *w = gpi_tls_worker;
	struct gp_lwp *old;

	if (w != NULL && w->w_curlwp != NULL) {
		/*
		 * Created by an LWP: the child runs next on this worker.  An
		 * older child still waiting there becomes stealable.
		 */
		l->l_worker = w;
		if ((old = w->w_runnext) != NULL)
			newq_push(w, old);
		w->w_runnext = l;
		return;
	}
	/*
	 * Created by a host thread (or a scheduler loop): to the worker with
	 * the fewest LWPs bound to it, round robin among equals.  Started
	 * LWPs never migrate, so placement is the only balancing there is
	 * for long-lived ones: plain round robin, after an idle worker had
	 * stolen one of them, left one worker three spawn trees and the
	 * other one.
	 */
	if (one_worker()) {
		/*
		 * The host-thread round trip (issue 18), with one worker:
		 * that is the target whatever the loads say (reading them,
		 * two lines the worker writes at every switch, cost two
		 * transfers), and if it is in idle() it spins or sleeps on
		 * its inbox line, which this CAS takes once and its poll
		 * takes back once.  w_newq's lock, queue and length on that
		 * line, and wake_idle's fence and reads of gpi_rt, were
		 * several transfers of it each way while the worker polled.
		 * A busy worker may be in a long computation: a spare
		 * started by the watchdog steals from its w_newq.
		 * NOTE: with more workers a new LWP stays stealable: with
		 * an idle target's inbox, two idle workers and a host
		 * thread spinning on two CPUs, the child waited for its
		 * target to get a CPU back from the other spinner (a 2.8 us
		 * round trip became 6 us).
		 */
		w = &gpi_rt.rt_workers[0];
		/*
		 * Not a root (l_root): with one worker no tie is broken, and
		 * a spare started later sees it as an LWP bound here.
		 */
		atomic_fetch_add_explicit(&w->w_nplaced, 1,
		    memory_order_relaxed);
		l->l_worker = w;
		if (atomic_load_explicit(&w->w_idle, memory_order_relaxed))
			inbox_push(w, l);
		else
			newq_push(w, l);
		return;
	}
	w = least_loaded(atomic_fetch_add_explicit(&gpi_rt.rt_rr, 1,
	    memory_order_relaxed));
	atomic_fetch_add_explicit(&w->w_nplaced, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->w_nroots, 1, memory_order_relaxed);
	l->l_root = true;
	l->l_worker = w;
	/*
	 * Its target may be busy in a long computation: then a parked
	 * worker is woken too, to steal it (wake_idle prefers the target).
	 */
	newq_push(w, l);
}

/*
 * Where a new thread made on (cur) goes: the worker with the fewest LWPs
 * bound to it, (cur) on a tie, and (cur) less the one being made, which
 * count_created has already put there.  Not least_loaded's tie-break by
 * host placements: xz's main thread, asleep most of the time, was
 * placed by the host; with it, a tie after the first encoder sent the
 * second one to the first one's worker.
 */
static struct gp_worker *
spread_target(struct gp_worker *cur)
{
	struct gp_worker *best = cur, *v;
	long load, min = worker_load(cur) - 1;
	int n = gpi_rt.rt_nworkers, i;

	for (i = 1; i < n; i++) {
		v = &gpi_rt.rt_workers[(cur->w_id + i) % n];
		if (!takes_new(v))
			continue;
		if ((load = worker_load(v)) < min) {
			best = v;
			min = load;
		}
	}
	return best;
}

/*
 * A new thread of the program (pthread_create, thrd_create under the
 * preload): to the least loaded worker, this one on a tie.  A started
 * LWP never leaves its worker, so where a long-lived thread first runs
 * is where it computes for good: with gpi_sched_new's runnext, xz -T2's
 * two encoder threads started on their creator's worker (each parked at
 * once in its first condvar wait) and ran there one behind the other
 * while the second worker idled; xz, pbzip2 and plzip took 1.6-2.2x
 * their native time.  A program makes a pthread to run beside it, and
 * natively pays tens of microseconds for one; the runnext hand-off stays
 * for gp_lwp_create, whose callers create and join in a few nanoseconds.
 * Moving the count as a steal does (w_nplaced) keeps both loads right.
 */
void
gpi_sched_spread(struct gp_lwp *l)
{
	struct gp_worker *cur = gpi_tls_worker, *w;

	if (cur == NULL || cur->w_curlwp == NULL ||
	    (w = spread_target(cur)) == cur) {
		gpi_sched_new(l);
		return;
	}
	move_placed(cur, w, 1);
	l->l_worker = w;
	/*
	 * Its inbox, not its w_newq: the creator usually waits for the new
	 * thread next (pthread_join, a condvar), and its worker, idle at
	 * once, stole it back from the w_newq of a target still waking up
	 * (15 runs in 20 of gr_spread).  An inbox is the owner's alone.
	 */
	inbox_push(w, l);
}

void
gpi_setrunnable(struct gp_lwp *l)
{
	struct gp_worker *w = l->l_worker;

	if (w == gpi_tls_worker) {
		__atomic_store_n(&l->l_stat, GPI_LRUN, __ATOMIC_RELAXED);
		lwpq_push(&w->w_runq, l);
	} else {
		inbox_push(w, l);
	}
}

/* ------------------------------------------------------------ timers */

static void
heap_set(struct gp_worker *w, int i, struct gp_lwp *l)
{
	w->w_timers[i] = l;
	l->l_heapidx = i;
}

static void
heap_up(struct gp_worker *w, int i)
{
	struct gp_lwp *l = w->w_timers[i];

	while (i > 0 && w->w_timers[(i - 1) / 2]->l_deadline > l->l_deadline) {
		heap_set(w, i, w->w_timers[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(w, i, l);
}

static void
heap_down(struct gp_worker *w, int i)
{
	struct gp_lwp *l = w->w_timers[i];
	int c;

	while ((c = 2 * i + 1) < w->w_ntimers) {
		if (c + 1 < w->w_ntimers && w->w_timers[c + 1]->l_deadline <
		    w->w_timers[c]->l_deadline)
			c++;
		if (w->w_timers[c]->l_deadline >= l->l_deadline)
			break;
		heap_set(w, i, w->w_timers[c]);
		i = c;
	}
	heap_set(w, i, l);
}

void
gpi_timer_add(struct gp_worker *w, struct gp_lwp *l, uint64_t deadline)
{
	struct gp_lwp **t;
	int cap;

	if (w->w_ntimers == w->w_timercap) {
		cap = w->w_timercap ? 2 * w->w_timercap : 64;
		if ((t = realloc(w->w_timers, cap * sizeof(*t))) == NULL)
			GPI_PANIC("out of memory for %d timers", cap);
		w->w_timers = t;
		w->w_timercap = cap;
	}
	l->l_deadline = deadline;
	w->w_timers[w->w_ntimers++] = l;
	heap_up(w, w->w_ntimers - 1);
	/* Armed: the clock is looked at within TIMER_CHECK picks. */
	if (w->w_fairness > TIMER_CHECK) {
		w->w_fairrest += w->w_fairness - TIMER_CHECK;
		w->w_fairness = TIMER_CHECK;
	}
}

void
gpi_timer_del(struct gp_worker *w, struct gp_lwp *l)
{
	int i = l->l_heapidx;

	if (i < 0)
		return;
	l->l_heapidx = -1;
	if (--w->w_ntimers == i)
		return;
	heap_set(w, i, w->w_timers[w->w_ntimers]);
	heap_down(w, i);
	heap_up(w, w->w_timers[i]->l_heapidx);
}

/* Fire due timers; returns the next deadline, or 0 if none. */
static uint64_t
timers_run(struct gp_worker *w)
{
	struct gp_lwp *l;
	uint64_t now = gpi_now();

	while (w->w_ntimers > 0) {
		l = w->w_timers[0];
		if (l->l_deadline > now)
			return l->l_deadline;
		gpi_timer_del(w, l);
		gpi_sleep_timeout(l);
	}
	return 0;
}

/* ------------------------------------------------------------ picking */

/*
 * How pick_local hands over to pick_slow: whether it has counted the
 * pick against w_fairness yet (it does only when nothing else sent it
 * here), and if so whether the fairness turn came up.
 */
enum pick_how { PICK_UNCOUNTED, PICK_COUNTED, PICK_FAIR };

/*
 * Arm the countdown to the next unasked slow pick: (n) picks to w_newq's
 * turn, cut to TIMER_CHECK while timers are armed (the rest kept in
 * w_fairrest).  So a busy worker with sleepers behind its runnable LWPs
 * switches on the fast path and reads the clock every TIMER_CHECK picks.
 * Before, an armed timer sent every pick the slow way: 16 ns a switch
 * against 6 in bench_switch, whose idle LWPs nap between their turns
 * (65 instructions more a pick, callgrind).
 */
static void
countdown_arm(struct gp_worker *w, int n)
{
	if (w->w_ntimers > 0 && n > TIMER_CHECK) {
		w->w_fairness = TIMER_CHECK;
		w->w_fairrest = n - TIMER_CHECK;
	} else {
		w->w_fairness = n;
		w->w_fairrest = 0;
	}
}

/*
 * The countdown ran out: true if w_newq's turn came, false if it was a
 * timer check's.  Re-armed either way.
 */
static bool
countdown_expired(struct gp_worker *w)
{
	if (w->w_fairrest > 0) {
		countdown_arm(w, w->w_fairrest);
		return false;
	}
	countdown_arm(w, NEWQ_FAIRNESS);
	return true;
}

/*
 * pick_local's slow path: anything but taking the next LWP off runnext
 * or the runq.  w_tick counts these passes only: while engine waits are
 * pending, which is when it is read, every pick comes here.
 */
static GPI_NOINLINE struct gp_lwp *
pick_slow(struct gp_worker *w, enum pick_how how)
{
	struct gp_lwp *l;
	bool turn = how == PICK_FAIR ||
	    (how == PICK_UNCOUNTED && --w->w_fairness <= 0);
	bool fair = turn && countdown_expired(w);

	w->w_tick++;
	/* Completions go straight onto w_runq; a syscall only now and then. */
	if (unlikely(w->w_iowaits > 0))
		gpi_io_poll(w, false);
	if (atomic_load_explicit(&w->w_inbox, memory_order_relaxed) != NULL)
		drain_inbox(w);
	/*
	 * The watchdog's preemption request (w_resched): cleared by any
	 * pick; a worker held that long may have due timers behind it.
	 */
	if (unlikely(atomic_load_explicit(&w->w_resched,
	    memory_order_relaxed))) {
		atomic_store_explicit(&w->w_resched, 0, memory_order_relaxed);
		if (w->w_ntimers > 0)
			timers_run(w);
		/*
		 * Held for a slice: every LWP that waited unstarted runs
		 * before the yielder comes back, as the kernel shares a
		 * slice's end among all that are runnable.  Else a parent
		 * that spawns in a loop picks itself again after one child
		 * (its runnext), its worker is still held, and the watchdog
		 * starts a spare that takes the children.
		 */
		w->w_newq_turns = atomic_load_explicit(&w->w_newq_len,
		    memory_order_relaxed);
		fair = true;
	}
	if (unlikely(w->w_ntimers > 0) && (w->w_runq.q_head == NULL || turn))
		timers_run(w);
	/* Unstarted LWPs must not starve behind busy yielders. */
	if (unlikely(fair)) {
		/* Taking turns after a yield request: the next pick too. */
		countdown_arm(w, w->w_newq_turns > 1 ? 1 : NEWQ_FAIRNESS);
		if (w->w_newq_turns > 0)
			w->w_newq_turns--;
		if ((l = newq_pop(w)) != NULL)
			goto out;
		w->w_newq_turns = 0;
		countdown_arm(w, NEWQ_FAIRNESS);
	}
	if ((l = w->w_runnext) != NULL)
		w->w_runnext = NULL;
	else if ((l = lwpq_pop(&w->w_runq)) == NULL)
		l = newq_pop(w);
out:
	/* For the watchdog: does anyone wait behind the one we run? */
	atomic_store_explicit(&w->w_queued, (uintptr_t)w->w_runq.q_head,
	    memory_order_relaxed);
	/* Switching: not stuck (the watchdog would see it at its next look). */
	if (unlikely(atomic_load_explicit(&w->w_stuck, memory_order_relaxed)))
		atomic_store_explicit(&w->w_stuck, 0, memory_order_relaxed);
	return l;
}

/*
 * Next LWP for (w) from its own queues, or NULL.  Never blocks.
 *
 * The fast path, inline in every switch: nothing waits in the engine
 * or the inbox, the watchdog asks nothing, the countdown has not run
 * out (w_newq's turn, or with timers armed their check: countdown_arm),
 * and runnext or the runq has an LWP.  Then the pick is what the slow
 * path would have picked, with one test of four words instead of six
 * branches and
 * a call (46 instructions a pick before, callgrind).  The fairness count
 * goes down only after that test, as a decrement of memory that sets the
 * flags (GPI_DEC_LE0: sub, jle), and w_tick only in the slow path: 18
 * instructions of test and counting became 11 (issue 18's third pass).
 */
static inline struct gp_lwp *
pick_local(struct gp_worker *w)
{
	struct gp_lwp *l;

	if (likely(!((w->w_iowaits |
	    atomic_load_explicit(&w->w_resched, memory_order_relaxed) |
	    atomic_load_explicit(&w->w_stuck, memory_order_relaxed)) != 0 ||
	    atomic_load_explicit(&w->w_inbox, memory_order_relaxed) != NULL))) {
		if (unlikely(GPI_DEC_LE0(w->w_fairness)))
			return pick_slow(w, PICK_FAIR);
		if ((l = w->w_runnext) != NULL) {
			w->w_runnext = NULL;
		} else if ((l = w->w_runq.q_head) != NULL) {
			if ((w->w_runq.q_head = l->l_next) == NULL)
				w->w_runq.q_tail = NULL;
		} else {
			return pick_slow(w, PICK_COUNTED);
		}
		atomic_store_explicit(&w->w_queued, (uintptr_t)w->w_runq.q_head,
		    memory_order_relaxed);
		return l;
	}
	return pick_slow(w, PICK_UNCOUNTED);
}

/*
 * Take up to half of another worker's unstarted LWPs.  They become ours
 * for good once they start.  Returns one to run, the rest on our runq.
 */
static struct gp_lwp *
steal(struct gp_worker *w)
{
	int n = gpi_rt.rt_nworkers, i, k, take, roots;
	struct gp_worker *v;
	struct gp_lwp *l, *first = NULL;

	for (i = 1; i < n; i++) {
		v = &gpi_rt.rt_workers[(w->w_id + i) % n];
		if (atomic_load_explicit(&v->w_newq_len,
		    memory_order_relaxed) == 0)
			continue;
		gpi_spin_lock(&v->w_newq_lock);
		take = (atomic_load_explicit(&v->w_newq_len,
		    memory_order_relaxed) + 1) / 2;
		for (k = roots = 0; k < take &&
		    (l = lwpq_pop(&v->w_newq)) != NULL; k++) {
			atomic_fetch_sub_explicit(&v->w_newq_len, 1,
			    memory_order_relaxed);
			l->l_worker = w;
			roots += l->l_root;
			if (first == NULL)
				first = l;
			else
				lwpq_push(&w->w_runq, l);
		}
		gpi_spin_unlock(&v->w_newq_lock);
		if (first != NULL) {
			GPI_BUMP(w->w_nsteal, k);
			move_placed(v, w, k);
			if (roots > 0) {
				atomic_fetch_sub_explicit(&v->w_nroots, roots,
				    memory_order_relaxed);
				atomic_fetch_add_explicit(&w->w_nroots, roots,
				    memory_order_relaxed);
			}
			return first;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------ switching */

/*
 * Bookkeeping every context does right after it is switched to, on its
 * own stack: free the LWPs that died on this worker (their stacks are no
 * longer in use now), and restore what the switch saved.
 */
static inline void
switched_in(struct gp_worker *w)
{
	if (unlikely(w->w_dead != NULL))
		gpi_reaplwps(w);
}

bool gpi_lwp_clock GPI_PASSDATA, gpi_lwp_clock_ok GPI_PASSDATA;

/*
 * Counting starts here for (l): the LWPs running elsewhere start their
 * slices at their next switch, so what they ran before it is not
 * counted; (l)'s own starts now (it is running, on this worker: its
 * l_runtick is this worker's to write).
 */
bool
gpi_lwp_clock_use(struct gp_lwp *l)
{
	if (!__atomic_load_n(&gpi_lwp_clock_ok, __ATOMIC_RELAXED))
		return false;
	if (!__atomic_load_n(&gpi_lwp_clock, __ATOMIC_RELAXED)) {
		__atomic_store_n(&gpi_lwp_clock, true, __ATOMIC_RELAXED);
		if (l != NULL && __atomic_load_n(&l->l_runtick,
		    __ATOMIC_RELAXED) == 0)
			__atomic_store_n(&l->l_runtick, gpi_md_ticks(),
			    __ATOMIC_RELAXED);
	}
	return true;
}

/*
 * Per-LWP run time (gpi_lwp_clock), at (now): (from)'s slice ends, (to)'s
 * begins.  l_runtick goes to 0 before l_ticks grows, and l_ticks is a
 * release store: a reader (gpi_lwp_runticks) that sees the new l_ticks
 * sees l_runtick changed, and retries rather than count the slice twice.
 * A dying LWP is counted too: its struct lives until it is reaped.
 */
static inline __attribute__((__always_inline__)) void
lwp_clock(struct gp_lwp *from, struct gp_lwp *to, unsigned long long now)
{
	unsigned long long since;

	if (from != NULL && (since = from->l_runtick) != 0) {
		__atomic_store_n(&from->l_runtick, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&from->l_ticks, from->l_ticks + (now -
		    since), __ATOMIC_RELEASE);
	}
	if (to != NULL)
		__atomic_store_n(&to->l_runtick, now, __ATOMIC_RELAXED);
}

/*
 * Switch from the running context to (to), or to the scheduler loop if
 * (to) is NULL.  (from) is the running LWP, or NULL in the scheduler.
 * (last), a constant: (from) is dying and never runs again, so nothing
 * of it is saved and this does not return.
 */
static inline __attribute__((__always_inline__)) void
switch_to(struct gp_worker *w, struct gp_lwp *from, struct gp_lwp *to,
    bool last)
{
	struct gp_ctx *fctx = from != NULL ? &from->l_ctx : &w->w_ctx;
	struct gp_ctx *tctx = to != NULL ? &to->l_ctx : &w->w_ctx;
	/*
	 * errno and the C++ eh globals live at fixed addresses of this
	 * worker's thread (cached at worker start: no call per switch); a
	 * started LWP never leaves the worker, so they stay right.
	 */
	void **g = w->w_cxa, *cxa_save[2] = { NULL, NULL };
	int saved_errno = last ? 0 : *w->w_errnop;
	struct gp_proc *fp, *tp;
	unsigned long long now;
#ifdef GPI_ASAN
	void *fake = NULL;
	const void *bottom = to != NULL ? to->l_stklo : w->w_stack_lo;
	size_t size = to != NULL ? to->l_stksize : w->w_stack_size;
#endif

	if (g != NULL && !last) {
		cxa_save[0] = g[0];
		cxa_save[1] = g[1];
	}
	/*
	 * Run time is charged per process, so the clock is read only when
	 * the worker changes process (the scheduler loop counts as none):
	 * switches among one process's LWPs read nothing, which matters
	 * because rdtsc alone costs ~11 ns on a VM.
	 */
	/*
	 * A master charged itself in exit1 (its process may be gone), and
	 * that read of the clock serves as this one: the last steps of its
	 * exit are charged to whatever runs next, a third read is not.
	 */
	fp = from != NULL ? from->l_proc : NULL;
	tp = to != NULL ? to->l_proc : NULL;
	if (fp != tp && !(from != NULL && from->l_master)) {
		now = gpi_md_ticks();
		if (fp != NULL)
			__atomic_fetch_add(&fp->p_ru.ru_ticks,
			    now - w->w_switchtick, __ATOMIC_RELAXED);
		w->w_switchtick = now;
		if (gpi_lwp_clock)
			lwp_clock(from, to, now);
	} else if (gpi_lwp_clock) {
		lwp_clock(from, to, gpi_md_ticks());
	}
	GPI_BUMP(w->w_nswitch, 1);
	w->w_curlwp = to;
	atomic_store_explicit(&w->w_curtid, to != NULL ? to->l_tid : 0,
	    memory_order_relaxed);
	if (to != NULL)
		__atomic_store_n(&to->l_stat, GPI_LONPROC, __ATOMIC_RELAXED);
	/*
	 * Per-LWP TLS (tls.c), lazily: only an LWP that has its own, and
	 * whose values are not already in the blocks, costs a copy.  The
	 * others pay this one branch (l_tls shares l_stat's cache line).
	 */
	if (to != NULL && unlikely(to->l_tls != NULL) && to != w->w_tlsowner)
		gpi_tls_switch(w, to);
#ifdef GPI_ASAN
	/* A dying LWP passes NULL: ASan drops its fake stack. */
	__sanitizer_start_switch_fiber(last || (from != NULL &&
	    from->l_stat == GPI_LZOMB) ? NULL : &fake, bottom, size);
#endif
#ifdef GPI_TSAN
	__tsan_switch_to_fiber(to != NULL ? to->l_tsan_fiber :
	    w->w_tsan_fiber, 0);
#endif
	if (last)
		gpi_md_switch_last(tctx);
	gpi_md_switch(fctx, tctx);
	/* Resumed: another context switched back to us, on this worker. */
#ifdef GPI_ASAN
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
	/*
	 * g and errnop are read again from (w), not kept: the switch keeps
	 * no register (arch.h), so a value kept across it is a store and a
	 * load on the stack, where one load from (w) does.
	 */
	if ((g = w->w_cxa) != NULL) {
		g[0] = cxa_save[0];
		g[1] = cxa_save[1];
	}
	*w->w_errnop = saved_errno;
	switched_in(w);
}

void
gpi_sched_enter_first(struct gp_lwp *l)
{
	struct gp_worker *w = l->l_worker;
	void *g;

#ifdef GPI_ASAN
	__sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
	if ((g = w->w_cxa) != NULL)
		memset(g, 0, 2 * sizeof(void *));
	*w->w_errnop = 0;	/* errno, through the cached address */
	switched_in(w);
}

void
gpi_charge(struct gp_worker *w, struct gp_proc *p)
{
	unsigned long long now = gpi_md_ticks();

	__atomic_fetch_add(&p->p_ru.ru_ticks, now - w->w_switchtick,
	    __ATOMIC_RELAXED);
	w->w_switchtick = now;
}

void
gpi_mi_switch(struct gp_lwp *cur)
{
	struct gp_worker *w = cur->l_worker;
	struct gp_lwp *next;

	GPI_LOCK_ASSERT_NONE();
	KASSERT(w == gpi_tls_worker);
	/* A worker gp_shutdown gave up on goes no further (runtime.c). */
	gpi_fence(w);
	next = pick_local(w);
	if (next == cur) {
		/* Woken before we got out (see gpi_tsleep), or alone. */
		__atomic_store_n(&cur->l_stat, GPI_LONPROC, __ATOMIC_RELAXED);
		return;
	}
	/*
	 * It yielded or blocked (voluntary), or was stopped (involuntary).
	 * A dying LWP counts one more that nobody reads: its counts were
	 * folded into its process when it unlinked.
	 */
	if (unlikely(cur->l_stat == GPI_LSLEEP &&
	    (cur->l_sleeper.s_flags & GPI_PINVOL)))
		cur->l_nivcsw++;
	else
		cur->l_nvcsw++;
	/*
	 * Nothing runnable: to the scheduler loop.  A copy of its own, so
	 * that the switch to an LWP, the common one, has no test of (next).
	 */
	if (unlikely(next == NULL))
		switch_to(w, cur, NULL, false);
	else
		switch_to(w, cur, next, false);
}

void
gpi_mi_switch_last(struct gp_lwp *cur, struct gp_worker *w)
{
	struct gp_lwp *next;

	GPI_LOCK_ASSERT_NONE();
	KASSERT(w == gpi_tls_worker && w == cur->l_worker &&
	    cur->l_stat == GPI_LZOMB);
	gpi_fence(w);
	/* (cur) is on no queue: whatever comes next is another context. */
	next = pick_local(w);
	KASSERT(next != cur);
	switch_to(w, cur, next, true);
	__builtin_unreachable();
}

/* ------------------------------------------------------------ workers */

/* Nothing to run anywhere: spin a little, then park until work comes. */
static void
idle(struct gp_worker *w)
{
	uint64_t deadline, now = gpi_now();
	uint64_t spin_end = now + IDLE_SPIN_NS, yield_from = now + GPI_SPIN_YIELD_NS;
	int i;

	atomic_store_explicit(&w->w_idle, 1, memory_order_relaxed);
	atomic_fetch_add(&gpi_rt.rt_nspinning, 1);
	for (i = 1;; i++) {
		if (atomic_load_explicit(&w->w_inbox, memory_order_relaxed) ||
		    atomic_load_explicit(&w->w_newq_len, memory_order_relaxed))
			break;
		if ((i & 31) == 0) {
			if (w->w_iowaits > 0) {
				gpi_io_poll(w, true);
				if (w->w_runq.q_head != NULL)
					break;
			}
			if (gpi_rt.rt_nworkers > 1 &&
			    (w->w_runnext = steal(w)) != NULL)
				break;
			if ((now = gpi_now()) >= spin_end)
				break;
			if (now >= yield_from)
				gpi_os_yield();
		}
		gpi_md_relax();
	}
	atomic_fetch_sub(&gpi_rt.rt_nspinning, 1);
	if (w->w_runnext != NULL || w->w_runq.q_head != NULL ||
	    atomic_load_explicit(&w->w_inbox, memory_order_relaxed) ||
	    atomic_load_explicit(&w->w_newq_len, memory_order_relaxed)) {
		atomic_store_explicit(&w->w_idle, 0, memory_order_relaxed);
		return;
	}

	/* [W1]: announce, then recheck everything a waker publishes. */
	atomic_store(&w->w_parked, 1);
	atomic_fetch_add(&gpi_rt.rt_nparked, 1);
	deadline = timers_run(w);
	if (atomic_load(&w->w_inbox) == NULL &&
	    atomic_load(&w->w_newq_len) == 0 && w->w_runq.q_head == NULL &&
	    !atomic_load(&gpi_rt.rt_halt)) {
		for (i = 0; i < gpi_rt.rt_nworkers; i++)
			if (atomic_load(&gpi_rt.rt_workers[i].w_newq_len))
				break;
		if (i == gpi_rt.rt_nworkers)
			gpi_io_idle(w, deadline);
	}
	atomic_store(&w->w_parked, 0);
	atomic_fetch_sub(&gpi_rt.rt_nparked, 1);	/* seq_cst: vs watchdog */
	atomic_store_explicit(&w->w_idle, 0, memory_order_relaxed);
	gpi_watchdog_kick();
}

static void
block_async_signals(void)
{
	/*
	 * Host signal handlers must never run in the middle of green code:
	 * workers take only the synchronous faults, and only those gp_init's
	 * caller took (greenrun blocks them all there, so that one sent
	 * from outside goes to its signal thread).
	 * NOTE: the mask is set to rt_workmask, made in gpi_sched_start,
	 * not added to the thread's own: a thread starts with its creator's
	 * mask, and the spares are created by the watchdog, which blocks
	 * everything.  A spare that kept SIGSEGV blocked died at its first
	 * fault, host and all, without a word: the kernel forces the default
	 * action of a blocked synchronous signal
	 * (fault::a_fault_on_a_spare_worker_kills_only_its_process).
	 */
	GPI_LIBC(pthread_sigmask)(SIG_SETMASK, &gpi_rt.rt_workmask, NULL);
}

/*
 * Wait until worker (w) has made its descriptors: whoever counts the
 * program's descriptors after gp_init (or after a spare started) sees
 * all of the runtime's, and none appears later behind its back.
 */
static void
started(struct gp_worker *w)
{
	while (atomic_load(&w->w_statfd) == GPI_STATFD_PENDING)
		gpi_futex_wait(&w->w_statfd, GPI_STATFD_PENDING, 0);
}

static void *
worker_main(void *arg)
{
	struct gp_worker *w = arg;
	struct gp_lwp *l;

	gpi_tls_worker = w;
	__atomic_store_n(&w->w_tid, (pid_t)GPI_LIBC(syscall)(SYS_gettid),
	    __ATOMIC_RELAXED);
	atomic_store(&w->w_statfd, gpi_rtfd_keep(GPI_LIBC(open)(
	    "/proc/thread-self/stat", O_RDONLY | O_CLOEXEC)));
	gpi_futex_wake(&w->w_statfd, 1);	/* started(): made */
	w->w_errnop = &errno;
	w->w_cxa = gpi_rt.rt_cxa_globals != NULL ?
	    gpi_rt.rt_cxa_globals() : NULL;
	block_async_signals();
	w->w_altstack = gpi_fault_thread_init();
	gpi_rcu_thread_online();
#ifdef GPI_ASAN
	{
		pthread_attr_t a;
		void *lo;
		size_t sz;

		GPI_LIBC(pthread_getattr_np)(GPI_LIBC(pthread_self)(), &a);
		pthread_attr_getstack(&a, &lo, &sz);
		pthread_attr_destroy(&a);
		w->w_stack_lo = lo;
		w->w_stack_size = sz;
	}
#endif
#ifdef GPI_TSAN
	w->w_tsan_fiber = __tsan_get_current_fiber();
#endif
	w->w_switchtick = gpi_md_ticks();
	/*
	 * Our engine was made on another thread (gp_init's host thread, or
	 * the watchdog for a spare), which submitted its wake read: submit
	 * one of our own (see gpi_uring_own_wake).
	 */
	if (gpi_ioengine == GPI_IO_URING)
		gpi_uring_own_wake(w);
	for (;;) {
		switched_in(w);
		if ((l = pick_local(w)) != NULL ||
		    (gpi_rt.rt_nworkers > 1 && (l = steal(w)) != NULL)) {
			switch_to(w, NULL, l, false);
			continue;
		}
		if (atomic_load(&gpi_rt.rt_halt))
			break;
		idle(w);
	}
	gpi_reaplwps(w);
	gpi_proc_drain(w);
	gpi_rcu_thread_offline();
	gpi_fault_thread_fini(w->w_altstack);
	return NULL;
}

/* In a forked child (fork.c): no worker exists here; we are no LWP. */
void
gpi_sched_forget(void)
{
	gpi_tls_worker = NULL;
	gpi_rt.rt_workers = NULL;
	gpi_rt.rt_nworkers = 0;
	atomic_store(&gpi_rt.rt_nparked, 0);
	atomic_store(&gpi_rt.rt_nspinning, 0);
	gpi_spin_reset(&gpi_rt.rt_lock);
	atomic_store(&gpi_rt.rt_state, GPI_RT_DOWN);
}

int
gpi_sched_start(int n)
{
	struct gp_worker *ws;
	sigset_t async;
	int i, error, total = n + GPI_SPARES;

	/* Cache-line aligned, as struct gp_worker says (calloc is not). */
	if ((ws = aligned_alloc(64, (size_t)total * sizeof(*ws))) == NULL)
		return ENOMEM;
	memset(ws, 0, (size_t)total * sizeof(*ws));
	/* The workers' mask: ours, and every asynchronous signal. */
	GPI_LIBC(pthread_sigmask)(SIG_BLOCK, NULL, &gpi_rt.rt_workmask);
	sigfillset(&async);
	gpi_fault_delset(&async);
	sigorset(&gpi_rt.rt_workmask, &gpi_rt.rt_workmask, &async);
	/* Open even if the caller blocks it (greenrun blocks it there). */
	gpi_preempt_delset(&gpi_rt.rt_workmask);
	gpi_io_choose();
	/* Before any switch: the clocks of the preload, unless refused. */
	switch (gpi_env(GPI_ENV_THREAD_CLOCK)) {
	case 0:
		gpi_lwp_clock_ok = false;
		break;
	case 1:
		gpi_lwp_clock = gpi_lwp_clock_ok;
		break;
	}
	for (i = 0; i < total; i++) {
		ws[i].w_id = i;
		ws[i].w_wakefd = -1;
		atomic_init(&ws[i].w_statfd, -1);
		ws[i].w_spare = i >= n;
		gpi_spin_init(&ws[i].w_newq_lock, GPI_RANK_NEWQ);
	}
	/* Every engine before any worker runs: they must all be one kind. */
	for (i = 0; i < n; i++) {
		if ((error = gpi_io_worker_init(&ws[i])) != 0) {
			while (i >= 0)
				gpi_io_worker_fini(&ws[i--]);
			free(ws);
			return error;
		}
	}
	/*
	 * The spares are in rt_nworkers from the start (loops over the
	 * workers see empty queues there), so the array and the count never
	 * change while workers run; w_active says which ones run.
	 */
	gpi_rt.rt_workers = ws;
	gpi_rt.rt_nworkers = total;
	gpi_rt.rt_nspares = GPI_SPARES;
	atomic_store(&gpi_rt.rt_halt, 0);
	for (i = 0; i < n; i++) {
		atomic_store_explicit(&ws[i].w_active, 1, memory_order_release);
		atomic_store(&ws[i].w_statfd, GPI_STATFD_PENDING);
		error = GPI_FAILPT(GPI_FAIL_THREAD) ? EAGAIN :
		    GPI_LIBC(pthread_create)(&ws[i].w_thread, NULL,
		    worker_main, &ws[i]);
		if (error != 0) {
			atomic_store(&ws[i].w_statfd, -1);
			atomic_store(&ws[i].w_active, 0);
			goto fail_threads;
		}
	}
	for (i = 0; i < n; i++)
		started(&ws[i]);
	if ((error = gpi_watchdog_start()) != 0)
		goto fail_threads;
	return 0;

fail_threads:
	(void)gpi_sched_stop(0);
	return error;
}

/*
 * Start spare worker (w) for the watchdog: its engine (of the kind the
 * runtime already uses), then its thread.  The release store of w_active
 * publishes the worker to least_loaded.  It comes before the thread, as
 * for the first workers: the thread may run the LWPs it was started for
 * at once, and a caller that saw them run reads gp_stats (test_watchdog
 * read one worker, with the spare counted, on a loaded machine).  If the
 * thread cannot start, what was placed there meanwhile stays stealable
 * in its w_newq.
 */
int
gpi_sched_start_spare(struct gp_worker *w)
{
	int error;

	if ((error = gpi_io_worker_init(w)) != 0) {
		gpi_io_worker_fini(w);
		return error;
	}
	atomic_store(&w->w_statfd, GPI_STATFD_PENDING);
	atomic_store_explicit(&w->w_active, 1, memory_order_release);
	if ((error = GPI_FAILPT(GPI_FAIL_THREAD) ? EAGAIN :
	    GPI_LIBC(pthread_create)(&w->w_thread, NULL, worker_main,
	    w)) != 0) {
		atomic_store(&w->w_active, 0);
		atomic_store(&w->w_statfd, -1);
		gpi_io_worker_fini(w);
		return error;
	}
	started(w);
	return 0;
}

/* pthread_timedjoin_np() until (deadline), a CLOCK_MONOTONIC time. */
static int
timed_join(pthread_t t, uint64_t deadline)
{
	struct timespec ts;
	uint64_t now = gpi_now(), left = deadline > now ? deadline - now : 0;

	GPI_LIBC(clock_gettime)(CLOCK_REALTIME, &ts); /* what the call takes */
	ts.tv_sec += (time_t)(left / 1000000000u);
	ts.tv_nsec += (long)(left % 1000000000u);
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return GPI_LIBC(pthread_timedjoin_np)(t, NULL, &ts);
}

/*
 * May (w), not back by the deadline, be abandoned?  The handshake with
 * gpi_fence_slow: if it has not passed a fence point since the kill, it
 * is in user code, and from our CAS on it parks at its next fence point.
 * If it has (LEAVE), it is on its way out through the runtime, and is
 * given GREENPROC_EXIT_TIMEOUT_MS more; abandoned after that all the
 * same, it parks at its next fence point.
 * WARNING: that last case is not airtight: an LWP that was run after the
 * kill and spins in user code again without a cancellation point (after
 * a yield that is not one) had its worker marked LEAVE; should it come
 * back into the runtime in the instant between the join's timeout and
 * our store, it goes on, sharing init and the global pools with the
 * next runtime.
 */
static bool
may_abandon(struct gp_worker *w)
{
	int f = GPI_FENCE_STOP;

	if (atomic_compare_exchange_strong(&w->w_fence, &f, GPI_FENCE_ABANDON))
		return true;
	if (timed_join(w->w_thread, gpi_now() + gpi_exit_timeout_ns()) == 0)
		return false;
	atomic_store(&w->w_fence, GPI_FENCE_ABANDON);
	return true;
}

/*
 * Stop and join the workers.  Caller made sure no LWP is left to run,
 * except ones stuck in user code: a worker that does not come back by
 * (deadline) (0: wait as long as it takes) is detached and abandoned
 * with its LWPs (may_abandon).  Returns how many were abandoned.
 */
int
gpi_sched_stop(uint64_t deadline)
{
	struct gp_worker *w;
	int i, abandoned = 0;

	/* No spare may start behind our back. */
	gpi_watchdog_stop();
	atomic_store(&gpi_rt.rt_halt, 1);
	for (i = 0; i < gpi_rt.rt_nworkers; i++)
		unpark(&gpi_rt.rt_workers[i]);
	for (i = 0; i < gpi_rt.rt_nworkers; i++) {
		w = &gpi_rt.rt_workers[i];
		if (w->w_exited)
			continue;
		if (!atomic_load(&w->w_active)) {
			/* Never started (a spare): nothing ran there. */
			gpi_io_worker_fini(w);
			w->w_exited = true;
			continue;
		}
		if (deadline == 0) {
			GPI_LIBC(pthread_join)(w->w_thread, NULL);
		} else if (timed_join(w->w_thread, deadline) != 0 &&
		    may_abandon(w)) {
			GPI_LIBC(pthread_detach)(w->w_thread);
			w->w_abandoned = true;
			abandoned++;
			continue;
		}
		w->w_exited = true;
		gpi_io_worker_fini(w);
		gpi_rtfd_close(atomic_exchange(&w->w_statfd, -1));
		gpi_stack_drain(w);
		free(w->w_timers);
		w->w_timers = NULL;
		w->w_ntimers = w->w_timercap = 0;
	}
	return abandoned;
}
