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
 * What is switched (the "table", built once): the static TLS block of
 * every module loaded when the table is built that has one -- the
 * executable and the libraries it links, libstdc++ included -- except:
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
 *   - blocks that are not in static TLS (modules dlopen'd later get
 *     dynamic TLS, per worker: offsets from the thread pointer would not
 *     be the same in every thread).
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

#define TLS_MAXMOD	16	/* more modules than this stay per worker */

/* One switched range: tp + t_off .. + t_len <-> area + t_save. */
struct tlsrange {
	ptrdiff_t	 r_off;		/* from the thread pointer */
	size_t		 r_len;
	size_t		 r_save;	/* in the save area */
};

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
	int		 t_n;		/* (g) ranges; 0: nothing to switch */
	int		 t_nmod;	/* (g) of them modules (h_errno last) */
	size_t		 t_size;	/* (g) save area bytes */
	char		*t_image;	/* (g) initial values, t_size bytes */
	struct tlsrange	 t_r[TLS_MAXMOD + 1];	/* (g) +1: h_errno */
} tls;

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

struct scan {
	char		*s_tp;
	size_t		 s_static;	/* glibc's static TLS size */
	void		*s_libc;	/* addresses in blocks to leave out */
	void		*s_rt;
	void		*s_mod[4];	/* in modules to leave out (or NULL) */
};

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

static int
scan_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct scan *s = arg;
	const ElfW(Phdr) *ph = NULL;
	struct tlsrange *r;
	char *b = info->dlpi_tls_data;
	size_t i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_TLS)
			ph = &info->dlpi_phdr[i];
	if (ph == NULL || ph->p_memsz == 0 || b == NULL || tls.t_n >= TLS_MAXMOD)
		return 0;
	/* Variant II: static TLS is just below the thread pointer. */
	if (b >= s->s_tp || b < s->s_tp - s->s_static ||
	    b + ph->p_memsz > s->s_tp)
		return 0;
	if (in_block(s->s_libc, b, ph->p_memsz) ||
	    in_block(s->s_rt, b, ph->p_memsz))
		return 0;
	for (i = 0; i < sizeof(s->s_mod) / sizeof(s->s_mod[0]); i++)
		if (s->s_mod[i] != NULL && in_load(info, s->s_mod[i]))
			return 0;
	r = &tls.t_r[tls.t_n++];
	r->r_off = b - s->s_tp;
	r->r_len = ph->p_memsz;
	r->r_save = tls.t_size;
	tls.t_size += (ph->p_memsz + 15) & ~(size_t)15;
	return 0;
}

/* The second pass: each range's initial image (.tdata, then zeroes). */
static int
image_one(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct scan *s = arg;
	char *b = info->dlpi_tls_data;
	int i, k;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_TLS || b == NULL)
			continue;
		for (k = 0; k < tls.t_nmod; k++) {
			if (tls.t_r[k].r_off != b - s->s_tp)
				continue;
			memcpy(tls.t_image + tls.t_r[k].r_save,
			    (const char *)(info->dlpi_addr + ph->p_vaddr),
			    ph->p_filesz);
		}
	}
	return 0;
}

static void
build(void)
{
	void (*info)(size_t *, size_t *);
	static const char *const san[3] = { "__asan_init", "__tsan_init",
	    "__msan_init" };
	struct scan s;
	size_t align = 0;
	int i;

	memset(&s, 0, sizeof(s));
	if ((s.s_tp = thread_pointer()) == NULL)
		return;
	/*
	 * ld.so's size of the static TLS area (GLIBC_PRIVATE, hence dlsym):
	 * it tells static blocks from dynamic ones, which are malloc'd.
	 */
	info = (void (*)(size_t *, size_t *))dlsym(RTLD_DEFAULT,
	    "_dl_get_tls_static_info");
	if (info == NULL)
		return;
	info(&s.s_static, &align);
	s.s_libc = &errno;
	s.s_rt = (void *)&gpi_tls_worker;
	for (i = 0; i < 3; i++)
		s.s_mod[i] = dlsym(RTLD_DEFAULT, san[i]);
	/* The malloc the program calls (libc's block is out already). */
	s.s_mod[3] = dlsym(RTLD_DEFAULT, "malloc");
	dl_iterate_phdr(scan_one, &s);
	if (tls.t_n == 0)
		return;		/* no program TLS: nobody pays anything */
	/* h_errno is libc's, but a program's view of it is its own. */
	tls.t_nmod = tls.t_n;
	tls.t_r[tls.t_n].r_off = (char *)&h_errno - s.s_tp;
	tls.t_r[tls.t_n].r_len = sizeof(int);
	tls.t_r[tls.t_n].r_save = tls.t_size;
	tls.t_size += 16;
	tls.t_n++;
	if ((tls.t_image = calloc(1, tls.t_size)) == NULL) {
		tls.t_n = 0;
		return;
	}
	dl_iterate_phdr(image_one, &s);
	/* h_errno starts at 0 in a new thread, as natively. */
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

int
gpi_tls_lwp_init(struct gp_lwp *l, int mode)
{
	char *tp;
	int k;

	l->l_tls = NULL;
	l->l_tlsdtors = NULL;
	if (mode <= GPI_TLS_OFF)
		return 0;
	build_once();
	if (tls.t_n == 0)
		return 0;
	if ((l->l_tls = malloc(tls.t_size)) == NULL)
		return EAGAIN;		/* pthread_create's "no resources" */
	if (mode == GPI_TLS_INIT) {
		memcpy(l->l_tls, tls.t_image, tls.t_size);
		return 0;
	}
	tp = thread_pointer();
	for (k = 0; k < tls.t_n; k++)
		memcpy((char *)l->l_tls + tls.t_r[k].r_save,
		    tp + tls.t_r[k].r_off, tls.t_r[k].r_len);
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
		free(l->l_tls);
		l->l_tls = NULL;
	}
}

/* Out of line: switch_to's common path stays as short as it was. */
__attribute__((noinline)) void
gpi_tls_switch(struct gp_worker *w, struct gp_lwp *to)
{
	struct gp_lwp *o = w->w_tlsowner;
	char *tp = thread_pointer(), *in = to->l_tls, *out;
	const struct tlsrange *r = tls.t_r, *end = r + tls.t_n;

	if (o != NULL) {
		out = o->l_tls;
		for (; r < end; r++) {
			memcpy(out + r->r_save, tp + r->r_off, r->r_len);
			memcpy(tp + r->r_off, in + r->r_save, r->r_len);
		}
	} else {
		for (; r < end; r++)
			memcpy(tp + r->r_off, in + r->r_save, r->r_len);
	}
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

int
gpi_tls_atexit(void (*fn)(void *), void *obj)
{
	struct gp_lwp *l = gpi_curlwp();
	struct gpi_tlsdtor *d;
	char *tp;
	int k;

	if (l == NULL || l->l_tls == NULL)
		return -1;
	tp = thread_pointer();
	for (k = 0; k < tls.t_n; k++)
		if (in_block(obj, tp + tls.t_r[k].r_off, tls.t_r[k].r_len))
			break;
	/* Not ours (a dlopen'd module's): glibc's per-worker list. */
	if (k == tls.t_n || (d = malloc(sizeof(*d))) == NULL)
		return -1;
	d->d_fn = fn;
	d->d_obj = obj;
	d->d_next = l->l_tlsdtors;
	l->l_tlsdtors = d;
	return 0;
}
