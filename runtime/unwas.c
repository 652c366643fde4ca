/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unwas.c -- libunwind, loaded by dlopen() on first use, and the
 * "remote" address space over a stack snapshot that unwind.c walks
 * (its step 2): registers from the snapshot, memory from the copy or
 * through checked reads, unwind tables from libunwind's local space,
 * names from unwsym.c first.
 *
 * libunwind.so.8 alone is local-only (its create_addr_space and
 * init_remote are stubs), so the generic library is tried first; any of
 * the names in uw_libs that exports the whole _Ux86_64_* API will do.
 * Everything is dlopen()ed RTLD_LOCAL: linking libunwind would put its
 * _Unwind_* in front of libgcc_s's (docs/ARCHITECTURE.md).
 */
#if defined(__x86_64__)

#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "unwind.h"

/* ------------------------------------------------------------ loading */

static const char *const uw_libs[] = {
	"libunwind-x86_64.so.8",
	"libunwind.so.8",
	"libunwind-x86_64.so",
	"libunwind-generic.so",
	"libunwind.so",
};

struct gpi_uw gpi_uw;			/* (c) after gpi_uw_init */

static pthread_once_t uw_once = PTHREAD_ONCE_INIT;



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

static unw_accessors_t uw_accessors = {
	.find_proc_info = uw_find_proc_info,
	.put_unwind_info = uw_put_unwind_info,
	.get_dyn_info_list_addr = uw_get_dyn_info_list_addr,
	.access_mem = uw_access_mem,
	.access_reg = uw_access_reg,
	.access_fpreg = uw_access_fpreg,
	.resume = uw_resume,
	.get_proc_name = gpi_uw_get_proc_name,
};

#define UW_SYM(h, name, field) do {					\
	*(void **)&gpi_uw.field = dlsym((h), (name));			\
	if (gpi_uw.field == NULL) {						\
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
		if ((gpi_uw.local_as = *local) == NULL) {
			missing = "a local address space";
			goto next;
		}
		/*
		 * get_accessors initializes the library (tdep_init) first.
		 * From here on the library stays loaded whatever happens:
		 * it may have left thread-exit hooks behind.
		 */
		gpi_uw.handle = h;
		if ((acc = gpi_uw.get_accessors(gpi_uw.local_as)) == NULL ||
		    acc->find_proc_info == NULL) {
			snprintf(gpi_uw.why, sizeof(gpi_uw.why), "%s: no local "
			    "accessors", uw_libs[i]);
			return;
		}
		gpi_uw.local_acc = *acc;
		/* Policy UNW_CACHE_NONE (zeroed): no cache to go stale. */
		if ((gpi_uw.as = gpi_uw.create_addr_space(&uw_accessors, 0)) == NULL)
			snprintf(gpi_uw.why, sizeof(gpi_uw.why), "%s: "
			    "unw_create_addr_space failed", uw_libs[i]);
		return;
next:
		if (gpi_uw.why[0] == '\0')	/* the first one says most */
			snprintf(gpi_uw.why, sizeof(gpi_uw.why), "%s lacks %s",
			    uw_libs[i], missing);
		GPI_LIBC(dlclose)(h);
	}
	if (gpi_uw.why[0] == '\0')
		snprintf(gpi_uw.why, sizeof(gpi_uw.why), "cannot dlopen %s or %s",
		    uw_libs[0], uw_libs[1]);
}

/* ------------------------------------------------------------ memory */

/*
 * Raw reads of memory that another thread may be writing (a green
 * stack) or that holds sanitizer redzones: never instrumented, and
 * volatile so that no memcpy() call (intercepted by ASan) is made of it.
 */
__attribute__((__no_sanitize__("address", "thread", "alignment"),
    __noinline__))
void
gpi_uw_copy_raw(void *dst, uintptr_t src, size_t len)
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

	n = process_vm_readv(gpi_host_pid(), &liov, 1, &riov, 1, 0);
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
		GPI_LIBC(dl_iterate_phdr)(uw_phdr_cb, &pa);
		if (!pa.found)
			return -1;
		gpi_uw_copy_raw(val, addr, sizeof(*val));
	}
	s->s_pages[s->s_pagenext] = page;
	s->s_pagenext = (s->s_pagenext + 1) % UW_NPAGES;
	if (s->s_npages < UW_NPAGES)
		s->s_npages++;
	return 0;
known:
	gpi_uw_copy_raw(val, addr, sizeof(*val));
	return 0;
}

/* ------------------------------------------------------------ accessors */

static int
uw_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi,
    int need_unwind_info, void *arg)
{
	(void)as;
	(void)arg;
	/* Tables are in loaded objects: libunwind's local lookup reads them. */
	return gpi_uw.local_acc.find_proc_info(gpi_uw.local_as, ip, pi,
	    need_unwind_info, NULL);
}

static void
uw_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg)
{
	(void)as;
	(void)arg;
	if (gpi_uw.local_acc.put_unwind_info != NULL)
		gpi_uw.local_acc.put_unwind_info(gpi_uw.local_as, pi, NULL);
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
	/*
	 * The rest of the LWP's stack: mapped while the LWP lives, so read
	 * only while the caller pins it.  Unpinned (gp_dump, after p_lock),
	 * the LWP may be gone and its stack unmapped: only the copy counts
	 * (a walk reads above sp, and the copy is all of that).
	 */
	if (addr >= s->s_stklo && addr <= s->s_stkhi - sizeof(*val)) {
		if (!s->s_pinned || (addr & 7) != 0)
			return -UNW_EINVAL;
		gpi_uw_copy_raw(val, addr, sizeof(*val));
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

/* ------------------------------------------------------------ names */

/*
 * libdw's names first (unwsym.c), then libunwind's, for a process without
 * libdw.  Not libunwind's first: it reads /proc/<getpid()>/maps, and under
 * the preload getpid() in green code is the green pid, so there it finds
 * nothing; it also re-reads the maps and re-maps the file on every call.
 */
int
gpi_uw_get_proc_name(unw_addr_space_t as, unw_word_t ip, char *buf, size_t len,
    unw_word_t *offp, void *arg)
{
	struct uw_snap *s = arg;
	uint64_t off = 0;
	int rc;

	(void)as;
	if (len == 0)
		return -UNW_ENOINFO;
	buf[0] = '\0';
	if (gpi_sym_name(ip, s->s_gen, buf, len, &off) != 0) {
		buf[0] = '\0';
		rc = gpi_uw.local_acc.get_proc_name == NULL ? -UNW_ENOINFO :
		    gpi_uw.local_acc.get_proc_name(gpi_uw.local_as, ip, buf,
		    len, &off, NULL);
		if (rc != 0)
			return rc;
		if (buf[0] == '\0')
			return -UNW_ENOINFO;
	}
	if (offp != NULL)
		*offp = off;
	return 0;
}

void
gpi_uw_init(void)
{
	GPI_LIBC(pthread_once)(&uw_once, uw_load);
}

#endif /* __x86_64__ */
