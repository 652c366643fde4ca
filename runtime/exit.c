/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * exit.c -- death of green processes (DragonFly kern_exit.c: sys_exit,
 * exit1, killalllwps, sys_extexit, at_exit/rm_at_exit) and gp_exec
 * (killalllwps(forexec)).
 *
 * exit1() runs on the exiting process's last LWP, in the seed's order:
 * kill the other LWPs and wait for them; run the global callouts; release
 * what the process owns; hand its children (live and zombie) to the
 * nearest reaper or to init; fold its run time into its rusage; become a
 * zombie and tell the parent; leave the stack (lwp_exit of the master).
 * Steps of the seed with no green meaning are named where they would be.
 *
 * Locks: p_lock, then the sleep-queue buckets (gpi_lwp_kill); reparenting
 * takes gpi_reparent_lock, then the reaper's p_lock, then ours (ancestor
 * first).  Nothing here is held across a switch.
 */
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* ------------------------------------------------------------ callouts */

/*
 * The global exit callouts (the seed's exit_list).  Registration is rare,
 * exits are not: callers of exit1 copy the list under the lock and run
 * the copy unlocked, so a callout may itself register or remove.
 */
static gpi_spin_t callout_lock = GPI_SPIN_INIT(GPI_RANK_CALLOUT);
static gp_exitlist_fn *callouts;	/* (callout_lock) */
static int ncallouts, callout_cap;	/* (callout_lock) */

/* In a forked child (fork.c): a holder of callout_lock is not here. */
void
gpi_exit_forget(void)
{
	gpi_spin_reset(&callout_lock);
}

static int
callout_find(gp_exitlist_fn fn)
{
	int i;

	for (i = 0; i < ncallouts; i++)
		if (callouts[i] == fn)
			return i;
	return -1;
}

static void
callout_remove(int i)
{
	memmove(&callouts[i], &callouts[i + 1],
	    (size_t)(ncallouts - i - 1) * sizeof(*callouts));
	__atomic_store_n(&ncallouts, ncallouts - 1, __ATOMIC_RELAXED);
}

/*
 * Register (fn) to run for every exiting process.  One entry per
 * function: registering it again moves it to the end (the seed's
 * INVARIANTS behaviour).
 */
int
gp_at_exit(gp_exitlist_fn fn)
{
	gp_exitlist_fn *v;
	int i, cap;

	if (fn == NULL) {
		errno = EINVAL;
		return -1;
	}
	gpi_spin_lock(&callout_lock);
	if ((i = callout_find(fn)) >= 0)
		callout_remove(i);
	if (ncallouts == callout_cap) {
		cap = callout_cap ? 2 * callout_cap : 8;
		if ((v = realloc(callouts, (size_t)cap * sizeof(*v))) == NULL) {
			gpi_spin_unlock(&callout_lock);
			errno = ENOMEM;
			return -1;
		}
		callouts = v;
		callout_cap = cap;
	}
	callouts[ncallouts] = fn;
	__atomic_store_n(&ncallouts, ncallouts + 1, __ATOMIC_RELAXED);
	gpi_spin_unlock(&callout_lock);
	return 0;
}

int
gp_rm_at_exit(gp_exitlist_fn fn)
{
	int i;

	gpi_spin_lock(&callout_lock);
	if ((i = callout_find(fn)) >= 0)
		callout_remove(i);
	gpi_spin_unlock(&callout_lock);
	return i >= 0;
}

static void
run_callouts(pid_t pid)
{
	gp_exitlist_fn stackv[16], *v = stackv;
	int i, n;

	/* Racy peek: a callout registered during this exit may miss it. */
	if (__atomic_load_n(&ncallouts, __ATOMIC_RELAXED) == 0)
		return;
	gpi_spin_lock(&callout_lock);
	n = ncallouts;
	if (n > 16 && (v = malloc((size_t)n * sizeof(*v))) == NULL)
		n = 16, v = stackv;	/* degrade: the first 16 */
	memcpy(v, callouts, (size_t)n * sizeof(*v));
	gpi_spin_unlock(&callout_lock);
	for (i = 0; i < n; i++)
		v[i](pid);
	if (v != stackv)
		free(v);
}

/* ------------------------------------------------------------ atexit */

pid_t gpi_hostproc_pid;
int gpi_hostproc_ltid;

/* Add an entry to the calling green process's atexit list. */
int
gpi_atexit_add(int kind, void *fn, void *arg)
{
	struct gp_proc *p = gpi_curproc();
	struct gpi_atexit *a;

	if ((a = malloc(sizeof(*a))) == NULL)
		return ENOMEM;
	a->a_kind = kind;
	a->a_fn = fn;
	a->a_arg = arg;
	gpi_spin_lock(&p->p_lock);
	a->a_next = p->p_atexit;
	p->p_atexit = a;
	gpi_spin_unlock(&p->p_lock);
	return 0;
}

int
gp_atexit(void (*fn)(void))
{
	int error;

	if (fn == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (gpi_curproc() == &gpi_proc0)
		return atexit(fn) == 0 ? 0 : (errno = ENOMEM, -1);
	if ((error = gpi_atexit_add(GPI_AE_PLAIN, (void *)fn, NULL)) != 0) {
		errno = error;
		return -1;
	}
	return 0;
}

/* Run and free (p)'s atexit list, LIFO, on the calling LWP. */
static void
run_atexit(struct gp_proc *p, int status)
{
	struct gpi_atexit *a;

	/* Only this process's LWPs add entries: a racy peek is enough. */
	while (__atomic_load_n(&p->p_atexit, __ATOMIC_RELAXED) != NULL) {
		gpi_spin_lock(&p->p_lock);
		if ((a = p->p_atexit) != NULL)
			p->p_atexit = a->a_next;
		gpi_spin_unlock(&p->p_lock);
		if (a == NULL)
			break;
		switch (a->a_kind) {
		case GPI_AE_PLAIN:
			((void (*)(void))a->a_fn)();
			break;
		case GPI_AE_ARG:
			((void (*)(void *))a->a_fn)(a->a_arg);
			break;
		case GPI_AE_ONEXIT:
			((void (*)(int, void *))a->a_fn)(status, a->a_arg);
			break;
		}
		free(a);
	}
}

/* ------------------------------------------------------------ killalllwps */

/*
 * Kill every LWP of the caller's process but the caller, and wait until
 * they are gone (p_nthreads == 1).  Returns EALREADY if another LWP is
 * already exiting or exec'ing the process: we lost the race, and the
 * caller must just end its own LWP.  With (forexec) the process lives on.
 * May block.  Caller holds no lock.
 */
static int
killalllwps(struct gp_proc *p, struct gp_lwp *cur, bool forexec)
{
	struct gp_lwp *l;
	int n;

	GPI_LOCK_ASSERT_NONE();
	gpi_spin_lock(&p->p_lock);
	if (gpi_pflags(p) & (GPI_P_WEXIT | GPI_P_INEXEC)) {
		gpi_spin_unlock(&p->p_lock);
		return EALREADY;
	}
	gpi_pflags_set(p, forexec ? GPI_P_INEXEC : GPI_P_WEXIT);
	for (l = p->p_lwps; l != NULL; l = l->l_pnext)
		if (l != cur)
			gpi_lwp_kill(l);
	gpi_spin_unlock(&p->p_lock);

	/*
	 * Wait for them.  Each dies at its next cancellation point; one
	 * asleep is woken by gpi_lwp_kill.  The last to leave wakes us
	 * (gpi_lwp_exit).  We ignore our own kill here: exiting anyway.
	 */
	while ((n = atomic_load(&p->p_nthreads)) > 1) {
		/* Killed too (we exit anyway): the sleep will not hold. */
		if (gpi_tsleep(&p->p_nthreads, &p->p_nthreads, n, 0, 0) != 0)
			gpi_relax_yield();
	}
	return 0;
}

/* ------------------------------------------------------------ reparenting */

/*
 * The nearest ancestor of (p) holding reaper status and not itself past
 * its own reparenting, else init.  Caller holds gpi_reparent_lock, under
 * which no p_pptr changes, and every ancestor of a process that still has
 * children is alive.
 */
static struct gp_proc *
find_reaper(struct gp_proc *p)
{
	struct gp_proc *r;

	GPI_LOCK_ASSERT(&gpi_reparent_lock);
	for (r = p->p_pptr; r != &gpi_proc0; r = r->p_pptr) {
		if ((gpi_pflags(r) &
		    (GPI_P_REAPER | GPI_P_MOVED)) == GPI_P_REAPER)
			return r;
	}
	return &gpi_proc0;
}

/*
 * Hand every child of (p) to its reaper (the seed's reaper_exit and the
 * proc_reparent loop).  Zombies move with their pending reports.  Orphans
 * adopted by init are reaped by the runtime, never by the host's wait.
 * Children are told SIGCHLD from now on, whatever they were spawned with
 * (the seed resets p_sigparent on reparent).
 */
static void
reparent_children(struct gp_proc *p)
{
	struct gp_proc *r, *c, *next, *autoreap = NULL;
	bool reported = false, wake;

	gpi_spin_lock(&gpi_reparent_lock);
	r = find_reaper(p);
	gpi_spin_lock(&r->p_lock);	/* ancestor first */
	gpi_spin_lock(&p->p_lock);
	for (c = p->p_children; c != NULL; c = next) {
		next = c->p_sibnext;
		__atomic_store_n(&c->p_pptr, r, __ATOMIC_RELEASE);
		c->p_exitsig = SIGCHLD;
		/*
		 * NOTE: a zombie that goes to a reaper with PS_NOCLDWAIT is
		 * reaped at once, as by init (Linux's reparent_leader()):
		 * that reaper said it will not wait (tests/diff/regress.txt).
		 */
		if (r == &gpi_proc0 || ((c->p_report & GPI_R_EXIT) &&
		    (gpi_pflags(r) & GPI_PS_NOCLDWAIT))) {
			/* Off every list: nobody will wait for it. */
			gpi_pflags_set(c, GPI_P_AUTOREAP);
			c->p_sibnext = c->p_sibprev = NULL;
			if (c->p_report & GPI_R_EXIT) {
				gpi_unreport(p, c);
				c->p_rqnext = autoreap;
				autoreap = c;
			} else {
				gpi_unreport(p, c);
			}
			continue;
		}
		GPI_DLIST_INSERT_HEAD(&r->p_children, c, p_sibnext, p_sibprev);
		if (c->p_report != 0) {
			int what = c->p_report;

			gpi_unreport(p, c);
			gpi_report(r, c, what);
			reported = true;
		}
	}
	p->p_children = NULL;
	p->p_rq_tail = NULL;
	gpi_pflags_set(p, GPI_P_MOVED);
	gpi_spin_unlock(&p->p_lock);
	wake = reported && r->p_nwaiters > 0;
	if (reported)
		gpi_waitgen_bump(r);
	gpi_spin_unlock(&r->p_lock);
	gpi_spin_unlock(&gpi_reparent_lock);
	if (wake)
		gpi_wakeup(&r->p_waitgen);
	/* Zombies init adopted: init reaps them now, as init does. */
	for (c = autoreap; c != NULL; c = next) {
		next = c->p_rqnext;
		gpi_proc_reap(c);
	}
}

/* ------------------------------------------------------------ fixjobc */

static void
hup_cont(struct gp_proc *p, pid_t pid, void *arg)
{
	(void)arg;
	gpi_psignal(p, pid, SIGHUP);
	gpi_psignal(p, pid, SIGCONT);
}

/*
 * The seed's fixjobc: if group (pgid) has just become orphaned -- no
 * member has a parent in another group of the session -- and one of its
 * members is stopped, nobody could ever continue it: send every member
 * SIGHUP, then SIGCONT (POSIX).
 */
static void
orphan_check(pid_t pgid)
{
	gpi_rcu_read_lock();
	if (gpi_pgrp_scan(pgid, GPI_PGRP_LINKED) == 0 &&
	    gpi_pgrp_scan(pgid, GPI_PGRP_STOPPED) > 0)
		gpi_proc_foreach(pgid, NULL, false, hup_cont, NULL);
	gpi_rcu_read_unlock();
}

/*
 * Groups that (p)'s exit may orphan: its own, if its parent links it from
 * another group, and those of children in other groups (p linked them).
 * Collected before the children move.  Normal trees (one group) have
 * none, so the O(procs) scans of orphan_check() are rare.
 */
#define MAXJOBC	8
static int
jobc_candidates(struct gp_proc *p, pid_t *v)
{
	struct gp_proc *c, *pp;
	pid_t pgid, cg;
	int n = 0, i;

	/* Unlocked: pp may exit and be reused meanwhile (header only). */
	gpi_rcu_read_lock();
	/*
	 * p_pgid is read relaxed, as everywhere: a process regroups itself
	 * under no lock (gp_setpgid(0, ...)), so a child may move while we
	 * look; then this exit judges its old group or its new one.
	 */
	pgid = __atomic_load_n(&p->p_pgid, __ATOMIC_RELAXED);
	pp = __atomic_load_n(&p->p_pptr, __ATOMIC_ACQUIRE);
	if (pp != &gpi_proc0 && __atomic_load_n(&pp->p_pgid,
	    __ATOMIC_RELAXED) != pgid)
		v[n++] = pgid;
	gpi_rcu_read_unlock();
	/* No children (the common exit): nothing more to look at. */
	if (__atomic_load_n(&p->p_children, __ATOMIC_RELAXED) == NULL)
		return n;
	gpi_spin_lock(&p->p_lock);
	for (c = p->p_children; c != NULL && n < MAXJOBC; c = c->p_sibnext) {
		cg = __atomic_load_n(&c->p_pgid, __ATOMIC_RELAXED);
		if (cg == pgid || c->p_stat == GPI_SZOMB)
			continue;
		for (i = 0; i < n && v[i] != cg; i++)
			;
		if (i == n)
			v[n++] = cg;
	}
	gpi_spin_unlock(&p->p_lock);
	return n;
}

/* ------------------------------------------------------------ exit1 */

/*
 * Fold the LWPs' run time and switches and reaped children into p_ru.
 * p_lock held.  Always inline: gcc made a call of it (two callers).
 */
static inline __attribute__((__always_inline__)) void
calcru(struct gp_proc *p, struct gp_lwp *cur)
{
	struct gp_worker *w = cur->l_worker;
	unsigned long long now = gpi_md_ticks();

	GPI_LOCK_ASSERT(&p->p_lock);
	/*
	 * Charge our current slice now (we must not touch p after notify),
	 * and fold in p_cru's run time (ruadd) in the same add: one locked
	 * RMW, not two.  It must be locked: a killed LWP of ours may still
	 * switch out for the last time, charging p_ru on its worker (TSan
	 * saw a plain += lose that).  p_cru is ours, under p_lock.
	 */
	__atomic_fetch_add(&p->p_ru.ru_ticks, now - w->w_switchtick +
	    p->p_cru.ru_ticks, __ATOMIC_RELAXED);
	w->w_switchtick = now;
	p->p_ru.ru_nvcsw += cur->l_nvcsw + p->p_cru.ru_nvcsw;
	p->p_ru.ru_nivcsw += cur->l_nivcsw + p->p_cru.ru_nivcsw;
}

/*
 * The end of exit1, with the parent (pp) and then (p) locked (ancestor
 * first): zombie, and tell the parent (proc_move_allproc_zombie, then the
 * p_waitgen bump: the generation changes after the state, so a waiter
 * that saw the old generation finds the zombie).  Unlocks both.  Returns
 * whether nobody will wait for p, so that the runtime reaps it.
 */
static bool
exit_notify(struct gp_proc *pp, struct gp_proc *p)
{
	bool autoreap;

	__atomic_store_n(&p->p_stat, GPI_SZOMB, __ATOMIC_RELAXED);
	if (gpi_pflags(p) & GPI_P_STOPPED)
		gpi_pflags_clear(p, GPI_P_STOPPED);
	gpi_watch_exit(p);			/* KNOTE(NOTE_EXIT) */
	gpi_spin_unlock(&p->p_lock);
	autoreap = (gpi_pflags(p) & GPI_P_AUTOREAP) != 0;
	if (!autoreap && (gpi_pflags(pp) & GPI_PS_NOCLDWAIT)) {
		/*
		 * PS_NOCLDWAIT / PS_CLDSIGIGN: nobody will wait; the runtime
		 * reaps it.  Leave the parent's lists now, so that a wait
		 * there sees ECHILD once the last child is gone.
		 */
		gpi_unlink_child(pp, p);
		gpi_waitgen_bump(pp);
		autoreap = true;
	} else if (!autoreap) {
		/*
		 * A stop or continue not yet waited for is moot now (tested
		 * first: a process that never stopped has none queued).
		 */
		if (unlikely(p->p_report != 0))
			gpi_report_clear(pp, p, GPI_R_STOP | GPI_R_CONT);
		gpi_report(pp, p, GPI_R_EXIT);
	}
	/* p_sigparent: the exit signal (SIGCHLD by default, or none). */
	/*
	 * SIGCHLD the parent does not catch goes nowhere (its default is
	 * to ignore, as psignal_locked's first test says): no call for it.
	 */
	if (p->p_exitsig != 0 && (p->p_exitsig != SIGCHLD ||
	    (pp->p_sigcatch & ((uint64_t)1 << (SIGCHLD - 1)))))
		gpi_psignal_locked(pp, p->p_exitsig);
	gpi_waitgen_unlock_wakeup(pp);
	return autoreap;
}

/*
 * The common exit -- the last LWP, nothing registered to run, no
 * children (live, zombie or real) and no process group to orphan --
 * where every step of exit1 but the last two has nothing to do.  Checked
 * and done under both locks at once: the steps in the seed's order, with
 * three lock round trips and two RMWs saved (26 of a 285 ns spawn/exit/
 * wait round trip).  Does not return, unless exit1 must take the long
 * way: then it has changed nothing.  No child now means none later:
 * orphans come only from our descendants, and our only LWP is here.
 */
/*
 * gpi_lwp_unlink(p, l, true) for exit1_quick, inline: under p_lock with
 * p_nthreads 1, (l) is the one LWP on p_lwps (p_nthreads counts that
 * list: every insert and remove changes both under p_lock), so the list
 * empties without reading neighbours.  ZLIST goes in with one locked or:
 * a master is never freed by its own exit (not even detached: its
 * process's reaper frees it), so lwp_unlink's CAS loop has nothing to
 * decide, and any holder of the handle may CAS JOINER in meanwhile, so
 * the or stays atomic.  A call, a prologue and some 20 instructions a
 * spawn round trip.
 */
static inline void
quick_unlink_master(struct gp_proc *p, struct gp_lwp *l)
{
	GPI_LOCK_ASSERT(&p->p_lock);
	KASSERT(p->p_lwps == l && l->l_pnext == NULL &&
	    l->l_pprev == NULL && p != &gpi_proc0);
	p->p_lwps = NULL;
	if (unlikely(l->l_sigq != NULL))	/* signals left for it alone */
		gpi_sig_lwp_gone(l);
	atomic_store_explicit(&p->p_nthreads, 0, memory_order_relaxed);
	atomic_fetch_or(&l->l_jstate, GPI_J_ZLIST);
	GPI_DLIST_INSERT_HEAD(&p->p_zlwps, l, l_pnext, l_pprev);
}

static void
exit1_quick(struct gp_proc *p, struct gp_lwp *cur, int status)
{
	struct gp_proc *pp;

	if (__atomic_load_n(&ncallouts, __ATOMIC_RELAXED) != 0 ||
	    __atomic_load_n(&p->p_atexit, __ATOMIC_RELAXED) != NULL ||
	    (gpi_phost(p) != NULL && (gpi_has_fds(p) ||
	    gpi_has_rchildren(p))) || !gpi_rchild_no_orphans())
		return;
	pp = gpi_lock_parent(p);
	gpi_spin_lock(&p->p_lock);
	if ((gpi_pflags(p) & (GPI_P_WEXIT | GPI_P_INEXEC)) ||
	    atomic_load_explicit(&p->p_nthreads, memory_order_relaxed) != 1 ||
	    p->p_children != NULL || gpi_has_fds(p) ||
	    (pp != &gpi_proc0 && __atomic_load_n(&pp->p_pgid,
	    __ATOMIC_RELAXED) != __atomic_load_n(&p->p_pgid,
	    __ATOMIC_RELAXED))) {
		gpi_spin_unlock(&p->p_lock);
		gpi_spin_unlock(&pp->p_lock);
		return;
	}
	/* killalllwps: we are the only LWP.  No children: MOVED at once. */
	gpi_pflags_set_owned(p, pp, GPI_P_WEXIT | GPI_P_MOVED);
	p->p_xstat = status;
	/* No callouts, atexit entries, descriptors, children: calcru. */
	calcru(p, cur);
	quick_unlink_master(p, cur);
	gpi_count_exit();
	/* The zombie, and the parent's notice. */
	gpi_lwp_exit_master(cur, cur->l_worker, exit_notify(pp, p) ? p : NULL);
}

/*
 * exit1(): end the calling green process, of which (cur) is the running
 * LWP, with wait status (status).  Never returns.  May block (waiting
 * for the other LWPs).
 */
void
gpi_exit1(struct gp_lwp *cur, int status)
{
	struct gp_proc *p = cur->l_proc, *pp;
	pid_t jobc[MAXJOBC];
	int i, njobc;

	KASSERT(cur == gpi_curlwp());
	KKASSERT(p != &gpi_proc0);
	/* Owner-dead before the parent can hear of the exit. */
	gpi_lwp_dying(cur);

	exit1_quick(p, cur, status);	/* returns only for the long way */

	/*
	 * Kill the other LWPs and wait until they are gone.  If another LWP
	 * beat us to it, it does the exit; we only end our own LWP.  Our
	 * LWP is then the master, the one exit1 and wait() deal with.
	 */
	if (killalllwps(p, cur, false) == EALREADY)
		gpi_lwp_exit(NULL);
	gpi_spin_lock(&p->p_lock);
	p->p_xstat = status;
	gpi_spin_unlock(&p->p_lock);

	/* ktrace, accounting files, the vkernel: no green meaning. */

	/* The global callouts (EVENTHANDLER process_exit + exit_list). */
	run_callouts(p->p_pid);

	/*
	 * Release what the process owns: its atexit list (already run by
	 * gp_exit, or skipped by gp__exit), and the descriptors it still
	 * owns (fdfree).  There is no vmspace: the LWP stacks are freed
	 * when the zombie is reaped, once each is off its stack.  There is
	 * no controlling tty, so no session teardown (orphaned process
	 * groups: fixjobc, below).
	 *
	 * NOTE: fdfree goes here, where the seed has it, and nowhere else.
	 * After the atexit handlers (run by gp_exit before exit1) and the
	 * callouts, which may still use the files (a flush, a goodbye on a
	 * socket).  After killalllwps: no LWP of ours is left to use or to
	 * wait on them -- each killed LWP, woken from its sleep, gave its
	 * engine wait back before it left gpi_io_wait (an io_uring accept
	 * or poll, which holds the file, is cancelled and its completion
	 * collected) and its fd.c registration in gpi_lwp_dying, before it
	 * unlinked and p_nthreads fell to 1.  So closing the number drops
	 * the last reference the process had: a peer sees EOF or
	 * ECONNRESET, a client of a listener ECONNREFUSED.  And before the
	 * zombie and the parent's notice (below): a parent that waits for
	 * its child and then looks at the peer end finds it closed, as
	 * with a real exit.
	 */
	gpi_fdfree(p);
	gpi_spin_lock(&p->p_lock);
	while (p->p_atexit != NULL) {
		struct gpi_atexit *a = p->p_atexit;

		p->p_atexit = a->a_next;
		free(a);
	}
	gpi_spin_unlock(&p->p_lock);
	/*
	 * Real children it forked: the runtime reaps them, as init would;
	 * every exit also collects those of earlier exits that have ended.
	 */
	if (gpi_has_rchildren(p))
		gpi_rchild_orphan(p);
	else
		gpi_rchild_reap_orphans();

	/*
	 * Hand the children, live and zombie, to the reaper or init.  With
	 * none, nobody can hand us orphans either: they come only from our
	 * descendants, and a zombie child is still on p_children.
	 */
	njobc = jobc_candidates(p, jobc);
	if (__atomic_load_n(&p->p_children, __ATOMIC_RELAXED) != NULL)
		reparent_children(p);
	else
		gpi_pflags_set(p, GPI_P_MOVED);
	/* fixjobc: groups our leaving orphans, with a stopped member. */
	for (i = 0; i < njobc; i++)
		orphan_check(jobc[i]);

	/*
	 * Leave the LWP list and fold the run time into p_ru (calcru_proc
	 * and ruadd(p_cru)): from the parent's notice on, we must not touch
	 * p except as a dying master LWP (the reaper waits for DEAD).
	 */
	gpi_spin_lock(&p->p_lock);
	calcru(p, cur);
	(void)gpi_lwp_unlink(p, cur, true);
	gpi_spin_unlock(&p->p_lock);
	gpi_count_exit();

	/* The callouts may have taken what a dying LWP must give back. */
	gpi_lwp_dying(cur);
	/* Zombie, and tell the parent. */
	pp = gpi_lock_parent(p);
	gpi_spin_lock(&p->p_lock);
	/* WARNING: p may be reaped from here on, unless we reap it. */
	/* The master's lwp_exit: off the stack; the reaper frees it. */
	gpi_lwp_exit_master(cur, cur->l_worker, exit_notify(pp, p) ? p : NULL);
}

_Noreturn static void
exit_init(int status, bool run_handlers)
{
	struct timespec ts = { 0, 1000000 };
	uint64_t deadline;

	/*
	 * Init cannot exit while the runtime runs: a host-level exit is the
	 * teardown, then the real exit.  From an LWP of init we cannot stop
	 * the workers (one of them runs us): the green processes are killed
	 * and waited for (bounded, GREENPROC_EXIT_TIMEOUT_MS), so that host
	 * atexit handlers do not run beside them, and the host exits with
	 * init's own LWPs still on the workers.
	 */
	if (gpi_curlwp() == NULL) {
		(void)gp_shutdown();
	} else {
		deadline = gpi_now() + gpi_exit_timeout_ns();
		do {
			gpi_proc_kill_all();
			if (gpi_lwps_alive() <= atomic_load(
			    &gpi_proc0.p_nthreads))
				break;
		} while (gp_nanosleep(&ts, NULL) == 0 && gpi_now() < deadline);
	}
	if (run_handlers)
		GPI_LIBC(exit)(status);
	GPI_LIBC(_exit)(status);
	__builtin_unreachable();
}

void
gp__exit(int status)
{
	gpi_fence_cur();
	if (gpi_curproc() == &gpi_proc0)
		exit_init(status, false);
	gpi_exit1(gpi_curlwp(), W_EXITCODE(status & 0xff, 0));
}

void
gp_exit(int status)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL) {
		gpi_fence_cur();
		exit_init(status, true);
	}
	gpi_exit_lwp(l, status);
}

/*
 * gpi_exit_lwp's work before exit1, when there is some: init's exit,
 * thread_local destructors, the atexit list, the host program's own
 * exit, the preload's flush.  Out of line, so that the common exit's
 * way to exit1 makes no frame.
 */
static GPI_NOINLINE _Noreturn void
exit_lwp_slow(struct gp_lwp *l, struct gp_proc *p, int status)
{
	if (p == &gpi_proc0)
		exit_init(status, true);
	/* exit(3): its thread_local destructors first, as glibc's exit. */
	if (l->l_tlsdtors != NULL)
		gpi_tls_run_dtors(l);
	/* The atexit list, LIFO, on this LWP, then _exit(2). */
	run_atexit(p, status);
	/*
	 * NOTE: the green process that is the host program (green-init mode)
	 * ends as the host would: glibc's exit runs the one atexit list of
	 * the program (constructors' entries, its own, C++ static
	 * destructors, then the ELF destructors) on this LWP while the other
	 * LWPs still run, flushes stdio, and exit_group ends the host with
	 * (status).  No exit1: nobody is left to wait for the zombie.
	 */
	if (gpi_is_hostproc(p))
		GPI_LIBC(exit)(status);
	if (gpi_preloaded)
		fflush(NULL);	/* unmodified code expects exit's flush */
	/* gp__exit, whose init test we made: after the handlers, a fence. */
	gpi_fence(l->l_worker);
	gpi_md_call_last(gpi_exit1, l, W_EXITCODE(status & 0xff, 0));
}

/*
 * gp_exit(status) on the running LWP (l).  A spawn's master enters it
 * by a jump (gpi_proc_start), and it enters exit1 by one: the master's
 * way to its last switch pushes no return stack buffer entry that no
 * ret will pop (switch.h, gpi_md_call_last).
 */
void
gpi_exit_lwp(struct gp_lwp *l, int status)
{
	struct gp_proc *p = l->l_proc;

	KASSERT(l == gpi_curlwp());
	gpi_fence(l->l_worker);
	/*
	 * The common exit has nothing to run first (exit_lwp_slow's list,
	 * each tested as it tests it; only this process's LWPs add atexit
	 * entries, and this is one of them, so the racy peek is run_atexit's
	 * own): then no handler ran since the fence above, and gp__exit's
	 * fence after them has nothing to fence.  No frame, one fence: some
	 * 15 instructions a spawn round trip.
	 */
	if (likely(p != &gpi_proc0 && l->l_tlsdtors == NULL &&
	    __atomic_load_n(&p->p_atexit, __ATOMIC_RELAXED) == NULL &&
	    !gpi_is_hostproc(p) && !gpi_preloaded))
		gpi_md_call_last(gpi_exit1, l, W_EXITCODE(status & 0xff, 0));
	exit_lwp_slow(l, p, status);
}

/*
 * The last LWP of a green process is leaving (gp_lwp_exit, a return, or
 * a kill): that is the process's exit.  A killed one dies of its signal
 * without running atexit handlers; otherwise it is exit(0), as glibc's
 * last thread does.
 */
void
gpi_proc_lastlwp(struct gp_lwp *l)
{
	struct gp_proc *p = l->l_proc;
	int sig = __atomic_load_n(&p->p_killsig, __ATOMIC_RELAXED);

	if (sig != 0)
		gpi_exit1(l, sig & 0x7f);	/* W_TERMSIG encoding */
	gpi_exit_lwp(l, 0);
}

/* Kill every LWP of (p); the last one runs exit1.  p_lock held. */
void
gpi_proc_kill_locked(struct gp_proc *p)
{
	struct gp_lwp *l;

	GPI_LOCK_ASSERT(&p->p_lock);
	for (l = p->p_lwps; l != NULL; l = l->l_pnext)
		gpi_lwp_kill(l);
}

/*
 * Kill process (p), found as (pid), with (sig): every LWP dies, the last
 * runs exit1.  Nothing if it has been reaped since.
 */
void
gpi_proc_kill(struct gp_proc *p, pid_t pid, int sig)
{
	if (p == &gpi_proc0 || !gpi_proc_lock_pid(p, pid))
		return;
	gpi_proc_kill_unlock(p, sig);
}

/* The same for (p) locked by the caller; unlocks it. */
void
gpi_proc_kill_unlock(struct gp_proc *p, int sig)
{
	GPI_LOCK_ASSERT(&p->p_lock);
	if (p->p_stat != GPI_SZOMB && !(gpi_pflags(p) & GPI_P_WEXIT)) {
		if (p->p_killsig == 0)
			__atomic_store_n(&p->p_killsig, sig, __ATOMIC_RELAXED);
		gpi_pflags_clear(p, GPI_P_STOPPED);
		atomic_fetch_add(&p->p_stopgen, 1);
		gpi_proc_kill_locked(p);
	}
	gpi_spin_unlock(&p->p_lock);
	gpi_wakeup(&p->p_stopgen);
}

/* ------------------------------------------------------------ extexit */

int
gp_extexit(int how, int status, void *addr)
{
	struct gp_proc *p = gpi_curproc();
	int action = how & 0xffff, who = how & ~0xffff;

	/* Check parameters before we might perform some action. */
	if (who != GP_EXTEXIT_PROC && who != GP_EXTEXIT_LWP) {
		errno = EINVAL;
		return -1;
	}
	if (action != GP_EXTEXIT_SIMPLE && action != GP_EXTEXIT_SETINT) {
		errno = EINVAL;
		return -1;
	}
	if (p == &gpi_proc0) {
		errno = EPERM;
		return -1;
	}
	if (action == GP_EXTEXIT_SETINT) {
		if (addr == NULL) {
			errno = EFAULT;
			return -1;
		}
		*(int *)addr = status;
	}
	if (who == GP_EXTEXIT_LWP && !gpi_lwp_exit_unless_last())
		gp__exit(status);	/* the last LWP: the real thing */
	gp__exit(status);
}

/* ------------------------------------------------------------ exec */

static void *
exec_main(void *arg)
{
	struct gp_proc *p = gpi_curproc();

	(void)arg;
	gp_exit(p->p_entry(p->p_arg));
}

/*
 * killalllwps(forexec): the other LWPs die, the atexit list (and, with
 * green signals, caught handlers) is reset, the FD_CLOEXEC descriptors
 * the process owns are closed, and the same process -- pid,
 * parent, children, group -- runs entry(arg) on a fresh LWP.  No return
 * on success.  EPERM in init, EALREADY if the process is already exiting.
 */
int
gp_exec(int (*entry)(void *), void *arg)
{
	struct gp_lwp *cur = gpi_curlwp(), *l;
	struct gp_proc *p = gpi_curproc();
	struct gpi_atexit *a;
	int error;

	if (entry == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (p == &gpi_proc0) {
		errno = EPERM;
		return -1;
	}
	if (killalllwps(p, cur, true) == EALREADY)
		gpi_lwp_exit(NULL);	/* someone else ends the process */

	gpi_spin_lock(&p->p_lock);
	while ((a = p->p_atexit) != NULL) {
		p->p_atexit = a->a_next;
		free(a);
	}
	p->p_entry = entry;
	p->p_arg = arg;
	gpi_pflags_set(p, GPI_P_EXEC);
	gpi_spin_unlock(&p->p_lock);
	gpi_sig_exec(p);
	/* execve's close-on-exec; the other LWPs' waits are given back. */
	gpi_fd_exec(p);

	/* A fresh stack for the new image; then our LWP goes. */
	error = gpi_lwp_create(p, &l, exec_main, NULL, NULL, true);
	gpi_spin_lock(&p->p_lock);
	gpi_pflags_clear(p, GPI_P_INEXEC);
	gpi_spin_unlock(&p->p_lock);
	if (error != 0) {
		/* Cannot start the new image: the process dies as if killed. */
		gpi_exit1(gpi_curlwp(), SIGKILL);
	}
	gpi_lwp_exit(NULL);
}
