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
 * is per worker and batched, with no global lock.  The one exception: an
 * LWP whose joiner is of its own process and waits on its worker sets
 * DEAD itself just before its last switch and goes on no dead list (see
 * lwp_die and gpi_lwp_exit for why that is safe).
 *
 * Who frees an exited LWP (its stack and struct):
 *	detached, not ZLIST	its worker, in gpi_reaplwps (touches only l)
 *	ZLIST (joinable exit)	its joiner or late detacher, under p_lock;
 *				or, if nobody does, the reaper of its process
 *				(gpi_proc_reap), which also frees the master
 * ZLIST is set at exit, under p_lock, exactly when the LWP is not
 * detached (or is the master), and puts it on p_zlwps.  A killed joiner
 * just gives up (clears JOINER): the process reap collects what is left.
 */
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "internal.h"

#ifdef GPI_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* Go to the tail of (w)'s runq, (l)'s worker: everything runnable first. */
static inline void
runq_tail_switch(struct gp_lwp *l, struct gp_worker *w)
{
	__atomic_store_n(&l->l_stat, GPI_LRUN, __ATOMIC_RELAXED);
	l->l_next = NULL;
	if (w->w_runq.q_tail != NULL)
		w->w_runq.q_tail->l_next = l;
	else
		w->w_runq.q_head = l;
	w->w_runq.q_tail = l;
	gpi_mi_switch(l);
}

/*
 * gpi_lwp_yield of the LWP marked in (w)'s w_althandler.  On the
 * altstack it does nothing.  Elsewhere the LWP has left its handler (a
 * longjmp): the mark goes, and so does whatever the handler's blocking
 * (fault.c, call_handler) left in the kernel's mask, which is the
 * worker's and not the LWP's (a plain longjmp restores no mask, and the
 * next LWP's fault would kill the host); then it yields.  Out of line,
 * cold, and not returning into the fast path: the compiler kept (w) in
 * a saved register across the pthread_sigmask call for the fast path's
 * sake, a push and a pop on every yield (callgrind: 120 -> 124), and
 * 4 instructions more on every spawn where the yield is inlined.
 */
static __attribute__((__noinline__, __cold__)) void
yield_marked(struct gp_lwp *l, struct gp_worker *w)
{
	if ((uintptr_t)__builtin_frame_address(0) - (uintptr_t)w->w_altstack <
	    GPI_ALTSTACK_SIZE)
		return;
	w->w_althandler = NULL;
	GPI_LIBC(pthread_sigmask)(SIG_SETMASK, &gpi_rt.rt_workmask, NULL);
	runq_tail_switch(l, l->l_worker);
}

/* Go to the tail of our worker's runq: everything runnable goes first. */
void
gpi_lwp_yield(struct gp_lwp *l)
{
	struct gp_worker *w = l->l_worker;

	/*
	 * WARNING: not from a signal handler on the worker's signal stack
	 * (a program's fault handler that fault.c chained to, on an LWP:
	 * JVMs unmask signals there, a signal point; or it calls
	 * sched_yield).  The stack is the worker's, not the LWP's: the next
	 * fault on this worker, of another LWP, would build its frame over
	 * ours, and we would return into it.  Natively a handler runs on
	 * its own thread's stack; here it keeps the worker to the end.
	 * (Sleeping there is not covered: ARCHITECTURE 21.)  One compare
	 * on the fast path; the stack is looked at only for that LWP, and
	 * a mark left by a handler that longjmp'd out is dropped there.
	 */
	if (unlikely(w->w_althandler == l)) {
		yield_marked(l, w);
		return;
	}
	runq_tail_switch(l, w);
}

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

/* Set by the preload's constructors: passthrough data. */
void (*gpi_lwp_exit_hook)(struct gp_lwp *) GPI_PASSDATA;
void (*gpi_lwp_cancel_hook)(struct gp_lwp *) GPI_PASSDATA;
void (*gpi_lwp_death_hook)(struct gp_lwp *) GPI_PASSDATA;
void (*gpi_lwp_free_hook)(struct gp_lwp *) GPI_PASSDATA;

/* gpi_lwp_free's rare half: what the free LWP's constructed state lacks. */
GPI_NOINLINE void
gpi_lwp_free_extras(struct gp_lwp *l)
{
	if (atomic_load_explicit(&l->l_handle, memory_order_relaxed) != 0)
		gpi_lwp_free_hook(l);
	if (l->l_specific != NULL) {
		free(l->l_specific);
		l->l_specific = NULL;
	}
	if (l->l_tls != NULL || l->l_tlsdtors != NULL)
		gpi_tls_lwp_free(l);
	if (l->l_ustack)
		gpi_stack_unborrow(l);
}

void
gpi_lwp_free(struct gp_worker *w, struct gp_lwp *l)
{
	gpi_lwp_free_inline(w, l);
}

void
gpi_reaplwps(struct gp_worker *w)
{
	struct gp_lwp *l, *next;
	struct gp_proc *autoreap;
	int old;

	for (l = w->w_dead, w->w_dead = NULL; l != NULL; l = next) {
		next = l->l_next;
		autoreap = l->l_autoreap;
		GPI_BUMP(w->w_nexited, 1);
		/*
		 * Acq_rel: DEAD releases l_retval and the dead stack to the
		 * joiner's acquire load; the acquire side orders a detacher's
		 * earlier writes before our free.
		 * WARNING: unless we free it here, l may be freed by another
		 * thread as soon as DEAD is set; do not touch it after.
		 */
		old = atomic_load_explicit(&l->l_jstate, memory_order_relaxed);
		if (old & GPI_J_HANDOFF) {
			/*
			 * Single owner: HANDOFF says the joiner is parked on
			 * this worker (gpi_lwp_exit), so no thread but this
			 * one can write l_jstate now: a detach or a second
			 * join fails on JOINER without writing, and only the
			 * joiner itself takes JOINER back (killed, timed
			 * out), when it runs here.  A plain store, no locked
			 * RMW; release, for the joiner's acquire.
			 */
			atomic_store_explicit(&l->l_jstate, old | GPI_J_DEAD,
			    memory_order_release);
		} else {
			old = atomic_fetch_or_explicit(&l->l_jstate,
			    GPI_J_DEAD, memory_order_acq_rel);
		}
		if ((old & (GPI_J_DETACH | GPI_J_ZLIST)) == GPI_J_DETACH)
			gpi_lwp_free(w, l);
		else if ((old & GPI_J_JOINER) && !(old & GPI_J_HANDOFF))
			gpi_wakeup(&l->l_jstate);	/* only a key: no deref */
		/* A process nobody waits for: reap it as init does. */
		if (autoreap != NULL)
			gpi_proc_reap(autoreap);
	}
}

static void
list_remove(struct gp_lwp **head, struct gp_lwp *l)
{
	GPI_DLIST_REMOVE(head, l, l_pnext, l_pprev);
}

/*
 * The live LWP of (p) whose gettid() is (tid) (gpi_lwp_gettid), returned
 * with p_lock held, so it cannot exit before the caller is done with it;
 * NULL, nothing held, if there is none.  *pidp is the p_pid the lock was
 * taken for.  An id below GPI_GREEN_TID_BASE can only be the host pid,
 * main's (the caller checked it): so no getpid system call is made
 * under the lock.
 */
struct gp_lwp *
gpi_lwp_tid_lock(struct gp_proc *p, pid_t tid, pid_t *pidp)
{
	pid_t pid = __atomic_load_n(&p->p_pid, __ATOMIC_RELAXED);
	bool main = tid < GPI_GREEN_TID_BASE;
	struct gp_lwp *x;

	if (!gpi_proc_lock_pid(p, pid))
		return NULL;
	for (x = p->p_lwps; x != NULL; x = x->l_pnext)
		if (gpi_lwp_is_hostmain(x) == main &&
		    (main || gpi_lwp_green_tid(x) == tid))
			break;
	if (x == NULL)
		gpi_spin_unlock(&p->p_lock);
	*pidp = pid;
	return x;
}

static void
list_insert(struct gp_lwp **head, struct gp_lwp *l)
{
	GPI_DLIST_INSERT_HEAD(head, l, l_pnext, l_pprev);
}

/*
 * (l)'s first name: (cur)'s, or with no creator LWP its kernel thread's.
 * That one is asked of the kernel, a system call, so only under the
 * preload, where the host creator is greenrun's (its main LWP gets the
 * program's name): a linked program's host thread that spawns in a loop
 * paid it every time (host-thread spawn+exit+wait 1.7 -> 3.5 us).  A
 * linked program's LWPs made by a host thread start unnamed, as before.
 * The copy is inline (two moves); the call and its test were 8
 * instructions of every create+join.
 */
static GPI_NOINLINE void
lwp_name_host(struct gp_lwp *l)
{
	if (!gpi_preloaded ||
	    GPI_LIBC(syscall)(SYS_prctl, PR_GET_NAME, l->l_name) != 0)
		l->l_name[0] = '\0';
}

static inline void
lwp_name_init(struct gp_lwp *l, const struct gp_lwp *cur)
{
	if (cur == NULL)
		lwp_name_host(l);
	else
		memcpy(l->l_name, cur->l_name, sizeof(l->l_name));
}

/*
 * gpi_lwp_create's body, for (w) and (cur), the calling worker and LWP
 * (NULL on a host thread).  Always inline: gp_lwp_create has a copy of
 * its own for its common case, an LWP making a thread of its process
 * with no attributes, in which every test of (attr), (cur) and (w) below
 * folds away (about 30 instructions of 160); and a spawn has one for
 * its new process's master (gpi_lwp_create_master), (master) true.
 */
static inline __attribute__((__always_inline__)) int
lwp_create(struct gp_worker *w, struct gp_lwp *cur, struct gp_proc *p,
    struct gp_lwp **lp, void *(*fn)(void *), void *arg,
    const gp_attr_t *attr, bool run, bool master)
{
	struct gp_lwp *l;
	/* A live LWP of (p) makes it: p has a thread, it runs on (w). */
	bool own = !master && cur != NULL && cur->l_proc == p, fresh;
	int error, tls = attr != NULL ? attr->a_tls : GPI_TLS_OFF;

	/*
	 * A master's spawn has just made sure of the runtime (spawn(), in
	 * proc.c, the only maker of masters): a second look is 8
	 * instructions a spawn for nothing.  A shutdown that begins in
	 * between is caught below, by the RT_UP test every LWP passes.
	 */
	if (!master && (error = gpi_runtime_ensure()) != 0)
		return error;
	/*
	 * On its creator's stack it needs a slot only for its struct: a
	 * default one, from the caches, of which it touches the top page.
	 */
	if (attr != NULL && attr->a_stackaddr == NULL && attr->a_guardset)
		l = gpi_stack_alloc_guarded(w, attr->a_stacksize,
		    attr->a_guardsize);
	else
		l = gpi_stack_alloc(w, attr != NULL &&
		    attr->a_stackaddr == NULL ? attr->a_stacksize : 0);
	if (l == NULL)
		return errno;
	/*
	 * A free LWP is kept in its constructed state (as Bonwick's slab
	 * objects, and as process structs are, proc.c): what an LWP empties
	 * before it is freed is not set again here.  l_heapidx is -1 once
	 * off the timer heap; l_robust, l_once and l_fdpark are NULL once
	 * it has died (gpi_lwp_dying; lwp_die asserts it); l_specific and
	 * l_tls are NULL after gpi_lwp_free; l_handle is 0 after the free
	 * hook; l_sleeper is off every bucket, its s_lwp constant; and
	 * l_retval, l_joiner and l_joinerw are read only after the exit or
	 * the JOINER bit that writes them.  slot_init makes a fresh stack's
	 * struct so; DEBUG builds check it.
	 */
	KASSERT(l->l_heapidx == -1 && l->l_robust == NULL &&
	    l->l_once == NULL && l->l_fdpark == NULL &&
	    l->l_specific == NULL && l->l_tls == NULL &&
	    l->l_tlsdtors == NULL && atomic_load(&l->l_handle) == 0 &&
	    !l->l_ustack && l->l_stklo == l->l_ownlo &&
	    l->l_sleeper.s_lwp == l &&
	    atomic_load(&l->l_sleeper.s_bucket) == NULL);
	l->l_proc = p;
	l->l_fn = fn;
	l->l_arg = arg;
	__atomic_store_n(&l->l_stat, GPI_LIDL, __ATOMIC_RELAXED);
	l->l_autoreap = NULL;
	l->l_master = l->l_root = false;
	l->l_nopreempt = 0;
	l->l_magic = GPI_LWP_MAGIC;
	atomic_init(&l->l_cancel, 0);
	l->l_cleanup = NULL;
	l->l_schedpolicy = l->l_schedprio = 0;	/* SCHED_OTHER, 0 */
	/* Its creator's nice value, as the kernel copies it at clone. */
	l->l_nice = cur != NULL ? __atomic_load_n(&cur->l_nice,
	    __ATOMIC_RELAXED) : 0;
	/*
	 * A thread starts with its creator's mask (POSIX pthread_create);
	 * a process's first LWP gets its mask from gpi_sig_fork.
	 */
	l->l_sigmask = own ? cur->l_sigmask : 0;	/* (o): cur is us */
	l->l_siglist = 0;
	l->l_sigq = NULL;
	/*
	 * Its creator's name, as the kernel's clone copies the comm: a
	 * host creator's is its kernel thread's (greenrun's main LWP gets
	 * the program's).  It started empty, so pthread_getname_np in
	 * greenrun's main said "" where /proc said the program's name
	 * (glibc's tst-setgetname, gr_threadname).
	 */
	lwp_name_init(l, cur);
	l->l_nvcsw = l->l_nivcsw = 0;
	l->l_rdrained = 0;	/* its last read and write: none yet */
	/* l_runtick is 0 already: it is 0 whenever the LWP is off the CPU. */
	__atomic_store_n(&l->l_ticks, 0, __ATOMIC_RELAXED);
	atomic_init(&l->l_flags, 0);
	atomic_init(&l->l_jstate,
	    attr != NULL && attr->a_detached ? GPI_J_DETACH : 0);
	/* An LWP with its own TLS makes threads with their own TLS. */
	if (tls == GPI_TLS_OFF && cur != NULL && cur->l_tls != NULL)
		tls = GPI_TLS_INIT;
	/* Constructed state: l_tls and l_tlsdtors are NULL already. */
	if (tls > GPI_TLS_OFF && (error = gpi_tls_lwp_init(l, tls)) != 0) {
		gpi_stack_free(w, l);
		return error;
	}
	l->l_tid = new_tid(w);
#ifdef GPI_TSAN
	l->l_tsan_fiber = __tsan_create_fiber(0);
#endif
	/* Constructed state: slot_init made the context once (stack.c). */
	KASSERT(gpi_md_renewable(l, gpi_lwp_start, l));
	l->l_stkasked = attr != NULL ? attr->a_stackasked : 0;
	if (attr != NULL && attr->a_stackaddr != NULL)
		gpi_stack_borrow(l, attr->a_stackaddr, attr->a_stacksize);
	else
		gpi_md_renewctx(&l->l_ctx, l->l_stklo, l, gpi_lwp_start, l);

	/*
	 * Join the process under p_lock, and only while the runtime is up:
	 * gp_shutdown() sets RT_STOPPING and then kills what it finds on
	 * p_lwps under the same lock, so no LWP slips past it.  The first
	 * LWP of a process being spawned needs no lock: nobody can find
	 * the process yet (its pid is not published; a stale reader of the
	 * reused struct checks another pid), and shutdown kills it once
	 * published.  (One made by a live LWP of its own is not fresh.)
	 */
	fresh = master || (!own && p != &gpi_proc0 && atomic_load_explicit(
	    &p->p_nthreads, memory_order_relaxed) == 0);
	KASSERT(!master || (p != &gpi_proc0 && atomic_load_explicit(
	    &p->p_nthreads, memory_order_relaxed) == 0));
	if (!fresh)
		gpi_spin_lock(&p->p_lock);
	/*
	 * A master's process is not exiting: spawn() cleared its p_flags,
	 * and nobody can reach it yet to set WEXIT (unpublished, unlinked;
	 * a stale reader's recheck of p_pid fails).
	 */
	if (atomic_load(&gpi_rt.rt_state) != GPI_RT_UP ||
	    (!master && (gpi_pflags(p) & GPI_P_WEXIT))) {
		if (!fresh)
			gpi_spin_unlock(&p->p_lock);
#ifdef GPI_TSAN
		__tsan_destroy_fiber(l->l_tsan_fiber);
#endif
		gpi_tls_lwp_free(l);
		if (l->l_ustack)
			gpi_stack_unborrow(l);
		gpi_stack_free(w, l);
		return EAGAIN;
	}
	/*
	 * A process being killed (a kill that came during gp_exec, say)
	 * kills its new LWPs too: they die at their first cancellation point.
	 */
	if (__atomic_load_n(&p->p_killsig, __ATOMIC_RELAXED) != 0)
		atomic_fetch_or(&l->l_flags, GPI_LWP_WEXIT);
	/* Counted before it is visible, so gp_shutdown never undercounts. */
	count_created(w);
	GPI_DLIST_INSERT_HEAD(&p->p_lwps, l, l_pnext, l_pprev);
	atomic_store_explicit(&p->p_nthreads,
	    atomic_load_explicit(&p->p_nthreads, memory_order_relaxed) + 1,
	    memory_order_relaxed);
	if (!fresh)
		gpi_spin_unlock(&p->p_lock);

	*lp = l;
	if (run)
		gpi_sched_new_on(cur != NULL ? w : NULL, l);
	return 0;
}

int
gpi_lwp_create(struct gp_proc *p, struct gp_lwp **lp, void *(*fn)(void *),
    void *arg, const gp_attr_t *attr, bool run)
{
	return lwp_create(gpi_curworker(), gpi_curlwp(), p, lp, fn, arg, attr,
	    run, false);
}

int
gpi_lwp_create_master(struct gp_worker *w, struct gp_lwp *cur,
    struct gp_proc *p, struct gp_lwp **lp, const gp_attr_t *attr)
{
	KASSERT(w == gpi_curworker() && cur == gpi_curlwp());
	return lwp_create(w, cur, p, lp, gpi_proc_main, p, attr, false, true);
}

/* Undo a gpi_lwp_create(.., false) whose LWP never ran. */
void
gpi_lwp_discard(struct gp_lwp *l)
{
	struct gp_proc *p = l->l_proc;

	gpi_spin_lock(&p->p_lock);
	list_remove(&p->p_lwps, l);
	atomic_fetch_sub(&p->p_nthreads, 1);
	gpi_spin_unlock(&p->p_lock);
	gpi_lwp_free(gpi_curworker(), l);
}

/*
 * Take exiting LWP (l) off p's live list; unless detached, it goes on
 * p_zlwps (ZLIST) until freed.  The master always does: its process's
 * reaper frees it.  Returns the LWPs left.  Caller holds p->p_lock.
 *
 * *ownedp says whether the joiner waits on this worker (the single owner
 * below); then (extra) is set in l_jstate with ZLIST, in the same store
 * (gpi_lwp_exit's HANDOFF).  Always inline: gpi_lwp_exit, on every
 * create+join, tests the joiner once and makes no call for it.
 */
static inline __attribute__((__always_inline__)) int
lwp_unlink(struct gp_proc *p, struct gp_lwp *l, bool master, int extra,
    bool *ownedp)
{
	struct gp_worker *w;
	int js, n;

	GPI_LOCK_ASSERT(&p->p_lock);
	list_remove(&p->p_lwps, l);
	if (unlikely(l->l_sigq != NULL))	/* signals left for it alone */
		gpi_sig_lwp_gone(l);
	n = atomic_load_explicit(&p->p_nthreads, memory_order_relaxed) - 1;
	atomic_store_explicit(&p->p_nthreads, n, memory_order_relaxed);
	if (!master) {
		p->p_ru.ru_nvcsw += l->l_nvcsw;
		p->p_ru.ru_nivcsw += l->l_nivcsw;
	}
	js = atomic_load_explicit(&l->l_jstate, memory_order_acquire);
	if ((js & GPI_J_JOINER) && (w = gpi_curworker()) != NULL &&
	    l->l_joinerw == w) {
		/*
		 * Single owner: the joiner waits on the worker that runs
		 * this code, so nothing else writes l_jstate now (see
		 * gpi_reaplwps): a detach or a second join fails on JOINER
		 * without writing, and only the joiner takes JOINER back,
		 * when it runs, here.  A joiner on this worker is an LWP.
		 */
		KASSERT(l->l_joiner != NULL && l->l_joiner != gpi_curlwp() &&
		    l->l_joiner->l_worker == w);
		*ownedp = true;
		atomic_store_explicit(&l->l_jstate, js | GPI_J_ZLIST | extra,
		    memory_order_relaxed);
	} else {
		*ownedp = false;
		do {
			if ((js & GPI_J_DETACH) && !master)
				return n;
		} while (!atomic_compare_exchange_weak(&l->l_jstate, &js,
		    js | GPI_J_ZLIST));
	}
	/*
	 * Init is never reaped, so its list would serve nothing: an init
	 * LWP nobody joins is freed at shutdown, as pthread leaks one.
	 */
	if (p != &gpi_proc0)
		list_insert(&p->p_zlwps, l);
	return n;
}

int
gpi_lwp_unlink(struct gp_proc *p, struct gp_lwp *l, bool master)
{
	bool owned;

	return lwp_unlink(p, l, master, 0, &owned);
}

/*
 * lwp_die without the hand-off, out of line: only gpi_lwp_exit, on every
 * create+join, has it inline (a call and a prologue that save registers
 * for a function that never returns, some 10 instructions).
 */
static GPI_NOINLINE _Noreturn void
lwp_die_listed(struct gp_lwp *l, struct gp_worker *w)
{
	gpi_lwp_die(l, w, false, false);
}

/*
 * End the calling LWP, (l), with (retval).  Never returns.
 *
 * The seed's lwp_exit(): unlink from the process, then leave the stack
 * to the worker's dead list; the next context frees it (gpi_reaplwps).
 * The last LWP of a green process does not simply leave: that is the
 * process's exit (gpi_proc_lastlwp), decided under p_lock so that of two
 * LWPs leaving at once exactly one is last.
 *
 * Out of line, with (l) for an argument: gpi_lwp_start enters it by
 * gpi_md_call_last (no return stack buffer entry) and has (l) at hand;
 * inlined there, it grew gpi_lwp_start's prologue, which a spawn's
 * master pays too, and moved gcc's inlining elsewhere in the runtime
 * (+31 instructions a spawn in the .so).
 */
static __attribute__((__noinline__)) _Noreturn void
lwp_exit(struct gp_lwp *l, void *retval)
{
	struct gp_lwp *joiner;
	struct gp_proc *p = l->l_proc;
	struct gp_worker *w = l->l_worker;
	bool handoff = false, owned;
	int n;

	gpi_fence(w);		/* nothing of p before: see runtime.c */
	l->l_retval = retval;
	/*
	 * thread_local destructors, then pthread key destructors (preload),
	 * as glibc's start_thread orders them; not if it was killed.
	 */
	if (l->l_tlsdtors != NULL && retval != LWP_CANCELED)
		gpi_tls_run_dtors(l);
	if (gpi_lwp_exit_hook != NULL && retval != LWP_CANCELED)
		gpi_lwp_exit_hook(l);
	/* Before the unlink: killalllwps, then exit1's notice, wait for it. */
	gpi_lwp_dying(l);
	gpi_spin_lock(&p->p_lock);
	if (p != &gpi_proc0 && !(gpi_pflags(p) & GPI_P_WEXIT) &&
	    atomic_load_explicit(&p->p_nthreads, memory_order_relaxed) == 1) {
		gpi_spin_unlock(&p->p_lock);
		gpi_proc_lastlwp(l);
	}
	/*
	 * Hand off to a joiner parked on this worker (owned): HANDOFF goes
	 * in with ZLIST, and the joiner is woken below, so that it is what
	 * we switch to, instead of a trip through the scheduler loop to reap
	 * us first.  It cannot see us before we are DEAD: either we set DEAD
	 * ourselves (lwp_die's hand-off), or every context reaps this
	 * worker's dead list before anything else once it is switched to.
	 * A joiner elsewhere is woken by gpi_reaplwps().  The test is on
	 * l_joinerw, not l_joiner->l_worker: a joiner elsewhere may give up
	 * and be freed meanwhile; one on our worker cannot (we are running).
	 */
	n = lwp_unlink(p, l, false, GPI_J_HANDOFF, &owned);
	/*
	 * A detached LWP is on no list its process's reaper waits for, so
	 * the process may be gone by the time we are off the CPU: charge our
	 * slice now and tell the switch not to (l_master).
	 */
	if (p != &gpi_proc0 && !owned &&
	    !(atomic_load(&l->l_jstate) & GPI_J_ZLIST)) {
		gpi_charge(w, p);
		l->l_master = true;
	}
	gpi_spin_unlock(&p->p_lock);
	/* killalllwps() waits for the exiter to be the last one left. */
	if (n == 1 && (gpi_pflags(p) & (GPI_P_WEXIT | GPI_P_INEXEC)))
		gpi_wakeup(&p->p_nthreads);

	if (owned) {
		joiner = l->l_joiner;
		/* Not asleep: it yielded to us (gp_lwp_join) and is queued. */
		if (joiner->l_stat == GPI_LSLEEP)
			gpi_wakeup(&l->l_jstate);
		/*
		 * A joiner of our own process: nobody but it frees us (the
		 * single owner), it runs only after we are off this worker,
		 * and the process cannot be reaped (which frees its p_zlwps)
		 * before that joiner, one of its live LWPs, has run and
		 * left.  So DEAD can be set before the switch: no dead list,
		 * no gpi_reaplwps on the way into the joiner.  Not so with a
		 * joiner of another process: ours could then exit and be
		 * reaped on another worker, which frees its p_zlwps, while
		 * we are still on this stack.
		 */
		handoff = joiner->l_proc == p;
	}
	gpi_lwp_die(l, w, handoff, true);
}

void
gpi_lwp_exit(void *retval)
{
	/*
	 * A call, not gpi_md_call_last: this function makes no other call,
	 * so gcc keeps no 16-byte alignment in it, and a jump from here
	 * would enter lwp_exit misaligned (seen: a movaps fault in printf
	 * under the preload's pthread_exit).
	 */
	lwp_exit(gpi_curlwp(), retval);
}

void
gpi_lwp_start(void *arg)
{
	struct gp_lwp *l = arg;

	gpi_sched_enter_first(l);
	/*
	 * A process killed before this LWP ever ran: die at once.  Not a
	 * cancellation point: a pthread_cancel that came first acts at the
	 * thread's first one, after its start routine pushed its cleanup
	 * handlers (POSIX; the Open POSIX suite's pthread_exit/2-1).
	 */
	gpi_sigpoint_l(l);
	/*
	 * A spawn's master never returns from its entry: jump there.  Its
	 * l_arg is its process; l_proc is passed, so that l_arg is loaded
	 * only for the call below (a register move less a create+join).
	 */
	if (l->l_fn == gpi_proc_main)
		gpi_md_call_last(gpi_proc_start, l, l->l_proc);
	gpi_md_call_last(lwp_exit, l, l->l_fn(l->l_arg));
}

void
gpi_lwp_die_by_proxy(struct gp_lwp *l)
{
	gpi_lwp_dying(l);	/* a fault's proxy: nobody ran it yet */
	lwp_die_listed(l, l->l_worker);
}

/* extexit(LWP): end the calling LWP unless it is the last one. */
bool
gpi_lwp_exit_unless_last(void)
{
	struct gp_proc *p = gpi_curproc();

	if (atomic_load(&p->p_nthreads) > 1)
		gpi_lwp_exit(NULL);
	return false;
}

/* Spin-wait step: let others run (a green caller yields its worker). */
void
gpi_relax_yield(void)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l != NULL)
		gpi_lwp_yield(l);
	else
		gpi_os_yield();
}

void
gpi_userret(void)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l != NULL)
		gpi_userret_l(l);
}

/*
 * The kill half of a cancellation point (cancel), or of a signal point:
 * a killed LWP dies here; at a cancellation point a cancelled one
 * unwinds (preload).  A kill wins over a cancel: its process is going,
 * nothing of the thread's is run.  Without (cancel) a pending
 * pthread_cancel is a separate flag (GPI_LWP_CANCEL) that waits for a
 * real cancellation point, so a kill there is always its process's.
 */
static inline __attribute__((__always_inline__)) void
die_or_cancel(struct gp_lwp *l, bool cancel)
{
	unsigned f = atomic_load_explicit(&l->l_flags, memory_order_relaxed);

	if (unlikely(f & GPI_LWP_WEXIT))
		gpi_lwp_exit(LWP_CANCELED);
	if (cancel && unlikely(f & GPI_LWP_CANCEL) &&
	    gpi_lwp_cancel_hook != NULL)
		gpi_lwp_cancel_hook(l);
}

/* The kill half of a cancellation point (gpi_testcancel_l, userret). */
void
gpi_userret_ex(struct gp_lwp *l)
{
	die_or_cancel(l, true);
}

/*
 * The slow path of a cancellation point (cancel) or of a signal point
 * (not cancel), when their inline fast path (gpi_userret_l,
 * gpi_sigpoint_l) saw something to do: a stop, handlers, death, and at a
 * cancellation point a cancel.  A signal point is also where a thread
 * that never blocks gives its worker back when the watchdog asks
 * (w_resched, which only gpi_sigpoint_l's fast path looks at): it
 * yields first.  Returns gpi_sig_ast's answer, true if no handler ran:
 * whether an interrupted call may go on (gpi_userret_restart).
 *
 * NOTE: always inlined into the out-of-line entries below, each with a
 * constant (cancel), so each is the straight code it was; the inline
 * fast paths in internal.h still call a one-argument function and are
 * the same size as before.
 */
static inline __attribute__((__always_inline__)) bool
userret(struct gp_lwp *l, bool cancel)
{
	bool restart = true;

	gpi_fence(l->l_worker);
	/* Held the worker for a slice: let what waits behind it run. */
	if (!cancel && atomic_load_explicit(&l->l_worker->w_resched,
	    memory_order_relaxed))
		gpi_lwp_yield(l);
	if (atomic_load(&l->l_flags) & GPI_LWP_AST)
		restart = gpi_sig_ast(l);	/* stop, handlers */
	/*
	 * Out of line at a cancellation point (a tail call): LTO inlines
	 * this slow path into some callers of the fast path, where the
	 * cancel half inline would only make them longer.
	 */
	if (cancel)
		gpi_userret_ex(l);
	else
		die_or_cancel(l, false);
	return restart;
}

/* A cancellation point with something to do. */
void
gpi_userret_slow(struct gp_lwp *l)
{
	(void)userret(l, true);
}

bool
gpi_userret_restart(struct gp_lwp *l)
{
	return userret(l, true);
}

bool
gpi_userret_resume(struct gp_lwp *l, bool restartable)
{
	unsigned long ran = l->l_nhandled;
	bool restart = userret(l, true);

	return l->l_nhandled == ran || (restart && restartable);
}

/* A signal point (not a cancellation point) with something to do. */
void
gpi_sigpoint_slow(struct gp_lwp *l)
{
	(void)userret(l, false);
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
	struct gp_worker *w = gpi_curworker();
	struct gp_lwp *cur = w != NULL ? w->w_curlwp : NULL;

	int error;

	if (lwp == NULL || fn == NULL)
		return EINVAL;
	/*
	 * The common case inline, specialized (lwp_create).  An LWP's
	 * create ends with a yield point, as gp_spawn does: a loop of
	 * creates gives the worker back when the watchdog asks.
	 */
	if (likely(cur != NULL && attr == NULL)) {
		error = lwp_create(w, cur, cur->l_proc, lwp, fn, arg, NULL,
		    true, false);
		gpi_resched_point(cur);
		return error;
	}
	error = gpi_lwp_create(cur != NULL ? cur->l_proc : &gpi_proc0, lwp,
	    fn, arg, attr, true);
	if (cur != NULL)
		gpi_resched_point(cur);
	return error;
}

void
gp_lwp_exit(void *retval)
{
	if (gpi_curlwp() == NULL)
		GPI_PANIC("gp_lwp_exit called on a host thread");
	gpi_lwp_exit(retval);
}


/*
 * The joiner (cur) is killed mid-join: give (l) back.  If it has exited
 * or will, it is on its process's p_zlwps, which the process reap frees.
 */
static _Noreturn void
join_killed(struct gp_lwp *l)
{
	atomic_fetch_and(&l->l_jstate, ~GPI_J_JOINER);
	gpi_lwp_exit(LWP_CANCELED);
}

/* Free exited joinable (l), now DEAD, off its p_zlwps. */
static inline void
free_joined(struct gp_lwp *cur, struct gp_lwp *l)
{
	struct gp_proc *p = l->l_proc;

	if (p != &gpi_proc0) {
		gpi_spin_lock(&p->p_lock);
		list_remove(&p->p_zlwps, l);
		gpi_spin_unlock(&p->p_lock);
	}
	gpi_lwp_free_inline(cur != NULL ? cur->l_worker : NULL, l);
}

static inline bool
killed(struct gp_lwp *l)
{
	return l != NULL && (atomic_load_explicit(&l->l_flags,
	    memory_order_relaxed) & GPI_LWP_WEXIT);
}

static inline bool
cancelled(struct gp_lwp *l)
{
	return l != NULL && (atomic_load_explicit(&l->l_flags,
	    memory_order_relaxed) & GPI_LWP_CANCEL);
}

static int join_sleep(struct gp_lwp *cur, struct gp_lwp *l,
    uint64_t deadline);

/*
 * pthread_join and its _np variants: wait until (deadline) (0: forever;
 * ETIMEDOUT after it), or with (try) not at all (EBUSY).  A join that
 * gives up leaves the LWP joinable.  May block.  (cur): the calling LWP,
 * NULL on a host thread.  Always inline: gp_lwp_join has an LWP's copy.
 */
static inline __attribute__((__always_inline__)) int
lwp_join(struct gp_lwp *cur, struct gp_lwp *l, void **retval,
    uint64_t deadline, bool try)
{
	int js, error;

	if (l == NULL)
		return ESRCH;
	if (l == cur)
		return EDEADLK;
	js = atomic_load(&l->l_jstate);
	do {
		if (js & (GPI_J_DETACH | GPI_J_JOINER))
			return EINVAL;
		if (try && !(js & GPI_J_DEAD))
			return EBUSY;
		/* Published by the CAS (seq_cst) below. */
		l->l_joiner = cur;
		l->l_joinerw = cur != NULL ? cur->l_worker : NULL;
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
		gpi_lwp_yield(cur);
		if (killed(cur))
			join_killed(l);
	}

	if (unlikely(!(atomic_load_explicit(&l->l_jstate,
	    memory_order_acquire) & GPI_J_DEAD)) &&
	    (error = join_sleep(cur, l, deadline)) != 0)
		return error;
	if (retval != NULL)
		*retval = l->l_retval;
	free_joined(cur, l);
	if (cur != NULL)
		gpi_userret_l(cur);
	return 0;
}

int
gpi_lwp_join(struct gp_lwp *l, void **retval, uint64_t deadline, bool try)
{
	return lwp_join(gpi_curlwp(), l, retval, deadline, try);
}

/*
 * The seed's lwp_wait(): sleep until the reaper marks (l) DEAD.  0, or
 * the error gpi_lwp_join returns (the join gave up).  Out of line: the
 * fast path (a child that ran to its end in our yield) does not pay for
 * it -- gcc hoisted the sleep-queue hash of &l_jstate out of this loop
 * into every join.
 */
static GPI_NOINLINE int
join_sleep(struct gp_lwp *cur, struct gp_lwp *l, uint64_t deadline)
{
	int js, error;

	while (!((js = atomic_load_explicit(&l->l_jstate,
	    memory_order_acquire)) & GPI_J_DEAD)) {
		error = gpi_tsleep(&l->l_jstate, &l->l_jstate, js, GPI_PCATCH,
		    deadline);
		if (error == ETIMEDOUT) {
			/* Give it back; it stays joinable. */
			js = atomic_fetch_and(&l->l_jstate, ~GPI_J_JOINER);
			if (!(js & GPI_J_DEAD))
				return ETIMEDOUT;
			atomic_fetch_or(&l->l_jstate, GPI_J_JOINER);
			break;		/* it died just now: ours after all */
		}
		/* pthread_join never fails with EINTR: handlers run, and on. */
		if (error == EINTR) {
			if (killed(cur))
				join_killed(l);
			if (cancelled(cur)) {
				/* A cancellation point: (l) stays joinable. */
				js = atomic_fetch_and(&l->l_jstate,
				    ~GPI_J_JOINER);
				gpi_userret_ex(cur);	/* unwinds, or not */
				if (js & GPI_J_DEAD) {
					/* It died meanwhile: still ours. */
					atomic_fetch_or(&l->l_jstate,
					    GPI_J_JOINER);
					break;
				}
				js = atomic_load(&l->l_jstate);
				do {
					if (js & (GPI_J_DETACH | GPI_J_JOINER))
						return EINVAL;
					l->l_joiner = cur;
					l->l_joinerw = cur->l_worker;
				} while (!atomic_compare_exchange_weak(
				    &l->l_jstate, &js, js | GPI_J_JOINER));
				continue;
			}
			(void)gpi_sig_ast(cur);
			if (killed(cur))
				join_killed(l);
		}
	}
	return 0;
}

int
gp_lwp_join(gp_lwp_t l, void **retval)
{
	struct gp_lwp *cur = gpi_curlwp();

	/* An LWP's join inline, with every test of (cur) folded away. */
	if (likely(cur != NULL))
		return lwp_join(cur, l, retval, 0, false);
	return gpi_lwp_join(l, retval, 0, false);
}

int
gp_lwp_detach(gp_lwp_t l)
{
	struct gp_lwp *cur = gpi_curlwp();
	int js;

	if (l == NULL)
		return ESRCH;
	js = atomic_load(&l->l_jstate);
	do {
		if (js & (GPI_J_DETACH | GPI_J_JOINER))
			return EINVAL;
	} while (!atomic_compare_exchange_weak(&l->l_jstate, &js,
	    js | GPI_J_DETACH));
	if (js & GPI_J_ZLIST) {
		/* It has exited joinable: ours to free once off its stack. */
		while (!(atomic_load_explicit(&l->l_jstate,
		    memory_order_acquire) & GPI_J_DEAD))
			gpi_relax_yield();
		free_joined(cur, l);
	}
	return 0;
}

gp_lwp_t
gp_lwp_self(void)
{
	return gpi_curlwp();
}

void
gp_yield(void)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL) {
		gpi_os_yield();
		return;
	}
	gpi_lwp_yield(l);
	gpi_sigpoint_l(l);		/* sched_yield: not a cancellation point */
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
		return GPI_LIBC(nanosleep)(req, rem);
	deadline = gpi_now() + (uint64_t)req->tv_sec * 1000000000u +
	    (uint64_t)req->tv_nsec;
	for (;;) {
		do {
			/* Nobody wakes our channel; only time or a signal. */
			error = gpi_tsleep(&l->l_sleeper, NULL, 0, GPI_PCATCH,
			    deadline);
		} while (error == 0);
		if (error != EINTR) {
			gpi_userret();
			break;
		}
		/* Asleep on: no handler ran here (gpi_userret_resume). */
		if (!gpi_userret_resume(l, false))
			break;
	}
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
