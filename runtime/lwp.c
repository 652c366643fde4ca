/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lwp.c -- green threads: creation, exit, join, detach and the reaping of
 * dead LWPs (DragonFly kern_exit.c's lwp_exit(), lwp_wait(),
 * lwp_dispose() and reaplwps(), and kern_lwp.c).
 *
 * An LWP cannot free the stack it runs on.  lwp_exit() therefore puts the
 * dying LWP on its worker's dead list and switches away; the next context
 * to run on that worker (switched_in() in sched.c) calls gpi_reaplwps(),
 * which marks each LWP DEAD in l_jstate -- the interlock that says "off
 * its stack for good" -- and then frees it or wakes its joiner.  Reaping
 * is per worker and batched, with no global lock.
 *
 * Who frees an LWP (its stack and struct) is decided by l_jstate, see
 * internal.h: the last of {DEAD, DETACH or JOINER} to arrive.
 */
#include <string.h>

#include "internal.h"

#ifdef GPI_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#define LWP_CANCELED	((void *)-1)	/* retval of a killed LWP */

static void
count_created(struct gp_worker *w)
{
	if (w != NULL)
		GPI_BUMP(w->w_ncreated, 1);
	else
		atomic_fetch_add(&gpi_rt.rt_ncreated, 1);
}

/*
 * A small id for gp_ps and gp_dump, unique among live LWPs: a per-worker
 * sequence with the worker's index in the low bits, so creation on a
 * worker touches no shared counter.
 */
static int
new_tid(struct gp_worker *w)
{
	if (w == NULL)
		return (int)(((unsigned)atomic_fetch_add_explicit(
		    &gpi_rt.rt_tidgen, 1, memory_order_relaxed) + 1) << 8 |
		    0xff) & INT_MAX;
	return (int)((++w->w_tidgen << 8 | (unsigned)w->w_id) & INT_MAX);
}

/* Free a DEAD LWP.  (w) is the calling worker, NULL on a host thread. */
static void
lwp_free(struct gp_worker *w, struct gp_lwp *l)
{
#ifdef GPI_TSAN
	__tsan_destroy_fiber(l->l_tsan_fiber);
#endif
	if (w != NULL)
		GPI_BUMP(w->w_nreaped, 1);
	else
		atomic_fetch_add(&gpi_rt.rt_nreaped, 1);
	gpi_stack_free(w, l);
}

void
gpi_reaplwps(struct gp_worker *w)
{
	struct gp_lwp *l;
	int old;

	while ((l = w->w_dead) != NULL) {
		w->w_dead = l->l_next;
		GPI_BUMP(w->w_nexited, 1);
		/*
		 * Acq_rel: DEAD releases l_retval and the dead stack to the
		 * joiner's acquire load; the acquire side orders a detacher's
		 * earlier writes before our free.
		 */
		old = atomic_fetch_or_explicit(&l->l_jstate, GPI_J_DEAD,
		    memory_order_acq_rel);
		if (old & GPI_J_DETACH)
			lwp_free(w, l);
		else if ((old & GPI_J_JOINER) && !l->l_handoff)
			gpi_wakeup(&l->l_jstate);	/* only a key: no deref */
	}
}

int
gpi_lwp_create(struct gp_proc *p, struct gp_lwp **lp, void *(*fn)(void *),
    void *arg, const gp_attr_t *attr)
{
	struct gp_worker *w = gpi_curworker();
	struct gp_lwp *l;
	int error;

	if ((error = gpi_runtime_ensure()) != 0)
		return error;
	if ((l = gpi_stack_alloc(w, attr != NULL ? attr->a_stacksize : 0)) ==
	    NULL)
		return errno;
	l->l_proc = p;
	l->l_fn = fn;
	l->l_arg = arg;
	l->l_retval = NULL;
	l->l_stat = GPI_LIDL;
	l->l_heapidx = -1;
	l->l_handoff = false;
	l->l_joiner = NULL;
	l->l_nvcsw = l->l_nivcsw = 0;
	atomic_init(&l->l_flags, 0);
	atomic_init(&l->l_jstate,
	    attr != NULL && attr->a_detached ? GPI_J_DETACH : 0);
	l->l_sleeper.s_lwp = l;
	atomic_init(&l->l_sleeper.s_bucket, NULL);
	l->l_tid = new_tid(w);
#ifdef GPI_TSAN
	l->l_tsan_fiber = __tsan_create_fiber(0);
#endif
	gpi_md_makectx(&l->l_ctx, l->l_stklo, l, gpi_lwp_start, l);

	/*
	 * Join the process under p_lock, and only while the runtime is up:
	 * gp_shutdown() sets RT_STOPPING and then kills what it finds on
	 * p_lwps under the same lock, so no LWP slips past it.
	 */
	gpi_spin_lock(&p->p_lock);
	if (atomic_load(&gpi_rt.rt_state) != GPI_RT_UP) {
		gpi_spin_unlock(&p->p_lock);
#ifdef GPI_TSAN
		__tsan_destroy_fiber(l->l_tsan_fiber);
#endif
		gpi_stack_free(w, l);
		return EAGAIN;
	}
	/* Counted before it is visible, so gp_shutdown never undercounts. */
	count_created(w);
	l->l_pprev = NULL;
	if ((l->l_pnext = p->p_lwps) != NULL)
		p->p_lwps->l_pprev = l;
	p->p_lwps = l;
	p->p_nthreads++;
	gpi_spin_unlock(&p->p_lock);

	*lp = l;
	gpi_sched_new(l);
	return 0;
}

void
gpi_lwp_start(void *arg)
{
	struct gp_lwp *l = arg;

	gpi_sched_enter_first(l);
	/* A process killed before this LWP ever ran: die at once. */
	gpi_userret();
	gpi_lwp_exit(l->l_fn(l->l_arg));
}

/*
 * End the calling LWP with (retval).  Never returns.
 *
 * The seed's lwp_exit(): unlink from the process, then leave the stack
 * to the worker's dead list; the next context frees it (gpi_reaplwps).
 */
void
gpi_lwp_exit(void *retval)
{
	struct gp_lwp *l = gpi_curlwp();
	struct gp_proc *p = l->l_proc;
	struct gp_worker *w = l->l_worker;

	l->l_retval = retval;
	gpi_spin_lock(&p->p_lock);
	if (l->l_pprev != NULL)
		l->l_pprev->l_pnext = l->l_pnext;
	else
		p->p_lwps = l->l_pnext;
	if (l->l_pnext != NULL)
		l->l_pnext->l_pprev = l->l_pprev;
	p->p_nthreads--;
	gpi_spin_unlock(&p->p_lock);

	/*
	 * Hand off to a joiner parked on this worker: wake it now, so that
	 * it is what we switch to, instead of a trip through the scheduler
	 * loop to reap us first.  It cannot see us before we are DEAD: every
	 * context reaps this worker's dead list before anything else once it
	 * is switched to.  A joiner elsewhere is woken by gpi_reaplwps().
	 */
	if ((atomic_load_explicit(&l->l_jstate, memory_order_acquire) &
	    GPI_J_JOINER) && l->l_joiner != NULL &&
	    l->l_joiner->l_worker == w) {
		l->l_handoff = true;
		/* Not asleep: it yielded to us (gp_lwp_join) and is queued. */
		if (l->l_joiner->l_stat == GPI_LSLEEP)
			gpi_wakeup(&l->l_jstate);
	}
	l->l_stat = GPI_LZOMB;
	l->l_next = w->w_dead;
	w->w_dead = l;
	gpi_mi_switch(l);
	GPI_PANIC("dead LWP %d resumed", l->l_tid);
}

void
gpi_userret(void)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l != NULL && unlikely(atomic_load_explicit(&l->l_flags,
	    memory_order_relaxed) & GPI_LWP_WEXIT))
		gpi_lwp_exit(LWP_CANCELED);
}

/* Mark (l) killed and get it out of any sleep.  Never blocks. */
void
gpi_lwp_kill(struct gp_lwp *l)
{
	atomic_fetch_or(&l->l_flags, GPI_LWP_WEXIT);	/* seq_cst: [I1'] */
	gpi_sleep_interrupt(l);
}

/* ------------------------------------------------------------ public */

int
gp_lwp_create(gp_lwp_t *lwp, void *(*fn)(void *), void *arg,
    const gp_attr_t *attr)
{
	struct gp_lwp *cur = gpi_curlwp();

	if (lwp == NULL || fn == NULL)
		return EINVAL;
	return gpi_lwp_create(cur != NULL ? cur->l_proc : &gpi_proc0, lwp, fn,
	    arg, attr);
}

void
gp_lwp_exit(void *retval)
{
	if (gpi_curlwp() == NULL)
		GPI_PANIC("gp_lwp_exit called on a host thread");
	gpi_lwp_exit(retval);
}

static void	yield(struct gp_lwp *l);

/*
 * The joiner (cur) is killed mid-join: give (l) back to be joined by
 * someone else, or free it if it died meanwhile, then die.
 */
static _Noreturn void
join_killed(struct gp_lwp *cur, struct gp_lwp *l)
{
	int js = atomic_fetch_and(&l->l_jstate, ~GPI_J_JOINER);

	if (js & GPI_J_DEAD)
		lwp_free(cur->l_worker, l);
	gpi_lwp_exit(LWP_CANCELED);
}

static inline bool
killed(struct gp_lwp *l)
{
	return l != NULL && (atomic_load_explicit(&l->l_flags,
	    memory_order_relaxed) & GPI_LWP_WEXIT);
}

int
gp_lwp_join(gp_lwp_t l, void **retval)
{
	struct gp_lwp *cur = gpi_curlwp();
	int js;

	if (l == NULL)
		return ESRCH;
	if (l == cur)
		return EDEADLK;
	js = atomic_load(&l->l_jstate);
	do {
		if (js & (GPI_J_DETACH | GPI_J_JOINER))
			return EINVAL;
		/* Published by the CAS (seq_cst) below. */
		l->l_joiner = cur;
	} while (!atomic_compare_exchange_weak(&l->l_jstate, &js,
	    js | GPI_J_JOINER));

	/*
	 * A child still waiting in our runnext slot runs next anyway: yield
	 * to it instead of sleeping.  If it ends without blocking, we find
	 * it DEAD when we run again (it hands off to us, see
	 * gpi_lwp_exit), with no trip through a sleep queue; else we sleep
	 * below.  w_runnext is ours alone, so the test is race-free.
	 */
	if (cur != NULL && cur->l_worker->w_runnext == l) {
		yield(cur);
		if (killed(cur))
			join_killed(cur, l);
	}

	/* The seed's lwp_wait(): sleep until the reaper marks it DEAD. */
	while (!((js = atomic_load_explicit(&l->l_jstate,
	    memory_order_acquire)) & GPI_J_DEAD)) {
		if (gpi_tsleep(&l->l_jstate, &l->l_jstate, js, 0, 0) ==
		    EINTR && killed(cur))
			join_killed(cur, l);
	}
	if (retval != NULL)
		*retval = l->l_retval;
	lwp_free(cur != NULL ? cur->l_worker : NULL, l);
	if (killed(cur))
		gpi_lwp_exit(LWP_CANCELED);
	return 0;
}

int
gp_lwp_detach(gp_lwp_t l)
{
	int js;

	if (l == NULL)
		return ESRCH;
	js = atomic_load(&l->l_jstate);
	do {
		if (js & (GPI_J_DETACH | GPI_J_JOINER))
			return EINVAL;
	} while (!atomic_compare_exchange_weak(&l->l_jstate, &js,
	    js | GPI_J_DETACH));
	if (js & GPI_J_DEAD)
		lwp_free(gpi_curworker(), l);
	return 0;
}

gp_lwp_t
gp_lwp_self(void)
{
	return gpi_curlwp();
}

/* Go to the tail of our worker's runq: everything runnable goes first. */
static void
yield(struct gp_lwp *l)
{
	struct gp_worker *w = l->l_worker;

	l->l_stat = GPI_LRUN;
	l->l_nvcsw++;
	l->l_next = NULL;
	if (w->w_runq.q_tail != NULL)
		w->w_runq.q_tail->l_next = l;
	else
		w->w_runq.q_head = l;
	w->w_runq.q_tail = l;
	gpi_mi_switch(l);
}

void
gp_yield(void)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL) {
		sched_yield();
		return;
	}
	yield(l);
	if (killed(l))
		gpi_lwp_exit(LWP_CANCELED);
}

int
gp_nanosleep(const struct timespec *req, struct timespec *rem)
{
	struct gp_lwp *l;
	uint64_t deadline, now;
	int error;

	if (req == NULL || req->tv_sec < 0 || req->tv_nsec < 0 ||
	    req->tv_nsec >= 1000000000L) {
		errno = EINVAL;
		return -1;
	}
	if ((l = gpi_curlwp()) == NULL)
		return nanosleep(req, rem);
	deadline = gpi_now() + (uint64_t)req->tv_sec * 1000000000u +
	    (uint64_t)req->tv_nsec;
	do {
		/* Nobody wakes our private channel; only time or a signal. */
		error = gpi_tsleep(&l->l_sleeper, NULL, 0, GPI_PCATCH,
		    deadline);
	} while (error == 0);
	gpi_userret();
	if (error == EINTR) {
		if (rem != NULL) {
			now = gpi_now();
			now = now < deadline ? deadline - now : 0;
			rem->tv_sec = (time_t)(now / 1000000000u);
			rem->tv_nsec = (long)(now % 1000000000u);
		}
		errno = EINTR;
		return -1;
	}
	return 0;
}
