/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * unwsym.c -- names and source lines of code addresses, for the
 * backtraces of unwind.c (x86-64 builds only, as it is).
 *
 * Interface (internal.h): gpi_sym_dlgen, the generation of the set of
 * loaded objects; gpi_sym_name, the function around an address;
 * gpi_sym_fileline, " (file:line)".
 *
 * Both come from libdw (elfutils' libdw.so.1), dlopen()ed when the first
 * backtrace asks and only if present, so that a process that merely loads
 * the runtime (every program under the preload) never maps it.  Its
 * dwfl_module_addrinfo reads .symtab (or a separate debug file), so it
 * names static and hidden functions, which dladdr cannot.  One Dwfl for
 * the whole process, built from /proc/<pid>/maps of the real pid (under
 * the preload getpid() in green code is the green pid), rebuilt when
 * objects were loaded or unloaded (dl_iterate_phdr's adds/subs) and once
 * per generation when an address falls in no module it knows.  libdw
 * caches each module's symbols and DWARF itself, so there is no cache
 * here.  Without libdw, names come from libunwind (unwas.c) and lines
 * end after function+0xoff.
 *
 * NOTE: none of this is async-signal-safe (libdw allocates, opens and
 * maps files): the fault handler (fault.c) prints only the pc, and the
 * names follow in the backtrace its proxy LWP prints off the handler.
 */
#if defined(__x86_64__)

#include <dlfcn.h>
#include <elfutils/libdwfl.h>
#include <link.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

/*
 * libdw's entry points, found with dlsym: the runtime does not link
 * libdw (only its header, from libdw-dev, is needed to build).
 */
static struct {
	__typeof__(dwfl_begin)			*begin;
	__typeof__(dwfl_end)			*end;
	__typeof__(dwfl_linux_proc_report)	*linux_proc_report;
	__typeof__(dwfl_report_begin)		*report_begin;
	__typeof__(dwfl_report_end)		*report_end;
	__typeof__(dwfl_addrmodule)		*addrmodule;
	__typeof__(dwfl_module_addrinfo)	*module_addrinfo;
	__typeof__(dwfl_module_getsrc)		*module_getsrc;
	__typeof__(dwfl_lineinfo)		*lineinfo;
	Dwfl_Callbacks	 cb;		/* set once, by dw_load */
	char		*debuginfo_path;
	gpi_spin_t	 lock;		/* everything below, and every Dwfl
					 * call; a spinlock: a pthread mutex
					 * would turn green under the preload */
	Dwfl		*dwfl;		/* NULL: build on the next lookup */
	unsigned long long adds, subs;	/* dl_iterate_phdr generation of dwfl */
	bool		 missed;	/* dwfl was rebuilt for a miss */
	bool		 ok;		/* loaded, and no Dwfl failure yet */
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
	DW_SYM(h, "dwfl_module_addrinfo", dw.module_addrinfo);
	DW_SYM(h, "dwfl_module_getsrc", dw.module_getsrc);
	DW_SYM(h, "dwfl_lineinfo", dw.lineinfo);
	DW_SYM(h, "dwfl_linux_proc_find_elf", dw.cb.find_elf);
	DW_SYM(h, "dwfl_standard_find_debuginfo", dw.cb.find_debuginfo);
	dw.cb.section_address = NULL;
	dw.cb.debuginfo_path = &dw.debuginfo_path;
	dw.ok = true;
	return;
fail:
	GPI_LIBC(dlclose)(h);
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
	GPI_LIBC(dl_iterate_phdr)(uw_gen_cb, gen);
}

/* Drop the Dwfl, if any.  Caller holds dw.lock. */
static void
dw_drop(void)
{
	if (dw.dwfl != NULL)
		dw.end(dw.dwfl);
	dw.dwfl = NULL;
}

/*
 * Build the Dwfl from the process's maps now, for generation (gen).
 * Caller holds dw.lock.  Returns whether there is one; a failure stops
 * all further tries (dw.ok).
 */
static bool
dw_build(const unsigned long long gen[2])
{
	dw_drop();
	if ((dw.dwfl = dw.begin(&dw.cb)) == NULL)
		goto fail;
	dw.report_begin(dw.dwfl);
	if (dw.linux_proc_report(dw.dwfl, gpi_host_pid()) != 0 ||
	    dw.report_end(dw.dwfl, NULL, NULL) != 0) {
		dw_drop();
		goto fail;
	}
	dw.adds = gen[0];
	dw.subs = gen[1];
	dw.missed = false;
	return true;
fail:
	dw.ok = false;		/* no libdw here: stop trying */
	return false;
}

/*
 * The module that holds (pc), objects being of generation (gen), or NULL.
 * Caller ran dw_load and holds dw.lock.  Objects that came or went since
 * the Dwfl was built rebuild it; so does, once per generation, a pc in
 * no module (mapped by other means than dlopen since).
 */
static Dwfl_Module *
dw_module(uintptr_t pc, const unsigned long long gen[2])
{
	Dwfl_Module *mod;

	if (!dw.ok)
		return NULL;
	if (dw.dwfl == NULL || gen[0] != dw.adds || gen[1] != dw.subs)
		if (!dw_build(gen))
			return NULL;
	if ((mod = dw.addrmodule(dw.dwfl, pc)) == NULL && !dw.missed &&
	    dw_build(gen)) {
		dw.missed = true;
		mod = dw.addrmodule(dw.dwfl, pc);
	}
	return mod;
}

int
gpi_sym_name(uintptr_t pc, const unsigned long long gen[2], char *buf,
    size_t len, uint64_t *offp)
{
	Dwfl_Module *mod;
	const char *name;
	GElf_Off off = 0;
	GElf_Sym sym;
	int rc = -1;

	GPI_LIBC(pthread_once)(&dw_once, dw_load);	/* not under the lock */
	gpi_spin_lock(&dw.lock);
	if ((mod = dw_module(pc, gen)) != NULL &&
	    (name = dw.module_addrinfo(mod, pc, &off, &sym, NULL, NULL,
	    NULL)) != NULL && name[0] != '\0') {
		/* pthread_create, not pthread_create@GLIBC_2.2.5 */
		snprintf(buf, len, "%.*s", (int)strcspn(name, "@"), name);
		*offp = off;
		rc = 0;
	}
	gpi_spin_unlock(&dw.lock);
	return rc;
}

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
	if ((mod = dw_module(pc, gen)) != NULL &&
	    (line = dw.module_getsrc(mod, pc)) != NULL &&
	    (file = dw.lineinfo(line, NULL, &lineno, NULL, NULL, NULL)) !=
	    NULL && lineno > 0) {
		base = strrchr(file, '/');
		snprintf(buf, len, " (%s:%d)", base != NULL ? base + 1 : file,
		    lineno);
	}
	gpi_spin_unlock(&dw.lock);
}

#endif /* __x86_64__ */
