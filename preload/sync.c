/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sync.c -- pthread mutexes, condition variables, rwlocks, barriers,
 * spinlocks, once and unnamed semaphores for green threads.
 *
 * A futex wait in green code would block its worker, and since started
 * LWPs never leave their worker, the LWP holding the lock could then
 * never run: a deadlock.  So a green thread never blocks in glibc here.
 * It takes the object with a trylock, and when that fails it parks on
 * the object's address (gpi_tsleep) against a generation word; every
 * release through these interposers -- by a host thread or a green
 * one -- bumps the generation and wakes green waiters.  The object stays
 * glibc's: host threads keep using it through glibc at the same time.
 *
 * Mutex ownership.  glibc records a mutex's owner as the kernel TID of
 * the locking thread, which on a green thread is its worker's: two LWPs
 * of one worker would share a recursive mutex's ownership, pass each
 * other's errorcheck tests, and a robust mutex would never learn that an
 * LWP died.  So on a green thread the owner-tracking types (recursive,
 * errorcheck, robust; not PI/PP) are locked here, on glibc's own layout
 * and protocol, with the LWP's owner id where glibc puts a TID:
 *
 *	owner id = GREEN_OWNER | (thread.c handle slot + 1)
 *
 * GREEN_OWNER is bit 29: above every kernel TID (PID_MAX_LIMIT is 2^22)
 * and inside FUTEX_TID_MASK, so a host thread's glibc compares it with
 * its own TID and never matches, and a robust mutex's lock word can
 * carry it.  The slot is unique among live LWPs.  Non-robust: __lock is
 * glibc's 0/1/2 word (CAS 0->1 to take it, exchange to 0 and FUTEX_WAKE
 * if it was 2 to release) and __owner/__count/__nusers are kept as glibc
 * keeps them.  Robust: __lock holds the owner id with FUTEX_WAITERS and
 * FUTEX_OWNER_DIED, as the kernel's robust-futex protocol wants; the
 * mutexes an LWP holds are linked through their __list into l_robust
 * (no kernel robust list knows them), and when the LWP dies
 * (gpi_lwp_death_hook) each is marked FUTEX_OWNER_DIED and its waiters,
 * host and green, are woken -- what the kernel does for a dead thread.
 * glibc marks every robust mutex process-shared in __kind (its futex is
 * always a shared one), so a process-shared robust mutex is ours too: if
 * the whole host process dies while an LWP holds one, no kernel robust
 * list knows it and another process is not told (documented).
 *
 * Barriers are implemented here for every caller, green or host, in the
 * object's own memory (glibc would block inside).  pthread_once keeps
 * glibc's encoding: host threads call glibc's, green ones run the same
 * protocol here, parking instead of FUTEX_WAIT.
 *
 * Lost wake-ups: a waiter reads the generation before its last try; a
 * releaser releases, then bumps.  A release between the try and the
 * sleep changes the generation, and gpi_tsleep does not sleep then.
 *
 * The backstop.  A release this file cannot see needs a timed poll: the
 * mutex unlock inside glibc's pthread_cond_wait on a host thread, a
 * process-shared object released by another process, the kernel's
 * owner-dead marking for a host thread that died holding a robust
 * mutex.  A green waiter parks with a 10 ms timeout only when one of
 * those is possible (hidden_releases, pshared, robust with a host owner),
 * else it waits for the wake-up it is owed.  Each wake-up by the timeout
 * is counted (__greenproc_sync_backstops, for the tests).
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "preload.h"

#define EXPORT		__attribute__((__visibility__("default")))
#define NGEN		1024
#define BACKSTOP_NS	(10 * 1000000ull)

/*
 * Host threads inside glibc's pthread_cond_wait/timedwait, which unlocks
 * and relocks the mutex where we cannot see it.  (a) seq_cst: counted
 * before their green waiters are woken to re-park (see cond wait).
 */
static atomic_int hidden_releases;
static atomic_ulong nbackstops;	/* (a) wake-ups by the backstop timeout */

/* Generation words and green-waiter counts, hashed by object address. */
static struct {
	atomic_int	 gen;
	atomic_int	 waiters;
} __attribute__((aligned(64))) gens[NGEN];

static inline bool
green(void)
{
	return gpi_curlwp() != NULL;
}

static int	green_mutex_lock(pthread_mutex_t *m, struct gp_lwp *l,
		    uint64_t deadline);

static unsigned
slot(const void *obj)
{
	uintptr_t h = (uintptr_t)obj;

	h ^= h >> 15;
	h *= 0x9e3779b97f4a7c15u;
	return (unsigned)(h >> 54) & (NGEN - 1);
}

/*
 * Wake green waiters of (obj), if there are any: one load otherwise.
 * Returns the generation of (obj)'s slot as it was before this moved it,
 * or -1 if it did not (no waiter): green_cond_wait, counted in that slot
 * already when it unlocks its mutex, tells its own move from a wake-up.
 * (A generation of -1 reads as no move: at worst one spurious wake-up.)
 */
static int
release_gen(const void *obj, bool all)
{
	unsigned i = slot(obj);
	int was;

	if (atomic_load(&gens[i].waiters) == 0)
		return -1;
	was = atomic_fetch_add(&gens[i].gen, 1);
	if (all)
		gpi_wakeup(obj);
	else
		gpi_wakeup_one(obj);
	return was;
}

static void
release(const void *obj, bool all)
{
	(void)release_gen(obj, all);
}

/*
 * Park the calling LWP until (obj) may have changed since (gen) was read,
 * or (deadline).  With (hidden), a release we cannot see is possible: a
 * backstop timeout then bounds the wait.  Returns ETIMEDOUT, EINTR, or 0.
 */
static int
park(const void *obj, int gen, uint64_t deadline, int flags, bool hidden)
{
	uint64_t until = deadline;
	bool backstop = false;
	int error;

	gpi_tls_wait_check(gpi_curlwp(), obj);
	if (hidden || atomic_load(&hidden_releases) != 0) {
		until = gpi_now() + BACKSTOP_NS;
		if (deadline != 0 && deadline < until)
			until = deadline;
		else
			backstop = true;
	}
	error = gpi_tsleep(obj, &gens[slot(obj)].gen, gen, flags, until);
	if (error == ETIMEDOUT && backstop)
		atomic_fetch_add_explicit(&nbackstops, 1, memory_order_relaxed);
	return error;
}

/* For the tests: how often the backstop woke a green waiter. */
EXPORT unsigned long
__greenproc_sync_backstops(void)
{
	return atomic_load(&nbackstops);
}

static int sem_try(void *s, bool *hidden);

/*
 * Acquire with (trylock) until it succeeds or (deadline) passes.  The
 * common pattern of every lock-like object here.  (trylock) returns 0 or
 * an error, EBUSY/EAGAIN to wait; it sets *hidden when the object may be
 * released where we cannot see it (see park).
 *
 * The wait is interruptible (GPI_PCATCH): a signal's handler runs while
 * the thread waits, as POSIX says for every one of these.  Then a mutex,
 * rwlock or barrier wait resumes "as if it was not interrupted"; a
 * semaphore wait (INTR_SEM) fails with EINTR unless every handler had
 * SA_RESTART, as the kernel's futex wait under glibc's sem_wait does.
 */
#define INTR_RESUME	0
#define INTR_SEM	1

/*
 * (*pending), if not NULL, counts this waiter while it waits: one more
 * from its first failed try until it returns, and not while a handler or
 * a cancel runs (either may leave by longjmp or unwinding).  When the
 * count falls to 0 the object's waiters are woken: the rwlock's green
 * writers, which readers make way for (rw_writer_waits).
 */
static void
pending_leave(const void *obj, unsigned *pending)
{
	if (pending != NULL && __atomic_sub_fetch(pending, 1,
	    __ATOMIC_SEQ_CST) == 0)
		release(obj, true);
}

static void
pending_enter(unsigned *pending)
{
	if (pending != NULL)
		__atomic_add_fetch(pending, 1, __ATOMIC_SEQ_CST);
}

static int
acquire(const void *obj, int (*trylock)(void *, bool *), void *arg,
    uint64_t deadline, int intr, unsigned *pending)
{
	unsigned i = slot(obj);
	bool hidden = false, cpt = intr == INTR_SEM ||
	    gpi_thread_cancel_async(gpi_curlwp()), counted = false;
	int error, gen;

	for (;;) {
		if ((error = trylock(arg, &hidden)) != EBUSY &&
		    error != EAGAIN)
			break;
		if (!counted) {
			pending_enter(pending);
			counted = true;
		}
		gen = atomic_load(&gens[i].gen);
		atomic_fetch_add(&gens[i].waiters, 1);
		error = trylock(arg, &hidden);
		if (error != EBUSY && error != EAGAIN) {
			atomic_fetch_sub(&gens[i].waiters, 1);
			break;
		}
		error = park(obj, gen, deadline, cpt ? GPI_PCATCH :
		    GPI_PCATCH | GPI_PNOCANCEL, hidden);
		atomic_fetch_sub(&gens[i].waiters, 1);
		if (intr == INTR_SEM) {
			/* sem_wait is a cancellation point. */
			if (error == EINTR &&
			    !gpi_userret_restart(gpi_curlwp()))
				return EINTR;
			gpi_userret();
		} else if (error == EINTR && cpt) {
			pending_leave(obj, pending);
			gpi_userret();	/* an asynchronous cancel acts */
			pending_enter(pending);
		} else if (error == EINTR) {
			/*
			 * A mutex or rwlock wait resumes after a handler "as
			 * if it was not interrupted" (POSIX): a signal point
			 * runs the handlers and ends us on a process kill;
			 * a pthread_cancel did not interrupt (GPI_PNOCANCEL),
			 * these are no cancellation points, so it stays
			 * pending for a real one.  Then wait on.
			 */
			pending_leave(obj, pending);
			gpi_sigpoint();
			pending_enter(pending);
		}
		if (error == ETIMEDOUT && deadline != 0 &&
		    gpi_now() >= deadline) {
			error = ETIMEDOUT;
			break;
		}
	}
	if (counted)
		pending_leave(obj, pending);
	return error;
}

static int
green_acquire(const void *obj, int (*trylock)(void *, bool *), void *arg,
    uint64_t deadline, int intr)
{
	return acquire(obj, trylock, arg, deadline, intr, NULL);
}

/*
 * An absolute time on (clock) -> our CLOCK_MONOTONIC deadline (never 0,
 * which means none).  A time already past gives one that is too: the
 * wait then makes one last try and times out, as glibc's does.
 */
static uint64_t
deadline_on(clockid_t clock, const struct timespec *abs)
{
	struct timespec now;
	int64_t d;

	clock_gettime(clock, &now);
	d = (int64_t)(abs->tv_sec - now.tv_sec) * 1000000000 +
	    (abs->tv_nsec - now.tv_nsec);
	return gpi_now() + (d > 0 ? (uint64_t)d : 1);
}

/* CLOCK_REALTIME absolute time -> our CLOCK_MONOTONIC deadline. */
static uint64_t
deadline_of(const struct timespec *abs)
{
	return deadline_on(CLOCK_REALTIME, abs);
}

/*
 * The clocks the *clock* calls accept (glibc: the two below, EINVAL for
 * any other) and a valid nanosecond field: 0, or EINVAL.
 */
static int
clock_check(clockid_t clock, const struct timespec *abs)
{
	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
		return EINVAL;
	if (abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000L)
		return EINVAL;
	return 0;
}

int
gpi_abs_deadline(clockid_t clock, const struct timespec *abs,
    uint64_t *deadline)
{
	int error;

	if ((error = clock_check(clock, abs)) == 0)
		*deadline = deadline_on(clock, abs);
	return error;
}

/* ------------------------------------------------------------ mutex */

/* glibc's __kind bits: ABI, its static initializers store them. */
#define MK_TYPE		0x3	/* NORMAL 0, RECURSIVE 1, ERRORCHECK 2 */
#define MK_ROBUST	0x10
#define MK_PIPP		0x60	/* priority inherit or protect */
#define MK_PI		0x20	/* priority inherit */
#define MK_PP		0x40	/* priority protect */
/* A priority-protect mutex's ceiling, in its lock word above the state. */
#define PP_CEILING_MASK	0xfff80000u
#define PP_CEILING_SHIFT 19
#define PP_PRIOS	100	/* SCHED_FIFO's 1..99, and 0 */
#define MK_PSHARED	0x80
/* glibc's __owner of a robust mutex after an owner died. */
#define M_INCONSISTENT	 INT_MAX
#define M_NOTRECOVERABLE (INT_MAX - 1)
/* A green owner id: see the head comment. */
#define GREEN_OWNER	0x20000000

static inline int
kind_of(const pthread_mutex_t *m)
{
	return __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
}

/*
 * Robust and priority-inheritance mutexes keep their owner's id in the
 * lock word itself, the kernel's TID-word protocol (FUTEX_WAITERS,
 * FUTEX_OWNER_DIED): "word-owned".
 */
static inline bool
is_pi(int kind)
{
	return (kind & MK_PIPP) == MK_PI;
}

static inline bool
word_owned(int kind)
{
	return (kind & MK_ROBUST) || is_pi(kind);
}

/* Owner-tracking types a green thread locks here rather than in glibc. */
static inline bool
owned_here(int kind)
{
	if ((kind & MK_PIPP) == MK_PP)
		return false;
	if (word_owned(kind))
		return true;
	return (kind & MK_TYPE) == PTHREAD_MUTEX_RECURSIVE ||
	    (kind & MK_TYPE) == PTHREAD_MUTEX_ERRORCHECK;
}

/* The owner id of (l), made on first need; 0 if out of memory. */
static int
owner_id(struct gp_lwp *l)
{
	unsigned s = gpi_thread_slot(l);

	return s != 0 ? (int)(GREEN_OWNER | s) : 0;
}

/* (l)'s id if it has one, else one no mutex holds (for unlock). */
static int
owner_id_now(struct gp_lwp *l)
{
	unsigned s = atomic_load_explicit(&l->l_handle, memory_order_relaxed);

	return s != 0 ? (int)(GREEN_OWNER | s) : -1;
}

static void
futex_wake(void *word, int n, bool shared)
{
	GPI_LIBC(syscall)(SYS_futex, word, shared ? FUTEX_WAKE : FUTEX_WAKE_PRIVATE, n,
	    NULL, NULL, 0);
}

/*
 * l_robust: the robust mutexes an LWP holds, doubly linked through
 * glibc's __list (unused while no glibc thread holds the mutex).
 */
#define RLINK(m)	((struct __pthread_internal_list *)(void *)(m))
#define RMUTEX(p)	((pthread_mutex_t *)(void *)(p))

static void
robust_add(struct gp_lwp *l, pthread_mutex_t *m)
{
	pthread_mutex_t *head = l->l_robust;

	m->__data.__list.__prev = NULL;
	m->__data.__list.__next = RLINK(head);
	if (head != NULL)
		head->__data.__list.__prev = RLINK(m);
	l->l_robust = m;
}

static void
robust_del(struct gp_lwp *l, pthread_mutex_t *m)
{
	pthread_mutex_t *prev = RMUTEX(m->__data.__list.__prev);
	pthread_mutex_t *next = RMUTEX(m->__data.__list.__next);

	if (prev != NULL)
		prev->__data.__list.__next = RLINK(next);
	else
		l->l_robust = next;
	if (next != NULL)
		next->__data.__list.__prev = RLINK(prev);
	m->__data.__list.__prev = m->__data.__list.__next = NULL;
}

/*
 * Host threads waiting in host_pi_lock for a priority-inheritance mutex,
 * polling its word with plain futex waits.  (a) seq_cst: counted before
 * they read the word, read by a releaser after it wrote the word.
 */
static atomic_int pi_hostwait;

/* A word-owned (m), of (kind), changed hands: wake host_pi_lock's polls. */
static void
pi_hostwake(pthread_mutex_t *m, int kind)
{
	if (is_pi(kind) && atomic_load(&pi_hostwait) != 0)
		futex_wake(&m->__data.__lock, INT_MAX,
		    (kind & MK_PSHARED) != 0);
}

/*
 * Release a word-owned lock word.  A robust one's futex is always a
 * shared one in glibc (its __kind has MK_PSHARED); FUTEX_WAITERS on it is
 * a host thread in glibc's robust lock.
 */
static void
word_unlock(pthread_mutex_t *m, int kind)
{
	if (__atomic_exchange_n(&m->__data.__lock, 0, __ATOMIC_SEQ_CST) &
	    FUTEX_WAITERS)
		futex_wake(&m->__data.__lock, 1, (kind & MK_PSHARED) != 0);
	pi_hostwake(m, kind);
}

/*
 * (m), of type (type), is already its caller's: EDEADLK for an errorcheck
 * mutex, EBUSY for any other but a recursive one (a deadlock, as in
 * glibc: the caller waits), else one more level (EAGAIN at the count's
 * limit).
 */
static int
relock(pthread_mutex_t *m, int type)
{
	if (type == PTHREAD_MUTEX_ERRORCHECK)
		return EDEADLK;
	if (type != PTHREAD_MUTEX_RECURSIVE)
		return EBUSY;
	if (m->__data.__count + 1 == 0)
		return EAGAIN;
	m->__data.__count++;
	return 0;
}

/* (m), of (type), just taken by owner id (id): its owner and counts. */
static int
taken(pthread_mutex_t *m, int type, int id)
{
	__atomic_store_n(&m->__data.__owner, id, __ATOMIC_RELAXED);
	if (type == PTHREAD_MUTEX_RECURSIVE)
		m->__data.__count = 1;
	m->__data.__nusers++;
	return 0;
}

/*
 * One try at owner-tracking (m) by (l), whose owner id is (id): glibc's
 * algorithm with our id for its TID.  Returns 0, EBUSY (wait), or what
 * POSIX says: EDEADLK, EAGAIN, EOWNERDEAD, ENOTRECOVERABLE.  Sets *hidden
 * when the holder may release where we cannot see it.
 */
static int
owned_try(pthread_mutex_t *m, struct gp_lwp *l, int id, bool *hidden)
{
	int kind = kind_of(m), type = kind & MK_TYPE, old = 0;
	bool robust = (kind & MK_ROBUST) != 0;

	if (!word_owned(kind)) {
		/* Only its owner writes an id there: a racy read is exact. */
		if (__atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED) ==
		    id)
			return relock(m, type);	/* recursive or errorcheck */
		if (!__atomic_compare_exchange_n(&m->__data.__lock, &old, 1,
		    false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			*hidden = (kind & MK_PSHARED) != 0;
			return EBUSY;
		}
		return taken(m, type, id);
	}

	/*
	 * NOTE: a non-robust PI mutex whose owner died is held for ever
	 * (glibc's lock waits for good): FUTEX_OWNER_DIED is news only to a
	 * robust one.
	 */
	old = __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED);
	for (;;) {
		if (old != 0 && (!(old & FUTEX_OWNER_DIED) || !robust)) {
			if ((old & FUTEX_TID_MASK) != id) {
				/* A host owner's death is the kernel's news. */
				*hidden = (old & FUTEX_TID_MASK) < GREEN_OWNER;
				return EBUSY;
			}
			return relock(m, type);
		}
		/* Free, or its owner died: take it, keeping FUTEX_WAITERS. */
		if (__atomic_compare_exchange_n(&m->__data.__lock, &old,
		    id | (old & FUTEX_WAITERS), false, __ATOMIC_ACQUIRE,
		    __ATOMIC_RELAXED))
			break;
	}
	if (old & FUTEX_OWNER_DIED) {
		/* The dead owner's __nusers count stays: glibc does so. */
		m->__data.__count = 1;
		m->__data.__owner = M_INCONSISTENT;
		robust_add(l, m);
		return EOWNERDEAD;
	}
	if (robust && m->__data.__owner == M_NOTRECOVERABLE) {
		m->__data.__count = 0;
		word_unlock(m, kind);
		release(m, false);	/* the next locker learns it too */
		return ENOTRECOVERABLE;
	}
	m->__data.__count = 1;
	m->__data.__owner = id;
	m->__data.__nusers++;
	if (robust)
		robust_add(l, m);
	return 0;
}

/*
 * Unlock owner-tracking (m) by (l), owner id (id); *moved as release_gen
 * answers (-1 if the unlock woke nobody or failed).
 */
static int
owned_unlock(pthread_mutex_t *m, struct gp_lwp *l, int id, int *moved)
{
	int kind = kind_of(m), type = kind & MK_TYPE, newowner = 0;

	*moved = -1;

	if (!word_owned(kind)) {
		if (m->__data.__owner != id)
			return EPERM;
		if (type == PTHREAD_MUTEX_RECURSIVE && --m->__data.__count != 0)
			return 0;
		__atomic_store_n(&m->__data.__owner, 0, __ATOMIC_RELAXED);
		m->__data.__nusers--;
		if (__atomic_exchange_n(&m->__data.__lock, 0,
		    __ATOMIC_RELEASE) > 1)
			futex_wake(&m->__data.__lock, 1,
			    (kind & MK_PSHARED) != 0);
		*moved = release_gen(m, false);
		return 0;
	}
	if ((__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) &
	    FUTEX_TID_MASK) != id)
		return EPERM;
	if ((kind & MK_ROBUST) && m->__data.__owner == M_INCONSISTENT) {
		/* Unlocked without pthread_mutex_consistent: unusable. */
		if (type == PTHREAD_MUTEX_RECURSIVE && --m->__data.__count != 0)
			return ENOTRECOVERABLE;
		newowner = M_NOTRECOVERABLE;
	} else {
		if (m->__data.__owner != id)
			return EPERM;
		if (type == PTHREAD_MUTEX_RECURSIVE && --m->__data.__count != 0)
			return 0;
	}
	if (kind & MK_ROBUST)
		robust_del(l, m);
	m->__data.__owner = newowner;
	m->__data.__nusers--;
	word_unlock(m, kind);
	*moved = release_gen(m, false);
	return 0;
}

/*
 * (l) dies holding robust (m): what the kernel does for a thread's robust
 * list.  FUTEX_OWNER_DIED replaces the owner in the lock word; the next
 * locker, host (glibc) or green (owned_try), gets EOWNERDEAD.
 */
static void
robust_died(pthread_mutex_t *m, int id)
{
	int old = __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED);

	do {
		if ((old & FUTEX_TID_MASK) != id)
			return;		/* cannot be: it is on our list */
	} while (!__atomic_compare_exchange_n(&m->__data.__lock, &old,
	    (old & FUTEX_WAITERS) | FUTEX_OWNER_DIED, false, __ATOMIC_RELEASE,
	    __ATOMIC_RELAXED));
	if (old & FUTEX_WAITERS)
		futex_wake(&m->__data.__lock, 1, true);
	pi_hostwake(m, kind_of(m));
	release(m, false);
}

/*
 * Priority-protect mutexes.  glibc's lock of one raises the locking
 * thread's kernel priority to the ceiling (__pthread_tpp_change_priority,
 * with the kernel TID and per-thread counts of its descriptor): on a
 * green thread that is the worker's, shared by every LWP queued there,
 * left raised if the LWP moves on, and refused with EINVAL because the
 * worker runs SCHED_OTHER, whatever policy the thread was given (glibc's
 * tst-mutexpp10: "mutex_lock failed").  So a green thread takes one here,
 * on glibc's lock word (the ceiling above a 0/1/2 state, which host
 * threads keep using through glibc) with its owner id, and its boost is
 * recorded, as its policy and priority are (never applied): l_ppmap
 * counts the ceilings it holds, l_ppmax is the highest, which the sched_*
 * calls answer for it above its own priority.  As glibc: a thread whose
 * priority is above the ceiling gets EINVAL; raising the priority must be
 * one its policy allows (SCHED_OTHER has none), else EINVAL.  Unlike
 * glibc, a thread waiting for the mutex is not boosted while it waits.
 */
static int
pp_ceiling(const pthread_mutex_t *m)
{
	return (int)(((unsigned)__atomic_load_n(&m->__data.__lock,
	    __ATOMIC_RELAXED) & PP_CEILING_MASK) >> PP_CEILING_SHIFT);
}

/* Count one more held ceiling (c) for (l): 0, or EINVAL (no boost). */
static int
pp_boost(struct gp_lwp *l, int c)
{
	int policy = __atomic_load_n(&l->l_schedpolicy, __ATOMIC_RELAXED);
	int prio = __atomic_load_n(&l->l_schedprio, __ATOMIC_RELAXED);

	if (c < 0 || c >= PP_PRIOS || prio > c)
		return EINVAL;
	if (c > l->l_ppmax && c > prio && gpi_sched_check(policy, c) != 0)
		return EINVAL;
	if (l->l_ppmap == NULL &&
	    (l->l_ppmap = calloc(PP_PRIOS, sizeof(*l->l_ppmap))) == NULL)
		return ENOMEM;
	if (l->l_ppmap[c] + 1 == 0)
		return EAGAIN;
	l->l_ppmap[c]++;
	if (c > l->l_ppmax)
		__atomic_store_n(&l->l_ppmax, c, __ATOMIC_RELAXED);
	return 0;
}

/* One held ceiling (c) of (l) less. */
static void
pp_unboost(struct gp_lwp *l, int c)
{
	int max = l->l_ppmax;

	if (l->l_ppmap == NULL || c < 0 || c >= PP_PRIOS ||
	    l->l_ppmap[c] == 0)
		return;
	if (--l->l_ppmap[c] == 0 && c == max) {
		while (max > 0 && l->l_ppmap[max] == 0)
			max--;
		__atomic_store_n(&l->l_ppmax, max, __ATOMIC_RELAXED);
	}
}

/* One try at priority-protect (m) by (l), owner id (id): as owned_try. */
static int
pp_try(pthread_mutex_t *m, struct gp_lwp *l, int id, bool *hidden)
{
	int type = kind_of(m) & MK_TYPE, c, error;
	unsigned old;

	*hidden = (kind_of(m) & MK_PSHARED) != 0;
	if (__atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED) == id)
		return relock(m, type);
	c = pp_ceiling(m);
	if ((error = pp_boost(l, c)) != 0)
		return error;
	old = (unsigned)c << PP_CEILING_SHIFT;
	if (!__atomic_compare_exchange_n((unsigned *)&m->__data.__lock, &old,
	    old | 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		pp_unboost(l, c);
		return EBUSY;
	}
	return taken(m, type, id);
}

/* Unlock priority-protect (m) by (l), owner id (id): as owned_unlock. */
static int
pp_unlock(pthread_mutex_t *m, struct gp_lwp *l, int id, int *moved)
{
	int type = kind_of(m) & MK_TYPE, c;
	unsigned old;

	*moved = -1;
	if (m->__data.__owner != id)
		return EPERM;
	if (type == PTHREAD_MUTEX_RECURSIVE && --m->__data.__count != 0)
		return 0;
	__atomic_store_n(&m->__data.__owner, 0, __ATOMIC_RELAXED);
	m->__data.__nusers--;
	c = pp_ceiling(m);
	/* The state goes, the ceiling stays. */
	old = __atomic_fetch_and((unsigned *)&m->__data.__lock,
	    PP_CEILING_MASK, __ATOMIC_RELEASE);
	if ((old & ~PP_CEILING_MASK) > 1)
		futex_wake(&m->__data.__lock, 1,
		    (kind_of(m) & MK_PSHARED) != 0);
	pp_unboost(l, c);
	*moved = release_gen(m, false);
	return 0;
}

static int
pp_try_arg(void *arg, bool *hidden);

static int
mutex_try(void *m, bool *hidden)
{
	*hidden = (kind_of(m) & MK_PSHARED) != 0;
	return REAL(pthread_mutex_trylock)(m);
}

struct owned_arg {
	pthread_mutex_t	*m;
	struct gp_lwp	*l;
	int		 id;
};

static int
owned_try_arg(void *arg, bool *hidden)
{
	struct owned_arg *a = arg;

	return owned_try(a->m, a->l, a->id, hidden);
}

static int
pp_try_arg(void *arg, bool *hidden)
{
	struct owned_arg *a = arg;

	return pp_try(a->m, a->l, a->id, hidden);
}

/* A priority-protect mutex, which a green thread takes here (pp_try). */
static inline bool
is_pp(int kind)
{
	return (kind & MK_PIPP) == MK_PP;
}

/* Lock (m) on the calling LWP (l), until (deadline) (0: none). */
static int
green_mutex_lock(pthread_mutex_t *m, struct gp_lwp *l, uint64_t deadline)
{
	struct owned_arg a = { m, l, 0 };
	int kind = kind_of(m);

	if (!owned_here(kind) && !is_pp(kind))
		return green_acquire(m, mutex_try, m, deadline, INTR_RESUME);
	if ((a.id = owner_id(l)) == 0)
		return EAGAIN;
	return green_acquire(m, is_pp(kind) ? pp_try_arg : owned_try_arg, &a,
	    deadline, INTR_RESUME);
}

/*
 * A host thread's lock of a priority-inheritance mutex, until (deadline)
 * (0: none).  glibc's would wait in FUTEX_LOCK_PI, and the kernel looks
 * the owner up by the TID in the word: a green owner's id names no task,
 * so the kernel says ESRCH, and glibc then sleeps for good (an assertion
 * fails for a robust one).  So a host thread takes it only with glibc's
 * trylock, which never asks the kernel about the owner, and waits:
 *  - while a green thread (or nobody) holds it, in a plain futex wait on
 *    the word, which every release through this file wakes (pi_hostwake)
 *    and a slice bounds (a release inside glibc we cannot see);
 *  - while a host thread holds a non-robust one, in glibc's own lock, so
 *    the kernel still lends the owner our priority; in slices too, since
 *    a green thread may take it between our look and the kernel's (then
 *    glibc waits out the slice and says ETIMEDOUT).  A robust one is
 *    polled as above instead: there that race would be the assertion.
 */
static int
host_pi_lock(pthread_mutex_t *m, uint64_t deadline)
{
	int kind = kind_of(m), word, owner, error;
	uint64_t now, until;
	struct timespec ts;

	for (;;) {
		if ((error = REAL(pthread_mutex_trylock)(m)) != EBUSY)
			return error;
		atomic_fetch_add(&pi_hostwait, 1);
		word = __atomic_load_n(&m->__data.__lock, __ATOMIC_SEQ_CST);
		owner = word & FUTEX_TID_MASK;
		now = gpi_now();
		until = deadline != 0 && deadline - now < BACKSTOP_NS ?
		    deadline : now + BACKSTOP_NS;
		if (deadline != 0 && now >= deadline) {
			atomic_fetch_sub(&pi_hostwait, 1);
			return ETIMEDOUT;
		}
		if (!(kind & MK_ROBUST) && owner != 0 && owner < GREEN_OWNER) {
			atomic_fetch_sub(&pi_hostwait, 1);
			ts.tv_sec = (time_t)(until / 1000000000u);
			ts.tv_nsec = (long)(until % 1000000000u);
			error = REAL(pthread_mutex_clocklock)(m,
			    CLOCK_MONOTONIC, &ts);
			if (error != ETIMEDOUT)
				return error;
			continue;
		}
		ts.tv_sec = (time_t)((until - now) / 1000000000u);
		ts.tv_nsec = (long)((until - now) % 1000000000u);
		GPI_LIBC(syscall)(SYS_futex, &m->__data.__lock,
		    (kind & MK_PSHARED) ? FUTEX_WAIT : FUTEX_WAIT_PRIVATE,
		    word, &ts, NULL, 0);
		atomic_fetch_sub(&pi_hostwait, 1);
	}
}

EXPORT int
pthread_mutex_lock(pthread_mutex_t *m)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL)
		return is_pi(kind_of(m)) ? host_pi_lock(m, 0) :
		    REAL(pthread_mutex_lock)(m);
	gpi_sigpoint_l(l);
	return green_mutex_lock(m, l, 0);
}

EXPORT int
pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abs)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL && !is_pi(kind_of(m)))
		return REAL(pthread_mutex_timedlock)(m, abs);
	if (abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000L)
		return EINVAL;
	if (l == NULL)
		return host_pi_lock(m, deadline_of(abs));
	return green_mutex_lock(m, l, deadline_of(abs));
}

EXPORT int
pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
    const struct timespec *abs)
{
	struct gp_lwp *l = gpi_curlwp();
	int error;

	if (l == NULL && !is_pi(kind_of(m)))
		return REAL(pthread_mutex_clocklock)(m, clock, abs);
	if ((error = clock_check(clock, abs)) != 0)
		return error;
	if (l == NULL)
		return host_pi_lock(m, deadline_on(clock, abs));
	return green_mutex_lock(m, l, deadline_on(clock, abs));
}

EXPORT int
pthread_mutex_trylock(pthread_mutex_t *m)
{
	struct gp_lwp *l = gpi_curlwp();
	bool hidden;
	int id, kind;

	if (l == NULL || (!owned_here(kind = kind_of(m)) && !is_pp(kind)))
		return REAL(pthread_mutex_trylock)(m);
	if ((id = owner_id(l)) == 0)
		return EAGAIN;
	if (is_pp(kind))
		return pp_try(m, l, id, &hidden);
	/*
	 * glibc's trylock of a plain errorcheck one: EBUSY, owner too (of a
	 * robust or PI one, EDEADLK).
	 */
	if ((kind & (MK_ROBUST | MK_PI | MK_TYPE)) == PTHREAD_MUTEX_ERRORCHECK &&
	    __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED) == id)
		return EBUSY;
	return owned_try(m, l, id, &hidden);
}

/*
 * pthread_mutex_unlock of (m) by (l) (NULL: a host thread), *moved as
 * release_gen answers (-1 if nobody was woken or the unlock failed).
 */
static int
mutex_unlock(pthread_mutex_t *m, struct gp_lwp *l, int *moved)
{
	int error;

	*moved = -1;
	if (l != NULL && (owned_here(kind_of(m)) || is_pp(kind_of(m)))) {
		error = is_pp(kind_of(m)) ?
		    pp_unlock(m, l, owner_id_now(l), moved) :
		    owned_unlock(m, l, owner_id_now(l), moved);
		gpi_sigpoint_l(l);	/* after the release: a handler may lock */
		return error;
	}
	if ((error = REAL(pthread_mutex_unlock)(m)) == 0) {
		pi_hostwake(m, kind_of(m));
		*moved = release_gen(m, false);
	}
	return error;
}

EXPORT int
pthread_mutex_unlock(pthread_mutex_t *m)
{
	int moved;

	return mutex_unlock(m, gpi_curlwp(), &moved);
}

/* Take (m)'s lock word with no boost, for a new ceiling. */
static int
pp_take_word(void *arg, bool *hidden)
{
	pthread_mutex_t *m = arg;
	unsigned old = (unsigned)pp_ceiling(m) << PP_CEILING_SHIFT;

	*hidden = (kind_of(m) & MK_PSHARED) != 0;
	return __atomic_compare_exchange_n((unsigned *)&m->__data.__lock,
	    &old, old | 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED) ? 0 :
	    EBUSY;
}

/*
 * A new ceiling, on a green thread: glibc's takes the lock word while
 * the mutex is held by another (a futex wait that would hold the
 * worker), and compares the owner with the worker's TID, so a green
 * owner of a recursive one waited for itself for ever.  As glibc: the
 * owner of a recursive one keeps it (its boost follows the new ceiling),
 * the owner of an errorcheck one gets EDEADLK, anyone else waits until
 * it is free.  Not a cancellation point.
 */
EXPORT int
pthread_mutex_setprioceiling(pthread_mutex_t *m, int ceiling, int *old)
{
	struct gp_lwp *l = gpi_curlwp();
	int kind = kind_of(m), id, was, error;
	unsigned state;
	bool mine;

	if (l == NULL || !is_pp(kind))
		return LIBREAL(pthread_mutex_setprioceiling)(m, ceiling, old);
	if (ceiling < sched_get_priority_min(SCHED_FIFO) ||
	    ceiling > sched_get_priority_max(SCHED_FIFO) ||
	    ceiling >= PP_PRIOS)
		return EINVAL;
	id = owner_id_now(l);
	mine = __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED) == id;
	if (mine && (kind & MK_TYPE) == PTHREAD_MUTEX_ERRORCHECK)
		return EDEADLK;
	mine = mine && (kind & MK_TYPE) == PTHREAD_MUTEX_RECURSIVE;
	was = pp_ceiling(m);
	if (mine) {
		if ((error = pp_boost(l, ceiling)) != 0)
			return error;
		pp_unboost(l, was);
	} else {
		while ((error = green_acquire(m, pp_take_word, m, 0,
		    INTR_RESUME)) != 0)
			;
		was = pp_ceiling(m);
	}
	*old = was;		/* declared nonnull */
	/* Its owner keeps it locked; else the word we took is let go. */
	state = mine ? (unsigned)__atomic_load_n(&m->__data.__lock,
	    __ATOMIC_RELAXED) & ~PP_CEILING_MASK : 0;
	__atomic_store_n(&m->__data.__lock,
	    (int)((unsigned)ceiling << PP_CEILING_SHIFT | state),
	    __ATOMIC_SEQ_CST);
	futex_wake(&m->__data.__lock, INT_MAX, (kind & MK_PSHARED) != 0);
	release(m, true);
	return 0;
}

EXPORT int
pthread_mutex_consistent(pthread_mutex_t *m)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL || !owned_here(kind_of(m)))
		return REAL(pthread_mutex_consistent)(m);
	if (!(kind_of(m) & MK_ROBUST) || m->__data.__owner != M_INCONSISTENT)
		return EINVAL;
	m->__data.__owner = owner_id_now(l);
	return 0;
}

/* ------------------------------------------------------------ spin */

#define SPIN_TRIES	64

/*
 * A holder on our own worker runs only when we let it: spin a little (a
 * holder on another worker is about to let go), then yield.  Not a
 * cancellation point, as POSIX has it.
 */
EXPORT int
pthread_spin_lock(pthread_spinlock_t *sl)
{
	struct gp_lwp *l = gpi_curlwp();
	int i;

	if (l == NULL)
		return REAL(pthread_spin_lock)(sl);
	for (;;) {
		for (i = 0; i < SPIN_TRIES; i++) {
			if (pthread_spin_trylock(sl) == 0)
				return 0;
			gpi_md_relax();
		}
		gpi_lwp_yield(l);
		/* A handler runs while it spins (POSIX: it may end it). */
		gpi_sigpoint_l(l);
	}
}

/* ------------------------------------------------------------ cond */

/*
 * glibc's process-shared condvar: bit 0 of __wrefs (ABI, set at init).
 * A green waiter is no glibc waiter, so a signal from another process
 * finds none and changes nothing we could watch: such a wait returns
 * after the backstop's slice as a spurious wake-up, which POSIX allows
 * and every caller's predicate loop takes (fio's job start-up waits so
 * on its forked jobs, and hung).
 */
#define COND_SHARED	0x1

static int
green_cond_wait(pthread_cond_t *c, pthread_mutex_t *m, struct gp_lwp *l,
    uint64_t deadline)
{
	unsigned i = slot(c);
	bool shared = __atomic_load_n(&c->__data.__wrefs, __ATOMIC_RELAXED) &
	    COND_SHARED;
	uint64_t until, now;
	int gen, error, lerr, moved;

	gpi_tls_wait_check(l, c);
	gen = atomic_load(&gens[i].gen);
	atomic_fetch_add(&gens[i].waiters, 1);
	if ((error = mutex_unlock(m, l, &moved)) != 0) {
		atomic_fetch_sub(&gens[i].waiters, 1);
		return error;
	}
	/*
	 * (m) hashed to our slot: counted there, we made our own unlock
	 * move the generation we sleep on, and every wait returned at once
	 * as woken (guile's join-thread looped so, holding its worker from
	 * the thread it waited for; gr_condslot).  If that move was the
	 * only one since we read it, it is no wake-up: sleep on its value.
	 * Any other move (a signal) still ends the sleep.
	 */
	if (moved == gen && slot(m) == i)
		gen = (int)((unsigned)gen + 1);
	until = deadline;
	if (shared && (now = gpi_now(), deadline == 0 ||
	    (deadline > now && deadline - now > BACKSTOP_NS)))
		until = now + BACKSTOP_NS;
	error = gpi_tsleep(c, &gens[i].gen, gen, GPI_PCATCH, until);
	if (error == ETIMEDOUT && until != deadline) {
		atomic_fetch_add_explicit(&nbackstops, 1, memory_order_relaxed);
		error = 0;
	}
	atomic_fetch_sub(&gens[i].waiters, 1);
	/*
	 * A wait that ended without a switch (its deadline already past)
	 * has still let the mutex go, and natively another thread takes it
	 * in that window.  Here nothing else runs on this worker until we
	 * switch: if the watchdog wants the worker back (w_resched), give
	 * it up now, while the mutex is free.  A loop of such waits yielded
	 * otherwise only at its next pthread_mutex_lock, holding whatever
	 * it built on the mutex, and the thread it starved never got that
	 * (guile's mutexes, an owner field under a pthread mutex:
	 * gr_condspin hung under greenrun -w 1).
	 */
	gpi_resched_point(l);
	/* The mutex is retaken whatever happened (cancellation too). */
	if ((lerr = green_mutex_lock(m, l, 0)) != 0)
		return lerr;
	/* Handlers, a stop; a spurious wake-up is allowed. */
	gpi_userret();
	return error == ETIMEDOUT ? ETIMEDOUT : 0;
}

static void
host_cond_done(void *arg)
{
	(void)arg;
	atomic_fetch_sub(&hidden_releases, 1);
}

/*
 * glibc unlocks and relocks (m) inside, where green lockers parked on it
 * cannot hear of it.  Counted first (seq_cst), then they are woken to
 * park again, now with the backstop (park reads the count).  A cancelled
 * wait uncounts itself too.
 */
static int
host_cond_wait(pthread_cond_t *c, pthread_mutex_t *m,
    const struct timespec *abs)
{
	int error;

	atomic_fetch_add(&hidden_releases, 1);
	release(m, true);
	pthread_cleanup_push(host_cond_done, NULL);
	if (abs == NULL)
		error = REAL(pthread_cond_wait)(c, m);
	else
		error = REAL(pthread_cond_timedwait)(c, m, abs);
	pthread_cleanup_pop(1);
	return error;
}

EXPORT int
pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL)
		return host_cond_wait(c, m, NULL);
	return green_cond_wait(c, m, l, 0);
}

/*
 * The clock of (c)'s timed waits, as pthread_condattr_setclock gave it:
 * glibc keeps it in bit 1 of __wrefs (ABI: the static initializer and
 * every existing condvar have it there), set at init and never changed.
 */
#define COND_CLOCK_MONOTONIC	0x2

static clockid_t
cond_clock(const pthread_cond_t *c)
{
	return (__atomic_load_n(&c->__data.__wrefs, __ATOMIC_RELAXED) &
	    COND_CLOCK_MONOTONIC) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
}

EXPORT int
pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
    const struct timespec *abs)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL)
		return host_cond_wait(c, m, abs);
	if (abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000L)
		return EINVAL;
	return green_cond_wait(c, m, l, deadline_on(cond_clock(c), abs));
}

/*
 * A host thread's clockwait is glibc's, counted as hidden like
 * host_cond_wait: glibc unlocks and relocks the mutex inside.
 */
EXPORT int
pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m,
    clockid_t clock, const struct timespec *abs)
{
	struct gp_lwp *l = gpi_curlwp();
	int error;

	if (l == NULL) {
		atomic_fetch_add(&hidden_releases, 1);
		release(m, true);
		pthread_cleanup_push(host_cond_done, NULL);
		error = REAL(pthread_cond_clockwait)(c, m, clock, abs);
		pthread_cleanup_pop(1);
		return error;
	}
	if ((error = clock_check(clock, abs)) != 0)
		return error;
	return green_cond_wait(c, m, l, deadline_on(clock, abs));
}

EXPORT int
pthread_cond_signal(pthread_cond_t *c)
{
	int error = REAL(pthread_cond_signal)(c);

	release(c, false);
	return error;
}

EXPORT int
pthread_cond_broadcast(pthread_cond_t *c)
{
	int error = REAL(pthread_cond_broadcast)(c);

	release(c, true);
	return error;
}

/* ------------------------------------------------------------ rwlock */

/*
 * A green thread takes a rwlock with glibc's trylocks and parks, so two
 * things glibc's blocking calls do needed doing here.
 *
 * The writer's identity.  glibc records the writer in __cur_writer as
 * its kernel TID -- a green thread's worker's, shared by every LWP of
 * it -- and its rdlock and wrlock fail with EDEADLK when the caller is
 * that writer; the trylocks do not look.  So after a green write lock
 * (any form, trylock too) __cur_writer is the LWP's owner id (the
 * mutexes', GREEN_OWNER | slot: no kernel TID, so a host thread never
 * matches it), the green rdlock and wrlock forms check it first, and the
 * green unlock puts the worker's TID back before glibc's unlock, which
 * reads it to tell a writer's unlock from a reader's (a started LWP never
 * leaves its worker).  Before, a green thread relocking a rwlock it held
 * for writing waited for ever (glibc's tst-rwlock3).
 *
 * Writer preference.  Under PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP a
 * waiting writer holds new readers back: in glibc it sets WRLOCKED as it
 * starts to wait, and the rdlocks then wait or fail.  A green writer
 * waits by trylock and parking and sets nothing, so readers kept coming
 * (tst-rwlock15 spun on tryrdlock for ever).  It is counted instead, in
 * the rwlock's own memory: __pad3, which glibc's rwlock never uses (init
 * and the initializers zero it), counts the green writers waiting
 * (acquire's pending), and a green reader's rdlock or tryrdlock of such a
 * rwlock in a read phase waits or fails with EBUSY while it is not 0, as
 * glibc's do for WRLOCKED.  When the count falls to 0 (the writer got the
 * lock, timed out, or stepped out for a handler) the readers are woken.
 * Host threads still take read locks through glibc, which does not see
 * the count (section 21).
 */
#define RW_WRPHASE	1	/* glibc's __readers bit: a write phase */

/* What glibc's THREAD_SELF->tid is on this green thread: its worker's. */
static int
rw_kernel_tid(struct gp_lwp *l)
{
	return (int)__atomic_load_n(&l->l_worker->w_tid, __ATOMIC_RELAXED);
}

/* Is (rw) held for writing by green thread (l)? */
static bool
rw_mine(pthread_rwlock_t *rw, struct gp_lwp *l)
{
	return __atomic_load_n(&rw->__data.__cur_writer, __ATOMIC_RELAXED) ==
	    owner_id_now(l);
}

/* Just write-locked by (l): record it as the writer. */
static void
rw_set_writer(pthread_rwlock_t *rw, struct gp_lwp *l)
{
	int id = owner_id(l);

	if (id != 0)		/* out of memory: glibc's TID stays */
		__atomic_store_n(&rw->__data.__cur_writer, id,
		    __ATOMIC_RELAXED);
}

/* Must a green reader make way for a green writer that waits? */
static bool
rw_writer_waits(pthread_rwlock_t *rw)
{
	return rw->__data.__flags ==
	    PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP &&
	    __atomic_load_n(&rw->__data.__pad3, __ATOMIC_SEQ_CST) != 0 &&
	    !(__atomic_load_n(&rw->__data.__readers, __ATOMIC_RELAXED) &
	    RW_WRPHASE);
}

static int
rd_try(void *arg, bool *hidden)
{
	pthread_rwlock_t *rw = arg;

	/* glibc's __shared: 0 when process-private. */
	*hidden = rw->__data.__shared != 0;
	if (rw_writer_waits(rw))
		return EBUSY;
	return REAL(pthread_rwlock_tryrdlock)(rw);
}

static int
wr_try(void *arg, bool *hidden)
{
	pthread_rwlock_t *rw = arg;
	int error;

	*hidden = rw->__data.__shared != 0;
	if ((error = REAL(pthread_rwlock_trywrlock)(rw)) == 0)
		rw_set_writer(rw, gpi_curlwp());
	return error;
}

/* A green rdlock form: EDEADLK if (l) is the writer, else wait. */
static int
rd_acquire(pthread_rwlock_t *rw, struct gp_lwp *l, uint64_t deadline)
{
	if (rw_mine(rw, l))
		return EDEADLK;
	return acquire(rw, rd_try, rw, deadline, INTR_RESUME, NULL);
}

/* A green wrlock form: EDEADLK if (l) is the writer, else wait counted. */
static int
wr_acquire(pthread_rwlock_t *rw, struct gp_lwp *l, uint64_t deadline)
{
	if (rw_mine(rw, l))
		return EDEADLK;
	return acquire(rw, wr_try, rw, deadline, INTR_RESUME,
	    &rw->__data.__pad3);
}

EXPORT int
pthread_rwlock_rdlock(pthread_rwlock_t *rw)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL)
		return REAL(pthread_rwlock_rdlock)(rw);
	return rd_acquire(rw, l, 0);
}

EXPORT int
pthread_rwlock_wrlock(pthread_rwlock_t *rw)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL)
		return REAL(pthread_rwlock_wrlock)(rw);
	return wr_acquire(rw, l, 0);
}

EXPORT int
pthread_rwlock_tryrdlock(pthread_rwlock_t *rw)
{
	bool hidden;

	if (!green())
		return REAL(pthread_rwlock_tryrdlock)(rw);
	return rd_try(rw, &hidden);
}

EXPORT int
pthread_rwlock_trywrlock(pthread_rwlock_t *rw)
{
	bool hidden;

	if (!green())
		return REAL(pthread_rwlock_trywrlock)(rw);
	return wr_try(rw, &hidden);
}

EXPORT int
pthread_rwlock_timedrdlock(pthread_rwlock_t *rw, const struct timespec *abs)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL)
		return REAL(pthread_rwlock_timedrdlock)(rw, abs);
	if (clock_check(CLOCK_REALTIME, abs) != 0)
		return EINVAL;
	return rd_acquire(rw, l, deadline_of(abs));
}

EXPORT int
pthread_rwlock_timedwrlock(pthread_rwlock_t *rw, const struct timespec *abs)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL)
		return REAL(pthread_rwlock_timedwrlock)(rw, abs);
	if (clock_check(CLOCK_REALTIME, abs) != 0)
		return EINVAL;
	return wr_acquire(rw, l, deadline_of(abs));
}

EXPORT int
pthread_rwlock_clockrdlock(pthread_rwlock_t *rw, clockid_t clock,
    const struct timespec *abs)
{
	struct gp_lwp *l = gpi_curlwp();
	int error;

	if (l == NULL)
		return REAL(pthread_rwlock_clockrdlock)(rw, clock, abs);
	if ((error = clock_check(clock, abs)) != 0)
		return error;
	return rd_acquire(rw, l, deadline_on(clock, abs));
}

EXPORT int
pthread_rwlock_clockwrlock(pthread_rwlock_t *rw, clockid_t clock,
    const struct timespec *abs)
{
	struct gp_lwp *l = gpi_curlwp();
	int error;

	if (l == NULL)
		return REAL(pthread_rwlock_clockwrlock)(rw, clock, abs);
	if ((error = clock_check(clock, abs)) != 0)
		return error;
	return wr_acquire(rw, l, deadline_on(clock, abs));
}

EXPORT int
pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
	struct gp_lwp *l = gpi_curlwp();
	int error;

	/* Its writer: glibc's unlock must see its own TID (above). */
	if (l != NULL && rw_mine(rw, l))
		__atomic_store_n(&rw->__data.__cur_writer, rw_kernel_tid(l),
		    __ATOMIC_RELAXED);
	error = REAL(pthread_rwlock_unlock)(rw);
	if (error == 0)
		release(rw, true);
	return error;
}

/* ------------------------------------------------------------ semaphores */

static int
sem_try(void *s, bool *hidden)
{
	int private;

	/* glibc's sem_t: a 64-bit value, then its futex flag, 0 if private. */
	memcpy(&private, (char *)s + 8, sizeof(private));
	*hidden = private != 0;
	return sem_trywait(s) == 0 ? 0 : errno;
}

EXPORT int
sem_wait(sem_t *s)
{
	int error;

	if (!green())
		return REAL(sem_wait)(s);
	/*
	 * A cancellation point that "shall occur": a pending cancel acts
	 * even when the semaphore is free, as glibc's sem_wait and
	 * sem_timedwait test for one on entry (its sem_clockwait does not).
	 * A green one acted only if it parked (glibc's tst-cancel12 and
	 * -14, gr_semcancel).
	 */
	gpi_userret();
	if ((error = green_acquire(s, sem_try, s, 0, INTR_SEM)) != 0) {
		errno = error;
		return -1;
	}
	return 0;
}

EXPORT int
sem_timedwait(sem_t *s, const struct timespec *abs)
{
	int error;

	if (!green())
		return REAL(sem_timedwait)(s, abs);
	gpi_userret();		/* as sem_wait */
	if (abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000L) {
		errno = EINVAL;
		return -1;
	}
	if ((error = green_acquire(s, sem_try, s, deadline_of(abs),
	    INTR_SEM)) != 0) {
		errno = error;
		return -1;
	}
	return 0;
}

EXPORT int
sem_clockwait(sem_t *s, clockid_t clock, const struct timespec *abs)
{
	int error;

	if (!green())
		return REAL(sem_clockwait)(s, clock, abs);
	if ((error = clock_check(clock, abs)) != 0 ||
	    (error = green_acquire(s, sem_try, s, deadline_on(clock,
	    abs), INTR_SEM)) != 0) {
		errno = error;
		return -1;
	}
	return 0;
}

EXPORT int
sem_post(sem_t *s)
{
	int r = REAL(sem_post)(s);

	if (r == 0)
		release(s, false);
	return r;
}

/* ------------------------------------------------------------ barriers */

/*
 * Our barrier, in the pthread_barrier_t's own 32 bytes.  b_gen changes
 * when a round completes: waiters of the round sleep against it.
 *
 * Destroy waits until every thread of the last round has left the wait,
 * as glibc's does: its serial thread may destroy and init the barrier
 * again at once (glibc's tst-barrier4 does, round after round), while
 * the others it woke have not run yet.  Without the wait, init zeroed
 * b_gen under them, they found it equal to their round's again and
 * slept for ever; and a barrier freed after destroy would have been
 * read by them.
 */
struct gbarrier {
	gpi_spin_t	 b_lock;
	unsigned	 b_count;	/* (b_lock) threads per round */
	unsigned	 b_arrived;	/* (b_lock) */
	atomic_int	 b_gen;		/* (b_lock to write) */
	atomic_int	 b_inside;	/* (b_lock to raise; a) threads in its
					 * wait: arrived and not yet returned.
					 * Destroy sleeps on it until 0; the
					 * leaver that makes it 0 wakes it. */
#ifndef GREENPROC_DEBUG
	unsigned	 b_pad[1];	/* (DEBUG: the lock's checks use it) */
#endif
	unsigned	 b_magic;	/* (c) GBARRIER_MAGIC: ours.  Past the
					 * 20 bytes glibc's barrier uses, so a
					 * process-shared (glibc) one has 0. */
};
#define GBARRIER_MAGIC	0x67626172u	/* "gbar" */
_Static_assert(sizeof(struct gbarrier) <= sizeof(pthread_barrier_t),
    "barrier fits");

/*
 * A process-shared barrier stays glibc's: other processes use it with
 * glibc's code, and our sleep queues are per process.  A green thread
 * waits in it on a pool helper (pshared_barrier_wait).
 */
EXPORT int
pthread_barrier_init(pthread_barrier_t *pb, const pthread_barrierattr_t *a,
    unsigned count)
{
	struct gbarrier *b = (struct gbarrier *)pb;
	int pshared = PTHREAD_PROCESS_PRIVATE, error;

	if (a != NULL)
		pthread_barrierattr_getpshared(a, &pshared);
	if (pshared == PTHREAD_PROCESS_SHARED) {
		memset(pb, 0, sizeof(*pb));
		if ((error = REAL(pthread_barrier_init)(pb, a, count)) == 0)
			b->b_magic = 0;
		return error;
	}
	if (count == 0)
		return EINVAL;
	memset(pb, 0, sizeof(*pb));
	gpi_spin_init(&b->b_lock, GPI_RANK_BARRIER);
	b->b_count = count;
	b->b_magic = GBARRIER_MAGIC;
	return 0;
}

EXPORT int
pthread_barrier_destroy(pthread_barrier_t *pb)
{
	struct gbarrier *b = (struct gbarrier *)pb;
	unsigned arrived;
	int n;

	if (b->b_magic != GBARRIER_MAGIC)
		return REAL(pthread_barrier_destroy)(pb);
	gpi_spin_lock(&b->b_lock);
	arrived = b->b_arrived;
	gpi_spin_unlock(&b->b_lock);
	if (arrived != 0)
		return EBUSY;		/* a round is under way */
	/* The last round's threads leave; no new one may come (POSIX). */
	while ((n = atomic_load(&b->b_inside)) != 0)
		if (gpi_tsleep(&b->b_inside, &b->b_inside, n, 0, 0) != 0)
			break;	/* killed: its process ends, and so may
				 * the waiters, without leaving */
	b->b_magic = 0;
	return 0;
}

/* A thread leaves (b)'s wait; the last one wakes a destroy. */
static void
barrier_leave(struct gbarrier *b)
{
	if (atomic_fetch_sub(&b->b_inside, 1) == 1)
		gpi_wakeup(&b->b_inside);
}

/* glibc's wait, on a helper: 1 for its serial thread, else its value. */
static long
barrier_job(void *pb)
{
	int r = REAL(pthread_barrier_wait)(pb);

	return r == PTHREAD_BARRIER_SERIAL_THREAD ? 1 : r;
}

/*
 * A green thread at a process-shared barrier.  glibc's wait blocked the
 * worker in a futex wait until the other processes came, and every LWP
 * queued there with it.  It is made on a pool helper instead (not
 * counted against the helpers' limit: waiters that outnumber it would
 * never meet), and the thread parks.  No handler runs during that park:
 * it could leave by siglongjmp while the helper still writes the result
 * into our frame.  Natively a handler runs in the wait; here the signals
 * that came meanwhile, from another process too, are delivered before
 * the wait returns.  With no helper to be had, glibc's wait on the worker.
 */
static int
pshared_barrier_wait(pthread_barrier_t *pb, struct gp_lwp *l)
{
	long r = gpi_pool_call(barrier_job, pb, GPI_POOL_WAIT);

	if (r < 0)
		return REAL(pthread_barrier_wait)(pb);
	gpi_greenrun_drain_pending();
	gpi_sigpoint_l(l);
	return r == 1 ? PTHREAD_BARRIER_SERIAL_THREAD : (int)r;
}

EXPORT int
pthread_barrier_wait(pthread_barrier_t *pb)
{
	struct gbarrier *b = (struct gbarrier *)pb;
	struct gp_lwp *l;
	int gen;

	if (b->b_magic != GBARRIER_MAGIC)
		return (l = gpi_curlwp()) != NULL ?
		    pshared_barrier_wait(pb, l) : REAL(pthread_barrier_wait)(pb);
	gpi_spin_lock(&b->b_lock);
	atomic_fetch_add(&b->b_inside, 1);
	gen = atomic_load(&b->b_gen);
	if (++b->b_arrived == b->b_count) {
		b->b_arrived = 0;
		atomic_store(&b->b_gen, gen + 1);
		gpi_spin_unlock(&b->b_lock);
		gpi_wakeup(b);
		barrier_leave(b);
		return PTHREAD_BARRIER_SERIAL_THREAD;
	}
	gpi_spin_unlock(&b->b_lock);
	/*
	 * A handler runs while a green thread waits (the signal point:
	 * handlers, death on a process kill), then it waits on: POSIX says
	 * a barrier wait resumes after a handler, and it is no
	 * cancellation point, so a pthread_cancel (GPI_PNOCANCEL) stays
	 * pending.
	 */
	while (atomic_load(&b->b_gen) == gen) {
		if (gpi_tsleep(b, &b->b_gen, gen, green() ? GPI_PCATCH |
		    GPI_PNOCANCEL : 0, 0) == EINTR)
			gpi_sigpoint();
	}
	barrier_leave(b);
	return 0;
}

/* ------------------------------------------------------------ once */

/*
 * glibc's once-control: bit 0 an initializer runs, bit 1 done, and with
 * bit 0 the fork generation of the runner above (a fork child restarts
 * an initializer its parent's thread was running).  Host threads call
 * glibc's; a green one runs the same protocol here, parking where glibc
 * would FUTEX_WAIT.  Each side wakes the other's waiters: a green runner
 * with FUTEX_WAKE, a host one after glibc returns -- or, cancelled,
 * from a cleanup handler (glibc has reset the control by then).  A green
 * runner cancelled in its initializer resets the control from a cleanup
 * handler, as glibc's does (once_green_cancelled), and one that dies
 * there otherwise from lwp_dies (l_once).
 */
#define ONCE_INPROGRESS	1
#define ONCE_DONE	2
#define ONCE_FORKGEN	4

/* glibc's __fork_generation, which it does not export: +4 per fork child. */
static atomic_int once_forkgen GPI_PASSDATA;	/* (a) */

struct once_run {
	struct once_run	*r_next;	/* l_once, innermost first */
	atomic_int	*r_once;
};

/* Wake the green waiters of (o), after a change glibc's waiters saw. */
static void
once_wake_green(atomic_int *o)
{
	/* Dekker with the waiter's count-then-check: a full fence. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&gens[slot(o)].waiters) != 0)
		gpi_wakeup(o);
}

static void
once_host_cancelled(void *o)
{
	once_wake_green(o);
}

/* Give up (run), innermost on (l): no initializer ran to the end. */
static void
once_abandon(struct gp_lwp *l, struct once_run *run)
{
	l->l_once = run->r_next;
	atomic_store(run->r_once, 0);
	futex_wake(run->r_once, INT_MAX, false);
	once_wake_green(run->r_once);
}

/*
 * A green initializer cancelled (or ended by pthread_exit): the unwind
 * leaves green_once's frame, and with it the once_run linked on l_once,
 * so the control is reset here, while the frame is still there.  Before,
 * the unwind could longjmp past it into an outer cleanup buffer of the
 * caller, whose later calls wrote over the stale once_run, and
 * lwp_dies then followed garbage (glibc's tst-once3: a fault per
 * retry).
 */
static void
once_green_cancelled(void *arg)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l != NULL && l->l_once == arg)
		once_abandon(l, arg);
}

static int
green_once(atomic_int *o, void (*fn)(void), struct gp_lwp *l)
{
	struct once_run run;
	unsigned i = slot(o);
	int val, newval;

	val = atomic_load_explicit(o, memory_order_acquire);
	for (;;) {
		if (val & ONCE_DONE)
			return 0;
		newval = atomic_load(&once_forkgen) | ONCE_INPROGRESS;
		if (!atomic_compare_exchange_weak_explicit(o, &val, newval,
		    memory_order_acquire, memory_order_acquire))
			continue;
		if (!(val & ONCE_INPROGRESS) || val != newval)
			break;		/* ours to run */
		/* Another thread runs it: wait until the control changes. */
		atomic_fetch_add(&gens[i].waiters, 1);
		if (gpi_tsleep(o, o, newval, 0, 0) == EINTR)
			gpi_userret();
		atomic_fetch_sub(&gens[i].waiters, 1);
		val = atomic_load_explicit(o, memory_order_acquire);
	}
	run.r_once = o;
	run.r_next = l->l_once;
	l->l_once = &run;
	pthread_cleanup_push(once_green_cancelled, &run);
	fn();
	pthread_cleanup_pop(0);
	l->l_once = run.r_next;
	atomic_store(o, ONCE_DONE);	/* seq_cst: see once_wake_green */
	futex_wake(o, INT_MAX, false);
	once_wake_green(o);
	return 0;
}

EXPORT int
pthread_once(pthread_once_t *once, void (*fn)(void))
{
	atomic_int *o = (atomic_int *)once;
	int (*real)(pthread_once_t *, void (*)(void));
	struct gp_lwp *l;
	int error;

	if (atomic_load_explicit(o, memory_order_acquire) & ONCE_DONE)
		return 0;
	if ((l = gpi_curlwp()) != NULL)
		return green_once(o, fn, l);
	if ((real = __atomic_load_n(&gpi_real.pthread_once,
	    __ATOMIC_RELAXED)) == NULL)
		real = (__typeof__(real))gpi_libc_lookup("pthread_once");
	pthread_cleanup_push(once_host_cancelled, o);
	error = real(once, fn);
	pthread_cleanup_pop(0);
	once_wake_green(o);
	return error;
}

void
gpi_once_fork_child(void)
{
	atomic_fetch_add(&once_forkgen, ONCE_FORKGEN);
}

/* ------------------------------------------------------------ futex */

/*
 * syscall(SYS_futex, ...): code that waits on a futex itself, past every
 * pthread call (libstdc++'s std::future and atomic waits, hand-made
 * locks).  On a green thread FUTEX_WAIT and FUTEX_WAIT_BITSET park the
 * LWP on the futex address against the word itself, so the kernel's
 * rule holds: no sleep if the word no longer holds the value.  Every
 * FUTEX_WAKE(_BITSET) made through here, by any thread, makes the
 * system call (host waiters) and then wakes the green waiters of that
 * address, all of them: a bitset is not matched (every waiter of a futex
 * must cope with a spurious wake-up).  A futex without
 * FUTEX_PRIVATE_FLAG may be woken by another process, and any futex by
 * code that makes the system call inline (libgomp) or by the kernel
 * (CLONE_CHILD_CLEARTID): a shared one parks with the backstop.  The
 * other operations (requeue, wake-op, PI) pass through: a green thread
 * that blocks in them holds its worker.  The syscall() interposer is
 * syscall.c's.
 */
#define FUTEX_CMD(op)	((op) & FUTEX_CMD_MASK)

/* Wake the green waiters of futex (uaddr) after the system call did. */
static void
futex_wake_green(const void *uaddr)
{
	/* Dekker with futex_wait_green's count-then-check: a full fence. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&gens[slot(uaddr)].waiters) != 0)
		gpi_wakeup(uaddr);
}

/* FUTEX_WAIT(_BITSET) on green thread (l): the system call's result. */
static long
futex_wait_green(struct gp_lwp *l, atomic_int *uaddr, int op, int val,
    const struct timespec *ts, unsigned bitset)
{
	uint64_t deadline = 0, until;
	bool shared = !(op & FUTEX_PRIVATE_FLAG), backstop;
	int error;

	if (FUTEX_CMD(op) == FUTEX_WAIT_BITSET && bitset == 0)
		return (errno = EINVAL, -1);
	if (ts != NULL) {
		if (ts->tv_sec < 0 || ts->tv_nsec < 0 ||
		    ts->tv_nsec >= 1000000000L)
			return (errno = EINVAL, -1);
		if (FUTEX_CMD(op) == FUTEX_WAIT)	/* relative */
			deadline = gpi_now() + (uint64_t)ts->tv_sec *
			    1000000000u + (uint64_t)ts->tv_nsec + 1;
		else
			deadline = deadline_on((op & FUTEX_CLOCK_REALTIME) ?
			    CLOCK_REALTIME : CLOCK_MONOTONIC, ts);
	}
	atomic_fetch_add(&gens[slot(uaddr)].waiters, 1);
	if (atomic_load(uaddr) != val) {
		atomic_fetch_sub(&gens[slot(uaddr)].waiters, 1);
		return (errno = EAGAIN, -1);
	}
	gpi_tls_wait_check(l, uaddr);
	for (;;) {
		until = deadline;
		backstop = false;
		if (shared) {
			until = gpi_now() + BACKSTOP_NS;
			if (deadline == 0 || until < deadline)
				backstop = true;
			else
				until = deadline;
		}
		error = gpi_tsleep(uaddr, uaddr, val, GPI_PCATCH |
		    GPI_PNOCANCEL, until);
		if (error != ETIMEDOUT || !backstop)
			break;
		atomic_fetch_add_explicit(&nbackstops, 1, memory_order_relaxed);
		/* The backstop: a wake-up we could not hear, or none yet. */
		if (atomic_load(uaddr) != val) {
			error = 0;
			break;
		}
	}
	atomic_fetch_sub(&gens[slot(uaddr)].waiters, 1);
	if (error == EINTR) {
		/* The kernel restarts the wait unless a handler ran. */
		if (gpi_userret_restart(l))
			return 0;	/* a spurious wake-up: allowed */
		return (errno = EINTR, -1);
	}
	if (error == ETIMEDOUT)
		return (errno = ETIMEDOUT, -1);
	return 0;
}

/* syscall(SYS_futex, args (a)): see above.  syscall.c calls it. */
long
gpi_futex_syscall(const long *a)
{
	struct gp_lwp *l;
	long r;
	int cmd = FUTEX_CMD((int)a[1]);

	if ((cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET) &&
	    (l = gpi_curlwp()) != NULL)
		return futex_wait_green(l, (atomic_int *)a[0], (int)a[1],
		    (int)a[2], (const struct timespec *)a[3], (unsigned)a[5]);
	r = GPI_LIBC(syscall)(SYS_futex, a[0], a[1], a[2], a[3], a[4], a[5]);
	if ((cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET) && r >= 0)
		futex_wake_green((const void *)a[0]);
	return r;
}

/* ------------------------------------------------------------ death */

/*
 * gpi_lwp_death_hook: (l) ends holding robust mutexes or running
 * initializers.  Runs on l, before anybody is told of its end.
 */
static void
lwp_dies(struct gp_lwp *l)
{
	struct once_run *run;
	pthread_mutex_t *m;
	int id = owner_id_now(l);

	while ((m = l->l_robust) != NULL) {
		robust_del(l, m);
		robust_died(m, id);
	}
	while ((run = l->l_once) != NULL)
		once_abandon(l, run);
}

__attribute__((constructor(102))) static void
sync_init(void)
{
	gpi_lwp_death_hook = lwp_dies;
}

#define RESOLVE(name) (gpi_real.name = (__typeof__(gpi_real.name))	\
	gpi_libc_lookup(#name))

void
gpi_sync_resolve(void)
{
	RESOLVE(pthread_mutex_lock);
	RESOLVE(pthread_mutex_timedlock);
	RESOLVE(pthread_mutex_unlock);
	RESOLVE(pthread_cond_wait);
	RESOLVE(pthread_cond_timedwait);
	RESOLVE(pthread_cond_signal);
	RESOLVE(pthread_cond_broadcast);
	RESOLVE(pthread_rwlock_rdlock);
	RESOLVE(pthread_rwlock_wrlock);
	RESOLVE(pthread_rwlock_unlock);
	RESOLVE(pthread_rwlock_tryrdlock);
	RESOLVE(pthread_rwlock_trywrlock);
	RESOLVE(pthread_barrier_wait);
	RESOLVE(pthread_barrier_init);
	RESOLVE(pthread_barrier_destroy);
	RESOLVE(pthread_once);
	RESOLVE(sem_wait);
	RESOLVE(sem_post);
	RESOLVE(sem_timedwait);
	RESOLVE(pthread_mutex_trylock);
	RESOLVE(pthread_mutex_consistent);
	RESOLVE(pthread_spin_lock);
	RESOLVE(pthread_mutex_clocklock);
	RESOLVE(pthread_cond_clockwait);
	RESOLVE(pthread_rwlock_timedrdlock);
	RESOLVE(pthread_rwlock_timedwrlock);
	RESOLVE(pthread_rwlock_clockrdlock);
	RESOLVE(pthread_rwlock_clockwrlock);
	RESOLVE(sem_clockwait);
}
