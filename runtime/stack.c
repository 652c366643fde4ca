/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stack.c -- green thread stacks: slabs, guard pages, per-worker caches.
 *
 * Layout of one default-size stack inside a slab (addresses grow up):
 *
 *	| guard page | usable stack ... frames grow down | struct gp_lwp |
 *	^ slot start  ^ l_stklo                          ^ l (64-aligned)
 *
 * The LWP struct sits at the top of its stack, so one allocation makes
 * an LWP and a free stack is a free LWP (see internal.h).  Memory is
 * MAP_NORESERVE and committed only when touched: a fresh LWP costs the
 * page holding its struct and first frames.
 *
 * Guard pages are installed with MADV_GUARD_INSTALL (Linux >= 6.13),
 * which adds no VMA, so slabs stay one mapping each however many stacks
 * live.  Where the kernel lacks it we fall back to mprotect(PROT_NONE),
 * which splits the VMA at every guard: vm.max_map_count (65530 by
 * default) then caps the number of live stacks, and hitting it is said
 * once on stderr and reported as EAGAIN.  GREENPROC_GUARD=mprotect
 * forces the fallback (to test that limit, or where the madvise guards
 * are unwanted), =madvise refuses it (gp_init fails with ENOTSUP on a
 * kernel without them); auto, the default, is the above.  A stack whose
 * guard cannot be made is never handed out: a slab keeps the slots
 * guarded so far, an own mapping is unmapped again.
 *
 * Default-size stacks are cached per worker (owner only, no lock) and in
 * a global pool (stk_lock).  Other sizes get a mapping of their own,
 * returned at free.  An LWP given its creator's stack takes a default
 * slot for its struct and runs on the caller's memory
 * (gpi_stack_borrow), which is never freed, cached or guarded here.  Every mapping is on the slab list, so gpi_stack_fini
 * can unmap everything at shutdown (but a shutdown that gave up leaves
 * them all mapped: gpi_stack_abandon).
 */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#ifdef GPI_ASAN
#include <sanitizer/asan_interface.h>
#endif
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define GPI_VALGRIND 1
#endif

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL	102	/* glibc 2.36's headers lack it */
#endif

struct slab {
	struct slab	*s_next;	/* (s) */
	struct slab	*s_prev;	/* (s) */
	void		*s_base;	/* (c) */
	size_t		 s_len;		/* (c) */
};

/* (s): stk_lock.  Taken after any worker-owned state; never nested. */
static gpi_spin_t stk_lock = GPI_SPIN_INIT(GPI_RANK_STK);
static struct slab *slabs;		/* (s) Every mapping. */
static struct gp_lwp *stk_free;		/* (s) Free default-size stacks. */
static int stk_nfree;			/* (s) */
static size_t stk_default;		/* (s) Usable size of default stacks. */
static int guard_mode;			/* (s) 0 unknown (auto), then
					 * GPI_GUARD_MADVISE or _MPROTECT */
static bool guard_forced;		/* (s) GREENPROC_GUARD chose it */
static bool mapcount_warned;		/* (s) */

static size_t
pagesize(void)
{
	static size_t ps;

	if (ps == 0)
		ps = (size_t)sysconf(_SC_PAGESIZE);
	return ps;
}

size_t
gpi_stack_page(void)
{
	return pagesize();
}

size_t
gpi_stack_round(size_t bytes)
{
	size_t ps = pagesize();

	if (bytes < GPI_STACK_MIN || bytes > GPI_STACK_MAX)
		return 0;
	return (bytes + ps - 1) & ~(ps - 1);
}

static size_t
gpi_stack_round_up(size_t bytes)
{
	size_t ps = pagesize();

	return (bytes + ps - 1) & ~(ps - 1);
}

size_t
gpi_stack_default(void)
{
	long e;

	if (stk_default != 0)
		return stk_default;
	/* In GPI_STACK_MIN..GPI_STACK_MAX, or 0 (env.c). */
	e = gpi_env(GPI_ENV_STACK_SIZE);
	stk_default = e != 0 ? gpi_stack_round((size_t)e) : GPI_STACK_DEFAULT;
	return stk_default;
}

/*
 * Green-init mode makes glibc's default thread stack (8 MiB under the
 * usual RLIMIT_STACK) the default size, so that pthreads created without
 * a size come from the slabs and the caches.  Slabs already carved hold
 * stacks of the old size: too late then.
 */
int
gpi_stack_set_default(size_t bytes)
{
	int error = 0;

	if ((bytes = gpi_stack_round(bytes)) == 0)
		return EINVAL;
	gpi_spin_lock(&stk_lock);
	if (slabs != NULL)
		error = EBUSY;
	else
		stk_default = bytes;
	gpi_spin_unlock(&stk_lock);
	return error;
}

/*
 * GREENPROC_GUARD, at gp_init (before any stack is carved).  madvise is
 * tried on a scratch page, so that a kernel without it fails gp_init
 * rather than every spawn.  0 or ENOTSUP.
 */
int
gpi_stack_init(void)
{
	int mode = (int)gpi_env(GPI_ENV_GUARD), error = 0;
	void *p;

	if (mode == GPI_GUARD_MADVISE) {
		p = mmap(NULL, pagesize(), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return ENOMEM;
		if (madvise(p, pagesize(), MADV_GUARD_INSTALL) != 0)
			error = ENOTSUP;
		munmap(p, pagesize());
	}
	gpi_spin_lock(&stk_lock);
	guard_mode = mode == GPI_GUARD_AUTO ? 0 : mode;
	guard_forced = mode != GPI_GUARD_AUTO;
	gpi_spin_unlock(&stk_lock);
	return error;
}

/*
 * Make the (len) bytes at (p), whole pages, a guard: 0, or EAGAIN when
 * the kernel has no room for it (the map count).  Caller holds stk_lock.
 */
static int
guard(void *p, size_t len)
{
	/* Injected (debug builds): no room, as the kernel says it. */
	bool fail = GPI_FAILPT(GPI_FAIL_GUARD);

	GPI_LOCK_ASSERT(&stk_lock);
	if (len == 0 && !fail)
		return 0;		/* asked for none */
	if (guard_mode != GPI_GUARD_MPROTECT) {
		if (!fail && madvise(p, len, MADV_GUARD_INSTALL) == 0) {
			guard_mode = GPI_GUARD_MADVISE;
			return 0;
		}
		/* Only EINVAL says the kernel predates it. */
		if (fail || errno != EINVAL || guard_forced)
			return EAGAIN;
		guard_mode = GPI_GUARD_MPROTECT;
	}
	if (!fail && mprotect(p, len, PROT_NONE) == 0)
		return 0;
	if (fail)
		errno = ENOMEM;
	if (errno == ENOMEM && !mapcount_warned) {
		mapcount_warned = true;
		fprintf(stderr, "greenproc: cannot add a stack guard page: "
		    "vm.max_map_count reached (guards are mprotect()ed "
		    "here, %s, so each live stack costs a VMA); raise it "
		    "with sysctl vm.max_map_count\n", guard_forced ?
		    "GREENPROC_GUARD=mprotect" : "the kernel has no "
		    "MADV_GUARD_INSTALL");
	}
	return EAGAIN;
}

/*
 * Describe the stack of slot [slot, slot+len), whose first (guard_len) bytes
 * are its guard, as a free LWP.
 */
static struct gp_lwp *
slot_init(char *slot, size_t len, size_t guard_len, bool inslab)
{
	/*
	 * Colour the top of each stack: slots are a multiple of the page
	 * size apart, so without it every LWP's struct and saved registers
	 * sit at the same offset in their page, and a switch, which stores
	 * one context and loads the next, suffers 4K aliasing.  Up to 1 KiB
	 * of the top page goes unused; it is never touched, so costs no RSS
	 * beyond that page.
	 */
	uintptr_t color = (((uintptr_t)slot / pagesize()) * 5 * 64) & 1023;
	uintptr_t top = ((uintptr_t)slot + len - sizeof(struct gp_lwp) -
	    color) & ~(uintptr_t)63;
	struct gp_lwp *l = (struct gp_lwp *)top;

	l->l_stklo = l->l_ownlo = slot + guard_len;
	l->l_stksize = top - (uintptr_t)l->l_stklo;
	l->l_guard = guard_len;
	l->l_slab = inslab;
	/*
	 * The constructed state of a free LWP (see gpi_lwp_create): the
	 * fresh mapping is zero, which is right for every other field of
	 * it.
	 */
	l->l_heapidx = -1;
	l->l_sleeper.s_lwp = l;
	/*
	 * Its context, once: every LWP on this stack starts the same way,
	 * and gpi_lwp_create only renews it (gpi_md_renewctx, arch.h).
	 */
	gpi_md_makectx(&l->l_ctx, l->l_stklo, l, gpi_lwp_start, l);
#ifdef GPI_VALGRIND
	l->l_vgid = VALGRIND_STACK_REGISTER(l->l_stklo, top);
#endif
	return l;
}

/*
 * A slot is a whole number of pages and its struct, with its colour, lies
 * within its top page (slot_init: at most 1023 + 63 bytes below the end,
 * plus the struct), so the slot ends at the first page boundary above the
 * struct.  The struct comes out of the stack's size, as glibc's thread
 * descriptor and static TLS come out of a pthread's: glibc reports the
 * whole block (less the guard), and a program that asked for N bytes
 * checks that it got N (libuv's thread_stack_size test); l_stksize, the
 * bytes below the struct, is a little less.
 */
_Static_assert(sizeof(struct gp_lwp) + 1023 + 63 < 4096,
    "a stack's struct and colour fit in its top page");

size_t
gpi_stack_block(const struct gp_lwp *l)
{
	uintptr_t end = gpi_stack_round_up((uintptr_t)l + sizeof(*l));

	return end - (uintptr_t)l->l_ownlo;
}

/*
 * glibc reports a stack it allocated as the size asked for, rounded down
 * to its static TLS alignment (64 on x86-64: 100000 bytes asked are
 * reported as 99968), ending at the top of the block; and a caller's
 * stack (pthread_attr_setstack) exactly.  tst-stack1 and
 * tst-default-attr check both.  The block is at least the size asked
 * for (alloc_own adds room for the struct), so the report lies within
 * it.
 */
void
gpi_stack_report(const struct gp_lwp *l, void **lo, size_t *size)
{
	uintptr_t end;
	size_t n;

	if (l->l_ustack) {
		*lo = l->l_stklo;
		*size = l->l_stksize;
		return;
	}
	end = gpi_stack_round_up((uintptr_t)l + sizeof(*l));
	n = gpi_stack_block(l);
	if (l->l_stkasked != 0 && (l->l_stkasked & ~(size_t)63) <= n)
		n = l->l_stkasked & ~(size_t)63;
	*lo = (void *)(end - n);
	*size = n;
}

/*
 * A caller's stack.  The struct stays in the slot (internal.h, part 3 of
 * struct gp_lwp): nothing of the LWP but its frames and the three words
 * of its first context (gpi_md_makectx) is written there, so the caller
 * may reuse the stack once a join returns.  The slot's own stack keeps
 * what slot_init wrote at its top, untouched, for the slot's next LWP.
 * No guard: the caller's memory is the caller's to protect, as glibc
 * leaves it.
 */
void
gpi_stack_borrow(struct gp_lwp *l, void *lo, size_t size)
{
	KASSERT(!l->l_ustack && l->l_stklo == l->l_ownlo);
	l->l_stklo = lo;
	l->l_stksize = size;
	l->l_ustack = true;
	gpi_md_makectx(&l->l_ctx, lo, (char *)lo + size, gpi_lwp_start, l);
#ifdef GPI_VALGRIND
	l->l_uvgid = VALGRIND_STACK_REGISTER(lo, (char *)lo + size);
#endif
}

/*
 * Before (l)'s slot is freed, nobody on the caller's stack any more: the
 * slot describes its own stack again (its constructed state).  Under
 * ASan the caller's memory is unpoisoned first: the LWP never returned
 * from its first frames, whose redzones would stay poisoned in memory
 * the caller will reuse (see unmap_now).
 */
void
gpi_stack_unborrow(struct gp_lwp *l)
{
	KASSERT(l->l_ustack);
#ifdef GPI_ASAN
	ASAN_UNPOISON_MEMORY_REGION(l->l_stklo, l->l_stksize);
#endif
#ifdef GPI_VALGRIND
	VALGRIND_STACK_DEREGISTER(l->l_uvgid);
#endif
	l->l_stklo = l->l_ownlo;
	l->l_stksize = (uintptr_t)l - (uintptr_t)l->l_ownlo;
	l->l_ustack = false;
}

/*
 * Give (len) bytes at (base) back to the kernel.
 * NOTE: under ASan, first clear their shadow.  An LWP that dies never
 * returns from its first frames, so their redzones stay poisoned, and
 * ASan does not clear the shadow of memory unmapped behind its back: the
 * next mapping at that address (a stack of ours, a thread's, malloc's)
 * would inherit the poison.  Seen as a false stack-buffer-overflow in
 * gpi_md_makectx when a process's odd-sized stacks were unmapped and
 * remapped (dump/gp_dump_beside_exiting_processes, 8 runs in 12).
 */
static void
unmap_now(void *base, size_t len)
{
#ifdef GPI_ASAN
	ASAN_UNPOISON_MEMORY_REGION(base, len);
#endif
	munmap(base, len);
}

/* Map (len) bytes and record the mapping.  Caller holds stk_lock. */
static void *
map(size_t len)
{
	struct slab *s;
	void *p;

	GPI_LOCK_ASSERT(&stk_lock);
	if ((s = malloc(sizeof(*s))) == NULL)
		return NULL;
	p = GPI_FAILPT(GPI_FAIL_MMAP) ? (errno = ENOMEM, MAP_FAILED) :
	    mmap(NULL, len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
	if (p == MAP_FAILED) {
		free(s);
		return NULL;
	}
	s->s_base = p;
	s->s_len = len;
	GPI_DLIST_INSERT_HEAD(&slabs, s, s_next, s_prev);
	return p;
}

static void
unmap(void *base)
{
	struct slab *s;

	for (s = slabs; s != NULL && s->s_base != base; s = s->s_next)
		;
	KKASSERT(s != NULL);
	GPI_DLIST_REMOVE(&slabs, s, s_next, s_prev);
	unmap_now(s->s_base, s->s_len);
	free(s);
}

/* Carve a new slab into stk_free.  Caller holds stk_lock. */
static int
carve(void)
{
	size_t slot = gpi_stack_default() + pagesize();
	struct gp_lwp *l;
	char *base;
	int i, error;

	GPI_LOCK_ASSERT(&stk_lock);
	if ((base = map(slot * GPI_SLAB_STACKS)) == NULL)
		return errno == ENOMEM ? EAGAIN : errno;
	for (i = GPI_SLAB_STACKS - 1; i >= 0; i--) {
		if ((error = guard(base + i * slot, pagesize())) != 0) {
			/*
			 * Nothing usable in it: give the slab back, or each
			 * spawn at the map count would leave one mapped.
			 */
			if (i == GPI_SLAB_STACKS - 1) {
				unmap(base);
				return error;
			}
			break;
		}
		l = slot_init(base + i * slot, slot, pagesize(), true);
		l->l_next = stk_free;
		stk_free = l;
		stk_nfree++;
	}
	return 0;
}

/* A mapping of its own: (size) usable bytes above a (guard). */
static struct gp_lwp *
alloc_own(size_t size, size_t guard_len)
{
	/* The struct sits on top: add its room, so at least size is usable. */
	size_t len = size + guard_len + gpi_stack_round_up(
	    sizeof(struct gp_lwp) + 64);
	struct gp_lwp *l = NULL;
	char *base;
	int error = 0;

	gpi_spin_lock(&stk_lock);
	if ((base = map(len)) != NULL) {
		if ((error = guard(base, guard_len)) == 0)
			l = slot_init(base, len, guard_len, false);
		else
			unmap(base);
	}
	gpi_spin_unlock(&stk_lock);
	if (error != 0)
		errno = error;
	return l;
}

/* A stack handed out, (l), or NULL: counted, and clean for ASan. */
static struct gp_lwp *
counted(struct gp_worker *w, struct gp_lwp *l)
{
	if (l == NULL)
		return NULL;
#ifdef GPI_ASAN
	/* A reused stack may still carry poison from its last owner. */
	ASAN_UNPOISON_MEMORY_REGION(l->l_stklo, l->l_stksize);
#endif
	if (w != NULL)
		GPI_BUMP(w->w_nstacks, 1);
	else
		atomic_fetch_add(&gpi_rt.rt_nstacks, 1);
	return l;
}

/* gpi_stack_alloc (internal.h) for all but its inline common case. */
struct gp_lwp *
gpi_stack_alloc_slow(struct gp_worker *w, size_t size)
{
	struct gp_lwp *l;
	int n, error = 0;

	if (size == 0)
		size = gpi_stack_default();
	/*
	 * Armed for failure injection (debug builds), every stack is a
	 * mapping of its own, so that the requests the caches would save
	 * are made and can fail.
	 */
	if (size != gpi_stack_default() || GPI_FAILPT_ARMED()) {
		l = alloc_own(size, pagesize());
		goto out;
	}
	if (w != NULL && (l = w->w_stkcache) != NULL) {
		w->w_stkcache = l->l_next;
		w->w_nstkcache--;
		goto out;
	}
	gpi_spin_lock(&stk_lock);
	if (stk_free == NULL)
		error = carve();
	if ((l = stk_free) != NULL) {
		stk_free = l->l_next;
		stk_nfree--;
		/* Refill the worker's cache in one go: fewer lock trips. */
		for (n = 0; w != NULL && stk_free != NULL &&
		    n < GPI_WORKER_CACHE / 2; n++) {
			struct gp_lwp *c = stk_free;

			stk_free = c->l_next;
			stk_nfree--;
			c->l_next = w->w_stkcache;
			w->w_stkcache = c;
			w->w_nstkcache++;
		}
	}
	gpi_spin_unlock(&stk_lock);
	if (l == NULL)
		errno = error != 0 ? error : ENOMEM;
out:
	return counted(w, l);
}

struct gp_lwp *
gpi_stack_alloc_guarded(struct gp_worker *w, size_t size, size_t guard_len)
{
	return counted(w, alloc_own(size != 0 ? size : gpi_stack_default(),
	    guard_len));
}

/*
 * gpi_stack_free (internal.h) for all but a slab stack going into the
 * calling worker's cache: into the pool, or unmapped.  Never blocks.
 */
void
gpi_stack_free_slow(struct gp_worker *w, struct gp_lwp *l)
{
	struct gp_lwp *c;
	int i;

	if (w != NULL)
		GPI_BUMP(w->w_nstacks, -1);
	else
		atomic_fetch_sub(&gpi_rt.rt_nstacks, 1);
	if (!l->l_slab) {
		gpi_spin_lock(&stk_lock);
#ifdef GPI_VALGRIND
		VALGRIND_STACK_DEREGISTER(l->l_vgid);
#endif
		unmap((char *)l->l_ownlo - l->l_guard);
		gpi_spin_unlock(&stk_lock);
		return;
	}
	gpi_spin_lock(&stk_lock);
	l->l_next = stk_free;
	stk_free = l;
	stk_nfree++;
	/* A full worker cache gives half back, so others can use them. */
	for (i = 0; w != NULL && i < GPI_WORKER_CACHE / 2; i++) {
		c = w->w_stkcache;
		w->w_stkcache = c->l_next;
		w->w_nstkcache--;
		c->l_next = stk_free;
		stk_free = c;
		stk_nfree++;
	}
	gpi_spin_unlock(&stk_lock);
}

/*
 * Resident bytes of every stack mapping (mincore), and in *mapped their
 * size.  For the soak's RSS check: slabs are a cache that keeps its
 * high-water mark -- never unmapped before gpi_stack_fini, and carving
 * one touches the struct page of each of its GPI_SLAB_STACKS slots -- so
 * their resident size steps up (256 KiB a slab) at each new peak of
 * stacks in use or cached, and says nothing about a leak (live_stacks
 * does).  Holds stk_lock across the system calls: diagnostics only.
 */
size_t
gpi_stack_resident(size_t *mapped)
{
	unsigned char vec[256];
	size_t ps = pagesize(), res = 0, map_len = 0, off, n, i;
	struct slab *s;

	gpi_spin_lock(&stk_lock);
	for (s = slabs; s != NULL; s = s->s_next) {
		map_len += s->s_len;
		for (off = 0; off < s->s_len; off += n * ps) {
			n = (s->s_len - off) / ps;
			if (n > sizeof(vec))
				n = sizeof(vec);
			if (mincore((char *)s->s_base + off, n * ps, vec) != 0)
				break;
			for (i = 0; i < n; i++)
				res += (vec[i] & 1) * ps;
		}
	}
	gpi_spin_unlock(&stk_lock);
	if (mapped != NULL)
		*mapped = map_len;
	return res;
}

/* Give (w)'s cached stacks back to the global pool. */
void
gpi_stack_drain(struct gp_worker *w)
{
	struct gp_lwp *l;

	gpi_spin_lock(&stk_lock);
	while ((l = w->w_stkcache) != NULL) {
		w->w_stkcache = l->l_next;
		l->l_next = stk_free;
		stk_free = l;
		stk_nfree++;
	}
	w->w_nstkcache = 0;
	gpi_spin_unlock(&stk_lock);
}

/* In a forked child (fork.c): the parent's stacks are not ours to hand out. */
void
gpi_stack_forget(void)
{
	gpi_spin_reset(&stk_lock);
	slabs = NULL;
	stk_free = NULL;
	stk_nfree = 0;
}

/*
 * After a shutdown that gave up: an abandoned worker may still run on a
 * stack of any slab (its stuck LWP), and owns others (its queued LWPs,
 * its cache), so no slab is unmapped, ever.  They are forgotten instead:
 * the next runtime carves its own, and the next gpi_stack_fini cannot
 * reach these.  Only the bookkeeping goes.  Returns the bytes left.
 */
size_t
gpi_stack_abandon(void)
{
	struct slab *s;
	size_t left = 0;

	gpi_spin_lock(&stk_lock);
	while ((s = slabs) != NULL) {
		slabs = s->s_next;
		left += s->s_len;
		free(s);
	}
	stk_free = NULL;
	stk_nfree = 0;
	stk_default = 0;
	gpi_spin_unlock(&stk_lock);
	return left;
}

/*
 * Unmap every stack.  Caller guarantees no LWP lives and no thread runs
 * on any of them (gp_shutdown after the workers stopped).
 */
void
gpi_stack_fini(void)
{
	struct slab *s;

	gpi_spin_lock(&stk_lock);
#ifdef GPI_VALGRIND
	{
		struct gp_lwp *l;

		for (l = stk_free; l != NULL; l = l->l_next)
			VALGRIND_STACK_DEREGISTER(l->l_vgid);
	}
#endif
	while ((s = slabs) != NULL) {
		slabs = s->s_next;
		unmap_now(s->s_base, s->s_len);
		free(s);
	}
	stk_free = NULL;
	stk_nfree = 0;
	stk_default = 0;
	gpi_spin_unlock(&stk_lock);
}
