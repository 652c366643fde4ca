/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * internal.h -- structures, locking key, lock order and internal
 * prototypes of the greenproc runtime.  Nothing here is public.
 *
 * Locking key: the letter in parentheses names what protects a field.
 *	(c) constant after creation
 *	(o) touched only by the owning worker thread (or the LWP running on
 *	    it, which is the same thread)
 *	(a) atomic; the comment says which ordering and why
 *	(n) w_newq_lock of the worker
 *	(b) the sleep-queue bucket lock of the wait channel (synch.c)
 *	(p) p->p_lock of the process
 *	(g) gpi_rt.rt_lock (gp_init, gp_shutdown, gp_stats)
 * Two letters, e.g. (o,b): either suffices to read; both to write.
 *
 * Fields read without their lock say so: "(p, relaxed peeks)" is a
 * field written under p_lock and also read unlocked, as a hint that is
 * rechecked under the lock.
 *
 * Lock order (take left before right; never the reverse), enum
 * gpi_lockrank below:
 *	dump_lock -> gpi_rt.rt_lock -> gpi_reparent_lock -> ancestor's
 *	    p_lock -> descendant's p_lock -> sleep-queue bucket ->
 *	    w_newq_lock -> one leaf
 * Two p_locks are held at once only ancestor first: by reparenting
 * (under gpi_reparent_lock) and by exit1's zombie step (parent, then
 * the exiting child).  Leaf locks, under which nothing else is taken:
 * pid_lock, limit_lock, urcu_lock (pid.c), procpool_lock (proc.c), stk_lock
 * (stack.c), callout_lock (exit.c), orphan_lock (fork.c), unwsym.c's
 * locks, and the preload's h_lock, popen_lock and barrier locks.  Every
 * runtime lock is a gpi_spin_t, never a pthread mutex: under the
 * preload a pthread mutex taken on a green thread parks it, which must
 * not happen inside the runtime.
 *
 * DEBUG=1 builds check all of it: the order at every acquire, each
 * "caller holds" contract (GPI_LOCK_ASSERT), and that no lock is held
 * across a context switch -- a green thread never parks holding a lock
 * (the seed's tokens are released when their holder blocks; our
 * spinlocks are not), so gpi_mi_switch asserts the thread holds none.
 */
#ifndef GREENPROC_INTERNAL_H
#define GREENPROC_INTERNAL_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * Inline RCU read side: a TLS counter, no call (see pid.c).  liburcu is
 * not linked but dlopen()ed when the runtime starts (gpi_rcu_load), so
 * that a process which only loads the runtime -- every program run under
 * the preload -- neither maps it nor registers with membarrier.  The
 * inline read side of <urcu/static/urcu-memb.h> names liburcu's reader
 * TLS and grace-period word directly; these macros send it through
 * pointers set at load (the reader's per thread, at registration).
 */
#include <urcu/tls-compat.h>
struct urcu_gp;
struct urcu_reader;
extern struct urcu_gp *gpi_urcu_memb_gp
    __attribute__((__visibility__("hidden")));
extern int *gpi_urcu_memb_has_sys_membarrier
    __attribute__((__visibility__("hidden")));
extern __thread struct urcu_reader *gpi_tls_urcu_memb_reader
    __attribute__((__visibility__("hidden"), tls_model("initial-exec")));
/* The wake-up's fallback where the kernel has no futex (never on Linux). */
extern int (*gpi_urcu_compat_futex_async)(int32_t *, int, int32_t,
    const struct timespec *, int32_t *, int32_t)
    __attribute__((__visibility__("hidden")));
#undef URCU_TLS
#define URCU_TLS(name)			(*gpi_tls_##name)
#define urcu_memb_gp			(*gpi_urcu_memb_gp)
#define urcu_memb_has_sys_membarrier	(*gpi_urcu_memb_has_sys_membarrier)
#define compat_futex_async		(*gpi_urcu_compat_futex_async)
/*
 * The read side's wake-up of a grace-period waiter calls syscall(), which
 * in the preload is the green futex interposer (preload/sync.c): it goes
 * to glibc's instead (host.c), as every runtime system call does.
 */
extern long gpi_urcu_syscall(long, ...)
    __attribute__((__visibility__("hidden")));
#define syscall				gpi_urcu_syscall
#define _LGPL_SOURCE
#include <urcu/urcu-memb.h>
#undef syscall

#include "greenproc.h"
#include "arch.h"

#define GPI_HIDDEN	__attribute__((__visibility__("hidden")))
#define GPI_MUSTCHECK	__attribute__((__warn_unused_result__))
#define GPI_NOINLINE	__attribute__((__noinline__))
/*
 * Data that a process with the preload in LD_PRELOAD touches whether it
 * runs green code or not (real-function slots, start-up flags, what a
 * fork child resets): in .data, on the page or two that the dynamic
 * loader writes at every exec anyway (the GOT), not in .bss, where each
 * page first touched is a page fault of its own -- on the development VM
 * a fault costs an exec as much as 30,000 instructions (ARCHITECTURE 19).
 */
#define GPI_PASSDATA	__attribute__((__section__(".data.gpi_pass")))
/*
 * And its code (the real-function lookups, a host thread's first read
 * or write, close): in .text.hot, which the linker puts at the start of
 * .text beside the constructors, so that it shares their pages (one
 * fault maps 16 of them) instead of faulting pages of its own.
 */
#define GPI_PASSTEXT	__attribute__((__section__(".text.hot.gpi_pass")))
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

/*
 * Doubly linked lists known by a head pointer, NULL-terminated both ways
 * (<sys/queue.h>'s LIST, but with a plain prev pointer, so a debugger
 * walks either direction): sibling lists (p_children), LWP lists
 * (p_lwps, p_zlwps), sleep-queue buckets and stack slabs.  (headp) is
 * the address of the head; (next) and (prev) name the element's link
 * fields.  The caller holds whatever lock guards the list.  Macros, not
 * functions: the lists link four different types.  Arguments may be
 * evaluated more than once.
 */
/*
 * The neighbours are read into locals first: a store through one of
 * them may alias (elm) as far as the compiler knows, and it read them
 * again after each (two loads more in every LWP's exit).
 */
#define GPI_DLIST_INSERT_HEAD(headp, elm, next, prev) do {		\
	__typeof__(elm) gpi_dl_h_ = *(headp);				\
	(elm)->prev = NULL;						\
	(elm)->next = gpi_dl_h_;					\
	if (gpi_dl_h_ != NULL)						\
		gpi_dl_h_->prev = (elm);				\
	*(headp) = (elm);						\
} while (0)

#define GPI_DLIST_REMOVE(headp, elm, next, prev) do {			\
	__typeof__(elm) gpi_dl_n_ = (elm)->next;			\
	__typeof__(elm) gpi_dl_p_ = (elm)->prev;			\
	if (gpi_dl_p_ != NULL)						\
		gpi_dl_p_->next = gpi_dl_n_;				\
	else								\
		*(headp) = gpi_dl_n_;					\
	if (gpi_dl_n_ != NULL)						\
		gpi_dl_n_->prev = gpi_dl_p_;				\
} while (0)

/*
 * Always-on assertion (the seed's KKASSERT) and a debug-only one.
 * A broken invariant aborts with a message naming it.
 */
GPI_HIDDEN _Noreturn void gpi_panic(const char *file, int line,
    const char *func, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define GPI_PANIC(...) gpi_panic(__FILE__, __LINE__, __func__, __VA_ARGS__)
#define KKASSERT(e) do {						\
	if (unlikely(!(e)))						\
		GPI_PANIC("assertion \"%s\" failed", #e);		\
} while (0)
#ifdef GREENPROC_DEBUG
#define KASSERT(e)	KKASSERT(e)
#else
#define KASSERT(e)	do { } while (0)
#endif

/* Sanitizer builds tell ASan/TSan about every switch (see sched.c). */
#if defined(__SANITIZE_ADDRESS__)
#define GPI_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GPI_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define GPI_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GPI_TSAN 1
#endif
#endif
#ifdef GPI_TSAN
#include <sanitizer/tsan_interface.h>	/* gpi_rcu_read_unlock */
#endif

/*
 * Failure injection (failpt.c), debug builds only: GPI_FAILPT(kind) is
 * true when a test armed the request about to be made to fail.  The
 * runtime's malloc, calloc and realloc go through it by these macros;
 * the stack mmap, the eventfds, the io_uring setup and pthread_create
 * ask it at their call sites.  Release builds: always false, no code.
 */
#define GPI_FAIL_MALLOC	0x01u	/* malloc, calloc, realloc: NULL */
#define GPI_FAIL_MMAP	0x02u	/* a stack mapping: ENOMEM */
#define GPI_FAIL_FD	0x04u	/* an eventfd: EMFILE */
#define GPI_FAIL_RING	0x08u	/* io_uring setup: ENOMEM (epoll then) */
#define GPI_FAIL_THREAD	0x10u	/* pthread_create: EAGAIN */
#define GPI_FAIL_GUARD	0x20u	/* a stack's guard page: ENOMEM, as when
				 * vm.max_map_count is reached */
#ifdef GREENPROC_DEBUG
__attribute__((visibility("hidden"))) bool gpi_failpt(unsigned kind);
__attribute__((visibility("hidden"))) void gpi_failpt_arm(long k,
    unsigned kinds);
__attribute__((visibility("hidden"))) bool gpi_failpt_disarm(void);
__attribute__((visibility("hidden"))) void *gpi_failpt_malloc(size_t n);
__attribute__((visibility("hidden"))) void *gpi_failpt_calloc(size_t n,
    size_t size);
__attribute__((visibility("hidden"))) void *gpi_failpt_realloc(void *p,
    size_t n);
__attribute__((visibility("hidden"))) bool gpi_failpt_armed(void);
#define GPI_FAILPT(kind)	gpi_failpt(kind)
#define GPI_FAILPT_ARMED()	gpi_failpt_armed()
#define malloc(n)		gpi_failpt_malloc(n)
#define calloc(n, size)		gpi_failpt_calloc((n), (size))
#define realloc(p, n)		gpi_failpt_realloc((p), (n))
#else
#define GPI_FAILPT(kind)	false
#define GPI_FAILPT_ARMED()	false
#endif

/*
 * Relaxed counter bump by the only writer: a plain load and store, which
 * readers on other threads see whole (they load it relaxed).  On x86-64
 * that is one `add` to memory -- not locked: the writer is the only one
 * -- where the compiler emits a load, an add and a store for the atomic
 * pair (a dozen counters on the fast paths, two instructions each).
 * TSan builds keep the atomics, which it can see.
 */
#if defined(__x86_64__) && !defined(GPI_TSAN)
#define GPI_BUMP(x, n)	do {						\
	_Static_assert(sizeof(x) == 8, "GPI_BUMP: 8-byte counters");	\
	__asm__ __volatile__("addq %1, %0" : "+m"(x) : "er"((long)(n))); \
} while (0)
#else
#define GPI_BUMP(x, n)	atomic_store_explicit(&(x),			\
	atomic_load_explicit(&(x), memory_order_relaxed) + (n),		\
	memory_order_relaxed)
#endif
#define GPI_RD(x)	atomic_load_explicit(&(x), memory_order_relaxed)
/*
 * --(x) <= 0, for an int only this thread touches.  gcc makes that a
 * load, a sub, a store and a test; on x86-64 it is one `sub` to memory,
 * whose flags say it (pick_local counts its fairness turn so).
 */
#if defined(__x86_64__)
#define GPI_DEC_LE0(x)	__extension__ ({				\
	bool le_;							\
	_Static_assert(sizeof(x) == 4, "GPI_DEC_LE0: an int");		\
	__asm__("subl $1, %0" : "+m"(x), "=@ccle"(le_));		\
	le_;								\
})
#else
#define GPI_DEC_LE0(x)	(--(x) <= 0)
#endif

/* ---------------------------------------------------------------- spin.c */

/*
 * Lock ranks: the lock order above as numbers, one per lock class (Go's
 * lockrank.go).  A thread may take a lock only if its rank is above that
 * of every lock it holds; DEBUG builds check it at every acquire
 * (spin.c).  Same rank twice is an error, except for p_lock, whose
 * second lock must belong to a descendant of every process whose lock
 * the thread holds (ancestor before descendant).  From GPI_RANK_LEAF on
 * the ranks are leaves: under one, nothing else is taken at all.
 */
enum gpi_lockrank {
	GPI_RANK_NONE,		/* not initialised: DEBUG builds refuse it */
	GPI_RANK_TAKE,		/* take_lock (preload/init.c): a forwarded
				 * signal's take from the kernel and its
				 * post, which locks what it must */
	GPI_RANK_DUMP,		/* dump_lock (debug.c): never under rt_lock,
				 * since dump_stop joins the dump thread,
				 * which takes rt_lock (gp_stats) */
	GPI_RANK_RT,		/* gpi_rt.rt_lock */
	GPI_RANK_REPARENT,	/* gpi_reparent_lock */
	GPI_RANK_PROC,		/* p_lock; ancestor before descendant */
	GPI_RANK_SLEEPQ,	/* a sleep-queue bucket (synch.c) */
	GPI_RANK_NEWQ,		/* w_newq_lock */
	GPI_RANK_LEAF,		/* the leaves: */
	GPI_RANK_PID = GPI_RANK_LEAF, /* pid_lock (pid.c) */
	GPI_RANK_LIMIT,		/* limit_lock (pid.c) */
	GPI_RANK_PROCPOOL,	/* procpool_lock (proc.c) */
	GPI_RANK_URCU,		/* urcu_lock (pid.c) */
	GPI_RANK_STK,		/* stk_lock (stack.c) */
	GPI_RANK_CALLOUT,	/* callout_lock (exit.c) */
	GPI_RANK_ORPHAN,	/* orphan_lock (fork.c) */
	GPI_RANK_DW,		/* dw.lock (unwsym.c) */
	GPI_RANK_PTHR,		/* h_lock (preload/thread.c) */
	GPI_RANK_POPEN,		/* popen_lock (preload/spawn.c) */
	GPI_RANK_BARRIER,	/* a barrier's b_lock (preload/sync.c) */
	GPI_RANK_FDPARK,	/* a parked-descriptor bucket (fd.c) */
	GPI_RANK_STDIO,		/* a FILE-lock bucket (preload/stdio.c) */
	GPI_RANK_FDTAB,		/* ft_lock, a process's owned descriptors
				 * (fd.c): held for table updates only,
				 * never across a system call or malloc */
	GPI_RANK_IOPOOL,	/* pool_lock (iopool.c) */
	GPI_RANK_TLS,		/* tls.t_lock (tls.c): held across a
				 * dl_iterate_phdr, which takes ld.so's
				 * own lock after it */
	GPI_RANK_TEST,		/* tests' own locks (test_lockcheck.c) */
	GPI_RANK_N
};

/*
 * A test-and-test-and-set lock.  Held only for a few list operations and
 * never across a switch; a holder preempted by the kernel makes waiters
 * spin, then sched_yield().  DEBUG builds add what the lock checks need
 * (8 bytes; a barrier keeps one in pthread_barrier_t's 32, preload/
 * sync.c); a release build's lock is the one word, its fast paths
 * unchanged.
 */
typedef struct {
	atomic_int	s_locked;	/* (a) acquire on lock, release on unlock */
#ifdef GREENPROC_DEBUG
	uint8_t		s_rank;		/* (c) enum gpi_lockrank */
	_Atomic uint32_t s_owner;	/* (a) holder's gpi_spin_self(), or 0;
					 * relaxed: a thread compares it only
					 * with its own id, which only it
					 * stores */
#endif
} gpi_spin_t;
#ifdef GREENPROC_DEBUG
#define GPI_SPIN_INIT(rank)	{ 0, (rank), 0 }
#else
#define GPI_SPIN_INIT(rank)	{ 0 }
#endif

/* A lock in memory that is not a static initializer's. */
static inline void
gpi_spin_init(gpi_spin_t *s, enum gpi_lockrank rank)
{
	atomic_store_explicit(&s->s_locked, 0, memory_order_relaxed);
#ifdef GREENPROC_DEBUG
	s->s_rank = (uint8_t)rank;
	atomic_store_explicit(&s->s_owner, 0, memory_order_relaxed);
#else
	(void)rank;
#endif
}

/*
 * In a forked child: a lock another thread held at the clone stays held
 * in our copy; free it (its rank stays).
 */
static inline void
gpi_spin_reset(gpi_spin_t *s)
{
#ifdef GREENPROC_DEBUG
	atomic_store_explicit(&s->s_owner, 0, memory_order_relaxed);
#endif
	atomic_store(&s->s_locked, 0);
}

GPI_HIDDEN void	gpi_spin_lock_slow(gpi_spin_t *s);
/*
 * Runtime locks held by this thread: always counted (one TLS add), so
 * that a stack overflow taken while the worker holds one is recognised
 * as impossible to contain (fault.c), and debug builds check that no
 * switch happens with one held.
 */
extern __thread int gpi_tls_nlocks __attribute__((tls_model("initial-exec")));
#define GPI_LOCKS_HELD_INC()	(gpi_tls_nlocks++)
#define GPI_LOCKS_HELD_DEC()	(gpi_tls_nlocks--)

#ifdef GREENPROC_DEBUG
/*
 * The checked lock (spin.c).  The held locks live in a per-thread stack:
 * per kernel thread, which is right because no lock is held across a
 * switch, so an LWP never carries one to where another LWP runs.
 */
GPI_HIDDEN void	gpi_spin_lock_debug(gpi_spin_t *s);
GPI_HIDDEN void	gpi_spin_unlock_debug(gpi_spin_t *s);
GPI_HIDDEN _Noreturn void gpi_lock_assert_fail(const gpi_spin_t *s, bool want,
    const char *file, int line, const char *func);
/* This thread's owner id, nonzero, given at its first lock. */
GPI_HIDDEN uint32_t gpi_spin_self(void);
static inline bool
gpi_spin_owned(const gpi_spin_t *s)
{
	return atomic_load_explicit(&s->s_owner, memory_order_relaxed) ==
	    gpi_spin_self();
}
/*
 * "Caller holds (lock)" as a check (FreeBSD's PROC_LOCK_ASSERT), and its
 * negation; GPI_LOCK_ASSERT_NONE is "caller holds no lock".  Nothing in
 * release builds.
 */
#define GPI_LOCK_ASSERT(s) do {						\
	if (unlikely(!gpi_spin_owned(s)))				\
		gpi_lock_assert_fail((s), true, __FILE__, __LINE__,	\
		    __func__);						\
} while (0)
#define GPI_LOCK_ASSERT_NOT(s) do {					\
	if (unlikely(gpi_spin_owned(s)))				\
		gpi_lock_assert_fail((s), false, __FILE__, __LINE__,	\
		    __func__);						\
} while (0)
#define GPI_LOCK_ASSERT_NONE() do {					\
	if (unlikely(gpi_tls_nlocks != 0))				\
		gpi_lock_assert_fail(NULL, false, __FILE__, __LINE__,	\
		    __func__);						\
} while (0)

static inline void
gpi_spin_lock(gpi_spin_t *s)
{
	gpi_spin_lock_debug(s);
}

static inline void
gpi_spin_unlock(gpi_spin_t *s)
{
	gpi_spin_unlock_debug(s);
}
#else /* !GREENPROC_DEBUG */
#define GPI_LOCK_ASSERT(s)	do { (void)sizeof(s); } while (0)
#define GPI_LOCK_ASSERT_NOT(s)	do { (void)sizeof(s); } while (0)
#define GPI_LOCK_ASSERT_NONE()	do { } while (0)

/* Always inline: an out-of-line copy cost a call and 7 instructions. */
static inline __attribute__((__always_inline__)) void
gpi_spin_lock(gpi_spin_t *s)
{
	if (unlikely(atomic_exchange_explicit(&s->s_locked, 1,
	    memory_order_acquire)))
		gpi_spin_lock_slow(s);
	GPI_LOCKS_HELD_INC();
}

static inline __attribute__((__always_inline__)) void
gpi_spin_unlock(gpi_spin_t *s)
{
	GPI_LOCKS_HELD_DEC();
	atomic_store_explicit(&s->s_locked, 0, memory_order_release);
}
#endif /* GREENPROC_DEBUG */

/* futex(2) wrappers; (deadline) is CLOCK_MONOTONIC ns, 0 for none. */
GPI_HIDDEN void	gpi_futex_wait(atomic_int *word, int val, uint64_t deadline);
GPI_HIDDEN void	gpi_futex_wake(atomic_int *word, int n);
GPI_HIDDEN uint64_t gpi_now(void);	/* CLOCK_MONOTONIC in ns */

/* ---------------------------------------------------------------- synch.c */

/*
 * A sleeper: one thread (green or host) waiting on a wait channel, the
 * seed's tsleep()/wakeup() pair.  An LWP embeds its own; a host thread
 * keeps one on its stack for the duration of the sleep.
 *
 * A sleeper is on its bucket's list exactly while s_bucket != NULL; the
 * thread that takes it off (wakeup, timeout, interrupt) sets s_result and
 * then makes the sleeper run.  That single removal is the interlock: a
 * sleeper is woken once, whoever races.
 */
struct gpi_sleepq;
struct gp_sleeper {
	const void	*s_wchan;	/* (b) Wait channel. */
	_Atomic(struct gpi_sleepq *) s_bucket; /* (b,a) Bucket while queued,
					 * else NULL.  Stored under the bucket
					 * lock; read unlocked (seq_cst) by an
					 * interrupter, which then locks and
					 * rechecks ([I1]/[I2] in synch.c). */
	struct gp_sleeper *s_next;	/* (b) Bucket list. */
	struct gp_sleeper *s_prev;	/* (b) */
	struct gp_lwp	*s_lwp;		/* (c) Sleeping LWP; NULL for a host. */
	int		 s_result;	/* (b) 0, ETIMEDOUT or EINTR. */
	int		 s_flags;	/* (b) gpi_tsleep() flags. */
	atomic_int	 s_wake;	/* (a) Host only: futex word.  0 while
					 * it spins, 2 once it sleeps in the
					 * kernel, 1 when woken (release by the
					 * waker, acquire by the sleeper); the
					 * waker calls futex_wake only on 2. */
};

/* gpi_tsleep() flags */
#define GPI_PCATCH	0x1	/* a caught signal interrupts (EINTR) */
#define GPI_PINVOL	0x2	/* an involuntary switch (a stop), for rusage */
#define GPI_PNOCANCEL	0x8	/* with GPI_PCATCH: a pthread_cancel does
				 * not interrupt (a mutex, rwlock, barrier
				 * or futex wait is no cancellation point) */
#define GPI_PNOKILL	0x4	/* not even a kill interrupts: the sleeper
				 * waits for an operation that writes into
				 * its stack (iofile.c); it dies after */

/*
 * Sleep on (wchan) until a wakeup(), the deadline (CLOCK_MONOTONIC ns, 0
 * for none) or an interruption.  If (word) is not NULL, sleep only while
 * *word == expect, compared under the bucket lock: the seed's
 * tsleep_interlock() against p_waitgen, so a wakeup that changed *word
 * first is never lost.  Returns 0 (woken, or *word had changed),
 * ETIMEDOUT, or EINTR (the LWP was killed, or with GPI_PCATCH a signal
 * is pending; the caller returns towards its cancellation point).
 * May block.  Caller must hold no lock.
 */
GPI_HIDDEN int	gpi_tsleep(const void *wchan, const atomic_int *word,
    int expect, int flags, uint64_t deadline) GPI_MUSTCHECK;
/* Wake every sleeper on (wchan).  Never blocks. */
GPI_HIDDEN void	gpi_wakeup(const void *wchan);
/* Wake at most one sleeper on (wchan).  Never blocks. */
GPI_HIDDEN void	gpi_wakeup_one(const void *wchan);
/*
 * Take (l) off its sleep queue with EINTR if it is sleeping there (the
 * caller has set the reason in l_flags first).  Never blocks.
 */
GPI_HIDDEN void	gpi_sleep_interrupt(struct gp_lwp *l);
/*
 * Wake (l) if it sleeps on (wchan): wakeup() for a waker that knows its
 * one sleeper, without searching the bucket (the I/O engine).
 * WARNING: only from (l)'s own worker thread.  It looks at the sleeper
 * without the bucket lock first, which is safe only when (l) cannot be
 * between its interlock check and its insertion at that moment -- true
 * on its own worker, which runs either (l) or this code.  Any other
 * thread uses gpi_wakeup(), whose bucket lock is the interlock.
 */
GPI_HIDDEN void	gpi_wakeup_lwp(struct gp_lwp *l, const void *wchan);
/* A timer of (l)'s worker fired: take it off its queue with ETIMEDOUT. */
GPI_HIDDEN void	gpi_sleep_timeout(struct gp_lwp *l);

/* ---------------------------------------------------------------- stack.c */

/*
 * Stacks are carved from slabs: one anonymous MAP_NORESERVE mapping of
 * GPI_SLAB_STACKS default-sized stacks, each with a guard page at its low
 * end (MADV_GUARD_INSTALL, or mprotect where the kernel lacks it).  Pages
 * are committed only when touched, so an idle LWP costs about the page
 * that holds its struct gp_lwp and its first frames.
 *
 * The struct gp_lwp lives at the top of its own stack: one allocation per
 * LWP, and the stack is held until the LWP is joined (as pthread holds a
 * thread's stack until pthread_join).  A free stack therefore is a free
 * LWP: caches hold struct gp_lwp pointers linked through l_next.
 */
#define GPI_STACK_DEFAULT	(64 * 1024)
#define GPI_STACK_MIN		(16 * 1024)
#define GPI_STACK_MAX		((size_t)1 << 30)
#define GPI_SLAB_STACKS		64
#define GPI_WORKER_CACHE	128	/* free stacks kept per worker */

struct gp_worker;
/* gpi_stack_alloc (inline, below struct gp_worker) but for the cache. */
GPI_HIDDEN struct gp_lwp *gpi_stack_alloc_slow(struct gp_worker *w,
    size_t size);
/* gpi_stack_free (inline, below struct gp_worker) but for the cache. */
GPI_HIDDEN void	gpi_stack_free_slow(struct gp_worker *w, struct gp_lwp *l);
GPI_HIDDEN void	gpi_stack_drain(struct gp_worker *w);
GPI_HIDDEN void	gpi_stack_fini(void);
/* Forget every stack mapping, leaving it mapped; returns its bytes. */
GPI_HIDDEN size_t gpi_stack_abandon(void);
GPI_HIDDEN size_t gpi_stack_default(void);
/*
 * The whole block of (l)'s stack above its guard page, struct and colour
 * included: what pthread_getattr_np reports, as glibc reports its
 * descriptor's block (stack.c).
 */
GPI_HIDDEN size_t gpi_stack_block(const struct gp_lwp *l);
/*
 * What pthread_getattr_np reports of (l)'s stack (preload): the caller's
 * stack exactly, or the size its creator asked for (l_stkasked, else the
 * whole block) ending at the block's top, as glibc reports both.
 */
GPI_HIDDEN void	gpi_stack_report(const struct gp_lwp *l, void **lo,
    size_t *size);
/*
 * (l), a slot just allocated, runs on [lo, lo + size), its creator's
 * stack: its first context is made there.  gpi_stack_unborrow puts the
 * slot's own back before the slot is freed (lwp.c).
 */
GPI_HIDDEN void	gpi_stack_borrow(struct gp_lwp *l, void *lo, size_t size);
GPI_HIDDEN void	gpi_stack_unborrow(struct gp_lwp *l);
/* GREENPROC_GUARD, at gp_init: 0 or ENOTSUP (madvise asked, not there). */
GPI_HIDDEN int	gpi_stack_init(void) GPI_MUSTCHECK;
/* Before the first stack is made: the default size; else EBUSY. */
GPI_HIDDEN int	gpi_stack_set_default(size_t bytes);
/* Resident bytes of the stack mappings (and their size): the soak. */
GPI_HIDDEN size_t gpi_stack_resident(size_t *mapped);
GPI_HIDDEN size_t gpi_proc_held(void);
GPI_HIDDEN size_t gpi_stack_round(size_t bytes);	/* 0 if unusable */

/* ---------------------------------------------------------------- lwp.c */

/*
 * LWP states.  Who owns the stack in each:
 *	LIDL	created, never run; on a runnext slot or a newq (stealable).
 *		The stack holds only the initial frame; nobody runs on it.
 *	LRUN	runnable, on its worker's runq.  Stack not in use.  (An LWP
 *		pushed to another worker's inbox keeps LSLEEP until that
 *		worker drains the inbox; a stolen LIDL one stays LIDL on the
 *		thief's runq.)
 *	LONPROC	running on l_worker.  The stack belongs to that thread.
 *	LSLEEP	parked in gpi_tsleep() on a sleep queue.  Stack not in use.
 *	LZOMB	exited; on its worker's dead list until that worker has
 *		switched off its stack (reaplwps()), then DEAD in l_jstate.
 *		Except an LWP whose fault is about to kill the host
 *		(fault.c): it is never reaped, so never DEAD.
 * l_stat is (o): written by the thread running the LWP or by the owning
 * worker; other threads learn of an LWP's end only through l_jstate.
 */
enum { GPI_LIDL, GPI_LRUN, GPI_LONPROC, GPI_LSLEEP, GPI_LZOMB };

/* l_flags: (a), set by any thread, read at cancellation points. */
#define GPI_LWP_WEXIT	0x1	/* killed: dies at its next cancellation point */
#define GPI_LWP_AST	0x2	/* look at signals at the next cancellation
				 * point (signal.c) */
#define GPI_LWP_CANCEL	0x4	/* pthread_cancel took effect (preload):
				 * GPI_PCATCH sleeps are interrupted and
				 * the next cancellation point unwinds it
				 * (gpi_lwp_cancel_hook); a kill is WEXIT */

/*
 * l_jstate: (a) the join/detach/exit handshake, which decides who frees
 * the LWP (its stack and struct).  The last of {off-stack, joined or
 * detached} frees it.
 *	JOINER	set once by the joiner (CAS); a second joiner gets EINVAL
 *	DETACH	set once by detach or at create; join then gets EINVAL
 *	DEAD	set by reaplwps() after the LWP's worker left its stack for
 *		good: l_retval is final and the memory may be reused
 */
#define GPI_LWP_MAGIC	0x67706c77u	/* "gplw": tells a green pthread_t */

#define GPI_J_JOINER	0x1
#define GPI_J_DETACH	0x2
#define GPI_J_DEAD	0x4
#define GPI_J_ZLIST	0x8	/* exited joinable: on p_zlwps (lwp.c) */
#define GPI_J_HANDOFF	0x10	/* exit already woke a joiner on its own
				 * worker (gpi_lwp_exit) */

struct gp_proc;
struct gpi_sigq;		/* signal.c: a queued signal */
struct gp_lwp {
	/* Part 1 -- read by the context switch; keep first. */
	struct gp_ctx	 l_ctx;		/* (o) Saved context while suspended. */
	struct gp_worker *l_worker;	/* (o,n) Home worker; fixed once the
					 * LWP has started (it never migrates
					 * then, so cached TLS stays valid). */
	struct gp_lwp	*l_next;	/* (o,n,a) Link: runq, newq, inbox,
					 * dead list or stack cache. */
	int		 l_stat;	/* (o,a) GPI_L*: the owner writes it
					 * (relaxed atomic stores), gp_ps and
					 * gp_dump read it racily. */
	void		*l_tls;		/* (o) Its own copy of the switched
					 * TLS blocks (tls.c's struct
					 * tlsarea), NULL if it takes no part:
					 * stale while it is its worker's
					 * w_tlsowner. */

	/* Part 2 -- lifecycle. */
	struct gp_proc	*l_proc;	/* (c) Owning process. */
	struct gp_lwp	*l_pnext;	/* (p) Link in p_lwps. */
	struct gp_lwp	*l_pprev;	/* (p) */
	atomic_uint	 l_flags;	/* (a) GPI_LWP_*; relaxed, because
					 * every reader rechecks under the
					 * bucket lock before it sleeps. */
	atomic_int	 l_jstate;	/* (a) GPI_J_*; acq_rel. */
	int		 l_tid;		/* (c) Small id for gp_ps/gp_dump. */
	void		*(*l_fn)(void *); /* (c) Entry and its argument. */
	void		*l_arg;		/* (c) */
	void		*l_retval;	/* (o) Valid once DEAD. */
	bool		 l_master;	/* (o) Ran exit1: its process may be
					 * gone once it is off the CPU, so the
					 * switch must not charge it. */
	bool		 l_root;	/* (c; then its placer or thief) Placed
					 * by a host thread on a worker of
					 * several: counted in its worker's
					 * w_nroots until it exits. */
	unsigned short	 l_nopreempt;	/* (o) Nonzero while the LWP runs
					 * the program's code under ld.so's
					 * lock (gpi_nopreempt_enter): read by
					 * preempt.c's handler, on the owner's
					 * own thread. */
	struct gp_proc	*l_autoreap;	/* (o) Master of a process nobody
					 * waits for: reap it once DEAD. */
	struct gp_worker *l_joinerw;	/* (a) The joiner's worker, as
					 * l_joiner. */
	struct gp_lwp	*l_joiner;	/* (a) The joiner (NULL: a host
					 * thread); written before JOINER is
					 * set in l_jstate, read after. */

	/*
	 * Part 3 -- stack.  The struct sits at the top of its slot's
	 * stack, [l_ownlo, l).  It runs there, or on a stack its creator
	 * gave (gp_attr_setstack, pthread_attr_setstack: l_ustack), while
	 * the struct stays in the slot: the creator may reuse its stack as
	 * soon as a join returns, and the joiner, the reaper and gp_dump
	 * may still read the struct then (ARCHITECTURE 1, "Caller's
	 * stacks").
	 */
	void		*l_stklo;	/* (c) Lowest usable byte of the stack
					 * it runs on: l_ownlo, or the
					 * caller's (set at create, put back
					 * at free: gpi_stack_unborrow). */
	size_t		 l_stksize;	/* (c) Usable bytes of that stack: up
					 * to this struct, or the caller's
					 * whole size. */
	void		*l_ownlo;	/* (c, for the slot's life) Lowest
					 * usable byte of the slot's own
					 * stack, which ends at this struct. */
	size_t		 l_stkasked;	/* (c) The size its creator asked for,
					 * as pthread_getattr_np reports it
					 * (preload); 0: the whole block. */
	size_t		 l_guard;	/* (c, slot) Bytes of guard below
					 * l_ownlo: a page in a slab, the
					 * creator's choice in an own mapping
					 * (gp_attr_setguardsize), 0 too. */
	bool		 l_slab;	/* (c, slot) From a slab (else own
					 * mapping). */
	bool		 l_ustack;	/* (c) Runs on its creator's stack,
					 * [l_stklo, l_stklo + l_stksize),
					 * which the runtime never frees,
					 * caches or guards. */
	unsigned	 l_vgid;	/* (c, slot) Valgrind stack id. */
	unsigned	 l_uvgid;	/* (c) Valgrind id of the caller's
					 * stack while l_ustack. */

	/* Part 4 -- sleeping and timers. */
	struct gp_sleeper l_sleeper;	/* (b) See synch.c. */
	uint64_t	 l_deadline;	/* (o) Timer deadline while in heap. */
	int		 l_heapidx;	/* (o) Index in w_timers, -1 if none. */

	uint32_t	 l_magic;	/* (c) GPI_LWP_MAGIC while allocated. */
	atomic_uint	 l_handle;	/* (a) Preload: 1 + its slot in the
					 * pthread_t table (thread.c), 0 until
					 * it needs one; set once by CAS,
					 * released when the LWP is freed. */
	void		*l_robust;	/* (o) Preload: robust mutexes it holds
					 * (sync.c), made owner-dead when it
					 * dies. */
	unsigned short	*l_ppmap;	/* (o) Preload: how many
					 * priority-protect mutexes it holds
					 * of each ceiling (sync.c), made on
					 * its first; freed with its handle. */
	int		 l_ppmax;	/* (o; relaxed reads by the sched_*
					 * calls) the highest ceiling it
					 * holds, 0 if none. */
	void		*l_once;	/* (o) Preload: pthread_once calls whose
					 * initializer it is running (sync.c),
					 * reset when it dies. */
	struct gpi_fdpark *l_fdpark;	/* (o) Its registration as parked on
					 * a descriptor (fd.c), on its stack:
					 * a kill ends the LWP inside the
					 * wait, so gpi_lwp_dying takes it
					 * out before the stack goes. */
	uint64_t	 l_rdrained;	/* (o) io_uring: the TCP socket its
					 * last read emptied, as
					 * (fdinfo version << 32 | fd), 0 for
					 * none (iocall.c, xfer): its next read
					 * there goes to the ring at once.  A
					 * hint only: IORING_OP_RECV tries the
					 * socket first, so a stale one costs
					 * a park, never a lost read.  Bit
					 * 63 (RD_WROTE): its last transfer on
					 * a socket was a write, so its next
					 * write sends with sendto (xfer). */
	atomic_int	 l_cancel;	/* (a) pthread cancel state (preload):
					 * seq_cst RMWs. */
	void		**l_specific;	/* (o) pthread_setspecific values. */
	void		*l_cleanup;	/* (o) Preload: innermost buffer of its
					 * pthread_cleanup_push chain (thread.c);
					 * glibc keeps it in the kernel
					 * thread's descriptor, which a
					 * worker's LWPs share. */
	uint64_t	 l_unwexc[4] __attribute__((__aligned__(16)));
					/* (o) Preload: the exception object
					 * of its forced unwind (thread.c):
					 * a landing pad reuses the stack it
					 * would live on, as glibc keeps it in
					 * the thread descriptor. */
	int		 l_schedpolicy;	/* (a, relaxed) pthread_setschedparam
					 * (preload): answered, not enforced. */
	int		 l_schedprio;	/* (a, relaxed) as l_schedpolicy. */
	int		 l_nice;	/* (l_proc->p_lock to change; relaxed
					 * reads) setpriority(PRIO_PROCESS)
					 * of it (preload/thread.c): 0 never
					 * set (the host's), else the nice
					 * value plus GPI_NICE_SET.  Answered,
					 * not enforced. */
	char		 l_name[16];	/* pthread_setname_np, PR_SET_NAME;
					 * its creator's at first.  Written
					 * by any thread of its process
					 * (unlocked, as the kernel's comm:
					 * a racing read may see a mix, never
					 * an unterminated name: byte 15 is
					 * always 0). */
	uint64_t	 l_sigmask;	/* (o, relaxed reads by senders) Blocked
					 * green signals, bit (sig - 1). */
	uint64_t	 l_siglist;	/* (l_proc->p_lock; relaxed reads by
					 * gpi_sig_pending) Signals pending on
					 * this thread alone (pthread_kill,
					 * raise), bit (sig - 1): only it may
					 * take them (POSIX). */
	struct gpi_sigq	*l_sigq;	/* (l_proc->p_lock) Queued instances
					 * of l_siglist's signals with their
					 * siginfo, oldest first (signal.c,
					 * "Queued signals"); freed when the
					 * LWP leaves p_lwps. */

	/* Part 5 -- accounting and per-LWP copies of per-thread state. */
	unsigned long	 l_nvcsw;	/* (o) Voluntary switches. */
	unsigned long	 l_nivcsw;	/* (o) Involuntary switches. */
	/*
	 * Its own run time, while gpi_lwp_clock is on (section 14): only
	 * its worker writes them, in switch_to; other threads read them
	 * with gpi_lwp_runticks, whose retry pairs with these orders.
	 */
	unsigned long long l_ticks;	/* (o; release store, acquire loads)
					 * gpi_md_ticks it ran, up to its
					 * last switch away; 0 at create. */
	unsigned long long l_runtick;	/* (o; relaxed stores, acquire loads)
					 * gpi_md_ticks when it was last
					 * switched in, 0 while off the CPU:
					 * set to 0 before l_ticks grows. */
	unsigned long	 l_nhandled;	/* (o) Green signal handlers it has
					 * run (postsig): an interrupted call
					 * tells whether one ran on it
					 * (gpi_userret_resume). */
	struct gpi_tlsdtor *l_tlsdtors;	/* (o) thread_local destructors
					 * registered on it, LIFO (tls.c). */
#ifdef GPI_TSAN
	void		*l_tsan_fiber;	/* (c) TSan fiber. */
#endif
};

struct gp_attr {
	size_t		 a_stacksize;	/* 0: default */
	void		*a_stackaddr;	/* gp_attr_setstack: the caller's
					 * stack, a_stacksize bytes; NULL:
					 * one of ours */
	size_t		 a_stackasked;	/* preload: pthread_getattr_np's size
					 * (l_stkasked), 0: the whole block */
	int		 a_detached;
	int		 a_exitsig;
	char		 a_name[32];
	int		*a_fds;		/* gp_attr_setfds: handed to the child */
	int		 a_nfds;
	int		 a_tls;		/* GPI_TLS_*: gp_attr_settls */
	size_t		 a_guardsize;	/* gp_attr_setguardsize, in whole
					 * pages; with a_guardset only */
	bool		 a_guardset;	/* a guard other than the default
					 * page (of a slab stack) */
};

/* The top (highest address + 1) of the stack (l) runs on. */
static inline uintptr_t
gpi_stack_top(const struct gp_lwp *l)
{
	return (uintptr_t)l->l_stklo + l->l_stksize;
}

/*
 * tls.c: per-LWP TLS.  An LWP with l_tls has its own copy of the TLS
 * blocks of the program's modules (all but libc's and the runtime's),
 * static and dlopen'd, swapped in by the switch.  a_tls: OFF, INIT (the modules' initial
 * images) or CALLER (a copy of the creating thread's values: greenrun's
 * main).  An LWP created by one that has l_tls gets INIT.
 */
#define GPI_TLS_NONE	(-1)	/* not even inherited: fault proxies */
#define GPI_TLS_OFF	0
#define GPI_TLS_INIT	1
#define GPI_TLS_CALLER	2
struct gpi_tlsdtor;
/* 0, or ENOMEM/EAGAIN: (l)'s save area, for a creator in mode (mode). */
GPI_HIDDEN int	gpi_tls_lwp_init(struct gp_lwp *l, int mode) GPI_MUSTCHECK;
/* Is (path)'s file name one of (names), each a prefix?  (tls.c) */
GPI_HIDDEN bool	gpi_lib_named(const char *path, const char *const *names,
    size_t n);
GPI_HIDDEN void	gpi_tls_lwp_free(struct gp_lwp *l);
/* Load (to)'s values, saving the owner's: the switch's slow path. */
GPI_HIDDEN void	gpi_tls_switch(struct gp_worker *w, struct gp_lwp *to);
/* gpi_tls_lwp_dying(l, w): inline, below (it needs struct gp_worker). */
/* After a dlclose: a module gone takes its dynamic TLS range with it. */
GPI_HIDDEN void	gpi_tls_unloaded(void);
/* Run the calling LWP (l)'s thread_local destructors, LIFO. */
GPI_HIDDEN void	gpi_tls_run_dtors(struct gp_lwp *l);
/*
 * Preload's __cxa_thread_atexit_impl: 0 if (fn)(obj) was queued on the
 * calling LWP (it has l_tls and obj is in a switched block), else -1.
 */
GPI_HIDDEN int	gpi_tls_atexit(void (*fn)(void *), void *obj);
/*
 * Green thread (l) (or NULL) is about to sleep on (obj) until another wakes
 * it: if (obj) is one of l's switched thread-locals, the wake-up cannot
 * be told from one meant for another LWP of the worker; say so on
 * stderr, once per process (tls.c).
 */
GPI_HIDDEN void	gpi_tls_wait_check(struct gp_lwp *l, const void *obj);

/* Create an LWP in (p); with (run) it is made runnable at once. */
GPI_HIDDEN int	gpi_lwp_create(struct gp_proc *p, struct gp_lwp **lp,
    void *(*fn)(void *), void *arg, const gp_attr_t *attr, bool run)
    GPI_MUSTCHECK;
/*
 * gpi_lwp_create(p, lp, gpi_proc_main, p, attr, false) for a spawn's new
 * process (p), with the caller's worker and LWP at hand (as
 * gpi_curworker() and gpi_curlwp() give them): its master.
 */
GPI_HIDDEN int	gpi_lwp_create_master(struct gp_worker *w, struct gp_lwp *cur,
    struct gp_proc *p, struct gp_lwp **lp, const gp_attr_t *attr)
    GPI_MUSTCHECK;
GPI_HIDDEN void	gpi_lwp_discard(struct gp_lwp *l);
GPI_HIDDEN void	gpi_lwp_free(struct gp_worker *w, struct gp_lwp *l);
GPI_HIDDEN int	gpi_lwp_unlink(struct gp_proc *p, struct gp_lwp *l,
    bool master);
/* Yield (l), the calling LWP, to everything runnable on its worker. */
GPI_HIDDEN void	gpi_lwp_yield(struct gp_lwp *l);
GPI_HIDDEN bool	gpi_lwp_exit_unless_last(void);
/* fault.c: (l), already unlinked, leaves the CPU from a signal handler. */
GPI_HIDDEN _Noreturn void gpi_lwp_die_by_proxy(struct gp_lwp *l);
GPI_HIDDEN void	gpi_relax_yield(void);
/* Runs on an LWP leaving normally, before it unlinks (preload's keys). */
GPI_HIDDEN extern void (*gpi_lwp_exit_hook)(struct gp_lwp *l);
/*
 * Green-init mode (preload/init.c): job control of a terminal access
 * (GPI_TTY_*) by the calling LWP on descriptor (fd), as the kernel does
 * it for a native program (the workers' own reads say EIO: they block
 * SIGTTIN).  0: go on; EIO; or -1: a stop signal was sent (the host
 * stops, or the program's handler is posted), to be waited for and the
 * access looked at again (iocall.c, gpi_tty_check).
 */
#define GPI_TTY_READ	0	/* SIGTTIN; EIO when ignored or blocked */
#define GPI_TTY_WRITE	1	/* SIGTTOU, only with TOSTOP set */
#define GPI_TTY_CHANGE	2	/* SIGTTOU: tcsetattr, tcsetpgrp, tcflush */
GPI_HIDDEN extern int (*gpi_tty_access_hook)(int fd, int how);
/*
 * Job control before access (how) to terminal (fd) on the calling LWP:
 * 0, EIO, or EINTR (a handler ran and the call does not restart: only
 * (restartable) calls do, with SA_RESTART).  Nothing without the hook.
 */
GPI_HIDDEN int	gpi_tty_check(int fd, int how, bool restartable);
/*
 * Preload (sync.c): (l) ends, however (exit, cancel, kill, its process's
 * exit1), before anyone is told: what it holds is released as owner-dead.
 * Runs on l itself, so its stack is intact; no lock held.
 */
GPI_HIDDEN extern void (*gpi_lwp_death_hook)(struct gp_lwp *l);
/* Preload (thread.c): (l) is freed; its pthread_t goes stale. */
GPI_HIDDEN extern void (*gpi_lwp_free_hook)(struct gp_lwp *l);
/*
 * Preload (thread.c): the running LWP (l) has GPI_LWP_CANCEL at a
 * cancellation point.  Unwinds it (cleanup handlers, destructors, then
 * the end with PTHREAD_CANCELED) and never returns, or returns with the
 * flag cleared if its cancellation is disabled.  No lock held.
 */
GPI_HIDDEN extern void (*gpi_lwp_cancel_hook)(struct gp_lwp *l);

struct gpi_fdpark;
GPI_HIDDEN void	gpi_fdpark_leave(struct gpi_fdpark *fp);

/* Always inline: out of line (gcc's choice) it cost a call and a frame. */
static inline __attribute__((__always_inline__)) void
gpi_lwp_dying(struct gp_lwp *l)
{
	if (unlikely(l->l_fdpark != NULL))
		gpi_fdpark_leave(l->l_fdpark);
	if (unlikely(l->l_robust != NULL || l->l_once != NULL))
		gpi_lwp_death_hook(l);
}
/* Join (l) until (deadline) (0: forever); with (try), never block. */
GPI_HIDDEN int	gpi_lwp_join(struct gp_lwp *l, void **retval, uint64_t deadline,
    bool try);
GPI_HIDDEN _Noreturn void gpi_lwp_exit(void *retval);
GPI_HIDDEN void	gpi_lwp_release(struct gp_worker *w, struct gp_lwp *l,
    int bits);
/* Cancellation point: a killed LWP dies here and never returns. */
GPI_HIDDEN void	gpi_userret(void);
GPI_HIDDEN void	gpi_userret_ex(struct gp_lwp *l);
GPI_HIDDEN void	gpi_userret_slow(struct gp_lwp *l);
/*
 * gpi_userret() after an interrupted sleep (EINTR): die if killed, else
 * stop and run handlers.  True if the interrupted call may go on, as the
 * kernel restarts it: no handler ran, or every one had SA_RESTART.
 */
GPI_HIDDEN bool	gpi_userret_restart(struct gp_lwp *l);
/*
 * The same for a call the kernel never restarts after a handler (poll,
 * select, nanosleep, a socket with a timeout: restartable false), or one
 * it does (true).  True if the call goes on: no handler ran on (l) -- the
 * signal went to another thread, or was a stop and continue, and the
 * kernel interrupts only the thread that handles a signal -- or each had
 * SA_RESTART and (restartable).
 */
GPI_HIDDEN bool	gpi_userret_resume(struct gp_lwp *l, bool restartable);
/* gpi_userret() for the running LWP (l): one load when there is nothing. */
static inline void
gpi_userret_l(struct gp_lwp *l)
{
	if (unlikely(atomic_load_explicit(&l->l_flags, memory_order_relaxed) &
	    (GPI_LWP_WEXIT | GPI_LWP_AST | GPI_LWP_CANCEL)))
		gpi_userret_slow(l);
}
GPI_HIDDEN void	gpi_lwp_kill(struct gp_lwp *l);
/*
 * The entry of a cancellation point that may complete without sleeping
 * (a read or write that needs no wait): a cancel already in effect acts
 * before the call does anything, as POSIX has it.
 */
static inline void
gpi_testcancel_l(struct gp_lwp *l)
{
	if (unlikely(atomic_load_explicit(&l->l_flags, memory_order_relaxed) &
	    GPI_LWP_CANCEL))
		gpi_userret_ex(l);
}
GPI_HIDDEN void	gpi_sigpoint_slow(struct gp_lwp *l);

/* ---------------------------------------------------------------- proc.c */

/*
 * A green process (DragonFly's struct proc).  Init (gpi_proc0) is the
 * host: its threads and the LWPs they made.
 *
 * Tree locking.  A parent's p_lock protects its children list, its
 * report queue and the tree fields its children keep about it ((P) below:
 * p_pptr, p_sibling, p_reportnext, p_report, p_stat once the process is
 * visible).  Changing a p_pptr (reparenting, exit1 only) also needs
 * gpi_reparent_lock, under which the whole chain of p_pptr links is
 * stable, so a reaper can be found by walking up.  Paths that take two
 * p_locks do so ancestor first: reparenting under gpi_reparent_lock, and
 * exit1's zombie step (parent, then child: p_pptr cannot change while the
 * parent's lock is held); every other path takes at most one p_lock, so
 * no cycle can form.  A process that wants its parent's lock reads
 * p_pptr, locks it, and rechecks p_pptr under that lock, retrying if it
 * changed (the seed's proc_reparent).
 *
 * Lifetime.  A process is on the pid table from spawn until reaped.  Its
 * struct is then reused at once by the next spawn on the same worker (a
 * cache-hot LIFO), and returned to malloc only after an RCU grace period
 * (pool trimming, shutdown): the memory is type-stable under RCU, as
 * Linux's SLAB_TYPESAFE_BY_RCU.  So a lock-free reader (pfind, gp_ps,
 * group scans) never touches freed memory, but may find a *different*
 * process in a struct it looked up: whoever acts on a process found by
 * pid locks it and rechecks p_pid (gpi_proc_lock_pid), or checks it under
 * the parent's lock, where a child's identity is stable.  The reaper
 * clears p_pid under p_lock, so a check under p_lock that passes is a
 * check on the process itself.  A reaper must not free it before its
 * last LWP is off its stack (l_jstate DEAD): gpi_proc_reap() waits for
 * that, as the seed's kern_wait waits in lwp_wait().
 */
#define GPI_SACTIVE	1	/* running */
#define GPI_SZOMB	2	/* exited, waiting to be reaped */

/* p_flags: (a), gpi_pflags*() below; mostly set under p_lock */
#define GPI_P_WEXIT	0x0001	/* exit1 started: no new LWPs or children */
#define GPI_P_EXEC	0x0002	/* gp_exec has run (setpgid: EACCES) */
#define GPI_P_REAPER	0x0004	/* adopts orphans of its descendants */
#define GPI_P_MOVED	0x0008	/* children were reparented away (exit1) */
#define GPI_P_AUTOREAP	0x0010	/* (P) nobody waits: the runtime reaps it
				 * (an orphan adopted by init) */
#define GPI_P_INEXEC	0x0020	/* killalllwps(forexec) in progress */
#define GPI_P_STOPPED	0x0040	/* stopped by a signal (p_xsig) */
#define GPI_P_TELLSTOP	0x0080	/* parent not yet told of the stop */
#define GPI_P_TELLCONT	0x0100	/* parent not yet told of the continue */

#define GPI_PS_NOCLDSTOP 0x0200	/* the seed's PS_NOCLDSTOP */
#define GPI_PS_NOCLDWAIT 0x0400	/* PS_NOCLDWAIT: SA_NOCLDWAIT, or SIGCHLD
				 * ignored (PS_CLDSIGIGN) */

/*
 * p_report bits: what a waiting parent can be told about this child.
 * The values are waitid's option bits for the same reports (WEXITED,
 * WSTOPPED, WCONTINUED; wait.c asserts it), so that kern_wait's mask of
 * wanted reports is its options masked, one and (three tests and
 * selects, which gcc recomputed after the wait's yield: 16 instructions).
 */
#define GPI_R_EXIT	0x4	/* WEXITED */
#define GPI_R_STOP	0x2	/* WSTOPPED (WUNTRACED), once per stop
				 * (P_WAITED) */
#define GPI_R_CONT	0x8	/* WCONTINUED, once per continue; never
				 * with GPI_R_STOP: the newer one wins */

/*
 * Resource usage kept in raw units; a struct rusage is built only for a
 * caller that asks (wait4), so exit and wait stay cheap.
 */
struct gpi_ru {
	unsigned long long ru_ticks;	/* run time, gpi_md_ticks */
	unsigned long	 ru_nvcsw;
	unsigned long	 ru_nivcsw;
};

/* A per-process atexit entry: atexit(3), __cxa_atexit(fn, NULL) or on_exit. */
#define GPI_AE_PLAIN	0	/* fn() */
#define GPI_AE_ARG	1	/* fn(arg) */
#define GPI_AE_ONEXIT	2	/* fn(status, arg) */
struct gpi_atexit {
	struct gpi_atexit *a_next;
	int		 a_kind;
	void		*a_fn;
	void		*a_arg;
};

/*
 * A real (kernel) child of a green process, or a task it ptraces: fork.c.
 * On h_rchildren (struct gpi_phost) under p_lock; written once before
 * it is linked.
 */
struct gpi_rchild {
	struct gpi_rchild *rc_next;
	pid_t		 rc_pid;
	int		 rc_pidfd;	/* The child's pidfd (rtfd.c); -1 for
					 * a tracee that is not a child,
					 * waited for by pid. */
	bool		 rc_clone;	/* A "clone child": the program's
					 * clone() gave it an exit signal
					 * other than SIGCHLD, so only
					 * __WCLONE and __WALL waits see it
					 * (whatever exit signal a green
					 * fork's clone3 gave it). */
};

struct gp_proc {
	/*
	 * Cold fields first and last: malloc packs structs back to back, so
	 * a struct's first and last cache lines are shared with its
	 * neighbours, whose locks may be hot on other workers.  Written at
	 * spawn and exit only, these keep false sharing off the fast paths
	 * (with two host-spawned parents per worker it cost 2 workers a
	 * fifth of their round-trip rate).
	 */
	char		 p_comm[16];	/* (p) Name for gp_ps (TASK_COMM_LEN). */
	union {
		struct {
			int	 (*p_entry)(void *); /* (c) First LWP's
					 * entry (gp_exec: the new one). */
			void	*p_arg;		/* (c) */
		};
		struct rcu_head p_rcu;	/* Retired (after reap): the
					 * deferred free. */
	};
	char		**p_argv;	/* (c) gp_spawn_main's copy, or NULL. */
	struct gpi_atexit *p_atexit;	/* (p, relaxed peeks) gp_atexit()
					 * list, LIFO.  Only the process's own
					 * LWPs add to it, so exit1 peeks at it
					 * unlocked and locks only to pop. */

	/*
	 * The type-stable header: what lock-free readers look at in a
	 * struct that may be reused under them (see Lifetime).  Written
	 * with atomic stores only; proc_alloc resets it field by field.
	 */
	gpi_spin_t	 p_lock;	/* Kept across reuse: a stale reader
					 * may hold it. */
	pid_t		 p_pid;		/* (c,a) From spawn to reap; 0 in a
					 * free struct.  Cleared under p_lock
					 * at reap: identity checks go under
					 * it (gpi_proc_lock_pid). */
	atomic_int	 p_flags;	/* (a) GPI_P_*: written with atomic RMWs
					 * (a parent sets AUTOREAP while the
					 * child sets its own bits), mostly
					 * under p_lock; read relaxed.  Every
					 * writer holds p_lock or (AUTOREAP)
					 * the parent's, but spawn's reset and
					 * exit1's MOVED after its WEXIT: a
					 * holder of both locks before WEXIT
					 * writes it plainly (exit1_quick,
					 * gpi_pflags_set_owned). */
	int		 p_stat;	/* (p,P,a) GPI_S*: both locks to write */
	pid_t		 p_pgid;	/* (p,a) Process group; 0 for init. */
	int		 p_nwaiters;	/* (p) Threads asleep, or going to
					 * sleep, on p_waitgen: counted under
					 * p_lock before they read it, so a
					 * waker that bumps it under p_lock
					 * and sees 0 need not wake anyone
					 * (gpi_waitgen_unlock_wakeup).  Not
					 * header: here, it fills a hole. */
	struct gp_proc	*p_pptr;	/* (P,a) Parent (init, or a reaper);
					 * NULL from the struct's reuse until
					 * link_child: readers check. */

	/*
	 * NOTE: a parent's side of wait and exit -- p_lock and p_flags
	 * above, p_nwaiters, p_rq_tail, p_waitgen and p_children -- is in
	 * two cache lines of a 64-byte aligned struct (gpi_proc0), not
	 * three: a host thread's spawn+exit+wait (issue 18) moves each of
	 * init's lines from the host to a worker and back.  p_lwps and
	 * p_stopgen gave them their places (runtime.c asserts them).
	 */
	struct gp_proc	*p_rq_tail;	/* (p) Children with a report: a
					 * circular doubly linked FIFO through
					 * their p_rqnext/p_rqprev, known by
					 * its tail (the head is
					 * p_rq_tail->p_rqnext): wait(-1) and
					 * taking any one out are O(1). */

	/* LWPs. */
	struct gpi_phost *p_host;	/* (p to install, a) What it holds of
					 * the host: owned descriptors, real
					 * children (struct gpi_phost); NULL
					 * until the first; kept across reuse. */
	struct gp_lwp	*p_zlwps;	/* (p) Exited joinable LWPs not yet
					 * freed: by join/detach, or all at
					 * once when the process is reaped. */
	atomic_int	 p_nthreads;	/* (p,a) Live LWPs: written under
					 * p_lock, read unlocked by killalllwps
					 * (which tsleeps on it) and by an
					 * LWP's exit peeking for "last". */
	atomic_int	 p_waitgen;	/* (p,a) Bumped under p_lock whenever
					 * a report is queued or a child goes;
					 * waiters tsleep against it. */

	/* Tree. */
	struct gp_proc	*p_children;	/* (p, relaxed peeks) Children,
					 * zombies included.  exit1 and the
					 * preload's init peek unlocked for
					 * "none" (exit1 says why it may). */
	struct gp_proc	*p_sibnext;	/* (P) Link in p_pptr->p_children. */
	struct gp_proc	*p_sibprev;	/* (P) */
	struct gp_lwp	*p_lwps;	/* (p) Live LWPs (here: see the NOTE). */
	struct gp_proc	*p_rqnext;	/* (P) Link in p_pptr's report queue. */
	struct gp_proc	*p_rqprev;	/* (P) */
	atomic_int	 p_stopgen;	/* (p,a) Stopped LWPs sleep on it. */

	/* Exit. */
	int		 p_xstat;	/* (p) Wait status once zombie. */
	/* Small fields together (struct size: RSS per process). */
	uint8_t		 p_report;	/* (P) GPI_R_* pending for the parent;
					 * nonzero iff on its report queue. */
	uint8_t		 p_killsig;	/* (p, relaxed reads) Signal that killed
					 * it: the last LWP exits with it. */
	uint8_t		 p_exitsig;	/* (P) Signal to the parent at exit. */
	uint8_t		 p_xsig;	/* (p, relaxed reads by the parent
					 * under its own lock) Stop signal
					 * while stopped. */
	int		 p_watchfd;	/* (p) gp_proc_watch eventfd, or -1. */

	/* Accounting (the seed's p_ru, p_cru). */
	struct gpi_ru	 p_ru;		/* (p) Own usage: switches of exited
					 * LWPs; at exit1 everything, reaped
					 * children's included (p_cru folded
					 * in, as the seed's ruadd).  But
					 * ru_ticks (a): its LWPs' run time in
					 * gpi_md_ticks, relaxed atomic adds
					 * by the workers that ran them. */
	struct gpi_ru	 p_cru;		/* (p) Reaped children's: no switch
					 * charges it, so ru_ticks too is
					 * plain, under p_lock (one locked
					 * RMW less a reap). */

	/* Green signals (signal.c). */
	uint64_t	 p_siglist;	/* (p,a) Pending, bit (sig - 1): relaxed
					 * RMWs under p_lock; read unlocked at
					 * cancellation points
					 * (gpi_sig_pending), which then lock
					 * to take one. */
	uint64_t	 p_sigignore;	/* (p, relaxed reads by a spawn)
					 * SIG_IGN; a child inherits it. */
	uint64_t	 p_sigcatch;	/* (p, relaxed reads by greenrun's
					 * forwarder) Caught: handler in
					 * p_sigacts. */
	struct gpi_sigq	*p_sigq;	/* (p) Queued instances of p_siglist's
					 * signals with their siginfo, oldest
					 * first (signal.c, "Queued
					 * signals"); empty again at reap. */
	struct gpi_sigacts *p_sigacts;	/* (p) Allocated at the first handler;
					 * kept across reuse, entries live only
					 * where p_sigcatch has the bit. */
};

/*
 * What a green process holds of the host: the descriptors it owns
 * (fd.c, fdfree) and the real children it forked or ptraces (fork.c).
 * Out of struct gp_proc, behind p_host, because few processes have
 * either and every process pays its struct: 16 bytes less a process
 * (280 -> 264, a 272-byte malloc chunk instead of 288: RSS per idle
 * process 4409 -> 4393 bytes, issue 18's 4.3 KiB).  Made at the first
 * need (gpi_proc_host), installed under p_lock with a release store, and
 * kept across reuse of the struct in its constructed state (no entries,
 * h_nfds 0, no children) until the struct goes back to malloc
 * (gpi_proc_host_destroy): lock-free readers -- gp_ps's count, exit1's
 * and wait's peeks -- never see it freed.
 */
struct fdent;
struct gpi_fdtab {
	gpi_spin_t	 ft_lock;
	unsigned	 ft_cap;	/* (ft_lock) slots, a power of 2; 0:
					 * none (constructed state) */
	struct fdent	*ft_ent;	/* (ft_lock) */
};
struct gpi_phost {
	struct gpi_fdtab h_fdtab;	/* Descriptors it owns (fd.c): only
					 * the process's own LWPs, or its
					 * spawner before the pid is published,
					 * add to it; exit1 empties it. */
	atomic_int	 h_nfds;	/* (ft_lock, a) Entries in h_fdtab:
					 * read relaxed by gp_ps and exit1. */
	struct gpi_rchild *h_rchildren;	/* (p, relaxed peeks) Real children
					 * (fork.c); exit1 and wait peek
					 * unlocked for "none", then lock. */
};
GPI_HIDDEN struct gpi_phost *gpi_proc_host(struct gp_proc *p);
GPI_HIDDEN void	gpi_proc_host_destroy(struct gp_proc *p);

/* (p)'s host struct if it has one (acquire: its constructed state). */
static inline struct gpi_phost *
gpi_phost(const struct gp_proc *p)
{
	return __atomic_load_n(&p->p_host, __ATOMIC_ACQUIRE);
}

/* A peek: does (p) hold real children?  Lock p_lock to be sure. */
static inline bool
gpi_has_rchildren(const struct gp_proc *p)
{
	struct gpi_phost *h = gpi_phost(p);

	return h != NULL &&
	    __atomic_load_n(&h->h_rchildren, __ATOMIC_RELAXED) != NULL;
}

/* A peek: does (p) own descriptors?  (exit1_quick: the long way if so.) */
static inline bool
gpi_has_fds(const struct gp_proc *p)
{
	struct gpi_phost *h = gpi_phost(p);

	return h != NULL &&
	    (atomic_load_explicit(&h->h_nfds, memory_order_relaxed) != 0 ||
	    __atomic_load_n(&h->h_fdtab.ft_ent, __ATOMIC_RELAXED) != NULL);
}

GPI_HIDDEN extern struct gp_proc gpi_proc0;

/*
 * p_pid read by a holder of any lock but p's own (its parent's, a group
 * walker's): a reap clears it under p_lock alone, so the read races with
 * that store and must be atomic.  Whoever holds the parent's lock and
 * sees the pid it looked for knows p is that child and not yet reaped.
 */
static inline pid_t
gpi_proc_pid(const struct gp_proc *p)
{
	return __atomic_load_n(&p->p_pid, __ATOMIC_RELAXED);
}

/*
 * p_flags, relaxed: a bit is a fact about the process, not a release of
 * data; whoever acts on one rechecks it under p_lock.
 */
static inline int
gpi_pflags(const struct gp_proc *p)
{
	return atomic_load_explicit(&p->p_flags, memory_order_relaxed);
}

static inline void
gpi_pflags_set(struct gp_proc *p, int bits)
{
	atomic_fetch_or_explicit(&p->p_flags, bits, memory_order_relaxed);
}

static inline void
gpi_pflags_clear(struct gp_proc *p, int bits)
{
	atomic_fetch_and_explicit(&p->p_flags, ~bits, memory_order_relaxed);
}

/*
 * gpi_pflags_set by a caller that holds both (p)'s p_lock and its
 * parent's, and finds no WEXIT (exit1_quick): every other writer of
 * p_flags holds one of the two (p's own bits under p_lock; AUTOREAP, set
 * by a parent's exit, under the parent's) but spawn, before p is
 * published, and exit1's MOVED, after a WEXIT that only one exit sets:
 * nothing can race the load and the store, and a locked RMW (about 4
 * ns here) buys nothing.
 */
static inline void
gpi_pflags_set_owned(struct gp_proc *p, struct gp_proc *pp, int bits)
{
	GPI_LOCK_ASSERT(&p->p_lock);
	GPI_LOCK_ASSERT(&pp->p_lock);
	atomic_store_explicit(&p->p_flags, atomic_load_explicit(&p->p_flags,
	    memory_order_relaxed) | bits, memory_order_relaxed);
}
GPI_HIDDEN extern gpi_spin_t gpi_reparent_lock;

/* pid.c: the pid table, RCU and the process limit. */
/* Lookup by pid; caller is inside gpi_rcu_read_lock().  Never blocks. */
GPI_HIDDEN struct gp_proc *gpi_pfind(pid_t pid);
/*
 * Lock (p), found by (pid) under RCU, if it still is that process: true
 * with p->p_lock held, false (unlocked) if it was reaped meanwhile.
 */
GPI_HIDDEN bool	gpi_proc_lock_pid(struct gp_proc *p, pid_t pid);
GPI_HIDDEN void	gpi_rcu_thread_online(void);
GPI_HIDDEN void	gpi_rcu_thread_offline(void);
/* dlopen liburcu-memb (once): 0, or ELIBACC with a line on stderr. */
GPI_HIDDEN int	gpi_rcu_load(void) GPI_MUSTCHECK;
GPI_HIDDEN void	gpi_rcu_call(struct rcu_head *head,
		    void (*fn)(struct rcu_head *));
GPI_HIDDEN void	gpi_rcu_barrier(void);
GPI_HIDDEN extern __thread int gpi_tls_rcu_registered
    __attribute__((tls_model("initial-exec")));
GPI_HIDDEN void	gpi_rcu_register_host(void);
#ifdef GPI_TSAN
/* TSan cannot see a grace period: released by readers, acquired by frees. */
GPI_HIDDEN extern char gpi_rcu_tsan_token;
#endif

/*
 * The read side, inline in every caller (spawn, exit, wait, kill): a
 * TLS check and liburcu's inline counter.  Nests; never switches.
 */
static inline void
gpi_rcu_read_lock(void)
{
	if (unlikely(!gpi_tls_rcu_registered))
		gpi_rcu_register_host();
	urcu_memb_read_lock();
}

static inline void
gpi_rcu_read_unlock(void)
{
#ifdef GPI_TSAN
	/* TSan cannot see a grace period: say it orders us before frees. */
	__tsan_release(&gpi_rcu_tsan_token);
#endif
	urcu_memb_read_unlock();
}
GPI_HIDDEN int	gpi_pid_init(int nworkers) GPI_MUSTCHECK;
/* Give (p) a pid and a slot, not yet visible to pfind: 0 or EAGAIN. */
GPI_HIDDEN int	gpi_pid_alloc(struct gp_worker *w, struct gp_proc *p)
		    GPI_MUSTCHECK;
/* Make (p) visible to gpi_pfind (release): the last step of a spawn. */
GPI_HIDDEN void	gpi_pid_publish(struct gp_proc *p);
/* Free p's slot (reap, or a spawn that failed after gpi_pid_alloc). */
GPI_HIDDEN void	gpi_pid_free(struct gp_worker *w, struct gp_proc *p);
GPI_HIDDEN void	gpi_pid_fini(void);
GPI_HIDDEN void	gpi_pid_forget(void);
/*
 * Table walks: slots [0, gpi_pidtab_end()) were ever used (-1: no
 * table).  gpi_pidtab_get(i): the process published there or NULL,
 * header fields only.  gpi_pidtab_lock(i): the same, locked, only if
 * still published and not reaped.  Under RCU.
 */
GPI_HIDDEN int	gpi_pidtab_end(void);
GPI_HIDDEN struct gp_proc *gpi_pidtab_get(int i);
GPI_HIDDEN struct gp_proc *gpi_pidtab_lock(int i);
/* The limit: count a spawn (false at the limit, EAGAIN) or a reap. */
GPI_HIDDEN bool	gpi_count_spawn(struct gp_worker *w) GPI_MUSTCHECK;
GPI_HIDDEN void	gpi_count_reap(struct gp_worker *w);
GPI_HIDDEN void	gpi_count_drain(struct gp_worker *w);
/* Live processes, exact (sums every worker's delta). */
GPI_HIDDEN long	gpi_nprocs(void);
#ifdef GREENPROC_DEBUG
/*
 * Tests: called by a worker's spawn in its fast path, between the store
 * of its count and the load that decides (pid.c), where a preemption
 * once let the limit be passed.
 */
extern GPI_HIDDEN void (*gpi_debug_limit_window)(void);
/* Tests: generations per pid slot (2 or more; 0: as many as fit). */
extern GPI_HIDDEN unsigned gpi_debug_pid_gens;
#endif
/* proc.c */
/*
 * Lock p's parent, rechecking p_pptr under it.  Returns the parent, or
 * NULL if p is a reaped struct being reused (only a stale p can be).
 */
GPI_HIDDEN struct gp_proc *gpi_lock_parent(struct gp_proc *p);
/* Free a reaped process: its LWPs, pid slot, and itself after RCU. */
GPI_HIDDEN void	gpi_proc_reap(struct gp_proc *p);
GPI_HIDDEN void	gpi_proc_fini(void);
/*
 * gpi_proc_fini() after a shutdown that gave up: free only the zombies
 * whose LWPs are all DEAD, leave every other process allocated, and
 * start init afresh.  Returns the bytes left allocated.
 */
GPI_HIDDEN size_t gpi_proc_abandon(void);
/* A spawn's master: runs (p)'s entry, then exits (gp_exit) with it. */
GPI_HIDDEN _Noreturn void gpi_proc_start(struct gp_lwp *l,
    struct gp_proc *p);
/* A master's l_fn, a marker (proc.c); the master runs gpi_proc_start. */
GPI_HIDDEN _Noreturn void *gpi_proc_main(void *arg);
/* What (l) runs, for a message: a process's entry for its first LWP. */
GPI_HIDDEN void	*gpi_lwp_entry(const struct gp_lwp *l);
GPI_HIDDEN void	gpi_proc_drain(struct gp_worker *w);
GPI_HIDDEN int	gpi_proc_init(int nworkers) GPI_MUSTCHECK;
/* Queue a report about child p on its parent pp; pp->p_lock held. */
GPI_HIDDEN void	gpi_report(struct gp_proc *pp, struct gp_proc *p, int what);
/*
 * Bump p_waitgen: only ever under p->p_lock, so a load and a store, not
 * a locked RMW.  A waiter that read the old value rechecks it under its
 * sleep-queue bucket lock, which the waker's gpi_wakeup then takes.
 */
static inline void
gpi_waitgen_bump(struct gp_proc *p)
{
	GPI_LOCK_ASSERT(&p->p_lock);
	atomic_store_explicit(&p->p_waitgen, atomic_load_explicit(
	    &p->p_waitgen, memory_order_relaxed) + 1, memory_order_release);
}

/*
 * Unlock (p) after a bump and wake its waiters, if any: with nobody
 * counted in p_nwaiters the sleep queue is not even looked at.
 */
static inline void
gpi_waitgen_unlock_wakeup(struct gp_proc *p)
{
	int n;

	GPI_LOCK_ASSERT(&p->p_lock);
	n = p->p_nwaiters;
	gpi_spin_unlock(&p->p_lock);
	if (n > 0)
		gpi_wakeup(&p->p_waitgen);
}
GPI_HIDDEN void	gpi_unreport(struct gp_proc *pp, struct gp_proc *p);

/* The first child on (pp)'s report queue, or NULL; pp->p_lock held. */
static inline struct gp_proc *
gpi_rq_head(const struct gp_proc *pp)
{
	GPI_LOCK_ASSERT(&pp->p_lock);
	return pp->p_rq_tail != NULL ? pp->p_rq_tail->p_rqnext : NULL;
}
/*
 * Consume (bits) of p's report; off the queue when nothing is left.
 * pp->p_lock held (gpi_unreport too).
 */
GPI_HIDDEN void	gpi_report_clear(struct gp_proc *pp, struct gp_proc *p,
    int bits);
GPI_HIDDEN void	gpi_proc_kill_all(void);
GPI_HIDDEN void	gpi_proc_kill(struct gp_proc *p, pid_t pid, int sig);
GPI_HIDDEN void	gpi_proc_kill_unlock(struct gp_proc *p, int sig);
GPI_HIDDEN void	gpi_count_exit(void);
GPI_HIDDEN void	gpi_proc_counters(struct gp_counters *st);

/* signal.c */
/* Post (sig) to (p), which was process (pid) when looked up. */
GPI_HIDDEN void	gpi_psignal(struct gp_proc *p, pid_t pid, int sig);
/*
 * Green-init mode's forwarder: gp_kill(pid, si->si_signo), the kernel's
 * siginfo (si) kept for the handler or sigwaitinfo that takes it.
 */
GPI_HIDDEN int	gpi_kill_info(pid_t pid, const siginfo_t *si);
/*
 * The same, given to (l) of that process as the kernel gives a process's
 * signal to the thread it chooses: caught, and not blocked by (l);
 * else posted to the process as gpi_kill_info does.
 */
GPI_HIDDEN int	gpi_kill_info_to(struct gp_lwp *l, pid_t pid,
    const siginfo_t *si);
/*
 * sigqueue(pid, sig, value) to a green process or the green-init one:
 * posted with SI_QUEUE and (value).  -1 with EAGAIN when the queue is
 * full (RLIMIT_SIGPENDING), ESRCH, EINVAL.
 */
GPI_HIDDEN int	gpi_sigqueue(pid_t pid, int sig, union sigval value);
/* pthread_sigqueue of green thread (l): 0 or an error number. */
GPI_HIDDEN int	gpi_lwp_sigqueue(struct gp_lwp *l, int sig, union sigval value);
/* (l) leaves p_lwps: its queued signals go.  Caller holds p_lock. */
GPI_HIDDEN void	gpi_sig_lwp_gone(struct gp_lwp *l);
/*
 * Queue (si) again to our own host process, to its thread (tid), or to
 * the process if tid is 0 (rt_tgsigqueueinfo, rt_sigqueueinfo).  The
 * kernel lets only the main thread queue a kill's or its own code
 * (SI_USER, SI_TKILL, SI_KERNEL...): that becomes SI_QUEUE, the rest of
 * the siginfo (sender's pid and uid, value) kept.
 */
GPI_HIDDEN void	gpi_sig_requeue(pid_t tid, siginfo_t *si);
GPI_HIDDEN int	gpi_lwp_signal(struct gp_lwp *l, int sig);
GPI_HIDDEN int	gpi_lwp_signal_tid(struct gp_proc *p, pid_t tid, int sig);
GPI_HIDDEN struct gp_lwp *gpi_lwp_tid_lock(struct gp_proc *p, pid_t tid,
    pid_t *pidp);
GPI_HIDDEN void	gpi_psignal_locked(struct gp_proc *p, int sig);
GPI_HIDDEN void	gpi_sig_tell(struct gp_proc *p);
GPI_HIDDEN bool	gpi_sig_ast(struct gp_lwp *l);
GPI_HIDDEN bool	gpi_sig_pending(struct gp_lwp *l);
/* Green sigwait, sigsuspend and sigpending (preload/signals.c). */
GPI_HIDDEN int	gpi_sig_wait(struct gp_lwp *l, const sigset_t *set,
    uint64_t deadline, siginfo_t *si);
GPI_HIDDEN void	gpi_sig_suspend(struct gp_lwp *l, const sigset_t *mask);
GPI_HIDDEN void	gpi_lwp_startmask(struct gp_lwp *l, const sigset_t *set);
GPI_HIDDEN void	gpi_sig_pendingset(struct gp_lwp *l, sigset_t *set);
GPI_HIDDEN void	gpi_sig_fork(struct gp_proc *pp, struct gp_lwp *parent,
    struct gp_proc *p, struct gp_lwp *l);
GPI_HIDDEN void	gpi_sig_exec(struct gp_proc *p);
/* Around a green exec: its pending blocked signals to the kernel, and back. */
GPI_HIDDEN uint64_t gpi_sig_exec_carry(struct gp_lwp *l);
GPI_HIDDEN void	gpi_sig_exec_failed(uint64_t set);
/* In a real child of (p) forked by (l): its green signal state, made real. */
GPI_HIDDEN bool	gpi_sig_kernel_follows(int sig);
GPI_HIDDEN void	gpi_sig_fork_real(struct gp_proc *p, struct gp_lwp *l,
    unsigned long shared);
GPI_HIDDEN void	gpi_sig_free(struct gp_proc *p);
GPI_HIDDEN void	gpi_sig_destroy(struct gp_proc *p);
GPI_HIDDEN size_t gpi_sig_held(void);
GPI_HIDDEN void	gpi_watch_exit(struct gp_proc *p);
/* pgrp.c: process groups and iteration, under RCU. */
#define GPI_PGRP_MEMBERS	0	/* count members, zombies included:
					 * a group exists until its last
					 * member is reaped (kern_wait's
					 * leavepgrp; Linux alike) */
#define GPI_PGRP_LINKED		1	/* count members linking the group
					 * to the session (parent in another
					 * group, not init) */
#define GPI_PGRP_STOPPED	2	/* count stopped members */
GPI_HIDDEN int	gpi_pgrp_scan(pid_t pgid, int what);
GPI_HIDDEN void	gpi_proc_foreach(pid_t pgid, struct gp_proc *self,
    bool zombies, void (*fn)(struct gp_proc *, pid_t, void *), void *arg);
GPI_HIDDEN void	gpi_proc_kill_locked(struct gp_proc *p);
/* wait.c */
GPI_HIDDEN void	gpi_unlink_child(struct gp_proc *q, struct gp_proc *p);
GPI_HIDDEN void	gpi_wait_event(uint64_t deadline);
/* runtime.c: set by the preload; gp_exit then flushes stdio (exit(3)). */
GPI_HIDDEN extern int gpi_preloaded;

/*
 * host.c: the host's libc functions of the names the preload interposes.
 * NOTE: runtime code never calls a name of preload/preload.map: in the
 * preload that name is the interposer, green on an LWP.  It calls
 * GPI_LIBC(name)(args) instead -- glibc's function (libgreenproc: what a
 * plain call would bind to; the preload: the definition after its own)
 * -- or makes the system call.  `make check-layering` enforces it; a
 * name the runtime needs is added to GPI_LIBC_NAMES.  __typeof__ does
 * not evaluate its operand: naming the function there makes no reference.
 */
#define GPI_LIBC_NAMES(X)						\
	X(exit) X(_exit) X(sigaction) X(nanosleep)			\
	X(pthread_create) X(pthread_join) X(pthread_timedjoin_np)	\
	X(pthread_detach) X(pthread_self) X(pthread_getattr_np)	\
	X(pthread_sigmask) X(pthread_once) X(pthread_key_create)	\
	X(pthread_setspecific) X(epoll_wait) X(epoll_pwait2)		\
	X(epoll_pwait) X(read) X(write) X(readv) X(writev) X(recvmsg)	\
	X(sendmsg) X(recvfrom) X(sendto) X(recvmmsg) X(sendmmsg)	\
	X(accept4) X(connect) X(poll) X(ppoll) X(select) X(pselect)	\
	X(sendfile) X(splice) X(close) X(dup2) X(dup3)			\
	X(pthread_setname_np) X(fprintf) X(vfprintf) X(fputc) X(fflush)	\
	X(clock_gettime)						\
	/* preload/fds.c: descriptors a green process owns */		\
	X(dup) X(fcntl) X(fcntl64) X(creat) X(creat64) X(socket)	\
	X(socketpair) X(pipe) X(pipe2) X(eventfd) X(epoll_create)	\
	X(epoll_create1) X(signalfd) X(timerfd_create) X(memfd_create)	\
	X(inotify_init) X(inotify_init1) X(fopen) X(fopen64) X(freopen)	\
	X(freopen64) X(fclose) X(opendir) X(closedir) X(tmpfile)	\
	X(tmpfile64) X(mkstemp) X(mkostemp) X(open)	\
	X(pthread_kill) X(openat) X(pread) X(pwrite) X(preadv)	\
	X(pwritev) X(fsync) X(fdatasync) X(flock) X(getaddrinfo)	\
	X(getnameinfo)	\
	/* preload/fds.c: changes runtime/fdinfo.c must see */	\
	X(ioctl) X(setsockopt)						\
	/* preload/sync.c: futex waits of syscall(SYS_futex) */		\
	X(syscall)							\
	/* preload/signals.c: green signal waits, alternate stacks */	\
	X(sigtimedwait) X(sigaltstack)					\
	/* preload/loader.c: ld.so's lock around the program's code */	\
	X(dlclose) X(dl_iterate_phdr)					\
	/* preload/tls.c: thread_local destructors */			\
	X(__cxa_thread_atexit_impl)
/* glibc's, declared in no header: what libstdc++ calls for thread_local. */
extern int __cxa_thread_atexit_impl(void (*)(void *), void *, void *);
enum {
#define GPI_X(name)	GPI_LIBC_##name,
	GPI_LIBC_NAMES(GPI_X)
#undef GPI_X
	GPI_LIBC_N
};
GPI_HIDDEN extern void *gpi_libc_fns[GPI_LIBC_N];	/* (a) see host.c */
GPI_HIDDEN void	*gpi_libc_lookup(const char *name);
/* gpi_libc_lookup, or exit(127) saying which name is missing. */
GPI_HIDDEN void	*gpi_libc_find(const char *name);
GPI_HIDDEN void	*gpi_libc_resolve(int i);
/* Resolve them all: gp_init, before handlers and fork children need one. */
GPI_HIDDEN void	gpi_libc_init(void);

static inline void *
gpi_libc_fn(int i)
{
	void *f = __atomic_load_n(&gpi_libc_fns[i], __ATOMIC_RELAXED);

	return likely(f != NULL) ? f : gpi_libc_resolve(i);
}
#define GPI_LIBC(name)	((__typeof__(&name))gpi_libc_fn(GPI_LIBC_##name))
/*
 * The runtime's sigtimedwait (iocall.c clears the kernel's SIGPIPE of a
 * worker with it) is the kernel's, never the preload's green one, which
 * takes green signals (preload/signals.c #undefs this for its own).
 */
#define sigtimedwait(set, info, ts)	GPI_LIBC(sigtimedwait)(set, info, ts)
/* The real function if already resolved, else NULL (hot paths). */
#define GPI_LIBC_PEEK(name)						\
	((__typeof__(&name))__atomic_load_n(&gpi_libc_fns[GPI_LIBC_##name], \
	    __ATOMIC_RELAXED))

/* The host process's pid: under the preload, getpid() is a green one. */
static inline pid_t
gpi_host_pid(void)
{
	return (pid_t)GPI_LIBC(syscall)(SYS_getpid);
}

/*
 * NOTE: the runtime's messages (panics, the fault handler, dumps) go
 * through glibc's stdio, never the preload's (preload/stdio.c), which
 * may park an LWP: a fault handler or a holder of a runtime lock must
 * not.  The four names runtime code uses are renamed here rather than at
 * every call; a file that defines them (stdio.c) #undefs them.
 */
#define fprintf(...)	GPI_LIBC(fprintf)(__VA_ARGS__)
#define vfprintf(...)	GPI_LIBC(vfprintf)(__VA_ARGS__)
#define fputc(...)	GPI_LIBC(fputc)(__VA_ARGS__)
#define fflush(...)	GPI_LIBC(fflush)(__VA_ARGS__)

/*
 * host.c: read(2) and write(2) themselves, as system calls: the preload
 * makes read and write green on an LWP, and the runtime's own uses (the
 * fault handler, the dump pipe, a process's watch descriptor) must
 * neither park nor resolve a name inside a signal handler.
 */
GPI_HIDDEN ssize_t gpi_sys_read(int fd, void *buf, size_t n);
GPI_HIDDEN ssize_t gpi_sys_write(int fd, const void *buf, size_t n);
/*
 * A small text file (a /proc one) into (buf) of (len) bytes, NUL-ended,
 * by system calls: its length; 0 if nothing could be read; -1 with errno
 * if it could not be opened.  The open takes the program's lowest free
 * number for a moment (rtfd.c).
 */
GPI_HIDDEN ssize_t gpi_read_text(const char *path, char *buf, size_t len);
/* wait.c: the pid a pidfd names (its fdinfo), or -EBADF, -ECHILD (gone). */
GPI_HIDDEN pid_t gpi_pidfd_pid(int fd);

/* spin.c: sched_yield(2) itself (the preload makes sched_yield green). */
GPI_HIDDEN void	gpi_os_yield(void);
/*
 * A thread that spins for another thread (an idle worker for work, a host
 * sleeper for its waker) gives its CPU away with gpi_os_yield() once it
 * has spun this long: the thread it waits for may be runnable on the same
 * CPU (one CPU, or a busy machine), and pure spinning would hold it off
 * for the whole spin (a host spawn+wait on one CPU: 38 us spinning, 9.5
 * us yielding).  Where that thread runs on another CPU, sched_yield
 * returns at once and the spin goes on.
 */
#define GPI_SPIN_YIELD_NS	2000
#define GPI_NLOCALDEV		4	/* w_localdev's size */
GPI_HIDDEN _Noreturn void gpi_host_abort(void);
GPI_HIDDEN _Noreturn void gpi_host_raise_default(int sig);

/* fork.c */
GPI_HIDDEN pid_t gpi_fork(void);
/* An atfork child handler: glibc's fork on a green thread, child side. */
GPI_HIDDEN void	gpi_fork_child_glibc(void);
GPI_HIDDEN void	gpi_clone_child(struct gp_proc *p, struct gp_lwp *l,
    unsigned long flags);
GPI_HIDDEN void	gpi_rchild_add(struct gp_proc *p, struct gpi_rchild *rc,
    pid_t pid, int pidfd, bool clone_child);
GPI_HIDDEN pid_t gpi_rchild_reap(struct gp_proc *p, pid_t pid, int options,
    int *statusp, struct rusage *ru, siginfo_t *info);
GPI_HIDDEN void	gpi_rchild_trace(struct gp_proc *p, pid_t pid);
GPI_HIDDEN void	gpi_rchild_untrace(struct gp_proc *p, pid_t pid);
/* The kernel reported a real child's change (SIGCHLD): wake (pid)'s waits. */
GPI_HIDDEN void	gpi_rchild_changed(pid_t pid);
GPI_HIDDEN void	gpi_rchild_orphan(struct gp_proc *p);
GPI_HIDDEN void	gpi_rchild_reap_orphans(void);
/* No orphaned real child waits for the runtime (a racy peek). */
GPI_HIDDEN bool	gpi_rchild_no_orphans(void);
GPI_HIDDEN void	gpi_exit_forget(void);
/* In a forked child: forget the parent's runtime (fork.c). */
GPI_HIDDEN void	gpi_sched_forget(void);
GPI_HIDDEN void	gpi_proc_forget(void);
GPI_HIDDEN void	gpi_stack_forget(void);
GPI_HIDDEN void	gpi_synch_forget(void);

/* unwind.c: backtrace of a suspended LWP (see there). */
GPI_HIDDEN int	gpi_unwind_lwp(const struct gp_lwp *l, FILE *out,
    const char *indent);
/* The same in two steps: take under the caller's pin, show after it. */
struct gpi_unwind;
GPI_HIDDEN struct gpi_unwind *gpi_unwind_new(void);
GPI_HIDDEN void	gpi_unwind_free(struct gpi_unwind *u);
GPI_HIDDEN void	gpi_unwind_take(struct gpi_unwind *u, const struct gp_lwp *l);
GPI_HIDDEN int	gpi_unwind_show(struct gpi_unwind *u, FILE *out,
    const char *indent, bool last);
/*
 * Backtrace of (l), a dead LWP whose stack is intact but will never run
 * again, from explicit registers: regs[] = { rip, rsp, rbp, rbx, r12, r13,
 * r14, r15 } as saved by the fault handler.  The stack is read from rsp
 * up to the top of l's stack (l->l_stklo + l->l_stksize, where the struct
 * gp_lwp sits).  Same output format and safety rules as gpi_unwind_lwp
 * (process_vm_readv for reads outside the copy, frame cap, room check).
 * Returns 0, or -1 with a line saying why.
 */
GPI_HIDDEN int	gpi_unwind_regs(const struct gp_lwp *l, const uint64_t regs[8],
    FILE *out, const char *indent);

/*
 * unwsym.c: names and lines of code addresses, from libdw when it is
 * installed (x86-64 builds only).  Not async-signal-safe.
 */
#define GPI_SYM_NAMELEN	232		/* longest name shown, with its NUL */
/* The generation of the loaded objects: dl_iterate_phdr's adds, subs. */
GPI_HIDDEN void	gpi_sym_dlgen(unsigned long long gen[2]);
/*
 * The function around (pc), objects being of generation (gen), static
 * and hidden ones included: its name in buf and pc's offset in *offp.
 * 0, or -1: none (or no libdw).  Takes dw.lock.
 */
GPI_HIDDEN int	gpi_sym_name(uintptr_t pc, const unsigned long long gen[2],
    char *buf, size_t len, uint64_t *offp);
/* " (file:line)" of code address (pc) into buf, or "".  Takes dw.lock. */
GPI_HIDDEN void	gpi_sym_fileline(uintptr_t pc, const unsigned long long gen[2],
    char *buf, size_t len);

/* debug.c */
GPI_HIDDEN void	gpi_dump_init(void);
GPI_HIDDEN void	gpi_dump_fini(void);

/*
 * preempt.c: green-init mode's preemption of a program thread that holds
 * its worker (see there).  gpi_preempt_want before gp_init; gp_init
 * installs (gpi_preempt_init, before the workers exist: their mask then
 * leaves the signal open, gpi_preempt_delset); the watchdog kicks.
 */
GPI_HIDDEN void	gpi_preempt_want(void);
GPI_HIDDEN void	gpi_preempt_forward_to(pid_t tid);
GPI_HIDDEN int	gpi_preempt_init(void);
GPI_HIDDEN void	gpi_preempt_fini(void);
GPI_HIDDEN void	gpi_preempt_delset(sigset_t *set);
GPI_HIDDEN bool	gpi_preempt_on(void);
GPI_HIDDEN void	gpi_preempt_kick(struct gp_worker *w, unsigned long stamp);
GPI_HIDDEN void	gpi_preempt_counts(unsigned long *preempted,
    unsigned long *kicked);

/* fault.c */
GPI_HIDDEN void	gpi_fault_init(void);
GPI_HIDDEN void	gpi_fault_fini(void);
GPI_HIDDEN void	*gpi_fault_thread_init(void);
#define GPI_ALTSTACK_SIZE	(64 * 1024)	/* a worker's w_altstack */
GPI_HIDDEN void	gpi_fault_thread_fini(void *altstack);
/* Take the signals fault.c takes out of (set): what a worker leaves open. */
GPI_HIDDEN void	gpi_fault_delset(sigset_t *set);
/*
 * sigaction for the signals fault.c takes (SIGSEGV, SIGBUS, SIGILL, SIGFPE,
 * SIGTRAP, SIGABRT) from the preload: chained behind ours.
 */
GPI_HIDDEN int	gpi_fault_sigaction(int sig, const struct sigaction *act,
    struct sigaction *oact);
GPI_HIDDEN bool	gpi_fault_installed(void);
GPI_HIDDEN void	gpi_fault_mask(int how, const sigset_t *set);

/* exit.c */
GPI_HIDDEN int	gpi_atexit_add(int kind, void *fn, void *arg);
/* exit1 of the calling process, whose running LWP (cur) is. */
GPI_HIDDEN _Noreturn void gpi_exit1(struct gp_lwp *cur, int status);
/* gp_exit(status) on the running LWP (l), which is not a host thread. */
GPI_HIDDEN _Noreturn void gpi_exit_lwp(struct gp_lwp *l, int status);
/* The last LWP of a green process leaves: gp_exit(0) or exit1. */
GPI_HIDDEN _Noreturn void gpi_proc_lastlwp(struct gp_lwp *l);
/*
 * Green-init mode (preload/init.c): the pid of the green process that is
 * the host program, 0 if none.  Written once, by that process's first
 * LWP before it runs main; read relaxed (a reader is an LWP of that
 * process, which wrote it, or compares it with another pid).
 */
GPI_HIDDEN extern pid_t gpi_hostproc_pid;

/*
 * Always inline: two loads and a compare, which gcc (LTO partitions of
 * the static library) had made a call in gpi_exit_lwp's fast path.
 */
static inline __attribute__((__always_inline__)) bool
gpi_is_hostproc(const struct gp_proc *p)
{
	pid_t h = __atomic_load_n(&gpi_hostproc_pid, __ATOMIC_RELAXED);

	return h != 0 && __atomic_load_n(&p->p_pid, __ATOMIC_RELAXED) == h;
}

/*
 * The l_tid of that process's first LWP, which runs main (0 if none):
 * written with gpi_hostproc_pid, read relaxed.
 */
GPI_HIDDEN extern int gpi_hostproc_ltid;

/*
 * A green thread's own id, for gettid() under the preload (preload/
 * thread.c).  Its worker's kernel id is shared with every LWP queued
 * there, so each LWP answers one of its own: the program's main thread
 * under greenrun the host's pid, as the kernel numbers a main thread;
 * any other LWP an id from l_tid at or above GPI_GREEN_TID_BASE, which
 * is Linux's PID_MAX_LIMIT (no kernel task has such an id, so a kernel
 * call given one fails with ESRCH rather than reaching another task),
 * and below the green pids.  Unique among live LWPs as l_tid is, but
 * for two whose l_tids differ by a multiple of GPI_GREEN_TID_SPAN.
 */
#define GPI_GREEN_TID_BASE	(1 << 22)
#define GPI_GREEN_TID_SPAN	(GP_PID_BASE - GPI_GREEN_TID_BASE)
/* l_nice holds a nice value (-20..19) plus this: 0 is "never set". */
#define GPI_NICE_SET		64

/* Is (l) the LWP whose id is the host pid (greenrun's main)? */
static inline bool
gpi_lwp_is_hostmain(const struct gp_lwp *l)
{
	return l->l_tid == __atomic_load_n(&gpi_hostproc_ltid,
	    __ATOMIC_RELAXED) &&
	    gpi_is_hostproc(__atomic_load_n(&l->l_proc, __ATOMIC_RELAXED));
}

/* (l)'s id if it is not greenrun's main: no system call. */
static inline pid_t
gpi_lwp_green_tid(const struct gp_lwp *l)
{
	return GPI_GREEN_TID_BASE + (pid_t)((unsigned)l->l_tid %
	    GPI_GREEN_TID_SPAN);
}

static inline pid_t
gpi_lwp_gettid(const struct gp_lwp *l)
{
	return gpi_lwp_is_hostmain(l) ? gpi_host_pid() : gpi_lwp_green_tid(l);
}

/* rusage.c */
GPI_HIDDEN void	gpi_ticks_to_timeval(unsigned long long ticks,
    struct timeval *tv);
GPI_HIDDEN uint64_t gpi_ticks_to_ns(unsigned long long ticks);
/*
 * (l)'s run time in gpi_md_ticks (gpi_lwp_clock), its current slice
 * included if it is running.  From any thread; the caller keeps (l)
 * from being freed, or (l) is its own LWP.
 */
GPI_HIDDEN unsigned long long gpi_lwp_runticks(const struct gp_lwp *l);
/* ruadd(cru, ru2) into a p_cru, whose p_lock the caller holds. */
GPI_HIDDEN void	gpi_ruadd_cru(struct gpi_ru *cru, const struct gpi_ru *ru2);
GPI_HIDDEN void	gpi_ru_to_rusage(const struct gpi_ru *ru, struct rusage *out);
GPI_HIDDEN void	gpi_rusage_init(void);

/* ---------------------------------------------------------------- sched.c */

struct gpi_lwpq {
	struct gp_lwp	*q_head;
	struct gp_lwp	*q_tail;
};

/*
 * A worker: one kernel thread running LWPs.  Started LWPs stay on their
 * worker for good; only LIDL LWPs move (work stealing from w_newq).
 */
struct gp_worker {
	int		 w_id;		/* (c) */
	pthread_t	 w_thread;	/* (c) */
	struct gp_ctx	 w_ctx;		/* (o) The scheduler loop's context,
					 * on the worker's own stack. */
	struct gp_lwp	*w_curlwp;	/* (o) Running LWP; NULL in the loop. */
	atomic_int	 w_fence;	/* (a) GPI_FENCE_*: UP until gp_shutdown
					 * stores STOP; then the worker's CAS
					 * STOP -> LEAVE at a fence point and
					 * gp_shutdown's CAS STOP -> ABANDON
					 * decide, once, which of them goes on
					 * (gpi_fence).  Next to w_curlwp: read
					 * at every switch. */
	struct gp_lwp	*w_runnext;	/* (o) A child created here: runs next,
					 * never stolen. */
	struct gpi_lwpq	 w_runq;	/* (o) LRUN LWPs, FIFO. */
	struct gp_lwp	*w_althandler;	/* (o) The LWP that entered a
					 * program's fault handler on this
					 * worker's altstack (fault.c), or
					 * NULL; may stay set after the
					 * handler longjmps out (see
					 * gpi_lwp_yield). */
	_Atomic(struct gp_lwp *) w_inbox; /* (a) LWPs made runnable by other
					 * threads: a LIFO stack pushed with a
					 * release CAS, taken whole with an
					 * acquire exchange. */
	gpi_spin_t	 w_newq_lock;
	struct gpi_lwpq	 w_newq;	/* (n) LIDL LWPs; stealable. */
	atomic_int	 w_newq_len;	/* (a) Hint for thieves, relaxed. */
	atomic_long	 w_nplaced;	/* (a) LWPs host threads placed here or
					 * thieves took here, minus those taken
					 * away: with w_ncreated - w_nexited,
					 * the LWPs bound here (placement). */
	atomic_long	 w_nroots;	/* (a) Of those, the ones a host thread
					 * placed (l_root), here or where a
					 * thief took them from, that have not
					 * exited: least_loaded's tie-break. */
	atomic_int	 w_parked;	/* (a) Futex word: 1 while parked or
					 * about to park.  seq_cst store then
					 * recheck, against the waker's push,
					 * seq_cst fence, load ([W1]/[W2]). */
	atomic_int	 w_idle;	/* (o,a) 1 while in idle() (spinning or
					 * parked): a host spawn hands its LWP
					 * to such a worker's inbox, not to the
					 * locked w_newq (gpi_sched_new_slow).
					 * Relaxed: a stale 1 costs a child the
					 * wait until that worker's next pick. */
	/*
	 * NOTE: the line above (w_inbox to w_idle) is the one other threads
	 * write.  Everything after it is the owner's: w_dead, written at
	 * every LWP's death and read at every switch, once shared that line
	 * and took it back from a host thread's spawn on every round trip.
	 */
	struct gp_lwp	*w_dead		/* (o) LZOMB LWPs still on their stack
					 * until the next switch completes. */
	    __attribute__((aligned(64)));
	struct gp_lwp	*w_stkcache;	/* (o) Free default-size stacks. */
	int		 w_nstkcache;	/* (o) */
	struct gp_lwp	**w_timers;	/* (o) Min-heap on l_deadline. */
	int		 w_ntimers;	/* (o) */
	int		 w_timercap;	/* (o) */
	unsigned	 w_tick;	/* (o) Slow scheduler passes (pick_slow):
					 * every pick while timers or engine
					 * waits are pending. */
	int		 w_fairness;	/* (o) Picks until the next one that goes
					 * the slow way unasked: w_newq's turn
					 * (every NEWQ_FAIRNESS), or while
					 * timers are armed a timer check (at
					 * most TIMER_CHECK away: sched.c,
					 * countdown_arm). */
	int		 w_fairrest;	/* (o) Picks of w_newq's count left
					 * after the timer check that cut
					 * w_fairness short. */
	int		 w_newq_turns;	/* (o) Picks that still take w_newq
					 * first: as long as w_newq was when
					 * the watchdog asked this worker to
					 * yield (pick_slow). */
	unsigned	 w_tidgen;	/* (o) LWP ids made here. */
	unsigned long long w_switchtick;/* (o) gpi_md_ticks when the running
					 * process last changed. */
	void		*w_altstack;	/* (o) sigaltstack for faults. */
	int		*w_errnop;	/* (c) This thread's errno. */
	void		**w_cxa;	/* (c) This thread's C++ eh globals,
					 * or NULL without libstdc++. */
	struct gp_lwp	*w_tlsowner;	/* (o) The LWP whose values the
					 * switched TLS blocks of this thread
					 * hold, or NULL (tls.c). */
	size_t		 w_tlsgen;	/* (o) 1 + this thread's DTV
					 * generation when w_tlsmods was
					 * found, 0 before (tls.c). */
	uint32_t	 w_tlsmods;	/* (o) Dynamic TLS ranges switched
					 * here: modules this thread's DTV
					 * knows (bit = range, tls.c). */
	uint64_t	 w_fault_regs[8];/* (o) A stack overflow's registers
					 * (gpi_md_fault_regs), from its
					 * handler to its proxy (fault.c). */
	struct gp_lwp	*w_fault_lwp;	/* (o) Whose they are; NULL once the
					 * proxy took them. */
	int		 w_fault_sig;	/* (o) The fault, for proxy_fatal. */
	struct gp_proc	*w_proccache;	/* (o) Free process structs. */
	int		 w_pidfree;	/* (o) Free pid slots, FIFO (pid.c). */
	int		 w_pidtail;	/* (o) */
	int		 w_npidfree;	/* (o) */
	int		 w_nproccache;	/* (o) */
	atomic_int	 w_pdelta;	/* (o,a) Spawns minus reaps here, not
					 * yet folded into nprocs (pid.c);
					 * owner stores, anyone reads. */
	bool		 w_exited;	/* (g) The thread has been joined. */
	bool		 w_abandoned;	/* (g) Stuck in user code at shutdown:
					 * w_fence is ABANDON, and this struct
					 * is never freed. */
	/*
	 * I/O engine (io.c).  w_io is the backend's state (iouring.c or
	 * ioepoll.c), made before the thread starts and freed after it is
	 * joined; between, only this worker touches it.  w_iowaits counts
	 * this worker's waits armed and not yet completed or cancelled:
	 * while it is 0 the scheduler never looks at the engine except to
	 * idle in it.
	 */
	void		*w_io;		/* (o) */
	/*
	 * The watchdog (watchdog.c).  w_queued: were LWPs ready behind the
	 * one now running, as of its pick (the owner's relaxed store at
	 * every pick; the watchdog reads it): nonzero if so, being the head
	 * of w_runq then, which nobody dereferences (storing the pointer is
	 * one instruction, a bool made of it was four).  w_curtid: that
	 * LWP's l_tid.
	 */
	atomic_uintptr_t w_queued;	/* (o,a) */
	atomic_uint	 w_curtid;	/* (o,a) */
	atomic_int	 w_resched;	/* (a, relaxed) set by the watchdog when
					 * the worker has not switched for
					 * RESCHED_NS: the running LWP yields
					 * at its next signal point
					 * (gpi_sigpoint_l), and the pick
					 * clears it and fires due timers */
	atomic_int	 w_stuck;	/* (a) the watchdog found it held by
					 * one LWP for more than STUCK_NS with
					 * others waiting: no new LWP is placed
					 * here until it switches again */
	atomic_int	 w_active;	/* (a) its thread runs or is being
					 * started: every worker from gp_init,
					 * a spare once the watchdog starts
					 * it; release store after its engine
					 * is made, before its thread */
	bool		 w_spare;	/* (c) started by the watchdog only */
	pid_t		 w_tid;		/* (a) kernel thread id, for /proc */
	atomic_int	 w_statfd;	/* (a) its /proc/thread-self/stat, for
					 * the watchdog (rtfd.c's NOTE), made
					 * by the worker as it starts, which
					 * its starter awaits (GPI_STATFD_
					 * PENDING until then; -1 if none);
					 * closed once it is joined */
	int		 w_iowaits;	/* (o) */
	int		 w_fileslow;	/* (o) small file writes made here in
					 * a row that were slow (iofile.c) */
	struct {
		dev_t	 d_dev;
		unsigned char d_kind;	/* iofile.c's enum fs_kind */
	}		 w_localdev[GPI_NLOCALDEV]; /* (o) devices of local
					 * filesystems that opens here found
					 * (iofile.c) */
	unsigned	 w_nlocaldev;	/* (o) how many, wrapping */
	int		 w_wakefd;	/* (c) eventfd: host threads (and, on
					 * epoll, workers) wake this worker
					 * from its engine wait with a write. */
	/* Counters: written by this worker only, read by gp_stats(). */
	atomic_ulong	 w_nswitch;
	atomic_ulong	 w_nsteal;
	atomic_ulong	 w_ncreated;
	atomic_ulong	 w_nexited;	/* LWPs reaped off their stack */
	atomic_ulong	 w_nreaped;	/* LWPs freed (stack and struct) */
	atomic_long	 w_nstacks;	/* stacks handed out minus returned */
	atomic_ulong	 w_nspawned_p;	/* processes spawned here */
	atomic_ulong	 w_nexited_p;	/* processes that ran exit1 here */
	atomic_ulong	 w_nreaped_p;	/* processes reaped here */
#ifdef GPI_ASAN
	const void	*w_stack_lo;
	size_t		 w_stack_size;
#endif
#ifdef GPI_TSAN
	void		*w_tsan_fiber;
#endif
} __attribute__((aligned(64)));

/* The runtime: workers and global state.  See runtime.c. */
struct gpi_runtime {
	gpi_spin_t	 rt_lock;	/* Serializes gp_init/gp_shutdown and
					 * gp_stats.  A spinlock, not a pthread
					 * mutex: under the preload those are
					 * green (sync.c) in green context. */
	atomic_int	 rt_state;	/* (a) RT_DOWN/RT_UP/RT_STOPPING;
					 * acquire/release. */
	int		 rt_nworkers;	/* (g) */
	struct gp_worker *rt_workers;	/* (g) */
	atomic_int	 rt_halt;	/* (a) Workers leave their loops. */
	void		*(*rt_cxa_globals)(void); /* (g) or NULL */
	/*
	 * NOTE: the fields are grouped into cache lines by who writes them
	 * (issue 18, the host-thread round trip): the line above is read by
	 * every thread and written almost never; the next one by idle
	 * workers (twice an idle spell: spinning in, spinning out); the one
	 * after it by host threads (every create and reap); the last one
	 * rarely.  In one line, every host spawn and every idle spell of a
	 * worker took the line from the other side.
	 */
	atomic_int	 rt_nparked	/* (a) Workers parked; seq_cst. */
	    __attribute__((aligned(64)));
	atomic_int	 rt_nspinning;	/* (a) Workers spinning for work. */
	atomic_uint	 rt_rr		/* (a) Round robin for host creates. */
	    __attribute__((aligned(64)));
	atomic_int	 rt_tidgen;	/* (a) LWP ids. */
	/* Counters for work done by host threads. */
	atomic_ulong	 rt_ncreated;	/* (a) */
	atomic_ulong	 rt_nreaped;	/* (a) */
	atomic_long	 rt_nstacks;	/* (a) */
	/* Left behind by shutdowns that gave up; never reset (gp_stats). */
	long		 rt_nabandoned	/* (g) Workers abandoned. */
	    __attribute__((aligned(64)));
	/*
	 * The watchdog (watchdog.c).  rt_workers has rt_nspares spare
	 * workers at its end (counted in rt_nworkers, inactive until the
	 * watchdog starts them).  rt_wd_word: the watchdog's futex word, 1
	 * while it sleeps with every worker parked (a worker that unparks
	 * wakes it; seq_cst against rt_nparked), 2 to make it leave.
	 */
	int		 rt_nspares;	/* (g) */
	sigset_t	 rt_workmask;	/* (g) Every worker's signal mask:
					 * gp_init's caller's, plus every
					 * asynchronous signal (sched.c). */
	pthread_t	 rt_wd_thread;	/* (g) */
	bool		 rt_wd_running;	/* (g) */
	atomic_int	 rt_wd_word;	/* (a) */
	atomic_ulong	 rt_nstuck;	/* (a) times a worker was found stuck */
	atomic_long	 rt_nspares_started; /* (a) */
	unsigned long	 rt_leaked;	/* (g) Bytes left for them. */
};

enum { GPI_RT_DOWN, GPI_RT_UP, GPI_RT_STOPPING };
GPI_HIDDEN extern struct gpi_runtime gpi_rt;

/*
 * A stack with its LWP struct at the top, or NULL with errno EAGAIN
 * (limits) or ENOMEM.  (size): 0 for the default.  (w) is the calling
 * worker or NULL for a host thread.  Never blocks (it may take stk_lock
 * briefly).  Inline for the common case, a default-size stack from the
 * calling worker's cache: every cached stack has the default size, which
 * cannot change once a slab is carved (gpi_stack_set_default).  Not
 * under ASan, which unpoisons a reused stack (stack.c), nor when failure
 * injection is armed, which makes every stack a mapping of its own.
 */
/*
 * A stack of (size) bytes (0: the default) with (guard) bytes of guard
 * below it, a whole number of pages (0: none): a mapping of its own.
 */
GPI_HIDDEN struct gp_lwp *gpi_stack_alloc_guarded(struct gp_worker *w,
    size_t size, size_t guard);
/* The page size, which guards are made of. */
GPI_HIDDEN size_t gpi_stack_page(void);

static inline struct gp_lwp *
gpi_stack_alloc(struct gp_worker *w, size_t size)
{
#ifndef GPI_ASAN
	struct gp_lwp *l;

	if (likely(size == 0 && w != NULL && (l = w->w_stkcache) != NULL &&
	    !GPI_FAILPT_ARMED())) {
		w->w_stkcache = l->l_next;
		w->w_nstkcache--;
		GPI_BUMP(w->w_nstacks, 1);
		return l;
	}
#endif
	return gpi_stack_alloc_slow(w, size);
}

/*
 * Return (l)'s stack (and so the LWP struct).  Nobody may be running on
 * it.  (w) as for gpi_stack_alloc.  Never blocks.  Inline for the common
 * case, a slab stack into the calling worker's cache (stack.c does the
 * rest).
 */
static inline void
gpi_stack_free(struct gp_worker *w, struct gp_lwp *l)
{
	if (likely(w != NULL && l->l_slab &&
	    w->w_nstkcache < GPI_WORKER_CACHE)) {
		GPI_BUMP(w->w_nstacks, -1);
		l->l_next = w->w_stkcache;
		w->w_stkcache = l;
		w->w_nstkcache++;
		return;
	}
	gpi_stack_free_slow(w, l);
}

GPI_HIDDEN void	gpi_lwp_free_extras(struct gp_lwp *l);
/*
 * Free a DEAD LWP.  (w) is the calling worker, NULL on a host thread.
 * Always inline: gpi_lwp_join's copy (on every create+join) and the
 * reap's (gpi_proc_reap, on every spawn round trip: its master) make no
 * call for it; everyone else calls gpi_lwp_free (lwp.c).
 */
static inline __attribute__((__always_inline__)) void
gpi_lwp_free_inline(struct gp_worker *w, struct gp_lwp *l)
{
	l->l_magic = 0;
	/*
	 * The common case is an LWP that had none of these (a free LWP's
	 * constructed state, gpi_lwp_create): one test of the five words.
	 */
	if (unlikely(((uintptr_t)atomic_load_explicit(&l->l_handle,
	    memory_order_relaxed) | (uintptr_t)l->l_specific |
	    (uintptr_t)l->l_tls | (uintptr_t)l->l_tlsdtors |
	    (uintptr_t)l->l_ustack) != 0))
		gpi_lwp_free_extras(l);
#ifdef GPI_TSAN
	__tsan_destroy_fiber(l->l_tsan_fiber);
#endif
	if (w != NULL)
		GPI_BUMP(w->w_nreaped, 1);
	else
		atomic_fetch_add(&gpi_rt.rt_nreaped, 1);
	gpi_stack_free(w, l);
}

/*
 * The worker this thread is, NULL on a host thread.  Inline: a started
 * LWP never migrates, so a thread-local read never changes under it.
 */
GPI_HIDDEN extern __thread struct gp_worker *gpi_tls_worker
    __attribute__((tls_model("initial-exec")));

static inline struct gp_worker *
gpi_curworker(void)
{
	return gpi_tls_worker;
}

/* The LWP running on this thread, NULL on a host thread. */
static inline struct gp_lwp *
gpi_curlwp(void)
{
	struct gp_worker *w = gpi_tls_worker;

	return w != NULL ? w->w_curlwp : NULL;
}

/*
 * Around a call that runs the program's code with ld.so's recursive lock
 * held (dl_iterate_phdr's callbacks, dlclose's destructors): the running
 * LWP, if any, is not preempted inside, since another LWP of its worker
 * would then take that lock as if it held it.  Nests.  The handler runs
 * on the same thread, so a signal fence orders the count.
 */
static inline struct gp_lwp *
gpi_nopreempt_enter(void)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l != NULL) {
		l->l_nopreempt++;
		atomic_signal_fence(memory_order_seq_cst);
	}
	return l;
}

static inline void
gpi_nopreempt_leave(struct gp_lwp *l)
{
	if (l != NULL) {
		atomic_signal_fence(memory_order_seq_cst);
		l->l_nopreempt--;
	}
}

/*
 * A signal point for the running LWP (l): not a cancellation point (a
 * pthread_cancel stays pending), but its pending signals are delivered
 * and a kill of its process ends it.  Called by interposers a thread may
 * loop on without ever blocking (the mutex calls): natively a signal
 * interrupts such a loop at once, green ones are delivered only where
 * the thread enters the runtime.  It is also where the watchdog's
 * w_resched takes a worker back from an LWP that has held it for a
 * slice (it yields).  Two relaxed loads when there is nothing.
 */
static inline bool
gpi_sigpoint_due(struct gp_lwp *l)
{
	return unlikely((atomic_load_explicit(&l->l_flags,
	    memory_order_relaxed) & (GPI_LWP_WEXIT | GPI_LWP_AST)) |
	    atomic_load_explicit(&l->l_worker->w_resched,
	    memory_order_relaxed));
}

static inline void
gpi_sigpoint_l(struct gp_lwp *l)
{
	if (gpi_sigpoint_due(l))
		gpi_sigpoint_slow(l);
}

/*
 * A yield point: (l) gives its worker back if the watchdog asked (it has
 * held it for a slice), and does nothing else -- no handler runs and no
 * kill acts here.  At the return of gp_spawn, gp_lwp_create and the
 * preload's pthread_create: a parent that spawns in a loop lets its
 * children run, yet code that holds a lock across a spawn is never
 * killed inside it (a signal point there left the soak's lock held by a
 * dead process).
 */
static inline void
gpi_resched_point(struct gp_lwp *l)
{
	if (unlikely(atomic_load_explicit(&l->l_worker->w_resched,
	    memory_order_relaxed)))
		gpi_lwp_yield(l);
}

/* gpi_sigpoint_l() for the caller, if it is an LWP. */
static inline void
gpi_sigpoint(void)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l != NULL)
		gpi_sigpoint_l(l);
}

/*
 * The LWP that may park in a green I/O call on this thread, or NULL: a
 * host thread, or an LWP inside the runtime holding one of its locks
 * (libdw opens and reads its debug files under dw.lock while gp_dump
 * runs on an LWP): those make the plain call, since an LWP never parks
 * holding a lock.
 */
static inline struct gp_lwp *
gpi_io_lwp(void)
{
	struct gp_lwp *l = gpi_curlwp();

	return l != NULL && likely(gpi_tls_nlocks == 0) ? l : NULL;
}

/*
 * gpi_sigpoint_l() on the way out of a green I/O call that did not park
 * (a read of /dev/zero, of a cached file, a write to /dev/null or to a
 * pipe with room), keeping the call's errno.  The kernel delivers pending
 * signals on every return from a system call; without this a program
 * looping on such calls never ran a handler (dd's SIGUSR1 statistics)
 * nor gave its worker back when the watchdog asked.  Nothing for a host
 * thread or an LWP holding a runtime lock (gpi_io_lwp).
 */
static inline void
gpi_sigpoint_io(void)
{
	struct gp_lwp *l = gpi_io_lwp();
	int error;

	if (l != NULL && gpi_sigpoint_due(l)) {
		error = errno;
		gpi_sigpoint_slow(l);
		errno = error;
	}
}

/* The process of the calling LWP; init on a host thread. */
static inline struct gp_proc *
gpi_curproc(void)
{
	struct gp_lwp *l = gpi_curlwp();

	return l != NULL ? l->l_proc : &gpi_proc0;
}
/*
 * Fence points: where an LWP comes back from user code into the runtime
 * in a way that matters after a shutdown that gave up (every switch,
 * every cancellation point with work, every exit).  A worker whose LWP
 * was stuck in user code when gp_shutdown gave up on it is ABANDON: its
 * LWPs, their stacks and processes and the worker itself are left
 * allocated, and a later runtime shares nothing with it.  At its next
 * fence point it parks for good, so it never touches that later runtime.
 * While the runtime is up this is one relaxed load of a hot line.
 */
#define GPI_FENCE_UP		0	/* running normally */
#define GPI_FENCE_STOP		1	/* gp_shutdown began: not decided */
#define GPI_FENCE_LEAVE		2	/* passed a fence since: going on */
#define GPI_FENCE_ABANDON	3	/* given up: parks at the next fence */
GPI_HIDDEN void	gpi_fence_slow(struct gp_worker *w);
static inline __attribute__((__always_inline__)) void
gpi_fence(struct gp_worker *w)
{
	/*
	 * Relaxed: STOP is stored ~GREENPROC_EXIT_TIMEOUT_MS before any
	 * ABANDON, and the decision itself is the slow path's CAS.
	 */
	if (unlikely(atomic_load_explicit(&w->w_fence, memory_order_relaxed)
	    != GPI_FENCE_UP))
		gpi_fence_slow(w);
}
/* gpi_fence() for the calling thread, if it is a worker. */
static inline __attribute__((__always_inline__)) void
gpi_fence_cur(void)
{
	if (gpi_tls_worker != NULL)
		gpi_fence(gpi_tls_worker);
}

GPI_HIDDEN int	gpi_runtime_ensure(void) GPI_MUSTCHECK;
/* LWPs created and not yet off their stacks (init's included). */
GPI_HIDDEN long	gpi_lwps_alive(void);
/* GREENPROC_EXIT_TIMEOUT_MS, in ns. */
GPI_HIDDEN uint64_t gpi_exit_timeout_ns(void);

/* env.c: the GREENPROC_* variables (one row each in env.c's table). */
enum gpi_env_id {
	GPI_ENV_WORKERS,		/* 0: one per online CPU */
	GPI_ENV_STACK_SIZE,		/* 0: the caller's default */
	GPI_ENV_EXIT_TIMEOUT_MS,
	GPI_ENV_MAX_PROCS,
	GPI_ENV_DUMP_SIGNAL,		/* 0: none */
	GPI_ENV_DUMP_FILE,		/* a path: read with getenv */
	GPI_ENV_NO_FAULT_HANDLER,
	GPI_ENV_IO,			/* GPI_IO_*: 0 the best that works */
	GPI_ENV_IO_THREADS,		/* the helper pool's size (iopool.c) */
	GPI_ENV_GUARD,			/* enum gpi_guard (stack.c) */
	GPI_ENV_PREEMPT,		/* greenrun: 0 never preempts */
	GPI_ENV_THREAD_CLOCK,		/* preload: 0 no per-LWP run time */
	GPI_ENV_FILE_INLINE_US,		/* iofile.c: 0 never on the worker */
	GPI_ENV_NVARS
};
#define GPI_EXIT_TIMEOUT_MS	2000
#define GPI_MAXPROCS_DEFAULT	(1 << 21)	/* 2M: the 1M-process bench fits */
/*
 * The variable's value if it is set and valid, else its default; a bad
 * value is named on stderr (once per process).  Keeps errno.
 */
GPI_HIDDEN long	gpi_env(enum gpi_env_id id);
/* Say on stderr (once per process) that the variable's value failed. */
GPI_HIDDEN void	gpi_env_bad(enum gpi_env_id id, const char *why);
/* ---------------------------------------------------------------- io.c */

/*
 * A wait for readiness (or, on io_uring, one operation) armed by an LWP
 * on its own worker's engine.  It lives on the waiting LWP's stack; the
 * LWP does not return from gpi_io_wait() until the engine has given the
 * wait back (completed, or cancelled and the cancellation collected), so
 * the kernel never writes into a stack that has moved on.  Everything
 * here is (o): armed, completed and cancelled on the owner worker only.
 * Several waits may share one wait channel and done word (gp_poll on
 * many descriptors): the first completion wakes the sleeper.
 */
struct gpi_iowait {
	int		 iw_fd;
	short		 iw_events;	/* POLLIN, POLLOUT... */
	bool		 iw_armed;	/* (o) in the engine, not given back */
	bool		 iw_ended;	/* (o) completed (iw_res is its result),
					 * not cancelled */
	int		 iw_res;	/* (o) revents, or -errno, or the
					 * operation's result */
	atomic_int	*iw_done;	/* (o) set to 1 (then iw_chan woken)
					 * when any wait of the group ends */
	const void	*iw_chan;	/* (c) the group's wait channel: the
					 * LWP's own l_sleeper (private) */
	struct gp_lwp	*iw_lwp;	/* (c) who sleeps on it */
	struct gpi_iowait *iw_next;	/* (o) epoll: the fd's waiters */
	struct gpi_iowait *iw_prev;	/* (o) */
	int		 iw_op;		/* GPI_IOOP_*: what is armed */
	void		*iw_addr;	/* accept/connect: the sockaddr */
	socklen_t	*iw_addrlen;	/* accept */
	socklen_t	 iw_len;	/* connect */
	int		 iw_flags;	/* accept4; openat, readv/writev
					 * (RWF_*); fsync: nonzero datasync */
	int		 iw_mode;	/* openat */
	off_t		 iw_off;	/* readv/writev: -1 the file position */
	unsigned	 iw_etver;	/* epoll, GPI_IOOP_POLL: nonzero if the
					 * caller just found (fd) not ready and
					 * fdinfo.c knows it (its version + 1):
					 * a standing edge-triggered
					 * registration may serve (ioepoll.c) */
};
#define GPI_IOOP_POLL		0	/* both engines */
#define GPI_IOOP_ACCEPT		1	/* io_uring only */
#define GPI_IOOP_CONNECT	2	/* io_uring only */
/*
 * io_uring only, the operations without readiness (iofile.c): iw_addr is
 * the path (OPENAT) or the iovec array (READV/WRITEV, iw_len entries).
 * The kernel runs them in its io-wq threads when they would block.
 */
#define GPI_IOOP_OPENAT		3
#define GPI_IOOP_READV		4
#define GPI_IOOP_WRITEV		5
#define GPI_IOOP_FSYNC		6
/*
 * io_uring only: recv(2) into iw_addr, iw_len bytes, flags iw_flags, on
 * a socket that would block (iocall.c): one completion brings the data,
 * where a poll would need a recv after it.
 */
#define GPI_IOOP_RECV		7
/*
 * io_uring only: send(2) of iw_addr, iw_len bytes, flags iw_flags
 * (MSG_NOSIGNAL), on a socket whose send buffer is full: the kernel
 * sends when there is room; the completion says how much went.
 */
#define GPI_IOOP_SEND		8

enum gpi_ioengine { GPI_IO_NONE, GPI_IO_URING, GPI_IO_EPOLL };
/* How stack guard pages are made (GREENPROC_GUARD, stack.c). */
enum gpi_guard { GPI_GUARD_AUTO, GPI_GUARD_MADVISE, GPI_GUARD_MPROTECT };
extern GPI_HIDDEN enum gpi_ioengine gpi_ioengine;	/* (c) after gp_init */

/* Make and free a worker's engine (gpi_sched_start/stop). */
GPI_HIDDEN int	gpi_io_worker_init(struct gp_worker *w) GPI_MUSTCHECK;
GPI_HIDDEN void	gpi_io_worker_fini(struct gp_worker *w);
/* Choose the engine for this runtime (GREENPROC_IO, then what works). */
GPI_HIDDEN void	gpi_io_choose(void);
/*
 * Arm the group of waits (n of them) on the running LWP's worker and
 * sleep until one ends, the deadline, or an interruption; every wait is
 * given back before this returns.  Returns 0 when one ended (those with
 * iw_ended have their result in iw_res), else ETIMEDOUT or EINTR.
 */
GPI_HIDDEN int	gpi_io_wait(struct gpi_iowait *iw, int n, uint64_t deadline,
    int flags);
/*
 * poll(2) with a zero timeout, made on a worker to see what is ready
 * now: retried on EINTR.  The only signals a worker's thread takes are
 * the runtime's own (preemption's SIGURG, one from outside on its way to
 * the forwarder; the program's are blocked there and made green), and a
 * poll that finds nothing ready fails with EINTR when a handler ran
 * during it, with SA_RESTART or not: that is no interruption of the
 * program's (gr_spin urgpoll).
 */
GPI_HIDDEN int	gpi_poll_now(struct pollfd *fds, nfds_t n);
/* The scheduler's hooks: collect what completed (no sleep). */
GPI_HIDDEN void	gpi_io_poll(struct gp_worker *w, bool idle);
/* Idle in the engine until an event, a wake or (deadline) (0: none). */
GPI_HIDDEN void	gpi_io_idle(struct gp_worker *w, uint64_t deadline);
/* Wake (w) from gpi_io_idle; any thread.  [W2]: work is published. */
GPI_HIDDEN void	gpi_io_wake(struct gp_worker *w);
/* A wait ended: record (res) and wake its sleeper.  Engines call it. */
GPI_HIDDEN void	gpi_io_done(struct gpi_iowait *iw, int res);
/* iocall.c, for preload/stdio.c: park until (fd) may be ready. */
GPI_HIDDEN int	gpi_stdio_fdwait(int fd, short events);

/*
 * iopool.c: the helper pool, for calls that have no readiness and no
 * io_uring operation (getaddrinfo, flock, F_SETLKW; every such call on
 * the epoll engine).  gpi_pool_call(fn, arg, flags) runs fn(arg) on a
 * helper pthread while the calling LWP sleeps, and returns fn's value
 * with fn's errno; on a host thread it is fn(arg) itself.  The pool is
 * started on first use.  Without GPI_POOL_INTR nothing interrupts the
 * wait, not even a kill (the helper writes into the caller's memory):
 * the caller's signals and death come after it returns.  With
 * GPI_POOL_INTR a green signal or a kill interrupts the helper's call
 * with a real signal (fn sees EINTR, as a native flock(2) would); the
 * caller still waits for fn to return, and then decides (restart...).
 */
#define GPI_POOL_INTR	0x1
/*
 * GPI_POOL_WAIT: a wait that ends when another party acts (a process-
 * shared barrier), not interrupted: like a lock wait it is not counted
 * against the limit, which waits that outnumber it would deadlock.
 * Without GPI_POOL_INTR or GPI_POOL_WAIT, fails with EAGAIN (and with
 * one, ENOLCK) when no helper could be started.
 */
#define GPI_POOL_WAIT	0x2
GPI_HIDDEN long	gpi_pool_call(long (*fn)(void *), void *arg, int flags);
/*
 * gpi_pool_call(GPI_POOL_INTR) of a call a caught signal interrupts:
 * handlers (and a cancel) after EINTR, then restarted if (restart) and
 * every handler had SA_RESTART, else EINTR.  fn returns -1 with errno.
 */
GPI_HIDDEN long	gpi_pool_call_intr(long (*fn)(void *), void *arg,
    bool restart);
/* fork.c: in a forked child the helpers are gone. */
GPI_HIDDEN void	gpi_pool_forget(void);
/*
 * iofile.c: read/write without readiness (a regular file, a block device,
 * a terminal past its readiness) on an LWP, through the ring or the pool;
 * never interrupted.  (off) -1 is the file position.  For iocall.c.
 */
/*
 * A file with no readiness (mode st_mode): regular, a block device, a
 * directory (whose read is EISDIR at once).  Its calls go to iofile.c.
 */
static inline bool
gpi_plain_mode(unsigned mode)
{
	return S_ISREG(mode) || S_ISBLK(mode) || S_ISDIR(mode);
}
/*
 * iofile.c: (fd), a plain file, said EOPNOTSUPP to a RWF_NOWAIT write
 * (out) or read: keep that in fdinfo.c, with its O_NONBLOCK, whether its
 * small writes may be made on the worker (GPI_FDI_INLINEW) and whether
 * it is a file of procfs or sysfs (GPI_FDI_PSEUDO).  Returns the bits.
 */
GPI_HIDDEN unsigned gpi_file_refused(int fd, bool out);
extern GPI_HIDDEN uint64_t gpi_file_inline_ns;	/* (c) set by gp_init */
GPI_HIDDEN ssize_t gpi_file_rw(bool out, int fd, const struct iovec *iov,
    int cnt, off_t off);

/*
 * fd.c: an LWP parked on a descriptor, registered so that a close or
 * dup2 over the number leaves it the open file it started on (a private
 * duplicate, whose number gpi_fdpark_fd then gives).  On the LWP's
 * stack; (b) under its bucket's lock.
 */
struct gpi_fdpark {
	int		 fp_orig;	/* (c) the number it registered under */
	atomic_int	 fp_fd;		/* (b, a) the number to use now */
	struct fdshare	*fp_share;	/* (b) the duplicate, once given */
	struct gpi_fdpark *fp_next;	/* (b) its number's list (or, with
					 * no fp_head, its bucket's) */
	struct gpi_fdpark *fp_prev;	/* (b) */
	struct gpi_fdpark *_Atomic *fp_head; /* (c) its number's list head
					 * in fd.c's chunks; NULL: on the
					 * bucket's list */
};
GPI_HIDDEN void	gpi_fdpark_enter(struct gpi_fdpark *fp, int fd);
GPI_HIDDEN void	gpi_fdpark_leave(struct gpi_fdpark *fp);
GPI_HIDDEN int	gpi_fdpark_fd(struct gpi_fdpark *fp);
/*
 * fdinfo.c: what iocall.c learned about a socket or a plain file when a
 * call on it first would block, per number, under the preload only.  gpi_fdinfo_get: the
 * GPI_FDI_* bits, 0 if nothing is known.  A learner takes a ticket
 * (gpi_fdinfo_begin; 0: nothing is cached here) before its system
 * calls and stores with it (gpi_fdinfo_put), which does nothing if the
 * number was forgotten since.  gpi_fdinfo_forget(fd): the number
 * names another file (after a close or dup2 over it, before a new
 * descriptor is handed out);
 * gpi_fdinfo_flush(): a description's O_NONBLOCK or socket timeout may
 * have changed, through any number (after the call).
 */
#define GPI_FDI_SOCK	0x01	/* a socket (the entry is valid) */
#define GPI_FDI_STREAM	0x02	/* SOCK_STREAM */
#define GPI_FDI_NONBLOCK 0x04	/* O_NONBLOCK */
#define GPI_FDI_RCV0	0x08	/* SO_RCVTIMEO is zero */
#define GPI_FDI_SND0	0x10	/* SO_SNDTIMEO is zero */
#define GPI_FDI_TCP	0x20	/* IPPROTO_TCP: a short read empties it */
#define GPI_FDI_PLAIN	0x40	/* a file with no readiness (the entry is
				 * valid): regular, block device, directory */
#define GPI_FDI_NOWAITW	0x80	/* PLAIN, and its writes say EOPNOTSUPP to
				 * RWF_NOWAIT (ext4's buffered writes) */
#define GPI_FDI_INLINEW	0x100	/* NOWAITW, and a regular file on a local
				 * filesystem: its small writes may be
				 * made on the worker (iofile.c) */
#define GPI_FDI_PSEUDO	0x200	/* PLAIN, and a regular file of procfs,
				 * sysfs or cgroupfs, which no disk is
				 * behind: its reads and writes are the
				 * plain calls, on the worker (iofile.c) */
GPI_HIDDEN unsigned gpi_fdinfo_get(int fd);
/*
 * A table kept per descriptor number (fdinfo.c's entries, fd.c's park
 * lists): chunks of (1 << shift) elements of (size) bytes, made zeroed
 * at the first need (calloc, installed by compare-and-swap, never freed)
 * in (tab), an array of (nchunks).  The element of (fd), or NULL: fd
 * past the table, or its chunk not made and (make) false, or no memory.
 */
GPI_HIDDEN void	*gpi_fdtable_slot(_Atomic(void *) *tab, unsigned nchunks,
		    unsigned shift, size_t size, int fd, bool make);
/* The same, and in *ver the entry's version + 1 (never 0) when known. */
GPI_HIDDEN unsigned gpi_fdinfo_getv(int fd, unsigned *ver);
GPI_HIDDEN uint64_t gpi_fdinfo_begin(int fd);
GPI_HIDDEN void	gpi_fdinfo_put(int fd, uint64_t ticket, unsigned bits);
GPI_HIDDEN void	gpi_fdinfo_forget(int fd);
GPI_HIDDEN void	gpi_fdinfo_flush(void);
/*
 * fd.c, fdfree: the descriptors a green process owns.  The interposers
 * (preload/fds.c) and the gp_ calls that make a descriptor call
 * gpi_fd_opened(fd) after the call succeeded; those that end one call
 * gpi_fd_closing(fd) before the call (so that a number reused at once
 * by another LWP of the process is recorded after we forgot it).  Both
 * return at once on a host thread, in init and for 0-2.
 */
GPI_HIDDEN void	gpi_fd_opened(int fd);
/* gpi_fd_opened with fstat's answer for (fd) in hand (NULL: ask). */
GPI_HIDDEN void	gpi_fd_opened_stat(int fd, const struct stat *st);
GPI_HIDDEN void	gpi_fd_closing(int fd);
/*
 * rtfd.c: the runtime's own descriptors live at the top of the program's
 * range, marked, where the program's close and dup2 cannot reach them.
 * gpi_rtfd_keep(fd) moves a descriptor just made there and returns its
 * number (fd itself if it cannot move and is above 2; -1 with errno, fd
 * closed, if it cannot and is not); gpi_rtfd_dup(fd) makes a duplicate
 * there (close-on-exec) or returns -1; gpi_rtfd_close(fd) unmarks and
 * closes one; gpi_rtfd_forget() closes them all in a forked child.
 * gpi_rtfd_is(fd): is (fd) one of them?  One compare for the program's
 * numbers.  gpi_rtfd_close_range: close_range(2) skipping them.
 */
GPI_HIDDEN int	gpi_rtfd_keep(int fd);
GPI_HIDDEN int	gpi_rtfd_dup(int fd);
GPI_HIDDEN int	gpi_rtfd_close(int fd);
GPI_HIDDEN void	gpi_rtfd_forget(void);
GPI_HIDDEN int	gpi_rtfd_close_range(unsigned first, unsigned last, int flags);
#define GPI_RTFD_ROOM	256	/* numbers the map can mark */
#define GPI_STATFD_PENDING (-2)	/* w_statfd: the worker has not started */
GPI_HIDDEN extern int gpi_rtfd_floor_;
GPI_HIDDEN extern _Atomic uint64_t gpi_rtfd_map_[];

static inline bool
gpi_rtfd_is(int fd)
{
	unsigned i = (unsigned)(fd - __atomic_load_n(&gpi_rtfd_floor_,
	    __ATOMIC_RELAXED));

	/* Before the first keep the floor is 0 and the map empty. */
	return i < GPI_RTFD_ROOM && (atomic_load_explicit(&gpi_rtfd_map_[i / 64],
	    memory_order_relaxed) >> (i % 64) & 1);
}
/* exit1: close what (p), now down to its master LWP, still owns. */
GPI_HIDDEN void	gpi_fdfree(struct gp_proc *p);
/* gp_exec: close (p)'s FD_CLOEXEC descriptors (the other LWPs are gone). */
GPI_HIDDEN void	gpi_fd_exec(struct gp_proc *p);
/*
 * spawn: the descriptors of (attr) for child (p), not yet published:
 * gpi_fd_spawn_prepare builds its table (EBADF, ENOMEM: the spawn fails,
 * nothing changed); gpi_fd_spawn_commit takes them out of the spawner's
 * (pp) table once the spawn can no longer fail; gpi_fd_spawn_abort
 * frees the child's table if it does.
 */
GPI_HIDDEN int	gpi_fd_spawn_prepare(struct gp_proc *p, const gp_attr_t *attr);
GPI_HIDDEN void	gpi_fd_spawn_commit(struct gp_proc *pp, const gp_attr_t *attr);
GPI_HIDDEN void	gpi_fd_spawn_abort(struct gp_proc *p);

/*
 * iocall.c: a write on the running LWP failed with EPIPE where the
 * kernel's SIGPIPE went to the worker thread: take it back and post the
 * green one to the writer's process (delivered before this returns,
 * unless blocked).  For writers other than iocall.c's (preload stdio).
 */
GPI_HIDDEN void	gpi_io_epipe(void);

/* iouring.c and ioepoll.c: the two engines, same shape. */
GPI_HIDDEN int	gpi_uring_init(struct gp_worker *w) GPI_MUSTCHECK;
GPI_HIDDEN void	gpi_uring_own_wake(struct gp_worker *w);
GPI_HIDDEN void	gpi_uring_fini(struct gp_worker *w);
GPI_HIDDEN int	gpi_uring_arm(struct gp_worker *w, struct gpi_iowait *iw);
GPI_HIDDEN void	gpi_uring_cancel(struct gp_worker *w, struct gpi_iowait *iw);
GPI_HIDDEN void	gpi_uring_poll(struct gp_worker *w, bool idle);
GPI_HIDDEN void	gpi_uring_idle(struct gp_worker *w, uint64_t deadline);
GPI_HIDDEN bool	gpi_uring_wake(struct gp_worker *w);
GPI_HIDDEN int	gpi_epoll_init(struct gp_worker *w) GPI_MUSTCHECK;
GPI_HIDDEN void	gpi_epoll_fini(struct gp_worker *w);
GPI_HIDDEN int	gpi_epoll_arm(struct gp_worker *w, struct gpi_iowait *iw);
GPI_HIDDEN void	gpi_epoll_cancel(struct gp_worker *w, struct gpi_iowait *iw);
GPI_HIDDEN void	gpi_epoll_poll(struct gp_worker *w, bool idle);
GPI_HIDDEN void	gpi_epoll_idle(struct gp_worker *w, uint64_t deadline);
/*
 * On the calling worker's epoll engine, for a TCP socket fdinfo.c
 * knows at version (ver) (gpi_fdinfo_getv): gpi_epoll_drained says
 * whether a read by this worker's LWPs found it empty and no readiness
 * has arrived since (the next read may park without trying);
 * gpi_epoll_set_drained records that a read just emptied it.
 */
GPI_HIDDEN bool	gpi_epoll_drained(int fd, unsigned ver);
GPI_HIDDEN void	gpi_epoll_set_drained(int fd, unsigned ver);

/* watchdog.c */
GPI_HIDDEN void	gpi_watchdog_kick_slow(void);
#define GPI_SPARES	2		/* spare workers the watchdog may start */
GPI_HIDDEN int	gpi_watchdog_start(void) GPI_MUSTCHECK;
GPI_HIDDEN void	gpi_watchdog_stop(void);
/* A worker leaves its engine wait: wake an idle watchdog.  Cheap. */
static inline void
gpi_watchdog_kick(void)
{
	if (atomic_load_explicit(&gpi_rt.rt_wd_word,
	    memory_order_relaxed) == 1)
		gpi_watchdog_kick_slow();
}
/* gp_dump: a line for each worker the watchdog found stuck. */
GPI_HIDDEN void	gpi_watchdog_dump(FILE *out);
/* Start spare (w): engine, thread.  Watchdog thread only. */
GPI_HIDDEN int	gpi_sched_start_spare(struct gp_worker *w) GPI_MUSTCHECK;
GPI_HIDDEN int	gpi_sched_start(int nworkers) GPI_MUSTCHECK;
GPI_HIDDEN int	gpi_sched_stop(uint64_t deadline);
GPI_HIDDEN void	gpi_sched_new_slow(struct gp_lwp *l);
/*
 * Make a new (LIDL) LWP runnable; a child of the running LWP runs next
 * (w_runnext).  Inline when that slot is free; else sched.c.  (w): the
 * calling worker if it runs an LWP, else NULL (a caller that knows it
 * saves reading it again).
 */
static inline void
gpi_sched_new_on(struct gp_worker *w, struct gp_lwp *l)
{
	if (likely(w != NULL && w->w_runnext == NULL)) {
		l->l_worker = w;
		w->w_runnext = l;
		return;
	}
	gpi_sched_new_slow(l);
}
static inline void
gpi_sched_new(struct gp_lwp *l)
{
	struct gp_worker *w = gpi_tls_worker;

	gpi_sched_new_on(w != NULL && w->w_curlwp != NULL ? w : NULL, l);
}
/* A new thread of the program: to the least loaded worker (sched.c). */
GPI_HIDDEN void	gpi_sched_spread(struct gp_lwp *l);
/* Make a sleeping LWP runnable on its own worker.  Never blocks. */
GPI_HIDDEN void	gpi_setrunnable(struct gp_lwp *l);
/*
 * Give up the CPU: the caller has already put itself where it belongs
 * (runq, a sleep queue, the dead list).  Returns when it runs again;
 * never returns for an LZOMB caller.  Caller holds no lock.
 */
GPI_HIDDEN void	gpi_mi_switch(struct gp_lwp *cur);
/*
 * The last switch of (cur), which is LZOMB and will never run again
 * (its stack may be freed as soon as the next context runs): nothing
 * of it is saved.  (w) is its worker, which the caller has at hand.
 * Caller holds no lock.
 */
GPI_HIDDEN _Noreturn void gpi_mi_switch_last(struct gp_lwp *cur,
		    struct gp_worker *w) __attribute__((__nonnull__));
/* Charge the current slice of run time to (p), which is running. */
GPI_HIDDEN void	gpi_charge(struct gp_worker *w, struct gp_proc *p);
/*
 * Count run time per LWP too (l_ticks): a clock read at every switch,
 * not only where the process changes, which costs about a switch's time
 * again.  So it is off until the program first asks for a green
 * thread's CPU time (gpi_lwp_clock_use), or from the start with
 * GREENPROC_THREAD_CLOCK=1; never with 0.  gpi_lwp_clock_ok: the
 * preload's constructor sets it (its CPU-time clocks are the only
 * readers), gp_init clears it for 0 before any worker runs.
 * gpi_lwp_clock is read relaxed at every switch and only ever set (once
 * on, a worker sees it at a later switch); the flag bytes sit in the
 * page every exec writes anyway (GPI_PASSDATA).
 */
GPI_HIDDEN extern bool gpi_lwp_clock, gpi_lwp_clock_ok;
/*
 * A thread clock is asked for by LWP (l) (NULL: a host thread): count
 * from now, starting (l)'s slice, unless refused.  False: refused.
 */
GPI_HIDDEN bool	gpi_lwp_clock_use(struct gp_lwp *l);
GPI_HIDDEN void	gpi_timer_add(struct gp_worker *w, struct gp_lwp *l,
    uint64_t deadline);
GPI_HIDDEN void	gpi_timer_del(struct gp_worker *w, struct gp_lwp *l);
/* lwp.c: free the LWPs on w's dead list, now that w is off their stacks. */
GPI_HIDDEN void	gpi_reaplwps(struct gp_worker *w);
/* lwp.c: the first code an LWP runs, on its own stack. */
GPI_HIDDEN _Noreturn void gpi_lwp_start(void *arg);

/*
 * tls.c's: (l), on its worker (w), leaves the CPU for good: it no longer
 * owns the worker's blocks.  Inline: every LWP's death tests it.
 */
static inline __attribute__((__always_inline__)) void
gpi_tls_lwp_dying(struct gp_lwp *l, struct gp_worker *w)
{
	if (w->w_tlsowner == l)
		w->w_tlsowner = NULL;
}

/*
 * Leave the CPU for good; the next context on this worker reaps us.
 * Every caller has run gpi_lwp_dying after the LWP's last user code:
 * lwp.c's lwp_exit, exit1 (gpi_lwp_exit_master) and the fault proxy.
 * Here, not in lwp.c, so that exit1 has the master's end inline.
 *
 * With (handoff), the joiner waits on this worker, in our process, and
 * nothing but it can free us (lwp_exit): DEAD is set here, before the
 * switch, and we go on no dead list.
 *
 * (jump), a constant: enter gpi_mi_switch_last by gpi_md_call_last,
 * which needs a caller whose stack gcc keeps aligned (switch.h): so in
 * lwp_exit and exit1, which make calls; not in lwp_die_listed, a leaf
 * but for this, whose rsp DEBUG builds found 8 modulo 16 there.
 */
static inline __attribute__((__always_inline__)) _Noreturn void
gpi_lwp_die(struct gp_lwp *l, struct gp_worker *w, bool handoff, bool jump)
{
	int js;

	KASSERT(l->l_fdpark == NULL && l->l_robust == NULL &&
	    l->l_once == NULL);
	gpi_tls_lwp_dying(l, w); /* before anyone may free its save area */
	if (unlikely(l->l_root))	/* a host placement leaves (w) */
		atomic_fetch_sub_explicit(&w->w_nroots, 1,
		    memory_order_relaxed);
	__atomic_store_n(&l->l_stat, GPI_LZOMB, __ATOMIC_RELAXED);
	if (handoff) {
		/*
		 * Single owner (lwp_exit): a plain store, release for the
		 * joiner's acquire load, as gpi_reaplwps would make it.
		 * The joiner frees us only once it runs, and it runs on this
		 * worker, so after the switch below has left our stack.
		 */
		js = atomic_load_explicit(&l->l_jstate, memory_order_relaxed);
		KASSERT((js & (GPI_J_JOINER | GPI_J_HANDOFF | GPI_J_DEAD)) ==
		    (GPI_J_JOINER | GPI_J_HANDOFF) && l->l_joinerw == w &&
		    l->l_joiner->l_worker == w &&
		    l->l_joiner->l_proc == l->l_proc && l->l_autoreap == NULL);
		GPI_BUMP(w->w_nexited, 1);
		atomic_store_explicit(&l->l_jstate, js | GPI_J_DEAD,
		    memory_order_release);
	} else {
		l->l_next = w->w_dead;
		w->w_dead = l;
	}
	if (jump)
		gpi_md_call_last(gpi_mi_switch_last, l, w);
	gpi_mi_switch_last(l, w);
}

/*
 * The master LWP (l), on its worker (w), leaves after exit1 made its
 * process a zombie.  The process may already be reaped: touch nothing
 * of it.  With (autoreap), nobody waits for the process and our worker
 * reaps it once we are off the stack.  Inline in exit1, whose frame is
 * aligned (it makes calls): the last switch is entered by a jump, so
 * that the return stack buffer keeps no entry of the master's (section
 * 4 of ARCHITECTURE.md).
 */
static inline __attribute__((__always_inline__)) _Noreturn void
gpi_lwp_exit_master(struct gp_lwp *l, struct gp_worker *w,
    struct gp_proc *autoreap)
{
	l->l_autoreap = autoreap;
	l->l_master = true;		/* charged in exit1 already */
	gpi_lwp_die(l, w, false, true);
}
/* sched.c: bookkeeping every context does right after it is switched to. */
GPI_HIDDEN void	gpi_sched_enter_first(struct gp_lwp *l);

#endif /* GREENPROC_INTERNAL_H */
