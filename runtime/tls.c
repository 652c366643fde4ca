/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tls.c -- per-LWP thread-local storage (issue 16).
 *
 * A program's __thread / thread_local variables live in its kernel
 * thread's static TLS, at fixed offsets from the thread pointer, so all
 * LWPs of a worker share them.  Giving each LWP its own thread pointer
 * would cost an arch_prctl(ARCH_SET_FS) per switch (~1-3 us here), or
 * wrfsbase where the kernel allows it (HWCAP2_FSGSBASE) but then every
 * LWP needs a whole glibc thread descriptor (tid, robust list, malloc's
 * tcache, locale, dlerror...), which glibc builds only in pthread_create.
 * Instead the switch *copies*: the worker keeps one set of blocks, and
 * an LWP that takes part (l_tls != NULL) has a save area of the same
 * size.  Switching to such an LWP saves the blocks into the area of the
 * worker's owner (w_tlsowner) and loads the incoming LWP's: two memcpys
 * per module, tens of ns for the usual few hundred bytes (section 27 of
 * docs/ARCHITECTURE.md has the numbers).  Lazily: a switch to an LWP
 * that takes no part, or to the owner itself, copies nothing, so LWPs
 * that take no part pay one predictable branch.
 *
 * What is switched (the "table", its static part built once): the static
 * TLS block of every module loaded when the table is built that has one
 * -- the executable and the libraries it links, libstdc++ included --
 * except:
 *   - libc's: malloc's tcache, the locale, _res, dlerror's state, the
 *     stdio and pthread internals are per kernel thread and must stay
 *     with the worker (errno is already per LWP: sched.c); but h_errno,
 *     an int of it, is switched on its own;
 *   - the runtime's own (gpi_tls_worker and the rest: per worker by
 *     design);
 *   - the sanitizer runtimes' (their state follows the kernel thread);
 *   - the malloc's, when the program's malloc is not libc's (jemalloc,
 *     tcmalloc, mimalloc...): like libc's, its thread cache is the
 *     kernel thread's.  jemalloc links its per-thread state by address
 *     into global lists, so switched it would have the worker's one
 *     address registered once per LWP; and a copy of the host main
 *     thread's values given to greenrun's main LWP (GPI_TLS_CALLER)
 *     would have two threads handing out the same cached blocks;
 *
 * Modules dlopen'd later (libjvm.so under java, a plugin) have *dynamic*
 * TLS: each thread's block is malloc'd by ld.so on the thread's first
 * use and found through the thread's DTV (dtv[modid]), at an address that
 * differs from thread to thread and may not exist yet.  They are switched
 * too, as "dynamic ranges" appended to the table by whichever worker
 * first sees them: a worker looks again (dl_iterate_phdr, under t_lock)
 * whenever its DTV's generation changed, which every load or unload of a
 * module with TLS does before the worker can touch that module's TLS.
 * At a switch the worker's block for each range it knows is read from
 * its DTV; when the block does not exist yet, nothing on this worker has
 * touched the module, so there is nothing to save and the incoming LWP's
 * values are the image's anyway (a started LWP never leaves its worker).
 * An LWP's values of a range are in its area only if its a_valid bit is
 * set; else it gets the image, as a native thread's first use does.
 * Reading the DTV is glibc's layout, not its API: each look checks it
 * against what dl_iterate_phdr says (dlpi_tls_data), and a mismatch turns
 * dynamic ranges off for good (they stay per worker, as before).
 *
 * NOTE: an address of a switched variable is the *worker's* slot: it
 * holds whichever LWP's value is loaded.  A pointer to a thread-local
 * handed to another LWP (or kept across a switch by anyone but its
 * owner) reads and writes the value of whatever LWP last ran there.
 *
 * INVARIANT: w_tlsowner is the only LWP whose save area is stale (its
 * values are in the blocks); it is set and read by its worker only, and
 * reset when the owner dies (gpi_tls_lwp_dying), before its save area
 * can be freed.  A started LWP never leaves its worker, so its values
 * are never in two workers' blocks.
 */
#include <dlfcn.h>
#include <link.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define TLS_MAXMOD	16	/* more static modules stay per worker */
#define TLS_MAXRANGE	32	/* in all (a_valid and w_tlsmods bits) */

/*
 * One switched range: the block <-> area->a_data + r_save, r_len bytes.
 * A static range's block is at tp + r_off in every thread; a dynamic
 * one's is dtv[r_modid] of the thread, if allocated.  Immutable once
 * published (t_n).
 */
struct tlsrange {
	ptrdiff_t	 r_off;		/* static: from the thread pointer */
	size_t		 r_len;
	size_t		 r_save;	/* in the save area */
	size_t		 r_modid;	/* dynamic: its DTV index; 0: static */
	uintptr_t	 r_base;	/* dynamic: dlpi_addr, which with
					 * r_modid and r_len names the module */
	const char	*r_init;	/* dynamic: .tdata, r_filesz bytes, */
	size_t		 r_filesz;	/* then zeroes to r_len */
	atomic_bool	 r_dead;	/* dynamic: its module was unloaded
					 * (gpi_tls_unloaded); a reload gets
					 * a new range, fresh for every LWP.
					 * Relaxed: the worker's DTV changed
					 * before it can touch a new module */
};

/* An LWP's save area (l_tls). */
struct tlsarea {
	size_t		 a_cap;		/* bytes of a_data */
	uint32_t	 a_valid;	/* dynamic ranges whose values it holds */
	char		 a_data[] __attribute__((aligned(16)));
};

/* glibc's DTV entry (x86-64: %fs:8 points at dtv[0]; dtv[-1] is its
 * length, dtv[0] its generation).  Checked on every look (dyn_look). */
union dtv {
	size_t		 counter;
	struct {
		void	*val;		/* (void *)-1: not allocated */
		void	*to_free;
	} pointer;
};
#define DTV_UNALLOCATED	((void *)-1L)

struct gpi_tlsdtor {
	void		(*d_fn)(void *);
	void		*d_obj;
	struct gpi_tlsdtor *d_next;
};

/*
 * The table: written once by the thread that wins t_state 0 -> 1,
 * published by the release store of 2; read after an acquire load of 2
 * (gpi_tls_lwp_init), and by the switch only for LWPs that have l_tls,
 * which exist only after that.
 */
static struct {
	atomic_int	 t_state;	/* 0 unbuilt, 1 building, 2 built */
	int		 t_nstatic;	/* (g) static ranges, h_errno last */
	int		 t_nmod;	/* (g) of them modules */
	size_t		 t_size;	/* (g) their save area bytes */
	char		*t_image;	/* (g) their initial values */
	size_t		 t_static;	/* (g) ld.so's static TLS size; 0: no
					 * table (not ported, no ld.so info) */
	const void	*t_excl[4];	/* (g) addresses in modules left out */
	gpi_spin_t	 t_lock;	/* dynamic ranges' appends; leaf, held
					 * across dl_iterate_phdr */
	atomic_int	 t_n;		/* (t) ranges published: written under
					 * t_lock (release), read anywhere
					 * (acquire) */
	size_t		 t_dynsize;	/* (t) save bytes past t_size; read
					 * relaxed unlocked (a new LWP's
					 * area size: areas grow at need) */
	atomic_bool	 t_dynoff;	/* a DTV did not look like glibc's:
					 * no dynamic ranges (relaxed: the
					 * worst a late reader does is one
					 * more copy it has checked) */
	struct tlsrange	 t_r[TLS_MAXRANGE];	/* (g) static, (t) dynamic */
} tls = { .t_lock = GPI_SPIN_INIT(GPI_RANK_TLS) };

static inline char *
thread_pointer(void)
{
#if defined(__x86_64__)
	char *tp;

	__asm__("movq %%fs:0, %0" : "=r"(tp));	/* the TCB's self pointer */
	return tp;
#else
	return NULL;	/* not ported: the table stays empty */
#endif
}

static bool
in_block(const void *a, const char *b, size_t len)
{
	return (const char *)a >= b && (const char *)a < b + len;
}

static bool
in_load(struct dl_phdr_info *info, const void *a)
{
	const char *lo;
	int i;

	for (i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type != PT_LOAD)
			continue;
		lo = (const char *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
		if (in_block(a, lo, info->dlpi_phdr[i].p_memsz))
			return true;
	}
	return false;
}

static const ElfW(Phdr) *
tls_phdr(struct dl_phdr_info *info)
{
	int i;

	for (i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_TLS &&
		    info->dlpi_phdr[i].p_memsz != 0)
			return &info->dlpi_phdr[i];
	return NULL;
}

/*
 * Left out, per worker: libc and the runtime (by a variable of theirs in
 * this thread's block (b), if it has one), sanitizers and the malloc's
 * (by an address in their code).
 */
static bool
excluded(struct dl_phdr_info *info, const char *b, size_t len)
{
	size_t i;

	if (b != NULL && (in_block(&errno, b, len) ||
	    in_block((const void *)&gpi_tls_worker, b, len)))
		return true;
	for (i = 0; i < sizeof(tls.t_excl) / sizeof(tls.t_excl[0]); i++)
		if (tls.t_excl[i] != NULL && in_load(info, tls.t_excl[i]))
			return true;
	return false;
}

/*
 * The libraries the runtime dlopens for itself (pid.c, unwas.c,
 * unwsym.c): their TLS is the worker's, as the runtime's own is --
 * liburcu's reader state above all: a read-side section belongs to the
 * kernel thread, and switched per LWP it would stall every grace period.
 * By name, because a look may come between their dlopen and anything
 * the runtime could register after it.
 */
static const char *const rt_libs[] = { "liburcu", "libunwind", "libdw.",
    "libelf." };

/*
 * Is the file name of (path) (NULL: none) one of (names), a name each
 * matching as a prefix ("libgomp.so" names libgomp.so.1)?
 */
bool
gpi_lib_named(const char *path, const char *const *names, size_t n)
{
	const char *base = strrchr(path != NULL ? path : "", '/');
	size_t i;

	base = base != NULL ? base + 1 : (path != NULL ? path : "");
	for (i = 0; i < n; i++)
		if (strncmp(base, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

static bool
runtime_lib(const char *path)
{
	return gpi_lib_named(path, rt_libs, sizeof(rt_libs) /
	    sizeof(rt_libs[0]));
}

/* Is (b) one of this thread's static blocks (variant II: below tp)? */
static bool
in_static(const char *b, size_t len, const char *tp)
{
	return b != NULL && b < tp && b >= tp - tls.t_static &&
	    b + len <= tp;
}

static int
scan_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Phdr) *ph = tls_phdr(info);
	char *b = info->dlpi_tls_data, *tp = arg;
	struct tlsrange *r;

	(void)size;
	if (ph == NULL || tls.t_nstatic >= TLS_MAXMOD ||
	    !in_static(b, ph->p_memsz, tp) || excluded(info, b, ph->p_memsz))
		return 0;
	r = &tls.t_r[tls.t_nstatic++];
	r->r_off = b - tp;
	r->r_len = ph->p_memsz;
	r->r_save = tls.t_size;
	tls.t_size += (ph->p_memsz + 15) & ~(size_t)15;
	return 0;
}

/* The second pass: each range's initial image (.tdata, then zeroes). */
static int
image_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Phdr) *ph = tls_phdr(info);
	char *b = info->dlpi_tls_data, *tp = arg;
	int k;

	(void)size;
	if (ph == NULL || b == NULL)
		return 0;
	for (k = 0; k < tls.t_nmod; k++)
		if (tls.t_r[k].r_off == b - tp)
			memcpy(tls.t_image + tls.t_r[k].r_save,
			    (const char *)(info->dlpi_addr + ph->p_vaddr),
			    ph->p_filesz);
	return 0;
}

/*
 * Where the program's (name) is defined.  A non-PIE executable that
 * takes the address of a function it calls (node takes malloc's) makes
 * its PLT entry the function's address for everyone: dlsym returns that,
 * an undefined symbol of the executable, which implements nothing.  The
 * definition is then the next one in the lookup order (and the
 * executable's TLS was left out as the malloc's: node's isolates shared
 * one "current isolate" per worker and crashed).
 */
static const void *
defined_at(const char *name)
{
	const void *a = dlsym(RTLD_DEFAULT, name);
	const ElfW(Sym) *sym = NULL;
	Dl_info di;

	if (a != NULL && dladdr1(a, &di, (void **)&sym, RTLD_DL_SYMENT) != 0 &&
	    sym != NULL && sym->st_shndx == SHN_UNDEF)
		a = dlsym(RTLD_NEXT, name);
	return a;
}

static void
build(void)
{
	void (*info)(size_t *, size_t *);
	static const char *const san[3] = { "__asan_init", "__tsan_init",
	    "__msan_init" };
	size_t align = 0;
	char *tp;
	int i;

	if ((tp = thread_pointer()) == NULL)
		return;
	/*
	 * ld.so's size of the static TLS area (GLIBC_PRIVATE, hence dlsym):
	 * it tells static blocks from dynamic ones, which are malloc'd.
	 */
	info = (void (*)(size_t *, size_t *))dlsym(RTLD_DEFAULT,
	    "_dl_get_tls_static_info");
	if (info == NULL)
		return;
	info(&tls.t_static, &align);
	for (i = 0; i < 3; i++)
		tls.t_excl[i] = defined_at(san[i]);
	/* The malloc the program calls (libc's block is out already). */
	tls.t_excl[3] = defined_at("malloc");
	GPI_LIBC(dl_iterate_phdr)(scan_one, tp);
	/*
	 * No program TLS: no static range, not even h_errno's, and nobody
	 * allocates a save area (tls_none) until a dlopen'd module's comes.
	 */
	if (tls.t_nstatic == 0)
		return;
	/* h_errno is libc's, but a program's view of it is its own. */
	tls.t_nmod = tls.t_nstatic;
	tls.t_r[tls.t_nstatic].r_off = (char *)&h_errno - tp;
	tls.t_r[tls.t_nstatic].r_len = sizeof(int);
	tls.t_r[tls.t_nstatic].r_save = tls.t_size;
	tls.t_size += 16;
	tls.t_nstatic++;
	if ((tls.t_image = calloc(1, tls.t_size)) == NULL) {
		tls.t_static = 0;	/* no table: nobody takes part */
		return;
	}
	GPI_LIBC(dl_iterate_phdr)(image_one, tp);
	/* h_errno starts at 0 in a new thread, as natively. */
	atomic_store_explicit(&tls.t_n, tls.t_nstatic, memory_order_release);
}

static void
build_once(void)
{
	int st = 0;

	if (atomic_load_explicit(&tls.t_state, memory_order_acquire) == 2)
		return;
	if (atomic_compare_exchange_strong(&tls.t_state, &st, 1)) {
		build();
		atomic_store_explicit(&tls.t_state, 2, memory_order_release);
		return;
	}
	while (atomic_load_explicit(&tls.t_state, memory_order_acquire) != 2)
		gpi_md_relax();		/* a dl_iterate_phdr: short */
}

/* ------------------------------------------------------ dynamic ranges */

static inline union dtv *
thread_dtv(const char *tp)
{
	return *(union dtv *const *)(tp + sizeof(void *));
}

/* This thread's block of dynamic range (r), or NULL: none allocated. */
static inline char *
dyn_block(const union dtv *dtv, const struct tlsrange *r)
{
	void *b;

	if (r->r_modid > dtv[-1].counter)
		return NULL;
	b = dtv[r->r_modid].pointer.val;
	return b == DTV_UNALLOCATED ? NULL : b;
}

struct look {
	const char	*k_tp;
	const union dtv	*k_dtv;		/* NULL: no DTV check (another
					 * thread's values are wanted) */
	uint32_t	 k_mods;	/* out: the ranges this thread knows */
	struct tlsarea	*k_area;	/* CALLER: copy this thread's */
};

/* Is (r) the dynamic range of module (info), whose PT_TLS is (ph)? */
static bool
range_of(const struct tlsrange *r, struct dl_phdr_info *info,
    const ElfW(Phdr) *ph)
{
	return r->r_modid == info->dlpi_tls_modid &&
	    r->r_base == info->dlpi_addr && r->r_len == ph->p_memsz;
}

/*
 * The dynamic range of module (info), appended if new and there is room;
 * -1 if it takes no part.  Called with t_lock held.
 */
static int
dyn_range(struct dl_phdr_info *info, const ElfW(Phdr) *ph)
{
	int k, n = atomic_load_explicit(&tls.t_n, memory_order_relaxed);
	struct tlsrange *r;

	for (k = tls.t_nstatic; k < n; k++) {
		r = &tls.t_r[k];
		if (range_of(r, info, ph) &&
		    !atomic_load_explicit(&r->r_dead, memory_order_relaxed))
			return k;
	}
	if (n >= TLS_MAXRANGE ||
	    excluded(info, info->dlpi_tls_data, ph->p_memsz) ||
	    runtime_lib(info->dlpi_name))
		return -1;
	r = &tls.t_r[n];
	atomic_init(&r->r_dead, false);
	r->r_off = 0;
	r->r_len = ph->p_memsz;
	r->r_save = tls.t_size + tls.t_dynsize;
	r->r_modid = info->dlpi_tls_modid;
	r->r_base = info->dlpi_addr;
	r->r_init = (const char *)(info->dlpi_addr + ph->p_vaddr);
	r->r_filesz = ph->p_filesz;
	__atomic_store_n(&tls.t_dynsize, tls.t_dynsize +
	    ((ph->p_memsz + 15) & ~(size_t)15), __ATOMIC_RELAXED);
	atomic_store_explicit(&tls.t_n, n + 1, memory_order_release);
	return n;
}

static int
look_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Phdr) *ph = tls_phdr(info);
	struct look *lk = arg;
	const struct tlsrange *r;
	char *b = info->dlpi_tls_data, *d;
	int k;

	(void)size;
	if (ph == NULL || info->dlpi_tls_modid == 0)
		return 0;
	/* A static range already? */
	for (k = 0; k < tls.t_nmod; k++)
		if (b != NULL && tls.t_r[k].r_off == b - lk->k_tp)
			return 0;
	if ((k = dyn_range(info, ph)) < 0)
		return 0;
	r = &tls.t_r[k];
	if (lk->k_dtv != NULL) {
		/* What glibc says this thread's block is, we must read. */
		d = dyn_block(lk->k_dtv, r);
		if (d != b)
			atomic_store_explicit(&tls.t_dynoff, true,
			    memory_order_relaxed);
	}
	lk->k_mods |= 1U << k;
	if (lk->k_area != NULL && b != NULL &&
	    lk->k_area->a_cap >= r->r_save + r->r_len) {
		memcpy(lk->k_area->a_data + r->r_save, b, r->r_len);
		lk->k_area->a_valid |= 1U << k;
	}
	return 0;
}

/*
 * Find the dynamic ranges this thread's DTV knows, appending new modules
 * to the table: (lk)->k_mods.  ld.so's lock is taken by dl_iterate_phdr
 * after t_lock, never before it (look_one takes nothing).
 */
static void
dyn_look(struct look *lk)
{
	gpi_spin_lock(&tls.t_lock);
	GPI_LIBC(dl_iterate_phdr)(look_one, lk);
	gpi_spin_unlock(&tls.t_lock);
	if (atomic_load_explicit(&tls.t_dynoff, memory_order_relaxed))
		lk->k_mods = 0;
}

/* This worker's w_tlsmods, found again if its DTV changed since. */
static inline uint32_t
dyn_mods(struct gp_worker *w, const char *tp, const union dtv *dtv)
{
	if (unlikely(w->w_tlsgen != dtv[0].counter + 1)) {
		struct look lk = { .k_tp = tp, .k_dtv = dtv };

		dyn_look(&lk);
		w->w_tlsmods = lk.k_mods;
		w->w_tlsgen = dtv[0].counter + 1;
	}
	return w->w_tlsmods;
}

/*
 * The save area of an LWP that has nothing to save yet: a program
 * without static TLS, before any module with TLS is dlopen'd.  Shared
 * and never written (a_valid is 0, and only set bits are cleared).
 */
static struct tlsarea tls_none;

/* (l)'s area, with room for (need) bytes; false: no memory. */
static bool
area_fit(struct gp_lwp *l, size_t need)
{
	struct tlsarea *a = l->l_tls;

	if (a->a_cap >= need)
		return true;
	if ((a = realloc(a == &tls_none ? NULL : a, sizeof(*a) + need)) ==
	    NULL)
		return false;
	if (l->l_tls == &tls_none)
		a->a_valid = 0;
	a->a_cap = need;
	l->l_tls = a;
	return true;
}

/* (l) does not hold its values of range bit (bit). */
static inline void
area_forget(struct gp_lwp *l, uint32_t bit)
{
	struct tlsarea *a = l->l_tls;

	if ((a->a_valid & bit) != 0)
		a->a_valid &= ~bit;
}

/*
 * The dynamic half of gpi_tls_switch: save the owner's (o, may be NULL)
 * values of every dynamic range this worker knows, load (to)'s.
 */
static void
dyn_switch(struct gp_worker *w, struct gp_lwp *o, struct gp_lwp *to,
    const char *tp)
{
	const union dtv *dtv = thread_dtv(tp);
	const struct tlsrange *r;
	struct tlsarea *out, *in;
	uint32_t mods, bit;
	char *b;
	int k;

	for (mods = dyn_mods(w, tp, dtv); mods != 0; mods &= mods - 1) {
		k = __builtin_ctz(mods);
		bit = 1U << k;
		r = &tls.t_r[k];
		if (atomic_load_explicit(&r->r_dead, memory_order_relaxed))
			continue;
		/* No block: nobody here touched it, to's values are fresh. */
		if ((b = dyn_block(dtv, r)) == NULL) {
			if (o != NULL)
				area_forget(o, bit);
			continue;
		}
		if (o != NULL) {
			if (area_fit(o, r->r_save + r->r_len)) {
				out = o->l_tls;
				memcpy(out->a_data + r->r_save, b, r->r_len);
				out->a_valid |= bit;
			} else {
				/* No memory: its values are lost, not mixed. */
				area_forget(o, bit);
			}
		}
		in = to->l_tls;
		if ((in->a_valid & bit) != 0) {
			memcpy(b, in->a_data + r->r_save, r->r_len);
		} else {
			memcpy(b, r->r_init, r->r_filesz);
			memset(b + r->r_filesz, 0, r->r_len - r->r_filesz);
		}
	}
}

/* ------------------------------------------------------------ the LWPs */

int
gpi_tls_lwp_init(struct gp_lwp *l, int mode)
{
	struct tlsarea *a;
	size_t cap;
	char *tp;
	int k;

	l->l_tls = NULL;
	l->l_tlsdtors = NULL;
	if (mode <= GPI_TLS_OFF)
		return 0;
	build_once();
	if (tls.t_static == 0)
		return 0;
	tp = thread_pointer();
	if (mode == GPI_TLS_CALLER) {
		/* The caller's dlopen'd modules get their ranges first. */
		struct look lk = { .k_tp = tp };

		dyn_look(&lk);
	}
	cap = tls.t_size + __atomic_load_n(&tls.t_dynsize, __ATOMIC_RELAXED);
	if (cap == 0) {
		l->l_tls = &tls_none;	/* a create without a malloc */
		return 0;
	}
	if ((a = malloc(sizeof(*a) + cap)) == NULL)
		return EAGAIN;		/* pthread_create's "no resources" */
	a->a_cap = cap;
	a->a_valid = 0;		/* dynamic ranges: the images */
	l->l_tls = a;
	if (mode == GPI_TLS_INIT) {
		if (tls.t_size != 0)
			memcpy(a->a_data, tls.t_image, tls.t_size);
		return 0;
	}
	for (k = 0; k < tls.t_nstatic; k++)
		memcpy(a->a_data + tls.t_r[k].r_save, tp + tls.t_r[k].r_off,
		    tls.t_r[k].r_len);
	{
		/* The caller's values of those (the blocks it has). */
		struct look lk = { .k_tp = tp, .k_area = a };

		dyn_look(&lk);
	}
	return 0;
}

void
gpi_tls_lwp_free(struct gp_lwp *l)
{
	struct gpi_tlsdtor *d;

	/* Destructors not run: it was killed (natively: a process exit). */
	while ((d = l->l_tlsdtors) != NULL) {
		l->l_tlsdtors = d->d_next;
		free(d);
	}
	/* Most LWPs have none: no call into libc for free(NULL). */
	if (l->l_tls != NULL) {
		if (l->l_tls != &tls_none)
			free(l->l_tls);
		l->l_tls = NULL;
	}
}

/* Out of line: switch_to's common path stays as short as it was. */
__attribute__((noinline)) void
gpi_tls_switch(struct gp_worker *w, struct gp_lwp *to)
{
	struct gp_lwp *o = w->w_tlsowner;
	char *tp = thread_pointer(), *in, *out;
	const struct tlsrange *r = tls.t_r, *end = r + tls.t_nstatic;

	in = ((struct tlsarea *)to->l_tls)->a_data;
	if (o != NULL) {
		out = ((struct tlsarea *)o->l_tls)->a_data;
		for (; r < end; r++) {
			memcpy(out + r->r_save, tp + r->r_off, r->r_len);
			memcpy(tp + r->r_off, in + r->r_save, r->r_len);
		}
	} else {
		for (; r < end; r++)
			memcpy(tp + r->r_off, in + r->r_save, r->r_len);
	}
	if (!atomic_load_explicit(&tls.t_dynoff, memory_order_relaxed))
		dyn_switch(w, o, to, tp);
	w->w_tlsowner = to;
}

void
gpi_tls_run_dtors(struct gp_lwp *l)
{
	struct gpi_tlsdtor *d;

	/* A destructor may register more (it touches another thread_local). */
	while ((d = l->l_tlsdtors) != NULL) {
		l->l_tlsdtors = d->d_next;
		d->d_fn(d->d_obj);
		free(d);
	}
}

static int
alive_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	const ElfW(Phdr) *ph = tls_phdr(info);
	uint32_t *alive = arg;
	int k, n = atomic_load_explicit(&tls.t_n, memory_order_relaxed);

	(void)size;
	for (k = tls.t_nstatic; ph != NULL && k < n; k++)
		if (range_of(&tls.t_r[k], info, ph))
			*alive |= 1U << k;
	return 0;
}

/*
 * After a dlclose: the ranges of modules no longer loaded die, so that
 * the module's next load is a new range, the image's for every LWP, as
 * natively a reloaded module's TLS is.  (The preload's dlclose; a
 * library user's own dlclose does not come here.)
 */
void
gpi_tls_unloaded(void)
{
	uint32_t alive = 0;
	int k, n;

	if (atomic_load_explicit(&tls.t_state, memory_order_acquire) != 2 ||
	    atomic_load_explicit(&tls.t_n, memory_order_acquire) ==
	    tls.t_nstatic)
		return;
	gpi_spin_lock(&tls.t_lock);
	GPI_LIBC(dl_iterate_phdr)(alive_one, &alive);
	n = atomic_load_explicit(&tls.t_n, memory_order_relaxed);
	for (k = tls.t_nstatic; k < n; k++)
		if ((alive & (1U << k)) == 0)
			atomic_store_explicit(&tls.t_r[k].r_dead, true,
			    memory_order_relaxed);
	gpi_spin_unlock(&tls.t_lock);
}

/*
 * Is (obj) in one of the static blocks switched?  NOTE: an object of a
 * dlopen'd module stays on glibc's per-worker list: glibc pins its
 * module against dlclose until the destructor ran, which a list of ours
 * could not do without its link map.
 */
static bool
switched(const void *obj)
{
	char *tp = thread_pointer();
	int k;

	for (k = 0; k < tls.t_nstatic; k++)
		if (in_block(obj, tp + tls.t_r[k].r_off, tls.t_r[k].r_len))
			return true;
	return false;
}

/*
 * (obj), which green thread (l) is about to sleep on, is one of its own
 * switched thread-locals: only a thread that has its address can wake
 * it, and that address is the worker's slot (the NOTE at the top), so
 * the waker's stores and wake-up reach whichever LWP's values are loaded
 * there, not necessarily l's.  Say so once per process on stderr, so a
 * hang that follows is explained.  MariaDB's InnoDB group commit queues
 * its threads' thread_local waiters so (section 21).
 */
static atomic_bool tls_wait_said;	/* the message was written: set once,
					 * by the exchange that lets one
					 * writer through (relaxed: it
					 * orders nothing else) */

void
gpi_tls_wait_check(struct gp_lwp *l, const void *obj)
{
	static const char msg[] = "greenproc: a thread waits on its own "
	    "thread-local variable for another thread's wake-up; under "
	    "greenrun every green thread of a worker has that variable at "
	    "one address, so the wake-up may reach another thread and this "
	    "one wait for ever; with as many workers as threads (greenrun "
	    "-w N) none share one (docs/ARCHITECTURE.md section 21)\n";
	ssize_t r;
	size_t n = sizeof(msg) - 1;
	const char *s = msg;

	if (l == NULL || l->l_tls == NULL ||
	    atomic_load_explicit(&tls_wait_said, memory_order_relaxed) ||
	    !switched(obj) || atomic_exchange_explicit(&tls_wait_said, true,
	    memory_order_relaxed))
		return;
	while (n > 0 && (r = gpi_sys_write(STDERR_FILENO, s, n)) > 0) {
		s += r;
		n -= (size_t)r;
	}
}

int
gpi_tls_atexit(void (*fn)(void *), void *obj)
{
	struct gp_lwp *l = gpi_curlwp();
	struct gpi_tlsdtor *d;

	if (l == NULL || l->l_tls == NULL)
		return -1;
	/* Not ours (a module left out): glibc's per-worker list. */
	if (!switched(obj) || (d = malloc(sizeof(*d))) == NULL)
		return -1;
	d->d_fn = fn;
	d->d_obj = obj;
	d->d_next = l->l_tlsdtors;
	l->l_tlsdtors = d;
	return 0;
}
