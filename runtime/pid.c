/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pid.c -- the pid table, its RCU, and the process limit (DragonFly
 * kern_proc.c's pfind and the maxproc check of kern_fork.c).
 *
 * The pid table is an RCU-protected array of slots, one per possible live
 * process (GREENPROC_MAX_PROCS).  A pid encodes its slot and a generation
 * of that slot: pid = GP_PID_BASE + 2 + gen * nslots + slot.  Lookup is a
 * load and a compare, with no hashing and no lock; a reaped slot is free
 * at once, but its next pid differs (the generation moved on).  A slot
 * whose last generation is reaped retires (pid_retire): it is used again
 * only when no never-wrapped slot is left, so a pid comes back only
 * after the whole pid space has been given out (some 2^30 spawns with
 * the default table), and then never while a process group bears it
 * (pid_take).  A stale pid never reaches a newer process sooner.  The
 * table is also the list of all processes: gp_ps walks it under RCU up to
 * the highest slot ever used (gpi_pidtab_end), so neither spawn nor exit
 * touches a shared list.
 *
 * RCU flavor: memb (membarrier).  Its read side is a thread-local counter,
 * as cheap as QSBR's, but a reader needs no quiescent-state reports, so a
 * host thread that calls in now and then cannot stall grace periods.
 * Workers register at start; host threads register on first use and
 * unregister when they exit (a thread_local destructor, below).  An LWP never switches
 * inside a read-side section.
 *
 * Spawn (proc.c) takes a count (gpi_count_spawn) and a slot
 * (gpi_pid_alloc), publishes the slot last (gpi_pid_publish); reap gives
 * both back.  With LTO these calls inline into spawn and reap as before.
 */
#include <dlfcn.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>

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
static struct pidslot *pidtab;		/* (c) after gpi_pid_init */
static int pid_nslots;			/* (c) */
static int pid_maxprocs;		/* (c) GREENPROC_MAX_PROCS */
static unsigned pid_ngens;		/* (c) */
static int pid_freehead = -1;		/* (i) */
static int pid_retired = -1;		/* (i) Wrapped slots, oldest first, */
static int pid_retired_tail = -1;	/* (i) linked by ps_nextfree. */
static atomic_int pid_hiwater;		/* (i,a) Slots ever used. */
static atomic_long nprocs;		/* (a) Live processes, zombies too,
					 * but for the workers' w_pdelta. */
/* Exact limit checks and w_pdelta folds; a leaf lock. */
static gpi_spin_t limit_lock = GPI_SPIN_INIT(GPI_RANK_LIMIT);

static void limit_init(int nworkers);
static void pid_retire_locked(int slot);
#ifdef GREENPROC_DEBUG
unsigned gpi_debug_pid_gens;		/* (c) tests: see gpi_pid_init */
#endif

/* ------------------------------------------------------------ RCU */

#ifdef GPI_TSAN
#include <sanitizer/tsan_interface.h>
char gpi_rcu_tsan_token;
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
	void *(*default_data)(void);
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
		default_data = (void *(*)(void))urcu_sym(
		    "urcu_memb_get_default_call_rcu_data");
		if (urcu_error != 0)
			fprintf(stderr, "greenproc: cannot load %s: %s\n",
			    URCU_MEMB_SONAME, dlerror());
		else {
			/*
			 * Start liburcu's call_rcu thread now.  Made lazily,
			 * at the first reap, it would be made when threads
			 * or map entries may have run out (a spawn at
			 * vm.max_map_count), and liburcu aborts the host
			 * when it cannot (stress_mapcount found it).
			 */
			(void)default_data();
			atomic_store_explicit(&urcu_loaded, true,
			    memory_order_release);
		}
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

__thread int gpi_tls_rcu_registered
    __attribute__((tls_model("initial-exec")));
/*
 * A host thread's registration ends with the thread, from a thread_local
 * destructor (glibc's __cxa_thread_atexit_impl, the real one: the
 * preload's keeps an LWP's own list), not from a pthread key: a program
 * may use all of glibc's PTHREAD_KEYS_MAX keys (glibc's tst-key4), and
 * one held by the runtime made its last pthread_key_create fail with
 * EAGAIN, or not, as a host thread's first read-side section came before
 * it or after.  glibc runs the thread_local destructors before the key
 * destructors, so a key destructor of the program that calls in after
 * ours (a wait, a kill) registers the thread again; only then is a key
 * made (rcu_key, once per process), whose destructor rounds unregister
 * it at last.  With no key left, the thread stays registered (as every
 * host thread did when the one key could not be made): harmless when
 * the process is ending -- exit() runs the caller's thread_local
 * destructors before the atexit handlers, which may call in -- and
 * otherwise a leak of the thread's reader record, in its TLS, which
 * stays on liburcu's list after the thread's memory is freed.
 * rcu_gone: this host thread's thread_local destructor ran.
 */
static __thread int rcu_gone __attribute__((tls_model("initial-exec")));
static pthread_key_t rcu_key;
static pthread_once_t rcu_once = PTHREAD_ONCE_INIT;
static int rcu_key_error;		/* (c) after rcu_once */

static void
rcu_thread_gone(void *arg)
{
	(void)arg;
	if (gpi_tls_rcu_registered) {
		urcu.unregister_thread();
		gpi_tls_rcu_registered = 0;
	}
}

static void
rcu_thread_exit(void *arg)
{
	rcu_gone = 1;
	rcu_thread_gone(arg);
}

static void
rcu_key_init(void)
{
	rcu_key_error = GPI_LIBC(pthread_key_create)(&rcu_key,
	    rcu_thread_gone);
}

void
gpi_rcu_thread_online(void)
{
	if (gpi_tls_rcu_registered)
		return;
	if (gpi_rcu_load() != 0)
		GPI_PANIC("RCU reader without liburcu");
	if (gpi_tls_urcu_memb_reader == NULL)
		gpi_tls_urcu_memb_reader = dlsym(urcu.handle,
		    "urcu_memb_reader");
	if (gpi_tls_urcu_memb_reader == NULL)
		GPI_PANIC("%s has no urcu_memb_reader", URCU_MEMB_SONAME);
	urcu.register_thread();
	gpi_tls_rcu_registered = 1;
}

void
gpi_rcu_thread_offline(void)
{
	rcu_thread_gone(NULL);
}

/*
 * A host thread's first read-side section: register, and unregister when
 * it exits.  Out of line and cold, so that the read lock itself
 * (internal.h) stays small enough to be inlined into the spawn/exit/wait
 * fast paths.  The destructor's (dso) argument names this module, as
 * glibc pins a module with destructors pending against dlclose.
 */
__attribute__((noinline, cold)) void
gpi_rcu_register_host(void)
{
	gpi_rcu_thread_online();
	if (!rcu_gone) {
		GPI_LIBC(__cxa_thread_atexit_impl)(rcu_thread_exit, NULL,
		    (void *)rcu_thread_exit);
		return;
	}
	GPI_LIBC(pthread_once)(&rcu_once, rcu_key_init);
	if (rcu_key_error == 0)
		GPI_LIBC(pthread_setspecific)(rcu_key, (void *)1);

}

/* ------------------------------------------------------------ pid table */

int
gpi_pid_init(int nworkers)
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
#ifdef GREENPROC_DEBUG
	/* Tests: a few generations, so that slots wrap soon. */
	if (gpi_debug_pid_gens >= 2 && gpi_debug_pid_gens < pid_ngens)
		pid_ngens = gpi_debug_pid_gens;
#endif
	len = (size_t)pid_nslots * sizeof(struct pidslot);
	/* Untouched slots cost no memory. */
	pidtab = mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (pidtab == MAP_FAILED) {
		pidtab = NULL;
		return ENOMEM;
	}
	pid_freehead = pid_retired = pid_retired_tail = -1;
	atomic_store(&pid_hiwater, 0);
	atomic_store(&nprocs, 0);
	limit_init(nworkers);
	return 0;
}

static inline int pid_slot(pid_t pid);

/*
 * Does a pid of (slot), any generation, name a live process group (the
 * p_pgid of a process, zombies too)?  A walk of the table: only for a
 * retired slot coming back, once per slot per trip through the whole pid
 * space.  A slot that passes goes through all its generations again
 * before it can repeat a pid, and retires again first.
 */
static bool
slot_names_group(int slot)
{
	struct gp_proc *p;
	int i, n = atomic_load_explicit(&pid_hiwater, memory_order_acquire);
	bool used = false;
	pid_t pg;

	gpi_rcu_read_lock();
	for (i = 0; i < n && !used; i++) {
		p = atomic_load_explicit(&pidtab[i].ps_proc,
		    memory_order_acquire);
		used = p != NULL && (pg = __atomic_load_n(&p->p_pgid,
		    __ATOMIC_RELAXED)) >= PID_FIRST && pid_slot(pg) == slot;
	}
	gpi_rcu_read_unlock();
	return used;
}

static pid_t
pid_of(int slot, unsigned gen)
{
	return PID_FIRST + (pid_t)(gen * (unsigned)pid_nslots) + slot;
}

/*
 * A free slot for a worker's private list (or a host thread's spawn):
 * one freed before, else a fresh one above the high-water mark, else --
 * the pid space used up -- the oldest retired one whose pids name no
 * live group (a group outlives its leader, and a new process with its
 * id would be taken for its leader).  -1 if none.  Slots then cycle
 * within one worker, so spawn and reap on different workers touch no
 * common cache line.  Caller holds pid_lock.
 */
static int
pid_take(void)
{
	int slot, n;

	GPI_LOCK_ASSERT(&pid_lock);
	if ((slot = pid_freehead) >= 0) {
		pid_freehead = pidtab[slot].ps_nextfree;
		return slot;
	}
	if ((slot = atomic_load_explicit(&pid_hiwater,
	    memory_order_relaxed)) < pid_nslots) {
		/* Its first pid is generation 0's: every one is used. */
		pidtab[slot].ps_gen = pid_ngens - 1;
		atomic_store_explicit(&pid_hiwater, slot + 1,
		    memory_order_release);
		return slot;
	}
	/* Each retired slot at most once: all may name live groups. */
	for (n = 0; (slot = pid_retired) >= 0 && n < pid_nslots; n++) {
		if ((pid_retired = pidtab[slot].ps_nextfree) < 0)
			pid_retired_tail = -1;
		if (!slot_names_group(slot))
			return slot;
		pid_retire_locked(slot);
	}
	return -1;
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
int
gpi_pid_alloc(struct gp_worker *w, struct gp_proc *p)
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
	__atomic_store_n(&p->p_pid, pid_of(slot, ps->ps_gen),
	    __ATOMIC_RELAXED);
	return 0;
}

static inline int
pid_slot(pid_t pid)
{
	return (int)((unsigned)(pid - PID_FIRST) & (unsigned)(pid_nslots - 1));
}

void
gpi_pid_publish(struct gp_proc *p)
{
	atomic_store_explicit(&pidtab[pid_slot(p->p_pid)].ps_proc, p,
	    memory_order_release);
}

static void pid_free_slow(struct gp_worker *w, int slot);

/* Put (slot) at the end of the retired list.  Caller holds pid_lock. */
static void
pid_retire_locked(int slot)
{
	GPI_LOCK_ASSERT(&pid_lock);
	pidtab[slot].ps_nextfree = -1;
	if (pid_retired_tail < 0)
		pid_retired = slot;
	else
		pidtab[pid_retired_tail].ps_nextfree = slot;
	pid_retired_tail = slot;
}

/* A slot's last generation is reaped: retired, not reused (pid_take). */
static GPI_NOINLINE void
pid_retire(int slot)
{
	gpi_spin_lock(&pid_lock);
	pid_retire_locked(slot);
	gpi_spin_unlock(&pid_lock);
}

void
gpi_pid_free(struct gp_worker *w, struct gp_proc *p)
{
	int slot = pid_slot(p->p_pid);
	struct pidslot *ps = &pidtab[slot];

	atomic_store_explicit(&ps->ps_proc, NULL, memory_order_relaxed);
	/*
	 * The retirement and the global list out of line: the common case,
	 * a worker's private list, then needs no frame.
	 */
	if (unlikely(ps->ps_gen == pid_ngens - 1))
		pid_retire(slot);
	else if (likely(w != NULL && w->w_npidfree < 2 * PID_BATCH))
		pid_enqueue(w, slot);
	else
		pid_free_slow(w, slot);
}

/* A host thread's free, or a full private list: the global list. */
static GPI_NOINLINE void
pid_free_slow(struct gp_worker *w, int slot)
{
	int n;

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
 * acquire pairs with gpi_pid_publish).  NULL otherwise.  Under RCU.
 */
struct gp_proc *
gpi_pidtab_lock(int i)
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

/*
 * Table walks (gp_ps, group scans, shutdown): slots [0, end) were ever
 * used; -1 without a table.  The acquire pairs with pid_take's release,
 * so every slot below end is initialized.  Under RCU, or with nothing
 * else running (shutdown).
 */
int
gpi_pidtab_end(void)
{
	if (pidtab == NULL)
		return -1;
	return atomic_load_explicit(&pid_hiwater, memory_order_acquire);
}

/* The process published in slot (i), or NULL; header fields only. */
struct gp_proc *
gpi_pidtab_get(int i)
{
	return atomic_load_explicit(&pidtab[i].ps_proc, memory_order_acquire);
}

/* Unmap the table (shutdown, after an RCU barrier: no reader is left). */
void
gpi_pid_fini(void)
{
	munmap(pidtab, (size_t)pid_nslots * sizeof(struct pidslot));
	pidtab = NULL;
}

/* In a forked child (fork.c): the parent's table is not ours. */
void
gpi_pid_forget(void)
{
	pidtab = NULL;			/* leaked in the child, on purpose */
	pid_freehead = pid_retired = pid_retired_tail = -1;
	atomic_store(&pid_hiwater, 0);
	atomic_store(&nprocs, 0);
	gpi_spin_reset(&pid_lock);
	gpi_spin_reset(&limit_lock);
	gpi_tls_rcu_registered = 0;
}

/* ------------------------------------------------------------ the limit */

/*
 * The process count is per worker plus a global sum: a spawn or reap on a
 * worker moves its own w_pdelta (a plain store to its own cache line) and
 * folds it into nprocs every PDELTA_FOLD, so spawn trees on different
 * workers share no counter.  Live processes = nprocs + every w_pdelta,
 * and no delta is ever above PDELTA_FOLD.
 *
 * Far from the limit -- nprocs below limit_fast, so that even with every
 * worker's delta at its bound the count stays under the limit -- a
 * worker's spawn only moves its own delta.  Near it, and on host threads
 * near it, a spawn takes limit_lock, moves its +1 into nprocs and sums
 * the deltas: exact, as the limit must be.
 *
 * WARNING: the order of a worker's fast path is what makes the sum
 * exact.  It stores its delta first and loads nprocs after; the exact
 * path adds to nprocs first and reads the deltas after a
 * membarrier(PRIVATE_EXPEDITED), which puts a full barrier in every
 * running thread of ours.  So for each fast spawn racing an exact one,
 * either the exact sum sees the fast spawn's +1, or the fast spawn's load
 * sees the exact spawn's nprocs (and goes exact itself unless the count
 * is still far below the limit).  The fast path pays no barrier and no
 * locked instruction for it: the barrier is the exact path's, and only
 * within (workers + 1) * PDELTA_FOLD of the limit.  The old order --
 * load nprocs, decide, then store the delta -- let a worker that was
 * preempted between the two see "far" while another filled the table
 * through the exact path, and then add one process past the limit
 * (tests/test_proc.c, proclimit_race).  Without membarrier (a kernel
 * before 4.14) there is no fast path: every spawn is exact.
 *
 * A reap lowers its delta before its parent learns of the exit (and a
 * lock handoff orders the two), so a spawn right after a wait at the
 * limit fits, on any worker.
 */
#define PDELTA_FOLD	32

static long limit_fast = LONG_MIN;	/* (c) nprocs below it: no exact count */
static bool limit_barrier;		/* (c) membarrier(PRIVATE_EXPEDITED) */

#ifdef GREENPROC_DEBUG
void (*gpi_debug_limit_window)(void);	/* (c) tests: see gpi_count_spawn */
#endif

static void
limit_init(int nworkers)
{
	/* Registration is per mm: again in each runtime (and forked child). */
	limit_barrier = GPI_LIBC(syscall)(SYS_membarrier,
	    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
	limit_fast = limit_barrier ? (long)pid_maxprocs -
	    (long)(nworkers + 1) * PDELTA_FOLD : LONG_MIN;
}

static GPI_NOINLINE void
pdelta_fold(struct gp_worker *w, int v)
{
	/* Under the lock: an exact count never sees v twice. */
	gpi_spin_lock(&limit_lock);
	atomic_fetch_add(&nprocs, v);
	atomic_store_explicit(&w->w_pdelta, 0, memory_order_relaxed);
	gpi_spin_unlock(&limit_lock);
}

long
gpi_nprocs(void)
{
	long n = atomic_load(&nprocs);
	int i;

	for (i = 0; i < gpi_rt.rt_nworkers; i++)
		n += atomic_load_explicit(&gpi_rt.rt_workers[i].w_pdelta,
		    memory_order_relaxed);
	return n;
}

/*
 * The exact count: one more process, if it fits.  (w)'s delta already
 * holds the +1 of its fast path (NULL: a host thread's, none).  The +1
 * moves to nprocs before the barrier, where every fast path loads it.
 */
static __attribute__((noinline)) bool
count_exact(struct gp_worker *w)
{
	bool ok;

	gpi_spin_lock(&limit_lock);
	atomic_fetch_add(&nprocs, 1);
	if (w != NULL)
		atomic_store_explicit(&w->w_pdelta, atomic_load_explicit(
		    &w->w_pdelta, memory_order_relaxed) - 1,
		    memory_order_relaxed);
	if (limit_barrier)
		(void)GPI_LIBC(syscall)(SYS_membarrier,
		    MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
	if (!(ok = gpi_nprocs() <= pid_maxprocs))
		atomic_fetch_sub(&nprocs, 1);
	gpi_spin_unlock(&limit_lock);
	return ok;
}

/* Count a new process against the limit; false (EAGAIN) at the limit. */
bool
gpi_count_spawn(struct gp_worker *w)
{
	int v;

	if (w == NULL) {
		/* A host thread: an atomic add (host spawns are rare). */
		if (atomic_fetch_add(&nprocs, 1) + 1 < limit_fast)
			return true;
		atomic_fetch_sub(&nprocs, 1);
		return count_exact(NULL);
	}
	v = atomic_load_explicit(&w->w_pdelta, memory_order_relaxed) + 1;
	atomic_store_explicit(&w->w_pdelta, v, memory_order_relaxed);
	/* The delta's store before nprocs' load (see above). */
	atomic_signal_fence(memory_order_seq_cst);
#ifdef GREENPROC_DEBUG
	if (gpi_debug_limit_window != NULL)
		gpi_debug_limit_window();
#endif
	if (unlikely(atomic_load_explicit(&nprocs, memory_order_relaxed) >=
	    limit_fast))
		return count_exact(w);
	if (v >= PDELTA_FOLD)
		pdelta_fold(w, v);
	return true;
}

void
gpi_count_reap(struct gp_worker *w)
{
	int v;

	if (w == NULL) {
		atomic_fetch_sub(&nprocs, 1);
		return;
	}
	v = atomic_load_explicit(&w->w_pdelta, memory_order_relaxed) - 1;
	if (v <= -PDELTA_FOLD)
		pdelta_fold(w, v);
	else
		atomic_store_explicit(&w->w_pdelta, v, memory_order_relaxed);
}

/* Fold (w)'s count into the sum (a worker's exit). */
void
gpi_count_drain(struct gp_worker *w)
{
	gpi_spin_lock(&limit_lock);
	atomic_fetch_add(&nprocs, atomic_exchange(&w->w_pdelta, 0));
	gpi_spin_unlock(&limit_lock);
}
