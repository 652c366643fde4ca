/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proc.c -- green processes: the process tree and report queue,
 * spawning, the struct cache, reaping and shutdown (DragonFly
 * kern_proc.c and kern_fork.c).  The pid table and the process limit
 * are in pid.c, process groups and reapers in pgrp.c, gp_ps in debug.c.
 */
#include <string.h>

#include "internal.h"

#ifdef GPI_TSAN
#include <sanitizer/tsan_interface.h>
#endif

static atomic_ulong nspawned, nexited, nreaped;	/* (a) counters */

gpi_spin_t gpi_reparent_lock = GPI_SPIN_INIT(GPI_RANK_REPARENT);
static const char default_comm[16] = "green";

int
gpi_proc_init(int nworkers)
{
	int error;

	if ((error = gpi_pid_init(nworkers)) != 0)
		return error;
	atomic_store(&nspawned, 0);
	atomic_store(&nexited, 0);
	atomic_store(&nreaped, 0);
	gpi_rusage_init();
	return 0;
}

/* ------------------------------------------------------------ tree */

/*
 * Whether (pp) cannot be reaped before the caller, running on (w), next
 * switches: init (static, never reaped), or a process with an LWP in
 * this worker's w_runnext slot or at the head of its w_runq.  Such an
 * LWP has not exited (LIDL or LRUN: it unlinks itself from p_lwps only
 * when it runs), and a process is reaped only once every LWP of it has
 * unlinked (exit1 waits for p_nthreads to fall to 1, the reaper for its
 * master's DEAD); only this worker runs it (w_runq and w_runnext are
 * this worker's alone; started LWPs never migrate, and no thief takes
 * from w_runnext); and this worker runs the caller until it switches,
 * since runtime code is never preempted (preempt.c: only the program's
 * own code).  Loads of our own worker's queues, no atomics.  NOTE: a
 * pointer into a queue is compared, never followed past l_proc.
 */
static inline bool
proc_pinned_here(struct gp_worker *w, struct gp_proc *pp)
{
	struct gp_lwp *q;

	if (pp == &gpi_proc0)
		return true;
	if (w == NULL)
		return false;
	return ((q = w->w_runq.q_head) != NULL && q->l_proc == pp) ||
	    ((q = w->w_runnext) != NULL && q->l_proc == pp);
}

/*
 * gpi_lock_parent's way for a parent that may be reaped meanwhile.  Out
 * of line: the fast path then saves no register for it (-12).
 */
static GPI_NOINLINE struct gp_proc *
lock_parent_rcu(struct gp_proc *p)
{
	struct gp_proc *pp;

	/*
	 * RCU keeps a parent we read but have not locked yet from going
	 * back to malloc under us (it may be reused: the recheck catches
	 * that); once locked and rechecked, it cannot be reaped while we
	 * are its child (its exit1 moves us first, under its lock).  NULL
	 * p_pptr: p itself was reaped and is being reused (a stale p).
	 */
	gpi_rcu_read_lock();
	for (;;) {
		if ((pp = __atomic_load_n(&p->p_pptr, __ATOMIC_ACQUIRE)) ==
		    NULL)
			break;
		gpi_spin_lock(&pp->p_lock);
		if (__atomic_load_n(&p->p_pptr, __ATOMIC_RELAXED) == pp)
			break;
		gpi_spin_unlock(&pp->p_lock);
	}
	gpi_rcu_read_unlock();
	return pp;
}

struct gp_proc *
gpi_lock_parent(struct gp_proc *p)
{
	struct gp_proc *pp;

	/*
	 * The common exit: the parent waits in kern_wait, queued behind us
	 * on our worker (it yielded to us), or is init.  Then it cannot go
	 * back to malloc before we lock it (proc_pinned_here), so no RCU
	 * read section (some 22 instructions a spawn round trip); the
	 * recheck under its lock is lock_parent_rcu's.
	 */
	pp = __atomic_load_n(&p->p_pptr, __ATOMIC_ACQUIRE);
	if (pp != NULL && proc_pinned_here(gpi_curworker(), pp)) {
		gpi_spin_lock(&pp->p_lock);
		if (__atomic_load_n(&p->p_pptr, __ATOMIC_RELAXED) == pp)
			return pp;
		gpi_spin_unlock(&pp->p_lock);
	}
	return lock_parent_rcu(p);
}

void
gpi_report(struct gp_proc *pp, struct gp_proc *p, int what)
{
	struct gp_proc *tail;

	GPI_LOCK_ASSERT(&pp->p_lock);
	if (p->p_report == 0) {
		/* At the tail of the circle, before the head. */
		if ((tail = pp->p_rq_tail) != NULL) {
			p->p_rqnext = tail->p_rqnext;
			p->p_rqprev = tail;
			tail->p_rqnext->p_rqprev = p;
			tail->p_rqnext = p;
		} else {
			p->p_rqnext = p->p_rqprev = p;
		}
		pp->p_rq_tail = p;
	}
	p->p_report |= what;
	gpi_waitgen_bump(pp);
}

void
gpi_report_clear(struct gp_proc *pp, struct gp_proc *p, int bits)
{
	GPI_LOCK_ASSERT(&pp->p_lock);
	if ((p->p_report & ~bits) == 0)
		gpi_unreport(pp, p);
	else
		p->p_report &= ~bits;
}

void
gpi_unreport(struct gp_proc *pp, struct gp_proc *p)
{
	GPI_LOCK_ASSERT(&pp->p_lock);
	if (p->p_report == 0)
		return;
	/*
	 * O(1) wherever p is: a parent that kills N children and then waits
	 * for each by pid takes them out of the middle of a queue that the
	 * workers filled in their own order (with a singly linked circle,
	 * each such wait walked the queue: 300k children took minutes).
	 */
	if (p->p_rqnext == p) {
		pp->p_rq_tail = NULL;		/* it was the only one */
	} else {
		p->p_rqprev->p_rqnext = p->p_rqnext;
		p->p_rqnext->p_rqprev = p->p_rqprev;
		if (pp->p_rq_tail == p)
			pp->p_rq_tail = p->p_rqprev;
	}
	p->p_rqnext = p->p_rqprev = NULL;
	p->p_report = 0;
}

/* Link new process (p) under (pp); pp->p_lock held. */
static void
link_child(struct gp_proc *pp, struct gp_proc *p)
{
	GPI_LOCK_ASSERT(&pp->p_lock);
	__atomic_store_n(&p->p_pptr, pp, __ATOMIC_RELEASE);
	GPI_DLIST_INSERT_HEAD(&pp->p_children, p, p_sibnext, p_sibprev);
}

/* ------------------------------------------------------------ spawn */

/* gp_spawn_main's argv copy is NULL-terminated after exactly argc. */
static int
argc_of(char **argv)
{
	int n = 0;

	while (argv[n] != NULL)
		n++;
	return n;
}

/*
 * A spawn's master LWP (l) of process (p) runs the process's entry and
 * exits with what it returns.  gpi_lwp_start enters it by a jump (its
 * l_fn is gpi_proc_main), and it enters gp_exit's body by one: nothing
 * on the master's way to its last switch is a call that never returns,
 * which would leave the return stack buffer an entry that the resumed
 * parent's next ret mispredicts on (switch.h, gpi_md_call_last).
 */
void
gpi_proc_start(struct gp_lwp *l, struct gp_proc *p)
{
	int (*main_fn)(int, char **) = (int (*)(int, char **))p->p_arg;
	int status;

	if (p->p_argv != NULL)
		status = main_fn(argc_of(p->p_argv), p->p_argv);
	else
		status = p->p_entry(p->p_arg);
	gpi_md_call_last(gpi_exit_lwp, l, status);
}

/*
 * A master's l_fn: it tells a master from its process's other LWPs
 * (gpi_lwp_start, gpi_lwp_entry).  gpi_lwp_start jumps to
 * gpi_proc_start instead of calling this.
 */
void *
gpi_proc_main(void *arg)
{
	gpi_proc_start(gpi_curlwp(), arg);
}

/*
 * Process structs are type-stable (see internal.h, Lifetime): a reaped
 * one goes on its worker's cache and the next spawn there reuses it at
 * once, while it is still in cache.  Caches overflow into a global pool
 * in batches; what the pool holds beyond PROC_POOL_KEEP (the tail of a
 * burst) goes back to malloc after an RCU grace period, the only thing
 * lock-free readers need.  So steady spawn and reap cost no malloc, no
 * call_rcu and no shared cache line.
 */
#define PROC_CACHE	32		/* refill / spill batch */
#define PROC_POOL_KEEP	(1 << 14)	/* 4 MiB of structs kept */
#define PROC_RETIRE	1024		/* structs per call_rcu */

/* (k): procpool_lock, a leaf lock. */
static gpi_spin_t procpool_lock = GPI_SPIN_INIT(GPI_RANK_PROCPOOL);
static struct gp_proc *procpool;	/* (k) linked through p_rqnext */
static long procpool_n;			/* (k) */
static struct gp_proc *retire;		/* (k) Leaving for malloc. */
static int nretire;			/* (k) */
/* Structs malloc holds for us (pool, caches, live): relaxed, a statistic. */
static atomic_long nprocs_held;
static atomic_long nhosts_held;		/* the same for struct gpi_phost */

/*
 * (p)'s host struct, made and installed (under p_lock) if it has none
 * yet; NULL on ENOMEM.  Kept across reuse (struct gpi_phost).
 */
struct gpi_phost *
gpi_proc_host(struct gp_proc *p)
{
	struct gpi_phost *h = gpi_phost(p), *mine;

	if (h != NULL)
		return h;
	if ((mine = calloc(1, sizeof(*mine))) == NULL)
		return NULL;
	gpi_spin_init(&mine->h_fdtab.ft_lock, GPI_RANK_FDTAB);
	gpi_spin_lock(&p->p_lock);
	if ((h = p->p_host) == NULL)
		__atomic_store_n(&p->p_host, h = mine, __ATOMIC_RELEASE);
	gpi_spin_unlock(&p->p_lock);
	if (h != mine)
		free(mine);
	else
		atomic_fetch_add_explicit(&nhosts_held, 1,
		    memory_order_relaxed);
	return h;
}

/* The struct goes back to malloc, in its constructed state. */
void
gpi_proc_host_destroy(struct gp_proc *p)
{
	struct gpi_phost *h = p->p_host;

	if (h == NULL)
		return;
	KASSERT(h->h_fdtab.ft_ent == NULL && h->h_rchildren == NULL);
	p->p_host = NULL;
	free(h);
	atomic_fetch_sub_explicit(&nhosts_held, 1, memory_order_relaxed);
}

/* RCU callback: a batch of trimmed structs, linked through p_rqnext. */
static void
proc_retire_rcu(struct rcu_head *head)
{
	struct gp_proc *p, *next;

#ifdef GPI_TSAN
	__tsan_acquire(&gpi_rcu_tsan_token);	/* see gpi_rcu_read_unlock */
#endif
	for (p = caa_container_of(head, struct gp_proc, p_rcu); p != NULL;
	    p = next) {
		next = p->p_rqnext;
		gpi_sig_destroy(p);
		gpi_proc_host_destroy(p);
		free(p);
		atomic_fetch_sub_explicit(&nprocs_held, 1,
		    memory_order_relaxed);
	}
}

/* Send the retire list to RCU.  Caller holds procpool_lock. */
static void
retire_flush_locked(void)
{
	struct gp_proc *p;

	GPI_LOCK_ASSERT(&procpool_lock);
	if ((p = retire) == NULL)
		return;
	retire = NULL;
	nretire = 0;
#ifdef GPI_TSAN
	__tsan_release(&gpi_rcu_tsan_token);	/* our last writes */
#endif
	gpi_rcu_call(&p->p_rcu, proc_retire_rcu);
}

/* Put the list (first..last, n structs) on the global pool. */
static void
pool_put(struct gp_proc *first, struct gp_proc *last, int n)
{
	gpi_spin_lock(&procpool_lock);
	if (procpool_n >= PROC_POOL_KEEP) {
		last->p_rqnext = retire;
		retire = first;
		if ((nretire += n) >= PROC_RETIRE)
			retire_flush_locked();
	} else {
		last->p_rqnext = procpool;
		__atomic_store_n(&procpool, first, __ATOMIC_RELAXED);
		procpool_n += n;
	}
	gpi_spin_unlock(&procpool_lock);
}

/* Take up to (max) structs off the pool onto *list.  Returns how many. */
static int
pool_get(struct gp_proc **list, int max)
{
	struct gp_proc *p;
	int n;

	if (__atomic_load_n(&procpool, __ATOMIC_RELAXED) == NULL)
		return 0;
	gpi_spin_lock(&procpool_lock);
	for (n = 0; n < max && (p = procpool) != NULL; n++) {
		__atomic_store_n(&procpool, p->p_rqnext, __ATOMIC_RELAXED);
		p->p_rqnext = *list;
		*list = p;
	}
	procpool_n -= n;
	gpi_spin_unlock(&procpool_lock);
	return n;
}

static struct gp_proc *
proc_alloc(struct gp_worker *w)
{
	struct gp_proc *p = NULL;
	/* Failure injection (debug builds) wants the calloc: no caches. */
	bool fresh = GPI_FAILPT_ARMED();

	if (!fresh && w != NULL && w->w_proccache == NULL)
		w->w_nproccache = pool_get(&w->w_proccache, PROC_CACHE);
	if (!fresh && w != NULL && (p = w->w_proccache) != NULL) {
		w->w_proccache = p->p_rqnext;
		w->w_nproccache--;
	} else if (fresh || w != NULL || pool_get(&p, 1) == 0) {
		/* Born in the constructed state: all zero, no eventfd. */
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return NULL;
		atomic_fetch_add_explicit(&nprocs_held, 1,
		    memory_order_relaxed);
		gpi_spin_init(&p->p_lock, GPI_RANK_PROC);
		p->p_watchfd = -1;
	}
	/*
	 * The header only with atomic stores (a stale reader may look at
	 * it; p_pid is 0 already).  p_pptr stays NULL until link_child:
	 * readers check it.
	 */
	atomic_store_explicit(&p->p_flags, 0, memory_order_relaxed);
	__atomic_store_n(&p->p_stat, GPI_SACTIVE, __ATOMIC_RELAXED);
	__atomic_store_n(&p->p_pgid, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->p_pptr, NULL, __ATOMIC_RELAXED);
	/*
	 * The body is in its constructed state (Bonwick's slab objects):
	 * whatever a process empties before it can be reaped -- its LWP
	 * lists, children, report queue, atexit list, eventfd, waiter
	 * count -- is empty, so only what accumulates is reset here.  The
	 * handler table is kept: clearing p_sigcatch makes it all stale.
	 * Clearing all 240 bytes cost a fifth of a spawn.  Debug builds
	 * check the rest.
	 */
	KASSERT(p->p_lwps == NULL && p->p_zlwps == NULL &&
	    !gpi_has_rchildren(p) && atomic_load(&p->p_nthreads) == 0);
	KASSERT(p->p_children == NULL && p->p_rq_tail == NULL &&
	    p->p_report == 0 && p->p_nwaiters == 0);
	KASSERT(p->p_atexit == NULL && p->p_watchfd == -1 &&
	    p->p_argv == NULL && !gpi_has_fds(p) && p->p_sigq == NULL);
	p->p_killsig = 0;
	p->p_xsig = 0;
	memset(&p->p_ru, 0, sizeof(p->p_ru));
	memset(&p->p_cru, 0, sizeof(p->p_cru));
	p->p_siglist = 0;
	p->p_sigignore = 0;
	p->p_sigcatch = 0;
	return p;
}

/*
 * Bytes of malloc (chunks: the request, its 8-byte header, rounded to 16)
 * that the type-stable process structs, their handler tables and their
 * host structs hold.
 * For the soak's RSS check: like the stack slabs, this is a cache at its
 * high-water mark -- each new peak of structs in use or cached takes
 * more, and a table comes with a struct's first catching process -- so it
 * grows with rare peaks and says nothing about a leak (live_procs does).
 */
size_t
gpi_proc_held(void)
{
	size_t procsz = (sizeof(struct gp_proc) + 8 + 15) & ~(size_t)15;
	size_t hostsz = (sizeof(struct gpi_phost) + 8 + 15) & ~(size_t)15;

	return (size_t)atomic_load_explicit(&nprocs_held,
	    memory_order_relaxed) * procsz + (size_t)atomic_load_explicit(
	    &nhosts_held, memory_order_relaxed) * hostsz + gpi_sig_held();
}

/* A reaped (or never published) struct goes back for reuse. */
static void
proc_free(struct gp_worker *w, struct gp_proc *p)
{
	struct gp_proc *first, *last;
	int n;

	if (w == NULL) {
		pool_put(p, p, 1);
		return;
	}
	p->p_rqnext = w->w_proccache;
	w->w_proccache = p;
	if (++w->w_nproccache < 2 * PROC_CACHE)
		return;
	/* Spill the older half (the colder structs) to the pool. */
	for (last = w->w_proccache, n = 1; n < PROC_CACHE; n++)
		last = last->p_rqnext;
	first = last->p_rqnext;
	last->p_rqnext = NULL;
	for (last = first; last->p_rqnext != NULL; last = last->p_rqnext)
		;
	w->w_nproccache = PROC_CACHE;
	pool_put(first, last, PROC_CACHE);
}

/* Give (w)'s cached structs to the pool, its count to the sum (exit). */
void
gpi_proc_drain(struct gp_worker *w)
{
	struct gp_proc *first = w->w_proccache, *last;

	gpi_count_drain(w);
	if (first == NULL)
		return;
	for (last = first; last->p_rqnext != NULL; last = last->p_rqnext)
		;
	pool_put(first, last, w->w_nproccache);
	w->w_proccache = NULL;
	w->w_nproccache = 0;
}

static pid_t
spawn(int (*entry)(void *), void *arg, char **argv, const gp_attr_t *attr)
{
	struct gp_proc *pp = gpi_curproc(), *p;
	struct gp_worker *cw = gpi_curworker(), *w = cw;
	struct gp_lwp *l, *cur = gpi_curlwp();
	pid_t pid;
	int error;

	if (w != NULL && w->w_curlwp == NULL)
		w = NULL;

	if ((error = gpi_runtime_ensure()) != 0)
		goto fail;
	if (!gpi_count_spawn(w)) {
		error = EAGAIN;
		goto fail;
	}
	if ((p = proc_alloc(w)) == NULL) {
		error = ENOMEM;
		goto fail_count;
	}
	p->p_entry = entry;
	p->p_arg = arg;
	p->p_argv = argv;
	p->p_exitsig = attr != NULL ? attr->a_exitsig : SIGCHLD;
	/* All three hold at least sizeof(p_comm) bytes; cut and terminate. */
	memcpy(p->p_comm, attr != NULL && attr->a_name[0] != '\0' ?
	    attr->a_name : pp == &gpi_proc0 ? default_comm : pp->p_comm,
	    sizeof(p->p_comm) - 1);
	p->p_comm[sizeof(p->p_comm) - 1] = '\0';
	/* gp_attr_setfds: the child's table, taken from us below. */
	if ((error = gpi_fd_spawn_prepare(p, attr)) != 0)
		goto fail_proc;
	if ((error = gpi_pid_alloc(w, p)) != 0)
		goto fail_proc;
	if ((error = gpi_lwp_create_master(cw, cur, p, &l, attr)) != 0)
		goto fail_pid;
	gpi_sig_fork(pp, cur, p, l);

	/*
	 * Link under the parent's lock, unless it is exiting: its children
	 * are being (or were) handed to a reaper, and a late one would be
	 * left behind.  The spawning LWP is being killed anyway.
	 */
	gpi_spin_lock(&pp->p_lock);
	if (gpi_pflags(pp) & GPI_P_WEXIT) {
		gpi_spin_unlock(&pp->p_lock);
		error = EAGAIN;
		goto fail_lwp;
	}
	/* Init has no group: its children start groups of their own. */
	__atomic_store_n(&p->p_pgid, pp == &gpi_proc0 ? p->p_pid :
	    pp->p_pgid, __ATOMIC_RELAXED);
	link_child(pp, p);
	gpi_spin_unlock(&pp->p_lock);
	/* The spawn cannot fail now: the listed descriptors are its. */
	gpi_fd_spawn_commit(pp, attr);

	gpi_pid_publish(p);
	if (w != NULL)
		GPI_BUMP(w->w_nspawned_p, 1);
	else
		atomic_fetch_add_explicit(&nspawned, 1, memory_order_relaxed);
	pid = p->p_pid;
	/*
	 * WARNING: from here the child may run, exit and be reaped.
	 * (w) is still our worker (a started LWP never migrates) and NULL
	 * exactly when gpi_sched_new would find no running LWP: no TLS
	 * read again.
	 */
	gpi_sched_new_on(w, l);
	return pid;

fail_lwp:
	gpi_lwp_discard(l);
fail_pid:
	gpi_pid_free(w, p);
fail_proc:
	gpi_fd_spawn_abort(p);
	p->p_argv = NULL;
	p->p_pid = 0;		/* never published */
	proc_free(w, p);
fail_count:
	gpi_count_reap(w);
fail:
	errno = error;
	return -1;
}

/*
 * A yield point on the way out (gpi_resched_point): a parent that spawns
 * in a loop gives its worker back there when the watchdog asks, so its
 * children run beside the loop instead of on a spare worker.
 */
static inline void
spawned(void)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l != NULL)
		gpi_resched_point(l);
}

pid_t
gp_spawn(int (*entry)(void *), void *arg, const gp_attr_t *attr)
{
	pid_t pid;

	if (entry == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((pid = spawn(entry, arg, NULL, attr)) > 0)
		spawned();
	return pid;
}

/* One block: the pointer array, then the strings. */
static char **
argv_copy(int argc, char **argv)
{
	size_t len = (size_t)(argc + 1) * sizeof(char *);
	char **v, *s;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if ((v = malloc(len)) == NULL)
		return NULL;
	s = (char *)(v + argc + 1);
	for (i = 0; i < argc; i++) {
		v[i] = s;
		s = stpcpy(s, argv[i]) + 1;
	}
	v[argc] = NULL;
	return v;
}

pid_t
gp_spawn_main(int (*main_fn)(int, char **), int argc, char **argv,
    const gp_attr_t *attr)
{
	char **v;
	int i;
	pid_t pid;

	if (main_fn == NULL || argc < 0 || (argc > 0 && argv == NULL)) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < argc; i++) {
		if (argv[i] == NULL) {
			errno = EINVAL;
			return -1;
		}
	}
	if ((v = argv_copy(argc, argv)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if ((pid = spawn(NULL, (void *)main_fn, v, attr)) < 0)
		free(v);
	else
		spawned();
	return pid;
}

/* ------------------------------------------------------------ reaping */

/*
 * Free reaped process (p): wait until its LWPs are off their stacks,
 * free them, release its pid slot and process count now (so a spawn
 * right after the wait fits under the limit), and its memory after an
 * RCU grace period.  Caller has unlinked it from its parent.
 * May spin briefly (the seed's lwp_wait in kern_wait).
 */
void
gpi_proc_reap(struct gp_proc *p)
{
	struct gp_worker *w = gpi_curworker();
	struct gp_lwp *l;
	struct gpi_atexit *a;

	if (w != NULL && w->w_curlwp == NULL)
		w = NULL;		/* a scheduler loop: use the shared pools */
	/* Usually one, the master: its free inline (no call, no frame). */
	while ((l = p->p_zlwps) != NULL) {
		while (!(atomic_load_explicit(&l->l_jstate,
		    memory_order_acquire) & GPI_J_DEAD))
			gpi_relax_yield();
		p->p_zlwps = l->l_pnext;
		gpi_lwp_free_inline(w, l);
	}
	/*
	 * First of all, nobody may act on p any more: a reader that looked
	 * p up by pid and waits for p_lock finds p_pid 0 and lets go; one
	 * that holds it finishes before we go on.  Only then are its
	 * resources released -- before, gp_proc_watch could still give it
	 * an eventfd after ours was closed, for the next process to inherit.
	 */
	gpi_pid_free(w, p);
	gpi_spin_lock(&p->p_lock);
	__atomic_store_n(&p->p_pid, 0, __ATOMIC_RELAXED);
	gpi_spin_unlock(&p->p_lock);
	while ((a = p->p_atexit) != NULL) {
		p->p_atexit = a->a_next;
		free(a);
	}
	gpi_sig_free(p);
	if (p->p_argv != NULL) {	/* free(NULL) is a call too */
		free(p->p_argv);
		p->p_argv = NULL;
	}
	/*
	 * Count the reap before p leaves live_procs, with a release fence
	 * between: gp_stats reads live_procs first, so a snapshot that no
	 * longer counts p as live always counts its reap (the fences pair).
	 */
	if (w != NULL)
		GPI_BUMP(w->w_nreaped_p, 1);
	else
		atomic_fetch_add_explicit(&nreaped, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	gpi_count_reap(w);
	proc_free(w, p);
}

void
gpi_count_exit(void)
{
	struct gp_worker *w = gpi_curworker();

	GPI_BUMP(w->w_nexited_p, 1);	/* exit1 runs on an LWP */
}

void
gpi_proc_counters(struct gp_counters *st)
{
	struct gp_worker *w;
	int i;

	/* live_procs first: see gpi_proc_reap's fence. */
	st->live_procs = gpi_nprocs();
	atomic_thread_fence(memory_order_acquire);
	st->spawns = atomic_load(&nspawned);
	st->exits = atomic_load(&nexited);
	st->reaps = atomic_load(&nreaped);
	for (i = 0; i < gpi_rt.rt_nworkers; i++) {
		w = &gpi_rt.rt_workers[i];
		st->spawns += GPI_RD(w->w_nspawned_p);
		st->exits += GPI_RD(w->w_nexited_p);
		st->reaps += GPI_RD(w->w_nreaped_p);
	}
}

/*
 * Kill every green process (gp_shutdown): each dies with SIGKILL at its
 * next cancellation point.
 */
void
gpi_proc_kill_all(void)
{
	struct gp_proc *p;
	int i, n;

	if (gpi_pidtab_end() < 0)
		return;
	gpi_rcu_read_lock();
	n = gpi_pidtab_end();
	for (i = 0; i < n; i++) {
		/* Published ones only: a spawn links its first LWP unlocked. */
		if ((p = gpi_pidtab_lock(i)) != NULL)
			gpi_proc_kill_unlock(p, SIGKILL);
	}
	gpi_rcu_read_unlock();
}

/* Free the pool and the pid table, and start init afresh. */
static void
proc_fini_tail(void)
{
	struct gp_proc *p;

	gpi_spin_lock(&procpool_lock);
	retire_flush_locked();
	while ((p = procpool) != NULL) {
		procpool = p->p_rqnext;
		gpi_sig_destroy(p);
		gpi_proc_host_destroy(p);
		free(p);
		atomic_fetch_sub_explicit(&nprocs_held, 1,
		    memory_order_relaxed);
	}
	procpool_n = 0;
	gpi_spin_unlock(&procpool_lock);
	gpi_rcu_barrier();
	gpi_pid_fini();
	gpi_proc0.p_children = NULL;
	gpi_proc0.p_rq_tail = NULL;
	gpi_proc0.p_zlwps = NULL;
	gpi_proc0.p_lwps = NULL;
	atomic_store(&gpi_proc0.p_nthreads, 0);
	memset(&gpi_proc0.p_cru, 0, sizeof(gpi_proc0.p_cru));
	memset(&gpi_proc0.p_ru, 0, sizeof(gpi_proc0.p_ru));
}

/*
 * Free every process left (gp_shutdown, after every LWP died): zombies
 * nobody waited for.  No other thread touches the table now.
 */
void
gpi_proc_fini(void)
{
	struct gp_proc *p;
	int i, n;

	if ((n = gpi_pidtab_end()) < 0)
		return;
	for (i = 0; i < n; i++) {
		if ((p = gpi_pidtab_get(i)) != NULL)
			gpi_proc_reap(p);
	}
	proc_fini_tail();
}

/* Has every LWP of zombie (p) left its stack (nothing runs for it)? */
static bool
all_dead(const struct gp_proc *p)
{
	const struct gp_lwp *l;

	if (p->p_lwps != NULL)
		return false;
	for (l = p->p_zlwps; l != NULL; l = l->l_pnext)
		if (!(atomic_load_explicit(&l->l_jstate, memory_order_acquire) &
		    GPI_J_DEAD))
			return false;
	return true;
}

/*
 * After a shutdown that gave up, the abandoned workers may still touch
 * the processes of their LWPs (and those their parents, children...):
 * only a zombie nothing runs for is freed, and every other process is
 * left allocated, never reused: the pool and the table are not its way
 * back.  Nobody looks it up any more: the table goes, and init starts
 * afresh, so the next runtime shares no process with the abandoned
 * workers.  A frozen worker (runtime.c) touches none of them; they stay
 * for the instant before it freezes.
 */
size_t
gpi_proc_abandon(void)
{
	struct gp_proc *p;
	size_t left = 0;
	int i, n;

	if ((n = gpi_pidtab_end()) < 0)
		return 0;
	for (i = 0; i < n; i++) {
		if ((p = gpi_pidtab_get(i)) == NULL)
			continue;
		if (__atomic_load_n(&p->p_stat, __ATOMIC_RELAXED) ==
		    GPI_SZOMB && all_dead(p))
			gpi_proc_reap(p);
		else
			left += sizeof(*p);
	}
	proc_fini_tail();
	return left;
}

void *
gpi_lwp_entry(const struct gp_lwp *l)
{
	struct gp_proc *p = l->l_proc;

	if (l->l_fn != gpi_proc_main)
		return (void *)l->l_fn;
	return p->p_argv != NULL ? p->p_arg : (void *)p->p_entry;
}

/* In a forked child (fork.c): the parent's tables are not ours. */
void
gpi_proc_forget(void)
{
	gpi_pid_forget();
	gpi_spin_reset(&procpool_lock);
	gpi_spin_reset(&gpi_reparent_lock);
	procpool = NULL;
	procpool_n = 0;
	retire = NULL;
	nretire = 0;
	gpi_spin_reset(&gpi_proc0.p_lock);
	gpi_proc0.p_lwps = gpi_proc0.p_zlwps = NULL;
	atomic_store(&gpi_proc0.p_nthreads, 0);
	gpi_proc0.p_children = NULL;
	gpi_proc0.p_rq_tail = NULL;
	if (gpi_proc0.p_host != NULL)
		gpi_proc0.p_host->h_rchildren = NULL;
	gpi_proc0.p_nwaiters = 0;
}
