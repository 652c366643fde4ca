/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proc.c -- green processes: the pid table, spawning, lookup, process
 * groups, reaper status and gp_ps (DragonFly kern_proc.c and kern_fork.c).
 *
 * The pid table is an RCU-protected array of slots, one per possible live
 * process (GREENPROC_MAX_PROCS).  A pid encodes its slot and a generation
 * of that slot: pid = GP_PID_BASE + 2 + gen * nslots + slot.  Lookup is a
 * load and a compare, with no hashing and no lock; a reaped slot is free
 * at once, but its next pid differs (the generation moved on), so a pid is
 * reused only after the slot has cycled through every generation.  The
 * table is also the list of all processes: gp_ps walks it under RCU up to
 * the highest slot ever used, so neither spawn nor exit touches a shared
 * list.
 *
 * RCU flavor: memb (membarrier).  Its read side is a thread-local counter,
 * as cheap as QSBR's, but a reader needs no quiescent-state reports, so a
 * host thread that calls in now and then cannot stall grace periods.
 * Workers register at start; host threads register on first use and
 * unregister when they exit (a TLS destructor).  An LWP never switches
 * inside a read-side section.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

#define PID_BATCH		32	/* free slots moved to a worker at once */
#define PID_FIRST		(GP_PID_BASE + 2)

struct pidslot {
	_Atomic(struct gp_proc *) ps_proc; /* (a) release store at publish,
					 * acquire load in gpi_pfind. */
	unsigned	 ps_gen;	/* (i) Generation of the slot's pid. */
	int		 ps_nextfree;	/* (i) Free list link. */
};

/* (i): pid_lock.  A leaf lock. */
static gpi_spin_t pid_lock = GPI_SPIN_INIT(GPI_RANK_PID);
static struct pidslot *pidtab;		/* (c) after gpi_proc_init */
static int pid_nslots;			/* (c) */
static int pid_maxprocs;		/* (c) GREENPROC_MAX_PROCS */
static unsigned pid_ngens;		/* (c) */
static int pid_freehead = -1;		/* (i) */
static atomic_int pid_hiwater;		/* (i,a) Slots ever used. */
static atomic_long nprocs;		/* (a) Live processes, zombies too,
					 * but for the workers' w_pdelta. */
/* Exact limit checks and w_pdelta folds; a leaf lock. */
static gpi_spin_t limit_lock = GPI_SPIN_INIT(GPI_RANK_LIMIT);
static atomic_ulong nspawned, nexited, nreaped;	/* (a) counters */

gpi_spin_t gpi_reparent_lock = GPI_SPIN_INIT(GPI_RANK_REPARENT);
static const char default_comm[16] = "green";

/* ------------------------------------------------------------ RCU */

#ifdef GPI_TSAN
#include <sanitizer/tsan_interface.h>
static char rcu_tsan_token;
#endif

/*
 * liburcu-memb is not linked: the first gp_init (or the first reader,
 * should a host thread look a pid up before that) dlopen()s it, and it
 * stays loaded.  Mapping it and its constructor's membarrier
 * registration are then paid by a process that runs green code, not by
 * every process that has the preload in LD_PRELOAD (DESIGN.md, Preload).
 * The inline read side reaches liburcu's data through the pointers below
 * (internal.h): the grace-period word and the membarrier flag are set
 * once, before urcu_loaded; a thread's reader is looked up (dlsym on a
 * TLS symbol gives the caller's instance) before it registers, so no
 * read-side section ever runs through a NULL pointer.
 */
#define URCU_MEMB_SONAME	"liburcu-memb.so.8"

struct urcu_gp *gpi_urcu_memb_gp;		/* (c) after urcu_loaded */
int *gpi_urcu_memb_has_sys_membarrier;		/* (c) after urcu_loaded */
int (*gpi_urcu_compat_futex_async)(int32_t *, int, int32_t,
    const struct timespec *, int32_t *, int32_t);	/* (c) likewise */
__thread struct urcu_reader *gpi_tls_urcu_memb_reader
    __attribute__((tls_model("initial-exec")));

static struct {
	void	*handle;
	void	(*register_thread)(void);
	void	(*unregister_thread)(void);
	void	(*call_rcu)(struct rcu_head *, void (*)(struct rcu_head *));
	void	(*barrier)(void);
} urcu;						/* (c) after urcu_loaded */
/*
 * urcu_lock serializes the load; urcu_loaded publishes it (release
 * store after every pointer is set, acquire load before any is used).
 * WARNING: urcu_lock is held across dlopen(), which reads a file: it is
 * taken once per process, by whoever starts the runtime first, so its
 * only possible contenders are other first starters, which must wait
 * for the library anyway.
 */
static gpi_spin_t urcu_lock = GPI_SPIN_INIT(GPI_RANK_URCU);
static atomic_bool urcu_loaded;
static int urcu_error;				/* (urcu_lock) */

static void *
urcu_sym(const char *name)
{
	void *p = dlsym(urcu.handle, name);

	if (p == NULL)
		urcu_error = ELIBACC;
	return p;
}

int
gpi_rcu_load(void)
{
	int error;

	if (likely(atomic_load_explicit(&urcu_loaded, memory_order_acquire)))
		return 0;
	gpi_spin_lock(&urcu_lock);
	if (!atomic_load(&urcu_loaded) && urcu_error == 0) {
		if ((urcu.handle = dlopen(URCU_MEMB_SONAME, RTLD_NOW |
		    RTLD_LOCAL)) == NULL)
			urcu_error = ELIBACC;
		else {
			urcu.register_thread = (void (*)(void))urcu_sym(
			    "urcu_memb_register_thread");
			urcu.unregister_thread = (void (*)(void))urcu_sym(
			    "urcu_memb_unregister_thread");
			urcu.call_rcu = (void (*)(struct rcu_head *,
			    void (*)(struct rcu_head *)))urcu_sym(
			    "urcu_memb_call_rcu");
			urcu.barrier = (void (*)(void))urcu_sym(
			    "urcu_memb_barrier");
			gpi_urcu_memb_gp = urcu_sym("urcu_memb_gp");
			gpi_urcu_memb_has_sys_membarrier = urcu_sym(
			    "urcu_memb_has_sys_membarrier");
			gpi_urcu_compat_futex_async = (int (*)(int32_t *, int,
			    int32_t, const struct timespec *, int32_t *,
			    int32_t))urcu_sym("compat_futex_async");
		}
		if (urcu_error != 0)
			fprintf(stderr, "greenproc: cannot load %s: %s\n",
			    URCU_MEMB_SONAME, dlerror());
		else
			atomic_store_explicit(&urcu_loaded, true,
			    memory_order_release);
	}
	error = atomic_load(&urcu_loaded) ? 0 : urcu_error;
	gpi_spin_unlock(&urcu_lock);
	return error;
}

void
gpi_rcu_call(struct rcu_head *head, void (*fn)(struct rcu_head *))
{
	urcu.call_rcu(head, fn);
}

void
gpi_rcu_barrier(void)
{
	urcu.barrier();
}

static __thread int tls_rcu_registered
    __attribute__((tls_model("initial-exec")));
static pthread_key_t rcu_key;
static pthread_once_t rcu_once = PTHREAD_ONCE_INIT;

static void
rcu_thread_gone(void *arg)
{
	(void)arg;
	if (tls_rcu_registered) {
		urcu.unregister_thread();
		tls_rcu_registered = 0;
	}
}

static void
rcu_key_init(void)
{
	GPI_LIBC(pthread_key_create)(&rcu_key, rcu_thread_gone);
}

void
gpi_rcu_thread_online(void)
{
	if (tls_rcu_registered)
		return;
	if (gpi_rcu_load() != 0)
		GPI_PANIC("RCU reader without liburcu");
	if (gpi_tls_urcu_memb_reader == NULL)
		gpi_tls_urcu_memb_reader = dlsym(urcu.handle,
		    "urcu_memb_reader");
	if (gpi_tls_urcu_memb_reader == NULL)
		GPI_PANIC("%s has no urcu_memb_reader", URCU_MEMB_SONAME);
	urcu.register_thread();
	tls_rcu_registered = 1;
}

void
gpi_rcu_thread_offline(void)
{
	rcu_thread_gone(NULL);
}

/*
 * A host thread's first read-side section: register, and unregister when
 * it exits.  Out of line and cold, so that the read lock itself stays
 * small enough to be inlined into the spawn/exit/wait fast paths.
 */
static __attribute__((noinline, cold)) void
rcu_register_host(void)
{
	GPI_LIBC(pthread_once)(&rcu_once, rcu_key_init);
	gpi_rcu_thread_online();
	GPI_LIBC(pthread_setspecific)(rcu_key, (void *)1);
}

void
gpi_rcu_read_lock(void)
{
	if (unlikely(!tls_rcu_registered))
		rcu_register_host();
	urcu_memb_read_lock();
}

void
gpi_rcu_read_unlock(void)
{
#ifdef GPI_TSAN
	/* TSan cannot see a grace period: say it orders us before frees. */
	__tsan_release(&rcu_tsan_token);
#endif
	urcu_memb_read_unlock();
}

/* ------------------------------------------------------------ pid table */

int
gpi_proc_init(int nworkers)
{
	size_t len;

	/*
	 * Slots beyond the limit: workers keep up to 3 * PID_BATCH free slots
	 * each, which must never make a spawn under the limit fail.  The
	 * limit itself is nprocs against pid_maxprocs.
	 */
	pid_maxprocs = (int)gpi_env(GPI_ENV_MAX_PROCS);
	/*
	 * A power of two: a pid's slot is a mask, not a division (four per
	 * round trip, ~25 cycles each).  The table is MAP_NORESERVE and
	 * touched only up to the high-water mark, so the rounding is free.
	 */
	pid_nslots = 1;
	while (pid_nslots < pid_maxprocs + (nworkers + 1) * 3 * PID_BATCH)
		pid_nslots <<= 1;
	pid_ngens = (unsigned)(((unsigned)INT_MAX - PID_FIRST) /
	    (unsigned)pid_nslots);
	len = (size_t)pid_nslots * sizeof(struct pidslot);
	/* Untouched slots cost no memory. */
	pidtab = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (pidtab == MAP_FAILED) {
		pidtab = NULL;
		return ENOMEM;
	}
	pid_freehead = -1;
	atomic_store(&pid_hiwater, 0);
	atomic_store(&nprocs, 0);
	atomic_store(&nspawned, 0);
	atomic_store(&nexited, 0);
	atomic_store(&nreaped, 0);
	gpi_rusage_init();
	return 0;
}

/*
 * Move up to PID_BATCH free slots from the global list (or fresh ones
 * above the high-water mark) to (w)'s private list.  Slots then cycle
 * within one worker, so spawn and reap on different workers touch no
 * common cache line.  Caller holds pid_lock.
 */
static int
pid_take(void)
{
	int slot;

	GPI_LOCK_ASSERT(&pid_lock);
	if ((slot = pid_freehead) >= 0) {
		pid_freehead = pidtab[slot].ps_nextfree;
	} else if ((slot = atomic_load_explicit(&pid_hiwater,
	    memory_order_relaxed)) < pid_nslots) {
		atomic_store_explicit(&pid_hiwater, slot + 1,
		    memory_order_release);
	} else {
		slot = -1;
	}
	return slot;
}

/*
 * A worker's free slots are a FIFO: a slot freed now is taken again only
 * after the others, so a spawn/wait loop does not cycle one slot through
 * its generations (and a pid comes back after tens of thousands of
 * spawns, not hundreds).  Owner only.
 */
static void
pid_enqueue(struct gp_worker *w, int slot)
{
	pidtab[slot].ps_nextfree = -1;
	if (w->w_npidfree++ == 0)
		w->w_pidfree = slot;
	else
		pidtab[w->w_pidtail].ps_nextfree = slot;
	w->w_pidtail = slot;
}

/* Take a slot for (p) and give it its pid; not yet visible to pfind. */
static int
pid_alloc(struct gp_worker *w, struct gp_proc *p)
{
	struct pidslot *ps;
	int slot, n;

	if (w != NULL && w->w_npidfree == 0) {
		gpi_spin_lock(&pid_lock);
		for (n = 0; n < PID_BATCH && (slot = pid_take()) >= 0; n++)
			pid_enqueue(w, slot);
		gpi_spin_unlock(&pid_lock);
	}
	if (w != NULL && w->w_npidfree > 0) {
		slot = w->w_pidfree;
		w->w_pidfree = pidtab[slot].ps_nextfree;
		w->w_npidfree--;
	} else {
		gpi_spin_lock(&pid_lock);
		slot = pid_take();
		gpi_spin_unlock(&pid_lock);
		if (slot < 0)
			return EAGAIN;
	}
	ps = &pidtab[slot];
	ps->ps_gen = ps->ps_gen + 1 < pid_ngens ? ps->ps_gen + 1 : 0;
	__atomic_store_n(&p->p_pid, PID_FIRST +
	    (pid_t)(ps->ps_gen * (unsigned)pid_nslots) + slot,
	    __ATOMIC_RELAXED);
	return 0;
}

static inline int
pid_slot(pid_t pid)
{
	return (int)((unsigned)(pid - PID_FIRST) & (unsigned)(pid_nslots - 1));
}

static void
pid_publish(struct gp_proc *p)
{
	atomic_store_explicit(&pidtab[pid_slot(p->p_pid)].ps_proc, p,
	    memory_order_release);
}

static void
pid_free(struct gp_worker *w, struct gp_proc *p)
{
	int slot = pid_slot(p->p_pid), n;

	atomic_store_explicit(&pidtab[slot].ps_proc, NULL,
	    memory_order_relaxed);
	if (w != NULL && w->w_npidfree < 2 * PID_BATCH) {
		pid_enqueue(w, slot);
		return;
	}
	gpi_spin_lock(&pid_lock);
	pidtab[slot].ps_nextfree = pid_freehead;
	pid_freehead = slot;
	/* A full private list gives half back, for the other workers. */
	for (n = 0; w != NULL && n < PID_BATCH; n++) {
		slot = w->w_pidfree;
		w->w_pidfree = pidtab[slot].ps_nextfree;
		w->w_npidfree--;
		pidtab[slot].ps_nextfree = pid_freehead;
		pid_freehead = slot;
	}
	gpi_spin_unlock(&pid_lock);
}

struct gp_proc *
gpi_pfind(pid_t pid)
{
	struct gp_proc *p;

	if (pid == GP_PID_INIT)
		return &gpi_proc0;
	if (pid < PID_FIRST || pidtab == NULL)
		return NULL;
	p = atomic_load_explicit(&pidtab[pid_slot(pid)].ps_proc,
	    memory_order_acquire);
	return p != NULL && __atomic_load_n(&p->p_pid, __ATOMIC_RELAXED) ==
	    pid ? p : NULL;
}

bool
gpi_proc_lock_pid(struct gp_proc *p, pid_t pid)
{
	if (pid == 0)
		return false;		/* a free struct's */
	gpi_spin_lock(&p->p_lock);
	if (__atomic_load_n(&p->p_pid, __ATOMIC_RELAXED) == pid)
		return true;
	gpi_spin_unlock(&p->p_lock);
	return false;
}

/*
 * The process in pid slot (i), locked, if one is published there and not
 * yet reaped; its published fields are then safe to read (the slot's
 * acquire pairs with pid_publish).  NULL otherwise.  Under RCU.
 */
static struct gp_proc *
slot_lock(int i)
{
	struct gp_proc *p = atomic_load_explicit(&pidtab[i].ps_proc,
	    memory_order_acquire);

	if (p == NULL)
		return NULL;
	gpi_spin_lock(&p->p_lock);
	if (atomic_load_explicit(&pidtab[i].ps_proc, memory_order_acquire) ==
	    p && __atomic_load_n(&p->p_pid, __ATOMIC_RELAXED) != 0)
		return p;
	gpi_spin_unlock(&p->p_lock);
	return NULL;
}


/* ------------------------------------------------------------ tree */

struct gp_proc *
gpi_lock_parent(struct gp_proc *p)
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

void
gpi_report(struct gp_proc *pp, struct gp_proc *p, int what)
{
	GPI_LOCK_ASSERT(&pp->p_lock);
	if (p->p_report == 0) {
		/* At the tail of the circle, before the head. */
		if (pp->p_rq_tail != NULL) {
			p->p_rqnext = pp->p_rq_tail->p_rqnext;
			pp->p_rq_tail->p_rqnext = p;
		} else {
			p->p_rqnext = p;
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
	struct gp_proc *prev;

	GPI_LOCK_ASSERT(&pp->p_lock);
	if (p->p_report == 0)
		return;
	/* O(1) for the head, which is what wait(-1) takes. */
	for (prev = pp->p_rq_tail; prev->p_rqnext != p; prev = prev->p_rqnext)
		;
	if (prev == p) {
		pp->p_rq_tail = NULL;		/* it was the only one */
	} else {
		prev->p_rqnext = p->p_rqnext;
		if (pp->p_rq_tail == p)
			pp->p_rq_tail = prev;
	}
	p->p_rqnext = NULL;
	p->p_report = 0;
}

/* Link new process (p) under (pp); pp->p_lock held. */
static void
link_child(struct gp_proc *pp, struct gp_proc *p)
{
	GPI_LOCK_ASSERT(&pp->p_lock);
	__atomic_store_n(&p->p_pptr, pp, __ATOMIC_RELEASE);
	p->p_sibprev = NULL;
	if ((p->p_sibnext = pp->p_children) != NULL)
		pp->p_children->p_sibprev = p;
	pp->p_children = p;
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

static void *
proc_main(void *arg)
{
	struct gp_proc *p = arg;
	int (*main_fn)(int, char **) = (int (*)(int, char **))p->p_arg;

	if (p->p_argv != NULL)
		gp_exit(main_fn(argc_of(p->p_argv), p->p_argv));
	gp_exit(p->p_entry(p->p_arg));
}

/* ------------------------------------------------------------ the limit */

/*
 * The process count is per worker plus a global sum: a spawn or reap on a
 * worker moves its own w_pdelta (a plain store to its own cache line) and
 * folds it into nprocs every PDELTA_FOLD, so spawn trees on different
 * workers share no counter.  Live processes = nprocs + every w_pdelta.
 * Far from the limit -- even with every worker's delta at its bound --
 * a spawn needs no exact count.  Near it, and on host threads, a spawn
 * takes limit_lock and sums the deltas: exact, as the limit must be
 * (a reap lowers its delta before its parent learns of the exit, so a
 * spawn right after a wait at the limit fits).
 */
#define PDELTA_FOLD	32

static void
pdelta_add(struct gp_worker *w, int d)
{
	int v = atomic_load_explicit(&w->w_pdelta, memory_order_relaxed) + d;

	if (v >= PDELTA_FOLD || v <= -PDELTA_FOLD) {
		/* Under the lock: an exact count never sees v twice. */
		gpi_spin_lock(&limit_lock);
		atomic_fetch_add(&nprocs, v);
		atomic_store_explicit(&w->w_pdelta, 0, memory_order_relaxed);
		gpi_spin_unlock(&limit_lock);
		return;
	}
	atomic_store_explicit(&w->w_pdelta, v, memory_order_relaxed);
}

static long
nprocs_exact(void)
{
	long n = atomic_load(&nprocs);
	int i;

	for (i = 0; i < gpi_rt.rt_nworkers; i++)
		n += atomic_load_explicit(&gpi_rt.rt_workers[i].w_pdelta,
		    memory_order_relaxed);
	return n;
}

/* Count a new process against the limit; false (EAGAIN) at the limit. */
static bool
count_spawn(struct gp_worker *w)
{
	bool ok;

	if (w != NULL && atomic_load_explicit(&nprocs, memory_order_relaxed) +
	    (long)(gpi_rt.rt_nworkers + 1) * PDELTA_FOLD < pid_maxprocs) {
		pdelta_add(w, 1);
		return true;
	}
	gpi_spin_lock(&limit_lock);
	if ((ok = nprocs_exact() < pid_maxprocs))
		atomic_fetch_add(&nprocs, 1);
	gpi_spin_unlock(&limit_lock);
	return ok;
}

static void
count_reap(struct gp_worker *w)
{
	if (w != NULL)
		pdelta_add(w, -1);
	else
		atomic_fetch_sub(&nprocs, 1);
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

/* RCU callback: a batch of trimmed structs, linked through p_rqnext. */
static void
proc_retire_rcu(struct rcu_head *head)
{
	struct gp_proc *p, *next;

#ifdef GPI_TSAN
	__tsan_acquire(&rcu_tsan_token);	/* see gpi_rcu_read_unlock */
#endif
	for (p = caa_container_of(head, struct gp_proc, p_rcu); p != NULL;
	    p = next) {
		next = p->p_rqnext;
		free(p);
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
	__tsan_release(&rcu_tsan_token);	/* our last writes */
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

	if (w != NULL && w->w_proccache == NULL)
		w->w_nproccache = pool_get(&w->w_proccache, PROC_CACHE);
	if (w != NULL && (p = w->w_proccache) != NULL) {
		w->w_proccache = p->p_rqnext;
		w->w_nproccache--;
	} else if (w != NULL || pool_get(&p, 1) == 0) {
		/* Born in the constructed state: all zero, no eventfd. */
		if ((p = calloc(1, sizeof(*p))) == NULL)
			return NULL;
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
	 * lists, children, report queue, atexit list, handlers, eventfd,
	 * waiter count -- is empty, so only what accumulates is reset
	 * here.  Clearing all 240 bytes cost a fifth of a spawn.  Debug
	 * builds check the rest.
	 */
	KASSERT(p->p_lwps == NULL && p->p_zlwps == NULL &&
	    p->p_rchildren == NULL && atomic_load(&p->p_nthreads) == 0);
	KASSERT(p->p_children == NULL && p->p_rq_tail == NULL &&
	    p->p_report == 0 && p->p_nwaiters == 0);
	KASSERT(p->p_atexit == NULL && p->p_sigacts == NULL &&
	    p->p_watchfd == -1 && p->p_argv == NULL);
	p->p_killsig = 0;
	p->p_xsig = 0;
	memset(&p->p_ru, 0, sizeof(p->p_ru));
	memset(&p->p_cru, 0, sizeof(p->p_cru));
	p->p_siglist = 0;
	p->p_sigignore = 0;
	p->p_sigcatch = 0;
	return p;
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

	gpi_spin_lock(&limit_lock);
	atomic_fetch_add(&nprocs, atomic_exchange(&w->w_pdelta, 0));
	gpi_spin_unlock(&limit_lock);
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
	struct gp_worker *w = gpi_curworker();
	struct gp_lwp *l;
	pid_t pid;
	int error;

	if (w != NULL && w->w_curlwp == NULL)
		w = NULL;

	if ((error = gpi_runtime_ensure()) != 0)
		goto fail;
	if (!count_spawn(w)) {
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
	if ((error = pid_alloc(w, p)) != 0)
		goto fail_proc;
	if ((error = gpi_lwp_create(p, &l, proc_main, p, attr, false)) != 0)
		goto fail_pid;
	gpi_sig_fork(pp, gpi_curlwp(), p, l);

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

	pid_publish(p);
	if (w != NULL)
		GPI_BUMP(w->w_nspawned_p, 1);
	else
		atomic_fetch_add_explicit(&nspawned, 1, memory_order_relaxed);
	pid = p->p_pid;
	/* WARNING: from here the child may run, exit and be reaped. */
	gpi_sched_new(l);
	return pid;

fail_lwp:
	gpi_lwp_discard(l);
fail_pid:
	pid_free(w, p);
fail_proc:
	p->p_argv = NULL;
	p->p_pid = 0;		/* never published */
	proc_free(w, p);
fail_count:
	count_reap(w);
fail:
	errno = error;
	return -1;
}

pid_t
gp_spawn(int (*entry)(void *), void *arg, const gp_attr_t *attr)
{
	if (entry == NULL) {
		errno = EINVAL;
		return -1;
	}
	return spawn(entry, arg, NULL, attr);
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

	while ((l = p->p_zlwps) != NULL) {
		while (!(atomic_load_explicit(&l->l_jstate,
		    memory_order_acquire) & GPI_J_DEAD))
			gpi_relax_yield();
		p->p_zlwps = l->l_pnext;
		gpi_lwp_free(w != NULL && w->w_curlwp != NULL ? w : NULL, l);
	}
	if (w != NULL && w->w_curlwp == NULL)
		w = NULL;		/* a scheduler loop: use the shared pools */
	/*
	 * First of all, nobody may act on p any more: a reader that looked
	 * p up by pid and waits for p_lock finds p_pid 0 and lets go; one
	 * that holds it finishes before we go on.  Only then are its
	 * resources released -- before, gp_proc_watch could still give it
	 * an eventfd after ours was closed, for the next process to inherit.
	 */
	pid_free(w, p);
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
	count_reap(w);
	if (w != NULL)
		GPI_BUMP(w->w_nreaped_p, 1);
	else
		atomic_fetch_add_explicit(&nreaped, 1, memory_order_relaxed);
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

	st->spawns = atomic_load(&nspawned);
	st->exits = atomic_load(&nexited);
	st->reaps = atomic_load(&nreaped);
	for (i = 0; i < gpi_rt.rt_nworkers; i++) {
		w = &gpi_rt.rt_workers[i];
		st->spawns += GPI_RD(w->w_nspawned_p);
		st->exits += GPI_RD(w->w_nexited_p);
		st->reaps += GPI_RD(w->w_nreaped_p);
	}
	st->live_procs = nprocs_exact();
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

	if (pidtab == NULL)
		return;
	gpi_rcu_read_lock();
	n = atomic_load_explicit(&pid_hiwater, memory_order_acquire);
	for (i = 0; i < n; i++) {
		/* Published ones only: a spawn links its first LWP unlocked. */
		if ((p = slot_lock(i)) != NULL)
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
		free(p);
	}
	procpool_n = 0;
	gpi_spin_unlock(&procpool_lock);
	gpi_rcu_barrier();
	munmap(pidtab, (size_t)pid_nslots * sizeof(struct pidslot));
	pidtab = NULL;
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

	if (pidtab == NULL)
		return;
	n = atomic_load(&pid_hiwater);
	for (i = 0; i < n; i++) {
		if ((p = atomic_load(&pidtab[i].ps_proc)) != NULL)
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

	if (pidtab == NULL)
		return 0;
	n = atomic_load(&pid_hiwater);
	for (i = 0; i < n; i++) {
		if ((p = atomic_load(&pidtab[i].ps_proc)) == NULL)
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

	if (l->l_fn != proc_main)
		return (void *)l->l_fn;
	return p->p_argv != NULL ? p->p_arg : (void *)p->p_entry;
}

/* In a forked child (fork.c): the parent's tables are not ours. */
void
gpi_proc_forget(void)
{
	pidtab = NULL;			/* leaked in the child, on purpose */
	pid_freehead = -1;
	atomic_store(&pid_hiwater, 0);
	atomic_store(&nprocs, 0);
	gpi_spin_reset(&pid_lock);
	gpi_spin_reset(&limit_lock);
	gpi_spin_reset(&procpool_lock);
	gpi_spin_reset(&gpi_reparent_lock);
	procpool = NULL;
	procpool_n = 0;
	retire = NULL;
	nretire = 0;
	tls_rcu_registered = 0;
	gpi_spin_reset(&gpi_proc0.p_lock);
	gpi_proc0.p_lwps = gpi_proc0.p_zlwps = NULL;
	atomic_store(&gpi_proc0.p_nthreads, 0);
	gpi_proc0.p_children = NULL;
	gpi_proc0.p_rq_tail = NULL;
	gpi_proc0.p_rchildren = NULL;
	gpi_proc0.p_nwaiters = 0;
}

/* ------------------------------------------------------------ ids, groups */

pid_t
gp_getpid(void)
{
	return gpi_curproc()->p_pid;
}

pid_t
gp_getppid(void)
{
	struct gp_proc *p = gpi_curproc(), *pp;
	pid_t pid;

	if (p == &gpi_proc0)
		return 0;		/* as the real init's */
	/* Locked: an unlocked parent could be reaped and reused meanwhile. */
	pp = gpi_lock_parent(p);
	pid = pp->p_pid;
	gpi_spin_unlock(&pp->p_lock);
	return pid;
}

pid_t
gp_getpgid(pid_t pid)
{
	struct gp_proc *p;
	pid_t pgid;

	if (pid == 0)
		return gpi_curproc()->p_pgid;
	gpi_rcu_read_lock();
	if ((p = gpi_pfind(pid)) == NULL || !gpi_proc_lock_pid(p, pid)) {
		gpi_rcu_read_unlock();
		errno = ESRCH;
		return -1;
	}
	pgid = __atomic_load_n(&p->p_pgid, __ATOMIC_RELAXED);
	gpi_spin_unlock(&p->p_lock);
	gpi_rcu_read_unlock();
	return pgid;
}

/*
 * Count the live members of group (pgid) that satisfy (what).  A scan of
 * the pid table: groups are not kept as objects, so this costs O(procs);
 * it runs only for setpgid, group kills and job control, never on the
 * spawn/exit/wait fast paths.  Caller is inside gpi_rcu_read_lock().
 */
int
gpi_pgrp_scan(pid_t pgid, int what)
{
	struct gp_proc *p, *pp;
	int i, count = 0, n;

	if (pidtab == NULL)
		return 0;
	n = atomic_load_explicit(&pid_hiwater, memory_order_acquire);
	for (i = 0; i < n; i++) {
		p = atomic_load_explicit(&pidtab[i].ps_proc,
		    memory_order_acquire);
		if (p == NULL || __atomic_load_n(&p->p_stat,
		    __ATOMIC_RELAXED) == GPI_SZOMB ||
		    (gpi_pflags(p) & GPI_P_WEXIT) ||
		    __atomic_load_n(&p->p_pgid, __ATOMIC_RELAXED) != pgid)
			continue;
		switch (what) {
		case GPI_PGRP_MEMBERS:
			count++;
			break;
		case GPI_PGRP_LINKED:
			/* Header fields only: p or pp may be reused. */
			pp = __atomic_load_n(&p->p_pptr, __ATOMIC_ACQUIRE);
			if (pp != NULL && pp != &gpi_proc0 &&
			    __atomic_load_n(&pp->p_pgid,
			    __ATOMIC_RELAXED) != pgid)
				count++;
			break;
		case GPI_PGRP_STOPPED:
			if (gpi_pflags(p) & GPI_P_STOPPED)
				count++;
			break;
		}
	}
	return count;
}

/*
 * Call fn on every live green process in group (pgid), or on every one
 * but (self) if pgid is 0.  Caller is inside gpi_rcu_read_lock(); fn
 * must not switch.
 */
void
gpi_proc_foreach(pid_t pgid, struct gp_proc *self,
    void (*fn)(struct gp_proc *, pid_t, void *), void *arg)
{
	struct gp_proc *p;
	pid_t pid;
	int i, n;

	if (pidtab == NULL)
		return;
	n = atomic_load_explicit(&pid_hiwater, memory_order_acquire);
	for (i = 0; i < n; i++) {
		p = atomic_load_explicit(&pidtab[i].ps_proc,
		    memory_order_acquire);
		/* Header fields only; fn rechecks (pid) under p_lock. */
		if (p == NULL || (pid = __atomic_load_n(&p->p_pid,
		    __ATOMIC_RELAXED)) == 0 || __atomic_load_n(&p->p_stat,
		    __ATOMIC_RELAXED) == GPI_SZOMB)
			continue;
		if (pgid != 0 ? __atomic_load_n(&p->p_pgid,
		    __ATOMIC_RELAXED) != pgid : p == self)
			continue;
		fn(p, pid, arg);
	}
}

static bool
pgrp_exists(pid_t pgid)
{
	return gpi_pgrp_scan(pgid, GPI_PGRP_MEMBERS) > 0;
}

/*
 * setpgid(2) for green processes.  All green processes form one session
 * (init stands outside it), so the POSIX rules reduce to: (pid) is the
 * caller or a child of it (ESRCH), a child that has not run gp_exec
 * (EACCES); (pgid) is (pid) itself or an existing group (EPERM).  Init
 * may regroup any of its children, but has no group to change.
 */
int
gp_setpgid(pid_t pid, pid_t pgid)
{
	struct gp_proc *q = gpi_curproc(), *p;
	int error = 0;

	if (pgid < 0) {
		errno = EINVAL;
		return -1;
	}
	gpi_rcu_read_lock();
	if (pid == 0 || pid == q->p_pid) {
		p = q;
	} else if ((p = gpi_pfind(pid)) == NULL ||
	    __atomic_load_n(&p->p_pptr, __ATOMIC_RELAXED) != q) {
		error = ESRCH;
		goto out;
	}
	if (p == &gpi_proc0) {
		error = EPERM;
		goto out;
	}
	if (pgid == 0)
		pgid = p->p_pid;
	if (pgid != p->p_pid && !pgrp_exists(pgid)) {
		error = EPERM;
		goto out;
	}
	if (p != q) {
		/* p_pptr is stable under the parent's (our) lock. */
		gpi_spin_lock(&q->p_lock);
		/* The pid too: p may have been reaped and reused since. */
		if (p->p_pptr != q || p->p_pid != pid ||
		    p->p_stat == GPI_SZOMB)
			error = ESRCH;
		else if (gpi_pflags(p) & GPI_P_EXEC)
			error = EACCES;
		else
			__atomic_store_n(&p->p_pgid, pgid, __ATOMIC_RELAXED);
		gpi_spin_unlock(&q->p_lock);
	} else {
		__atomic_store_n(&p->p_pgid, pgid, __ATOMIC_RELAXED);
	}
out:
	gpi_rcu_read_unlock();
	if (error != 0) {
		errno = error;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ reapers */

/*
 * procctl(PROC_REAP_ACQUIRE): orphans of the caller's descendants come
 * to it instead of init.  Init already adopts every orphan.
 */
int
gp_reaper_acquire(void)
{
	struct gp_proc *p = gpi_curproc();

	if (p == &gpi_proc0)
		return 0;
	gpi_spin_lock(&p->p_lock);
	gpi_pflags_set(p, GPI_P_REAPER);
	gpi_spin_unlock(&p->p_lock);
	return 0;
}

/*
 * Give up reaper status.  Children already adopted stay; later orphans
 * go further up.  Releasing without holding it is EINVAL (procctl).
 */
int
gp_reaper_release(void)
{
	struct gp_proc *p = gpi_curproc();
	int error = 0;

	if (p == &gpi_proc0) {
		errno = EINVAL;
		return -1;
	}
	gpi_spin_lock(&gpi_reparent_lock);
	gpi_spin_lock(&p->p_lock);
	if (gpi_pflags(p) & GPI_P_REAPER)
		gpi_pflags_clear(p, GPI_P_REAPER);
	else
		error = EINVAL;
	gpi_spin_unlock(&p->p_lock);
	gpi_spin_unlock(&gpi_reparent_lock);
	if (error != 0) {
		errno = error;
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ gp_ps */

/* STAT for gp_ps; caller holds p->p_lock. */
static char
proc_state(struct gp_proc *p)
{
	struct gp_lwp *l;

	GPI_LOCK_ASSERT(&p->p_lock);
	if (p->p_stat == GPI_SZOMB)
		return 'Z';
	if (gpi_pflags(p) & GPI_P_STOPPED)
		return 'T';
	for (l = p->p_lwps; l != NULL; l = l->l_pnext)
		if (__atomic_load_n(&l->l_stat, __ATOMIC_RELAXED) !=
		    GPI_LSLEEP)
			return 'R';
	return 'S';
}

/*
 * One line per green process: PID PPID PGID STAT NLWP TIME NAME.  Never
 * stalls an exit: the walk is an RCU read of the pid table, and each
 * line is copied under that process's lock, then printed.
 */
int
gp_ps(FILE *out)
{
	struct gp_counters st;
	struct gp_proc *p;
	struct timeval tv;
	struct {
		pid_t	 pid, ppid, pgid;
		int	 nlwp;
		char	 stat;
		char	 comm[sizeof(p->p_comm)];
	} row;
	int i, n;

	if (out == NULL) {
		errno = EINVAL;
		return -1;
	}
	fprintf(out, "%10s %10s %10s %4s %4s %9s %s\n", "PID", "PPID", "PGID",
	    "STAT", "NLWP", "TIME", "NAME");
	if (pidtab == NULL)
		return 0;
	gpi_rcu_read_lock();
	n = atomic_load_explicit(&pid_hiwater, memory_order_acquire);
	for (i = 0; i < n; i++) {
		if ((p = slot_lock(i)) == NULL)
			continue;
		row.pid = p->p_pid;
		/* p_pptr moves under the parent's lock, not ours. */
		row.ppid = __atomic_load_n(&__atomic_load_n(&p->p_pptr,
		    __ATOMIC_ACQUIRE)->p_pid, __ATOMIC_RELAXED);
		row.pgid = p->p_pgid;
		row.nlwp = atomic_load(&p->p_nthreads);
		row.stat = proc_state(p);
		memcpy(row.comm, p->p_comm, sizeof(row.comm));
		gpi_ticks_to_timeval(__atomic_load_n(&p->p_ru.ru_ticks,
		    __ATOMIC_RELAXED), &tv);
		gpi_spin_unlock(&p->p_lock);
		fprintf(out, "%10d %10d %10d %4c %4d %3ld:%02ld.%02ld %s\n",
		    (int)row.pid, (int)row.ppid, (int)row.pgid, row.stat,
		    row.nlwp, (long)tv.tv_sec / 60, (long)tv.tv_sec % 60,
		    (long)tv.tv_usec / 10000, row.comm);
	}
	gpi_rcu_read_unlock();
	/* Footer: the runtime's counters (gp_stats). */
	if (gp_stats(&st) == 0)
		fprintf(out, "-- procs %ld lwps %ld stacks %ld workers %ld | "
		    "spawns %lu exits %lu reaps %lu | lwps created %lu "
		    "reaped %lu | switches %lu steals %lu\n", st.live_procs,
		    st.live_lwps, st.live_stacks, st.nworkers, st.spawns,
		    st.exits, st.reaps, st.lwps_created, st.lwps_reaped,
		    st.switches, st.steals);
	return 0;
}
