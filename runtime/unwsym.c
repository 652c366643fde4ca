/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unwsym.c -- names and source lines of code addresses, for the
 * backtraces of unwind.c (x86-64 builds only, as it is).
 *
 * Interface (internal.h): gpi_sym_dlgen, the generation of the set of
 * loaded objects, which every cache here is keyed by; gpi_sym_lookup and
 * gpi_sym_remember, the function around an address from the ELF symbol
 * tables and the name cache; gpi_sym_fileline, " (file:line)" from libdw.
 *
 * file:line comes from libdw (elfutils' libdw.so.1), dlopen()ed too and
 * only if present: one Dwfl for the whole process, rebuilt when objects
 * were loaded or unloaded (dl_iterate_phdr's adds/subs counters), used
 * under a mutex.  Without libdw, lines end after function+0xoff.
 */
#if defined(__x86_64__)

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/* ------------------------------------------------------------ names */

/*
 * Names come from the ELF symbol tables (.symtab, else .dynsym) of the
 * object that holds the address, read here, and only then from
 * libunwind's get_proc_name (which also knows MiniDebugInfo).  Not
 * libunwind's first: it reads /proc/<getpid()>/maps, and under the
 * preload getpid() in green code is the green pid, so there it finds
 * nothing; it also re-reads the maps and re-maps the file on every call.
 * Objects stay mapped and names are cached by address until objects are
 * loaded or unloaded (the dl_iterate_phdr generation changes).
 */
#define UW_NCACHE	256
#define UW_NOBJS	32

struct uw_name {
	uintptr_t	 n_ip;		/* 0: empty */
	uint64_t	 n_off;
	char		 n_name[GPI_SYM_NAMELEN];
};

struct uw_obj {
	const void	*o_key;		/* its link_map */
	uintptr_t	 o_base;	/* l_addr */
	void		*o_map;		/* the file, or NULL if unusable */
	size_t		 o_len;
	const Elf64_Sym	*o_syms[2];	/* .symtab, .dynsym */
	size_t		 o_nsyms[2];
	const char	*o_strs[2];
	size_t		 o_strsz[2];
};

static struct {
	gpi_spin_t	 lock;		/* everything here; a spinlock: a pthread
					 * mutex would turn green under the preload */
	struct uw_name	*tab;		/* UW_NCACHE entries, or NULL */
	struct uw_obj	 objs[UW_NOBJS];
	int		 nobjs;
	unsigned long long gen[2];
} uwn = { .lock = GPI_SPIN_INIT(GPI_RANK_UWN) };

static struct uw_name *
uw_name_slot(uintptr_t ip)
{
	return &uwn.tab[((ip >> 2) ^ (ip >> 13)) % UW_NCACHE];
}

/* Objects came or went: forget every name and object. */
static void
uw_names_flush(const unsigned long long gen[2])
{
	int i;

	if (uwn.tab != NULL)
		memset(uwn.tab, 0, UW_NCACHE * sizeof(*uwn.tab));
	for (i = 0; i < uwn.nobjs; i++)
		if (uwn.objs[i].o_map != NULL)
			munmap(uwn.objs[i].o_map, uwn.objs[i].o_len);
	uwn.nobjs = 0;
	memcpy(uwn.gen, gen, sizeof(uwn.gen));
}

/* Section (i) of a mapped ELF file, if it lies within the file. */
static const Elf64_Shdr *
uw_shdr(const struct uw_obj *o, const Elf64_Ehdr *eh, unsigned i)
{
	const Elf64_Shdr *sh;

	if (i >= eh->e_shnum)
		return NULL;
	sh = (const Elf64_Shdr *)(const void *)((const char *)o->o_map +
	    eh->e_shoff + (size_t)i * sizeof(*sh));
	if (sh->sh_type != SHT_NOBITS && (sh->sh_offset > o->o_len ||
	    sh->sh_size > o->o_len - sh->sh_offset))
		return NULL;
	return sh;
}

/* Map the file of (o) and find its symbol tables. */
static void
uw_obj_open(struct uw_obj *o, const char *path)
{
	const Elf64_Shdr *sh, *str;
	const Elf64_Ehdr *eh;
	struct stat st;
	unsigned i;
	int fd, k;
	void *m;

	o->o_map = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(*eh) ||
	    (m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
	    0)) == MAP_FAILED) {
		close(fd);
		return;
	}
	close(fd);
	o->o_map = m;
	o->o_len = (size_t)st.st_size;
	eh = m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff == 0 ||
	    eh->e_shoff > o->o_len || (size_t)eh->e_shnum *
	    sizeof(Elf64_Shdr) > o->o_len - eh->e_shoff)
		return;
	for (i = 0; i < eh->e_shnum; i++) {
		if ((sh = uw_shdr(o, eh, i)) == NULL)
			continue;
		if (sh->sh_type == SHT_SYMTAB)
			k = 0;
		else if (sh->sh_type == SHT_DYNSYM)
			k = 1;
		else
			continue;
		if (sh->sh_entsize != sizeof(Elf64_Sym) ||
		    (str = uw_shdr(o, eh, sh->sh_link)) == NULL ||
		    str->sh_type != SHT_STRTAB)
			continue;
		o->o_syms[k] = (const Elf64_Sym *)(const void *)
		    ((const char *)m + sh->sh_offset);
		o->o_nsyms[k] = sh->sh_size / sizeof(Elf64_Sym);
		o->o_strs[k] = (const char *)m + str->sh_offset;
		o->o_strsz[k] = str->sh_size;
	}
}

/* The object that holds (ip), opened once per generation. */
static struct uw_obj *
uw_obj_of(uintptr_t ip)
{
	struct link_map *lm = NULL;
	struct uw_obj *o;
	Dl_info di;
	int i;

	if (dladdr1((void *)ip, &di, (void **)&lm, RTLD_DL_LINKMAP) == 0 ||
	    lm == NULL)
		return NULL;
	for (i = 0; i < uwn.nobjs; i++)
		if (uwn.objs[i].o_key == lm)
			return &uwn.objs[i];
	if (uwn.nobjs == UW_NOBJS)
		uw_names_flush(uwn.gen);	/* full: start again */
	o = &uwn.objs[uwn.nobjs++];
	memset(o, 0, sizeof(*o));
	o->o_key = lm;
	o->o_base = lm->l_addr;
	/* The program itself has no name in its link_map. */
	uw_obj_open(o, lm->l_name != NULL && lm->l_name[0] != '\0' ?
	    lm->l_name : "/proc/self/exe");
	return o;
}

/* The function symbol around (ip) in (o): its name and ip's offset. */
static bool
uw_obj_lookup(const struct uw_obj *o, uintptr_t ip, char *buf, size_t len,
    uint64_t *offp)
{
	const Elf64_Sym *sym, *best = NULL;
	uintptr_t rel = ip - o->o_base;
	size_t i;
	int k, t;

	for (k = 0; k < 2 && best == NULL; k++) {
		for (i = 0; i < o->o_nsyms[k]; i++) {
			sym = &o->o_syms[k][i];
			t = ELF64_ST_TYPE(sym->st_info);
			if ((t != STT_FUNC && t != STT_GNU_IFUNC) ||
			    sym->st_shndx == SHN_UNDEF || rel < sym->st_value ||
			    (rel >= sym->st_value + sym->st_size &&
			    (sym->st_size != 0 || rel != sym->st_value)) ||
			    sym->st_name >= o->o_strsz[k])
				continue;
			if (best == NULL || sym->st_value > best->st_value)
				best = sym;
		}
		if (best != NULL) {
			snprintf(buf, len, "%.*s", (int)(o->o_strsz[k] -
			    best->st_name), o->o_strs[k] + best->st_name);
			*offp = rel - best->st_value;
		}
	}
	return best != NULL && buf[0] != '\0';
}


int
gpi_sym_lookup(uintptr_t ip, const unsigned long long gen[2], char *buf,
    size_t len, uint64_t *offp)
{
	struct uw_name *n;
	struct uw_obj *o;
	int rc = -1;

	gpi_spin_lock(&uwn.lock);
	if (uwn.tab == NULL)
		uwn.tab = calloc(UW_NCACHE, sizeof(*uwn.tab));
	if (memcmp(uwn.gen, gen, sizeof(uwn.gen)) != 0)
		uw_names_flush(gen);
	if (uwn.tab != NULL && (n = uw_name_slot(ip))->n_ip == ip) {
		snprintf(buf, len, "%s", n->n_name);
		*offp = n->n_off;
		rc = 1;
	} else if ((o = uw_obj_of(ip)) != NULL && o->o_map != NULL &&
	    uw_obj_lookup(o, ip, buf, len, offp)) {
		rc = 0;
	}
	gpi_spin_unlock(&uwn.lock);
	return rc;
}

void
gpi_sym_remember(uintptr_t ip, const unsigned long long gen[2],
    const char *name, uint64_t off)
{
	struct uw_name *n;

	gpi_spin_lock(&uwn.lock);
	if (uwn.tab != NULL && !memcmp(uwn.gen, gen, sizeof(uwn.gen))) {
		n = uw_name_slot(ip);
		n->n_ip = ip;
		n->n_off = off;
		snprintf(n->n_name, sizeof(n->n_name), "%s", name);
	}
	gpi_spin_unlock(&uwn.lock);
}

/* ------------------------------------------------------------ file:line */

/*
 * The few libdw entry points used, declared here: only libdw.so.1 (the
 * runtime package) need be installed, not its headers.
 */
typedef struct Dwfl Dwfl;
typedef struct Dwfl_Module Dwfl_Module;
typedef struct Dwfl_Line Dwfl_Line;
typedef struct {
	int	(*find_elf)(void);
	int	(*find_debuginfo)(void);
	int	(*section_address)(void);
	char	**debuginfo_path;
} uw_dwfl_callbacks;

static struct {
	Dwfl	*(*begin)(const uw_dwfl_callbacks *);
	void	(*end)(Dwfl *);
	int	(*linux_proc_report)(Dwfl *, pid_t);
	int	(*report_begin)(Dwfl *);
	int	(*report_end)(Dwfl *, void *, void *);
	Dwfl_Module *(*addrmodule)(Dwfl *, uint64_t);
	Dwfl_Line *(*module_getsrc)(Dwfl_Module *, uint64_t);
	const char *(*lineinfo)(Dwfl_Line *, uint64_t *, int *, int *,
		    uint64_t *, uint64_t *);
	uw_dwfl_callbacks cb;
	char	*debuginfo_path;
	gpi_spin_t	lock;		/* everything below, and Dwfl calls */
	Dwfl	*dwfl;
	unsigned long long adds, subs;	/* dl_iterate_phdr generation */
	bool	 ok;		/* loaded, and no Dwfl failure yet */
} dw = { .lock = GPI_SPIN_INIT(GPI_RANK_DW) };

static pthread_once_t dw_once = PTHREAD_ONCE_INIT;

#define DW_SYM(h, name, field) do {					\
	if ((*(void **)&(field) = dlsym((h), (name))) == NULL)		\
		goto fail;						\
} while (0)

static void
dw_load(void)
{
	void *h;

	if ((h = dlopen("libdw.so.1", RTLD_LOCAL | RTLD_NOW)) == NULL)
		return;
	DW_SYM(h, "dwfl_begin", dw.begin);
	DW_SYM(h, "dwfl_end", dw.end);
	DW_SYM(h, "dwfl_linux_proc_report", dw.linux_proc_report);
	DW_SYM(h, "dwfl_report_begin", dw.report_begin);
	DW_SYM(h, "dwfl_report_end", dw.report_end);
	DW_SYM(h, "dwfl_addrmodule", dw.addrmodule);
	DW_SYM(h, "dwfl_module_getsrc", dw.module_getsrc);
	DW_SYM(h, "dwfl_lineinfo", dw.lineinfo);
	DW_SYM(h, "dwfl_linux_proc_find_elf", dw.cb.find_elf);
	DW_SYM(h, "dwfl_standard_find_debuginfo", dw.cb.find_debuginfo);
	dw.cb.section_address = NULL;
	dw.cb.debuginfo_path = &dw.debuginfo_path;
	dw.ok = true;
	return;
fail:
	dlclose(h);
}

static int
uw_gen_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	unsigned long long *gen = arg;

	if (size >= offsetof(struct dl_phdr_info, dlpi_subs) +
	    sizeof(info->dlpi_subs)) {
		gen[0] = info->dlpi_adds;
		gen[1] = info->dlpi_subs;
	}
	return 1;	/* the counters are global: the first object will do */
}

/* The generation of the set of loaded objects: [adds, subs]. */
void
gpi_sym_dlgen(unsigned long long gen[2])
{
	gen[0] = gen[1] = 0;
	dl_iterate_phdr(uw_gen_cb, gen);
}

/* " (file:line)" of code address pc into buf, or "" if unknown. */
void
gpi_sym_fileline(uintptr_t pc, const unsigned long long gen[2], char *buf,
    size_t len)
{
	const char *file, *base;
	Dwfl_Module *mod;
	Dwfl_Line *line;
	int lineno = 0;

	buf[0] = '\0';
	GPI_LIBC(pthread_once)(&dw_once, dw_load);
	gpi_spin_lock(&dw.lock);
	if (!dw.ok)
		goto out;
	if (dw.dwfl != NULL && (gen[0] != dw.adds || gen[1] != dw.subs)) {
		dw.end(dw.dwfl);	/* objects came or went: rebuild */
		dw.dwfl = NULL;
	}
	if (dw.dwfl == NULL) {
		if ((dw.dwfl = dw.begin(&dw.cb)) == NULL)
			goto fail;
		dw.report_begin(dw.dwfl);
		if (dw.linux_proc_report(dw.dwfl,
		    (pid_t)syscall(SYS_getpid)) != 0 ||
		    dw.report_end(dw.dwfl, NULL, NULL) != 0) {
			dw.end(dw.dwfl);
			dw.dwfl = NULL;
			goto fail;
		}
		dw.adds = gen[0];
		dw.subs = gen[1];
	}
	if ((mod = dw.addrmodule(dw.dwfl, pc)) != NULL &&
	    (line = dw.module_getsrc(mod, pc)) != NULL &&
	    (file = dw.lineinfo(line, NULL, &lineno, NULL, NULL, NULL)) !=
	    NULL && lineno > 0) {
		base = strrchr(file, '/');
		snprintf(buf, len, " (%s:%d)", base != NULL ? base + 1 : file,
		    lineno);
	}
out:
	gpi_spin_unlock(&dw.lock);
	return;
fail:
	dw.ok = false;		/* no line information here: stop trying */
	goto out;
}

#endif /* __x86_64__ */
