/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sync.c -- pthread mutexes, condition variables, rwlocks, barriers,
 * once and unnamed semaphores for green threads.
 *
 * A futex wait in green code would block its worker, and since started
 * LWPs never leave their worker, the LWP holding the lock could then
 * never run: a deadlock.  So a green thread never blocks in glibc here.
 * It takes the object with glibc's own trylock, and when that fails it
 * parks on the object's address (gpi_tsleep) against a generation word;
 * every release through these interposers -- by a host thread or a green
 * one -- bumps the generation and wakes green waiters.  The object stays
 * glibc's: host threads keep using it through glibc at the same time.
 * Owner-tracking mutex types work because a started LWP never changes
 * worker thread; a recursive mutex, though, is owned by the worker, so
 * two LWPs of one worker would share its ownership (documented).
 *
 * Barriers and pthread_once cannot be shared that way (glibc would block
 * inside), so they are implemented here for every caller, green or host,
 * in the object's own memory.
 *
 * Lost wake-ups: a waiter reads the generation before its last try; a
 * releaser releases, then bumps.  A release between the try and the
 * sleep changes the generation, and gpi_tsleep does not sleep then.  A
 * short timeout backs up releases made where we cannot see them (inside
 * glibc itself).
 */
#include <dlfcn.h>
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "preload.h"

#define EXPORT		__attribute__((__visibility__("default")))
#define NGEN		1024
#define BACKSTOP_NS	(10 * 1000000ull)

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

static unsigned
slot(const void *obj)
{
	uintptr_t h = (uintptr_t)obj;

	h ^= h >> 15;
	h *= 0x9e3779b97f4a7c15u;
	return (unsigned)(h >> 54) & (NGEN - 1);
}

/* Wake green waiters of (obj), if there are any: one load otherwise. */
static void
release(const void *obj, bool all)
{
	unsigned i = slot(obj);

	if (atomic_load(&gens[i].waiters) == 0)
		return;
	atomic_fetch_add(&gens[i].gen, 1);
	if (all)
		gpi_wakeup(obj);
	else
		gpi_wakeup_one(obj);
}

/*
 * Park the calling LWP until (obj) may have changed since (gen) was read,
 * or (deadline).  Returns ETIMEDOUT, EINTR, or 0.
 */
static int
park(const void *obj, int gen, uint64_t deadline, int flags)
{
	uint64_t until = gpi_now() + BACKSTOP_NS;

	if (deadline != 0 && deadline < until)
		until = deadline;
	return gpi_tsleep(obj, &gens[slot(obj)].gen, gen, flags, until);
}

/*
 * Acquire with (trylock) until it succeeds or (deadline) passes.  The
 * common pattern of every lock-like object here.
 */
static int
green_acquire(const void *obj, int (*trylock)(void *), void *arg,
    uint64_t deadline)
{
	unsigned i = slot(obj);
	int error, gen;

	for (;;) {
		if ((error = trylock(arg)) != EBUSY && error != EAGAIN)
			return error;
		gen = atomic_load(&gens[i].gen);
		atomic_fetch_add(&gens[i].waiters, 1);
		error = trylock(arg);
		if (error != EBUSY && error != EAGAIN) {
			atomic_fetch_sub(&gens[i].waiters, 1);
			return error;
		}
		error = park(obj, gen, deadline, 0);
		atomic_fetch_sub(&gens[i].waiters, 1);
		gpi_userret();
		if (error == ETIMEDOUT && deadline != 0 && gpi_now() >= deadline)
			return ETIMEDOUT;
	}
}

/* CLOCK_REALTIME absolute time -> our CLOCK_MONOTONIC deadline. */
static uint64_t
deadline_of(const struct timespec *abs)
{
	struct timespec now;
	int64_t d;

	clock_gettime(CLOCK_REALTIME, &now);
	d = (int64_t)(abs->tv_sec - now.tv_sec) * 1000000000 +
	    (abs->tv_nsec - now.tv_nsec);
	return gpi_now() + (d > 0 ? (uint64_t)d : 1);
}

/* ------------------------------------------------------------ mutex */

static int
mutex_try(void *m)
{
	return pthread_mutex_trylock(m);
}

EXPORT int
pthread_mutex_lock(pthread_mutex_t *m)
{
	if (!green())
		return REAL(pthread_mutex_lock)(m);
	return green_acquire(m, mutex_try, m, 0);
}

EXPORT int
pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abs)
{
	if (!green())
		return REAL(pthread_mutex_timedlock)(m, abs);
	if (abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000L)
		return EINVAL;
	return green_acquire(m, mutex_try, m, deadline_of(abs));
}

EXPORT int
pthread_mutex_unlock(pthread_mutex_t *m)
{
	int error = REAL(pthread_mutex_unlock)(m);

	if (error == 0)
		release(m, false);
	return error;
}

/* ------------------------------------------------------------ cond */

static int
green_cond_wait(pthread_cond_t *c, pthread_mutex_t *m, uint64_t deadline)
{
	unsigned i = slot(c);
	int gen, error, lerr;

	gen = atomic_load(&gens[i].gen);
	atomic_fetch_add(&gens[i].waiters, 1);
	if ((error = pthread_mutex_unlock(m)) != 0) {
		atomic_fetch_sub(&gens[i].waiters, 1);
		return error;
	}
	error = gpi_tsleep(c, &gens[i].gen, gen, GPI_PCATCH,
	    deadline != 0 ? deadline : 0);
	atomic_fetch_sub(&gens[i].waiters, 1);
	/* The mutex is retaken whatever happened (cancellation too). */
	if ((lerr = green_acquire(m, mutex_try, m, 0)) != 0)
		return lerr;
	/* Handlers, a stop; a spurious wake-up is allowed. */
	gpi_userret();
	return error == ETIMEDOUT ? ETIMEDOUT : 0;
}

EXPORT int
pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	if (!green())
		return REAL(pthread_cond_wait)(c, m);
	return green_cond_wait(c, m, 0);
}

EXPORT int
pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
    const struct timespec *abs)
{
	if (!green())
		return REAL(pthread_cond_timedwait)(c, m, abs);
	if (abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000L)
		return EINVAL;
	return green_cond_wait(c, m, deadline_of(abs));
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

static int
rd_try(void *rw)
{
	return pthread_rwlock_tryrdlock(rw);
}

static int
wr_try(void *rw)
{
	return pthread_rwlock_trywrlock(rw);
}

EXPORT int
pthread_rwlock_rdlock(pthread_rwlock_t *rw)
{
	if (!green())
		return REAL(pthread_rwlock_rdlock)(rw);
	return green_acquire(rw, rd_try, rw, 0);
}

EXPORT int
pthread_rwlock_wrlock(pthread_rwlock_t *rw)
{
	if (!green())
		return REAL(pthread_rwlock_wrlock)(rw);
	return green_acquire(rw, wr_try, rw, 0);
}

EXPORT int
pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
	int error = REAL(pthread_rwlock_unlock)(rw);

	if (error == 0)
		release(rw, true);
	return error;
}

/* ------------------------------------------------------------ semaphores */

static int
sem_try(void *s)
{
	return sem_trywait(s) == 0 ? 0 : errno;
}

EXPORT int
sem_wait(sem_t *s)
{
	int error;

	if (!green())
		return REAL(sem_wait)(s);
	if ((error = green_acquire(s, sem_try, s, 0)) != 0) {
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
	if (abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000L) {
		errno = EINVAL;
		return -1;
	}
	if ((error = green_acquire(s, sem_try, s, deadline_of(abs))) != 0) {
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
 */
struct gbarrier {
	gpi_spin_t	 b_lock;
	unsigned	 b_count;	/* (b_lock) threads per round */
	unsigned	 b_arrived;	/* (b_lock) */
	atomic_int	 b_gen;		/* (b_lock to write) */
	unsigned	 b_pad[2];
	unsigned	 b_magic;	/* (c) GBARRIER_MAGIC: ours.  Past the
					 * 20 bytes glibc's barrier uses, so a
					 * process-shared (glibc) one has 0. */
};
#define GBARRIER_MAGIC	0x67626172u	/* "gbar" */
_Static_assert(sizeof(struct gbarrier) <= sizeof(pthread_barrier_t),
    "barrier fits");

/*
 * A process-shared barrier stays glibc's: other processes use it with
 * glibc's code, and our sleep queues are per process.
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
	b->b_count = count;
	b->b_magic = GBARRIER_MAGIC;
	return 0;
}

EXPORT int
pthread_barrier_destroy(pthread_barrier_t *pb)
{
	struct gbarrier *b = (struct gbarrier *)pb;

	if (b->b_magic != GBARRIER_MAGIC)
		return REAL(pthread_barrier_destroy)(pb);
	if (b->b_arrived != 0)
		return EBUSY;
	b->b_magic = 0;
	return 0;
}

EXPORT int
pthread_barrier_wait(pthread_barrier_t *pb)
{
	struct gbarrier *b = (struct gbarrier *)pb;
	int gen;

	if (b->b_magic != GBARRIER_MAGIC)
		return REAL(pthread_barrier_wait)(pb);
	gpi_spin_lock(&b->b_lock);
	gen = atomic_load(&b->b_gen);
	if (++b->b_arrived == b->b_count) {
		b->b_arrived = 0;
		atomic_store(&b->b_gen, gen + 1);
		gpi_spin_unlock(&b->b_lock);
		gpi_wakeup(b);
		return PTHREAD_BARRIER_SERIAL_THREAD;
	}
	gpi_spin_unlock(&b->b_lock);
	while (atomic_load(&b->b_gen) == gen) {
		if (gpi_tsleep(b, &b->b_gen, gen, 0, 0) == EINTR)
			gpi_userret();
	}
	return 0;
}

/* ------------------------------------------------------------ once */

/*
 * pthread_once for every caller: 0 not run, 1 running, 2 done (glibc's
 * PTHREAD_ONCE_INIT is 0).  Waiters for a running initializer sleep;
 * the winner's store of 2 releases what it initialized.
 */
EXPORT int
pthread_once(pthread_once_t *once, void (*fn)(void))
{
	atomic_int *o = (atomic_int *)once;
	int v = 0;

	if (atomic_load_explicit(o, memory_order_acquire) == 2)
		return 0;
	if (atomic_compare_exchange_strong(o, &v, 1)) {
		fn();
		atomic_store_explicit(o, 2, memory_order_release);
		gpi_wakeup(o);
		return 0;
	}
	while ((v = atomic_load_explicit(o, memory_order_acquire)) == 1) {
		if (gpi_tsleep(o, o, 1, 0, 0) == EINTR)
			gpi_userret();
	}
	return 0;
}

#define RESOLVE(name) (gpi_real.name = (__typeof__(gpi_real.name))	\
	dlsym(RTLD_NEXT, #name))

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
	RESOLVE(pthread_barrier_wait);
	RESOLVE(pthread_barrier_init);
	RESOLVE(pthread_barrier_destroy);
	RESOLVE(pthread_once);
	RESOLVE(sem_wait);
	RESOLVE(sem_post);
	RESOLVE(sem_timedwait);
}
