/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * thread.c -- thread-specific data and cancellation for green threads.
 *
 * Keys come from glibc (so host and green code share one key space).
 * A key created on a green thread is a green key: a green thread's
 * values live in its LWP, in a two-level table made on its first
 * pthread_setspecific, and its destructors run when it ends by
 * pthread_exit or a return (not when its process is killed), as glibc's
 * do.  A key created on a host thread (a library's constructor, which
 * under greenrun runs on the host main thread before the green main;
 * sanitizers' thread-start hooks) is per LWP once the LWP sets it: until
 * then a green thread reads its kernel thread's value, so a library finds
 * what its thread-start hook stored there.  It used to stay per kernel
 * thread for green code too: GLib makes GSlice's per-thread magazine key
 * in libglib's constructor, every green thread of a worker shared one
 * magazine, was switched in the middle of its updates, and glib's
 * gmenumodel test crashed in g_slice_alloc (gr_ctorkey).
 * pthread_cancel of a green thread marks it; with cancellation enabled it
 * then ends at its next cancellation point (any blocking runtime call)
 * with PTHREAD_CANCELED.
 *
 * Green pthread_t values are handles, not pointers: bit 63 set (never in
 * a user-space address, so a host pthread_t, which points at glibc's
 * thread descriptor, is told apart without reading memory), a 31-bit
 * generation in bits 32-62 and a slot index below.  The slot names the
 * LWP while its generation matches; freeing the LWP (join, or the end of
 * a detached one) bumps the generation, so a joined handle is stale for
 * good: join, detach, cancel, kill and the _np calls give ESRCH instead
 * of touching a stack that may be unmapped or reused by a new thread.
 * An LWP gets its slot at pthread_create, or at its first pthread_self or
 * owner-tracking mutex lock if gp_lwp_create or gp_spawn made it.  The
 * slot index + 0x20000000 is also the LWP's owner id in mutexes (sync.c).
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "internal.h"
#include "preload.h"

#define EXPORT	__attribute__((__visibility__("default")))
#define KEYS	1024			/* PTHREAD_KEYS_MAX */
#define PAGE	32
#define NPAGES	(KEYS / PAGE)
#define DTOR_ITERATIONS	4		/* PTHREAD_DESTRUCTOR_ITERATIONS */

static void (*_Atomic dtors[KEYS])(void *);	/* (a) per key */
static atomic_bool green_key[KEYS];		/* (a) made by green code:
						 * no kernel thread value
						 * to fall back to */
/*
 * (a) per key, bumped by each pthread_key_create and pthread_key_delete
 * of it: odd while it is in use, as glibc's own.  A thread's value
 * carries the sequence of the key it was set under, and one of an
 * older key reads as NULL and has no destructor run: a key deleted and
 * made again (glibc hands the lowest free index out again) starts NULL
 * in every thread, as glibc's own sequence numbers make it.  Before,
 * the new key read the deleted key's values (glibc's tst-tsd1).
 */
static atomic_ulong key_seq[KEYS];

/* A thread's value of one key (pages of PAGE, l_specific). */
struct keyval {
	void		*kv_value;
	unsigned long	 kv_seq;	/* key_seq when it was set */
};

static inline bool
green(void)
{
	return gpi_curlwp() != NULL;
}

/* ------------------------------------------------------------ handles */

#define H_TAG		((uintptr_t)1 << 63)
#define H_GENMASK	0x7fffffffu
#define H_PAGE		1024
#define H_NPAGES	4096		/* at most 4M LWPs with a handle */

struct hslot {
	_Atomic(struct gp_lwp *) h_lwp;	/* (a) NULL while free */
	atomic_uint	 h_gen;		/* (a) bumped (release) when freed */
	unsigned	 h_nextfree;	/* (h) 1 + next free slot, 0 at end */
};

/* Pages are made on demand and never freed: a lookup never faults. */
static _Atomic(struct hslot *) h_dir[H_NPAGES];	/* (a) */
/* (h): the two below */
static gpi_spin_t h_lock GPI_PASSDATA = GPI_SPIN_INIT(GPI_RANK_PTHR);
static unsigned	h_free;			/* (h) 1 + first free slot, or 0 */
static unsigned	h_top;			/* (h) slots ever handed out */

static struct hslot *
hslot(unsigned i)
{
	struct hslot *page = atomic_load_explicit(&h_dir[i / H_PAGE],
	    memory_order_acquire);

	return page != NULL ? &page[i % H_PAGE] : NULL;
}

/* A free slot bound to (l): 1 + its index, or 0 (no memory, or full). */
static unsigned
hslot_alloc(struct gp_lwp *l)
{
	struct hslot *page, *h, *none;
	unsigned i;

	for (;;) {
		gpi_spin_lock(&h_lock);
		if (h_free != 0) {
			i = h_free - 1;
			h_free = hslot(i)->h_nextfree;
			break;
		}
		i = h_top;
		if (i < H_NPAGES * H_PAGE && hslot(i) != NULL) {
			h_top++;
			break;
		}
		gpi_spin_unlock(&h_lock);
		/* A new page, made outside the lock (calloc may take long). */
		if (i >= H_NPAGES * H_PAGE ||
		    (page = calloc(H_PAGE, sizeof(*page))) == NULL)
			return 0;
		none = NULL;
		if (!atomic_compare_exchange_strong(&h_dir[i / H_PAGE], &none,
		    page))
			free(page);	/* somebody else's was first */
	}
	gpi_spin_unlock(&h_lock);
	h = hslot(i);
	atomic_store_explicit(&h->h_lwp, l, memory_order_release);
	return i + 1;
}

/* The slot of (l), made if it has none: 1 + index, or 0 (no memory). */
unsigned
gpi_thread_slot(struct gp_lwp *l)
{
	unsigned i = atomic_load_explicit(&l->l_handle, memory_order_acquire);
	unsigned mine = 0;

	if (i != 0)
		return i;
	if ((mine = hslot_alloc(l)) == 0)
		return 0;
	/* l's own thread and its creator may race here: one slot wins. */
	if (atomic_compare_exchange_strong(&l->l_handle, &i, mine))
		return mine;
	atomic_store(&hslot(mine - 1)->h_lwp, NULL);
	gpi_spin_lock(&h_lock);
	hslot(mine - 1)->h_nextfree = h_free;
	h_free = mine;
	gpi_spin_unlock(&h_lock);
	return i;
}

/* (l)'s pthread_t; 0 if no slot could be made. */
pthread_t
gpi_thread_handle(struct gp_lwp *l)
{
	unsigned i = gpi_thread_slot(l);

	if (i == 0)
		return 0;
	return (pthread_t)(H_TAG | (uintptr_t)(atomic_load(
	    &hslot(i - 1)->h_gen) & H_GENMASK) << 32 | (i - 1));
}

bool
gpi_is_green_thread(pthread_t t)
{
	return ((uintptr_t)t & H_TAG) != 0;
}

/*
 * The LWP of green handle (t), or NULL if it is stale (joined, or a
 * detached thread that ended).  POSIX leaves a handle used after its
 * thread's lifetime undefined; we answer ESRCH for every such use that
 * does not race with the free itself.
 */
struct gp_lwp *
gpi_thread_lwp(pthread_t t)
{
	uintptr_t v = (uintptr_t)t;
	unsigned i = (unsigned)(v & 0xffffffffu);
	struct hslot *h;
	struct gp_lwp *l;

	if (i >= H_NPAGES * H_PAGE || (h = hslot(i)) == NULL)
		return NULL;
	l = atomic_load_explicit(&h->h_lwp, memory_order_acquire);
	if ((atomic_load(&h->h_gen) & H_GENMASK) != ((v >> 32) & H_GENMASK))
		return NULL;
	return l;
}

/*
 * A green thread's CPU-time clock id (pthread_getcpuclockid) names its
 * handle: the thread id, which glibc puts in its clock ids, does not fit
 * (a green id is at or above 2^22, and three bits go to the type).  The
 * kernel's CPU clock ids are negative, ~id << 3 with the clock type in
 * bits 0-1 (0 PROF, 1 VIRT, 2 SCHED) and bit 2 set for a thread; type 3
 * with bit 2 clear is a dynamic clock (~fd << 3 | 3).  Type 3 with bit 2
 * set is neither, and the kernel refuses it (EINVAL) whatever the other
 * bits say, so no kernel clock id is ever one of ours: bit 31 set, the
 * slot in bits 3-24, the low 6 bits of its generation in bits 25-30,
 * and 7 in bits 0-2.  clock.c reads them.  A clock of a joined thread
 * names a stale generation (1 in 64 reuses of its slot aside) and gives
 * EINVAL, as the clock of a thread that is gone does natively.
 */
#define CLK_TAG		7u
#define CLK_SLOTBITS	22
#define CLK_GENBITS	6
_Static_assert((unsigned long)H_NPAGES * H_PAGE <= 1ul << CLK_SLOTBITS,
    "a handle slot fits in a clock id");

clockid_t
gpi_thread_clockid(struct gp_lwp *l)
{
	unsigned i = gpi_thread_slot(l), gen;

	if (i == 0)
		return 0;
	gen = atomic_load(&hslot(i - 1)->h_gen) & ((1u << CLK_GENBITS) - 1);
	return (clockid_t)(0x80000000u | gen << (3 + CLK_SLOTBITS) |
	    (i - 1) << 3 | CLK_TAG);
}

bool
gpi_is_thread_clock(clockid_t clk)
{
	return clk < 0 && ((unsigned)clk & 7u) == CLK_TAG;
}

/* The live LWP whose clock (clk) is, or NULL (see live_lwp). */
struct gp_lwp *
gpi_thread_clock_lwp(clockid_t clk)
{
	unsigned v = (unsigned)clk, i = (v >> 3) & ((1u << CLK_SLOTBITS) - 1);
	unsigned gen = (v >> (3 + CLK_SLOTBITS)) & ((1u << CLK_GENBITS) - 1);
	struct hslot *h;
	struct gp_lwp *l;

	if (!gpi_is_thread_clock(clk) || (h = hslot(i)) == NULL)
		return NULL;
	l = atomic_load_explicit(&h->h_lwp, memory_order_acquire);
	if ((atomic_load(&h->h_gen) & ((1u << CLK_GENBITS) - 1)) != gen ||
	    l == NULL || (atomic_load(&l->l_jstate) & GPI_J_ZLIST))
		return NULL;
	return l;
}

/* gpi_lwp_free: the handle of (l) goes stale and its slot is free. */
static void
hslot_release(struct gp_lwp *l)
{
	unsigned i = atomic_load(&l->l_handle);
	struct hslot *h = hslot(i - 1);

	KASSERT(h != NULL);	/* l_handle names a slot it was given */
	/* A priority-protect lock needs a handle: its counts go with it. */
	free(l->l_ppmap);
	l->l_ppmap = NULL;
	l->l_ppmax = 0;
	atomic_store(&h->h_lwp, NULL);
	atomic_fetch_add_explicit(&h->h_gen, 1, memory_order_release);
	atomic_store_explicit(&l->l_handle, 0, memory_order_relaxed);
	gpi_spin_lock(&h_lock);
	h->h_nextfree = h_free;
	h_free = i;
	gpi_spin_unlock(&h_lock);
}

/* In a fork child: a thread of the parent may have held the lock. */
void
gpi_handles_fork_child(void)
{
	/* Read first: a write would copy the page in every fork child. */
	if (atomic_load_explicit(&h_lock.s_locked, memory_order_relaxed))
		gpi_spin_reset(&h_lock);
}

/* The slot of (key) in (l), made if (make). */
static struct keyval *
slot_of(struct gp_lwp *l, pthread_key_t key, bool make)
{
	struct keyval **pages = (struct keyval **)l->l_specific;

	if (key >= KEYS)
		return NULL;
	if (pages == NULL) {
		if (!make || (pages = calloc(NPAGES, sizeof(*pages))) == NULL)
			return NULL;
		l->l_specific = (void **)pages;
	}
	if (pages[key / PAGE] == NULL) {
		if (!make || (pages[key / PAGE] = calloc(PAGE,
		    sizeof(struct keyval))) == NULL)
			return NULL;
	}
	return &pages[key / PAGE][key % PAGE];
}

/* The value in (kv) if it was set under the key as it is now, or NULL. */
static void *
kv_get(const struct keyval *kv, pthread_key_t key)
{
	if (kv == NULL || kv->kv_seq != atomic_load_explicit(&key_seq[key],
	    memory_order_relaxed))
		return NULL;
	return kv->kv_value;
}

/* Was (kv) set under the key as it is now (to NULL too)? */
static bool
kv_isset(const struct keyval *kv, pthread_key_t key)
{
	return kv != NULL && kv->kv_seq == atomic_load_explicit(&key_seq[key],
	    memory_order_relaxed);
}

/* Runs on an LWP leaving by pthread_exit or a return (lwp.c). */
static void
run_dtors(struct gp_lwp *l)
{
	struct keyval **pages = (struct keyval **)l->l_specific;
	void (*dtor)(void *), *v;
	bool again = true;
	int it, k;

	for (it = 0; pages != NULL && again && it < DTOR_ITERATIONS; it++) {
		again = false;
		for (k = 0; k < KEYS; k++) {
			if (pages[k / PAGE] == NULL || (v = kv_get(
			    &pages[k / PAGE][k % PAGE], k)) == NULL)
				continue;
			pages[k / PAGE][k % PAGE].kv_value = NULL;
			if ((dtor = atomic_load(&dtors[k])) != NULL) {
				dtor(v);
				again = true;
			}
		}
	}
	if (pages != NULL) {
		for (k = 0; k < NPAGES; k++)
			free(pages[k]);
		free(pages);
		l->l_specific = NULL;
	}
}

static void cancel_hook(struct gp_lwp *l);

__attribute__((constructor(102))) static void
thread_init(void)
{
	gpi_lwp_exit_hook = run_dtors;
	gpi_lwp_cancel_hook = cancel_hook;
	gpi_lwp_free_hook = hslot_release;
}

EXPORT int
pthread_key_create(pthread_key_t *key, void (*dtor)(void *))
{
	int error = REAL(pthread_key_create)(key, dtor);

	if (error == 0 && *key < KEYS) {
		/* Odd, and a new sequence even after an unseen delete. */
		atomic_fetch_add(&key_seq[*key],
		    (atomic_load(&key_seq[*key]) & 1) ? 2 : 1);
		atomic_store(&dtors[*key], dtor);
		atomic_store(&green_key[*key], green());
	}
	return error;
}

EXPORT int
pthread_key_delete(pthread_key_t key)
{
	int error = REAL(pthread_key_delete)(key);

	if (error == 0 && key < KEYS) {
		atomic_store(&dtors[key], NULL);
		atomic_store(&green_key[key], false);
		if (atomic_load(&key_seq[key]) & 1)
			atomic_fetch_add(&key_seq[key], 1);
	}
	return error;
}

EXPORT void *
pthread_getspecific(pthread_key_t key)
{
	struct gp_lwp *l = gpi_curlwp();
	struct keyval *kv;

	if (l == NULL || key >= KEYS)
		return REAL(pthread_getspecific)(key);
	kv = slot_of(l, key, false);
	if (atomic_load(&green_key[key]))
		return kv_get(kv, key);
	/* A host key: the LWP's own value once set, else the worker's. */
	return kv_isset(kv, key) ? kv->kv_value :
	    REAL(pthread_getspecific)(key);
}

EXPORT int
pthread_setspecific(pthread_key_t key, const void *value)
{
	struct gp_lwp *l = gpi_curlwp();
	struct keyval *kv;
	bool make;

	if (l == NULL || key >= KEYS)
		return REAL(pthread_setspecific)(key, value);
	/*
	 * A key not in use is EINVAL, as glibc says (glibc's tst-tss-basic:
	 * it was stored).  One made where we did not see it (glibc's own
	 * __pthread_key_create) is asked of glibc: setting the kernel
	 * thread's value to what it is fails only for an unused key.
	 */
	if (!(atomic_load_explicit(&key_seq[key], memory_order_relaxed) & 1) &&
	    REAL(pthread_setspecific)(key, REAL(pthread_getspecific)(key)) != 0)
		return EINVAL;
	/* A host key's NULL is stored too: it hides the worker's value. */
	make = value != NULL || !atomic_load(&green_key[key]);
	if ((kv = slot_of(l, key, make)) == NULL)
		return make ? ENOMEM : 0;
	kv->kv_value = (void *)value;
	kv->kv_seq = atomic_load_explicit(&key_seq[key], memory_order_relaxed);
	return 0;
}

/* ------------------------------------------------------------ cancel */

/*
 * Deferred cancellation with cleanup handlers, as glibc does it but per
 * green thread.  glibc's pthread_cleanup_push (C, no -fexceptions) is a
 * macro: it __sigsetjmp's into an on-stack __pthread_unwind_buf_t and
 * links it with __pthread_register_cancel into a chain kept in the
 * kernel thread's descriptor -- one per worker, shared by all its LWPs,
 * so a switch in between would mix the chains of different threads.
 * Here register/unregister keep the chain in the LWP (l_cleanup, linked
 * through the buffer's private words: __pad[0] the outer buffer,
 * __pad[1] the caller's stack pointer, __pad[2] a saved cancel type).
 *
 * Cancel or pthread_exit on a green thread (unwind): the thread is
 * marked exiting (later cancels are ignored), then a forced unwind
 * (libgcc_s's _Unwind_ForcedUnwind, as glibc uses) walks its stack and
 * runs C++ destructors and -fexceptions cleanups frame by frame; our
 * stop function longjmps into the innermost C buffer when the walk
 * reaches the frame that made it.  There the macro runs the handler and
 * calls __pthread_unwind_next, which goes on from the next buffer.  At
 * the end of the stack (the LWP's start frame carries no caller), or if
 * the walk fails (frames without unwind tables), what is left of the C
 * chain is run by longjmps alone, then finish(): thread_local
 * destructors, key destructors, and the end with the value
 * (PTHREAD_CANCELED for a cancel), as glibc's start_thread orders them.
 *
 * A cancel takes effect (GPI_LWP_CANCEL) when it is pending and enabled;
 * the flag interrupts GPI_PCATCH sleeps (the blocking calls that are
 * cancellation points: I/O, sleeps, waits, condvars, joins, semaphores)
 * and gpi_userret_ex hands the LWP to cancel_hook there.  Mutex, rwlock
 * and barrier waits are not cancellation points.  A cancelled condvar
 * wait retakes the mutex first (sync.c), so its handlers run with it
 * held, as POSIX says.  Asynchronous cancellation is recorded and
 * answered but acts as deferred: a green thread is never interrupted
 * between two instructions.
 */

/* l_cancel bits (seq_cst RMWs; the LWP itself and its cancellers). */
#define CANCEL_DISABLED	0x1	/* pthread_setcancelstate(DISABLE) */
#define CANCEL_PENDING	0x2	/* pthread_cancel came */
#define CANCEL_ASYNC	0x4	/* pthread_setcanceltype(ASYNCHRONOUS) */
#define CANCEL_EXITING	0x8	/* unwinding: cancels are ignored */

#define CB_PREV(b)	((b)->__pad[0])
#define CB_SP(b)	((b)->__pad[1])
#define CB_TYPE(b)	((b)->__pad[2])

/*
 * The part of the Itanium C++ ABI's unwind interface (level 1) used here,
 * declared by hand: runtime/unwind.h hides the compiler's <unwind.h>.
 */
#define UW_NO_REASON	0		/* _URC_NO_REASON */
#define UW_END_OF_STACK	16		/* _UA_END_OF_STACK */
struct uw_context;
struct uw_exception {			/* struct _Unwind_Exception */
	uint64_t	 class;
	void		(*cleanup)(int, struct uw_exception *);
	uint64_t	 private1, private2;
} __attribute__((__aligned__));
typedef int (*uw_stop_t)(int, int, uint64_t, struct uw_exception *,
    struct uw_context *, void *);

/* libgcc_s's unwinder, found on first use (a C program may not load it). */
struct unwinder {
	int		(*forced)(struct uw_exception *, uw_stop_t, void *);
	uintptr_t	(*cfa)(struct uw_context *);
};
static struct unwinder uw;			/* (a, relaxed) set before uw_state */
static atomic_int uw_state;			/* (a) 0 unknown, 1 none, 2 ok */

static const struct unwinder *
unwinder(void)
{
	void *h;
	int st = atomic_load_explicit(&uw_state, memory_order_acquire);

	if (st == 0) {
		/*
		 * Racing first users resolve the same pointers (atomic
		 * stores of equal values): harmless.
		 */
		h = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_LOCAL);
		if (h != NULL) {
			__atomic_store_n(&uw.forced, (__typeof__(uw.forced))
			    dlsym(h, "_Unwind_ForcedUnwind"), __ATOMIC_RELAXED);
			__atomic_store_n(&uw.cfa, (__typeof__(uw.cfa))dlsym(h,
			    "_Unwind_GetCFA"), __ATOMIC_RELAXED);
		}
		st = __atomic_load_n(&uw.forced, __ATOMIC_RELAXED) != NULL &&
		    __atomic_load_n(&uw.cfa, __ATOMIC_RELAXED) != NULL ? 2 : 1;
		atomic_store_explicit(&uw_state, st, memory_order_release);
	}
	return st == 2 ? &uw : NULL;
}

/* glibc's function (name), looked up on first use into (slot). */
static void *
real_fn(void *_Atomic *slot, const char *name)
{
	void *f = atomic_load_explicit(slot, memory_order_relaxed);

	if (f == NULL) {
		f = gpi_preload_resolve_one(name);
		atomic_store_explicit(slot, f, memory_order_relaxed);
	}
	return f;
}
#define REAL_LAZY(name) ({						\
	static void *_Atomic slot_;					\
	(__typeof__(&name))real_fn(&slot_, #name); })

static _Noreturn void
finish(struct gp_lwp *l)
{
	void *rv = l->l_retval;

	if (l->l_tlsdtors != NULL)
		gpi_tls_run_dtors(l);
	run_dtors(l);
	gpi_lwp_exit(rv);	/* its dtors again: none left */
}

/*
 * glibc's longjmp, declared on the buffer the macro filled: a
 * __cancel_jmp_buf is the first 72 bytes of a jmp_buf (registers and
 * mask_was_saved, 0 here: the saved mask after it is never read), which
 * the compiler would take for an overflow of the 200-byte jmp_buf.
 */
extern _Noreturn void cancel_longjmp(void *env, int val) __asm__("longjmp");

/* Leave for the innermost C cleanup buffer, or end. */
static _Noreturn void
next_buffer(struct gp_lwp *l)
{
	__pthread_unwind_buf_t *b = l->l_cleanup;

	if (b == NULL)
		finish(l);
	l->l_cleanup = CB_PREV(b);
	cancel_longjmp(b->__cancel_jmp_buf, 1);
}

static int
unwind_stop(int version, int actions, uint64_t cls, struct uw_exception *exc,
    struct uw_context *ctx, void *arg)
{
	struct gp_lwp *l = arg;
	__pthread_unwind_buf_t *b = l->l_cleanup;

	(void)version;
	(void)cls;
	(void)exc;
	/* The walk reached the frame that made b (its caller's CFA). */
	if ((actions & UW_END_OF_STACK) || (b != NULL &&
	    __atomic_load_n(&uw.cfa, __ATOMIC_RELAXED)(ctx) >
	    (uintptr_t)CB_SP(b)))
		next_buffer(l);
	return UW_NO_REASON;
}

/* A C++ catch (...) ate the unwind without rethrowing it, as in glibc. */
static void
unwind_eaten(int rc, struct uw_exception *exc)
{
	(void)rc;
	(void)exc;
	GPI_PANIC("a thread's cancellation or pthread_exit was caught and "
	    "not rethrown");
}

/* Walk from here to the next C buffer or the end; never returns. */
static _Noreturn __attribute__((noinline)) void
unwind_on(struct gp_lwp *l)
{
	const struct unwinder *u = unwinder();
	struct uw_exception *exc = (struct uw_exception *)(void *)l->l_unwexc;

	_Static_assert(sizeof(l->l_unwexc) >= sizeof(*exc) &&
	    _Alignof(struct uw_exception) <= 16, "l_unwexc holds one");
	if (u != NULL) {
		memset(exc, 0, sizeof(*exc));
		exc->class = 0x47524e5043414e43ull;	/* "GRNPCANC" */
		exc->cleanup = unwind_eaten;
		(void)__atomic_load_n(&u->forced, __ATOMIC_RELAXED)(exc,
		    unwind_stop, l);
	}
	/* No unwinder, or frames it cannot walk: the C buffers only. */
	next_buffer(l);
}

/* The calling green thread (l) ends with (retval), unwinding first. */
static _Noreturn void
unwind(struct gp_lwp *l, void *retval)
{
	atomic_fetch_or(&l->l_cancel, CANCEL_EXITING);
	atomic_fetch_and(&l->l_flags, ~GPI_LWP_CANCEL);
	l->l_retval = retval;
	/* Runtime frames are left below: nothing of theirs may stay linked. */
	if (l->l_fdpark != NULL)
		gpi_fdpark_leave(l->l_fdpark);
	unwind_on(l);
}

/*
 * Has (l) asked for asynchronous cancellation?  Then a cancel may act at
 * any time (POSIX), so the waits that are no cancellation points (a
 * mutex or rwlock lock, sync.c) let it act too: a thread blocked for
 * ever on a lock can still be cancelled.
 */
bool
gpi_thread_cancel_async(const struct gp_lwp *l)
{
	return l != NULL && (atomic_load_explicit(&l->l_cancel,
	    memory_order_relaxed) & CANCEL_ASYNC);
}

/* gpi_lwp_cancel_hook: (l) has GPI_LWP_CANCEL at a cancellation point. */
static void
cancel_hook(struct gp_lwp *l)
{
	int c;

	/* Cleared first: a cancel that comes after is seen below or later. */
	atomic_fetch_and(&l->l_flags, ~GPI_LWP_CANCEL);
	c = atomic_load(&l->l_cancel);
	if ((c & CANCEL_PENDING) && !(c & (CANCEL_DISABLED | CANCEL_EXITING)))
		unwind(l, PTHREAD_CANCELED);
}

/* (l)'s pending cancel takes effect now: flag it (and wake it). */
static void
cancel_arm(struct gp_lwp *l)
{
	atomic_fetch_or(&l->l_flags, GPI_LWP_CANCEL);	/* seq_cst: [I1'] */
	gpi_sleep_interrupt(l);
}

/* pthread_exit on a green thread: its cleanup handlers run first. */
void
gpi_thread_exit(void *retval)
{
	unwind(gpi_curlwp(), retval);
}

EXPORT void
__pthread_register_cancel(__pthread_unwind_buf_t *b)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL) {
		REAL_LAZY(__pthread_register_cancel)(b);
		return;
	}
	CB_PREV(b) = l->l_cleanup;
	CB_SP(b) = __builtin_dwarf_cfa();	/* the caller's frame */
	l->l_cleanup = b;
}

EXPORT void
__pthread_unregister_cancel(__pthread_unwind_buf_t *b)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL) {
		REAL_LAZY(__pthread_unregister_cancel)(b);
		return;
	}
	l->l_cleanup = CB_PREV(b);
}

/* pthread_cleanup_push_defer_np: the type is deferred while pushed. */
EXPORT void
__pthread_register_cancel_defer(__pthread_unwind_buf_t *b)
{
	struct gp_lwp *l = gpi_curlwp();
	int c;

	if (l == NULL) {
		REAL_LAZY(__pthread_register_cancel_defer)(b);
		return;
	}
	c = atomic_fetch_and(&l->l_cancel, ~CANCEL_ASYNC);
	CB_TYPE(b) = (void *)(uintptr_t)(c & CANCEL_ASYNC);
	CB_PREV(b) = l->l_cleanup;
	CB_SP(b) = __builtin_dwarf_cfa();
	l->l_cleanup = b;
}

EXPORT void
__pthread_unregister_cancel_restore(__pthread_unwind_buf_t *b)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL) {
		REAL_LAZY(__pthread_unregister_cancel_restore)(b);
		return;
	}
	l->l_cleanup = CB_PREV(b);
	if (CB_TYPE(b) != NULL) {
		atomic_fetch_or(&l->l_cancel, CANCEL_ASYNC);
		gpi_userret();	/* back to asynchronous: a pending one acts */
	}
}

/* The macro ran a handler after our longjmp: on to the next one. */
EXPORT void
__pthread_unwind_next(__pthread_unwind_buf_t *b)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL)
		REAL_LAZY(__pthread_unwind_next)(b);
	l->l_cleanup = CB_PREV(b);
	unwind_on(l);
}

EXPORT int
pthread_cancel(pthread_t t)
{
	struct gp_lwp *l;
	int c;

	if (!gpi_is_green_thread(t))
		return REAL(pthread_cancel)(t);
	/* An exited thread not joined yet: 0, as glibc since 2.34. */
	if ((l = gpi_thread_lwp(t)) == NULL)
		return ESRCH;
	if (atomic_load(&l->l_jstate) & GPI_J_ZLIST)
		return 0;
	c = atomic_fetch_or(&l->l_cancel, CANCEL_PENDING);
	if (!(c & (CANCEL_DISABLED | CANCEL_PENDING | CANCEL_EXITING))) {
		cancel_arm(l);	/* acts at its next cancellation point */
		/*
		 * Itself, asynchronous: at once, as glibc's pthread_cancel
		 * does (tst-cancel-self-canceltype waits for it in a loop
		 * without calls, where nothing else would act).
		 */
		if (l == gpi_curlwp() && (c & CANCEL_ASYNC))
			gpi_userret();
	}
	return 0;
}

EXPORT int
pthread_setcancelstate(int state, int *old)
{
	struct gp_lwp *l = gpi_curlwp();
	int c;

	if (l == NULL)
		return REAL(pthread_setcancelstate)(state, old);
	if (state != PTHREAD_CANCEL_ENABLE && state != PTHREAD_CANCEL_DISABLE)
		return EINVAL;
	if (state == PTHREAD_CANCEL_DISABLE) {
		c = atomic_fetch_or(&l->l_cancel, CANCEL_DISABLED);
		/*
		 * Not acted on yet: it waits for the enable.  (A canceller
		 * that read the state just before may still set the flag; a
		 * GPI_PCATCH sleep then ends early once, and cancel_hook
		 * clears it.)
		 */
		atomic_fetch_and(&l->l_flags, ~GPI_LWP_CANCEL);
	} else {
		c = atomic_fetch_and(&l->l_cancel, ~CANCEL_DISABLED);
		/* A cancel that came while disabled takes effect from now. */
		if ((c & CANCEL_PENDING) && !(c & CANCEL_EXITING))
			atomic_fetch_or(&l->l_flags, GPI_LWP_CANCEL);
	}
	if (old != NULL)
		*old = (c & CANCEL_DISABLED) ? PTHREAD_CANCEL_DISABLE :
		    PTHREAD_CANCEL_ENABLE;
	return 0;
}

/*
 * Recorded and answered; a green thread's cancellation is deferred
 * whatever its type (documented).  Like glibc, a switch to asynchronous
 * with a cancel pending acts on it at once.
 */
EXPORT int
pthread_setcanceltype(int type, int *old)
{
	struct gp_lwp *l = gpi_curlwp();
	int c;

	if (l == NULL)
		return REAL_LAZY(pthread_setcanceltype)(type, old);
	if (type != PTHREAD_CANCEL_DEFERRED &&
	    type != PTHREAD_CANCEL_ASYNCHRONOUS)
		return EINVAL;
	if (type == PTHREAD_CANCEL_ASYNCHRONOUS)
		c = atomic_fetch_or(&l->l_cancel, CANCEL_ASYNC);
	else
		c = atomic_fetch_and(&l->l_cancel, ~CANCEL_ASYNC);
	if (old != NULL)
		*old = (c & CANCEL_ASYNC) ? PTHREAD_CANCEL_ASYNCHRONOUS :
		    PTHREAD_CANCEL_DEFERRED;
	if (type == PTHREAD_CANCEL_ASYNCHRONOUS)
		gpi_userret();
	return 0;
}

EXPORT void
pthread_testcancel(void)
{
	if (!green()) {
		REAL(pthread_testcancel)();
		return;
	}
	gpi_userret();
}

/* ------------------------------------------------------------ scheduling */

/*
 * A green thread has no kernel thread of its own: its scheduling policy
 * and priority are recorded and answered, never handed to the kernel
 * (the worker it runs on is shared with other LWPs), and its affinity is
 * the host's.  Values are checked as the kernel checks them, so a
 * program sees the errors it would see natively (not EPERM: a green
 * thread may ask for any policy, since it is not enforced).  A host
 * handle goes to glibc; no green handle ever does.
 */
int
gpi_sched_check(int policy, int prio)
{
	int lo, hi;

	if (policy != SCHED_OTHER && policy != SCHED_FIFO &&
	    policy != SCHED_RR && policy != SCHED_BATCH &&
	    policy != SCHED_IDLE)
		return EINVAL;
	lo = sched_get_priority_min(policy);
	hi = sched_get_priority_max(policy);
	return prio < lo || prio > hi ? EINVAL : 0;
}

/*
 * pthread_create's scheduling: PTHREAD_INHERIT_SCHED (the default) is
 * the creator's policy and priority, as the kernel's clone copies them;
 * PTHREAD_EXPLICIT_SCHED is the attributes', refused with EINVAL when
 * the priority is not one of the policy's, as glibc's create refuses
 * what the kernel refuses (glibc's tst-bad-schedattr: SCHED_OTHER with
 * SCHED_FIFO's priority).  Before, a green thread started at SCHED_OTHER
 * 0 whatever the attributes said, and a bad pair was not refused
 * (gr_schedattr).
 */
int
gpi_sched_attr(const struct gp_lwp *l, const pthread_attr_t *attr,
    int *policy, int *prio)
{
	struct sched_param sp;
	int inherit = PTHREAD_INHERIT_SCHED;

	if (attr != NULL)
		pthread_attr_getinheritsched(attr, &inherit);
	if (inherit == PTHREAD_INHERIT_SCHED) {
		*policy = __atomic_load_n(&l->l_schedpolicy,
		    __ATOMIC_RELAXED);
		*prio = __atomic_load_n(&l->l_schedprio, __ATOMIC_RELAXED);
		return 0;
	}
	pthread_attr_getschedpolicy(attr, policy);
	pthread_attr_getschedparam(attr, &sp);
	*prio = sp.sched_priority;
	return gpi_sched_check(*policy, *prio);
}

/* The live LWP of green handle (t), or NULL (ESRCH). */
static struct gp_lwp *
live_lwp(pthread_t t)
{
	struct gp_lwp *l = gpi_thread_lwp(t);

	if (l == NULL || (atomic_load(&l->l_jstate) & GPI_J_ZLIST))
		return NULL;
	return l;
}

EXPORT int
pthread_getschedparam(pthread_t t, int *policy, struct sched_param *sp)
{
	struct gp_lwp *l;

	if (!gpi_is_green_thread(t))
		return REAL(pthread_getschedparam)(t, policy, sp);
	if ((l = live_lwp(t)) == NULL)
		return ESRCH;
	*policy = __atomic_load_n(&l->l_schedpolicy, __ATOMIC_RELAXED);
	memset(sp, 0, sizeof(*sp));
	sp->sched_priority = __atomic_load_n(&l->l_schedprio,
	    __ATOMIC_RELAXED);
	return 0;
}

EXPORT int
pthread_setschedparam(pthread_t t, int policy, const struct sched_param *sp)
{
	struct gp_lwp *l;
	int error;

	if (!gpi_is_green_thread(t))
		return REAL(pthread_setschedparam)(t, policy, sp);
	if ((l = live_lwp(t)) == NULL)
		return ESRCH;
	if ((error = gpi_sched_check(policy, sp->sched_priority)) != 0)
		return error;
	__atomic_store_n(&l->l_schedpolicy, policy, __ATOMIC_RELAXED);
	__atomic_store_n(&l->l_schedprio, sp->sched_priority,
	    __ATOMIC_RELAXED);
	return 0;
}

EXPORT int
pthread_setschedprio(pthread_t t, int prio)
{
	struct gp_lwp *l;
	int error;

	if (!gpi_is_green_thread(t))
		return REAL(pthread_setschedprio)(t, prio);
	if ((l = live_lwp(t)) == NULL)
		return ESRCH;
	if ((error = gpi_sched_check(__atomic_load_n(&l->l_schedpolicy,
	    __ATOMIC_RELAXED), prio)) != 0)
		return error;
	__atomic_store_n(&l->l_schedprio, prio, __ATOMIC_RELAXED);
	return 0;
}

/* ------------------------------------------------------------ thread ids */

/*
 * gettid() on a green thread is its own id (gpi_lwp_gettid: main's is
 * the host pid under greenrun, any other's at or above Linux's
 * PID_MAX_LIMIT), not its worker's, which every LWP queued there would
 * share: CPython's threading counts its threads' native ids, and logs
 * name threads by them.  The calls that take a thread id know these:
 * tgkill and tkill post a green signal to that thread, as pthread_kill
 * does; sched_getaffinity and sched_setaffinity act for the caller (0),
 * as pthread_getaffinity_np does.  A kernel call given one otherwise
 * fails with ESRCH, never reaching another task (ARCHITECTURE 21).
 */
EXPORT pid_t
gettid(void)
{
	struct gp_lwp *l = gpi_curlwp();

	if (l == NULL)
		return (pid_t)GPI_LIBC(syscall)(SYS_gettid);
	return gpi_lwp_gettid(l);
}

/*
 * The green process whose threads (tid) may name for the caller: its
 * own, or from a host thread under greenrun the program's.  NULL if
 * (tid) cannot be a green thread's (then it is the kernel's business).
 */
static struct gp_proc *
tid_proc(pid_t tid)
{
	struct gp_proc *p = gpi_curproc();

	if (p == NULL && (p = gpi_greenrun_proc()) == NULL)
		return NULL;
	if ((tid >= GPI_GREEN_TID_BASE && !GP_IS_GREEN(tid)) ||
	    (gpi_is_hostproc(p) && tid == REAL(getpid)()))
		return p;
	return NULL;
}

/*
 * tgkill(tgid, tid, sig) and tkill (tgid -1) of a green thread: posted
 * to it alone.  Returns 1 and leaves *rv (0, or -1 and errno) if (tid)
 * names a green thread of the caller's process, else 0.  tgid must be
 * that process's pid as getpid() gives it to the caller.
 */
int
gpi_tid_kill(pid_t tgid, pid_t tid, int sig, int *rv)
{
	struct gp_proc *p = tid_proc(tid);
	struct gp_lwp *l;
	int error;

	if (p == NULL)
		return 0;
	if (sig < 0 || sig > 64) {
		*rv = (errno = EINVAL, -1);
		return 1;
	}
	if (tgid != -1 && tgid != getpid()) {
		*rv = (errno = ESRCH, -1);
		return 1;
	}
	if ((error = gpi_lwp_signal_tid(p, tid, sig)) != 0) {
		/* Main has exited: what the kernel says of its kernel thread. */
		if (tid < GPI_GREEN_TID_BASE)
			return 0;
		*rv = (errno = error, -1);
		return 1;
	}
	/* To itself: delivered before the call returns, as raise. */
	if ((l = gpi_curlwp()) != NULL && gpi_lwp_gettid(l) == tid)
		gpi_sigpoint_l(l);
	*rv = 0;
	return 1;
}

EXPORT int
tgkill(pid_t tgid, pid_t tid, int sig)
{
	int rv;

	if (gpi_tid_kill(tgid, tid, sig, &rv))
		return rv;
	return REAL(tgkill)(tgid, tid, sig);
}

/*
 * The pid a thread-id-taking call should pass on: 0 (the caller's own
 * kernel thread, its worker) for a live green thread of its process,
 * -1 with ESRCH for a green id that names none; any other as it is.
 */
pid_t
gpi_tid_kernel(pid_t pid)
{
	struct gp_proc *p;

	if (pid == 0 || (p = tid_proc(pid)) == NULL)
		return pid;
	if (gpi_lwp_signal_tid(p, pid, 0) == 0)
		return 0;
	return pid < GPI_GREEN_TID_BASE ? pid : (errno = ESRCH, -1);
}

EXPORT int
sched_getaffinity(pid_t pid, size_t size, cpu_set_t *set)
{
	if ((pid = gpi_tid_kernel(pid)) == -1)
		return -1;
	return REAL(sched_getaffinity)(pid, size, set);
}

EXPORT int
sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *set)
{
	if ((pid = gpi_tid_kernel(pid)) == -1)
		return -1;
	return REAL(sched_setaffinity)(pid, size, set);
}

/* ------------------------------------------------------------ thread records */

/*
 * The kernel's calls that take a thread id and read or set its
 * scheduling (getpriority and setpriority, the sched_* calls through
 * glibc, and sched_getattr and sched_setattr through syscall(), which
 * GLib's thread pool uses to give each new thread its creator's
 * settings): for a green thread, the policy, priority and nice value
 * recorded in its LWP (l_schedpolicy, l_schedprio, l_nice), never applied
 * to the worker that other LWPs share.  A green id reached the kernel,
 * which said ESRCH (GLib aborted), and 0 changed the worker.  Checked as
 * the kernel checks them, not for privilege (pthread_setschedparam's
 * rule), except lowering the nice value.
 */
#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK	0x40000000
#endif
#define SCHED_FLAG_KEEP_POLICY	0x08	/* sched_setattr's flags */
#define SCHED_FLAG_KEEP_PARAMS	0x10
#define SCHED_FLAG_ALL		0x7f
#define SCHED_ATTR_SIZE_VER0	48

/* The kernel's struct sched_attr (SCHED_ATTR_SIZE_VER1). */
struct kernel_sched_attr {
	uint32_t	size;
	uint32_t	sched_policy;
	uint64_t	sched_flags;
	int32_t		sched_nice;
	uint32_t	sched_priority;
	uint64_t	sched_runtime, sched_deadline, sched_period;
	uint32_t	sched_util_min, sched_util_max;
};

/* What one call asks: set (policy, prio, nice) where the want_ bits say. */
struct sched_req {
	bool	set, want_policy, want_prio, want_nice, may_lower;
	int	policy, prio, nice;
};

/*
 * Could (who), 0 the caller, name a green thread?  The cheap half of
 * tid_lwp_lock, before system calls that only a green thread needs.
 */
static bool
names_green(pid_t who)
{
	return who == 0 ? gpi_curlwp() != NULL : who > 0 &&
	    tid_proc(who) != NULL;
}

/*
 * The thread (who) names, 0 the caller, with its process's p_lock held:
 * 1 and (*lp, *pp); 0 if that is the kernel's business; -1 and ESRCH
 * for a green id that names no live thread.
 */
static int
tid_lwp_lock(pid_t who, struct gp_lwp **lp, struct gp_proc **pp)
{
	struct gp_lwp *l = gpi_curlwp();
	struct gp_proc *p = NULL;
	pid_t pid;

	if (who < 0 || (who == 0 && l == NULL) ||
	    (who != 0 && (p = tid_proc(who)) == NULL))
		return 0;
	if (p == NULL) {
		p = __atomic_load_n(&l->l_proc, __ATOMIC_RELAXED);
		gpi_spin_lock(&p->p_lock);
	} else if ((l = gpi_lwp_tid_lock(p, who, &pid)) == NULL) {
		/* Main has exited: its kernel thread is the host's. */
		if (who < GPI_GREEN_TID_BASE)
			return 0;
		errno = ESRCH;
		return -1;
	}
	*lp = l;
	*pp = p;
	return 1;
}

/*
 * Read (*q) from, or record it in, green thread (who): 1 done (0 or -1
 * and errno in *r), 0 the kernel's.  (host) is the host's nice value,
 * what a thread that never set one answers.  The system calls (host
 * value, rlimit, capability) are the caller's, made before p_lock.
 */
static int
sched_green(pid_t who, struct sched_req *q, int host, long *r)
{
	struct gp_lwp *l;
	struct gp_proc *p;
	int g, old, policy, prio;

	if ((g = tid_lwp_lock(who, &l, &p)) <= 0) {
		*r = -1;
		return g != 0;
	}
	old = __atomic_load_n(&l->l_nice, __ATOMIC_RELAXED);
	old = old != 0 ? old - GPI_NICE_SET : host;
	policy = __atomic_load_n(&l->l_schedpolicy, __ATOMIC_RELAXED);
	prio = __atomic_load_n(&l->l_schedprio, __ATOMIC_RELAXED);
	*r = 0;
	if (!q->set) {
		q->policy = policy;
		/* Boosted by the priority-protect mutexes it holds (sync.c). */
		q->prio = prio > __atomic_load_n(&l->l_ppmax, __ATOMIC_RELAXED) ?
		    prio : __atomic_load_n(&l->l_ppmax, __ATOMIC_RELAXED);
		q->nice = old;
	} else if (gpi_sched_check(q->want_policy ? q->policy : policy,
	    q->want_prio ? q->prio : prio) != 0) {
		errno = EINVAL;
		*r = -1;
	} else if (q->want_nice && q->nice < old && !q->may_lower) {
		errno = EPERM;
		*r = -1;
	} else {
		if (q->want_policy)
			__atomic_store_n(&l->l_schedpolicy, q->policy,
			    __ATOMIC_RELAXED);
		if (q->want_prio)
			__atomic_store_n(&l->l_schedprio, q->prio,
			    __ATOMIC_RELAXED);
		if (q->want_nice)
			__atomic_store_n(&l->l_nice, q->nice + GPI_NICE_SET,
			    __ATOMIC_RELAXED);
	}
	gpi_spin_unlock(&p->p_lock);
	return 1;
}

/* ------------------------------------------------------------ nice values */

/*
 * Linux's nice value is a thread's (setpriority(PRIO_PROCESS, 0) and
 * nice() change the calling thread only, a pid names the thread of that
 * id): a green thread's would be its worker's, shared with every LWP
 * queued there, and the program's main thread under greenrun is not the
 * kernel's thread of the host pid, so libuv's check that pid 0 and
 * getpid() give one value failed.  As the scheduling policy above, a
 * green thread's nice value is recorded (l_nice) and answered, checked
 * as the kernel checks it, never applied.  PRIO_PROCESS of 0, or of the
 * id of a live green thread of the caller's process (gettid), is that
 * thread; any other (another process, PRIO_PGRP, PRIO_USER) is the
 * kernel's, which does not see the recorded values.
 */

/* The host's nice value (its main thread's): a thread's until it sets one. */
static int
nice_host(void)
{
	int v, e = errno;

	errno = 0;
	v = REAL(getpriority)(PRIO_PROCESS, (id_t)REAL(getpid)());
	if (v == -1 && errno != 0)
		v = 0;
	errno = e;
	return v;
}

/*
 * May a nice value go down to (v)?  Linux's can_nice: within RLIMIT_NICE
 * (20 - v at most the limit), or with CAP_SYS_NICE.
 */
static bool
nice_may_lower(int v)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	struct rlimit rl;

	if (getrlimit(RLIMIT_NICE, &rl) == 0 &&
	    (rl.rlim_cur == RLIM_INFINITY || (rlim_t)(20 - v) <= rl.rlim_cur))
		return true;
	if (GPI_LIBC(syscall)(SYS_capget, &h, d) != 0)
		return false;
	return (d[CAP_SYS_NICE / 32].effective &
	    (1u << (CAP_SYS_NICE % 32))) != 0;
}

/*
 * getpriority (set false) or setpriority (set true, to *v) for a green
 * thread: 1 with the answer in *v and *error (0 or an errno), or 0 if
 * (which, who) names no green thread (then it is the kernel's).
 */
static int
nice_green(int which, id_t who, bool set, int *v, int *error)
{
	struct sched_req q = { .set = set, .want_nice = set };
	long r;

	if (which != PRIO_PROCESS || who > INT_MAX || !names_green((pid_t)who))
		return 0;
	if (set) {
		q.nice = *v < -20 ? -20 : *v > 19 ? 19 : *v;
		q.may_lower = nice_may_lower(q.nice);
	}
	if (!sched_green((pid_t)who, &q, nice_host(), &r))
		return 0;
	/* setpriority's refusal is EACCES where sched_setattr's is EPERM. */
	*error = r == 0 ? 0 : errno == EPERM ? EACCES : errno;
	if (!set)
		*v = q.nice;
	return 1;
}

EXPORT int
getpriority(__priority_which_t which, id_t who)
{
	int v, error;

	if (!nice_green(which, who, false, &v, &error))
		return REAL(getpriority)(which, who);
	if (error != 0)
		return (errno = error, -1);
	return v;
}

EXPORT int
setpriority(__priority_which_t which, id_t who, int prio)
{
	int error;

	if (!nice_green(which, who, true, &prio, &error))
		return REAL(setpriority)(which, who, prio);
	return error != 0 ? (errno = error, -1) : 0;
}

/* glibc's nice calls its own getpriority and setpriority, not these. */
EXPORT int
nice(int inc)
{
	int v = 0, error = 0;

	if (!green())
		return REAL(nice)(inc);
	(void)nice_green(PRIO_PROCESS, 0, false, &v, &error);
	/* As glibc: no overflow past the range, EACCES is EPERM. */
	v = inc > 40 ? 19 : inc < -40 ? -20 : v + inc;
	(void)nice_green(PRIO_PROCESS, 0, true, &v, &error);
	if (error != 0)
		return (errno = error == EACCES ? EPERM : error, -1);
	(void)nice_green(PRIO_PROCESS, 0, false, &v, &error);
	return v;
}

/* ------------------------------------------------------------ sched_* */

/* EINVAL as the kernel's answer: 1, with *r -1. */
static int
einval(long *r)
{
	errno = EINVAL;
	*r = -1;
	return 1;
}

int
gpi_sched_green(long nr, const long *a, long *r)
{
	struct kernel_sched_attr *attr = (struct kernel_sched_attr *)a[1];
	struct sched_param *sp = (struct sched_param *)a[1];
	struct sched_req q = { 0 };
	pid_t who = (pid_t)a[0];
	uint32_t size;

	switch (nr) {
	case SYS_sched_getscheduler:
		if (!sched_green(who, &q, 0, r))
			return 0;
		if (*r == 0)
			*r = q.policy;
		return 1;
	case SYS_sched_getparam:
		if (sp == NULL)
			return einval(r);
		if (!sched_green(who, &q, 0, r))
			return 0;
		if (*r == 0)
			sp->sched_priority = q.prio;
		return 1;
	case SYS_sched_setscheduler:
		sp = (struct sched_param *)a[2];
		if (sp == NULL)
			return einval(r);
		q.set = q.want_policy = q.want_prio = true;
		q.policy = (int)a[1] & ~SCHED_RESET_ON_FORK;
		q.prio = sp->sched_priority;
		return sched_green(who, &q, 0, r);
	case SYS_sched_setparam:
		if (sp == NULL)
			return einval(r);
		q.set = q.want_prio = true;
		q.prio = sp->sched_priority;
		return sched_green(who, &q, 0, r);
	case SYS_sched_getattr:
		if (attr == NULL || a[3] != 0 || a[2] < SCHED_ATTR_SIZE_VER0 ||
		    a[2] > 4096)
			return einval(r);
		if (!names_green(who) || !sched_green(who, &q, nice_host(), r))
			return 0;
		if (*r == 0) {
			size = (uint32_t)a[2] < sizeof(*attr) ?
			    (uint32_t)a[2] : (uint32_t)sizeof(*attr);
			memset(attr, 0, size);
			attr->size = size;
			attr->sched_policy = (uint32_t)q.policy;
			attr->sched_nice = q.nice;
			attr->sched_priority = (uint32_t)q.prio;
		}
		return 1;
	case SYS_sched_setattr:
		if (attr == NULL || a[2] != 0 ||
		    (attr->sched_flags & ~(uint64_t)SCHED_FLAG_ALL) != 0 ||
		    (attr->size != 0 && attr->size < SCHED_ATTR_SIZE_VER0))
			return einval(r);
		q.set = true;
		q.want_policy = !(attr->sched_flags & SCHED_FLAG_KEEP_POLICY);
		q.want_prio = !(attr->sched_flags & SCHED_FLAG_KEEP_PARAMS);
		q.policy = (int)attr->sched_policy;
		/* The kernel applies a nice value to the normal policies only. */
		q.want_nice = q.want_prio && (q.policy == SCHED_OTHER ||
		    q.policy == SCHED_BATCH || q.policy == SCHED_IDLE);
		q.prio = (int)attr->sched_priority;
		q.nice = attr->sched_nice < -20 ? -20 :
		    attr->sched_nice > 19 ? 19 : attr->sched_nice;
		if (!names_green(who))
			return 0;
		q.may_lower = nice_may_lower(q.nice);
		return sched_green(who, &q, nice_host(), r);
	}
	return 0;
}

EXPORT int
sched_getscheduler(pid_t pid)
{
	long a[6] = { pid }, r;

	if (!gpi_sched_green(SYS_sched_getscheduler, a, &r))
		return REAL(sched_getscheduler)(pid);
	return (int)r;
}

EXPORT int
sched_setscheduler(pid_t pid, int policy, const struct sched_param *sp)
{
	long a[6] = { pid, policy, (long)sp }, r;

	if (!gpi_sched_green(SYS_sched_setscheduler, a, &r))
		return REAL(sched_setscheduler)(pid, policy, sp);
	return (int)r;
}

EXPORT int
sched_getparam(pid_t pid, struct sched_param *sp)
{
	long a[6] = { pid, (long)sp }, r;

	if (!gpi_sched_green(SYS_sched_getparam, a, &r))
		return REAL(sched_getparam)(pid, sp);
	return (int)r;
}

EXPORT int
sched_setparam(pid_t pid, const struct sched_param *sp)
{
	long a[6] = { pid, (long)sp }, r;

	if (!gpi_sched_green(SYS_sched_setparam, a, &r))
		return REAL(sched_setparam)(pid, sp);
	return (int)r;
}

/*
 * A green thread's own CPU-time clock (gpi_thread_clockid above; read by
 * clock.c from the LWP's run time, ARCHITECTURE 14).  Its worker's
 * kernel clock would count every LWP queued there.
 */
EXPORT int
pthread_getcpuclockid(pthread_t t, clockid_t *clock)
{
	struct gp_lwp *l;
	clockid_t c;

	if (!gpi_is_green_thread(t))
		return REAL(pthread_getcpuclockid)(t, clock);
	if ((l = live_lwp(t)) == NULL)
		return ESRCH;
	/* Not counted (GREENPROC_THREAD_CLOCK=0): none, as POSIX allows. */
	if (!gpi_lwp_clock_use(gpi_curlwp()))
		return ENOENT;
	if ((c = gpi_thread_clockid(l)) == 0)
		return ENOMEM;		/* no handle slot could be made */
	*clock = c;
	return 0;
}

EXPORT int
pthread_getaffinity_np(pthread_t t, size_t size, cpu_set_t *set)
{
	if (!gpi_is_green_thread(t))
		return REAL(pthread_getaffinity_np)(t, size, set);
	if (live_lwp(t) == NULL)
		return ESRCH;
	/* The host's: the CPUs its workers may run on. */
	return sched_getaffinity(0, size, set) == 0 ? 0 : errno;
}

/* 0 if (set) leaves a thread a CPU the host may use, else EINVAL. */
int
gpi_affinity_check(size_t size, const cpu_set_t *set)
{
	cpu_set_t host, both;

	if (sched_getaffinity(0, sizeof(host), &host) != 0)
		return errno;
	CPU_ZERO(&both);
	memcpy(&both, set, size < sizeof(both) ? size : sizeof(both));
	CPU_AND(&both, &both, &host);
	return CPU_COUNT(&both) == 0 ? EINVAL : 0;
}

/* Accepted if it leaves the thread a CPU the host may use; not applied. */
EXPORT int
pthread_setaffinity_np(pthread_t t, size_t size, const cpu_set_t *set)
{
	if (!gpi_is_green_thread(t))
		return REAL(pthread_setaffinity_np)(t, size, set);
	if (live_lwp(t) == NULL)
		return ESRCH;
	return gpi_affinity_check(size, set);
}
