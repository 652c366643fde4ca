/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unwind.c -- backtraces of suspended green LWPs, from their saved
 * registers, with libunwind loaded by dlopen() on first use.
 *
 * Interface (internal.h):
 *
 *	GPI_HIDDEN int gpi_unwind_lwp(const struct gp_lwp *l, FILE *out,
 *	    const char *indent);
 *
 *	Print the backtrace of (l) to (out), one frame a line, each line
 *	starting with (indent):
 *		#n 0xPC function+0xoff (file:line)
 *	("(file:line)" only where libdw finds line information; "??" for a
 *	function libunwind cannot name).  An LWP that is running (LONPROC,
 *	or current on its worker) prints "(running on a worker)"; one not
 *	started yet prints the function it will start in; one exiting
 *	prints "(exiting)".  Returns 0, or -1 with one line saying why if
 *	libunwind cannot be loaded.  Never blocks on the LWP and never
 *	faults on a stack that changes under it.
 *	The caller keeps (l) from being freed: it holds l->l_proc->p_lock
 *	with (l) on p_lwps (as gp_dump's walk does), or otherwise knows the
 *	LWP cannot be reaped meanwhile.  Any thread may call it, green or
 *	host, and several at once.
 *
 * Why not simply unw_init_local() on a ucontext built from the saved
 * frame: a dump runs while other workers run, so a "suspended" LWP may
 * be resumed halfway through its walk and rewrite its stack; a local
 * cursor follows the torn values wherever they point and faults.  So:
 *
 *   1. Snapshot.  The live part of the stack, [c_sp, top of stack), is
 *	copied (up to UW_COPY_MAX bytes), bracketed by reads of everything
 *	a switch changes: l_stat, the worker's w_curlwp, l_ctx.c_sp and
 *	l_nvcsw (bumped by every switch out, gpi_mi_switch).  If any moved
 *	the copy may be torn: try again, then give up with a note.
 *   2. Unwind the copy with a libunwind "remote" address space of our own
 *	(the generic _Ux86_64_* API of libunwind-x86_64.so.8): registers
 *	come from the snapshot; a memory read inside the copied range is
 *	served from the copy; any other read is checked first
 *	(process_vm_readv on ourselves, which fails with EFAULT instead of
 *	faulting; or, where that call is not allowed, the address must lie
 *	in a loaded object's segment or in the LWP's own stack).  Unwind
 *	tables and symbol names come from libunwind's own local address
 *	space: find_proc_info and get_proc_name are delegated to it.
 *
 * libunwind.so.8 alone is local-only (its create_addr_space and
 * init_remote are stubs), so the generic library is tried first; any of
 * the names in uw_libs that exports the whole _Ux86_64_* API will do.
 * Everything is dlopen()ed RTLD_LOCAL: linking libunwind would put its
 * _Unwind_* in front of libgcc_s's (DESIGN.md).
 *
 * Saved frame (runtime/arch/x86_64/switch.S): c_sp points at r15, r14,
 * r13, r12, rbx, rbp, then the return address into gpi_md_switch's
 * caller; rsp after the switch returned is c_sp + 7 words.  A never-run
 * LWP "returns" into gpi_md_trampoline, whose CFI marks rip undefined, so
 * every walk ends there.  Under ARCH=generic (no switch.S: the weak
 * gpi_md_trampoline is NULL) c_sp points at the ucontext_t saved by
 * swapcontext() instead, which holds the same registers.
 *
 * file:line comes from libdw (elfutils' libdw.so.1), dlopen()ed too and
 * only if present: one Dwfl for the whole process, rebuilt when objects
 * were loaded or unloaded (dl_iterate_phdr's adds/subs counters), used
 * under a mutex.  Without libdw, lines end after function+0xoff.
 */
#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

GPI_HIDDEN int	gpi_unwind_lwp(const struct gp_lwp *l, FILE *out,
    const char *indent);

#if defined(__x86_64__)

#include <libunwind.h>
#include <ucontext.h>

#define UW_MAXFRAMES	64		/* frames printed at most */
#define UW_COPY_MAX	((size_t)1 << 20)	/* bytes of stack copied */
#define UW_TRIES	4		/* snapshots before giving up */
#define UW_NPAGES	16		/* readable pages remembered per walk */
#define UW_NREGS	(UNW_X86_64_RIP + 1)

/* ARCH=x86_64 only (switch.S): NULL under ARCH=generic. */
extern void gpi_md_trampoline(void)
    __attribute__((__weak__, __visibility__("hidden")));

/* ------------------------------------------------------------ loading */

static const char *const uw_libs[] = {
	"libunwind-x86_64.so.8",
	"libunwind.so.8",
	"libunwind-x86_64.so",
	"libunwind-generic.so",
	"libunwind.so",
};

static struct {
	unw_addr_space_t (*create_addr_space)(unw_accessors_t *, int);
	unw_accessors_t *(*get_accessors)(unw_addr_space_t);
	int	(*init_remote)(unw_cursor_t *, unw_addr_space_t, void *);
	int	(*step)(unw_cursor_t *);
	int	(*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
	int	(*get_proc_name)(unw_cursor_t *, char *, size_t,
		    unw_word_t *);
	unw_addr_space_t local_as;	/* libunwind's own address space */
	unw_accessors_t	 local_acc;	/* its accessors, for delegation */
	unw_addr_space_t as;		/* ours (accessors below) */
	void		*handle;
	char		 why[160];	/* why loading failed */
} uw;

static pthread_once_t uw_once = PTHREAD_ONCE_INIT;

/* What a walk reads: the snapshot, passed to the accessors as their arg. */
struct uw_snap {
	uintptr_t	 s_lo;		/* copied live range [s_lo, s_hi) */
	uintptr_t	 s_hi;
	unsigned char	*s_buf;		/* the copy of [s_lo, s_hi) */
	size_t		 s_cap;		/* bytes allocated at s_buf */
	uintptr_t	 s_stklo;	/* the whole stack [s_stklo, s_stkhi) */
	uintptr_t	 s_stkhi;
	unw_word_t	 s_regs[UW_NREGS];
	uintptr_t	 s_pages[UW_NPAGES]; /* known readable, not stack */
	unsigned	 s_npages;
	unsigned	 s_pagenext;
	unsigned long long s_gen[2];	/* dl_iterate_phdr adds, subs */
};

static int	uw_find_proc_info(unw_addr_space_t, unw_word_t,
    unw_proc_info_t *, int, void *);
static void	uw_put_unwind_info(unw_addr_space_t, unw_proc_info_t *,
    void *);
static int	uw_get_dyn_info_list_addr(unw_addr_space_t, unw_word_t *,
    void *);
static int	uw_access_mem(unw_addr_space_t, unw_word_t, unw_word_t *, int,
    void *);
static int	uw_access_reg(unw_addr_space_t, unw_regnum_t, unw_word_t *,
    int, void *);
static int	uw_access_fpreg(unw_addr_space_t, unw_regnum_t, unw_fpreg_t *,
    int, void *);
static int	uw_resume(unw_addr_space_t, unw_cursor_t *, void *);
static int	uw_get_proc_name(unw_addr_space_t, unw_word_t, char *, size_t,
    unw_word_t *, void *);

static unw_accessors_t uw_accessors = {
	.find_proc_info = uw_find_proc_info,
	.put_unwind_info = uw_put_unwind_info,
	.get_dyn_info_list_addr = uw_get_dyn_info_list_addr,
	.access_mem = uw_access_mem,
	.access_reg = uw_access_reg,
	.access_fpreg = uw_access_fpreg,
	.resume = uw_resume,
	.get_proc_name = uw_get_proc_name,
};

#define UW_SYM(h, name, field) do {					\
	*(void **)&uw.field = dlsym((h), (name));			\
	if (uw.field == NULL) {						\
		missing = (name);					\
		goto next;						\
	}								\
} while (0)

static void
uw_load(void)
{
	const char *missing = NULL;
	unw_addr_space_t *local;
	unw_accessors_t *acc;
	void *h;
	size_t i;

	for (i = 0; i < sizeof(uw_libs) / sizeof(uw_libs[0]); i++) {
		if ((h = dlopen(uw_libs[i], RTLD_LOCAL | RTLD_NOW)) == NULL)
			continue;
		UW_SYM(h, "_Ux86_64_create_addr_space", create_addr_space);
		UW_SYM(h, "_Ux86_64_get_accessors", get_accessors);
		UW_SYM(h, "_Ux86_64_init_remote", init_remote);
		UW_SYM(h, "_Ux86_64_step", step);
		UW_SYM(h, "_Ux86_64_get_reg", get_reg);
		UW_SYM(h, "_Ux86_64_get_proc_name", get_proc_name);
		if ((local = dlsym(h, "_Ux86_64_local_addr_space")) == NULL) {
			missing = "_Ux86_64_local_addr_space";
			goto next;
		}
		/* get_accessors initializes the library (tdep_init) first. */
		uw.local_as = *local;
		if (uw.local_as == NULL ||
		    (acc = uw.get_accessors(uw.local_as)) == NULL ||
		    acc->find_proc_info == NULL) {
			missing = "a local address space";
			goto next;
		}
		uw.local_acc = *acc;
		/* Policy UNW_CACHE_NONE (zeroed): no cache to go stale. */
		if ((uw.as = uw.create_addr_space(&uw_accessors, 0)) == NULL) {
			missing = "unw_create_addr_space";
			goto next;
		}
		uw.handle = h;
		return;
next:
		snprintf(uw.why, sizeof(uw.why), "%s lacks %s", uw_libs[i],
		    missing);
		dlclose(h);
	}
	if (uw.why[0] == '\0')
		snprintf(uw.why, sizeof(uw.why), "cannot dlopen %s or %s",
		    uw_libs[0], uw_libs[1]);
}

/* ------------------------------------------------------------ memory */

/*
 * Raw reads of memory that another thread may be writing (a green
 * stack) or that holds sanitizer redzones: never instrumented, and
 * volatile so that no memcpy() call (intercepted by ASan) is made of it.
 */
__attribute__((__no_sanitize__("address", "thread", "alignment"), __noinline__))
static void
uw_copy_raw(void *dst, uintptr_t src, size_t len)
{
	volatile const uint64_t *s = (volatile const uint64_t *)src;
	uint64_t *d = dst;
	size_t i;

	for (i = 0; i < len / 8; i++)
		d[i] = s[i];
}

static atomic_int uw_vm_broken;	/* (a) process_vm_readv not allowed */

/* One word of our own memory through the kernel: EFAULT, not SIGSEGV. */
static int
uw_vm_read(uintptr_t addr, unw_word_t *val)
{
	struct iovec liov = { val, sizeof(*val) };
	struct iovec riov = { (void *)addr, sizeof(*val) };
	ssize_t n;

	n = process_vm_readv(getpid(), &liov, 1, &riov, 1, 0);
	if (n == (ssize_t)sizeof(*val))
		return 0;
	if (n < 0 && (errno == ENOSYS || errno == EPERM))
		atomic_store_explicit(&uw_vm_broken, 1, memory_order_relaxed);
	return -1;
}

struct uw_phdr_arg {
	uintptr_t	 addr;
	int		 found;
};

static int
uw_phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct uw_phdr_arg *a = arg;
	uintptr_t lo;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		if (info->dlpi_phdr[i].p_type != PT_LOAD ||
		    !(info->dlpi_phdr[i].p_flags & PF_R))
			continue;
		lo = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
		if (a->addr >= lo &&
		    a->addr + 8 <= lo + info->dlpi_phdr[i].p_memsz) {
			a->found = 1;
			return 1;
		}
	}
	return 0;
}

/*
 * Read a word that is neither in the copy nor on the LWP's stack: unwind
 * tables and code (is_plt_entry) of loaded objects, or a wild pointer of
 * a corrupt stack.  A page read once is remembered for the rest of the
 * walk.
 */
static int
uw_read_checked(struct uw_snap *s, uintptr_t addr, unw_word_t *val)
{
	uintptr_t page = addr & ~(uintptr_t)4095;
	struct uw_phdr_arg pa;
	unsigned i;

	if (addr < 4096 || addr > UINTPTR_MAX - 8)
		return -1;
	/* A word that spills onto the next page is checked by its tail. */
	if (((addr + 7) & ~(uintptr_t)4095) != page) {
		if (uw_read_checked(s, addr + 7, val) != 0)
			return -1;
	}
	for (i = 0; i < s->s_npages; i++)
		if (s->s_pages[i] == page)
			goto known;
	if (!atomic_load_explicit(&uw_vm_broken, memory_order_relaxed)) {
		if (uw_vm_read(addr, val) != 0)
			return -1;
	} else {
		pa.addr = addr;
		pa.found = 0;
		dl_iterate_phdr(uw_phdr_cb, &pa);
		if (!pa.found)
			return -1;
		uw_copy_raw(val, addr, sizeof(*val));
	}
	s->s_pages[s->s_pagenext] = page;
	s->s_pagenext = (s->s_pagenext + 1) % UW_NPAGES;
	if (s->s_npages < UW_NPAGES)
		s->s_npages++;
	return 0;
known:
	uw_copy_raw(val, addr, sizeof(*val));
	return 0;
}

/* ------------------------------------------------------------ accessors */

static int
uw_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
    int need_unwind_info, void *arg)
{
	(void)as;
	(void)arg;
	/* Tables live in loaded objects: libunwind's local lookup reads them. */
	return uw.local_acc.find_proc_info(uw.local_as, ip, pi,
	    need_unwind_info, NULL);
}

static void
uw_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	(void)as;
	(void)arg;
	if (uw.local_acc.put_unwind_info != NULL)
		uw.local_acc.put_unwind_info(uw.local_as, pi, NULL);
}

static int
uw_get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *addr, void *arg)
{
	(void)as;
	(void)addr;
	(void)arg;
	return -UNW_ENOINFO;	/* no JIT-registered code to look at */
}

static int
uw_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val,
    int write, void *arg)
{
	struct uw_snap *s = arg;

	(void)as;
	if (write)
		return -UNW_EINVAL;	/* the snapshot is read-only */
	if (addr >= s->s_lo && addr <= s->s_hi - sizeof(*val)) {
		memcpy(val, s->s_buf + (addr - s->s_lo), sizeof(*val));
		return 0;
	}
	/* The rest of the LWP's stack: mapped while the LWP lives. */
	if (addr >= s->s_stklo && addr <= s->s_stkhi - sizeof(*val) &&
	    (addr & 7) == 0) {
		uw_copy_raw(val, addr, sizeof(*val));
		return 0;
	}
	return uw_read_checked(s, addr, val) == 0 ? 0 : -UNW_EINVAL;
}

static int
uw_access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val,
    int write, void *arg)
{
	struct uw_snap *s = arg;

	(void)as;
	if (reg < 0 || reg >= UW_NREGS)
		return -UNW_EBADREG;
	if (write)
		s->s_regs[reg] = *val;
	else
		*val = s->s_regs[reg];
	return 0;
}

static int
uw_access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val,
    int write, void *arg)
{
	(void)as;
	(void)reg;
	(void)val;
	(void)write;
	(void)arg;
	return -UNW_EBADREG;
}

static int
uw_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg)
{
	(void)as;
	(void)c;
	(void)arg;
	return -UNW_EINVAL;	/* never: we only look */
}

/*
 * Names.  libunwind's local get_proc_name reads /proc/self/maps and maps
 * the object's file for every call (~100 us), so names are cached by
 * address, and the cache is emptied when objects are loaded or unloaded.
 */
#define UW_NCACHE	256
#define UW_NAMELEN	232

struct uw_name {
	uintptr_t	 n_ip;		/* 0: empty */
	unw_word_t	 n_off;
	char		 n_name[UW_NAMELEN];
};

static struct {
	pthread_mutex_t	 lock;
	struct uw_name	*tab;		/* UW_NCACHE entries, or NULL */
	unsigned long long gen[2];
} uwn = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct uw_name *
uw_name_slot(uintptr_t ip)
{
	return &uwn.tab[((ip >> 2) ^ (ip >> 13)) % UW_NCACHE];
}

static int
uw_get_proc_name(unw_addr_space_t as, unw_word_t ip, char *buf, size_t len,
    unw_word_t *offp, void *arg)
{
	struct uw_snap *s = arg;
	struct uw_name *n;
	unw_word_t off = 0;
	int rc;

	(void)as;
	if (uw.local_acc.get_proc_name == NULL || len == 0)
		return -UNW_ENOINFO;
	pthread_mutex_lock(&uwn.lock);
	if (uwn.tab == NULL)
		uwn.tab = calloc(UW_NCACHE, sizeof(*uwn.tab));
	if (uwn.tab != NULL && memcmp(uwn.gen, s->s_gen, sizeof(uwn.gen))) {
		memset(uwn.tab, 0, UW_NCACHE * sizeof(*uwn.tab));
		memcpy(uwn.gen, s->s_gen, sizeof(uwn.gen));
	}
	if (uwn.tab != NULL && (n = uw_name_slot(ip))->n_ip == ip) {
		snprintf(buf, len, "%s", n->n_name);
		if (offp != NULL)
			*offp = n->n_off;
		pthread_mutex_unlock(&uwn.lock);
		return 0;
	}
	pthread_mutex_unlock(&uwn.lock);

	/* Symbol tables of the objects mapped in this process. */
	rc = uw.local_acc.get_proc_name(uw.local_as, ip, buf, len, &off,
	    NULL);
	if (offp != NULL)
		*offp = off;
	if (rc != 0 || buf[0] == '\0' || strlen(buf) >= UW_NAMELEN ||
	    strlen(buf) + 1 >= len)
		return rc;	/* not found, or too long: not cached */
	pthread_mutex_lock(&uwn.lock);
	if (uwn.tab != NULL && !memcmp(uwn.gen, s->s_gen, sizeof(uwn.gen))) {
		n = uw_name_slot(ip);
		n->n_ip = ip;
		n->n_off = off;
		snprintf(n->n_name, sizeof(n->n_name), "%s", buf);
	}
	pthread_mutex_unlock(&uwn.lock);
	return 0;
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
	pthread_mutex_t lock;		/* everything below, and Dwfl calls */
	Dwfl	*dwfl;
	unsigned long long adds, subs;	/* dl_iterate_phdr generation */
	bool	 ok;
} dw = { .lock = PTHREAD_MUTEX_INITIALIZER };

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
static void
uw_dlgen(unsigned long long gen[2])
{
	gen[0] = gen[1] = 0;
	dl_iterate_phdr(uw_gen_cb, gen);
}

/* " (file:line)" of code address pc into buf, or "" if unknown. */
static void
dw_fileline(uintptr_t pc, const unsigned long long gen[2], char *buf,
    size_t len)
{
	const char *file, *base;
	Dwfl_Module *mod;
	Dwfl_Line *line;
	int lineno = 0;

	buf[0] = '\0';
	pthread_once(&dw_once, dw_load);
	if (!dw.ok)
		return;
	pthread_mutex_lock(&dw.lock);
	if (dw.dwfl != NULL && (gen[0] != dw.adds || gen[1] != dw.subs)) {
		dw.end(dw.dwfl);	/* objects came or went: rebuild */
		dw.dwfl = NULL;
	}
	if (dw.dwfl == NULL) {
		if ((dw.dwfl = dw.begin(&dw.cb)) == NULL)
			goto out;
		dw.report_begin(dw.dwfl);
		if (dw.linux_proc_report(dw.dwfl, getpid()) != 0 ||
		    dw.report_end(dw.dwfl, NULL, NULL) != 0) {
			dw.end(dw.dwfl);
			dw.dwfl = NULL;
			goto out;
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
	pthread_mutex_unlock(&dw.lock);
}

/* ------------------------------------------------------------ snapshot */

enum { UW_OK, UW_RUNNING, UW_MOVED, UW_BADSP, UW_NOMEM, UW_EXITING };

struct uw_marks {
	int		 stat;
	bool		 current;
	uintptr_t	 sp;
	unsigned long	 nsw;
};

/*
 * Everything a switch changes.  Acquire loads: on x86-64 plain loads in
 * program order, which is what the bracketing needs.
 */
static void
uw_marks(const struct gp_lwp *l, struct uw_marks *m)
{
	struct gp_worker *w;

	m->stat = __atomic_load_n(&l->l_stat, __ATOMIC_ACQUIRE);
	w = __atomic_load_n(&l->l_worker, __ATOMIC_ACQUIRE);
	m->current = w != NULL &&
	    __atomic_load_n(&w->w_curlwp, __ATOMIC_ACQUIRE) == l;
	m->sp = (uintptr_t)__atomic_load_n(&l->l_ctx.c_sp, __ATOMIC_ACQUIRE);
	m->nsw = __atomic_load_n(&l->l_nvcsw, __ATOMIC_ACQUIRE);
}

static int
uw_snapshot(const struct gp_lwp *l, struct uw_snap *s)
{
	struct uw_marks m0, m1;
	uintptr_t top = (uintptr_t)l, lo = (uintptr_t)l->l_stklo;
	const ucontext_t *uc;
	const uint64_t *f;
	size_t len, need;
	void *nbuf;

	uw_marks(l, &m0);
	if (m0.stat == GPI_LONPROC || m0.current)
		return UW_RUNNING;
	if (m0.stat == GPI_LZOMB)
		return UW_EXITING;
	if (m0.sp < lo || m0.sp >= top || (m0.sp & 7) != 0)
		return UW_BADSP;
	/* Word-aligned copy of [sp, top), at most UW_COPY_MAX bytes. */
	len = (top - m0.sp) & ~(size_t)7;
	if (len > UW_COPY_MAX)
		len = UW_COPY_MAX;
	need = gpi_md_trampoline != NULL ? 7 * 8 : sizeof(ucontext_t);
	if (len < need)
		return UW_BADSP;
	if (len > s->s_cap) {
		if ((nbuf = realloc(s->s_buf, len)) == NULL)
			return UW_NOMEM;
		s->s_buf = nbuf;
		s->s_cap = len;
	}
	uw_copy_raw(s->s_buf, m0.sp, len);
	atomic_thread_fence(memory_order_acquire);
	uw_marks(l, &m1);
	if (m1.stat != m0.stat || m1.current || m1.sp != m0.sp ||
	    m1.nsw != m0.nsw)
		return UW_MOVED;

	s->s_lo = m0.sp;
	s->s_hi = m0.sp + len;
	s->s_stklo = lo;
	s->s_stkhi = top;
	s->s_npages = s->s_pagenext = 0;
	memset(s->s_regs, 0, sizeof(s->s_regs));
	if (gpi_md_trampoline != NULL) {
		/* switch.S: r15 r14 r13 r12 rbx rbp <return address> */
		f = (const uint64_t *)(void *)s->s_buf;
		s->s_regs[UNW_X86_64_R15] = f[0];
		s->s_regs[UNW_X86_64_R14] = f[1];
		s->s_regs[UNW_X86_64_R13] = f[2];
		s->s_regs[UNW_X86_64_R12] = f[3];
		s->s_regs[UNW_X86_64_RBX] = f[4];
		s->s_regs[UNW_X86_64_RBP] = f[5];
		s->s_regs[UNW_X86_64_RIP] = f[6];
		s->s_regs[UNW_X86_64_RSP] = m0.sp + 7 * 8;
	} else {
		/* ARCH=generic: the ucontext_t swapcontext() filled. */
		uc = (const ucontext_t *)(void *)s->s_buf;
		s->s_regs[UNW_X86_64_R15] = (uint64_t)uc->uc_mcontext.gregs[REG_R15];
		s->s_regs[UNW_X86_64_R14] = (uint64_t)uc->uc_mcontext.gregs[REG_R14];
		s->s_regs[UNW_X86_64_R13] = (uint64_t)uc->uc_mcontext.gregs[REG_R13];
		s->s_regs[UNW_X86_64_R12] = (uint64_t)uc->uc_mcontext.gregs[REG_R12];
		s->s_regs[UNW_X86_64_RBX] = (uint64_t)uc->uc_mcontext.gregs[REG_RBX];
		s->s_regs[UNW_X86_64_RBP] = (uint64_t)uc->uc_mcontext.gregs[REG_RBP];
		s->s_regs[UNW_X86_64_RIP] = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
		s->s_regs[UNW_X86_64_RSP] = (uint64_t)uc->uc_mcontext.gregs[REG_RSP];
	}
	return UW_OK;
}

/* ------------------------------------------------------------ printing */

static void
uw_print_frames(struct uw_snap *s, FILE *out, const char *indent)
{
	char name[256], fl[320];
	unw_cursor_t cur;
	unw_word_t ip, off;
	int n, rc;

	if ((rc = uw.init_remote(&cur, uw.as, s)) < 0) {
		fprintf(out, "%s(no backtrace: unw_init_remote failed: %d)\n",
		    indent, rc);
		return;
	}
	for (n = 0;; n++) {
		if (n == UW_MAXFRAMES) {
			fprintf(out, "%s(more frames not shown)\n", indent);
			break;
		}
		if (uw.get_reg(&cur, UNW_REG_IP, &ip) < 0 || ip == 0)
			break;
		/* A return address: its line is the call's, at ip - 1. */
		dw_fileline(n == 0 && s->s_regs[UNW_X86_64_RIP] ==
		    (uintptr_t)gpi_md_trampoline ? ip : ip - 1, s->s_gen, fl,
		    sizeof(fl));
		if (uw.get_proc_name(&cur, name, sizeof(name), &off) == 0 &&
		    name[0] != '\0')
			fprintf(out, "%s#%d 0x%lx %s+0x%lx%s\n", indent, n,
			    (unsigned long)ip, name, (unsigned long)off, fl);
		else
			fprintf(out, "%s#%d 0x%lx ??%s\n", indent, n,
			    (unsigned long)ip, fl);
		if ((rc = uw.step(&cur)) <= 0) {
			if (rc < 0)
				fprintf(out, "%s(backtrace ends: unw_step: "
				    "%d)\n", indent, rc);
			break;
		}
	}
}

/* The name of code address (pc), for an LWP that has not run yet. */
static void
uw_name_of(struct uw_snap *s, uintptr_t pc, char *buf, size_t len)
{
	unw_word_t off = 0;

	if (uw_get_proc_name(uw.as, pc, buf, len, &off, s) != 0 ||
	    buf[0] == '\0')
		snprintf(buf, len, "0x%lx", (unsigned long)pc);
	else if (off != 0)
		snprintf(buf + strlen(buf), len - strlen(buf), "+0x%lx",
		    (unsigned long)off);
}

int
gpi_unwind_lwp(const struct gp_lwp *l, FILE *out, const char *indent)
{
	struct uw_snap s;
	char name[256];
	int i, rc = UW_MOVED;

	if (indent == NULL)
		indent = "";
	pthread_once(&uw_once, uw_load);
	if (uw.as == NULL) {
		fprintf(out, "%s(no backtrace: libunwind not loaded: %s)\n",
		    indent, uw.why);
		return -1;
	}
	memset(&s, 0, sizeof(s));
	uw_dlgen(s.s_gen);
	for (i = 0; i < UW_TRIES && rc == UW_MOVED; i++)
		rc = uw_snapshot(l, &s);
	switch (rc) {
	case UW_OK:
		if (__atomic_load_n(&l->l_stat, __ATOMIC_RELAXED) ==
		    GPI_LIDL) {
			uw_name_of(&s, (uintptr_t)l->l_fn, name,
			    sizeof(name));
			fprintf(out, "%s(not started yet: will run %s)\n",
			    indent, name);
		}
		uw_print_frames(&s, out, indent);
		break;
	case UW_RUNNING:
		fprintf(out, "%s(running on a worker)\n", indent);
		break;
	case UW_EXITING:
		fprintf(out, "%s(exiting)\n", indent);
		break;
	case UW_MOVED:
		fprintf(out, "%s(no backtrace: the LWP kept running during "
		    "the dump)\n", indent);
		break;
	case UW_BADSP:
		fprintf(out, "%s(no backtrace: saved stack pointer %p outside "
		    "its stack %p+%zu)\n", indent, l->l_ctx.c_sp, l->l_stklo,
		    l->l_stksize);
		break;
	default:
		fprintf(out, "%s(no backtrace: out of memory)\n", indent);
		break;
	}
	free(s.s_buf);
	return 0;
}

#else /* !__x86_64__ */

int
gpi_unwind_lwp(const struct gp_lwp *l, FILE *out, const char *indent)
{
	(void)l;
	fprintf(out, "%s(no backtrace: green backtraces need x86-64)\n",
	    indent != NULL ? indent : "");
	return -1;
}

#endif /* __x86_64__ */
