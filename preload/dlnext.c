/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dlnext.c -- dlsym(RTLD_NEXT, name) for the real functions, read
 * straight from the ELF hash tables of the objects after this one.
 *
 * Every process with the preload in LD_PRELOAD looks up the real
 * function of each interposer it calls (REAL(), GPI_LIBC()).  dlsym
 * costs about 1000 instructions a name (its error-catching frame,
 * finding the caller's object, the scope walk); and it takes the
 * loader's lock, so it is not async-signal-safe, and a process resolved
 * the whole table (130 names, 100,000 instructions) before its first
 * signal handler or fork: every shell and every python paid for it at
 * start-up (bench/bench_preload.c).
 *
 * RTLD_NEXT searches the objects of the initial scope that follow the
 * caller's, in scope order, for the first global or weak definition of
 * the name: its default version where it has versions, never a hidden
 * one.  For the objects the loader mapped at start-up the link-map list
 * (_r_debug.r_map, l_next) is in that same order (main, the vDSO, the
 * preloads in order, then the needed objects breadth first; ld.so moves
 * its own entry to its place in the scope).  This file walks that list
 * from the object after ours up to libc.so.6, which this one needs and
 * which is therefore mapped at start-up too: every object it passes is a
 * start-up object, never unloaded, and the l_next links among them
 * never change once main can run (dlopen appends after the last one).
 * So a lookup reads constant memory only: no lock, no allocation,
 * async-signal-safe and fork-safe, about 150 instructions.
 *
 * Whatever this walk does not model -- an object on the way without a
 * GNU hash table or with filtees, an indirect function, a TLS or
 * absolute symbol, a STB_GNU_UNIQUE one, an undefined one with a value,
 * a name libc lacks, a preload that is not a start-up object, audit
 * modules, LD_DYNAMIC_WEAK -- makes it answer NULL, and the caller asks
 * dlsym, which knows every case.  tests/tlslib/grdlcheck.c compares the
 * two for every name the searched objects define, in several LD_PRELOAD
 * orders.  gpi_dlnext_ok() says whether the walk is
 * usable at all in this process; where it is not, the preload resolves
 * its whole table ahead of handlers and forks, as it did before.
 */
#include <elf.h>
#include <link.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "preload.h"

/* ELF32_ST_TYPE or ELF64_ST_TYPE, ...: the native class's. */
#define ELFN(class, what)	ELFN_(class, what)
#define ELFN_(class, what)	ELF##class##_##what
#define ST_TYPE(info)	ELFN(__ELF_NATIVE_CLASS, ST_TYPE)(info)
#define ST_BIND(info)	ELFN(__ELF_NATIVE_CLASS, ST_BIND)(info)

/* This object's dynamic section (the linker's): its link map's l_ld. */
extern ElfW(Dyn) _DYNAMIC[] __attribute__((visibility("hidden")));
/*
 * ld.so's, declared weak: a weak reference does not make ld.so a needed
 * object of ours (it is mapped anyway, libc needs it), which would cost
 * every exec a dependency and a version check.
 */
extern struct r_debug _r_debug __attribute__((weak));

#define NEXT_MAX	8	/* objects after ours, libc included */

/* One object's dynamic symbol table, as the loader relocated it. */
struct dlobj {
	ElfW(Addr)		 o_base;	/* l_addr */
	const uint32_t		*o_gnuhash;	/* DT_GNU_HASH */
	const ElfW(Sym)		*o_sym;		/* DT_SYMTAB */
	const char		*o_str;		/* DT_STRTAB */
	const ElfW(Versym)	*o_ver;		/* DT_VERSYM, or NULL */
};

struct dlnext {
	int		 n_count;
	struct dlobj	 n_obj[NEXT_MAX];
};

/*
 * The objects a lookup searches, found once.  n_state is the flag, and
 * (n) is written only by the thread that moves it UNKNOWN -> BUSY, then
 * published by the release store of READY; every reader acquires READY
 * first.  A caller that finds it BUSY (another thread, or a signal
 * handler interrupting the builder) builds its own copy on its stack
 * instead of waiting: the result is the same, and a handler must never
 * wait for the code it interrupted.
 */
enum { DLN_UNKNOWN, DLN_BUSY, DLN_READY, DLN_NONE };
static atomic_int n_state GPI_PASSDATA;	/* (a) DLN_*; NONE: dlsym */
static struct dlnext n GPI_PASSDATA;	/* (n_state) constant once READY */

/* The relocated address of a dynamic-section pointer. */
GPI_PASSTEXT static inline uintptr_t
dyn_ptr(const struct link_map *m, ElfW(Addr) v)
{
	/*
	 * ld.so adds l_addr in place in a writable dynamic section, not in
	 * a read-only one (the vDSO's): a value below the base is still an
	 * offset.
	 */
	return v < m->l_addr ? v + m->l_addr : v;
}

/*
 * Read (m)'s dynamic section into (o); false if it has no GNU hash
 * table.  *libc: it is libc.so.6, the last object searched.
 */
GPI_PASSTEXT static bool
dlobj_read(const struct link_map *m, struct dlobj *o, bool *libc)
{
	static const char libc_soname[] = "libc.so.6";
	const ElfW(Dyn) *d;
	ElfW(Addr) soname = 0;
	bool have_soname = false;
	size_t i;

	o->o_base = m->l_addr;
	o->o_gnuhash = NULL;
	o->o_sym = NULL;
	o->o_str = NULL;
	o->o_ver = NULL;
	if (m->l_ld == NULL)
		return false;
	for (d = m->l_ld; d->d_tag != DT_NULL; d++) {
		switch (d->d_tag) {
		case DT_GNU_HASH:
			o->o_gnuhash = (const uint32_t *)dyn_ptr(m,
			    d->d_un.d_ptr);
			break;
		case DT_SYMTAB:
			o->o_sym = (const ElfW(Sym) *)dyn_ptr(m, d->d_un.d_ptr);
			break;
		case DT_STRTAB:
			o->o_str = (const char *)dyn_ptr(m, d->d_un.d_ptr);
			break;
		case DT_VERSYM:
			o->o_ver = (const ElfW(Versym) *)dyn_ptr(m,
			    d->d_un.d_ptr);
			break;
		case DT_SONAME:
			soname = d->d_un.d_val;
			have_soname = true;
			break;
		case DT_FILTER:
		case DT_AUXILIARY:
			/* Its lookups go to its filtees first: dlsym. */
			return false;
		}
	}
	if (o->o_gnuhash == NULL || o->o_sym == NULL || o->o_str == NULL)
		return false;
	*libc = false;
	if (have_soname) {
		const char *s = o->o_str + soname;

		for (i = 0; s[i] == libc_soname[i] && s[i] != '\0'; i++)
			continue;
		*libc = s[i] == libc_soname[i];
	}
	return true;
}

/* Does (s) begin with (prefix)? */
GPI_PASSTEXT static inline bool
begins(const char *s, const char *prefix)
{
	while (*prefix != '\0' && *s == *prefix) {
		s++;
		prefix++;
	}
	return *prefix == '\0';
}

/*
 * Does the loader answer dlsym by the symbol tables alone?  Not with
 * audit modules (LD_AUDIT, the program's DT_AUDIT or DT_DEPAUDIT): their
 * la_symbind may return another address.  Not with LD_DYNAMIC_WEAK: a
 * weak definition then gives way to a later strong one.  ld.so read the
 * environment at start-up, and the first lookup comes at the latest in
 * __libc_start_main, before main and its constructors (only another
 * library's constructor could have changed the environment by then).
 * Reads memory only: async-signal-safe.
 */
GPI_PASSTEXT static bool
plain_lookups(const struct link_map *main_map)
{
	const ElfW(Dyn) *d;
	const char *s;
	char **e;

	if (main_map != NULL && main_map->l_ld != NULL) {
		for (d = main_map->l_ld; d->d_tag != DT_NULL; d++) {
			if (d->d_tag == DT_AUDIT || d->d_tag == DT_DEPAUDIT)
				return false;
		}
	}
	/* Every process pays this loop: one test for most variables. */
	for (e = environ; e != NULL && (s = *e) != NULL; e++) {
		if (s[0] == 'L' && s[1] == 'D' && s[2] == '_' &&
		    (begins(s + 3, "AUDIT=") || begins(s + 3, "DYNAMIC_WEAK=")))
			return false;
	}
	return true;
}

/* The objects after ours up to libc, into (nx); false if not usable. */
GPI_PASSTEXT static bool
dlnext_build(struct dlnext *nx)
{
	const struct link_map *m;
	bool libc = false;

	if (&_r_debug == NULL || !plain_lookups(_r_debug.r_map))
		return false;
	for (m = _r_debug.r_map; m != NULL && m->l_ld != _DYNAMIC;
	    m = m->l_next)
		continue;
	/* Not in the initial namespace's list (dlmopen): dlsym knows. */
	if (m == NULL)
		return false;
	nx->n_count = 0;
	for (m = m->l_next; m != NULL && !libc; m = m->l_next) {
		if (nx->n_count == NEXT_MAX ||
		    !dlobj_read(m, &nx->n_obj[nx->n_count], &libc))
			return false;
		nx->n_count++;
	}
	return libc;
}

/* The objects to search, or NULL: then dlsym. */
GPI_PASSTEXT static const struct dlnext *
dlnext_get(struct dlnext *local)
{
	int st = atomic_load_explicit(&n_state, memory_order_acquire);

	if (__builtin_expect(st == DLN_READY, 1))
		return &n;
	if (st == DLN_NONE)
		return NULL;
	if (!dlnext_build(local)) {
		/* Every builder comes to the same answer. */
		atomic_store_explicit(&n_state, DLN_NONE, memory_order_relaxed);
		return NULL;
	}
	st = DLN_UNKNOWN;
	if (atomic_compare_exchange_strong_explicit(&n_state, &st, DLN_BUSY,
	    memory_order_relaxed, memory_order_relaxed)) {
		n = *local;
		atomic_store_explicit(&n_state, DLN_READY,
		    memory_order_release);
	}
	return local;
}

GPI_PASSTEXT bool
gpi_dlnext_ok(void)
{
	struct dlnext local;

	return dlnext_get(&local) != NULL;
}

/* The ELF GNU hash of (name) (the dynamic loader's dl_new_hash). */
static inline uint32_t
gnu_hash(const char *name)
{
	uint32_t h = 5381;
	unsigned char c;

	while ((c = (unsigned char)*name++) != '\0')
		h = h * 33 + c;
	return h;
}

static inline bool
same_name(const char *a, const char *b)
{
	while (*a == *b && *a != '\0') {
		a++;
		b++;
	}
	return *a == *b;
}

/* Types that define code or data (glibc's check_match: ALLOWED_STT). */
#define DEFINES(stt)	((1u << (stt)) & ((1u << STT_NOTYPE) |		\
	(1u << STT_OBJECT) | (1u << STT_FUNC) | (1u << STT_COMMON) |	\
	(1u << STT_TLS) | (1u << STT_GNU_IFUNC)))

enum { FOUND, ABSENT, ASK_DLSYM };

/*
 * Look (name, hash h) up in (o), as glibc's do_lookup_x for an
 * unversioned dlsym: a symbol without versions, or else the one
 * non-hidden (default) version.  *addr on FOUND.
 */
GPI_PASSTEXT static int
dlobj_lookup(const struct dlobj *o, const char *name, uint32_t h,
    void **addr)
{
	const uint32_t *gh = o->o_gnuhash, *buckets, *chain;
	const ElfW(Addr) *bloom;
	const ElfW(Sym) *s, *found = NULL, *versioned = NULL;
	uint32_t nbuckets = gh[0], symoffset = gh[1], nbloom = gh[2];
	uint32_t shift = gh[3], i, ch;
	unsigned int bits = sizeof(ElfW(Addr)) * 8, nversioned = 0;
	ElfW(Addr) word;

	if (nbuckets == 0 || nbloom == 0)
		return ABSENT;
	/* The Bloom filter: two bits of the hash that must both be set. */
	bloom = (const ElfW(Addr) *)(const void *)&gh[4];
	word = bloom[(h / bits) & (nbloom - 1)];
	if (!((word >> (h % bits)) & (word >> ((h >> shift) % bits)) & 1))
		return ABSENT;
	buckets = (const uint32_t *)(const void *)&bloom[nbloom];
	chain = &buckets[nbuckets];	/* chain[k]: symbol symoffset + k */
	if ((i = buckets[h % nbuckets]) < symoffset)
		return ABSENT;
	/* The bucket's symbols; the last one's hash has its low bit set. */
	for (;; i++) {
		ch = chain[i - symoffset];
		s = &o->o_sym[i];
		if (((ch ^ h) >> 1) == 0 && DEFINES(ST_TYPE(s->st_info)) &&
		    (s->st_shndx != SHN_UNDEF || s->st_value != 0) &&
		    same_name(name, o->o_str + s->st_name)) {
			/*
			 * Not a plain definition at l_addr + st_value; an
			 * undefined one with a value is a PLT entry that
			 * dlsym returns (its lookups ask for no class).
			 */
			if (s->st_shndx == SHN_UNDEF ||
			    s->st_shndx == SHN_ABS ||
			    ST_TYPE(s->st_info) == STT_TLS ||
			    ST_TYPE(s->st_info) == STT_GNU_IFUNC ||
			    ST_BIND(s->st_info) == STB_GNU_UNIQUE)
				return ASK_DLSYM;
			if (s->st_value == 0) {
				/* No definition. */
			} else if (o->o_ver == NULL ||
			    (o->o_ver[i] & 0x7fff) < 2) {
				found = s;	/* unversioned: this one */
				break;
			} else if ((o->o_ver[i] & 0x8000) == 0 &&
			    nversioned++ == 0) {
				versioned = s;	/* the default version */
			}
		}
		if (ch & 1)
			break;
	}
	if (found == NULL && nversioned == 1)
		found = versioned;
	/* A local symbol defines nothing for other objects. */
	if (found == NULL || (ST_BIND(found->st_info) != STB_GLOBAL &&
	    ST_BIND(found->st_info) != STB_WEAK))
		return ABSENT;
	*addr = (void *)(o->o_base + found->st_value);
	return FOUND;
}

GPI_PASSTEXT void *
gpi_dlnext(const char *name)
{
	struct dlnext local;
	const struct dlnext *nx;
	void *addr;
	uint32_t h;
	int i;

	if ((nx = dlnext_get(&local)) == NULL)
		return NULL;
	h = gnu_hash(name);
	for (i = 0; i < nx->n_count; i++) {
		switch (dlobj_lookup(&nx->n_obj[i], name, h, &addr)) {
		case FOUND:
			return addr;
		case ASK_DLSYM:
			return NULL;
		}
	}
	return NULL;
}
